package dev.pipemoe.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The service is killed mid-job and stays down for a minute, twelve times its lease timeout, then
 * starts again on the same database. The worker keeps running the job, spools its steps and holds
 * its final report; the restarted service gives it a lease timeout to check in before judging any
 * lease (docs/service.md, "Restarts"), so the job ends SUCCEEDED on its first attempt with every
 * step of every rank stored once. Without that grace period the first sweep after the start would
 * find the lease expired and run the job again.
 */
class ServiceRestartIT {
  static final Duration RUN = Duration.ofSeconds(240);
  static final Duration OUTAGE = Duration.ofSeconds(60);
  static final Duration LEASE = Duration.ofSeconds(5);
  static final String SPOOLED = "pipemoe_worker_metric_records_spooled_total";

  @RegisterExtension
  static final E2eSystem system = new E2eSystem(Map.of(
      "pipemoe.scheduler.heartbeat-interval", "1s",
      "pipemoe.scheduler.lease-timeout", LEASE.toSeconds() + "s",
      "pipemoe.scheduler.sweep-interval", "1s"));

  final Api api = system.api();

  @Test
  void aJobOnALiveWorkerSurvivesAMinuteWithoutTheServiceOnItsFirstAttempt() {
    WorkerProcess worker = system.worker("node-r");
    // about 45 s of steps after the kill: the job ends while the service is down (or soon after
    // it is back, on a slow machine); either way its lease expired long before the restart
    int steps = 650;
    String id = api.submit(JobSpecs.slow("e2e-restart", steps));
    api.awaitRecords(id, 1, 10 * JobSpecs.RANKS, RUN);

    system.service().kill();
    long down = System.nanoTime();
    double spooledAtKill = worker.metric(SPOOLED);
    String during = Await.until("an outage of " + OUTAGE.toSeconds() + " s", RUN,
        () -> "%.1f s down: %.0f records spooled since, attempts running %.0f".formatted(
            (System.nanoTime() - down) / 1e9, worker.metric(SPOOLED) - spooledAtKill,
            worker.metric("pipemoe_worker_attempts_running")),
        s -> System.nanoTime() - down >= OUTAGE.toNanos());
    assertThat(worker.metric(SPOOLED)).as("the worker kept running and spooling").isGreaterThan(spooledAtKill);
    Instant leaseEnd = ((Timestamp) system.db().rows(
        "SELECT lease_expires_at FROM attempts WHERE job_id = ? AND attempt = 1", UUID.fromString(id))
        .getFirst().getFirst()).toInstant();
    assertThat(leaseEnd).as("the lease expired during the outage")
        .isBefore(Instant.now().minus(OUTAGE.minus(LEASE.multipliedBy(3))));
    System.out.printf("[e2e] restart after %s: %s; the lease expired at %s%n", OUTAGE, during, leaseEnd);

    system.service().start();

    assertThat(api.awaitEnd(id, RUN)).isEqualTo("SUCCEEDED");
    assertThat(api.reasons(id)).as("one attempt: nothing was judged before the worker checked in")
        .containsExactly("SUBMITTED", "LEASED", "STARTED", "SUCCEEDED");
    Await.until("the worker's spool to be empty", RUN, worker::spoolEntries, List::isEmpty);
    List<Api.RankRow> rows = api.records(id, "all");
    assertThat(rows).hasSize(steps * JobSpecs.RANKS);
    assertThat(rows).allSatisfy(r -> assertThat(r.attempt()).isEqualTo(1));
    assertThat(system.db().rows("SELECT count(*), count(DISTINCT (attempt, step, rank)) FROM step_metrics"
        + " WHERE job_id = ?", UUID.fromString(id)).getFirst())
        .containsExactly((long) steps * JobSpecs.RANKS, (long) steps * JobSpecs.RANKS);
    assertThat(api.summary(id).path("stepsDone").asInt()).isEqualTo(steps);
  }
}
