package dev.pipemoe.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

/**
 * The service goes away mid-job for several seconds (stopped, or killed) and comes back on the same
 * port and database: the worker keeps running the job, spools what it cannot ship, and drains the
 * spool when the service is back; the job succeeds on its first attempt with every step of every
 * rank stored once. The lease (60 s here) outlasts the outage, so no retry is involved.
 */
class ServiceOutageIT {
  static final Duration RUN = Duration.ofSeconds(180);
  static final Duration OUTAGE = Duration.ofSeconds(5);
  static final String ACKED = "pipemoe_worker_metric_records_acked_total";
  static final String SPOOLED = "pipemoe_worker_metric_records_spooled_total";
  static final String UNREACHABLE = "pipemoe_worker_shipping_failures_total{kind=\"unreachable\"}";

  @RegisterExtension
  static final E2eSystem system = new E2eSystem(Map.of(
      "pipemoe.scheduler.heartbeat-interval", "500ms",
      "pipemoe.scheduler.lease-timeout", "60s",
      // longer than Boot's graceful shutdown (30 s): a stop must not wait for an idle worker's poll
      "pipemoe.scheduler.poll-timeout", "60s"));

  static WorkerProcess worker;
  final Api api = system.api();

  @BeforeAll
  static void startWorker() {
    // a short grace: a worker stopped while the service is down waits no longer for acknowledgements
    worker = system.worker("node-o", system.workerToken(), Map.of("pipemoe.worker.shutdown-grace", "3s"))
        .awaitReady();
  }

  @Test
  void aServiceStoppedMidJobAndStartedAgainLosesNoStep() {
    survivesAnOutage("e2e-stopped", () -> assertThat(system.service().stop()).as("exit code after SIGTERM")
        .isIn(0, 143));
  }

  @Test
  void aServiceKilledMidJobAndStartedAgainLosesNoStep() {
    survivesAnOutage("e2e-killed", () -> system.service().kill());
  }

  @Test
  void aServiceStoppedWhileAWorkerWaitsForWorkAnswersThePollAndShutsDownGracefully() {
    Await.until("node-o idle", RUN, () -> worker.metric("pipemoe_worker_attempts_running"), n -> n == 0.0);
    // node-o's only long request is its lease poll (heartbeats take milliseconds): seen twice, it waits
    Await.until("a lease poll held by the service", RUN,
        () -> api.activeRequests("POST") + " then " + sleepThen(() -> api.activeRequests("POST")),
        s -> s.equals("1 then 1"));
    double empty = worker.metric("pipemoe_worker_lease_polls_total{result=\"empty\"}");
    Proc stopped = system.service().process();

    system.service().stop();

    String log = stopped.logText();
    assertThat(log).contains("Graceful shutdown complete").doesNotContain("Graceful shutdown aborted");
    assertThat(worker.metric("pipemoe_worker_lease_polls_total{result=\"empty\"}"))
        .as("the waiting poll was answered (204), not cut off").isGreaterThan(empty);
    system.service().start();
  }

