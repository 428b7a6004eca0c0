package dev.pipemoe.service.system;

import java.time.InstantSource;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The one clock of the service. Code that stamps or compares times takes an {@link InstantSource}
 * so that tests (and the lease logic of the scheduling issue) can move time instead of sleeping.
 */
@Configuration(proxyBeanMethods = false)
class TimeConfiguration {

  @Bean
  InstantSource instantSource() {
    return InstantSource.system();
  }
}
