package dev.pipemoe.engine.moe;

import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Stream;
import dev.pipemoe.engine.device.Tensor;

/**
 * GEMMs on chunk tensors [A, c, K] (A = the chunk's source blocks: TP*EP gathered, or EP): one
 * plain GEMM over A*c rows when the operands are contiguous, a strided batch over A when they are
 * slices of a larger buffer (the zero-copy path of the improved schedules).
 */
public final class Gemms {
  private Gemms() {}

  /** {@code out [A,c,N] = beta * out + x [A,c,K] * op(w)}, w 2-D: [N,K] when transW, else [K,N]. */
  public static void linear(Device d, Stream s, Tensor x, Tensor w, boolean transW, float beta,
      Tensor out) {
    if (sameRows(x, out)) {
      try (Tensor x2 = Views.rows(d, x); Tensor out2 = Views.rows(d, out)) {
        d.gemm(s, false, transW, 1f, x2, w, beta, out2);
      }
      return;
    }
    long batch = x.size(0);
    long[] ws = w.shape();
    try (Tensor wb = d.view(w, 0, new long[] {batch, ws[0], ws[1]},
        new long[] {0, w.strides()[0], 1})) {
      d.gemm(s, false, transW, 1f, x, wb, beta, out);
    }
  }

  /** {@code grad [N,K] = beta * grad + sum over rows of dOut [A,c,N]^T x [A,c,K]}. */
  public static void weightGrad(Device d, Stream s, Tensor dOut, Tensor x, float beta,
      Tensor grad) {
    if (sameRows(dOut, x)) {
      try (Tensor g2 = Views.rows(d, dOut); Tensor x2 = Views.rows(d, x)) {
        d.gemm(s, true, false, 1f, g2, x2, beta, grad);
      }
      return;
    }
    for (long b = 0; b < dOut.size(0); b++) {
      try (Tensor gb = Views.select(d, dOut, 0, b); Tensor xb = Views.select(d, x, 0, b)) {
        d.gemm(s, true, false, 1f, gb, xb, b == 0 ? beta : 1f, grad);
      }
    }
  }

  /** Both enumerate their rows in the same storage order, so one GEMM over the rows is exact. */
  private static boolean sameRows(Tensor a, Tensor b) {
    return (Views.contiguous(a) && Views.contiguous(b))
        || (Views.slotMajor(a) && Views.slotMajor(b));
  }
}
