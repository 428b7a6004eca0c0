package dev.pipemoe.service;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.test.context.DynamicPropertyRegistry;

/**
 * The PostgreSQL every test of this JVM uses: the server named by {@code PIPEMOE_TEST_JDBC_URL}
 * (with {@code PIPEMOE_TEST_JDBC_USER} and {@code PIPEMOE_TEST_JDBC_PASSWORD}) when set, else one
 * embedded PostgreSQL 17 (zonky), started on first use and stopped when the JVM exits. Tests never
 * assume an empty database: each makes its own owners, so they also run against a shared server.
 */
public final class TestDatabase {

  private static EmbeddedPostgres embedded;

  private TestDatabase() {}

  public static void register(DynamicPropertyRegistry registry) {
    Server db = server();
    registry.add("spring.datasource.url", db::url);
    registry.add("spring.datasource.username", db::user);
    registry.add("spring.datasource.password", db::password);
  }

  /**
   * The same server, but the service's tables in a schema of their own ({@code schema}, created by
   * Flyway): a context that leases jobs must not see the queued jobs other test classes leave
   * behind, and one schema per test JVM keeps runs on a shared server apart too.
   */
  public static void registerSchema(DynamicPropertyRegistry registry, String schema) {
    registry.add("spring.datasource.hikari.schema", () -> schema);
    registry.add("spring.flyway.schemas", () -> schema);
  }

  /** The JDBC URL, user and password the tests use, for code that starts the service by hand. */
  public record Server(String url, String user, String password) {}

  public static Server server() {
    String url = System.getenv("PIPEMOE_TEST_JDBC_URL");
    if (url != null && !url.isBlank()) {
      return new Server(url, env("PIPEMOE_TEST_JDBC_USER", "postgres"), env("PIPEMOE_TEST_JDBC_PASSWORD", ""));
    }
    return new Server(embedded().getJdbcUrl("postgres", "postgres"), "postgres", "");
  }

  /**
   * The command line of a service started by hand (a second replica, a benchmark) on this server:
   * the datasource, the service's tables in {@code schema}, a random port, the tests' admin token,
   * then {@code more}. As arguments they win over application.yaml, as a deployment's settings do.
   */
  public static String[] serviceArgs(String schema, Map<String, ?> more) {
    Server db = server();
    Map<String, Object> properties = new LinkedHashMap<>();
    properties.put("spring.datasource.url", db.url());
    properties.put("spring.datasource.username", db.user());
    properties.put("spring.datasource.password", db.password());
    properties.put("spring.datasource.hikari.schema", schema);
    properties.put("spring.flyway.schemas", schema);
    properties.put("server.port", 0);
    properties.put("pipemoe.security.admin-token", ApiTest.ADMIN_TOKEN);
    properties.putAll(more);
    return properties.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new);
  }

  private static synchronized EmbeddedPostgres embedded() {
    if (embedded == null) {
      try {
        // a non-UTC session zone flushes out code that reads timestamps in local time
        embedded = EmbeddedPostgres.builder().setServerConfig("timezone", "Asia/Kolkata").start();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start the embedded PostgreSQL", e);
      }
    }
    return embedded;
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null ? fallback : value;
  }
}
