package dev.pipemoe.service.jobs;

/**
 * Why a job changed state: the machine-readable {@code reason} of a job event (the message says
 * the rest in words, including the attempt's own cause such as LEASE_EXPIRED or DEVICE_ERROR).
 * Stored as text, so a new reason needs no migration. docs/worker-protocol.md lists them too.
 */
public enum EventReason {
  /** Accepted by POST /api/v1/jobs: null to QUEUED. */
  SUBMITTED,
  /** Cancelled before any worker started it: QUEUED to CANCELLED. */
  CANCELLED_BEFORE_START,
  /** Cancel asked while running: RUNNING to CANCELLING; the worker stops and confirms. */
  CANCEL_REQUESTED,
  /** A worker took the job: QUEUED to RUNNING, with a new attempt. */
  LEASED,
  /** The worker reported that the attempt started running (the state stays). */
  STARTED,
  /** The attempt was lost (lease expired, worker restarted) and attempts are left: RUNNING to QUEUED. */
  ATTEMPT_LOST,
  /** The attempt failed in a way worth retrying (DEVICE_ERROR, SHUTDOWN) and attempts are left: RUNNING to QUEUED. */
  RETRY,
  /** The attempt was lost or failed retryably, and it was the last one: RUNNING to FAILED. */
  ATTEMPTS_EXHAUSTED,
  /** The worker reported success: RUNNING or CANCELLING to SUCCEEDED. */
  SUCCEEDED,
  /** The worker reported a failure that would repeat (ENGINE_ERROR, INVALID_SPEC): to FAILED. */
  FAILED,
  /** A cancel took effect: the worker confirmed, or the attempt ended while cancelling: CANCELLING to CANCELLED. */
  CANCELLED
}
