package dev.pipemoe.engine.config;

/** Preconditions of the effective-config records; messages print the offending values. */
final class Checks {

  private Checks() {}

  static void require(boolean ok, String format, Object... values) {
    if (!ok) {
      throw new IllegalArgumentException(String.format(format, values));
    }
  }

  static void positive(String name, long value) {
    require(value >= 1, "%s must be >= 1, was %s", name, value);
  }

  static boolean finite(double value) {
    return !Double.isNaN(value) && !Double.isInfinite(value);
  }
}
