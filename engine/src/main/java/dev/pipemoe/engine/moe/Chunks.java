package dev.pipemoe.engine.moe;

import java.util.ArrayList;
import java.util.List;

/** How the L local experts' capacity C is cut into n = L * N chunks. */
public final class Chunks {
  private Chunks() {}

  /** One chunk per local expert, all of its capacity: what the serial path computes per expert. */
  public static List<Chunk> perExpert(LayerShape shape) {
    return ceil(shape, 1);
  }

  /**
   * MindSpeed's slicing (pipe_experts.py, deal_data): c = ceil(C/N), slice j = [j*c, min(C,
   * (j+1)*c)); trailing slices may be short or empty (C = 5, N = 4 gives 2, 2, 1, 0).
   */
  public static List<Chunk> ceil(LayerShape shape, int slices) {
    checkSlices(shape, slices);
    int capacity = shape.capacity();
    int c = (capacity + slices - 1) / slices;
    List<Chunk> chunks = new ArrayList<>();
    for (int i = 0; i < shape.localExperts(); i++) {
      for (int j = 0; j < slices; j++) {
        int from = Math.min(capacity, j * c);
        int to = Math.min(capacity, from + c);
        chunks.add(new Chunk(chunks.size(), i, j, from, to));
      }
    }
    return List.copyOf(chunks);
  }

  /** Ours: slice lengths differ by at most one, so no slice is empty and none is long. */
  public static List<Chunk> balanced(LayerShape shape, int slices) {
    checkSlices(shape, slices);
    int capacity = shape.capacity();
    List<Chunk> chunks = new ArrayList<>();
    for (int i = 0; i < shape.localExperts(); i++) {
      for (int j = 0; j < slices; j++) {
        int from = (int) ((long) capacity * j / slices);
        int to = (int) ((long) capacity * (j + 1) / slices);
        chunks.add(new Chunk(chunks.size(), i, j, from, to));
      }
    }
    return List.copyOf(chunks);
  }

  private static void checkSlices(LayerShape shape, int slices) {
    if (slices < 1 || slices > shape.capacity()) {
      // MindSpeed: "--pipe-experts-multi-data cannot be greater than experts capacity" (V7)
      throw new IllegalArgumentException("multi-data N=" + slices + " must be in 1..C="
          + shape.capacity());
    }
  }
}
