package dev.pipemoe.worker;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/**
 * The worker daemon as a Spring Boot application: the loops of {@code daemon.Worker}, and a small
 * web server on the management port with {@code /actuator/health} and {@code /actuator/prometheus}.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class WorkerApplication {

  public static void main(String[] args) {
    SpringApplication.run(WorkerApplication.class, args);
  }
}
