package dev.pipemoe.e2e;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/**
 * The PostgreSQL of the end-to-end runs: the server named by {@code PIPEMOE_TEST_JDBC_URL} (with
 * {@code PIPEMOE_TEST_JDBC_USER}, {@code PIPEMOE_TEST_JDBC_PASSWORD}) when set, else one embedded
 * PostgreSQL 17 (zonky) in this test JVM, stopped when the JVM exits. It outlives the service
 * processes, which is what lets a test stop the service and start it again on the same data.
 *
 * <p>Each test class gets a schema of its own (the service's Flyway creates it), so that its
 * workers never lease the jobs another class left queued; the tests read that schema directly to
 * count what the service stored.
 */
final class Database {
  private static EmbeddedPostgres embedded;

  /** Where the service and the tests connect. */
  record Server(String url, String user, String password) {}

  private final Server server;
  private final String schema;

  private Database(Server server, String schema) {
    this.server = server;
    this.schema = schema;
  }

  /** A new, empty schema name on the shared server; the service creates it on its first start. */
  static Database newSchema(String prefix) {
    String name = (prefix + "_" + UUID.randomUUID().toString().substring(0, 8))
        .toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    return new Database(sharedServer(), name);
  }

  Server server() {
    return server;
  }

  String schema() {
    return schema;
  }

  /** Runs a query in this schema; each row as a list of its columns. */
  List<List<Object>> rows(String sql, Object... args) {
    try (Connection c = DriverManager.getConnection(server.url(), server.user(), server.password())) {
      c.setSchema(schema);
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        for (int i = 0; i < args.length; i++) {
          ps.setObject(i + 1, args[i]);
        }
        try (ResultSet rs = ps.executeQuery()) {
          List<List<Object>> out = new ArrayList<>();
          int n = rs.getMetaData().getColumnCount();
          while (rs.next()) {
            List<Object> row = new ArrayList<>(n);
            for (int i = 1; i <= n; i++) {
              row.add(rs.getObject(i));
            }
            out.add(row);
          }
          return out;
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("query failed in schema " + schema + ": " + sql, e);
    }
  }

  /** A statement that changes rows; how many. */
  int update(String sql, Object... args) {
    try (Connection c = DriverManager.getConnection(server.url(), server.user(), server.password())) {
      c.setSchema(schema);
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        for (int i = 0; i < args.length; i++) {
          ps.setObject(i + 1, args[i]);
        }
        return ps.executeUpdate();
      }
    } catch (SQLException e) {
      throw new IllegalStateException("update failed in schema " + schema + ": " + sql, e);
    }
  }

  /** A query answering one number. */
  long count(String sql, Object... args) {
    return ((Number) rows(sql, args).getFirst().getFirst()).longValue();
  }

  private static synchronized Server sharedServer() {
    String url = System.getenv("PIPEMOE_TEST_JDBC_URL");
    if (url != null && !url.isBlank()) {
      return new Server(url, env("PIPEMOE_TEST_JDBC_USER", "postgres"),
          env("PIPEMOE_TEST_JDBC_PASSWORD", ""));
    }
    if (embedded == null) {
      try {
        // a non-UTC server zone, as in the service's tests: flushes out local-time readings
        embedded = EmbeddedPostgres.builder().setServerConfig("timezone", "Asia/Kolkata").start();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start the embedded PostgreSQL", e);
      }
    }
    return new Server(embedded.getJdbcUrl("postgres", "postgres"), "postgres", "");
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null ? fallback : value;
  }
}
