package dev.pipemoe.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

/**
 * A job's way through the real product: the service jar on PostgreSQL and one worker jar on the
 * native runtime. A job runs to SUCCEEDED with every record stored once; an invalid job is refused
 * and never reaches the worker; a cancel stops a run within a few steps and the worker goes on to
 * the next job; the service process never loads the native runtime.
 */
class JobRunIT {
  static final Duration RUN = Duration.ofSeconds(120);
  static final String ASSIGNED = "pipemoe_worker_lease_polls_total{result=\"assigned\"}";

  @RegisterExtension
  static final E2eSystem system = new E2eSystem(Map.of(
      "pipemoe.scheduler.heartbeat-interval", "500ms",  // a cancel reaches the worker within 0.5 s
      "pipemoe.scheduler.poll-timeout", "5s"));

  static WorkerProcess worker;
  static Api api;

  @BeforeAll
  static void startWorker() {
    api = system.api();
    worker = system.worker("node-a");
  }

  @Test
  void aJobRunsToSucceededWithEveryStepOfEveryRankStoredOnce() {
    double succeeded = worker.metric("pipemoe_worker_attempts_total{result=\"succeeded\"}");
    double acked = worker.metric("pipemoe_worker_metric_records_acked_total");
    double spooled = worker.metric("pipemoe_worker_metric_records_spooled_total");
    double stepsRun = worker.metric("pipemoe_worker_steps_total");
    double assigned = worker.metric(ASSIGNED);
    int steps = 30;
    String id = api.submit(JobSpecs.quick("e2e-ok", steps));

    assertThat(api.awaitEnd(id, RUN)).isEqualTo("SUCCEEDED");

    // read at once: the worker reports SUCCEEDED only after the service acknowledged every record
    List<Api.RankRow> rows = api.records(id, "all");
    assertThat(rows).hasSize(steps * JobSpecs.RANKS);
    assertThat(rows.stream().map(Api.RankRow::key).distinct()).hasSize(steps * JobSpecs.RANKS);
    Set<String> expected = new HashSet<>();
    for (int s = 0; s < steps; s++) {
      for (int r = 0; r < JobSpecs.RANKS; r++) {
        expected.add("1/" + s + "/" + r);
      }
    }
    assertThat(rows.stream().map(Api.RankRow::key)).containsExactlyInAnyOrderElementsOf(expected);
    assertThat(rows).allSatisfy(r -> {
      assertThat(r.tflopsPerDevice()).as("TFLOP/s of %s", r.key()).isPositive();
      assertThat(r.stepSeconds()).as("step time of %s", r.key()).isPositive();
    });
    UUID job = UUID.fromString(id);
    assertThat(system.db().rows("SELECT count(*), count(DISTINCT (attempt, step, rank)), min(step), max(step),"
        + " count(DISTINCT rank) FROM step_metrics WHERE job_id = ?", job).getFirst())
        .containsExactly((long) steps * JobSpecs.RANKS, (long) steps * JobSpecs.RANKS, 0, steps - 1,
            (long) JobSpecs.RANKS);

    JsonNode summary = api.summary(id);
    assertThat(summary.path("state").asString()).isEqualTo("SUCCEEDED");
    assertThat(summary.path("stepsDone").asInt()).isEqualTo(steps);
    assertThat(summary.path("progress").asDouble()).isEqualTo(1.0);
    assertThat(summary.path("measuredSteps").asInt()).isEqualTo(steps - JobSpecs.WARMUP);
    assertThat(summary.path("tflopsPerDevice").asDouble()).isPositive();
    assertThat(summary.path("hardwareTflopsPerDevice").asDouble())
        .isGreaterThanOrEqualTo(summary.path("tflopsPerDevice").asDouble());
    assertThat(summary.path("tokensPerSecond").asDouble()).isPositive();
    JsonNode t = summary.path("stepSeconds");
    assertThat(t.path("mean").asDouble()).isPositive();
    assertThat(t.path("p50").asDouble()).isPositive().isLessThanOrEqualTo(t.path("p90").asDouble());
    assertThat(t.path("p90").asDouble()).isLessThanOrEqualTo(t.path("p99").asDouble());
    assertThat(summary.path("reported").path("stepsCompleted").asInt()).isEqualTo(steps);
    assertThat(summary.path("reported").path("tflopsPerDevice").asDouble()).isPositive();

    JsonNode stored = api.job(id);
    assertThat(stored.path("attempt").asInt()).isEqualTo(1);
    assertThat(stored.path("summary").path("stepsCompleted").asInt()).isEqualTo(steps);
    assertThat(stored.path("summary").path("measuredSteps").asInt()).isEqualTo(steps - JobSpecs.WARMUP);
    List<JsonNode> events = api.events(id);
    assertThat(events).extracting(e -> e.path("reason").asString())
        .containsExactly("SUBMITTED", "LEASED", "STARTED", "SUCCEEDED");
    assertThat(events.get(1).path("actor").asString()).isEqualTo("node-a");

    Await.until("the worker's spool to be empty", RUN, worker::spoolEntries, List::isEmpty);
    assertThat(worker.metric("pipemoe_worker_attempts_total{result=\"succeeded\"}")).isEqualTo(succeeded + 1);
    assertThat(worker.metric("pipemoe_worker_metric_records_spooled_total"))
        .isEqualTo(spooled + steps * JobSpecs.RANKS);
    assertThat(worker.metric("pipemoe_worker_metric_records_acked_total"))
        .isEqualTo(acked + steps * JobSpecs.RANKS);
    assertThat(worker.metric("pipemoe_worker_steps_total")).isEqualTo(stepsRun + steps);
    assertThat(worker.metric(ASSIGNED)).isEqualTo(assigned + 1);
    assertThat(worker.metric("pipemoe_worker_attempts_running")).isZero();
    assertThat(worker.metric("pipemoe_worker_spool_pending_records")).isZero();
    assertThat(worker.metric("pipemoe_worker_spool_size_bytes")).isZero();
    assertThat(worker.metric("pipemoe_worker_shipping_failures_total{kind=\"server\"}")).isZero();
    assertThat(worker.metric("pipemoe_worker_heartbeat_failures_total{kind=\"unreachable\"}")).isZero();
    System.out.printf("[e2e] job: %d records, summary %.3g TFLOP/s per device, step p50 %.1f ms, p99 %.1f ms%n",
        rows.size(), summary.path("tflopsPerDevice").asDouble(), 1000 * t.path("p50").asDouble(),
        1000 * t.path("p99").asDouble());
  }

