package dev.pipemoe.engine.moe;

import dev.pipemoe.engine.device.DType;

/**
 * The shape of one MoE layer on one rank (notation in {@link dev.pipemoe.engine.moe}).
 *
 * @param tokens S, tokens per rank
 * @param hidden M
 * @param ffnHidden F, of one whole expert
 * @param experts E
 * @param topK k
 * @param capacity C
 * @param tensor TP
 * @param data DP
 * @param expert EP
 * @param sequenceParallel tokens are sharded over TP (with TP all-gather / reduce-scatter around
 *     the experts) instead of replicated (with TP all-reduce)
 * @param swiglu g = 3 (SwiGLU) instead of g = 2 (GELU MLP)
 * @param wire the dtype activations travel in (F32 or BF16); compute is fp32
 * @param auxLossCoeff weight of the load-balancing loss (0 switches it off)
 */
public record LayerShape(int tokens, int hidden, int ffnHidden, int experts, int topK, int capacity,
    int tensor, int data, int expert, boolean sequenceParallel, boolean swiglu, DType wire,
    double auxLossCoeff) {

  public LayerShape {
    require(tokens > 0 && hidden > 0 && ffnHidden > 0 && experts > 0 && capacity > 0,
        "sizes must be positive: S=%d M=%d F=%d E=%d C=%d", tokens, hidden, ffnHidden, experts,
        capacity);
    require(topK == 1 || topK == 2, "top-k must be 1 or 2, was %d", topK);
    require(tensor > 0 && data > 0 && expert > 0, "parallel sizes must be positive");
    require(data % expert == 0, "EP=%d must divide DP=%d", expert, data);
    require(experts % expert == 0, "EP=%d must divide E=%d", expert, experts);
    require(ffnHidden % tensor == 0, "TP=%d must divide F=%d", tensor, ffnHidden);
    require(capacity <= tokens, "C=%d must not exceed S=%d", capacity, tokens);
    require(wire == DType.F32 || wire == DType.BF16, "wire dtype must be F32 or BF16, was %s", wire);
  }

  public int localExperts() {
    return experts / expert;
  }

  public int worldSize() {
    return tensor * data;
  }

  public int gemms() {
    return swiglu ? 3 : 2;
  }

  /** F/TP, the columns of the expert's first GEMM(s) this rank holds. */
  public int ffnShard() {
    return ffnHidden / tensor;
  }

  /** Whether TP collectives run at all (TP = 1 means experts are whole on each rank). */
  public boolean tensorParallel() {
    return tensor > 1;
  }

  /** A: the [EP, c, M] blocks an expert's input has after the TP all-gather, TP·EP under SP, else EP. */
  public int gatheredBlocks() {
    return (sequenceParallel ? tensor : 1) * expert;
  }

  /** Rows an expert chunk of c capacity slots has after the TP all-gather (or as it is without SP). */
  public int gatheredRows(int slice) {
    return gatheredBlocks() * slice;
  }

  private static void require(boolean ok, String format, Object... args) {
    if (!ok) {
      throw new IllegalArgumentException(String.format(format, args));
    }
  }
}
