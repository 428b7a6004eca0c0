package dev.pipemoe.service;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;

/**
 * The service's clock in tests: real time plus an offset that a test moves forward, so a lease
 * expires without anyone sleeping for it, while everything else keeps ticking normally. In
 * microseconds, like the production clock.
 */
public final class TestClock implements InstantSource {

  private final AtomicReference<Duration> offset = new AtomicReference<>(Duration.ZERO);

  @Override
  public Instant instant() {
    return Instant.now().plus(offset.get()).truncatedTo(ChronoUnit.MICROS);
  }

  public void advance(Duration by) {
    offset.accumulateAndGet(by, Duration::plus);
  }

  /** Replaces the service's InstantSource (it is @Primary over system/TimeConfiguration's). */
  @TestConfiguration(proxyBeanMethods = false)
  public static class Config {
    @Bean
    @Primary
    TestClock testClock() {
      return new TestClock();
    }
  }
}
