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

  @Override
  public void close() {
    value.close();
    grad.close();
    m.close();
    v.close();
  }
}