  /** node-a in GET /api/v1/workers. */
  static JsonNode nodeA() {
    for (JsonNode w : api.workers().path("workers")) {
      if (w.path("name").asString().equals("node-a")) {
        return w;
      }
    }
    throw new IllegalStateException("node-a is not in GET /api/v1/workers");
  }

  @Test
  void theWorkerRegisteredWithWhatItIsAndIsReady() {
    JsonNode me = nodeA();
    assertThat(me.path("deviceType").asString()).isEqualTo("cpu");
    assertThat(me.path("devices").asInt()).isEqualTo(4);
    assertThat(me.path("fabrics").toString()).isEqualTo("[\"local\"]");
    assertThat(me.path("state").asString()).isEqualTo("ONLINE");
    assertThat((String) system.db().rows("SELECT boot_id FROM workers WHERE name = 'node-a'").getFirst().getFirst())
        .isNotBlank();
    Http.Response ready = worker.readiness();
    assertThat(ready.status()).isEqualTo(200);
    assertThat(ready.body()).contains(me.path("id").asString());
  }

  @Test
  void theServiceProcessLoadsNoNativeCodeAndTheWorkerDoes() {
    String id = api.submit(JobSpecs.quick("e2e-native", 3));
    assertThat(api.awaitEnd(id, RUN)).isEqualTo("SUCCEEDED");

    assertThat(system.service().process().maps("libpipemoe")).as("libpipemoe in the service's maps").isFalse();
    assertThat(worker.process().maps("libpipemoe")).as("libpipemoe in the worker's maps").isTrue();
  }

