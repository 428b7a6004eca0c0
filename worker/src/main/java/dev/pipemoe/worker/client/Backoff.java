package dev.pipemoe.worker.client;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with full jitter (the AWS architecture blog's "Exponential Backoff And
 * Jitter"): the n-th retry (n = 0, 1, ...) waits a uniform random time in
 * [0, min(max, base * 2^n)]. Full jitter spreads the retries of many workers that lost the service
 * at the same moment, so they do not come back in lockstep.
 */
public final class Backoff {
  private final long baseNanos;
  private final long maxNanos;
  private final RandomGenerator random;

  public Backoff(Duration base, Duration max, RandomGenerator random) {
    if (base.isNegative() || base.isZero() || max.compareTo(base) < 0) {
      throw new IllegalArgumentException("backoff needs 0 < base <= max, was " + base + ", " + max);
    }
    this.baseNanos = base.toNanos();
    this.maxNanos = max.toNanos();
    this.random = random;
  }

  /** The cap of the n-th retry: min(max, base * 2^n), without overflowing for any n. */
  public Duration ceiling(int retry) {
    if (retry < 0) {
      throw new IllegalArgumentException("retry must be >= 0, was " + retry);
    }
    // base * 2^n > max as soon as n > log2(max / base); shifting further would overflow
    int shift = Math.min(retry, 62);
    long cap = baseNanos > (maxNanos >> shift) ? maxNanos : Math.min(maxNanos, baseNanos << shift);
    return Duration.ofNanos(cap);
  }

  /** A random delay for the n-th retry, uniform in [0, ceiling(n)]. */
  public Duration delay(int retry) {
    long cap = ceiling(retry).toNanos();
    return Duration.ofNanos(random.nextLong(cap + 1));
  }

  public Duration max() {
    return Duration.ofNanos(maxNanos);
  }
}
