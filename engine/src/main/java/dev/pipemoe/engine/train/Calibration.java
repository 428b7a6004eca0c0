package dev.pipemoe.engine.train;

import dev.pipemoe.engine.config.EngineConfig;
import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.LinkModel;
import dev.pipemoe.engine.metrics.CommVolume;
import dev.pipemoe.engine.metrics.Flops;
import dev.pipemoe.engine.moe.LayerShape;
import java.util.List;

/**
 * The emulated fabric for a job on this CPU (docs/engine.md, "Calibration").
 *
 * <p>A CPU cannot run a production-size MoE layer, and a CPU-size layer on the real device would
 * be all latency. So we keep the <em>proportions</em> of a production layer on the device: the
 * reference layer has the job's own layout (TP, EP, SP, experts, top-k, GELU/SwiGLU) at production
 * size ({@value #REFERENCE_HIDDEN} hidden, {@value #REFERENCE_FFN} ffn, {@value #REFERENCE_TOKENS}
 * tokens per rank, bf16). On the device it computes for T_dev = hardware FLOPs / (eta x peak) and
 * transfers for bytes / B_dev. On the CPU the job computes for T_cpu = its hardware FLOPs / G (G:
 * the measured rate of its expert GEMM). Then:
 *
 * <pre>
 *   R        = transfers / compute of the reference on the device   (or fabric.commRatio if given)
 *   B_emu    = job bytes / (R x T_cpu)       so the serial schedule transfers for R x its compute
 *   alpha_emu = alpha_dev x T_cpu / T_dev    every collective's latency, dilated like compute
 * </pre>
 *
 * Collective counts depend only on the layout, so the reference and the job have the same number
 * and the latency keeps its share of the step too (docs/reference.md §8.3, "Calibrating a CPU
 * emulation", applied to the reference layer).
 */
public final class Calibration {
  /**
   * eta: 910C grouped GEMMs reach 77-83% of peak and compute-bound MLA 65% (docs/reference.md §8.2); 0.75
   * is our estimate for bf16 expert GEMMs.
   */
  public static final double DEVICE_GEMM_EFFICIENCY = 0.75;
  /** A production MoE layer (Mixtral-8x7B's expert size). */
  public static final int REFERENCE_HIDDEN = 4096;
  public static final int REFERENCE_FFN = 14336;
  public static final int REFERENCE_TOKENS = 4096;

  private Calibration() {}

  /**
   * @param commRatio R, transfer time over compute time of the serial schedule
   * @param dilation T_cpu / T_dev: how much longer everything takes here than on the device
   */
  public record Result(LinkModel linkModel, double commRatio, double dilation) {}

  /** {@code expertGemmFlopsPerSecond}: the job's expert GEMM rate per rank, measured here. */
  public static Result calibrate(EngineConfig.Fabric fabric, LayerShape job,
      double expertGemmFlopsPerSecond) {
    CommVolume jobVolume = CommVolume.serialStep(job, 1);
    if (!fabric.profile().modelled() || jobVolume.collectives() == 0) {
      return new Result(LinkModel.unmodelled(), 0, 1); // nothing to model, or nothing crosses
    }
    LayerShape ref = reference(job);
    double deviceCompute = Flops.perRankStep(ref, 1).hardware()
        / (DEVICE_GEMM_EFFICIENCY * fabric.peakFlopsPerSecond());
    double deviceTransfer = CommVolume.serialStep(ref, 1).bytes()
        / fabric.bandwidthBytesPerSecond();
    double cpuCompute = Flops.perRankStep(job, 1).hardware() / expertGemmFlopsPerSecond;
    double ratio = fabric.commRatio() > 0 ? fabric.commRatio() : deviceTransfer / deviceCompute;
    double dilation = cpuCompute / deviceCompute;
    double bandwidth = jobVolume.bytes() / (ratio * cpuCompute);
    double latency = fabric.latencySeconds() * dilation;
    List<LinkModel.Link> links = fabric.sharedLinks()
        ? List.of(new LinkModel.Link(EngineConfig.Fabric.EP_LINK_SET, bandwidth, latency))
        : List.of(new LinkModel.Link(EngineConfig.Fabric.EP_LINK_SET, bandwidth, latency),
            new LinkModel.Link(fabric.tpLinkSet(), bandwidth, latency));
    return new Result(new LinkModel(fabric.congestion(), links), ratio, dilation);
  }

  /** The job's layout at production size; capacity scales with the tokens. */
  static LayerShape reference(LayerShape job) {
    int ffn = REFERENCE_FFN / job.tensor() * job.tensor();
    int capacity = (int) Math.min(REFERENCE_TOKENS,
        Math.ceil((double) job.capacity() * REFERENCE_TOKENS / job.tokens()));
    return new LayerShape(REFERENCE_TOKENS, REFERENCE_HIDDEN, ffn, job.experts(), job.topK(),
        capacity, job.tensor(), job.data(), job.expert(), job.sequenceParallel(), job.swiglu(),
        DType.BF16, job.auxLossCoeff());
  }
}