  private static <T> T sleepThen(Supplier<T> s) {
    try {
      Thread.sleep(300);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return s.get();
  }

  @Test
  void aWorkerRestartedDuringAnOutageKeepsItsRecordsShipsThemLaterAndItsJobIsRetried() {
    int steps = 60;
    String id = api.submit(JobSpecs.slow("e2e-restart-in-outage", steps));
    api.awaitRecords(id, 1, 10 * JobSpecs.RANKS, RUN);
    system.service().kill();
    Await.until("two steps spooled that the service does not have", RUN,
        () -> worker.metric("pipemoe_worker_spool_pending_records"), n -> n >= 2 * JobSpecs.RANKS);

    worker.stop();  // SIGTERM: nobody to report to, nobody to ship to

    List<Path> files = worker.spoolFiles();
    assertThat(files).hasSize(1);
    long waiting = WorkerProcess.unacknowledged(files.getFirst());
    assertThat(waiting).isPositive();
    assertThat(worker.process().logText()).contains("stopped; " + waiting + " metric records wait");
    Set<String> spooled = WorkerProcess.spooledKeys(files.getFirst());

    system.service().start();
    worker.start().awaitReady();  // a new process: a new boot id loses attempt 1 at once

    assertThat(api.awaitEnd(id, RUN)).isEqualTo("SUCCEEDED");
    List<JsonNode> events = api.events(id);
    assertThat(events).extracting(e -> e.path("reason").asString()).containsExactly(
        "SUBMITTED", "LEASED", "STARTED", "ATTEMPT_LOST", "LEASED", "STARTED", "SUCCEEDED");
    assertThat(events.get(3).path("message").asString()).contains("WORKER_RESTARTED");
    Await.until("the worker's spool to be empty", RUN, worker::spoolEntries, List::isEmpty);
    List<Api.RankRow> first = api.records(id, "1");
    assertThat(first.stream().map(Api.RankRow::key).toList()).as("attempt 1: what the spool held, each once")
        .containsExactlyInAnyOrderElementsOf(spooled);
    assertThat(api.records(id, "2")).hasSize(steps * JobSpecs.RANKS);
    System.out.printf("[e2e] worker restarted in an outage: %d records waited in its spool, attempt 1 has %d%n",
        waiting, first.size());
  }

  void survivesAnOutage(String name, Runnable takeDown) {
    int steps = 100;
    double spooledAtStart = worker.metric(SPOOLED);
    double ackedAtStart = worker.metric(ACKED);
    String id = api.submit(JobSpecs.slow(name, steps));
    api.awaitRecords(id, 1, 10 * JobSpecs.RANKS, RUN);
    int storedBefore = api.recordCount(id, 1);
    double failuresBefore = worker.metric(UNREACHABLE);

    takeDown.run();
    long down = System.nanoTime();
    double ackedAtStop = worker.metric(ACKED);
    double spooledAtStop = worker.metric(SPOOLED);
    String during = Await.until("an outage of " + OUTAGE.toSeconds() + " s with records piling up in the spool", RUN,
        () -> "%.1f s down: %.0f records spooled, %.0f acknowledged, %.0f pending, %.0f batches failed".formatted(
            (System.nanoTime() - down) / 1e9, worker.metric(SPOOLED) - spooledAtStop,
            worker.metric(ACKED) - ackedAtStop, worker.metric("pipemoe_worker_spool_pending_records"),
            worker.metric(UNREACHABLE) - failuresBefore),
        s -> System.nanoTime() - down >= OUTAGE.toNanos()
            && worker.metric("pipemoe_worker_spool_pending_records") >= 2 * JobSpecs.RANKS
            && worker.metric(UNREACHABLE) > failuresBefore);
    assertThat(worker.metric(ACKED)).as("acknowledged while the service was down").isEqualTo(ackedAtStop);
    assertThat(worker.metric(SPOOLED)).as("spooled while the service was down").isGreaterThan(spooledAtStop);
    assertThat(worker.spoolFiles()).as("the attempt's spool file").hasSize(1);
    System.out.printf("[e2e] outage (%s): %d records stored before it; during it: %s%n", name, storedBefore, during);

    system.service().start();

    assertThat(api.awaitEnd(id, RUN)).isEqualTo("SUCCEEDED");
    List<Api.RankRow> rows = api.records(id, "all");
    assertThat(rows).hasSize(steps * JobSpecs.RANKS);
    assertThat(rows.stream().map(Api.RankRow::key).distinct()).hasSize(steps * JobSpecs.RANKS);
    assertThat(rows).allSatisfy(r -> assertThat(r.attempt()).isEqualTo(1));
    assertThat(system.db().rows("SELECT count(*), count(DISTINCT (attempt, step, rank)) FROM step_metrics"
        + " WHERE job_id = ?", UUID.fromString(id)).getFirst())
        .containsExactly((long) steps * JobSpecs.RANKS, (long) steps * JobSpecs.RANKS);
    assertThat(api.reasons(id)).as("one attempt: the lease held through the outage")
        .containsExactly("SUBMITTED", "LEASED", "STARTED", "SUCCEEDED");
    assertThat(api.summary(id).path("stepsDone").asInt()).isEqualTo(steps);
    Await.until("the worker's spool to be empty", RUN, worker::spoolEntries, List::isEmpty);
    assertThat(worker.metric("pipemoe_worker_spool_pending_records")).isZero();
    assertThat(worker.metric(SPOOLED) - spooledAtStart).isEqualTo(steps * JobSpecs.RANKS);
    assertThat(worker.metric(ACKED) - ackedAtStart).as("everything spooled was acknowledged, once")
        .isEqualTo(steps * JobSpecs.RANKS);
  }
}
