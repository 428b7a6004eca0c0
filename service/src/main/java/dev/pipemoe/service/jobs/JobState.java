package dev.pipemoe.service.jobs;

import io.swagger.v3.oas.annotations.media.Schema;
import java.util.EnumSet;
import java.util.Set;

/**
 * The life of a job. This issue creates jobs (QUEUED) and cancels them; the scheduling issue drives
 * the rest. The allowed transitions are written here once; {@link Job#transition} refuses any
 * other, and so does the database for every writer (its job_transitions table copies this list,
 * JobStateGuardTest keeps the two equal):
 *
 * <pre>
 * QUEUED ──lease──▶ RUNNING ──▶ SUCCEEDED | FAILED
 *   │  ▲               │ └─attempt lost, attempts left──▶ QUEUED
 *   │  └───────────────┘
 *   │ cancel            │ cancel
 *   ▼                   ▼
 * CANCELLED ◀──── CANCELLING ──▶ SUCCEEDED | FAILED (the run ended before it saw the cancel)
 * QUEUED ──▶ FAILED (e.g. no worker can ever run it)
 * </pre>
 */
@Schema(enumAsRef = true) // one JobState type in generated clients, not one per field
public enum JobState {
  QUEUED,
  RUNNING,
  CANCELLING,
  SUCCEEDED,
  FAILED,
  CANCELLED;

  public boolean terminal() {
    return this == SUCCEEDED || this == FAILED || this == CANCELLED;
  }

  /** RUNNING or CANCELLING: an attempt of the job holds a lease (or is being stopped). */
  public boolean hasLiveAttempt() {
    return this == RUNNING || this == CANCELLING;
  }

  public Set<JobState> next() {
    return switch (this) {
      case QUEUED -> EnumSet.of(RUNNING, CANCELLED, FAILED);
      case RUNNING -> EnumSet.of(SUCCEEDED, FAILED, CANCELLING, QUEUED);
      case CANCELLING -> EnumSet.of(CANCELLED, SUCCEEDED, FAILED);
      case SUCCEEDED, FAILED, CANCELLED -> EnumSet.noneOf(JobState.class);
    };
  }

  public boolean canBecome(JobState to) {
    return next().contains(to);
  }
}
