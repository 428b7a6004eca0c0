package dev.pipemoe.engine.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

/** Small generators for {@link Property}: ranges, choices, strings, lists. */
public final class Gen {
  private Gen() {}

  /** Uniform in [lo, hi], both inclusive. */
  public static int intIn(SplittableRandom r, int lo, int hi) {
    return lo + r.nextInt(hi - lo + 1);
  }

  public static long longIn(SplittableRandom r, long lo, long hi) {
    return lo + r.nextLong(hi - lo + 1);
  }

  /**
   * Any int, every magnitude about equally likely: a uniform int shifted right by 0..31 bits, so
   * small values, 0 and -1 come up about as often as huge ones of either sign.
   */
  public static int anyInt(SplittableRandom r) {
    return r.nextInt() >> r.nextInt(32);
  }

  /** Any long, every magnitude about equally likely (as {@link #anyInt}). */
  public static long anyLong(SplittableRandom r) {
    return r.nextLong() >> r.nextInt(64);
  }

  /**
   * Any finite double: half the time a short decimal in [-1e6, 1e6] (two places), half the time
   * +-(1..2) * 2^e with e over the whole exponent range, subnormals included.
   */
  public static double anyDouble(SplittableRandom r) {
    return r.nextBoolean() ? Math.round(doubleIn(r, -1e6, 1e6) * 100) / 100.0
        : (r.nextBoolean() ? -1 : 1) * Math.scalb(1 + r.nextDouble(), intIn(r, -1074, 1023));
  }

  public static double doubleIn(SplittableRandom r, double lo, double hi) {
    return lo + r.nextDouble() * (hi - lo);
  }

  public static boolean chance(SplittableRandom r, double p) {
    return r.nextDouble() < p;
  }

  @SafeVarargs
  public static <T> T oneOf(SplittableRandom r, T... values) {
    return values[r.nextInt(values.length)];
  }

  public static <T> T oneOf(SplittableRandom r, List<T> values) {
    return values.get(r.nextInt(values.size()));
  }

  /** An int that is usually in [lo, hi] and sometimes an edge case (0, negative, huge). */
  public static int intWithEdges(SplittableRandom r, int lo, int hi) {
    return chance(r, 0.8) ? intIn(r, lo, hi)
        : oneOf(r, 0, -1, Integer.MIN_VALUE, Integer.MAX_VALUE, hi + 1, lo - 1);
  }

  /** A list of 0..maxSize values of {@code gen}, each size equally likely. */
  public static <T> List<T> listOf(SplittableRandom r, int maxSize,
      Function<SplittableRandom, T> gen) {
    int n = intIn(r, 0, maxSize);
    List<T> list = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      list.add(gen.apply(r));
    }
    return list;
  }

  /** A string of printable ASCII (and sometimes other) characters, length 0..maxLength. */
  public static String string(SplittableRandom r, int maxLength) {
    int n = intIn(r, 0, maxLength);
    StringBuilder sb = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      sb.append(chance(r, 0.95) ? (char) intIn(r, 0x20, 0x7e) : (char) intIn(r, 0, 0x2fff));
    }
    return sb.toString();
  }
}
