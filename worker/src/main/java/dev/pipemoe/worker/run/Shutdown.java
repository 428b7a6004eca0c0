package dev.pipemoe.worker.run;

import java.time.Duration;

/** The worker's shutdown as an attempt sees it: not begun, or begun with a deadline. */
public final class Shutdown {
  private volatile long deadlineNanos;
  private volatile boolean begun;

  /** Starts the grace period (once; later calls keep the first deadline). */
  public synchronized void begin(Duration grace) {
    if (!begun) {
      deadlineNanos = System.nanoTime() + grace.toNanos();
      begun = true;
    }
  }

  /** Nanoseconds left until {@code reserve} before the deadline; Long.MAX_VALUE when not begun. */
  public long remainingNanos(long reserveNanos) {
    return begun ? deadlineNanos - reserveNanos - System.nanoTime() : Long.MAX_VALUE;
  }
}
