package dev.pipemoe.service.workers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.service.Http;
import dev.pipemoe.service.SchedulerTest;
import dev.pipemoe.service.TestWorker;
import dev.pipemoe.service.security.Role;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A worker that stops says so: its waiting lease call answers at once and takes no job, so a job
 * submitted just after goes to a worker that is still there (not to a process that is gone, where
 * it would wait for the lease to expire and spend an attempt).
 */
class LeaveTest extends SchedulerTest {

  @Test
  void aLeavingWorkersWaitingPollAnswersEmptyAndTheNextJobGoesElsewhere() throws Exception {
    String user = token(uniqueOwner("leave"), Role.USER);
    TestWorker leaving = worker("cpu", 2);
    TestWorker staying = worker("cpu", 2);
    CompletableFuture<Http.Response> poll = CompletableFuture.supplyAsync(
        () -> leaving.leaseRaw("PT5S")); // the schema's poll timeout
    // whether the call is already waiting or still about to look, it must answer empty: the first
    // look sees the mark, and a waiting call is woken
    assertThat(poll).as("the poll is in flight").isNotDone();
    assertThat(leaving.leave().status()).isEqualTo(204);
    Http.Response answered = poll.get(4, TimeUnit.SECONDS); // woken, not timed out at 5 s
    assertThat(answered.status()).isEqualTo(204);

    String id = submitId(user, smallJob("after-leave", 2, 5));
    assertThat(leaving.lease(Duration.ZERO)).as("a worker that left is leased nothing").isEmpty();
    assertThat(staying.leaseOne().jobId()).isEqualTo(id);
    assertThat(state(user, id)).isEqualTo("RUNNING");
  }

  @Test
  void registeringAgainEndsTheLeave() {
    String user = token(uniqueOwner("back"), Role.USER);
    TestWorker worker = worker("cpu", 2);
    assertThat(worker.leave().status()).isEqualTo(204);
    String id = submitId(user, smallJob("back", 2, 5));
    assertThat(worker.lease(Duration.ZERO)).isEmpty();

    worker.register();

    assertThat(worker.leaseOne().jobId()).isEqualTo(id);
  }

  @Test
  void anUnknownWorkerCannotLeave() {
    TestWorker worker = worker("cpu", 1);
    TestWorker stranger = new TestWorker(http, token(uniqueOwner("stranger"), Role.WORKER),
        "stranger-" + System.nanoTime(), "cpu", 1).register();
    assertThat(http.post("/api/v1/workers/" + worker.id() + "/leave").token(stranger.token()).send()
        .status()).isEqualTo(404);
  }
}
