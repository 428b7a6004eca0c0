package dev.pipemoe.engine.model;

/**
 * The whole-model part of a GPT with MoE layers, beside the MoE layer's own {@link
 * dev.pipemoe.engine.moe.LayerShape}: each of the plan's layers is attention followed by an MoE
 * block, between token/position embeddings and the LM head.
 *
 * @param vocabSize the padded vocabulary (divisible by TP; Megatron pads to a multiple of
 *     {@code make-vocab-size-divisible-by x TP})
 * @param heads attention heads of the whole model (divisible by TP)
 * @param seqLength tokens per sample
 * @param microBatchSize samples per micro-batch
 * @param microBatches micro-batches per step and data rank (gradient accumulation), {@code
 *     global-batch-size / (micro-batch-size x DP)}
 * @param contextParallel CP: the sequence is split over this many ranks (K/V ring in attention)
 * @param recompute full/uniform recompute: a layer's forward is rerun in its backward
 * @param distributedOptimizer gradients reduce-scattered over DP, Adam on a shard, parameters
 *     all-gathered (else one all-reduce per gradient)
 */
public record GptShape(int vocabSize, int heads, int seqLength, int microBatchSize,
    int microBatches, int contextParallel, boolean recompute, boolean distributedOptimizer) {

  public GptShape {
    if (vocabSize < 1 || heads < 1 || seqLength < 1 || microBatchSize < 1 || microBatches < 1
        || contextParallel < 1) {
      throw new IllegalArgumentException("sizes must be positive: vocab=" + vocabSize + " heads="
          + heads + " seq=" + seqLength + " mbs=" + microBatchSize + " microBatches="
          + microBatches + " cp=" + contextParallel);
    }
  }
}
