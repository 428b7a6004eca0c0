package dev.pipemoe.engine.moe;

/**
 * Counter-based random numbers on the host: a value depends only on (seed, stream, index), so a
 * rank can generate its shard of a matrix without generating the rest, and every layout produces
 * the same global weights and inputs.
 */
public final class HostRandom {
  private HostRandom() {}

  /** splitmix64's finaliser: a bijective mix of 64 bits. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  /**
   * splitmix64: output number {@code counter} (from 0) of the generator seeded with {@code seed}.
   * {@link dev.pipemoe.engine.device.Device#random} fills with it; see {@link #deviceUniform} and
   * {@link #deviceNormal} (the native runtime's test holds its kernel to these).
   */
  public static long splitmix64(long seed, long counter) {
    return mix(seed + (counter + 1) * 0x9e3779b97f4a7c15L);
  }

  /** Element {@code index} (row-major) of {@code Device.random(UNIFORM, a, b)}: 24 random bits, in [a, b). */
  public static float deviceUniform(long seed, long index, float a, float b) {
    double u = (splitmix64(seed, 2 * index) >>> 40) * 0x1p-24;
    float v = (float) ((double) a + ((double) b - (double) a) * u);
    return v >= b && a < b ? Math.nextAfter(b, a) : v;  // float rounding may reach b
  }

  /**
   * Element {@code index} of {@code Device.random(NORMAL, mean, std)}: Box-Muller over outputs 2i
   * and 2i+1, u1 in (0, 1] so the log is finite. The native kernel uses its C library's log and
   * cos, which may differ from Java's in the last bit of a double.
   */
  public static float deviceNormal(long seed, long index, float mean, float std) {
    double u1 = ((splitmix64(seed, 2 * index) >>> 11) + 1) * 0x1p-53;
    double u2 = (splitmix64(seed, 2 * index + 1) >>> 11) * 0x1p-53;
    return (float) ((double) mean
        + (double) std * Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
  }

  /** A key for a named stream of numbers under a seed, e.g. key(seed, layer, expert, "w1"). */
  public static long key(long seed, long... parts) {
    long k = mix(seed + 0x9e3779b97f4a7c15L);
    for (long p : parts) {
      k = mix(k ^ (p + 0x9e3779b97f4a7c15L));
    }
    return k;
  }

  public static long key(long seed, String name, long... parts) {
    return key(key(seed, name.hashCode()), parts);
  }

  /** Uniform in [0, 1) with 53 random bits. */
  public static double uniform(long key, long index) {
    return (mix(key ^ mix(index + 0x632be59bd9b4e019L)) >>> 11) * 0x1.0p-53;
  }

  /** Standard normal by Box-Muller over two uniforms of the same index. */
  public static double normal(long key, long index) {
    double u1 = uniform(key, 2 * index);
    double u2 = uniform(key, 2 * index + 1);
    return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }

  /**
   * Rows [r0, r1) and columns [c0, c1) of a conceptual rows x cols matrix of N(0, std^2) values, as
   * a row-major array: the shard a rank holds.
   */
  public static float[] normalBlock(long key, long cols, long r0, long r1, long c0, long c1,
      double std) {
    float[] out = new float[Math.toIntExact((r1 - r0) * (c1 - c0))];
    int i = 0;
    for (long r = r0; r < r1; r++) {
      for (long c = c0; c < c1; c++) {
        out[i++] = (float) (std * normal(key, r * cols + c));
      }
    }
    return out;
  }
}
