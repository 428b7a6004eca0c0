package dev.pipemoe.service.system;

import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The one clock of the service. Code that stamps or compares times takes an {@link InstantSource}
 * so that tests (and the lease logic of the scheduling issue) can move time instead of sleeping.
 * It ticks in microseconds, PostgreSQL's resolution: a time returned right after an insert equals
 * the one read back later (PostgreSQL would otherwise round the nanoseconds away).
 */
@Configuration(proxyBeanMethods = false)
class TimeConfiguration {

  @Bean
  InstantSource instantSource() {
    InstantSource system = InstantSource.system();
    return () -> system.instant().truncatedTo(ChronoUnit.MICROS);
  }
}
