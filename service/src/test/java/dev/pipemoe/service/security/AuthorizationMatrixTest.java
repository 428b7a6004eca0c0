package dev.pipemoe.service.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.service.ApiTest;
import dev.pipemoe.service.Http;
import dev.pipemoe.service.Specs;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Who may call what: anonymous, user A (owns the job), user B, admin, worker and a metrics
 * (Prometheus) token against every endpoint, each cell its own test. Non-2xx answers are problem
 * details too. The worker protocol's calls use ids that name no worker, so that nothing is leased
 * in this shared context (the scheduling tests run in their own schema).
 */
class AuthorizationMatrixTest extends ApiTest {

  private static final List<String> CALLERS = List.of("anonymous", "userA", "userB", "admin", "worker", "metrics");

  /** One row: a request (built fresh per caller, with that caller's token) and the status per caller. */
  record Row(String name, java.util.function.BiFunction<Http, String, Http.Call> request, int... expected) {}

  @TestFactory
  Stream<DynamicTest> everyCallerAgainstEveryEndpoint() {
    Map<String, String> tokens = new LinkedHashMap<>();
    tokens.put("anonymous", null);
    tokens.put("userA", token(uniqueOwner("user-a"), Role.USER));
    tokens.put("userB", token(uniqueOwner("user-b"), Role.USER));
    tokens.put("admin", ADMIN_TOKEN);
    tokens.put("worker", token(uniqueOwner("node"), Role.WORKER));
    tokens.put("metrics", token(uniqueOwner("prometheus"), Role.METRICS));
    String noWorker = java.util.UUID.randomUUID().toString();
    String job = submitted(tokens.get("userA"), Specs.valid("owned-by-a")).get("id").stringValue();
    String someToken = http.post("/api/v1/admin/tokens").token(ADMIN_TOKEN)
        .json(Map.of("owner", uniqueOwner("listed"), "role", "USER")).send().json().get("id").stringValue();
    // each caller revokes a token of its own, so the admin's 200 is not an idempotent repeat
    Map<String, Supplier<String>> revocable = new LinkedHashMap<>();
    CALLERS.forEach(c -> revocable.put(c, () -> http.post("/api/v1/admin/tokens").token(ADMIN_TOKEN)
        .json(Map.of("owner", uniqueOwner("doomed"), "role", "USER")).send().json().get("id").stringValue()));

    //                   anonymous userA userB admin worker metrics
    List<Row> rows = List.of(
        new Row("POST /api/v1/jobs", (h, t) -> h.post("/api/v1/jobs").json(Specs.valid("matrix")), 401, 201, 201, 201, 403, 403),
        new Row("POST /api/v1/jobs?dryRun=true", (h, t) -> h.post("/api/v1/jobs?dryRun=true").json(Specs.valid("m")), 401, 200, 200, 200, 403, 403),
        new Row("GET /api/v1/jobs", (h, t) -> h.get("/api/v1/jobs"), 401, 200, 200, 200, 403, 403),
        new Row("GET /api/v1/jobs/{id}", (h, t) -> h.get("/api/v1/jobs/" + job), 401, 200, 404, 200, 403, 403),
        new Row("GET /api/v1/jobs/{id}/events", (h, t) -> h.get("/api/v1/jobs/" + job + "/events"), 401, 200, 404, 200, 403, 403),
        new Row("GET /api/v1/jobs/{id}/metrics", (h, t) -> h.get("/api/v1/jobs/" + job + "/metrics"), 401, 200, 404, 200, 403, 403),
        new Row("GET /api/v1/jobs/{id}/summary", (h, t) -> h.get("/api/v1/jobs/" + job + "/summary"), 401, 200, 404, 200, 403, 403),
        new Row("POST /api/v1/jobs/{id}/cancel", (h, t) -> h.post("/api/v1/jobs/" + job + "/cancel"), 401, 200, 404, 200, 403, 403),
        new Row("POST /api/v1/admin/tokens", (h, t) -> h.post("/api/v1/admin/tokens")
            .json(Map.of("owner", "someone", "role", "USER")), 401, 403, 403, 201, 403, 403),
        new Row("GET /api/v1/admin/tokens", (h, t) -> h.get("/api/v1/admin/tokens"), 401, 403, 403, 200, 403, 403),
        new Row("GET /api/v1/admin/tokens/{id}", (h, t) -> h.get("/api/v1/admin/tokens/" + someToken), 401, 403, 403, 200, 403, 403),
        new Row("POST /api/v1/admin/tokens/{id}/revoke", (h, t) -> h.post("/api/v1/admin/tokens/"
            + revocable.get(t).get() + "/revoke"), 401, 403, 403, 200, 403, 403),
        new Row("GET /api/v1/workers", (h, t) -> h.get("/api/v1/workers"), 401, 200, 200, 200, 200, 403),
        new Row("POST /api/v1/workers", (h, t) -> h.post("/api/v1/workers").json(Map.of("name", uniqueOwner("matrix"),
            "bootId", "b", "deviceType", "a100", "devices", 1, "fabrics", List.of(), "version", "1")), 401, 403, 403, 403, 200, 403),
        new Row("POST /api/v1/workers/{id}/heartbeat", (h, t) -> h.post("/api/v1/workers/" + noWorker + "/heartbeat")
            .json(Map.of("running", List.of(), "freeDevices", 0)), 401, 403, 403, 403, 404, 403),
        new Row("POST /api/v1/workers/{id}/lease", (h, t) -> h.post("/api/v1/workers/" + noWorker + "/lease?wait=PT0S"),
            401, 403, 403, 403, 404, 403),
        new Row("POST /api/v1/workers/{id}/leave", (h, t) -> h.post("/api/v1/workers/" + noWorker + "/leave"),
            401, 403, 403, 403, 404, 403),
        new Row("POST /api/v1/workers/{id}/attempts/{job}/1/status", (h, t) -> h.post("/api/v1/workers/" + noWorker
            + "/attempts/" + job + "/1/status").json(Map.of("state", "STARTED")), 401, 403, 403, 403, 404, 403),
        new Row("POST /api/v1/workers/{id}/metrics", (h, t) -> h.post("/api/v1/workers/" + noWorker + "/metrics")
            .json(Map.of("jobId", job, "attempt", 1, "records", List.of())), 401, 403, 403, 403, 404, 403),
        new Row("GET /actuator/health", (h, t) -> h.get("/actuator/health"), 200, 200, 200, 200, 200, 200),
        new Row("GET /actuator/health/readiness", (h, t) -> h.get("/actuator/health/readiness"), 200, 200, 200, 200, 200, 200),
        new Row("GET /actuator/prometheus", (h, t) -> h.get("/actuator/prometheus"), 401, 403, 403, 200, 403, 200),
        new Row("GET /actuator", (h, t) -> h.get("/actuator"), 401, 403, 403, 200, 403, 403),
        new Row("GET /v3/api-docs", (h, t) -> h.get("/v3/api-docs"), 200, 200, 200, 200, 200, 200),
        new Row("GET /api/v1/workers/anything", (h, t) -> h.get("/api/v1/workers/anything"), 401, 403, 403, 403, 404, 403),
        new Row("GET /no/such/route", (h, t) -> h.get("/no/such/route"), 401, 404, 404, 404, 404, 403));

    List<DynamicTest> cells = new ArrayList<>();
    for (Row row : rows) {
      for (int i = 0; i < CALLERS.size(); i++) {
        String caller = CALLERS.get(i);
        int expected = row.expected()[i];
        cells.add(DynamicTest.dynamicTest(row.name() + " as " + caller + " -> " + expected, () -> {
          Http.Response response = row.request().apply(http, caller).token(tokens.get(caller)).send();
          assertThat(response.status()).as("%s", response).isEqualTo(expected);
          if (expected >= 400) {
            assertThat(response.contentType()).isEqualTo("application/problem+json");
          }
          if (expected == 401) {
            assertThat(response.header("WWW-Authenticate")).startsWith("Bearer");
          }
        }));
      }
    }
    return cells.stream();
  }
}
