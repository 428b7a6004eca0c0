package dev.pipemoe.service.jobs;

import dev.pipemoe.service.security.Caller;
import dev.pipemoe.service.system.Ids;
import dev.pipemoe.service.system.Problems;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.dao.OptimisticLockingFailureException;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The jobs feature's transactions: submit (with Idempotency-Key), cancel, and the reads that must
 * hide other owners' jobs from users. Every state change stores its event in the same transaction.
 */
@Service
public class JobService {

  private static final Logger log = LoggerFactory.getLogger(JobService.class);

  private final JobRepository jobs;
  private final JobEventRepository events;
  private final JobsProperties properties;
  private final InstantSource clock;
  private final TransactionTemplate tx;
  private final TransactionTemplate readOnly;
  private final ApplicationEventPublisher notices;

  JobService(JobRepository jobs, JobEventRepository events, JobsProperties properties, InstantSource clock,
      PlatformTransactionManager transactions, ApplicationEventPublisher notices) {
    this.jobs = jobs;
    this.events = events;
    this.properties = properties;
    this.clock = clock;
    this.notices = notices;
    this.tx = new TransactionTemplate(transactions);
    this.readOnly = new TransactionTemplate(transactions);
    this.readOnly.setReadOnly(true);
  }

  /** The stored job, and whether it was stored by an earlier request with the same Idempotency-Key. */
  record Submitted(Job job, boolean replayed) {}

  /**
   * Stores a validated job as QUEUED. With an Idempotency-Key, a job the owner already submitted
   * with that key is returned instead (same body) or refused with 422 (different body). Concurrent
   * retries race on the unique (owner, idempotency_key) index: PostgreSQL makes the second insert
   * wait for the first to commit and then fail, and the loser returns the winner's job.
   */
  public Submitted submit(Submission submission, Prepared prepared, Caller caller, String idempotencyKey) {
    if (idempotencyKey != null) {
      Optional<Job> earlier = findByKey(caller.owner(), idempotencyKey);
      if (earlier.isPresent()) {
        return replay(earlier.get(), submission);
      }
    }
    try {
      Job job = tx.execute(status -> insert(submission, prepared, caller, idempotencyKey));
      // after the commit, so a woken lease call finds the job
      notices.publishEvent(new JobNotices.Queued(job.id(), job.deviceType()));
      return new Submitted(job, false);
    } catch (DataIntegrityViolationException e) {
      if (idempotencyKey == null) {
        throw e;
      }
      Job winner = findByKey(caller.owner(), idempotencyKey).orElseThrow(() -> e);
      log.debug("idempotency key of {} raced; returning job {}", caller.owner(), winner.id());
      return replay(winner, submission);
    }
  }

  /**
   * QUEUED: cancelled at once. RUNNING: CANCELLING; the worker's next heartbeat is told, it stops
   * and confirms. CANCELLING and terminal states: nothing to do, the job comes back as it is.
   * Retried when the job changed under us (a lease, a heartbeat or a status report of the
   * scheduler bumped its version; they all do).
   */
  public Job cancel(UUID id, Caller caller) {
    for (int attempt = 1; ; attempt++) {
      try {
        Cancel cancel = tx.execute(status -> cancelOnce(id, caller));
        if (cancel.finished()) {
          notices.publishEvent(new JobNotices.Finished(id, JobState.CANCELLED, cancel.job().deviceType()));
        }
        return cancel.job();
      } catch (OptimisticLockingFailureException e) {
        if (attempt >= properties.cancelRetries()) {
          throw e;
        }
        log.debug("cancel of job {} raced with another update (try {}); retrying", id, attempt);
      }
    }
  }

  /** The job, if this caller may see it; else 404, so users cannot probe for other owners' ids. */
  public Job get(UUID id, Caller caller) {
    return readOnly.execute(status -> visible(id, caller));
  }

  public List<JobEvent> events(UUID id, Caller caller) {
    return readOnly.execute(status -> {
      visible(id, caller);
      return events.findByJobIdOrderByIdAsc(id);
    });
  }

  /** One page, and the token of the next (null on the last page). */
  record Page(List<Job> jobs, String nextPageToken) {}

  public Page list(JobQuery query) {
    List<Job> rows = readOnly.execute(status -> jobs.findBy(query.specification(),
        q -> q.sortBy(JobQuery.ORDER).limit(query.pageSize() + 1).all()));
    if (rows.size() <= query.pageSize()) {
      return new Page(rows, null);
    }
    List<Job> page = rows.subList(0, query.pageSize());
    return new Page(List.copyOf(page), query.tokenAfter(page.getLast()).encode());
  }

  private Job insert(Submission submission, Prepared prepared, Caller caller, String idempotencyKey) {
    Instant now = clock.instant();
    Job job = Job.queued(Ids.newId(now), prepared.name(), caller.owner(), prepared, properties.maxAttempts(),
        idempotencyKey, submission.requestHash(), now);
    jobs.saveAndFlush(job);
    events.save(job.submittedEvent());
    return job;
  }

  private Submitted replay(Job earlier, Submission submission) {
    if (!MessageDigest.isEqual(earlier.requestHash(), submission.requestHash())) {
      throw Problems.problem(HttpStatus.UNPROCESSABLE_CONTENT, Problems.IDEMPOTENCY_KEY_REUSED,
          "Idempotency-Key reused", "this Idempotency-Key was used for job " + earlier.id()
              + " with a different body; use a new key for a different job");
    }
    return new Submitted(earlier, true);
  }

  private Optional<Job> findByKey(String owner, String key) {
    return readOnly.execute(status -> jobs.findByOwnerAndIdempotencyKey(owner, key));
  }

  /** A cancel's outcome: the job, and whether this very cancel finished it (QUEUED to CANCELLED). */
  private record Cancel(Job job, boolean finished) {}

  private Cancel cancelOnce(UUID id, Caller caller) {
    Job job = visible(id, caller);
    Instant now = clock.instant();
    JobEvent event = switch (job.state()) {
      case QUEUED -> job.transition(JobState.CANCELLED, EventReason.CANCELLED_BEFORE_START.name(),
          "cancelled by " + caller.owner() + " before it started", caller.owner(), now);
      case RUNNING -> job.transition(JobState.CANCELLING, EventReason.CANCEL_REQUESTED.name(),
          "cancel requested by " + caller.owner() + "; the worker stops attempt " + job.attempt(), caller.owner(), now);
      case CANCELLING, SUCCEEDED, FAILED, CANCELLED -> null;
    };
    if (event != null) {
      jobs.saveAndFlush(job);
      events.save(event);
    }
    return new Cancel(job, event != null && job.state() == JobState.CANCELLED);
  }

  private Job visible(UUID id, Caller caller) {
    return jobs.findById(id)
        .filter(job -> caller.mayAccess(job.owner()))
        .orElseThrow(() -> Problems.notFound("no job " + id));
  }
}
