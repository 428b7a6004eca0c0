package dev.pipemoe.engine.moe;

import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Tensor;

/** Zero-copy views: slices, selections and reshapes of device tensors. The caller closes them. */
public final class Views {
  private Views() {}

  /** {@code t} restricted to [from, to) along {@code dim}. */
  public static Tensor slice(Device d, Tensor t, int dim, long from, long to) {
    long[] shape = t.shape();
    long[] strides = t.strides();
    if (from < 0 || to < from || to > shape[dim]) {
      throw new IllegalArgumentException(
          "slice [" + from + "," + to + ") outside dim " + dim + " of size " + shape[dim]);
    }
    shape[dim] = to - from;
    return d.view(t, from * strides[dim], shape, strides);
  }

  /** {@code t} at {@code index} along {@code dim}, that dimension removed. */
  public static Tensor select(Device d, Tensor t, int dim, long index) {
    long[] shape = t.shape();
    long[] strides = t.strides();
    if (index < 0 || index >= shape[dim]) {
      throw new IllegalArgumentException("index " + index + " outside dim " + dim + " of size "
          + shape[dim]);
    }
    return d.view(t, index * strides[dim], drop(shape, dim), drop(strides, dim));
  }

  /** A contiguous tensor seen with another shape of the same size. */
  public static Tensor reshape(Device d, Tensor t, long... dims) {
    long n = 1;
    for (long x : dims) {
      n *= x;
    }
    if (n != t.numel() || !contiguous(t)) {
      throw new IllegalArgumentException("cannot reshape " + java.util.Arrays.toString(t.shape())
          + " to " + java.util.Arrays.toString(dims));
    }
    return d.view(t, 0, dims, contiguousStrides(dims));
  }

  /** Dimensions 0 and 1 swapped. */
  public static Tensor transpose01(Device d, Tensor t) {
    long[] shape = t.shape();
    long[] strides = t.strides();
    swap(shape);
    swap(strides);
    return d.view(t, 0, shape, strides);
  }

  /**
   * Whether a rank-3 chunk tensor [A, c, K] is stored slot-major: physically a contiguous [c, A, K]
   * (the improved schedules' layout, in which any capacity slice is one block of rows).
   */
  public static boolean slotMajor(Tensor t) {
    long[] sh = t.shape();
    long[] st = t.strides();
    return sh.length == 3 && !contiguous(t) && st[2] == 1 && st[0] == sh[2]
        && st[1] == sh[0] * sh[2];
  }

  /**
   * A chunk tensor [A, c, K] that is contiguous or slot-major, seen as its A*c rows of K in storage
   * order; null for any other layout.
   */
  public static Tensor rows(Device d, Tensor t) {
    long[] sh = t.shape();
    if (contiguous(t) || slotMajor(t)) {
      return d.view(t, 0, new long[] {sh[0] * sh[1], sh[2]}, new long[] {sh[2], 1});
    }
    return null;
  }

  /** A new tensor of {@code t}'s shape in {@code t}'s chunk layout (slot-major or contiguous). */
  public static Tensor allocLike(Device d, dev.pipemoe.engine.device.DType dtype, Tensor t,
      long lastDim) {
    long[] sh = t.shape();
    sh[sh.length - 1] = lastDim;
    if (!slotMajor(t)) {
      return d.alloc(dtype, sh);
    }
    try (Tensor physical = d.alloc(dtype, sh[1], sh[0], sh[2])) {
      return transpose01(d, physical);
    }
  }

  /** A second handle on {@code t}'s memory, same layout: closed apart from {@code t}. */
  public static Tensor handle(Device d, Tensor t) {
    return d.view(t, 0, t.shape(), t.strides());
  }

  /** Row-major contiguous; strides of dimensions of size 1 do not matter, nor anything when empty. */
  public static boolean contiguous(Tensor t) {
    long[] sh = t.shape();
    long[] st = t.strides();
    long expected = 1;
    for (int i = sh.length - 1; i >= 0; i--) {
      if (sh[i] == 0) {
        return true;
      }
      if (sh[i] > 1 && st[i] != expected) {
        return false;
      }
      expected *= sh[i];
    }
    return true;
  }

  public static long[] contiguousStrides(long[] shape) {
    long[] s = new long[shape.length];
    long acc = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      s[i] = acc;
      acc *= Math.max(1, shape[i]);
    }
    return s;
  }

  private static void swap(long[] a) {
    long x = a[0];
    a[0] = a[1];
    a[1] = x;
  }

  private static long[] drop(long[] a, int i) {
    long[] r = new long[a.length - 1];
    System.arraycopy(a, 0, r, 0, i);
    System.arraycopy(a, i + 1, r, i, a.length - i - 1);
    return r;
  }
}