  @Test
  void anInvalidJobIsRefusedWithItsRulesAndNeverReachesAWorker() {
    double assigned = worker.metric(ASSIGNED);
    long attempts = system.db().count("SELECT count(*) FROM attempts");

    Http.Response refused = api.submitRaw("""
        {"name": "e2e-invalid",
         "model": {"moeModelType": "deepspeed_moe", "numExperts": 8},
         "parallel": {"expert": 4},
         "pipeExperts": {"enabled": true, "multiStream": true, "multiData": 600}}
        """);
    assertThat(refused.status()).as(refused.toString()).isEqualTo(422);
    JsonNode problem = refused.json();
    assertThat(problem.path("type").asString()).isEqualTo("https://pipemoe.dev/problems/invalid-job");
    assertThat(problem.path("errors").findValuesAsString("rule")).containsExactlyInAnyOrder("V2", "V7");
    assertThat(problem.path("errors").findValuesAsString("pointer"))
        .containsExactlyInAnyOrder("/pipeExperts/multiStream", "/pipeExperts/multiData");

    assertThat(api.get("/api/v1/jobs?namePrefix=e2e-invalid").path("jobs")).isEmpty();
    assertThat(system.db().count("SELECT count(*) FROM jobs WHERE name = 'e2e-invalid'")).isZero();

    // the worker polls on; the next job it is handed is the valid one submitted after
    String next = api.submit(JobSpecs.quick("e2e-after-invalid", 3));
    assertThat(api.awaitEnd(next, RUN)).isEqualTo("SUCCEEDED");
    assertThat(worker.process().logText()).contains("e2e-after-invalid").doesNotContain("e2e-invalid'");
    assertThat(worker.metric(ASSIGNED)).isEqualTo(assigned + 1);
    assertThat(system.db().count("SELECT count(*) FROM attempts")).isEqualTo(attempts + 1);
    assertThat(system.db().count("SELECT count(*) FROM attempts a JOIN jobs j ON j.id = a.job_id"
        + " WHERE j.name = 'e2e-invalid'")).isZero();
  }

  @Test
  void aCancelStopsTheRunWithinAFewStepsAndTheWorkerTakesTheNextJob() {
    double cancelled = worker.metric("pipemoe_worker_attempts_total{result=\"cancelled\"}");
    double stepsAtStart = worker.metric("pipemoe_worker_steps_total");
    int steps = 400;  // steps of ~140 ms: about a minute if nobody stopped it
    String id = api.submit(JobSpecs.job("e2e-cancel", steps, 600));
    api.awaitRecords(id, 1, 10 * JobSpecs.RANKS, RUN);
    // the worker's heartbeats list the attempt and no free device while it runs
    JsonNode busy = Await.until("node-a's heartbeat to show the attempt", RUN, () -> nodeA(),
        w -> w.path("reportedFreeDevices").asInt() == 0);
    assertThat(busy.path("attempts").findValuesAsString("jobId")).containsExactly(id);
    assertThat(busy.path("freeDevices").asInt()).as("the service's own count").isZero();
    int before = (int) (worker.metric("pipemoe_worker_steps_total") - stepsAtStart);  // run, not only stored

    assertThat(api.cancel(id).path("state").asString()).isEqualTo("CANCELLING");
    assertThat(api.awaitEnd(id, RUN)).isEqualTo("CANCELLED");

    int done = api.job(id).path("summary").path("stepsCompleted").asInt();
    // heartbeats every 0.5 s and steps of ~140 ms: about 4 steps run between the cancel and the
    // stop; 15 leaves room for a loaded machine, and is far from the job's 400
    assertThat(done).as("steps completed when it stopped (run at the cancel: %d)", before)
        .isGreaterThanOrEqualTo(before).isLessThanOrEqualTo(before + 15);
    List<Api.RankRow> rows = api.records(id, "all");
    assertThat(rows).as("whole steps, each stored once").hasSize(done * JobSpecs.RANKS);
    assertThat(rows.stream().map(Api.RankRow::key).distinct()).hasSize(done * JobSpecs.RANKS);
    assertThat(api.reasons(id)).containsExactly("SUBMITTED", "LEASED", "STARTED", "CANCEL_REQUESTED", "CANCELLED");
    assertThat(worker.metric("pipemoe_worker_attempts_total{result=\"cancelled\"}")).isEqualTo(cancelled + 1);

    System.out.printf("[e2e] cancel: %d steps run when cancelled, %d completed when it stopped%n", before, done);

    String next = api.submit(JobSpecs.quick("e2e-after-cancel", 3));
    assertThat(api.awaitEnd(next, RUN)).isEqualTo("SUCCEEDED");
    assertThat(api.events(next).get(1).path("actor").asString()).isEqualTo("node-a");
  }
}
