package dev.pipemoe.worker;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.metrics.buffering.BufferingApplicationStartup;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/**
 * The worker daemon as a Spring Boot application: the loops of {@code daemon.Worker}, and a small
 * web server on the management port with {@code /actuator/health} and {@code /actuator/prometheus}.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class WorkerApplication {

  public static void main(String[] args) {
    SpringApplication application = new SpringApplication(WorkerApplication.class);
    // -Dpipemoe.startup-steps=true: Spring's start-up steps, for /actuator/startup
    // (scripts/startup-steps.sh, docs/benchmarks.md "Start-up"); off by default, it costs memory
    if (Boolean.getBoolean("pipemoe.startup-steps")) {
      application.setApplicationStartup(new BufferingApplicationStartup(20_000));
    }
    application.run(args);
  }
}
