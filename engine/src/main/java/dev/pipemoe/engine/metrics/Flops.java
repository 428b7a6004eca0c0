package dev.pipemoe.engine.metrics;

import dev.pipemoe.engine.moe.LayerShape;

/**
 * FLOPs of one training step (forward + backward) per rank, for {@code layers} MoE layers of
 * {@code shape}. Both counts are documented in docs/engine.md, "Metrics per step"; the notation is
 * that of {@link dev.pipemoe.engine.moe}.
 *
 * <p><b>Model FLOPs</b> — the MoE-MLP term of Megatron's 2024 formula, which MindSpeed reports
 * (docs/reference.md §6): {@code 6 k g M F} per token per layer (forward, dgrad, wgrad; g GEMMs
 * of M x F; 2 FLOPs per multiply-add). A rank's share of the tokens is {@code S} under SP and
 * {@code S / TP} without it (TP ranks then see the same tokens and split the work).
 *
 * <p><b>Hardware FLOPs</b> — what the rank really computes: expert GEMMs over all E*C capacity slots
 * including padding ({@code 3 x 2 L A C M (F/TP) g}, A = TP*EP gathered rows under SP, else EP),
 * the fp32 router ({@code 3 x 2 S M E}), the weighted combine and its two backward ops
 * ({@code 3 x 2 S k M}) and the dispatch backward's sums ({@code S k M}).
 */
public record Flops(double model, double hardware) {

  public static Flops perRankStep(LayerShape shape, int layers) {
    double m = shape.hidden();
    double f = shape.ffnHidden();
    double g = shape.gemms();
    double k = shape.topK();
    double s = shape.tokens();
    double share = shape.sequenceParallel() ? s : s / shape.tensor();
    double model = 6 * k * g * m * f * share;

    double a = shape.gatheredBlocks();
    double experts = 3 * 2 * shape.localExperts() * a * shape.capacity() * m
        * shape.ffnShard() * g;
    double router = 3 * 2 * s * m * shape.experts();
    double combine = 3 * 2 * s * k * m;
    double dispatch = s * k * m;
    return new Flops(model * layers, (experts + router + combine + dispatch) * layers);
  }

  /** TFLOP/s of {@code flops} done in {@code nanos}. */
  public static double tflops(double flops, long nanos) {
    return nanos <= 0 ? 0 : flops / (nanos * 1e-9) / 1e12;
  }
}
