package dev.pipemoe.engine.schedule;

import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Stream;
import dev.pipemoe.engine.device.Tensor;
import dev.pipemoe.engine.moe.Chunk;
import dev.pipemoe.engine.moe.ExpertMlp;
import dev.pipemoe.engine.moe.ExpertParams;
import dev.pipemoe.engine.moe.GradAccumulation;
import dev.pipemoe.engine.moe.LayerParams;
import dev.pipemoe.engine.moe.RankContext;
import java.util.List;

/**
 * The compute of one chunk with its own contiguous buffers (serial and mindspeed schedules): wire
 * to F32 around {@link ExpertMlp}, labelled "E" + q in forward and "B" + q in backward.
 */
final class ExpertWork {
  private final RankContext ctx;
  private final LayerParams params;
  private final GradAccumulation grads;

  ExpertWork(RankContext ctx, LayerParams params, GradAccumulation grads) {
    this.ctx = ctx;
    this.params = params;
    this.grads = grads;
  }

  /** What a serial or mindspeed forward saves: every chunk's activations, in issue order. */
  record SavedChunks(List<ExpertMlp.Activations> chunks) implements Schedule.Saved {
    @Override
    public void close() {
      chunks.forEach(ExpertMlp.Activations::close);
    }
  }

  /**
   * @param act what backward needs
   * @param partial the expert's output in the wire dtype before TP reduction, [A, c, M]
   */
  record Forward(ExpertMlp.Activations act, Tensor partial) {}

  /**
   * Expert q.expert() on its input: {@code x1} feeds W1 and {@code x3} W3 (the same tensor unless
   * the schedule gathered twice); both [A, c, M] wire. {@code local} is the chunk's un-gathered
   * input [EP, c, M], which backward gathers again under SP.
   */
  Forward forward(Chunk q, Tensor x1, Tensor x3, Tensor local) {
    Stream s = ctx.compute();
    boolean sp = ctx.shape().sequenceParallel();
    ctx.label("E" + q.label());
    try (Tensor in1 = ctx.contiguousF32(s, x1);
        Tensor in3 = x3 == x1 ? null : ctx.contiguousF32(s, x3);
        Tensor partial = ctx.alloc(in1.shape())) {
      ExpertMlp.Activations act = ExpertMlp.Activations.allocate(ctx, in1,
          in3 == null ? in1 : in3, sp ? local : null);
      ExpertMlp.forward(ctx, expert(q), act, partial);
      return new Forward(act, ctx.toWire(s, partial));
    }
  }

  /** Backward of chunk q: {@code dOut} [A, c, M] wire to {@code dInput} [EP, c, M] wire. */
  void backward(Chunk q, ExpertMlp.Activations act, Tensor dOut, Tensor dInput) {
    Device d = ctx.device();
    Stream s = ctx.compute();
    ctx.label("B" + q.label());
    try (Tensor dPartial = ctx.contiguousF32(s, dOut)) {
      if (ctx.shape().sequenceParallel()) {
        ExpertMlp.backward(ctx, expert(q), act, dPartial, dInput, grads, q.label());
        return;
      }
      try (Tensor dIn = ctx.alloc(dInput.shape())) {
        ExpertMlp.backward(ctx, expert(q), act, dPartial, dIn, grads, q.label());
        ctx.label("B" + q.label());
        d.copy(s, dIn, dInput);
      }
    }
  }

  private ExpertParams expert(Chunk q) {
    return params.experts().get(q.expert());
  }
}
