package dev.pipemoe.e2e;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The service as it ships: {@code java -jar service/target/pipemoe-service.jar} against the test
 * PostgreSQL (through {@code PIPEMOE_DB_URL}, {@code PIPEMOE_DB_USER}, {@code PIPEMOE_DB_PASSWORD}),
 * with the bootstrap admin token and the given {@code pipemoe.*} properties. It can be stopped and
 * started again on the same port and database, as an operator restarts it.
 */
final class ServiceProcess {
  static final Path JAR = E2eSystem.ROOT.resolve("service/target/pipemoe-service.jar");
  private static final Duration START_TIMEOUT = Duration.ofSeconds(180);

  private final Database db;
  private final int port;
  private final String adminToken;
  private final Map<String, String> properties;
  private final Path logDir;
  private final List<Proc> runs = new ArrayList<>();
  private Proc current;

  ServiceProcess(Database db, int port, String adminToken, Map<String, String> properties, Path logDir) {
    this.db = db;
    this.port = port;
    this.adminToken = adminToken;
    this.properties = properties;
    this.logDir = logDir;
  }

  String url() {
    return "http://localhost:" + port;
  }

  /** Starts the service and waits until its health answers UP. */
  void start() {
    List<String> args = new ArrayList<>(List.of("--server.port=" + port,
        // a schema of this test class's own (Database): Flyway creates it, the pool uses it
        "--spring.flyway.schemas=" + db.schema(), "--spring.datasource.hikari.schema=" + db.schema()));
    properties.forEach((k, v) -> args.add("--" + k + "=" + v));
    Database.Server server = db.server();
    current = Proc.startJar("service-" + (runs.size() + 1), JAR, args, Map.of(
        "PIPEMOE_DB_URL", server.url(), "PIPEMOE_DB_USER", server.user(),
        "PIPEMOE_DB_PASSWORD", server.password(), "PIPEMOE_ADMIN_TOKEN", adminToken),
        logDir.resolve("service.log"));
    runs.add(current);
    Proc p = current;
    Await.until("the service on port " + port + " to be UP (log " + p.log() + ")", START_TIMEOUT,
        () -> p.alive() ? health() : "exited: " + p.tail(30),
        h -> h.startsWith("200") || h.startsWith("exited"));
    if (!p.alive()) {
      throw new IllegalStateException("the service exited during its start:\n" + p.tail(60));
    }
  }

  /** SIGTERM, as systemd or Kubernetes stops it; waits for the exit and returns its code. */
  int stop() {
    return current.terminate(60);
  }

  /** SIGKILL, as the OOM killer or a lost node ends it: no shutdown at all. */
  void kill() {
    current.kill();
  }

  Proc process() {
    return current;
  }

  List<Proc> runs() {
    return List.copyOf(runs);
  }

  private String health() {
    try {
      return Http.get(url() + "/actuator/health", null).toString();
    } catch (RuntimeException e) {
      return "no answer: " + e.getMessage();
    }
  }
}
