package dev.pipemoe.e2e;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Waits on a condition with a deadline, looking again every 100 ms. A timeout names what was
 * awaited and the last state observed, so a failure says where the system stood, not only that it
 * was late. An exception while observing counts as "not yet" (a process restarting, a port not
 * open yet) and is shown if it was the last thing seen.
 */
final class Await {
  private static final long PAUSE_MILLIS = 100;

  private Await() {}

  static void until(String what, Duration timeout, BooleanSupplier condition) {
    until(what, timeout, condition::getAsBoolean, done -> done);
  }

  /** Observes until {@code done} accepts what it saw; returns that observation. */
  static <T> T until(String what, Duration timeout, Supplier<T> observe, Predicate<? super T> done) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Object last = "nothing observed yet";
    while (true) {
      try {
        T seen = observe.get();
        if (done.test(seen)) {
          return seen;
        }
        last = seen;
      } catch (RuntimeException e) {
        last = e;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("waited " + timeout.toSeconds() + " s for " + what
            + ", in vain; last observed: " + last);
      }
      try {
        Thread.sleep(PAUSE_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting for " + what, e);
      }
    }
  }
}
