package dev.pipemoe.service.jobs;

/**
 * Why a job changed state: the machine-readable {@code reason} of a job event (the message says
 * the rest in words). The scheduling issue adds its own (leased, attempt lost, retried, finished).
 * Stored as text, so a new reason needs no migration.
 */
public enum EventReason {
  /** Accepted by POST /api/v1/jobs: null to QUEUED. */
  SUBMITTED,
  /** Cancelled before any worker started it: QUEUED to CANCELLED. */
  CANCELLED_BEFORE_START,
  /** Cancel asked while running: RUNNING to CANCELLING; the worker stops and confirms. */
  CANCEL_REQUESTED
}
