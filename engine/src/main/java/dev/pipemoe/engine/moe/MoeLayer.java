package dev.pipemoe.engine.moe;

import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Stream;
import dev.pipemoe.engine.device.Tensor;
import dev.pipemoe.engine.schedule.Schedule;

/**
 * One MoE layer on one rank: {@code y = x + combine(experts(dispatch(x)))}, with the residual so
 * that layers stack. Route, dispatch-pre and combine-post run here on the compute stream; dispatch,
 * experts and combine belong to the {@link Schedule}.
 *
 * <pre>
 *   route         logits [S,E] = x Wr^T (fp32) -> softmax -> top-k -> capacity slots (first come)
 *                 -> combine weights [S,k]; aux loss and its gradient
 *   dispatch-pre  dispatched [E*C, M] = x[slotToken]          (gather by index, empty slots zero)
 *   (schedule)    dispatched -> EP all-to-all -> experts (TP) -> EP all-to-all -> combined
 *   combine-post  out [S,M] = sum_j w[s,j] combined[slot[s,j]];  y = x + out
 * </pre>
 */
public final class MoeLayer implements AutoCloseable {
  private final RankContext ctx;
  private final LayerParams params;
  private final Schedule schedule;
  private final Tensor expertRows;
  private final boolean residual;

  public MoeLayer(RankContext ctx, LayerParams params, Schedule schedule) {
    this(ctx, params, schedule, true);
  }

  /**
   * @param residual whether y includes x (the MoE stack's layers stack by it); without it y is the
   *     MoE output alone, for a block that adds its residual around a pre-norm
   */
  public MoeLayer(RankContext ctx, LayerParams params, Schedule schedule, boolean residual) {
    this.ctx = ctx;
    this.residual = residual;
    this.params = params;
    this.schedule = schedule;
    this.expertRows = ctx.device().alloc(DType.I32, ctx.shape().experts());
    ctx.device().write(expertRows, schedule.expertRows(ctx.shape()));
  }

  public LayerParams params() {
    return params;
  }

  /** Frees the layer's routing table and parameters. */
  @Override
  public void close() {
    expertRows.close();
    params.close();
  }

  /** What backward needs of a forward pass. */
  public record Activations(Tensor x, Tensor probs, Tensor values, Tensor indices, Tensor slots,
      Tensor weights, Tensor dProbsAux, Tensor combined, Tensor auxLoss, Tensor dropped,
      Schedule.Saved schedule) implements AutoCloseable {
    @Override
    public void close() {
      for (Tensor t : new Tensor[] {probs, values, indices, slots, weights, dProbsAux, combined,
          auxLoss, dropped}) {
        t.close();
      }
      schedule.close();
    }
  }

