package dev.pipemoe.engine.moe;

import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Event;
import dev.pipemoe.engine.device.Stream;
import dev.pipemoe.engine.device.Tensor;

/**
 * One expert's MLP on one chunk, Megatron-style over TP: W1 (and W3) column-parallel, W2
 * row-parallel, all on the compute stream. Chunk tensors are [A, c, *]: A = TP*EP gathered blocks
 * under SP, EP otherwise; they may be slices of larger buffers.
 *
 * <p>The TP collectives <em>around</em> the expert in forward (all-gather before, reduce-scatter
 * after) belong to the schedules, which may prefetch them; the ones <em>inside</em> the column
 * linear's backward are here, issued where Megatron's column linear issues them
 * (docs/reference.md §3 and §4.5):
 *
 * <pre>
 *   SP:     issue AG(local input) -> dgrad GEMM -> wait AG -> issue RS(dgrad) -> wgrad GEMM -> wait RS
 *   no SP:  dgrad GEMM -> issue AR(dgrad) -> wgrad GEMM -> wait AR          (TP = 1: no collective)
 * </pre>
 *
 * SwiGLU does that once per column linear (W1, then W3) and sums the two input gradients.
 */
public final class ExpertMlp {
  private ExpertMlp() {}

  /**
   * A chunk's activations; the forward writes a, b, h, backward reads all.
   *
   * @param x1 F32 input of W1 [A, c, M]
   * @param x3 F32 input of W3 (x1 unless the schedule gathered twice), null without SwiGLU
   * @param local under SP the un-gathered wire input [EP, c, M] that backward gathers again
   * @param a W1 output [A, c, F/TP]; b W3 output or null; h the activation's output
   */
  public record Activations(Tensor x1, Tensor x3, Tensor local, Tensor a, Tensor b, Tensor h)
      implements AutoCloseable {

    /** Fresh contiguous activations for inputs x1 (and x3); handles on x1, x3, local are taken. */
    public static Activations allocate(RankContext ctx, Tensor x1, Tensor x3, Tensor local) {
      Device d = ctx.device();
      int f = ctx.shape().ffnShard();
      boolean swiglu = ctx.shape().swiglu();
      return new Activations(Views.handle(d, x1), swiglu ? Views.handle(d, x3) : null,
          local == null ? null : Views.handle(d, local), Views.allocLike(d, DType.F32, x1, f),
          swiglu ? Views.allocLike(d, DType.F32, x1, f) : null,
          Views.allocLike(d, DType.F32, x1, f));
    }

    @Override
    public void close() {
      for (Tensor t : new Tensor[] {x1, x3, local, a, b, h}) {
        if (t != null) {
          t.close();
        }
      }
    }
  }

  /** {@code partial [A, c, M] = act(x1 W1^T [, x3 W3^T]) W2^T}, F32. */
  public static void forward(RankContext ctx, ExpertParams p, Activations act, Tensor partial) {
    Device d = ctx.device();
    Stream s = ctx.compute();
    Gemms.linear(d, s, act.x1(), p.w1().value(), true, 0f, act.a());
    if (p.w3() != null) {
      Gemms.linear(d, s, act.x3(), p.w3().value(), true, 0f, act.b());
      d.swiglu(s, act.a(), act.b(), act.h());
    } else {
      d.gelu(s, act.a(), act.h());
    }
    Gemms.linear(d, s, act.h(), p.w2().value(), true, 0f, partial);
  }

