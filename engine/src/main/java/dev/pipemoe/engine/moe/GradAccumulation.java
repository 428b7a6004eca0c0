package dev.pipemoe.engine.moe;

import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Stream;
import dev.pipemoe.engine.device.Tensor;

/**
 * How a chunk's weight gradient reaches the fp32 main gradient.
 *
 * <p>{@link #FUSED} accumulates straight into it (Megatron's gradient-accumulation fusion).
 * {@link #PER_CHUNK} is what MindSpeed's pipe-experts does: every chunk's backward produces its
 * own {@code param.grad} in the activation dtype, which Megatron's hook then casts and adds into
 * main_grad — the "extra cast and add" whose cost grows with N (docs/reference.md §4.6).
 */
public enum GradAccumulation {
  FUSED,
  PER_CHUNK;

  /** {@code grad += sum dOut^T x} over the chunk's rows (see {@link Gemms#weightGrad}). */
  public void accumulate(RankContext ctx, Stream s, Tensor dOut, Tensor x, Tensor grad) {
    Device d = ctx.device();
    if (this == FUSED) {
      Gemms.weightGrad(d, s, dOut, x, 1f, grad);
      return;
    }
    try (Tensor chunkGrad = d.alloc(DType.F32, grad.shape())) {
      Gemms.weightGrad(d, s, dOut, x, 0f, chunkGrad);
      if (ctx.shape().wire() == DType.BF16) {
        // param.grad lives in bf16; main_grad += param.grad casts it back
        try (Tensor lowPrecision = d.alloc(DType.BF16, grad.shape())) {
          d.copy(s, chunkGrad, lowPrecision);
          d.copy(s, lowPrecision, chunkGrad);
        }
      }
      d.axpy(s, 1f, chunkGrad, grad);
    }
  }
}
