package dev.pipemoe.service.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.assertj.core.api.Assertions.within;

import dev.pipemoe.engine.protocol.Assignment;
import dev.pipemoe.service.Http;
import dev.pipemoe.service.SchedulerTest;
import dev.pipemoe.service.TestWorker;
import dev.pipemoe.service.security.Role;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * /actuator/prometheus: the exposition parses (promtool), the series the issue asks for are there,
 * running jobs' series appear while they run and go when they end, and a METRICS token may scrape.
 */
class PrometheusTest extends SchedulerTest {

  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})? (\\S+)$");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  @Test
  void theExpositionParsesWithPromtool() throws Exception {
    runAJob(); // so that histograms and running-job series have samples
    String scrape = scrape(ADMIN_TOKEN);
    Process promtool;
    try {
      promtool = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
    } catch (IOException e) {
      if (System.getenv("CI") != null) {
        fail("CI must have promtool (Debian package prometheus, installed by .ci/run): " + e.getMessage());
      }
      Assumptions.abort("promtool is not installed (apt-get install --no-install-recommends prometheus); skipped");
      return;
    }
    try (OutputStream in = promtool.getOutputStream()) {
      in.write(scrape.getBytes(StandardCharsets.UTF_8));
    }
    String output = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int exit = promtool.waitFor();

    // 0: clean; 3: lint findings only (Boot's own jvm_* names have some); 1: the text does not parse
    assertThat(exit).as("promtool check metrics said:%n%s", output).isIn(0, 3);
    assertThat(output).as("no finding about our own metrics").doesNotContain("pipemoe_");
  }

  @Test
  void theIssuesSeriesAreExportedAndRunningJobSeriesEndWithTheJob() {
    double accepted = counter("pipemoe.job.submissions", "outcome", "ACCEPTED");
    String user = token(uniqueOwner("scraped"), Role.USER);
    String id = submitId(user, smallJob("scraped", 2, 10));
    TestWorker worker = worker(2);
    Assignment a = worker.leaseOne();
    worker.started(a.ref());
    worker.metrics(a.ref(), TestWorker.records(1, 0, 4, 2));
    Map<String, String> job = Map.of("job_id", id, "job_name", "scraped", "schedule", "serial", "device_type", "cpu");

    await("the running job's series", WAIT, () -> value(scrape(ADMIN_TOKEN),
        "pipemoe_job_flops_per_second_per_device", job), Optional::isPresent);
    String running = scrape(ADMIN_TOKEN);
    assertThat(value(running, "pipemoe_job_flops_per_second_per_device", job)).contains(100.5e12);
    assertThat(value(running, "pipemoe_job_step_seconds", job).orElseThrow()).isCloseTo(0.113, within(1e-9));
    // step 3's split, mean over ranks 0 and 1: exposed 0.035 + 0.009 x 0.5 + 0.001 x 3
    Map<String, String> exposed = new java.util.HashMap<>(job);
    exposed.put("part", "exposed_comm");
    assertThat(value(running, "pipemoe_job_step_split_seconds", exposed).orElseThrow())
        .isCloseTo(0.0425, within(1e-9));
    assertThat(splitSeries(running, id)).as("one series per part").isEqualTo(7);
    assertThat(value(running, "pipemoe_jobs", Map.of("state", "RUNNING", "device_type", "cpu"))).contains(1.0);
    assertThat(value(running, "pipemoe_jobs", Map.of("state", "QUEUED", "device_type", "h100"))).contains(0.0);
    assertThat(value(running, "pipemoe_workers", Map.of("state", "ONLINE", "device_type", "cpu")).orElseThrow())
        .isGreaterThanOrEqualTo(1);
    assertThat(value(running, "pipemoe_worker_devices", Map.of("state", "busy", "device_type", "cpu"))).contains(2.0);
    assertThat(value(running, "pipemoe_job_submissions_total", Map.of("outcome", "ACCEPTED")).orElseThrow())
        .isEqualTo(accepted + 1);
    assertThat(value(running, "pipemoe_metric_rows_ingested_total", Map.of("result", "stored")).orElseThrow())
        .isGreaterThanOrEqualTo(8);
    assertThat(value(running, "pipemoe_queue_wait_seconds_count", Map.of("device_type", "cpu")).orElseThrow())
        .isGreaterThanOrEqualTo(1);
    assertThat(value(running, "pipemoe_submit_to_lease_seconds_bucket", Map.of("device_type", "cpu", "le", "60.0")))
        .isPresent();
    assertThat(value(running, "pipemoe_metric_ingest_seconds_count", Map.of())).isPresent();
    assertThat(value(running, "pipemoe_lease_sweeps_total", Map.of("outcome", "ok")).orElseThrow()).isPositive();

    worker.succeeded(a.ref(), 10);

    await("the ended job's series to go", WAIT, () -> value(scrape(ADMIN_TOKEN),
        "pipemoe_job_flops_per_second_per_device", job), Optional::isEmpty);
    String ended = scrape(ADMIN_TOKEN);
    assertThat(value(ended, "pipemoe_job_step_seconds", job)).isEmpty();
    assertThat(splitSeries(ended, id)).isZero();
    assertThat(value(ended, "pipemoe_jobs_finished_total", Map.of("state", "SUCCEEDED", "device_type", "cpu"))
        .orElseThrow()).isPositive();
    assertThat(value(ended, "pipemoe_attempts_ended_total", Map.of("state", "SUCCEEDED", "device_type", "cpu"))
        .orElseThrow()).isPositive();
  }

  @Test
  void runningJobSeriesAreCappedAndTheRestCounted() {
    String user = token(uniqueOwner("many"), Role.USER);
    TestWorker worker = worker(8);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      ids.add(submitId(user, smallJob("many-" + i, 1, 10)));
      Assignment a = worker.leaseOne();
      worker.metrics(a.ref(), TestWorker.records(1, 0, 1, 1));
    }

    await("three series and two omitted", WAIT, () -> {
      String s = scrape(ADMIN_TOKEN);
      return List.of(series(s, "pipemoe_job_step_seconds"), value(s, "pipemoe_job_series_omitted", Map.of()));
    }, seen -> seen.equals(List.of(3L, Optional.of(2.0))));
    String s = scrape(ADMIN_TOKEN);
    for (String id : ids.subList(2, 5)) { // the most recently started
      assertThat(s).contains("job_id=\"" + id + "\"");
    }
  }

  @Test
  void aMetricsTokenMayScrapeAndNothingElse() {
    String scraper = token(uniqueOwner("prometheus"), Role.METRICS);

    assertThat(http.get("/actuator/prometheus").token(scraper).send().status()).isEqualTo(200);
    assertThat(http.get("/actuator/health").token(scraper).send().status()).isEqualTo(200);
    assertThat(http.get("/api/v1/jobs").token(scraper).send().status()).isEqualTo(403);
    assertThat(http.get("/api/v1/workers").token(scraper).send().status()).isEqualTo(403);
    assertThat(http.get("/actuator").token(scraper).send().status()).isEqualTo(403);
  }

  private void runAJob() {
    String user = token(uniqueOwner("linted"), Role.USER);
    submitId(user, smallJob("linted", 1, 3));
    TestWorker worker = worker(1);
    Assignment a = worker.leaseOne();
    worker.metrics(a.ref(), TestWorker.records(1, 0, 3, 1));
    await("a running-job series", WAIT, () -> series(scrape(ADMIN_TOKEN), "pipemoe_job_step_seconds"), n -> n > 0);
  }

  private String scrape(String token) {
    Http.Response r = http.get("/actuator/prometheus").token(token).send();
    assertThat(r.status()).isEqualTo(200);
    return r.body();
  }

  /** The value of the sample {@code name} whose labels include {@code labels}; empty if there is none. */
  static Optional<Double> value(String scrape, String name, Map<String, String> labels) {
    for (String line : scrape.split("\n")) {
      Matcher m = SAMPLE.matcher(line);
      if (m.matches() && m.group(1).equals(name) && labels(m.group(2)).entrySet().containsAll(labels.entrySet())) {
        return Optional.of(Double.parseDouble(m.group(3)));
      }
    }
    return Optional.empty();
  }

  private static long splitSeries(String scrape, String jobId) {
    return scrape.lines().filter(l -> l.startsWith("pipemoe_job_step_split_seconds{")
        && l.contains("job_id=\"" + jobId + "\"")).count();
  }

  private static long series(String scrape, String name) {
    return scrape.lines().filter(l -> l.startsWith(name + "{")).count();
  }

  private static Map<String, String> labels(String text) {
    Map<String, String> labels = new HashMap<>();
    if (text != null) {
      Matcher m = LABEL.matcher(text);
      while (m.find()) {
        labels.put(m.group(1), m.group(2));
      }
    }
    return labels;
  }
}