  /**
   * Backward of one chunk: {@code dPartial [A, c, M]} (F32) to the chunk's input gradient
   * {@code dInput}: [EP, c, M] wire under SP (after the column linears' reduce-scatter), else F32
   * [A, c, M]. Weight gradients accumulate by {@code grads}. Compute is labelled "B" + chunk.
   */
  public static void backward(RankContext ctx, ExpertParams p, Activations act, Tensor dPartial,
      Tensor dInput, GradAccumulation grads, String chunk) {
    Device d = ctx.device();
    Stream s = ctx.compute();
    ctx.label("B" + chunk);
    // row-parallel W2: its wgrad and dgrad need no communication
    grads.accumulate(ctx, s, dPartial, act.h(), p.w2().grad());
    int f = ctx.shape().ffnShard();
    try (Tensor dh = Views.allocLike(d, DType.F32, act.a(), f);
        Tensor da = Views.allocLike(d, DType.F32, act.a(), f)) {
      Gemms.linear(d, s, dPartial, p.w2().value(), false, 0f, dh);
      if (p.w3() == null) {
        d.geluBackward(s, act.a(), dh, da);
        columnBackward(ctx, p.w1(), act.x1(), act.local(), da, dInput, grads, chunk, false);
      } else {
        try (Tensor db = Views.allocLike(d, DType.F32, act.a(), f)) {
          d.swigluBackward(s, act.a(), act.b(), dh, da, db);
          columnBackward(ctx, p.w1(), act.x1(), act.local(), da, dInput, grads, chunk, false);
          columnBackward(ctx, p.w3(), act.x3(), act.local(), db, dInput, grads, chunk, true);
        }
      }
    }
  }

  /** One column linear's backward; {@code accumulate} adds into dInput instead of overwriting it. */
  private static void columnBackward(RankContext ctx, Param w, Tensor x, Tensor local,
      Tensor dOut, Tensor dInput, GradAccumulation grads, String chunk, boolean accumulate) {
    Device d = ctx.device();
    Stream s = ctx.compute();
    LayerShape shape = ctx.shape();
    long m = shape.hidden();
    if (!shape.sequenceParallel() && !shape.tensorParallel()) {
      Gemms.linear(d, s, dOut, w.value(), false, accumulate ? 1f : 0f, dInput);
      grads.accumulate(ctx, s, dOut, x, w.grad());
      return;
    }
    if (!shape.sequenceParallel()) {
      // tokens are replicated over TP: each rank's dgrad is a partial sum over its F/TP columns
      Event reduced = ctx.event();
      try (Tensor dx = Views.allocLike(d, DType.F32, dOut, m)) {
        Gemms.linear(d, s, dOut, w.value(), false, 0f, dx);
        ctx.label("s" + chunk);
        d.allReduce(s, ctx.tp(), dx, dx, reduced);
        ctx.label("B" + chunk);
        grads.accumulate(ctx, s, dOut, x, w.grad());
        d.waitEvent(s, reduced);
        if (accumulate) {
          d.axpy(s, 1f, dx, dInput);
        } else {
          d.copy(s, dx, dInput);
        }
      }
      return;
    }
    // SP: the saved local input is gathered again, because the wgrad needs every TP rank's tokens
    Event gathered = ctx.event();
    Event scattered = ctx.event();
    // gathered rows must line up with dOut's rows for the wgrad, so both share dOut's layout
    try (Tensor gatheredWire = Views.allocLike(d, shape.wire(), dOut, m);
        Tensor dx = Views.allocLike(d, DType.F32, dOut, m)) {
      ctx.label("i" + chunk);
      d.allGather(s, ctx.tp(), local, gatheredWire, gathered);
      ctx.label("B" + chunk);
      Gemms.linear(d, s, dOut, w.value(), false, 0f, dx);
      d.waitEvent(s, gathered);
      try (Tensor dxWire = ctx.toWire(s, dx);
          Tensor dLocal = accumulate ? ctx.allocWire(dInput.shape()) : null;
          Tensor xGathered = ctx.toF32(s, gatheredWire)) {
        ctx.label("s" + chunk);
        d.reduceScatter(s, ctx.tp(), dxWire, accumulate ? dLocal : dInput, scattered);
        ctx.label("B" + chunk);
        grads.accumulate(ctx, s, dOut, xGathered, w.grad());
        d.waitEvent(s, scattered);
        if (accumulate) {
          addWire(ctx, s, dLocal, dInput);
        }
      }
    }
  }

  /** {@code dst += src} for tensors of the wire dtype, in fp32 arithmetic. */
  static void addWire(RankContext ctx, Stream s, Tensor src, Tensor dst) {
    Device d = ctx.device();
    if (dst.dtype() == DType.F32) {
      d.axpy(s, 1f, src, dst);
      return;
    }
    try (Tensor a = ctx.toF32(s, src); Tensor b = ctx.toF32(s, dst)) {
      d.axpy(s, 1f, a, b);
      d.copy(s, b, dst);
    }
  }
}
