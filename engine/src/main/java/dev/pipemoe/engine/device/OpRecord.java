package dev.pipemoe.engine.device;

/**
 * One finished op of a device's timeline.
 *
 * @param stream the stream or communicator queue it ran on
 * @param op the op's name ("gemm", "all_to_all")
 * @param label the label active when it was enqueued, or null
 * @param startNanos when it started, on {@link Device#nowNanos()}'s clock; for a collective, when
 *     every member had arrived and the transfer began
 * @param endNanos when it finished
 * @param bytes for a collective, the bytes this rank sent under the link model; else 0
 * @param modelledNanos for a collective, the duration the link model gave it; else 0
 */
public record OpRecord(String stream, String op, String label, long startNanos, long endNanos,
    long bytes, long modelledNanos) {

  public long durationNanos() {
    return endNanos - startNanos;
  }

  public boolean overlaps(OpRecord other) {
    return startNanos < other.endNanos && other.startNanos < endNanos;
  }
}
