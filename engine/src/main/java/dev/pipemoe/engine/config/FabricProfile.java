package dev.pipemoe.engine.config;

/**
 * Named device profiles for the emulated interconnect, per device = per HCCL/NCCL rank (910C: per
 * die). Figures are the best values of the profiles table in docs/reference.md §8.1; the
 * bracketed keys are its sources (§8.4), {@code [est]} marks our estimates. An emulation keeps a
 * profile's compute-to-communication balance on a CPU: see the engine's {@code Calibration}.
 *
 * <p>{@code sharedLinks}: whether the EP all-to-all and the TP all-gather/reduce-scatter of one
 * rank compete for the same links in the usual layout (TP inside a node, EP across nodes). Only
 * 910C shares: its dies reach every peer, in or across nodes, through the same UB switch ports.
 * The default congestion 1.25 of a shared-link profile is an estimate (no public measurement of
 * concurrent HCCL collectives exists); 1.0 means fair sharing only.
 */
public enum FabricProfile implements Named {
  /** The default: the device the feature's multi-stream mode was made for. */
  ASCEND_910C("ascend-910c", 376.0, 120.0, 30.0, true, 1.25,
      "Ascend 910C per die (A3): 376 TFLOPS BF16 [derived, CM v2]; 120 GB/s effective collective"
          + " bandwidth, range 55-165 [SGLNPU, CM]; ~30 us per collective [est]; EP and TP share"
          + " the die's UB ports [CM]; congestion 1.25 [est]"),
  ASCEND_910B("ascend-910b", 320.0, 125.0, 30.0, false, 1.0,
      "Ascend 910B (A2): 320 TFLOPS FP16/BF16, range 280-376 [AC]; 125 GB/s intra-node collective"
          + " bus bandwidth at 8 NPUs [LIM, meas]; ~30 us per collective [est]; HCCS full mesh"
          + " inside a node, RoCE across: EP and TP use different links"),
  H100("h100", 989.4, 370.0, 10.0, false, 1.0,
      "NVIDIA H100 SXM: 989.4 TFLOPS BF16 dense [GK-H100]; ~370 GB/s NCCL bus bandwidth on"
          + " NVLink4 [N212]; ~10 us intra-node [est]; TP on NVLink, EP across nodes on the NICs"),
  A100("a100", 312.0, 200.0, 10.0, false, 1.0,
      "NVIDIA A100 SXM 80GB: 312 TFLOPS BF16 dense [GK-A100]; ~200 GB/s NCCL all-reduce bus"
          + " bandwidth on NVLink3 [N149]; ~10-15 us intra-node [est]; TP on NVLink, EP on the NICs"),
  /** No link model: collectives cost only the time the real copies take. */
  UNMODELLED("unmodelled", 0.0, 0.0, 0.0, false, 1.0,
      "no link model: collectives cost only their real copy time");

  private final String jsonName;
  private final double peakTflops;
  private final double collectiveGBps;
  private final double latencyMicros;
  private final boolean sharedLinks;
  private final double congestion;
  private final String source;

  FabricProfile(String jsonName, double peakTflops, double collectiveGBps, double latencyMicros,
      boolean sharedLinks, double congestion, String source) {
    this.jsonName = jsonName;
    this.peakTflops = peakTflops;
    this.collectiveGBps = collectiveGBps;
    this.latencyMicros = latencyMicros;
    this.sharedLinks = sharedLinks;
    this.congestion = congestion;
    this.source = source;
  }

  @Override
  public String jsonName() {
    return jsonName;
  }

  /** False only for {@link #UNMODELLED}, which has no device figures to calibrate against. */
  public boolean modelled() {
    return this != UNMODELLED;
  }

  /** Dense BF16 peak of one device, in TFLOPS (10^12 FLOP/s). */
  public double peakTflops() {
    return peakTflops;
  }

  /** Effective bus bandwidth of large collectives within the scale-up domain, GB/s (10^9 B/s). */
  public double collectiveGBps() {
    return collectiveGBps;
  }

  /** Start-up latency of one small collective, microseconds. */
  public double latencyMicros() {
    return latencyMicros;
  }

  public boolean sharedLinks() {
    return sharedLinks;
  }

  /** The default congestion factor (&ge; 1) of concurrent transfers on one link. */
  public double congestion() {
    return congestion;
  }

  /** One line: the figures and where they come from. */
  public String source() {
    return source;
  }

  public double peakFlopsPerSecond() {
    return peakTflops * 1e12;
  }

  public double bandwidthBytesPerSecond() {
    return collectiveGBps * 1e9;
  }

  public double latencySeconds() {
    return latencyMicros / 1e6;
  }
}
