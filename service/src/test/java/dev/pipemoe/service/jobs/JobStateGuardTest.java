package dev.pipemoe.service.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pipemoe.service.ApiTest;
import dev.pipemoe.service.Specs;
import dev.pipemoe.service.security.Role;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The database's guard on jobs.state (V4__job_state_guard.sql): whoever writes the column, JPA or
 * plain SQL, a move {@link JobState} does not allow, or one stored without its job event, is
 * refused and the job keeps its state.
 */
class JobStateGuardTest extends ApiTest {

  @Autowired
  JdbcTemplate jdbc;

  @Autowired
  TransactionTemplate tx;

  @Autowired
  JobRepository jobs;

  @Test
  void theDatabaseAllowsExactlyTheMovesJobStateAllows() {
    Set<String> inJava = new HashSet<>();
    for (JobState from : JobState.values()) {
      from.next().forEach(to -> inJava.add(from + "->" + to));
    }
    Set<String> inDatabase = new HashSet<>(jdbc.queryForList(
        "select from_state || '->' || to_state from job_transitions", String.class));
    assertThat(inDatabase).isEqualTo(inJava);
  }

  @Test
  void aMoveJobStateForbidsIsRefusedEvenWithItsEvent() {
    UUID id = queuedJob();
    Timestamp now = Timestamp.from(Instant.now());

    assertThatThrownBy(() -> tx.executeWithoutResult(status -> {
      jdbc.update("update jobs set state = 'SUCCEEDED', updated_at = ? where id = ?", now, id);
      event(id, "QUEUED", "SUCCEEDED", now);
    })).hasStackTraceContaining("job " + id + " cannot go from QUEUED to SUCCEEDED");

    assertThat(state(id)).isEqualTo("QUEUED");
  }

  @Test
  void aLegalMoveWithoutItsEventIsRefusedAtCommit() {
    UUID id = queuedJob();
    Timestamp now = Timestamp.from(Instant.now());

    assertThatThrownBy(() -> tx.executeWithoutResult(status ->
        jdbc.update("update jobs set state = 'CANCELLED', updated_at = ? where id = ?", now, id)))
        .hasStackTraceContaining("job " + id + " went from QUEUED to CANCELLED (attempt 0) without its job event");
    assertThat(state(id)).isEqualTo("QUEUED");

    tx.executeWithoutResult(status -> {
      jdbc.update("update jobs set state = 'CANCELLED', updated_at = ? where id = ?", now, id);
      event(id, "QUEUED", "CANCELLED", now);
    });
    assertThat(state(id)).isEqualTo("CANCELLED");
  }

  @Test
  void theEntityIsHeldToTheSameRule() {
    UUID id = queuedJob();

    assertThatThrownBy(() -> tx.executeWithoutResult(status -> {
      Job job = jobs.findById(id).orElseThrow();
      job.transition(JobState.CANCELLED, "TEST", "the event is never saved", "test",
          Instant.now().truncatedTo(ChronoUnit.MICROS));
      jobs.saveAndFlush(job);
    })).hasStackTraceContaining("without its job event");
    assertThat(state(id)).isEqualTo("QUEUED");
  }

  @Test
  void aJobInsertedWithoutItsSubmissionIsRefused() {
    UUID id = queuedJob();

    assertThatThrownBy(() -> jdbc.update("""
        insert into jobs (id, name, owner, state, spec_form, spec, effective, warnings, notes, schedule,
                          device_type, devices, created_at, updated_at, version)
        select ?, name, owner, state, spec_form, spec, effective, warnings, notes, schedule,
               device_type, devices, created_at, updated_at, 0
        from jobs where id = ?""", UUID.randomUUID(), id))
        .hasStackTraceContaining("went from nothing to QUEUED (attempt 0) without its job event");
  }

  private UUID queuedJob() {
    String user = token(uniqueOwner("guarded"), Role.USER);
    return UUID.fromString(submitted(user, Specs.valid("guarded")).get("id").stringValue());
  }

  private void event(UUID id, String from, String to, Timestamp at) {
    jdbc.update("""
        insert into job_events (job_id, at, from_state, to_state, reason, message, actor, attempt)
        values (?, ?, ?, ?, 'TEST', 'written by the test', 'test', 0)""", id, at, from, to);
  }

  private String state(UUID id) {
    return jdbc.queryForObject("select state from jobs where id = ?", String.class, id);
  }
}
