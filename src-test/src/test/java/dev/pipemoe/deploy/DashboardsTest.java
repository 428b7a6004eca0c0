package dev.pipemoe.deploy;

import static dev.pipemoe.deploy.Dashboards.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.deploy.Dashboards.Dashboard;
import dev.pipemoe.deploy.Dashboards.Query;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * What can be checked of the dashboards without Grafana: valid dashboard JSON laid out on the
 * grid, data sources by the uids the provisioning defines, variables that exist, the panels the
 * issue asks for, and only metric names the docs list. {@link DashboardQueriesTest} runs every
 * query against the real service, worker, Prometheus and PostgreSQL.
 */
class DashboardsTest {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final Pattern METRIC = Pattern.compile("\\bpipemoe_[a-z0-9_]+");
  static final Pattern VARIABLE = Pattern.compile("\\$\\{?([A-Za-z_][A-Za-z0-9_]*)");

  @Test
  void theOverviewAndTheJobViewAreThere() {
    assertThat(Dashboards.all()).extracting(Dashboard::file)
        .containsExactly("pipemoe-job.json", "pipemoe-overview.json");
  }

  @Test
  void eachIsADashboardWithAUidOfItsFileAndPanelsOnTheGrid() {
    Set<String> uids = new HashSet<>();
    for (Dashboard d : Dashboards.all()) {
      JsonNode json = d.json();
      assertThat(text(json.path("uid"))).isEqualTo(d.file().replace(".json", ""));
      assertThat(uids.add(text(json.path("uid")))).isTrue();
      assertThat(text(json.path("title"))).as(d.file()).startsWith("pipemoe: ");
      assertThat(json.path("schemaVersion").asInt()).as(d.file()).isGreaterThanOrEqualTo(36);
      assertThat(json.has("id")).as("%s: an id would bind it to one Grafana database", d.file()).isFalse();

      List<int[]> boxes = new ArrayList<>();
      Set<Integer> ids = new HashSet<>();
      for (JsonNode p : Dashboards.panels(json)) {
        String what = d.file() + " panel '" + text(p.path("title")) + "'";
        assertThat(ids.add(p.path("id").asInt())).as("%s: unique id", what).isTrue();
        assertThat(text(p.path("type"))).as(what)
            .isIn("row", "stat", "timeseries", "table", "trend", "bargauge", "text");
        JsonNode g = p.path("gridPos");
        int[] box = {g.path("x").asInt(), g.path("y").asInt(), g.path("w").asInt(), g.path("h").asInt()};
        assertThat(box[2]).as("%s width", what).isPositive();
        assertThat(box[3]).as("%s height", what).isPositive();
        assertThat(box[0] + box[2]).as("%s fits the 24 columns", what).isLessThanOrEqualTo(24);
        for (int[] other : boxes) {
          boolean apart = box[0] + box[2] <= other[0] || other[0] + other[2] <= box[0]
              || box[1] + box[3] <= other[1] || other[1] + other[3] <= box[1];
          assertThat(apart).as("%s overlaps another panel", what).isTrue();
        }
        boxes.add(box);
        if (!"row".equals(text(p.path("type")))) {
          assertThat(text(p.path("description"))).as("%s says what it shows", what).isNotBlank();
          assertThat(p.path("targets").size()).as("%s has queries", what).isPositive();
        }
      }
    }
  }

  @Test
  void everyQueryUsesAProvisionedDataSourceAndOnlyVariablesThatExist() {
    List<Query> queries = Dashboards.queries();
    assertThat(queries).hasSizeGreaterThan(20);
    for (Query q : queries) {
      assertThat(q.datasource()).as("%s: data source uid", q).isIn(Dashboards.PROMETHEUS, Dashboards.POSTGRES);
      assertThat(q.text()).as("%s: query text", q).isNotBlank();
    }
    for (Dashboard d : Dashboards.all()) {
      Set<String> defined = new HashSet<>();
      for (JsonNode v : d.json().path("templating").path("list")) {
        defined.add(text(v.path("name")));
      }
      for (JsonNode p : Dashboards.panels(d.json())) {
        String ds = text(p.path("datasource").path("type"));
        if (!"row".equals(text(p.path("type")))) {
          assertThat(ds).as("%s panel '%s'", d.file(), text(p.path("title")))
              .isIn("prometheus", "grafana-postgresql-datasource");
        }
      }
      for (Query q : queries) {
        if (q.dashboard().equals(d.file())) {
          Matcher m = VARIABLE.matcher(q.text());
          while (m.find()) {
            assertThat(m.group(1)).as("%s: variable", q).matches(name -> name.startsWith("__") || defined.contains(name),
                "a Grafana macro or a variable of this dashboard " + defined);
          }
        }
      }
    }
  }

  @Test
  void theyShowWhatTheIssueAsksFor() {
    String overview = queriesOf("pipemoe-overview.json");
    // jobs by state, queue wait, workers, ingest rate, submit latency, submissions; history from SQL
    assertThat(overview).contains("pipemoe_jobs", "pipemoe_queue_wait_seconds_bucket", "pipemoe_workers",
        "pipemoe_worker_devices", "pipemoe_metric_rows_ingested_total", "pipemoe_submit_to_lease_seconds_bucket",
        "pipemoe_job_submissions_total", "from jobs");
    String job = queriesOf("pipemoe-job.json");
    // TFLOPs over steps and the step-time breakdown from step_metrics, live figures, the variants
    assertThat(job).contains("step_metrics", "tflops_per_device", "compute_busy_seconds", "ep_busy_seconds",
        "tp_busy_seconds", "exposed_comm_seconds", "pipemoe_job_flops_per_second_per_device{job_id=\"$job\"}",
        "pipemoe_job_step_seconds{job_id=\"$job\"}", "{pipeExperts,multiStream}", "{pipeExperts,multiData}",
        "'{training,warmupSteps}'");
    // the stacked time split per step (history) and live
    assertThat(job).contains("split_attention_seconds", "split_moe_compute_seconds", "split_exposed_comm_seconds",
        "split_dp_reduction_seconds", "split_optimizer_seconds", "split_other_seconds", "split_idle_seconds",
        "pipemoe_job_step_split_seconds{job_id=\"$job\"}");
  }

  /** A misspelt name would show an empty panel; the docs' tables list every name we export. */
  @Test
  void everyMetricNamedIsOneTheDocsList() throws IOException {
    Set<String> documented = new TreeSet<>();
    for (String doc : List.of("docs/service.md", "docs/worker.md")) {
      Matcher m = METRIC.matcher(Files.readString(ROOT.resolve(doc)));
      while (m.find()) {
        documented.add(m.group());
      }
    }
    Set<String> named = new TreeSet<>();
    for (Query q : Dashboards.queries()) {
      if (q.promql()) {
        Matcher m = METRIC.matcher(q.text());
        while (m.find()) {
          named.add(m.group().replaceFirst("_(bucket|count|sum|max)$", ""));
        }
      }
    }
    assertThat(named).hasSizeGreaterThan(15);
    assertThat(documented).containsAll(named);
  }

  private static String queriesOf(String file) {
    return String.join("\n", Dashboards.queries().stream().filter(q -> q.dashboard().equals(file))
        .map(Query::text).toList());
  }
}
