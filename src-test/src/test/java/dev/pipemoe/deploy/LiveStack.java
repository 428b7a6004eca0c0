package dev.pipemoe.deploy;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * The product as the dashboards see it, started from what the build made: PostgreSQL (embedded,
 * or a fresh database on the server named by {@code PIPEMOE_TEST_JDBC_URL}) with Grafana's
 * read-only login from deploy/postgres/grafana-reader.sql, the service jar with the three tokens
 * it bootstraps, a worker jar, and Debian's {@code prometheus} binary on a copy of
 * deploy/prometheus/prometheus.yml (1 s scrapes, local targets, the metrics token in a file).
 * {@link #close()} stops all of it, also when starting failed half-way.
 */
final class LiveStack implements AutoCloseable {
  static final Path ROOT = DashboardsTest.ROOT;
  static final String ADMIN_TOKEN = "dashboards-admin-token-0123456789abcdef0123456789";
  static final String WORKER_TOKEN = "dashboards-worker-token-0123456789abcdef012345678";
  static final String METRICS_TOKEN = "dashboards-metrics-token-0123456789abcdef01234567";
  static final String READER_PASSWORD = "dashboards-reader-password";
  private static final Duration START = Duration.ofSeconds(120);

  final Path dir;
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final List<Process> processes = new ArrayList<>();
  private final Map<Process, Path> logs = new HashMap<>();
  private EmbeddedPostgres embedded;
  private String adminUrl;
  private String adminUser;
  private String adminPassword;
  String databaseUrl;
  String database;
  String reader = "grafana_reader";
  int servicePort;
  int workerPort;
  int prometheusPort;

  LiveStack(Path dir) {
    this.dir = dir;
  }

  /** A fresh database with Grafana's login made first, as compose's postgres does before Flyway. */
  void startDatabase() throws IOException, SQLException {
    String shared = System.getenv("PIPEMOE_TEST_JDBC_URL");
    String run = Long.toString(System.currentTimeMillis() % 1_000_000_000L, 36);
    if (shared != null && !shared.isBlank()) {
      adminUrl = shared;
      adminUser = env("PIPEMOE_TEST_JDBC_USER", "postgres");
      adminPassword = env("PIPEMOE_TEST_JDBC_PASSWORD", "");
      reader = "grafana_reader_" + run; // roles are per server: do not meet another run's
    } else {
      embedded = EmbeddedPostgres.builder().start();
      adminUrl = embedded.getJdbcUrl("postgres", "postgres");
      adminUser = "postgres";
      adminPassword = "";
    }
    database = "pipemoe_dashboards_" + run;
    try (Connection c = DriverManager.getConnection(adminUrl, adminUser, adminPassword);
        Statement s = c.createStatement()) {
      s.execute("create database " + database);
    }
    // without the URL's parameters: zonky's carry user=postgres, which would beat the reader's login
    databaseUrl = adminUrl.replaceFirst("(jdbc:postgresql://[^/]+/).*$", "$1" + database);
    String script = Files.readString(ROOT.resolve("deploy/postgres/grafana-reader.sql"))
        .replace(":'password'", "'" + READER_PASSWORD + "'").replace("grafana_reader", reader);
    try (Connection c = admin(); Statement s = c.createStatement()) {
      s.execute(script);
    }
  }

  Connection admin() throws SQLException {
    return DriverManager.getConnection(databaseUrl, adminUser, adminPassword);
  }

  Connection asReader() throws SQLException {
    return DriverManager.getConnection(databaseUrl, reader, READER_PASSWORD);
  }

  void startService() throws IOException {
    servicePort = freePort();
    Path jar = jar("service/target/pipemoe-service.jar");
    ProcessBuilder pb = java(jar, "service", "--server.port=" + servicePort,
        "--pipemoe.metrics.gauge-refresh-interval=1s");
    Map<String, String> env = pb.environment();
    env.put("PIPEMOE_DB_URL", databaseUrl);
    env.put("PIPEMOE_DB_USER", adminUser);
    env.put("PIPEMOE_DB_PASSWORD", adminPassword);
    env.put("PIPEMOE_ADMIN_TOKEN", ADMIN_TOKEN);
    env.put("PIPEMOE_WORKER_TOKEN", WORKER_TOKEN);
    env.put("PIPEMOE_METRICS_TOKEN", METRICS_TOKEN);
    Process p = start(pb, "service");
    await("the service's readiness (log: " + dir.resolve("service.log") + ")", p,
        () -> ok("http://127.0.0.1:" + servicePort + "/actuator/health/readiness"));
  }

  void startWorker() throws IOException {
    workerPort = freePort();
    Path jar = jar("worker/target/pipemoe-worker.jar");
    ProcessBuilder pb = java(jar, "worker", "--server.port=" + workerPort, "--pipemoe.worker.backoff-max=2s");
    Map<String, String> env = pb.environment();
    env.put("PIPEMOE_WORKER_SERVICEURL", "http://127.0.0.1:" + servicePort);
    env.put("PIPEMOE_WORKER_TOKEN", WORKER_TOKEN);
    env.put("PIPEMOE_WORKER_NAME", "dashboards-worker");
    env.put("PIPEMOE_WORKER_DEVICETYPE", "cpu");
    env.put("PIPEMOE_WORKER_DEVICES", "2");
    env.put("PIPEMOE_WORKER_SPOOLDIR", dir.resolve("spool").toString());
    Process p = start(pb, "worker");
    await("the worker's readiness (log: " + dir.resolve("worker.log") + ")", p,
        () -> ok("http://127.0.0.1:" + workerPort + "/actuator/health/readiness"));
  }

  /** The shipped scrape configuration, pointed at this machine; waits until both targets are up. */
  @SuppressWarnings("unchecked")
  void startPrometheus(String binary) throws IOException {
    prometheusPort = freePort();
    Path token = Files.writeString(dir.resolve("metrics-token"), METRICS_TOKEN);
    Map<String, Object> config = ComposeFileTest.yaml(ROOT.resolve("deploy/prometheus/prometheus.yml"));
    Map<String, Object> global = (Map<String, Object>) config.get("global");
    global.put("scrape_interval", "1s");
    global.put("evaluation_interval", "1s");
    for (Map<String, Object> job : (List<Map<String, Object>>) config.get("scrape_configs")) {
      Map<String, Object> targets = ((List<Map<String, Object>>) job.get("static_configs")).get(0);
      String target = ((List<String>) targets.get("targets")).get(0);
      int port = switch (target) {
        case "service:8080" -> servicePort;
        case "worker:8081" -> workerPort;
        default -> throw new IllegalStateException("a target this test does not know: " + target);
      };
      targets.put("targets", List.of("127.0.0.1:" + port));
      Map<String, Object> auth = (Map<String, Object>) job.get("authorization");
      if (auth != null) {
        auth.put("credentials_file", token.toString());
      }
    }
    DumperOptions options = new DumperOptions();
    options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    Path file = Files.writeString(dir.resolve("prometheus.yml"), new Yaml(options).dump(config));
    ProcessBuilder pb = new ProcessBuilder(binary, "--config.file=" + file,
        "--storage.tsdb.path=" + dir.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + prometheusPort);
    Process p = start(pb, "prometheus");
    await("both scrape targets up (log: " + dir.resolve("prometheus.log") + ")", p, () -> {
      String targets = get("http://127.0.0.1:" + prometheusPort + "/api/v1/targets", null);
      return targets != null && targets.split("\"health\":\"up\"", -1).length - 1 == 2;
    });
  }

  /** The body of a GET, or null when it did not answer 200. */
  String get(String url, String token) {
    try {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
      if (token != null) {
        b.header("Authorization", "Bearer " + token);
      }
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? r.body() : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  boolean ok(String url) {
    return get(url, null) != null;
  }

  /** Polls until the condition holds; fails early, with the log's tail, if the process died. */
  void await(String what, Process p, BooleanSupplier condition) {
    Instant deadline = Instant.now().plus(START);
    while (!condition.getAsBoolean()) {
      if (p != null && !p.isAlive()) {
        throw new IllegalStateException("process died waiting for " + what + ":\n" + tail(p));
      }
      if (Instant.now().isAfter(deadline)) {
        throw new IllegalStateException("timed out waiting for " + what + (p == null ? "" : ":\n" + tail(p)));
      }
      try {
        Thread.sleep(250);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  /** Stops the worker first (no retries against a gone service), then the service, Prometheus, the database. */
  @Override
  public void close() throws IOException {
    for (Process p : processes.reversed()) {
      p.destroy();
    }
    for (Process p : processes.reversed()) {
      try {
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        p.destroyForcibly();
      }
    }
    try {
      if (embedded == null && database != null) {
        try (Connection c = DriverManager.getConnection(adminUrl, adminUser, adminPassword);
            Statement s = c.createStatement()) {
          s.execute("drop database if exists " + database + " with (force)");
          s.execute("drop role if exists " + reader);
        }
      }
    } catch (SQLException e) {
      throw new IOException("cannot drop the test database " + database, e);
    } finally {
      if (embedded != null) {
        embedded.close();
      }
    }
  }

  private Process start(ProcessBuilder pb, String name) throws IOException {
    Path log = dir.resolve(name + ".log");
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    Process p = pb.start();
    processes.add(p);
    logs.put(p, log);
    return p;
  }

  /** This JVM's java, with an environment free of the caller's pipemoe and Spring settings. */
  private ProcessBuilder java(Path jar, String name, String... args) {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command = new ArrayList<>(List.of(java, "-Xmx512m", "-XX:TieredStopAtLevel=1", "-jar",
        jar.toString()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("PIPEMOE_") || k.startsWith("SPRING_")
        || k.equals("SERVER_PORT") || k.equals("JAVA_TOOL_OPTIONS"));
    pb.environment().put("HOME", dir.resolve("home-" + name).toString());
    return pb;
  }

  /** The last 40 lines of a process's log. */
  private String tail(Process p) {
    try {
      List<String> lines = Files.readAllLines(logs.get(p));
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  private static Path jar(String path) {
    Path jar = ROOT.resolve(path);
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " is missing: the reactor build makes it before src-test runs"
          + " (./mvnw verify), or build it with ./mvnw -DskipTests package");
    }
    return jar;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null ? fallback : value;
  }
}
