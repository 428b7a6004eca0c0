package dev.pipemoe.engine.moe;

import dev.pipemoe.engine.device.AdamParams;
import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Stream;
import dev.pipemoe.engine.device.Tensor;
import java.util.function.Supplier;

/**
 * One trainable matrix on one rank: value, fp32 gradient ("main grad") and Adam moments. Its
 * initial values are made only if the device asks for them (see {@link Device#write(Tensor,
 * Supplier)}).
 */
public final class Param implements AutoCloseable {
  private final String name;
  private final Tensor value;
  private final Tensor grad;
  private final Tensor m;
  private final Tensor v;

  public Param(Device d, String name, long rows, long cols, Supplier<float[]> init) {
    this.name = name;
    this.value = d.alloc(DType.F32, rows, cols);
    this.grad = d.alloc(DType.F32, rows, cols);
    this.m = d.alloc(DType.F32, rows, cols);
    this.v = d.alloc(DType.F32, rows, cols);
    d.write(value, init);
  }

  public String name() {
    return name;
  }

  public Tensor value() {
    return value;
  }

  public Tensor grad() {
    return grad;
  }

  public void zeroGrad(Device d, Stream s) {
    d.fill(s, grad, 0f);
  }

  public void adam(Device d, Stream s, AdamParams params, int step) {
    d.adam(s, value, grad, m, v, params, step);
  }

  /**
   * One Adam update of elements [from, to) of the flattened parameter, from {@code shardGrad}
   * (the reduced gradient of just those elements): a distributed optimizer's shard.
   */
  public void adamShard(Device d, Stream s, AdamParams params, int step, long from, long to,
      Tensor shardGrad) {
    try (Tensor valueShard = flatSlice(d, value, from, to);
        Tensor mShard = flatSlice(d, m, from, to);
        Tensor vShard = flatSlice(d, v, from, to)) {
      d.adam(s, valueShard, shardGrad, mShard, vShard, params, step);
    }
  }

  /** Elements [from, to) of a contiguous tensor, as a rank-1 view. */
  public static Tensor flatSlice(Device d, Tensor t, long from, long to) {
    return d.view(t, from, new long[] {to - from}, new long[] {1});
  }

  public long numel() {
    return value.numel();
  }

  @Override
  public void close() {
    value.close();
    grad.close();
    m.close();
    v.close();
  }
}
