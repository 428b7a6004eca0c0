package dev.pipemoe.service.workers;

import dev.pipemoe.engine.protocol.AttemptStatus;
import dev.pipemoe.service.jobs.EventReason;
import dev.pipemoe.service.jobs.JobState;
import dev.pipemoe.service.security.Caller;
import dev.pipemoe.service.system.Problems;
import dev.pipemoe.service.system.Problems.FieldError;
import io.swagger.v3.oas.annotations.media.Schema;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.json.JsonMapper;

/**
 * A worker's status reports: STARTED, SUCCEEDED (with the run's summary), FAILED (with a reason)
 * and CANCELLED. Each is guarded by the attempt's state and worker: a report about an attempt the
 * worker no longer holds is 409 and changes nothing. Repeating a report that was applied (the
 * worker retries because the answer was lost) is answered 200 again, without a second event.
 */
@Service
class AttemptReports {

  private static final Pattern REASON = Pattern.compile("[A-Z][A-Z0-9_]{0,63}");
  private static final JsonMapper JSON = JsonMapper.builder().build();
  /** A failure message is for people; a stack trace longer than this is cut. */
  private static final int MAX_MESSAGE = 2000;

  private final LeaseRepository repository;
  private final AttemptEndings endings;
  private final WorkerRegistry registry;
  private final SchedulerProperties properties;
  private final InstantSource clock;
  private final TransactionTemplate tx;

  AttemptReports(LeaseRepository repository, AttemptEndings endings, WorkerRegistry registry,
      SchedulerProperties properties, InstantSource clock, PlatformTransactionManager transactions) {
    this.repository = repository;
    this.endings = endings;
    this.registry = registry;
    this.properties = properties;
    this.clock = clock;
    this.tx = new TransactionTemplate(transactions);
  }

  /** The answer to a report: the attempt's and the job's state after it. */
  @Schema(name = "AttemptStatusAnswer")
  record Answer(String jobId, int attempt, AttemptState state, JobState jobState) {}

  Answer report(Caller caller, UUID workerId, UUID jobId, int attempt, AttemptStatus status) {
    validate(status);
    return tx.execute(s -> {
      LeaseRepository.WorkerRow worker = registry.require(caller, workerId);
      Instant now = clock.instant();
      if (status.state() == AttemptStatus.State.STARTED) {
        if (!repository.markStarted(jobId, attempt, workerId, now, now.plus(properties.leaseTimeout()))) {
          return repeated(worker, jobId, attempt, AttemptState.RUNNING);
        }
        LeaseRepository.JobRow job = repository.lockJob(jobId);
        repository.insertEvent(jobId, now, job.state(), job.state(), EventReason.STARTED.name(),
            "attempt " + attempt + " started on worker " + worker.name(), worker.name(), attempt);
        return new Answer(jobId.toString(), attempt, AttemptState.RUNNING, job.state());
      }
      AttemptState end = switch (status.state()) {
        case SUCCEEDED -> AttemptState.SUCCEEDED;
        case FAILED -> AttemptState.FAILED;
        case CANCELLED -> AttemptState.CANCELLED;
        case STARTED -> throw new AssertionError("handled above");
      };
      String cause = end == AttemptState.SUCCEEDED ? null
          : status.reason() != null ? status.reason() : "CANCEL_REQUESTED";
      String message = status.message() == null || status.message().length() <= MAX_MESSAGE ? status.message()
          : status.message().substring(0, MAX_MESSAGE) + "...";
      Optional<LeaseRepository.AttemptRow> ended = repository.endLive(jobId, attempt, workerId, end, cause,
          message, now);
      if (ended.isEmpty()) {
        return repeated(worker, jobId, attempt, end);
      }
      String summary = status.summary() == null ? null : JSON.writeValueAsString(status.summary());
      JobState job = endings.apply(ended.get(), cause, message, summary, now);
      return new Answer(jobId.toString(), attempt, end, job);
    });
  }

  /** A report that changed nothing: 200 if it repeats what this worker already reported, else 409. */
  private Answer repeated(LeaseRepository.WorkerRow worker, UUID jobId, int attempt, AttemptState wanted) {
    Optional<LeaseRepository.AttemptRow> found = repository.findAttempt(jobId, attempt);
    if (found.isPresent() && found.get().workerId().equals(worker.id()) && found.get().state() == wanted) {
      return new Answer(jobId.toString(), attempt, wanted, repository.lockJob(jobId).state());
    }
    String now = found.map(a -> a.workerId().equals(worker.id()) ? "is " + a.state() : "belongs to another worker")
        .orElse("does not exist");
    throw notHeld("attempt " + attempt + " of job " + jobId + " " + now + "; worker " + worker.name()
        + " holds it no longer: stop it and report nothing more");
  }

  static RuntimeException notHeld(String detail) {
    return Problems.problem(HttpStatus.CONFLICT, Problems.ATTEMPT_NOT_HELD, "Attempt not held", detail);
  }

  private static void validate(AttemptStatus status) {
    if (status.state() == null) {
      throw invalid("/state", "state is required: STARTED, SUCCEEDED, FAILED or CANCELLED");
    }
    if (status.state() == AttemptStatus.State.FAILED && status.reason() == null) {
      throw invalid("/reason", "FAILED needs a reason: ENGINE_ERROR, INVALID_SPEC, DEVICE_ERROR or SHUTDOWN");
    }
    if (status.reason() != null && !REASON.matcher(status.reason()).matches()) {
      throw invalid("/reason", "reason must be a code of up to 64 upper-case letters, digits and '_', was '"
          + status.reason() + "'");
    }
  }

  private static RuntimeException invalid(String pointer, String message) {
    return Problems.malformed(message, List.of(new FieldError(pointer, "BODY-VALUE", message)));
  }
}
