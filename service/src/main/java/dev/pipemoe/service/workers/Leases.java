package dev.pipemoe.service.workers;

import dev.pipemoe.engine.protocol.Assignment;
import dev.pipemoe.service.jobs.EventReason;
import dev.pipemoe.service.jobs.JobState;
import dev.pipemoe.service.jobs.StoredSpec;
import dev.pipemoe.service.security.Caller;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Optional;
import java.util.UUID;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The long-poll lease. A call holds the HTTP request (on a virtual thread) up to its wait, but
 * never a transaction or a connection while it waits: each look at the queue is one short
 * transaction, and between looks the call sleeps until {@link QueueSignal} says work may have
 * appeared on this replica, or for the poll interval (jobs queued through another replica). When
 * the service shuts down, waiting calls answer at once (nothing found), so that they do not hold up
 * the graceful shutdown; when the worker leaves, its waiting calls answer at once too.
 */
@Service
class Leases {

  private final LeaseRepository repository;
  private final QueueSignal signal;
  private final SchedulerProperties properties;
  private final InstantSource clock;
  private final TransactionTemplate tx;
  private final ApplicationEventPublisher notices;

  Leases(LeaseRepository repository, QueueSignal signal, SchedulerProperties properties, InstantSource clock,
      PlatformTransactionManager transactions, ApplicationEventPublisher notices) {
    this.repository = repository;
    this.signal = signal;
    this.properties = properties;
    this.clock = clock;
    this.tx = new TransactionTemplate(transactions);
    this.notices = notices;
  }

  /** An assignment, or empty when nothing fitted within {@code wait} (cut to the poll timeout). */
  Optional<Assignment> lease(Caller caller, UUID workerId, Duration wait) throws InterruptedException {
    Duration limit = wait.compareTo(properties.pollTimeout()) > 0 ? properties.pollTimeout() : wait;
    long deadline = System.nanoTime() + limit.toNanos();
    String deviceType = null;
    while (true) {
      long seen = deviceType == null ? 0 : signal.generation(deviceType);
      Attempted attempted = tx.execute(status -> tryOnce(caller, workerId));
      if (attempted.assignment() != null) {
        return Optional.of(attempted.assignment());
      }
      if (deviceType == null) {
        // the first look also learns the device type; look again at once, now that we can listen
        deviceType = attempted.deviceType();
        continue;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0 || attempted.left() || signal.closing()) {
        // the worker left (it stops), or this replica shuts down (the worker polls elsewhere)
        return Optional.empty();
      }
      signal.awaitChange(deviceType, seen, Math.min(left, properties.pollInterval().toNanos()));
    }
  }

  /**
   * The worker stops: its waiting lease calls answer empty, on this replica at once, on others at
   * their next look (at most a poll interval later).
   */
  void leave(Caller caller, UUID workerId) {
    String deviceType = tx.execute(status -> repository.markLeft(workerId, caller.owner(), clock.instant()))
        .orElseThrow(() -> WorkerRegistry.unknownWorker(workerId));
    signal.wake(deviceType);
  }

  private record Attempted(Assignment assignment, String deviceType, boolean left) {}

  private Attempted tryOnce(Caller caller, UUID workerId) {
    LeaseRepository.WorkerRow worker = repository.lockWorker(workerId)
        .filter(w -> w.owner().equals(caller.owner()))
        .orElseThrow(() -> WorkerRegistry.unknownWorker(workerId));
    if (worker.leftAt() != null) {
      return new Attempted(null, worker.deviceType(), true);
    }
    int free = repository.freeDevices(workerId);
    if (free < 1) {
      return new Attempted(null, worker.deviceType(), false);
    }
    Instant now = clock.instant();
    Instant expires = now.plus(properties.leaseTimeout());
    Optional<LeaseRepository.Claimed> claimed = repository.claim(worker, free, now, expires);
    if (claimed.isEmpty()) {
      return new Attempted(null, worker.deviceType(), false);
    }
    LeaseRepository.Claimed job = claimed.get();
    repository.insertEvent(job.jobId(), now, JobState.QUEUED, JobState.RUNNING, EventReason.LEASED.name(),
        "attempt " + job.attempt() + " of " + job.maxAttempts() + " leased by worker " + worker.name()
            + " (" + job.ranks() + " ranks)", worker.name(), job.attempt());
    Instant queued = job.queuedAt() == null ? job.createdAt() : job.queuedAt();
    notices.publishEvent(new AttemptNotices.Leased(job.jobId(), job.attempt(), job.deviceType(),
        Duration.between(queued, now), job.attempt() == 1 ? Duration.between(job.createdAt(), now) : null));
    return new Attempted(new Assignment(job.jobId().toString(), job.attempt(), job.name(), StoredSpec.read(job.spec()),
        job.ranks(), expires), worker.deviceType(), false);
  }
}