  /** Forward of x [S, M] (F32, kept by reference until backward) into y [S, M]. */
  public Activations forward(Tensor x, Tensor y) {
    Device d = ctx.device();
    Stream s = ctx.compute();
    LayerShape shape = ctx.shape();
    int tokens = shape.tokens();
    int e = shape.experts();
    int k = shape.topK();
    int c = shape.capacity();
    int m = shape.hidden();

    ctx.label("route");
    Tensor probs = ctx.alloc(tokens, e);
    try (Tensor logits = ctx.alloc(tokens, e)) {
      d.gemm(s, false, true, 1f, x, params.router().value(), 0f, logits);
      d.softmax(s, logits, probs);
    }
    Tensor values = ctx.alloc(tokens, k);
    Tensor indices = d.alloc(DType.I32, tokens, k);
    d.topk(s, probs, k, values, indices);
    Tensor slots = d.alloc(DType.I32, tokens, k);
    Tensor dropped = d.alloc(DType.I32, 1);
    Tensor weights = ctx.alloc(tokens, k);
    Tensor dProbsAux = ctx.alloc(tokens, e);
    Tensor auxLoss = ctx.alloc(1);
    Tensor combined;
    Schedule.Saved saved;
    try (Tensor slotToken = d.alloc(DType.I32, (long) e * c);
        Tensor slotTokenColumn = Views.reshape(d, slotToken, (long) e * c, 1)) {
      d.moeRoute(s, indices, expertRows, c, slots, slotToken, dropped);
      d.moeGateWeights(s, values, slots, weights);
      d.moeAuxLoss(s, probs, indices, (float) shape.auxLossCoeff(), auxLoss, dProbsAux);

      ctx.label("dispatch-pre");
      try (Tensor gathered = ctx.alloc((long) e * c, m);
          Tensor gathered3 = Views.reshape(d, gathered, e, c, m)) {
        d.gatherRows(s, x, slotTokenColumn, null, 0f, gathered);
        try (Tensor dispatched = ctx.toWire(s, gathered3)) {
          combined = ctx.allocWire(e, c, m);
          saved = schedule.forward(ctx, params, dispatched, combined);
        }
      }
    }
    ctx.label("combine-post");
    try (Tensor combinedF32 = ctx.contiguousF32(s, combined);
        Tensor rows = Views.reshape(d, combinedF32, (long) e * c, m)) {
      if (residual) {
        d.copy(s, x, y);
      } else {
        d.fill(s, y, 0f);
      }
      d.gatherRows(s, rows, slots, weights, 1f, y);
    }
    ctx.label(null);
    return new Activations(x, probs, values, indices, slots, weights, dProbsAux, combined, auxLoss,
        dropped, saved);
  }

  /** Backward: dy [S, M] to dx [S, M]; accumulates the router's and the experts' gradients. */
  public void backward(Activations act, Tensor dy, Tensor dx) {
    Device d = ctx.device();
    Stream s = ctx.compute();
    LayerShape shape = ctx.shape();
    int tokens = shape.tokens();
    int e = shape.experts();
    int k = shape.topK();
    int c = shape.capacity();
    int m = shape.hidden();

    ctx.label("combine-post");
    if (residual) {
      d.copy(s, dy, dx);
    } else {
      d.fill(s, dx, 0f);
    }
    try (Tensor dCombinedF32 = ctx.alloc((long) e * c, m);
        Tensor combinedF32 = ctx.contiguousF32(s, act.combined());
        Tensor combinedRows = Views.reshape(d, combinedF32, (long) e * c, m);
        Tensor dWeights = ctx.alloc(tokens, k);
        Tensor dValues = ctx.alloc(tokens, k);
        Tensor dProbs = ctx.alloc(tokens, e);
        Tensor dLogits = ctx.alloc(tokens, e)) {
      d.scatterAddRows(s, dy, act.slots(), act.weights(), dCombinedF32);
      d.gatherDot(s, dy, combinedRows, act.slots(), dWeights);

      ctx.label("route");
      d.moeGateWeightsBackward(s, act.values(), act.slots(), dWeights, dValues);
      d.copy(s, act.dProbsAux(), dProbs);
      d.topkBackward(s, dValues, act.indices(), dProbs);
      d.softmaxBackward(s, act.probs(), dProbs, dLogits);
      d.gemm(s, true, false, 1f, dLogits, act.x(), 1f, params.router().grad());
      d.gemm(s, false, false, 1f, dLogits, params.router().value(), 1f, dx);

      ctx.label("combine-pre");
      try (Tensor dCombined3 = Views.reshape(d, dCombinedF32, e, c, m);
          Tensor dCombined = ctx.toWire(s, dCombined3);
          Tensor dDispatched = ctx.allocWire(e, c, m)) {
        schedule.backward(ctx, params, act.schedule(), dCombined, dDispatched);
        ctx.label("dispatch-pre");
        try (Tensor dDispatchedF32 = ctx.contiguousF32(s, dDispatched);
            Tensor dRows = Views.reshape(d, dDispatchedF32, (long) e * c, m)) {
          d.gatherRows(s, dRows, act.slots(), null, 1f, dx);
        }
      }
    }
    ctx.label(null);
  }
}
