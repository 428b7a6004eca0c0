package dev.pipemoe.service.jobs;

import java.util.UUID;

/**
 * What the jobs feature tells the rest of the service, as Spring application events published
 * after the transaction committed: the scheduler wakes its waiting lease calls on {@link Queued},
 * the metrics feature counts. Listeners must not fail the publisher; they only observe.
 */
public final class JobNotices {

  private JobNotices() {}

  /** A job entered the queue (submitted, or queued again for a retry). */
  public record Queued(UUID jobId, String deviceType) {}

  /** A job reached SUCCEEDED, FAILED or CANCELLED. */
  public record Finished(UUID jobId, JobState state, String deviceType) {}

  /** How one POST /api/v1/jobs ended. */
  public record Submitted(SubmitOutcome outcome) {}

  /** A bounded set, so that it can be a metric label. */
  public enum SubmitOutcome {
    /** Stored as a new QUEUED job. */
    ACCEPTED,
    /** An Idempotency-Key retry answered with the job stored before. */
    REPLAYED,
    /** Validated, not stored. */
    DRY_RUN,
    /** 422: the spec breaks rules. */
    INVALID,
    /** 400: not a well-formed job document. */
    MALFORMED,
    /** 422: an Idempotency-Key reused with another body. */
    KEY_REUSED,
    /** 413, 415 and anything else refused. */
    REFUSED
  }
}
