package dev.pipemoe.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.pipemoe.deploy.Dashboards.Query;
import java.io.File;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Every query of the shipped dashboards against the real thing: the service and a worker (the
 * jars the build made) with a job in progress and three finished ones, Debian's Prometheus
 * scraping both with the shipped scrape configuration, and PostgreSQL with the service's schema.
 * Each PromQL expression must find data through Prometheus' HTTP API, so a metric name the service
 * does not export fails; each SQL query must run as Grafana's read-only login and find the
 * history. Skipped with a message where {@code prometheus} is missing; a failure when {@code CI}
 * is set (.ci/run installs it).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DashboardQueriesTest {
  /** $__rate_interval and $__range: long enough to hold the whole run. */
  static final String WINDOW = "5m";
  static final JsonMapper JSON = JsonMapper.builder().build();

  LiveStack stack;
  final Instant from = Instant.now().minus(Duration.ofHours(1));
  /** The three finished variants of one shape, by name; their history fills the SQL panels. */
  final Map<String, String> finished = new LinkedHashMap<>();
  String running;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    String prometheus = onPath("prometheus");
    if (prometheus == null) {
      if (System.getenv("CI") != null) {
        fail("CI must have prometheus (Debian package prometheus, installed by .ci/run)");
      }
      Assumptions.abort("prometheus is not installed (apt-get install --no-install-recommends prometheus):"
          + " the dashboards' queries were not run");
    }
    stack = new LiveStack(dir);
    stack.startDatabase();
    stack.startService();
    stack.startWorker();
    stack.startPrometheus(prometheus); // before the jobs, so the histograms' rates see their leases
    runJobs();
  }

  @AfterAll
  void stop() throws Exception {
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  void everyPromqlExpressionFindsData() throws Exception {
    List<String> failures = new ArrayList<>();
    int checked = 0;
    for (Query q : Dashboards.queries()) {
      if (!q.promql()) {
        continue;
      }
      String expr = GrafanaMacros.promql(q.text(), WINDOW, Map.of("job", running));
      JsonNode answer = prometheus(expr);
      checked++;
      JsonNode result = answer.path("data").path("result");
      if (!"success".equals(Dashboards.text(answer.path("status")))) {
        failures.add(q + ": " + answer + "\n  " + expr);
      } else if (result.isEmpty()) {
        failures.add(q + ": no series\n  " + expr);
      } else if (!anyFinite(result)) {
        failures.add(q + ": only NaN or infinite values " + result + "\n  " + expr);
      }
    }
    System.out.printf("DashboardQueriesTest: %d PromQL expressions checked, %d without data%n", checked,
        failures.size());
    assertThat(failures).as("PromQL expressions without data").isEmpty();
    assertThat(checked).isGreaterThanOrEqualTo(30);
  }

  /** What makes the test above worth having: a misspelt metric finds nothing. */
  @Test
  void aMetricTheServiceDoesNotExportFindsNothing() throws Exception {
    assertThat(prometheus("max by (state) (pipemoe_jobs)").path("data").path("result")).isNotEmpty();
    assertThat(prometheus("max by (state) (pipemoe_job)").path("data").path("result")).isEmpty();
    assertThat(prometheus("sum(rate(pipemoe_queue_wait_bucket[5m]))").path("data").path("result")).isEmpty();
  }

  @Test
  void everySqlQueryRunsAsGrafanasReadOnlyLoginAndFindsTheHistory() throws Exception {
    List<String> failures = new ArrayList<>();
    int checked = 0;
    for (Query q : Dashboards.queries()) {
      if (q.promql()) {
        continue;
      }
      // the job view for a finished job (history) and for the running one
      List<String> jobs = q.text().contains("$job") ? List.of(finished.get("pipe"), running) : List.of("");
      for (String job : jobs) {
        String sql = GrafanaMacros.sql(q.text(), from, Instant.now().plus(Duration.ofHours(1)), Map.of("job", job));
        checked++;
        String problem = check(q, sql);
        if (problem != null) {
          failures.add(q + (job.isEmpty() ? "" : " (job " + job + ")") + ": " + problem + "\n" + sql);
        }
      }
    }
    System.out.printf("DashboardQueriesTest: %d SQL queries run (%d distinct), %d failed%n", checked,
        Dashboards.queries().stream().filter(q -> !q.promql()).count(), failures.size());
    assertThat(failures).as("SQL queries").isEmpty();
    assertThat(checked).isGreaterThanOrEqualTo(20);
  }

  @Test
  void theVariantsTableComparesTheThreeVariantsOfTheShape() throws Exception {
    Query variants = Dashboards.queries().stream().filter(q -> q.where().contains("Variants of this model shape"))
        .findFirst().orElseThrow();
    String sql = GrafanaMacros.sql(variants.text(), from, Instant.now(), Map.of("job", finished.get("pipe")));
    List<String> rows = new ArrayList<>();
    try (Connection c = stack.asReader(); Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
      while (r.next()) {
        rows.add(r.getString("schedule") + " N=" + r.getInt("n") + " jobs=" + r.getInt("jobs")
            + " this=" + r.getBoolean("this_job"));
        assertThat(r.getDouble("tflops_per_device")).isPositive();
        assertThat(r.getInt("measured_steps")).isEqualTo(10); // 12 steps, 2 of warm-up
        if (r.getString("schedule").equals("serial")) {
          assertThat(r.getDouble("vs_serial")).isEqualTo(1.0);
        }
      }
    }
    assertThat(rows).containsExactlyInAnyOrder("serial N=1 jobs=1 this=false", "mindspeed N=1 jobs=1 this=true",
        "mindspeed N=2 jobs=1 this=false");
  }

  @Test
  void grafanasLoginCannotWrite() throws Exception {
    try (Connection c = stack.asReader(); Statement s = c.createStatement()) {
      try (ResultSet r = s.executeQuery("select current_user")) {
        assertThat(r.next()).isTrue();
        assertThat(r.getString(1)).isEqualTo(stack.reader);
      }
      assertThatThrownBy(() -> s.executeUpdate("update jobs set name = name"))
          .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
      assertThatThrownBy(() -> s.executeUpdate("create table grafana_was_here (x int)"))
          .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
    }
  }

  /** Null when the query ran as Grafana would need it, else what is wrong. */
  private String check(Query q, String sql) {
    try (Connection c = stack.asReader(); Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
      ResultSetMetaData meta = r.getMetaData();
      List<String> columns = new ArrayList<>();
      for (int i = 1; i <= meta.getColumnCount(); i++) {
        columns.add(meta.getColumnLabel(i));
      }
      if ("time_series".equals(q.format()) && !columns.contains("time")) {
        return "a time series needs a column named time, has " + columns;
      }
      if ("trend".equals(q.panelType()) && !columns.contains("step")) {
        return "a trend panel plots over the step column, has " + columns;
      }
      if ("variable".equals(q.format()) && !columns.containsAll(List.of("__text", "__value"))) {
        return "a variable's query gives __text and __value, has " + columns;
      }
      int rows = 0;
      boolean values = false;
      while (r.next()) {
        rows++;
        for (int i = 1; i <= columns.size(); i++) {
          values |= r.getObject(i) != null;
        }
      }
      return rows == 0 ? "no rows" : values ? null : "only nulls in " + rows + " rows";
    } catch (SQLException e) {
      return e.getMessage();
    }
  }

  // ------------------------------------------------------------------------------ the jobs

  /** Three short variants of one shape (history), then one long job that stays in progress. */
  private void runJobs() throws Exception {
    String user = post("/api/v1/admin/tokens", LiveStack.ADMIN_TOKEN,
        Map.of("owner", "dashboards", "role", "USER")).get("token").stringValue();
    Map<String, Object> off = Map.of();
    Map<String, Object> pipe = Map.of("enabled", true);
    Map<String, Object> multiData = Map.of("enabled", true, "multiData", 2);
    for (var variant : List.of(Map.entry("serial", off), Map.entry("pipe", pipe), Map.entry("multi-data-2", multiData))) {
      JsonNode job = post("/api/v1/jobs", user, spec("dashboards-" + variant.getKey(), 64, 12, variant.getValue()));
      finished.put(variant.getKey(), job.get("id").stringValue());
    }
    for (String id : finished.values()) {
      stack.await("job " + id + " to succeed", null, () -> "SUCCEEDED".equals(state(user, id)));
    }
    running = post("/api/v1/jobs", user, spec("dashboards-long", 256, 1_000_000, Map.of())).get("id").stringValue();
    // the running job's series reach Prometheus once a step is complete and the gauges refreshed
    stack.await("the running job's series in Prometheus", null, () -> !prometheusQuiet(
        "pipemoe_job_flops_per_second_per_device{job_id=\"" + running + "\"}").isEmpty());
  }

  private static Map<String, Object> spec(String name, int hidden, int steps, Map<String, Object> pipeExperts) {
    return Map.of("name", name,
        "model", Map.of("moeModelType", "deepspeed_moe", "numExperts", 4, "hiddenSize", hidden,
            "ffnHiddenSize", 2 * hidden, "seqLength", hidden),
        "parallel", Map.of("expert", 2),
        "pipeExperts", pipeExperts,
        "training", Map.of("steps", steps, "warmupSteps", 2),
        "resources", Map.of("deviceType", "cpu", "devices", 2));
  }

  private String state(String token, String id) {
    String body = stack.get("http://127.0.0.1:" + stack.servicePort + "/api/v1/jobs/" + id, token);
    String state = body == null ? "" : JSON.readTree(body).get("state").stringValue();
    if (state.equals("FAILED") || state.equals("CANCELLED")) {
      throw new IllegalStateException("job " + id + " ended " + state + ": " + body);
    }
    return state;
  }

  private JsonNode post(String path, String token, Object body) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stack.servicePort + path))
        .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build();
    HttpResponse<String> response = stack.http.send(request, HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as("POST %s: %s", path, response.body()).isIn(200, 201);
    return JSON.readTree(response.body());
  }

  // ------------------------------------------------------------------------------ Prometheus

  private JsonNode prometheus(String expr) throws Exception {
    String url = "http://127.0.0.1:" + stack.prometheusPort + "/api/v1/query?query="
        + URLEncoder.encode(expr, StandardCharsets.UTF_8);
    HttpResponse<String> r = stack.http.send(HttpRequest.newBuilder(URI.create(url)).build(),
        HttpResponse.BodyHandlers.ofString());
    return JSON.readTree(r.body());
  }

  private JsonNode prometheusQuiet(String expr) {
    try {
      return prometheus(expr).path("data").path("result");
    } catch (Exception e) {
      return JSON.createArrayNode();
    }
  }

  /** An instant vector's samples are [time, "value"]; a scalar's is one such pair. */
  private static boolean anyFinite(JsonNode result) {
    List<JsonNode> values = new ArrayList<>();
    if (result.isArray()) {
      result.forEach(series -> values.add(series.path("value").path(1)));
    } else {
      values.add(result.path(1));
    }
    return values.stream().map(Dashboards::text).anyMatch(v -> !v.isEmpty() && !v.equals("NaN")
        && !v.endsWith("Inf"));
  }

  private static String onPath(String binary) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path p = Path.of(d, binary);
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    return null;
  }
}
