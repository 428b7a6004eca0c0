package dev.pipemoe.service;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.metrics.buffering.BufferingApplicationStartup;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/**
 * The pipemoe service: validates MoE job specs with the engine's rules, stores jobs in PostgreSQL
 * and (from the scheduling issue on) hands them to workers. Features live in their own packages:
 * {@code jobs}, {@code security}, {@code system}.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class PipemoeServiceApplication {

  public static void main(String[] args) {
    SpringApplication application = new SpringApplication(PipemoeServiceApplication.class);
    // -Dpipemoe.startup-steps=true: Spring's start-up steps, for /actuator/startup
    // (scripts/startup-steps.sh, docs/benchmarks.md "Start-up"); off by default, it costs memory
    if (Boolean.getBoolean("pipemoe.startup-steps")) {
      application.setApplicationStartup(new BufferingApplicationStartup(20_000));
    }
    application.run(args);
  }
}
