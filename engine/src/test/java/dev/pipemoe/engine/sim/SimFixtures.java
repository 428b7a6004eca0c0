package dev.pipemoe.engine.sim;

import dev.pipemoe.engine.device.DType;
import java.util.Arrays;
import java.util.SplittableRandom;

/** Simulated tensors with values for the kernel and check tests: built, viewed and read back. */
final class SimFixtures {
  static final int DEVICE = 0;

  private SimFixtures() {}

  static long[] contiguousStrides(long... shape) {
    long[] s = new long[shape.length];
    long n = 1;
    for (int d = shape.length - 1; d >= 0; d--) {
      s[d] = n;
      n *= shape[d];
    }
    return s;
  }

  /** A zero-filled contiguous tensor of the test device. */
  static SimTensor zeros(DType dtype, long... shape) {
    long n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    return new SimTensor(DEVICE, dtype, shape, contiguousStrides(shape), 0,
        SimTensor.Storage.of(dtype, n, true));
  }

  /** A contiguous F32 (or BF16, rounded) tensor holding values in row-major order. */
  static SimTensor floats(DType dtype, float[] values, long... shape) {
    SimTensor t = zeros(dtype, shape);
    for (int i = 0; i < values.length; i++) {
      t.storage.floats()[i] = dtype == DType.BF16 ? SimKernels.bf16(values[i]) : values[i];
    }
    return t;
  }

  static SimTensor f32(float[] values, long... shape) {
    return floats(DType.F32, values, shape);
  }

  static SimTensor i32(int[] values, long... shape) {
    SimTensor t = zeros(DType.I32, shape);
    System.arraycopy(values, 0, t.storage.ints(), 0, values.length);
    return t;
  }

  /** A view of base's storage, offset relative to base's origin. */
  static SimTensor view(SimTensor base, long offset, long[] shape, long[] strides) {
    return new SimTensor(base.device, base.dtype, shape, strides, base.offset + offset,
        base.storage);
  }

  /** A view shaped {@code shape} inside a larger random-filled storage: each dimension's stride
   * is padded by 0..2 elements (the innermost stays 1), at a random offset. */
  static SimTensor padded(SplittableRandom r, DType dtype, long... shape) {
    long[] strides = new long[shape.length];
    long extent = 1;
    for (int d = shape.length - 1; d >= 0; d--) {
      strides[d] = d == shape.length - 1 ? 1 : extent + r.nextInt(3);
      extent = strides[d] * Math.max(shape[d], 1);
    }
    long offset = r.nextInt(4);
    SimTensor base = zeros(dtype, offset + extent);
    for (int i = 0; i < offset + extent; i++) {
      if (dtype == DType.I32) {
        base.storage.ints()[i] = r.nextInt(-1000, 1000);
      } else {
        base.storage.floats()[i] = SimKernels.bf16((float) r.nextGaussian());
      }
    }
    return view(base, offset, shape, strides);
  }

  /** Values in row-major order, addressed through {@link SimTensor#at} (not the kernels' walk). */
  static float[] read(SimTensor t) {
    float[] v = new float[(int) t.numel()];
    for (int i = 0; i < v.length; i++) {
      v[i] = t.storage.floats()[(int) t.at(i)];
    }
    return v;
  }

  static int[] readInts(SimTensor t) {
    int[] v = new int[(int) t.numel()];
    for (int i = 0; i < v.length; i++) {
      v[i] = t.storage.ints()[(int) t.at(i)];
    }
    return v;
  }

  /** Writes row-major values through {@link SimTensor#at}, rounding for BF16. */
  static void write(SimTensor t, float[] values) {
    for (int i = 0; i < values.length; i++) {
      t.storage.floats()[(int) t.at(i)] = t.dtype == DType.BF16 ? SimKernels.bf16(values[i])
          : values[i];
    }
  }

  static void write(SimTensor t, int[] values) {
    for (int i = 0; i < values.length; i++) {
      t.storage.ints()[(int) t.at(i)] = values[i];
    }
  }

  static float[] gaussian(SplittableRandom r, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return v;
  }
}
