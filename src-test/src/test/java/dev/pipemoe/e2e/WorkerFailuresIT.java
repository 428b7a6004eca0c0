package dev.pipemoe.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

/**
 * Workers that die, stop, freeze or are forgotten, against the real service: a job survives each
 * with its metrics intact. Leases here expire after 4 s (heartbeats every 0.5 s), so a dead
 * worker's attempt is lost and retried within seconds.
 *
 * <p>Nothing here depends on how fast this machine runs a step: the test waits on conditions, and
 * jobs are long enough (hundreds of steps) that a machine several times faster cannot finish one
 * before the test has hurt its worker. Jobs the test does not need to finish are cancelled.
 */
class WorkerFailuresIT {
  static final Duration RUN = Duration.ofSeconds(120);
  /** An idle worker's lease poll: long against a worker's stop, so the leave test tells the two apart. */
  static final Duration POLL = Duration.ofSeconds(20);

  @RegisterExtension
  static final E2eSystem system = new E2eSystem(Map.of(
      "pipemoe.scheduler.heartbeat-interval", "500ms",
      "pipemoe.scheduler.lease-timeout", "4s",
      "pipemoe.scheduler.sweep-interval", "500ms",
      "pipemoe.scheduler.poll-timeout", POLL.toSeconds() + "s"));

  final Api api = system.api();

  /** Two idle workers; whichever leases the job is the one the test hurts. */
  List<WorkerProcess> twoWorkers(String prefix) {
    WorkerProcess a = system.worker(prefix + "-1", system.workerToken(), Map.of());
    WorkerProcess b = system.worker(prefix + "-2", system.workerToken(), Map.of());
    return List.of(a.awaitReady(), b.awaitReady());
  }

  /** Submits a slow job and waits until it runs with 10 steps of every rank stored. */
  String runningJob(String name, int steps) {
    String id = api.submit(JobSpecs.slow(name, steps));
    api.awaitRecords(id, 1, 10 * JobSpecs.RANKS, RUN);
    return id;
  }

