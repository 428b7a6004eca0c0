package dev.pipemoe.service.workers;

import dev.pipemoe.service.jobs.EventReason;
import dev.pipemoe.service.jobs.JobState;
import java.util.Set;

/**
 * What an ended attempt does to its job, decided apart from the SQL so that the rule can be read
 * (and tested) in one place:
 *
 * <pre>
 * job RUNNING:     SUCCEEDED                       -> SUCCEEDED           (SUCCEEDED)
 *                  FAILED, final cause             -> FAILED              (FAILED)
 *                  LOST, attempts left             -> QUEUED              (ATTEMPT_LOST)
 *                  FAILED retryable / CANCELLED
 *                    unasked, attempts left        -> QUEUED              (RETRY)
 *                  any of the last three, no
 *                    attempts left                 -> FAILED              (ATTEMPTS_EXHAUSTED)
 * job CANCELLING:  SUCCEEDED                       -> SUCCEEDED           (it finished first)
 *                  FAILED, final cause             -> FAILED              (that is what happened)
 *                  anything else                   -> CANCELLED           (never retried)
 * </pre>
 *
 * Retryable causes are those where running again may well succeed: the devices failed
 * (DEVICE_ERROR), the worker was shut down (SHUTDOWN), it was lost (LEASE_EXPIRED,
 * WORKER_RESTARTED), or it stopped the run without being asked (CANCELLED while RUNNING). An
 * ENGINE_ERROR, INVALID_SPEC or a cause we do not know would fail again, so it fails the job.
 */
final class AttemptOutcome {

  static final Set<String> RETRYABLE_FAILURES = Set.of("DEVICE_ERROR", "SHUTDOWN");

  private AttemptOutcome() {}

  /** The job's move: its new state, the event's reason and message. */
  record Move(JobState to, EventReason reason, String message) {}

  /**
   * @param ended how the attempt ended: SUCCEEDED, FAILED, CANCELLED or LOST
   * @param cause the machine-readable cause (the worker's reason, or LEASE_EXPIRED, WORKER_RESTARTED)
   * @param detail the worker's message, or a sentence about the loss; may be null
   */
  static Move decide(JobState job, int attempt, int maxAttempts, AttemptState ended, String cause, String detail,
      String worker) {
    if (!job.hasLiveAttempt()) {
      throw new IllegalStateException("attempt " + attempt + " ended while its job was " + job);
    }
    if (ended.live()) {
      throw new IllegalArgumentException("attempt " + attempt + " has not ended: " + ended);
    }
    String what = "attempt " + attempt + " of " + maxAttempts + " on worker " + worker;
    String why = cause == null ? "" : " (" + cause + (detail == null || detail.isBlank() ? "" : ": " + detail) + ")";
    if (ended == AttemptState.SUCCEEDED) {
      return new Move(JobState.SUCCEEDED, EventReason.SUCCEEDED, what + " succeeded"
          + (job == JobState.CANCELLING ? " before it saw the cancel" : ""));
    }
    boolean retryable = switch (ended) {
      case FAILED -> RETRYABLE_FAILURES.contains(cause);
      case LOST, CANCELLED -> true;
      default -> throw new IllegalArgumentException("not an end: " + ended);
    };
    if (!retryable) {
      return new Move(JobState.FAILED, EventReason.FAILED, what + " failed" + why + "; not retried, it would fail again");
    }
    String end = ended == AttemptState.LOST ? " was lost" : ended == AttemptState.FAILED ? " failed" : " was stopped by the worker";
    if (job == JobState.CANCELLING) {
      return new Move(JobState.CANCELLED, EventReason.CANCELLED, ended == AttemptState.CANCELLED
          ? "cancelled: " + what + " stopped" : what + end + why + " while cancelling; not retried");
    }
    if (attempt < maxAttempts) {
      return new Move(JobState.QUEUED, ended == AttemptState.LOST ? EventReason.ATTEMPT_LOST : EventReason.RETRY,
          what + end + why + "; queued again for attempt " + (attempt + 1) + " of " + maxAttempts);
    }
    return new Move(JobState.FAILED, EventReason.ATTEMPTS_EXHAUSTED, what + end + why + "; no attempts left");
  }
}
