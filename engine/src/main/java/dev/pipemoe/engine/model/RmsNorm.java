package dev.pipemoe.engine.model;

import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Tensor;
import dev.pipemoe.engine.moe.Param;
import dev.pipemoe.engine.moe.RankContext;
import java.util.Arrays;

/** RMSNorm with a learned gain (initialised to ones), replicated on every rank that runs it. */
final class RmsNorm implements AutoCloseable {
  static final float EPS = 1e-5f;

  private final RankContext ctx;
  private final Param gain;
  private final Tensor gainVector;
  private final Tensor gradVector;

  RmsNorm(RankContext ctx, String name, int hidden) {
    this.ctx = ctx;
    Device d = ctx.device();
    this.gain = new Param(d, name, 1, hidden, () -> {
      float[] ones = new float[hidden];
      Arrays.fill(ones, 1f);
      return ones;
    });
    this.gainVector = Ops.vector(d, gain.value());
    this.gradVector = Ops.vector(d, gain.grad());
  }

  Param param() {
    return gain;
  }

  /** y = rmsnorm(x); returns the per-row rstd [R] backward needs. */
  Tensor forward(Tensor x, Tensor y) {
    Tensor rstd = ctx.alloc(x.size(0));
    ctx.device().rmsNorm(ctx.compute(), x, gainVector, EPS, y, rstd);
    return rstd;
  }

  /** Overwrites dx; accumulates the gain's gradient. */
  void backward(Tensor x, Tensor rstd, Tensor dy, Tensor dx) {
    ctx.device().rmsNormBackward(ctx.compute(), x, gainVector, rstd, dy, dx, gradVector);
  }

  @Override
  public void close() {
    gainVector.close();
    gradVector.close();
    gain.close();
  }
}
