package dev.pipemoe.service.bench;

import dev.pipemoe.service.ApiTest;
import dev.pipemoe.service.Http;
import dev.pipemoe.service.PipemoeServiceApplication;
import dev.pipemoe.service.TestDatabase;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The service as the benchmarks run it: {@code replicas} instances in this JVM on random ports,
 * over one PostgreSQL (the embedded one the tests use, or {@code PIPEMOE_TEST_JDBC_URL}) in a schema
 * of their own, with default settings but quiet logs.
 */
final class BenchService implements AutoCloseable {

  final String schema = "bench_" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
  final TestDatabase.Server db = TestDatabase.server();
  private final List<ConfigurableApplicationContext> replicas = new ArrayList<>();

  BenchService(int replicas) {
    for (int i = 0; i < replicas; i++) {
      String[] args = TestDatabase.serviceArgs(schema, Map.of("logging.level.root", "WARN",
          "spring.main.banner-mode", "off"));
      this.replicas.add(new SpringApplicationBuilder(PipemoeServiceApplication.class).run(args));
    }
  }

  Http http(int replica) {
    return new Http(port(replica));
  }

  int port(int replica) {
    return Integer.parseInt(replicas.get(replica).getEnvironment().getProperty("local.server.port"));
  }

  String token(String owner, String role) {
    return ApiTest.token(http(0), owner, role);
  }

  String submit(Http http, String token, Object body) {
    Http.Response r = http.post("/api/v1/jobs").token(token).json(body).send();
    if (r.status() != 201) {
      throw new IllegalStateException("submit failed: " + r);
    }
    return r.json().get("id").stringValue();
  }

  /** A job of {@code ranks} ranks (tensor 1, data = ranks, 8 experts over 8 expert ranks). */
  static Map<String, Object> job(String name, int ranks) {
    return Map.of("name", name, "model", Map.of("moeModelType", "deepspeed_moe", "numExperts", 8),
        "parallel", Map.of("tensor", 1, "data", ranks, "expert", Math.min(8, ranks)));
  }

  @Override
  public void close() {
    replicas.forEach(ConfigurableApplicationContext::close);
  }

  static long percentile(long[] sorted, double p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  static String option(String[] args, String name, String fallback) {
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    return fallback;
  }
}
