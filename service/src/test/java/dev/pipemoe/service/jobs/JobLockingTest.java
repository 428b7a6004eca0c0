package dev.pipemoe.service.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pipemoe.service.ApiTest;
import dev.pipemoe.service.Http;
import dev.pipemoe.service.Specs;
import dev.pipemoe.service.security.Role;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.orm.ObjectOptimisticLockingFailureException;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.JsonNode;

/** Optimistic locking on jobs: a stale write loses, and racing cancels settle on one transition. */
class JobLockingTest extends ApiTest {

  @Autowired
  JobRepository jobs;

  @Autowired
  JobEventRepository events;

  @Autowired
  TransactionTemplate tx;

  @Test
  void aStaleCopyCannotOverwriteANewerVersion() {
    String user = token(uniqueOwner("locker"), Role.USER);
    UUID id = UUID.fromString(submitted(user, Specs.valid("locked")).get("id").stringValue());
    Job stale = tx.execute(status -> jobs.findById(id).orElseThrow());
    tx.executeWithoutResult(status -> {
      Job fresh = jobs.findById(id).orElseThrow();
      events.save(fresh.transition(JobState.RUNNING, "TEST", "leased by the test", "test", now()));
    });

    stale.transition(JobState.CANCELLED, "TEST", "from a stale copy", "test", now());

    assertThatThrownBy(() -> tx.executeWithoutResult(status -> jobs.saveAndFlush(stale)))
        .isInstanceOf(ObjectOptimisticLockingFailureException.class);
    JobState stored = tx.execute(status -> jobs.findById(id).orElseThrow().state());
    assertThat(stored).isEqualTo(JobState.RUNNING);
  }

  @Test
  void concurrentCancelsOfARunningJobRecordOneRequest() throws Exception {
    String user = token(uniqueOwner("canceller"), Role.USER);
    UUID id = UUID.fromString(submitted(user, Specs.valid("contended")).get("id").stringValue());
    tx.executeWithoutResult(status -> {
      Job job = jobs.findById(id).orElseThrow();
      events.save(job.transition(JobState.RUNNING, "TEST", "leased by the test", "test", now()));
    });
    List<Callable<Http.Response>> cancels = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      cancels.add(() -> http.post("/api/v1/jobs/" + id + "/cancel").token(user).send());
    }
    List<Http.Response> responses = new ArrayList<>();
    try (ExecutorService pool = Executors.newFixedThreadPool(cancels.size())) {
      for (Future<Http.Response> f : pool.invokeAll(cancels)) {
        responses.add(f.get());
      }
    }

    assertThat(responses).allSatisfy(r -> {
      assertThat(r.status()).as("%s", r).isEqualTo(200);
      assertThat(r.json().get("state").stringValue()).isEqualTo("CANCELLING");
    });
    JsonNode history = events(user, id.toString());
    assertThat(history).filteredOn(e -> e.get("reason").stringValue().equals("CANCEL_REQUESTED")).hasSize(1);
  }

  @Test
  void aForbiddenTransitionIsRefusedByTheEntity() {
    String user = token(uniqueOwner("rule"), Role.USER);
    UUID id = UUID.fromString(submitted(user, Specs.valid("strict")).get("id").stringValue());
    Job job = tx.execute(status -> jobs.findById(id).orElseThrow());

    assertThatThrownBy(() -> job.transition(JobState.SUCCEEDED, "TEST", "never ran", "test", now()))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("QUEUED to SUCCEEDED");
  }

  private static Instant now() {
    return Instant.now().truncatedTo(ChronoUnit.MICROS);
  }
}
