package dev.pipemoe.engine.train;

import dev.pipemoe.engine.config.EngineConfig;
import dev.pipemoe.engine.device.LinkModel;
import dev.pipemoe.engine.metrics.CommVolume;
import dev.pipemoe.engine.metrics.Flops;
import dev.pipemoe.engine.moe.LayerShape;
import java.util.List;

/**
 * The emulated fabric for a job on this CPU, in one of two modes (docs/engine.md, "Calibration"):
 *
 * <ul>
 *   <li><b>Device</b> (default): the device runs this very shape. Every time dilates by D = (eta x
 *       peak) / G, G the measured per-rank GEMM rate and eta the share of peak the device's expert
 *       GEMMs reach; bandwidth becomes B/D and latency alpha x D (hardware.md, "Calibrating a CPU
 *       emulation", achieved basis on both sides). Small shapes are then communication- and
 *       latency-bound, as they would be on the device.
 *   <li><b>Comm ratio R</b>: a larger job's balance on a CPU-sized shape. The bandwidth makes the
 *       serial schedule's transfers last R x its computation (hardware FLOPs / G); the latency keeps
 *       the device's latency-bandwidth product relative to a production layer's message: each
 *       collective's alpha is {@code alpha_dev * B_dev / REFERENCE_MESSAGE_BYTES} of the mean
 *       serial transfer.
 * </ul>
 */
public final class Calibration {
  /**
   * eta: 910C grouped GEMMs reach 77-83% of peak and compute-bound MLA 65% (hardware.md §5); 0.75
   * is our estimate for bf16 expert GEMMs.
   */
  public static final double DEVICE_GEMM_EFFICIENCY = 0.75;

  /**
   * Bytes per rank of one dispatch all-to-all of a production MoE layer: E = 8, top-2, f = 1,
   * 4,096 tokens per rank, hidden 4,096, bf16, EP = 8 gives (7/8) x 8 x 1,024 x 4,096 x 2.
   */
  public static final double REFERENCE_MESSAGE_BYTES = 7.0 / 8 * 8 * 1024 * 4096 * 2;

  private Calibration() {}

  /** The link model for {@code fabric} given the measured per-rank GEMM rate. */
  public static LinkModel linkModel(EngineConfig.Fabric fabric, LayerShape shape, int layers,
      double gemmFlopsPerSecond) {
    if (!fabric.profile().modelled()) {
      return LinkModel.unmodelled();
    }
    if (fabric.commRatio() <= 0) {
      return fabric.linkModel(gemmFlopsPerSecond / DEVICE_GEMM_EFFICIENCY);
    }
    CommVolume volume = CommVolume.serialStep(shape, layers);
    double computeSeconds = Flops.perRankStep(shape, layers).hardware() / gemmFlopsPerSecond;
    if (volume.collectives() == 0) {
      return LinkModel.unmodelled(); // nothing crosses a link: EP = TP = 1
    }
    double bandwidth = volume.bytes() / (fabric.commRatio() * computeSeconds);
    double latencyShare = fabric.latencySeconds() * fabric.bandwidthBytesPerSecond()
        / REFERENCE_MESSAGE_BYTES;
    double latency = latencyShare * volume.bytes() / volume.collectives() / bandwidth;
    List<LinkModel.Link> links = fabric.sharedLinks()
        ? List.of(new LinkModel.Link(EngineConfig.Fabric.EP_LINK_SET, bandwidth, latency))
        : List.of(new LinkModel.Link(EngineConfig.Fabric.EP_LINK_SET, bandwidth, latency),
            new LinkModel.Link(fabric.tpLinkSet(), bandwidth, latency));
    return new LinkModel(fabric.congestion(), links);
  }
}
