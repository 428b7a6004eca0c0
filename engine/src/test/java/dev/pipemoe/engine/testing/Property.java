package dev.pipemoe.engine.testing;

import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Property-based testing in one class: draw {@code tries} values from a seeded generator and check
 * each. Every try has its own seed derived from a base seed, so a failure names the seed that
 * reproduces it ({@code -Dpipemoe.seed=...} replays the run, {@link #replay} one try).
 *
 * <p>Why our own: the project's first choice, jqwik 1.10, asks AI agents not to use it, and a
 * seeded loop is all our properties need (no shrinking: generators keep values small instead).
 */
public final class Property {
  /** The base seed: fixed so CI is reproducible, overridable to explore further. */
  public static final long BASE_SEED = Long.getLong("pipemoe.seed", 0x5eed_2026L);

  private Property() {}

  /** Checks {@code check} on {@code tries} values of {@code gen}. */
  public static <T> void forAll(int tries, Function<SplittableRandom, T> gen, Consumer<T> check) {
    SplittableRandom seeds = new SplittableRandom(BASE_SEED);
    for (int i = 0; i < tries; i++) {
      long seed = seeds.nextLong();
      runOne(seed, i, gen, check);
    }
  }

  /** Re-runs the single try that a failure message named. */
  public static <T> void replay(long seed, Function<SplittableRandom, T> gen, Consumer<T> check) {
    runOne(seed, 0, gen, check);
  }

  private static <T> void runOne(long seed, int index, Function<SplittableRandom, T> gen,
      Consumer<T> check) {
    T value = gen.apply(new SplittableRandom(seed));
    try {
      check.accept(value);
    } catch (AssertionError | RuntimeException e) {
      throw new AssertionError("property failed on try " + index + " (seed " + seed
          + ", replay with Property.replay(" + seed + "L, ...)) for value: " + value, e);
    }
  }
}
