package dev.pipemoe.engine.config;

/**
 * The two shape formulas every MoE rule depends on (docs/reference.md §2), on longs so
 * the validator can check bounds before narrowing. Notation: b micro-batch, s sequence length, S
 * tokens per rank, E experts, k top-k, f capacity factor, C capacity per expert.
 */
public final class MoeShape {

  private MoeShape() {}

  /**
   * S = b·s/(cp·tp) with sequence parallelism (each TP rank gates its own slice of its CP rank's
   * chunk of the sequence), b·s/cp without (every TP rank holds its chunk's tokens). The caller
   * checks that {@link #sequenceSplit} divides s.
   */
  public static long tokensPerRank(long microBatch, long seqLength, long tensor, long context,
      boolean sequenceParallel) {
    return microBatch * (seqLength / sequenceSplit(tensor, context, sequenceParallel));
  }

  /** Into how many pieces one sample's sequence is cut: cp, times tp under SP. */
  public static long sequenceSplit(long tensor, long context, boolean sequenceParallel) {
    return context * (sequenceParallel ? tensor : 1);
  }

  /**
   * C = ceil(S/E · cf_eff) with cf_eff = f for top-1 and 2f for top-2, raised to minCapacity, capped
   * at S (MindSpeed {@code utils._capacity}, gate.py). The product is taken in float32, as
   * MindSpeed does: it passes the factor as {@code torch.tensor(f * 2)}, a float32 tensor, so
   * S/E = 100 with f = 1.1 gives C = 110 where double arithmetic would give 111. MindSpeed applies the
   * cap only when the minimum did not apply ({@code if ... elif}), so S &lt; minCapacity makes its
   * top-k fail; we cap in both cases.
   */
  public static long capacity(long tokens, long experts, int topK, double capacityFactor, long minCapacity) {
    float perExpert = (float) ((double) tokens / experts);
    float slots = perExpert * (float) (topK * capacityFactor);
    long capacity = (long) Math.ceil(slots);
    return Math.min(tokens, Math.max(minCapacity, capacity));
  }
}
