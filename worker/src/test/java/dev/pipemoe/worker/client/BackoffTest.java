package dev.pipemoe.worker.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pipemoe.engine.testing.Gen;
import dev.pipemoe.engine.testing.Property;
import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BackoffTest {

  @Test
  void ceilingDoublesFromBaseUpToMax() {
    Backoff b = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(30), new SplittableRandom(1));
    assertThat(b.ceiling(0)).isEqualTo(Duration.ofMillis(500));
    assertThat(b.ceiling(1)).isEqualTo(Duration.ofSeconds(1));
    assertThat(b.ceiling(5)).isEqualTo(Duration.ofSeconds(16));
    assertThat(b.ceiling(6)).isEqualTo(Duration.ofSeconds(30));
    assertThat(b.ceiling(1000)).isEqualTo(Duration.ofSeconds(30));
    assertThat(b.ceiling(Integer.MAX_VALUE)).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void delaysAreUniformlyJitteredBelowTheCeiling() {
    // any base <= max and any retry count: 0 <= delay <= min(max, base * 2^n), never overflowing
    Property.forAll(300, r -> new long[] {Gen.longIn(r, 1, 10_000_000_000L),
        Gen.longIn(r, 0, 100_000_000_000L), Gen.intIn(r, 0, 200), r.nextLong()}, c -> {
      Duration base = Duration.ofNanos(c[0]);
      Duration max = Duration.ofNanos(c[0] + c[1]);
      Backoff b = new Backoff(base, max, new SplittableRandom(c[3]));
      int n = (int) c[2];
      double exact = Math.min(max.toNanos(), base.toNanos() * Math.pow(2, n));
      assertThat((double) b.ceiling(n).toNanos()).isCloseTo(exact,
          org.assertj.core.data.Offset.offset(1.0));
      for (int i = 0; i < 20; i++) {
        Duration d = b.delay(n);
        assertThat(d).isBetween(Duration.ZERO, b.ceiling(n));
      }
    });
  }

  @Test
  void fullJitterSpreadsOverTheWholeRange() {
    Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(10), new SplittableRandom(7));
    int[] buckets = new int[10];
    int draws = 20_000;
    for (int i = 0; i < draws; i++) {
      long d = b.delay(3).toNanos();  // ceiling 800 ms
      buckets[(int) Math.min(9, d * 10 / Duration.ofMillis(800).toNanos())]++;
    }
    for (int count : buckets) {
      assertThat(count).isBetween(draws / 10 * 8 / 10, draws / 10 * 12 / 10);
    }
  }

  @Test
  void refusesAnEmptyOrInvertedRange() {
    assertThatThrownBy(() -> new Backoff(Duration.ZERO, Duration.ofSeconds(1), new SplittableRandom()))
        .hasMessageContaining("0 < base <= max");
    assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1), new SplittableRandom()))
        .hasMessageContaining("0 < base <= max");
  }
}
