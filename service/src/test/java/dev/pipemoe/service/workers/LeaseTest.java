package dev.pipemoe.service.workers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.protocol.Assignment;
import dev.pipemoe.service.Http;
import dev.pipemoe.service.SchedulerTest;
import dev.pipemoe.service.TestWorker;
import dev.pipemoe.service.security.Role;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/** What a lease call gets: the fit, the order, the long poll, and one worker's concurrent calls. */
class LeaseTest extends SchedulerTest {

  @Autowired
  QueueSignal signal;

  @Test
  void nothingToDoIs204() {
    TestWorker worker = worker("cpu", 8);
    long started = System.nanoTime();

    Http.Response r = worker.leaseRaw("PT0S");

    assertThat(r.status()).isEqualTo(204);
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(2));
  }

  @Test
  void aJobGoesOnlyToAWorkerOfItsDeviceTypeWithEnoughFreeDevices() {
    String user = token(uniqueOwner("fit"), Role.USER);
    TestWorker small = worker("cpu", 2);
    TestWorker other = worker("h100", 8);
    String big = submitId(user, smallJob("big", 4, 5));
    String fits = submitId(user, smallJob("fits", 2, 5));
    String second = submitId(user, smallJob("second", 2, 5));

    assertThat(other.lease(Duration.ZERO)).isEmpty();
    Assignment a = small.leaseOne();
    assertThat(a.jobId()).isEqualTo(fits); // big was older, but does not fit: smaller jobs behind it go ahead
    assertThat(small.lease(Duration.ZERO)).as("both devices busy").isEmpty();
    small.succeeded(a.ref(), 5);
    assertThat(small.leaseOne().jobId()).isEqualTo(second);
    assertThat(state(user, big)).isEqualTo("QUEUED");
    assertThat(worker("cpu", 4).leaseOne().jobId()).isEqualTo(big);
  }

  @Test
  void theOldestFittingJobGoesFirst() {
    String user = token(uniqueOwner("order"), Role.USER);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      ids.add(submitId(user, smallJob("order-" + i, 1, 5)));
    }
    TestWorker worker = worker("cpu", 8);

    List<String> leased = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      leased.add(worker.leaseOne().jobId());
    }

    assertThat(leased).isEqualTo(ids);
  }

  @Test
  void aWaitingLeaseGetsAJobSubmittedWhileItWaits() throws Exception {
    String user = token(uniqueOwner("poll"), Role.USER);
    TestWorker worker = worker("cpu", 8);
    try (ExecutorService pool = Executors.newSingleThreadExecutor()) {
      Future<Optional<Assignment>> waiting = pool.submit(() -> worker.lease(Duration.ofSeconds(4)));
      // the call has looked at the queue and waits; a job submitted before that would prove nothing
      await("the lease call to wait for a cpu job", Duration.ofSeconds(10), () -> signal.waiting("cpu"), n -> n > 0);
      long submitted = System.nanoTime();
      String id = submitId(user, smallJob("awaited", 1, 5));

      Optional<Assignment> a = waiting.get();

      assertThat(a).map(Assignment::jobId).contains(id);
      assertThat(Duration.ofNanos(System.nanoTime() - submitted)).isLessThan(Duration.ofSeconds(2));
    }
  }

  @Test
  void theWaitIsCutToThePollTimeout() {
    TestWorker worker = worker("a100", 1);
    long started = System.nanoTime();

    Http.Response r = worker.leaseRaw("PT1H");

    Duration took = Duration.ofNanos(System.nanoTime() - started);
    assertThat(r.status()).isEqualTo(204);
    assertThat(took).isBetween(Duration.ofMillis(4500), Duration.ofSeconds(9));
  }

  @Test
  void aBadWaitIs400() {
    Http.Response r = worker("cpu", 1).leaseRaw("soon");

    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().get("parameter").stringValue()).isEqualTo("wait");
  }

  @Test
  void concurrentCallsOfOneWorkerNeverTakeMoreDevicesThanItHas() throws Exception {
    String user = token(uniqueOwner("greedy"), Role.USER);
    for (int round = 0; round < 3; round++) {
      for (int i = 0; i < 8; i++) {
        submitId(user, smallJob("greedy-" + i, 1, 5));
      }
      TestWorker worker = worker("cpu", 4);
      CountDownLatch go = new CountDownLatch(1);
      List<Callable<Http.Response>> calls = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        calls.add(() -> {
          go.await(); // all at once: the race is between calls that count the same free devices
          return worker.leaseRaw("PT0S");
        });
      }

      List<Future<Http.Response>> pending = new ArrayList<>();
      try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
        calls.forEach(c -> pending.add(pool.submit(c)));
        go.countDown();
      }

      List<Integer> statuses = new ArrayList<>();
      for (Future<Http.Response> f : pending) {
        statuses.add(f.get().status());
      }
      assertThat(statuses).filteredOn(s -> s == 200).hasSize(4);
      Integer busy = jdbc.queryForObject("select sum(a.ranks) from attempts a join workers w on w.id = a.worker_id"
          + " where w.name = ? and a.state in ('LEASED', 'RUNNING')", Integer.class, worker.name());
      assertThat(busy).isEqualTo(4);
      emptyQueue();
    }
  }

  @Test
  void aLeaseIsAnEventAndTheJobRunsAttemptOne() {
    String user = token(uniqueOwner("event"), Role.USER);
    String id = submitId(user, smallJob("evented", 1, 5));
    TestWorker worker = worker("cpu", 1);

    Http.Response raw = worker.leaseRaw("PT5S");

    assertThat(raw.status()).isEqualTo(200);
    assertThat(raw.body()).as("the spec leaves out what was not given").doesNotContain("null");
    assertThat(raw.json().at("/spec/parallel/tensor").intValue()).isEqualTo(1);
    Assignment a = Http.mapper().readValue(raw.body(), Assignment.class);
    var leased = lastEvent(user, id);
    assertThat(leased.get("reason").stringValue()).isEqualTo("LEASED");
    assertThat(leased.get("from").stringValue()).isEqualTo("QUEUED");
    assertThat(leased.get("to").stringValue()).isEqualTo("RUNNING");
    assertThat(leased.get("actor").stringValue()).isEqualTo(worker.name());
    assertThat(leased.get("attempt").intValue()).isEqualTo(1);
    assertThat(leased.get("message").stringValue()).contains(worker.name()).contains("1 ranks");
    var job = job(user, id);
    assertThat(job.get("startedAt")).isNotNull();
    assertThat(a.attempt()).isEqualTo(1);
    assertThat(a.leaseExpiresAt()).isAfter(clock.instant().plusSeconds(25));
  }
}
