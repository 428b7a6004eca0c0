package dev.pipemoe.engine.moe;

/**
 * One piece of pipelined work: local expert {@code expert}'s capacity slots [from, to).
 *
 * @param index q, the position in the pipeline (expert-major: q = expert * N + slice)
 */
public record Chunk(int index, int expert, int slice, int from, int to) {
  public int length() {
    return to - from;
  }

  public String label() {
    return Integer.toString(index);
  }
}
