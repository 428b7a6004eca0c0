package dev.pipemoe.engine.metrics;

import dev.pipemoe.engine.model.GptShape;
import dev.pipemoe.engine.moe.LayerShape;
import dev.pipemoe.engine.train.TrainingPlan;

/**
 * FLOPs of one training step (forward + backward) per rank. Both counts are documented in
 * docs/engine.md, "Metrics per step"; the notation is that of {@link dev.pipemoe.engine.moe}.
 *
 * <p>{@link #perRankStep} counts a stack of MoE layers alone, {@link #wholeModelPerRankStep} a
 * whole GPT (embeddings, attention, MoE blocks, LM head) over all micro-batches of a step.
 *
 * <p><b>Model FLOPs</b> — Megatron's 2024 formula, which MindSpeed reports (docs/reference.md §6):
 * for a MoE stack its MoE-MLP term alone, {@code 6 k g M F} per token per layer (forward, dgrad,
 * wgrad; g GEMMs of M x F; 2 FLOPs per multiply-add); for a whole model all of it, shared equally
 * by the world's ranks.
 *
 * <p><b>Hardware FLOPs</b> — what the rank really computes: expert GEMMs over all E*C capacity slots
 * including padding ({@code 3 x 2 L A C M (F/TP) g}, A = TP*EP gathered rows under SP, else EP),
 * the fp32 router ({@code 3 x 2 S M E}), the weighted combine and its two backward ops
 * ({@code 3 x 2 S k M}) and the dispatch backward's sums ({@code S k M}); for a whole model also
 * the attention GEMMs as computed (full S x S scores), the LM head, and recompute's extra forward.
 */
public record Flops(double model, double hardware) {

  /** A rank's step of {@code plan}: its whole model when it has one, else its MoE stack. */
  public static Flops perRankStep(TrainingPlan plan) {
    return plan.gpt() == null ? perRankStep(plan.shape(), plan.layers())
        : wholeModelPerRankStep(plan.shape(), plan.gpt(), plan.layers());
  }

  public static Flops perRankStep(LayerShape shape, int layers) {
    double s = shape.tokens();
    double share = shape.sequenceParallel() ? s : s / shape.tensor();
    double model = 6.0 * shape.topK() * shape.gemms() * shape.hidden() * shape.ffnHidden() * share;
    return new Flops(model * layers, moeHardware(shape) * layers);
  }

  /**
   * Megatron's model FLOPs of one iteration of the whole job (all ranks, all micro-batches):
   * {@code 12 B s L h^2 [(1 + g_q/n_h + s/h) (q_proj/h) + (F/h) k gamma + V / (2 L h)]} with
   * L = {@code layers}, no grouped-query attention (g_q = n_h, q_proj = h), gamma = 3/2 with
   * SwiGLU (else 1), B the global batch in samples and V the padded vocabulary.
   */
  public static double wholeModelPerIteration(LayerShape shape, GptShape gpt, int layers) {
    double h = shape.hidden();
    double s = gpt.seqLength();
    double gamma = shape.swiglu() ? 1.5 : 1.0;
    double attention = 1 + 1 + s / h;
    double mlp = (double) shape.ffnHidden() / h * shape.topK() * gamma;
    double logits = gpt.vocabSize() / (2.0 * layers * h);
    return 12 * globalBatch(shape, gpt) * s * layers * h * h * (attention + mlp + logits);
  }

  /**
   * One rank's share of a whole-model step: model FLOPs = {@link #wholeModelPerIteration} / world
   * size (Megatron's TFLOPs per device); hardware FLOPs, per micro-batch, summed over the step's
   * micro-batches: per layer the attention GEMMs as computed and the MoE block as {@link
   * #perRankStep}, recompute's second forward of both, and the LM head (docs/engine.md).
   */
  public static Flops wholeModelPerRankStep(LayerShape shape, GptShape gpt, int layers) {
    double model = wholeModelPerIteration(shape, gpt, layers) / shape.worldSize();
    double attention = attentionForward(shape, gpt);
    double moe = moeHardware(shape);
    double perLayer = 3 * attention + moe;
    if (gpt.recompute()) {
      perLayer += attention + moeForward(shape);
    }
    // LM head: [T, M] x [M, V/TP], forward, dgrad, wgrad
    double head = 3 * 2 * attentionRows(gpt) * shape.hidden() * gpt.vocabSize() / shape.tensor();
    return new Flops(model, gpt.microBatches() * (layers * perLayer + head));
  }

  /** TFLOP/s of {@code flops} done in {@code nanos}. */
  public static double tflops(double flops, long nanos) {
    return nanos <= 0 ? 0 : flops / (nanos * 1e-9) / 1e12;
  }

  /** B: samples of one iteration over the whole job, micro-batch x micro-batches x DP. */
  static double globalBatch(LayerShape shape, GptShape gpt) {
    int dataParallel = shape.data() / gpt.contextParallel();
    return (double) gpt.microBatchSize() * gpt.microBatches() * dataParallel;
  }

  /** T: the rows attention and the LM head compute on one rank, micro-batch x seq / CP. */
  private static double attentionRows(GptShape gpt) {
    return (double) gpt.microBatchSize() * gpt.seqLength() / gpt.contextParallel();
  }

  /**
   * One layer's attention forward on one rank and micro-batch: the QKV GEMM (2 T M 3M/TP), the
   * scores and the context over every key of the sequence (2 x 2 T s M/TP: no causal halving,
   * every CP block computed), the output projection (2 T (M/TP) M). Its backward is twice that.
   */
  private static double attentionForward(LayerShape shape, GptShape gpt) {
    double t = attentionRows(gpt);
    double m = shape.hidden();
    double tp = shape.tensor();
    double qkv = 2 * t * m * 3 * m / tp;
    double scoresAndContext = 2 * 2 * t * gpt.seqLength() * m / tp;
    double projection = 2 * t * (m / tp) * m;
    return qkv + scoresAndContext + projection;
  }

  /** One MoE layer's forward and backward on one rank (the terms of the class comment). */
  private static double moeHardware(LayerShape shape) {
    return 3 * moeForward(shape) + dispatchBackward(shape);
  }

  /** The forward of {@link #moeHardware}: experts over every slot, router, combine. */
  private static double moeForward(LayerShape shape) {
    double m = shape.hidden();
    double s = shape.tokens();
    double experts = 2.0 * shape.localExperts() * shape.gatheredBlocks() * shape.capacity() * m
        * shape.ffnShard() * shape.gemms();
    double router = 2 * s * m * shape.experts();
    double combine = 2 * s * shape.topK() * m;
    return experts + router + combine;
  }

  /** The dispatch backward's sums over the k choices: S k M, backward only. */
  private static double dispatchBackward(LayerShape shape) {
    return (double) shape.tokens() * shape.topK() * shape.hidden();
  }
}
