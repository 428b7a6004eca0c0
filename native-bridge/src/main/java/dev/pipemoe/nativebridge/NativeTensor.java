package dev.pipemoe.nativebridge;

import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.Tensor;

/**
 * A tensor handle. Its shape is kept here so that shape queries never cross into C; the storage
 * lives natively and is refcounted there, so closing while ops are queued is safe.
 */
final class NativeTensor implements Tensor {
  final long handle;
  private final DType dtype;
  private final long[] shape;
  private final long[] strides;
  private boolean closed;

  NativeTensor(long handle, DType dtype, long[] shape, long[] strides) {
    this.handle = handle;
    this.dtype = dtype;
    this.shape = shape.clone();
    this.strides = strides.clone();
  }

  @Override
  public DType dtype() {
    return dtype;
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  @Override
  public long[] strides() {
    return strides.clone();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    // the device may have been closed first, which freed the handle already: nothing to do
    PipemoeLib.release(() -> (int) PipemoeLib.pm_tensor_free.invokeExact(handle));
  }

  static long[] contiguousStrides(long[] shape) {
    long[] s = new long[shape.length];
    long n = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      s[i] = n;
      n *= shape[i];
    }
    return s;
  }
}
