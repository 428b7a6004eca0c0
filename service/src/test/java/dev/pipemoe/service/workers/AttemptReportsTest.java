package dev.pipemoe.service.workers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.protocol.Assignment;
import dev.pipemoe.engine.protocol.AttemptStatus;
import dev.pipemoe.engine.protocol.Heartbeat;
import dev.pipemoe.service.Http;
import dev.pipemoe.service.SchedulerTest;
import dev.pipemoe.service.TestWorker;
import dev.pipemoe.service.security.Role;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Status reports: repeats, strangers, failures that retry and those that do not, and cancel through heartbeats. */
class AttemptReportsTest extends SchedulerTest {

  @Test
  void repeatedReportsAreAnsweredAgainWithoutASecondEvent() {
    String user = token(uniqueOwner("repeat"), Role.USER);
    String id = submitId(user, smallJob("repeated", 1, 5));
    TestWorker worker = worker("cpu", 1);
    Assignment a = worker.leaseOne();

    worker.started(a.ref());
    worker.started(a.ref());
    worker.succeeded(a.ref(), 5);
    Http.Response again = worker.status(a.ref(), new AttemptStatus(AttemptStatus.State.SUCCEEDED, null, null, null));

    assertThat(again.status()).isEqualTo(200);
    assertThat(again.json().get("state").stringValue()).isEqualTo("SUCCEEDED");
    assertThat(again.json().get("jobState").stringValue()).isEqualTo("SUCCEEDED");
    assertThat(reasons(user, id)).containsExactly("SUBMITTED", "LEASED", "STARTED", "SUCCEEDED");
    Http.Response contradicting = worker.status(a.ref(), new AttemptStatus(AttemptStatus.State.FAILED,
        "ENGINE_ERROR", "too late", null));
    assertThat(contradicting.status()).isEqualTo(409);
  }

  @Test
  void anotherWorkersReportIs409AndChangesNothing() {
    String user = token(uniqueOwner("stranger"), Role.USER);
    String id = submitId(user, smallJob("held", 1, 5));
    String fleet = token(uniqueOwner("fleet"), Role.WORKER);
    TestWorker holder = new TestWorker(http, fleet, uniqueOwner("node"), "cpu", 1).register();
    TestWorker stranger = new TestWorker(http, fleet, uniqueOwner("node"), "cpu", 1).register();
    Assignment a = holder.leaseOne();

    Http.Response r = stranger.status(a.ref(), new AttemptStatus(AttemptStatus.State.SUCCEEDED, null, null, null));

    assertThat(r.status()).isEqualTo(409);
    assertThat(r.json().get("type").stringValue()).isEqualTo("https://pipemoe.dev/problems/attempt-not-held");
    assertThat(state(user, id)).isEqualTo("RUNNING");
  }

  @Test
  void anEngineErrorFailsTheJobWithoutRetry() {
    String user = token(uniqueOwner("final"), Role.USER);
    String id = submitId(user, smallJob("broken", 1, 5));
    TestWorker worker = worker("cpu", 1);
    Assignment a = worker.leaseOne();

    Http.Response r = worker.status(a.ref(), new AttemptStatus(AttemptStatus.State.FAILED, "ENGINE_ERROR",
        "NaN in the router", null));

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("jobState").stringValue()).isEqualTo("FAILED");
    var last = lastEvent(user, id);
    assertThat(last.get("reason").stringValue()).isEqualTo("FAILED");
    assertThat(last.get("message").stringValue()).contains("ENGINE_ERROR: NaN in the router").contains(worker.name());
    assertThat(worker.lease(java.time.Duration.ZERO)).isEmpty();
  }

  @Test
  void aDeviceErrorIsRetriedAsTheNextAttempt() {
    String user = token(uniqueOwner("retry"), Role.USER);
    String id = submitId(user, smallJob("flaky", 1, 5));
    TestWorker worker = worker("cpu", 1);
    Assignment first = worker.leaseOne();

    worker.status(first.ref(), new AttemptStatus(AttemptStatus.State.FAILED, "DEVICE_ERROR", "link down", null));

    assertThat(lastEvent(user, id).get("reason").stringValue()).isEqualTo("RETRY");
    assertThat(state(user, id)).isEqualTo("QUEUED");
    Assignment second = worker.leaseOne();
    assertThat(second.jobId()).isEqualTo(id);
    assertThat(second.attempt()).isEqualTo(2);
  }

  @Test
  void aFailureNeedsAReasonCode() {
    String user = token(uniqueOwner("reason"), Role.USER);
    submitId(user, smallJob("vague", 1, 5));
    TestWorker worker = worker("cpu", 1);
    Assignment a = worker.leaseOne();

    Http.Response none = worker.status(a.ref(), new AttemptStatus(AttemptStatus.State.FAILED, null, "?", null));
    Http.Response prose = worker.status(a.ref(), new AttemptStatus(AttemptStatus.State.FAILED, "it broke", "?", null));

    assertThat(none.status()).isEqualTo(400);
    assertThat(prose.status()).isEqualTo(400);
    assertThat(prose.json().at("/errors/0/pointer").stringValue()).isEqualTo("/reason");
  }

  @Test
  void aCancelReachesTheWorkerThroughItsHeartbeat() {
    String user = token(uniqueOwner("cancel"), Role.USER);
    String id = submitId(user, smallJob("stopped", 2, 50));
    TestWorker worker = worker("cpu", 2);
    Assignment a = worker.leaseOne();
    worker.started(a.ref());
    assertThat(worker.heartbeat(List.of(a.ref()), 0).cancel()).isEmpty();

    Http.Response cancel = http.post("/api/v1/jobs/" + id + "/cancel").token(user).send();
    Heartbeat.Response beat = worker.heartbeat(List.of(a.ref()), 0);
    Http.Response confirmed = worker.status(a.ref(), new AttemptStatus(AttemptStatus.State.CANCELLED,
        "CANCEL_REQUESTED", "stopped after step 3", null));

    assertThat(cancel.json().get("state").stringValue()).isEqualTo("CANCELLING");
    assertThat(beat.cancel()).containsExactly(a.ref());
    assertThat(beat.lost()).isEmpty();
    assertThat(confirmed.status()).isEqualTo(200);
    assertThat(state(user, id)).isEqualTo("CANCELLED");
    assertThat(reasons(user, id)).containsExactly("SUBMITTED", "LEASED", "STARTED", "CANCEL_REQUESTED", "CANCELLED");
    assertThat(worker.heartbeat(List.of(a.ref()), 2).lost()).containsExactly(a.ref());
    assertThat(worker.lease(java.time.Duration.ZERO)).as("a cancelled job is never retried").isEmpty();
  }

  @Test
  void aRunThatFinishesBeforeItSeesTheCancelSucceeds() {
    String user = token(uniqueOwner("race"), Role.USER);
    String id = submitId(user, smallJob("quick", 1, 5));
    TestWorker worker = worker("cpu", 1);
    Assignment a = worker.leaseOne();
    http.post("/api/v1/jobs/" + id + "/cancel").token(user).send();

    worker.succeeded(a.ref(), 5);

    assertThat(state(user, id)).isEqualTo("SUCCEEDED");
    assertThat(lastEvent(user, id).get("message").stringValue()).contains("before it saw the cancel");
  }
}
