package dev.pipemoe.service.workers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.service.Http;
import dev.pipemoe.service.SchedulerTest;
import dev.pipemoe.service.TestWorker;
import dev.pipemoe.service.jobs.Waiting;
import dev.pipemoe.service.security.Role;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * A queued job says why it waits, from the fleet as it is: no worker of its type, none large
 * enough, or busy devices and older jobs ahead of it.
 */
class WaitingTest extends SchedulerTest {
  static final String TYPE = "ascend-910b";

  String user;

  @BeforeEach
  void earlierWorkersOffline() {
    // workers other tests registered are online for a lease timeout (30 s); step past it
    clock.advance(Duration.ofSeconds(31));
    user = token(uniqueOwner("waiting"), Role.USER);
  }

  static Map<String, Object> job(String name, int devices) {
    Map<String, Object> body = new HashMap<>(smallJob(name, devices, 5));
    body.put("resources", Map.of("deviceType", TYPE, "devices", devices));
    return body;
  }

  JsonNode waiting(String id) {
    return job(user, id).path("waiting");
  }

  @Test
  void withNoWorkerOfItsTypeTheJobSaysSoOnSubmitAndOnGet() {
    Http.Response submitted = http.post("/api/v1/jobs").token(user).json(job("lonely", 2)).send();
    assertThat(submitted.status()).isEqualTo(201);
    JsonNode w = submitted.json().path("waiting");

    assertThat(w.path("reason").asString()).isEqualTo("NO_WORKER");
    assertThat(w.path("onlineWorkers").asInt()).isZero();
    assertThat(w.path("message").asString()).contains("no online worker has device type " + TYPE);
    assertThat(waiting(submitted.json().path("id").asString())).isEqualTo(w);
  }

  @Test
  void aJobLargerThanEveryWorkerSaysHowLargeTheLargestIs() {
    worker(TYPE, 2);
    worker(TYPE, 4);

    JsonNode w = waiting(submitId(user, job("too-big", 8)));

    assertThat(w.path("reason").asString()).isEqualTo("NO_WORKER_LARGE_ENOUGH");
    assertThat(w.path("onlineWorkers").asInt()).isEqualTo(2);
    assertThat(w.path("largestWorkerDevices").asInt()).isEqualTo(4);
    assertThat(w.path("message").asString()).contains("needs 8 " + TYPE + " devices on one worker")
        .contains("the largest online worker has 4");
  }

  @Test
  void aJobThatFitsWaitsForBusyDevicesBehindTheOlderJobs() {
    TestWorker worker = worker(TYPE, 2);
    String running = submitId(user, job("running", 2));
    assertThat(worker.leaseOne().jobId()).isEqualTo(running);
    String first = submitId(user, job("first", 2));
    String second = submitId(user, job("second", 2));

    assertThat(job(user, running).has("waiting")).as("a running job does not wait").isFalse();
    assertThat(waiting(first).path("reason").asString()).isEqualTo("DEVICES_BUSY");
    assertThat(waiting(first).path("queuedAhead").asLong()).isZero();
    JsonNode w = waiting(second);
    assertThat(w.path("reason").asString()).isEqualTo("DEVICES_BUSY");
    assertThat(w.path("queuedAhead").asLong()).isEqualTo(1);
    assertThat(w.path("message").asString()).contains("1 online " + TYPE + " worker(s) can run it")
        .contains("behind 1 older queued");
  }

  @Test
  void theJobsAheadAreCountedUpToTheCap() {
    TestWorker worker = worker(TYPE, 1);
    String running = submitId(user, job("running", 1));
    assertThat(worker.leaseOne().jobId()).isEqualTo(running);
    String last = null;
    String beforeCap = null;
    for (int i = 0; i <= Waiting.AHEAD_COUNTED; i++) {
      last = submitId(user, job("queued-" + i, 1));
      if (i == Waiting.AHEAD_COUNTED - 1) {
        beforeCap = last;
      }
    }

    assertThat(waiting(beforeCap).path("queuedAhead").asInt()).isEqualTo(Waiting.AHEAD_COUNTED - 1);
    JsonNode w = waiting(last);
    assertThat(w.path("queuedAhead").asInt()).isEqualTo(Waiting.AHEAD_COUNTED);
    assertThat(w.path("message").asString()).contains("behind " + Waiting.AHEAD_COUNTED + " or more older");
  }

  @Test
  void workersThatLeftOrStoppedHeartbeatingDoNotCount() {
    TestWorker leaving = worker(TYPE, 2);
    String id = submitId(user, job("orphan", 4));
    assertThat(waiting(id).path("reason").asString()).isEqualTo("NO_WORKER_LARGE_ENOUGH");

    assertThat(leaving.leave().status()).isEqualTo(204);
    assertThat(waiting(id).path("reason").asString()).isEqualTo("NO_WORKER");

    worker(TYPE, 4);
    worker(TYPE, 1);
    JsonNode busy = waiting(id);
    assertThat(busy.path("reason").asString()).isEqualTo("DEVICES_BUSY");
    assertThat(busy.path("onlineWorkers").asInt()).isEqualTo(2);
    assertThat(busy.path("message").asString()).as("only the worker large enough counts")
        .startsWith("1 online " + TYPE + " worker(s) can run it");
    clock.advance(Duration.ofSeconds(31));  // no heartbeat for longer than the lease timeout
    assertThat(waiting(id).path("reason").asString()).isEqualTo("NO_WORKER");
  }
}
