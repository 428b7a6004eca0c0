package dev.pipemoe.service.workers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.protocol.Assignment;
import dev.pipemoe.engine.protocol.AttemptStatus;
import dev.pipemoe.service.Http;
import dev.pipemoe.service.SchedulerTest;
import dev.pipemoe.service.TestWorker;
import dev.pipemoe.service.security.Role;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Workers that go away: a lease that no heartbeat renews is lost and its job retried elsewhere, with
 * both attempts' metrics kept apart; a restarted worker loses its attempts at once; the last
 * attempt lost fails the job; a cancelling job whose attempt is lost is cancelled, not retried.
 */
class LeaseExpiryTest extends SchedulerTest {

  @Test
  void aSilentWorkersJobIsRetriedOnAnotherWorkerAndBothAttemptsMetricsStayApart() {
    String user = token(uniqueOwner("expiry"), Role.USER);
    String id = submitId(user, smallJob("survivor", 2, 6));
    TestWorker silent = worker("cpu", 2);
    TestWorker healthy = worker("cpu", 2);
    Assignment first = silent.leaseOne();
    silent.started(first.ref());
    silent.metrics(first.ref(), TestWorker.records(1, 0, 3, 2));

    double lost = counter("pipemoe.attempts.ended", "state", "LOST");
    clock.advance(Duration.ofSeconds(31)); // the silent worker sends no heartbeat
    await("the attempt to be lost", Duration.ofSeconds(10), () -> state(user, id), "QUEUED"::equals);

    assertThat(counter("pipemoe.attempts.ended", "state", "LOST")).isEqualTo(lost + 1);
    JsonNode lostEvent = lastEvent(user, id);
    assertThat(lostEvent.get("reason").stringValue()).isEqualTo("ATTEMPT_LOST");
    assertThat(lostEvent.get("message").stringValue()).contains("LEASE_EXPIRED").contains(silent.name())
        .contains("attempt 2 of 3");
    Assignment second = healthy.leaseOne();
    assertThat(second.jobId()).isEqualTo(id);
    assertThat(second.attempt()).isEqualTo(2);
    healthy.started(second.ref());
    healthy.metrics(second.ref(), TestWorker.records(2, 0, 6, 2));
    healthy.succeeded(second.ref(), 6);

    // the silent worker comes back: its late metrics are kept (under attempt 1), its reports are
    // refused, and it is told to stop
    assertThat(silent.metricsRaw(first.ref(), TestWorker.records(1, 3, 6, 2)).status()).isEqualTo(200);
    assertThat(silent.status(first.ref(), new AttemptStatus(AttemptStatus.State.SUCCEEDED, null, null, null))
        .status()).isEqualTo(409);
    assertThat(silent.heartbeat(List.of(first.ref()), 0).lost()).containsExactly(first.ref());

    assertThat(state(user, id)).isEqualTo("SUCCEEDED");
    JsonNode all = http.get("/api/v1/jobs/" + id + "/metrics?attempt=all").token(user).send().json();
    assertThat(all.get("attempts").valueStream().map(JsonNode::intValue)).containsExactly(1, 2);
    assertThat(all.get("steps")).hasSize(6 + 6);
    assertThat(all.get("steps").valueStream().filter(s -> s.get("attempt").intValue() == 1)).hasSize(6)
        .allSatisfy(s -> assertThat(s.get("tflopsPerDevice").doubleValue()).isEqualTo(100.5));
    assertThat(all.get("steps").valueStream().filter(s -> s.get("attempt").intValue() == 2)).hasSize(6)
        .allSatisfy(s -> assertThat(s.get("tflopsPerDevice").doubleValue()).isEqualTo(200.5));
    JsonNode latest = http.get("/api/v1/jobs/" + id + "/metrics").token(user).send().json();
    assertThat(latest.get("attempts").valueStream().map(JsonNode::intValue)).containsExactly(2);
    assertThat(latest.get("steps")).hasSize(6);
  }

  @Test
  void aRestartedWorkerLosesItsAttemptsAtOnce() {
    String user = token(uniqueOwner("restart"), Role.USER);
    String id = submitId(user, smallJob("rebooted", 1, 5));
    TestWorker worker = worker("cpu", 1);
    Assignment first = worker.leaseOne();

    worker.restart();

    assertThat(state(user, id)).isEqualTo("QUEUED");
    assertThat(lastEvent(user, id).get("message").stringValue()).contains("WORKER_RESTARTED");
    Assignment second = worker.leaseOne();
    assertThat(second.attempt()).isEqualTo(2);
    assertThat(worker.heartbeat(List.of(first.ref(), second.ref()), 0).lost()).containsExactly(first.ref());
  }

  @Test
  void theLastAttemptLostFailsTheJob() {
    String user = token(uniqueOwner("exhaust"), Role.USER);
    String id = submitId(user, smallJob("doomed", 1, 5));
    TestWorker worker = worker("cpu", 1);
    for (int attempt = 1; attempt <= 3; attempt++) {
      assertThat(worker.leaseOne().attempt()).isEqualTo(attempt);
      worker.restart();
    }

    JsonNode job = job(user, id);
    assertThat(job.get("state").stringValue()).isEqualTo("FAILED");
    assertThat(job.get("attempt").intValue()).isEqualTo(3);
    JsonNode last = lastEvent(user, id);
    assertThat(last.get("reason").stringValue()).isEqualTo("ATTEMPTS_EXHAUSTED");
    assertThat(last.get("message").stringValue()).contains("attempt 3 of 3").contains("no attempts left");
    assertThat(worker.lease(Duration.ZERO)).isEmpty();
  }

  @Test
  void aCancellingJobWhoseAttemptIsLostIsCancelledNotRetried() {
    String user = token(uniqueOwner("cancel-lost"), Role.USER);
    String id = submitId(user, smallJob("abandoned", 1, 5));
    TestWorker worker = worker("cpu", 1);
    worker.leaseOne();
    Http.Response cancel = http.post("/api/v1/jobs/" + id + "/cancel").token(user).send();
    assertThat(cancel.json().get("state").stringValue()).isEqualTo("CANCELLING");

    clock.advance(Duration.ofSeconds(31));
    await("the lost attempt to end the job", Duration.ofSeconds(10), () -> state(user, id), "CANCELLED"::equals);

    assertThat(lastEvent(user, id).get("reason").stringValue()).isEqualTo("CANCELLED");
    assertThat(lastEvent(user, id).get("message").stringValue()).contains("while cancelling; not retried");
    assertThat(worker.lease(Duration.ZERO)).isEmpty();
  }
}
