package dev.pipemoe.engine.config;

import dev.pipemoe.engine.sim.HardwareProfile;

/**
 * Named device profiles for the emulated interconnect, per device = per HCCL/NCCL rank (910C: per
 * die). The figures are those of the simulated device's profile of the same name ({@link
 * HardwareProfile}, one data file each, docs/engine.md "Profiles"), the best values of
 * docs/reference.md §8.1; the bracketed keys are its sources (§8.4), {@code [est]} marks our
 * estimates. An emulation keeps a
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
  ASCEND_910C("ascend-910c",
      "Ascend 910C per die (A3): 376 TFLOPS BF16 [derived, CM v2]; 120 GB/s effective collective"
          + " bandwidth, range 55-165 [SGLNPU, CM]; ~30 us per collective [est]; EP and TP share"
          + " the die's UB ports [CM]; congestion 1.25 [est]"),
  ASCEND_910B("ascend-910b",
      "Ascend 910B (A2): 320 TFLOPS FP16/BF16, range 280-376 [AC]; 125 GB/s intra-node collective"
          + " bus bandwidth at 8 NPUs [LIM, meas]; ~30 us per collective [est]; HCCS full mesh"
          + " inside a node, RoCE across: EP and TP use different links"),
  H100("h100",
      "NVIDIA H100 SXM: 989.4 TFLOPS BF16 dense [GK-H100]; ~370 GB/s NCCL bus bandwidth on"
          + " NVLink4 [N212]; ~10 us intra-node [est]; TP on NVLink, EP across nodes on the NICs"),
  A100("a100",
      "NVIDIA A100 SXM 80GB: 312 TFLOPS BF16 dense [GK-A100]; ~200 GB/s NCCL all-reduce bus"
          + " bandwidth on NVLink3 [N149]; ~10-15 us intra-node [est]; TP on NVLink, EP on the NICs"),
  /** No link model: collectives cost only the time the real copies take. */
  UNMODELLED("unmodelled",
      "no link model: collectives cost only their real copy time");

  private final String jsonName;
  private final String source;
  /** The figures: the simulated device's profile of the same name, one data file for both. */
  private final HardwareProfile hardware;

  FabricProfile(String jsonName, String source) {
    this.jsonName = jsonName;
    this.source = source;
    this.hardware = jsonName.equals("unmodelled") ? null : HardwareProfile.load(jsonName);
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
    return hardware == null ? 0 : exact(hardware.peakFlops() / 1e12);
  }

  /** Effective bus bandwidth of large collectives within the scale-up domain, GB/s (10^9 B/s). */
  public double collectiveGBps() {
    return hardware == null ? 0 : exact(hardware.intra().bandwidth() / 1e9);
  }

  /** Start-up latency of one small collective, microseconds. */
  public double latencyMicros() {
    return hardware == null ? 0 : exact(hardware.intra().latency() * 1e6);
  }

  public boolean sharedLinks() {
    return hardware != null && hardware.unifiedLinks();
  }

  /** The default congestion factor (&ge; 1) of concurrent transfers on one link. */
  public double congestion() {
    return hardware == null ? 1.0 : hardware.congestion();
  }

  /** Unit conversions of decimal figures, without binary residue (30e-6 s is 30 us, not 29.999...). */
  private static double exact(double v) {
    return Math.round(v * 1e9) / 1e9;
  }

  /** One line: the figures and where they come from. */
  public String source() {
    return source;
  }

  public double peakFlopsPerSecond() {
    return hardware == null ? 0 : hardware.peakFlops();
  }

  public double bandwidthBytesPerSecond() {
    return hardware == null ? 0 : hardware.intra().bandwidth();
  }

  public double latencySeconds() {
    return hardware == null ? 0 : hardware.intra().latency();
  }
}
