package dev.pipemoe.engine.device;

/**
 * A handle to device memory: a contiguous tensor or a strided view of one. The device owns the
 * storage; a view keeps its base alive, and ops still queued keep their operands alive, so closing
 * a tensor is safe at any time. Using a tensor after {@link #close()} is an error the device
 * reports ({@link DeviceException}), never a crash.
 *
 * <p>Shapes are row-major; strides are in elements. The innermost stride of every tensor a device
 * allocates is 1. A view may have another (a transposed view), but only an op that says it takes
 * any strides accepts it ({@link Device#logSumExp}, for the vocabulary-parallel cross-entropy's
 * [rows, shards] view of gathered shard results); every other op, host read or write and
 * collective refuses it as a bad argument.
 */
public interface Tensor extends AutoCloseable {
  DType dtype();

  /** Sizes per dimension, outermost first (a copy). */
  long[] shape();

  /** Element strides per dimension (a copy); the last is 1. */
  long[] strides();

  default int rank() {
    return shape().length;
  }

  default long size(int dim) {
    return shape()[dim];
  }

  default long numel() {
    long n = 1;
    for (long s : shape()) {
      n *= s;
    }
    return n;
  }

  /** Releases this handle. Idempotent. */
  @Override
  void close();
}
