package dev.pipemoe.engine.sim;

import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.DeviceException;
import dev.pipemoe.engine.device.Tensor;
import java.util.Arrays;

/**
 * A tensor of the simulated device: shape, strides and dtype always; values only when the fabric
 * computes numerics ({@link Storage#values()} non-null). A view shares its base's storage.
 */
final class SimTensor implements Tensor {
  final int device;
  final DType dtype;
  final long[] shape;
  final long[] strides;
  /** Element offset of the view's origin in its storage. */
  final long offset;
  final Storage storage;
  private volatile boolean closed;

  SimTensor(int device, DType dtype, long[] shape, long[] strides, long offset, Storage storage) {
    this.device = device;
    this.dtype = dtype;
    this.shape = shape;
    this.strides = strides;
    this.offset = offset;
    this.storage = storage;
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
    closed = true;
  }

  boolean closed() {
    return closed;
  }

  /** The storage index of the element at row-major logical index {@code i}. */
  long at(long i) {
    long idx = offset;
    for (int d = shape.length - 1; d >= 0; d--) {
      long n = shape[d];
      idx += (i % n) * strides[d];
      i /= n;
    }
    return idx;
  }

  /** Bytes of its elements (not of its storage). */
  long bytes() {
    return numel() * dtype.bytes();
  }

  @Override
  public String toString() {
    return dtype + Arrays.toString(shape);
  }

  /**
   * The values behind one or more tensors: floats for F32 and BF16 (BF16 values are kept rounded to
   * bfloat16), ints for I32; both null when the fabric simulates cost only.
   */
  record Storage(long elements, float[] floats, int[] ints) {
    static Storage of(DType dtype, long elements, boolean numerics) {
      if (!numerics) {
        return new Storage(elements, null, null);
      }
      if (elements > Integer.MAX_VALUE - 8) {
        throw new DeviceException(6, "alloc: " + elements
            + " elements do not fit a simulated tensor that holds values");
      }
      return dtype == DType.I32 ? new Storage(elements, null, new int[(int) elements])
          : new Storage(elements, new float[(int) elements], null);
    }

    boolean values() {
      return floats != null || ints != null;
    }
  }
}