  WorkerProcess runner(String jobId, List<WorkerProcess> workers) {
    String name = api.workerRunning(jobId);
    return workers.stream().filter(w -> w.name().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no worker of " + workers + " runs " + jobId + " (" + name + ")"));
  }

  static Set<String> allKeys(int attempt, int steps) {
    Set<String> keys = new HashSet<>();
    for (int s = 0; s < steps; s++) {
      for (int r = 0; r < JobSpecs.RANKS; r++) {
        keys.add(attempt + "/" + s + "/" + r);
      }
    }
    return keys;
  }

  static Map<String, Api.RankRow> byKey(List<Api.RankRow> rows) {
    assertThat(rows.stream().map(Api.RankRow::key).distinct()).as("each record stored once").hasSize(rows.size());
    return rows.stream().collect(Collectors.toMap(Api.RankRow::key, Function.identity()));
  }

  @Test
  void aKilledWorkersJobIsRetriedOnTheOtherAndItsSpoolDrainsWhenItStartsAgain() {
    // records leave in batches of 40 (10 steps) only, so a kill finds some that never left
    Map<String, String> batches = Map.of("pipemoe.worker.batch-size", "40", "pipemoe.worker.flush-interval", "1h");
    WorkerProcess a = system.worker("node-k-1", system.workerToken(), batches);
    WorkerProcess b = system.worker("node-k-2", system.workerToken(), batches);
    List<WorkerProcess> workers = List.of(a.awaitReady(), b.awaitReady());
    int steps = 200;
    String id = runningJob("e2e-kill", steps);
    WorkerProcess victim = runner(id, workers);
    WorkerProcess other = workers.get(workers.get(0) == victim ? 1 : 0);
    Await.until("two steps in " + victim.name() + "'s spool that the service does not have", RUN,
        () -> victim.spoolFiles().stream().mapToInt(f -> WorkerProcess.spooledKeys(f).size()).sum()
            - api.recordCount(id, 1), n -> n >= 2 * JobSpecs.RANKS);

    victim.process().kill();  // SIGKILL: no report, no last batch, heartbeats just stop

    Await.until("attempt 1 lost (lease expired)", RUN, () -> api.reasons(id), r -> r.contains("ATTEMPT_LOST"));
    Map<String, Api.RankRow> firstAttempt = byKey(api.records(id, "1"));
    assertThat(api.awaitEnd(id, RUN)).isEqualTo("SUCCEEDED");

    List<JsonNode> events = api.events(id);
    assertThat(events).extracting(e -> e.path("reason").asString()).containsExactly(
        "SUBMITTED", "LEASED", "STARTED", "ATTEMPT_LOST", "LEASED", "STARTED", "SUCCEEDED");
    assertThat(events.get(3).path("message").asString()).contains("LEASE_EXPIRED");
    assertThat(events.get(4).path("actor").asString()).isEqualTo(other.name());
    assertThat(api.job(id).path("attempt").asInt()).isEqualTo(2);
    assertThat(byKey(api.records(id, "2")).keySet()).isEqualTo(allKeys(2, steps));
    assertThat(byKey(api.records(id, "1"))).as("the first attempt's records, untouched by the retry")
        .isEqualTo(firstAttempt);
    assertThat(api.summary(id).path("stepsDone").asInt()).isEqualTo(steps);
    System.out.printf("[e2e] kill: attempt 1 had %d records stored when it was lost%n", firstAttempt.size());

    // what the killed process appended but never shipped is still in its spool (page cache
    // survives SIGKILL); a new process of the same worker ships it
    List<Path> files = victim.spoolFiles();
    assertThat(files).as("the killed worker's spool").hasSize(1);
    Set<String> spooled = WorkerProcess.spooledKeys(files.getFirst());
    assertThat(spooled).containsAll(firstAttempt.keySet());
    assertThat(spooled.size()).as("records only the spool had").isGreaterThan(firstAttempt.size());
    victim.start().awaitReady();
    Await.until("the restarted worker's spool to drain", RUN, victim::spoolEntries, List::isEmpty);
    Map<String, Api.RankRow> drained = byKey(api.records(id, "1"));
    assertThat(drained.keySet()).isEqualTo(spooled);
    assertThat(drained).as("records stored before the kill keep their values").containsAllEntriesOf(firstAttempt);
    assertThat(system.db().rows("SELECT attempt, count(*), count(DISTINCT (step, rank)) FROM step_metrics"
        + " WHERE job_id = ? GROUP BY attempt ORDER BY attempt", UUID.fromString(id)))
        .containsExactly(List.of(1, (long) spooled.size(), (long) spooled.size()),
            List.of(2, (long) steps * JobSpecs.RANKS, (long) steps * JobSpecs.RANKS));
    assertThat(api.job(id).path("state").asString()).isEqualTo("SUCCEEDED");
    System.out.printf("[e2e] kill: %d records of attempt 1 were in the spool, %d stored after the restart%n",
        spooled.size(), drained.size());
  }

  @Test
  void aWorkerStoppedWithSigtermReportsShutdownAndTheJobIsRetriedWithItsStepsShipped() {
    List<WorkerProcess> workers = twoWorkers("node-t");
    int steps = 200;
    String id = runningJob("e2e-sigterm", steps);
    WorkerProcess victim = runner(id, workers);

    victim.stop();  // SIGTERM: stop between steps, ship, report FAILED/SHUTDOWN, exit

    String log = victim.process().logText();
    assertThat(log).contains("shutting down").contains("stopped; 0 metric records wait")
        .doesNotContain("restricted method").doesNotContain("WARNING:");
    assertThat(victim.spoolEntries()).as("nothing left to ship").isEmpty();
    List<List<Object>> attempt1 = system.db().rows("SELECT state, reason FROM attempts WHERE job_id = ? AND attempt = 1",
        UUID.fromString(id));
    assertThat(attempt1).containsExactly(List.of("FAILED", "SHUTDOWN"));
    Map<String, Api.RankRow> first = byKey(api.records(id, "1"));
    int ran = first.size() / JobSpecs.RANKS;
    assertThat(first.keySet()).as("whole steps 0..%d, every rank", ran - 1).isEqualTo(allKeys(1, ran));
    assertThat(ran).isBetween(10, steps - 1);

    assertThat(api.awaitEnd(id, RUN)).isEqualTo("SUCCEEDED");
    List<JsonNode> events = api.events(id);
    assertThat(events).extracting(e -> e.path("reason").asString()).containsExactly(
        "SUBMITTED", "LEASED", "STARTED", "RETRY", "LEASED", "STARTED", "SUCCEEDED");
    assertThat(events.get(3).path("message").asString()).contains("SHUTDOWN");
    assertThat(byKey(api.records(id, "2")).keySet()).isEqualTo(allKeys(2, steps));
    assertThat(byKey(api.records(id, "1"))).isEqualTo(first);
    System.out.printf("[e2e] sigterm: attempt 1 stopped after %d steps, all %d records shipped before the report%n",
        ran, first.size());
  }

  @Test
  void anIdleWorkerStoppedWithSigtermLeavesSoTheNextJobGoesToAWorkerThatIsThere() {
    WorkerProcess leaving = system.worker("node-l-1");
    String emptyPolls = "pipemoe_worker_lease_polls_total{result=\"empty\"}";
    double empty = leaving.metric(emptyPolls);
    Await.until("node-l-1 to begin a new lease poll", RUN, () -> leaving.metric(emptyPolls), n -> n > empty);
    long pollSeen = System.nanoTime();  // one observation (well under 3 s) after the poll began

    leaving.stop();  // early in that poll: without a leave, the service would lease the next job to it

    // however long the stop took, the answer must come before the poll's own timeout would end it
    Duration beforeTimeout = POLL.minusSeconds(3).minusNanos(System.nanoTime() - pollSeen);
    Await.until("the service to answer the stopped worker's poll, before the poll's own " + POLL.toSeconds() + " s",
        beforeTimeout, () -> api.activeRequests("POST"), n -> n == 0);
    String id = api.submit(JobSpecs.quick("e2e-after-leave", 3));
    WorkerProcess staying = system.worker("node-l-2");
    assertThat(api.awaitEnd(id, RUN)).isEqualTo("SUCCEEDED");
    List<JsonNode> events = api.events(id);
    assertThat(events).extracting(e -> e.path("reason").asString())
        .as("one attempt, not one lost to a worker that is gone")
        .containsExactly("SUBMITTED", "LEASED", "STARTED", "SUCCEEDED");
    assertThat(events.get(1).path("actor").asString()).isEqualTo(staying.name());
  }

  @Test
  void aWorkerFrozenPastItsLeaseHearsItIsLostStopsWithoutAReportAndTakesTheNextJob() {
    List<WorkerProcess> workers = twoWorkers("node-p");
    // the retry (~2 min here, cancelled once it made its point) keeps the other worker busy
    String id = runningJob("e2e-frozen", 2000);
    WorkerProcess victim = runner(id, workers);
    WorkerProcess other = workers.get(workers.get(0) == victim ? 1 : 0);

    victim.process().pause();  // SIGSTOP: a hung node, a long GC pause
    try {
      Await.until("attempt 1 lost and attempt 2 running on " + other.name(), RUN, () -> api.workerRunning(id),
          other.name()::equals);
    } finally {
      victim.process().resume();
    }
    Await.until(victim.name() + " to learn that its attempt is lost", RUN,
        () -> victim.metric("pipemoe_worker_attempts_total{result=\"lost\"}"), n -> n == 1.0);
    Await.until(victim.name() + " to be idle", RUN, () -> victim.metric("pipemoe_worker_attempts_running"),
        n -> n == 0.0);

    String next = api.submit(JobSpecs.quick("e2e-after-frozen", 3));
    assertThat(api.awaitEnd(next, RUN)).isEqualTo("SUCCEEDED");
    assertThat(api.events(next).get(1).path("actor").asString()).as("who leased the next job")
        .isEqualTo(victim.name());

    assertThat(system.db().rows("SELECT state, reason FROM attempts WHERE job_id = ? AND attempt = 1",
        UUID.fromString(id))).containsExactly(List.of("LOST", "LEASE_EXPIRED"));
    assertThat(api.events(id).stream().filter(e -> e.path("attempt").asInt() == 1)
        .map(e -> e.path("reason").asString())).as("attempt 1 said nothing after it was lost")
        .containsExactly("LEASED", "STARTED", "ATTEMPT_LOST");
    byKey(api.records(id, "1"));  // late records of the lost attempt are stored, each once

    api.cancel(id);  // the retry has made its point
    assertThat(api.awaitEnd(id, RUN)).isEqualTo("CANCELLED");
  }

  @Test
  void aWorkerTheServiceForgotRegistersAgainUnderTheSameBootIdAndRunsJobs() {
    WorkerProcess w = system.worker("node-f");
    List<Object> before = system.db().rows("SELECT id, boot_id FROM workers WHERE name = 'node-f'").getFirst();

    assertThat(system.db().update("DELETE FROM workers WHERE name = 'node-f'")).isEqualTo(1);

    List<Object> again = Await.until("node-f to register again", RUN,
        () -> system.db().rows("SELECT id, boot_id FROM workers WHERE name = 'node-f'"), r -> !r.isEmpty()).getFirst();
    assertThat(again.get(1)).as("the boot id: the same process").isEqualTo(before.get(1));
    assertThat(again.get(0)).as("a new worker row").isNotEqualTo(before.get(0));
    assertThat(w.process().logText()).contains("does not know worker " + before.get(0));
    Await.until("readiness to name the new worker id", RUN, () -> w.readiness().body(),
        b -> b.contains(again.get(0).toString()));

    String id = api.submit(JobSpecs.quick("e2e-after-forgotten", 3));
    assertThat(api.awaitEnd(id, RUN)).isEqualTo("SUCCEEDED");
    assertThat(api.events(id).get(1).path("actor").asString()).isEqualTo("node-f");
  }

  @Test
  void aWorkerWhoseTokenIsRefusedStaysAliveButNotReadyAndNeverRegisters() {
    JsonNode token = api.createTokenJson("fleet", "WORKER");
    api.revokeToken(token.path("id").asString());
    WorkerProcess w = system.worker("node-r", token.path("token").asString(), Map.of());

    Http.Response ready = Await.until("readiness to say the token is refused", RUN, () -> {
      try {
        return w.readiness();
      } catch (RuntimeException e) {
        return new Http.Response(0, e.toString());
      }
    }, r -> r.body().contains("PIPEMOE_WORKER_TOKEN"));
    assertThat(ready.status()).isEqualTo(503);
    assertThat(w.liveness().status()).isEqualTo(200);
    assertThat(w.metric("pipemoe_worker_heartbeat_failures_total{kind=\"unauthorized\"}")).isPositive();
    assertThat(w.process().logText()).doesNotContain(token.path("token").asString());
    assertThat(system.db().count("SELECT count(*) FROM workers WHERE name = 'node-r'")).isZero();
    assertThat(api.workers().path("workers").findValuesAsString("name")).doesNotContain("node-r");
  }
}
