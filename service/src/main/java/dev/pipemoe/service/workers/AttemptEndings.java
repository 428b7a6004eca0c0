package dev.pipemoe.service.workers;

import dev.pipemoe.service.jobs.JobNotices;
import dev.pipemoe.service.jobs.JobState;
import java.time.Instant;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.stereotype.Component;

/**
 * Carries an ended attempt over to its job: the job is locked, moved as {@link AttemptOutcome}
 * decides, and the move recorded as an event, all in the caller's transaction (the one that ended
 * the attempt, whose row lock keeps the sweeper and late reports out). Shared by status reports,
 * the sweeper and re-registration, so a lost attempt is handled the same whoever noticed.
 */
@Component
class AttemptEndings {

  private final LeaseRepository repository;
  private final ApplicationEventPublisher notices;

  AttemptEndings(LeaseRepository repository, ApplicationEventPublisher notices) {
    this.repository = repository;
    this.notices = notices;
  }

  /** Returns the job's new state. {@code summaryJson} is stored with it when not null. */
  JobState apply(LeaseRepository.AttemptRow ended, String cause, String detail, String summaryJson, Instant now) {
    LeaseRepository.JobRow job = repository.lockJob(ended.jobId());
    if (job.attempt() != ended.attempt()) {
      // a live attempt is always its job's latest (the lease increments both together)
      throw new IllegalStateException("attempt " + ended.attempt() + " of job " + job.id()
          + " was live while the job is at attempt " + job.attempt());
    }
    AttemptOutcome.Move move = AttemptOutcome.decide(job.state(), ended.attempt(), job.maxAttempts(),
        ended.state(), cause, detail, ended.workerName());
    repository.moveJob(job, move.to(), now, summaryJson);
    String actor = ended.state() == AttemptState.LOST ? "scheduler" : ended.workerName();
    repository.insertEvent(job.id(), now, job.state(), move.to(), move.reason().name(), move.message(), actor,
        ended.attempt());
    notices.publishEvent(new AttemptNotices.Ended(job.id(), ended.attempt(), ended.state(), job.deviceType()));
    if (move.to() == JobState.QUEUED) {
      notices.publishEvent(new JobNotices.Queued(job.id(), job.deviceType()));
    } else if (move.to().terminal()) {
      notices.publishEvent(new JobNotices.Finished(job.id(), move.to(), job.deviceType()));
    }
    return move.to();
  }
}
