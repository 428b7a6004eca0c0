package dev.pipemoe.service.jobs;

import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.UUID;

/** One state change of a job: append-only, in the order it happened ({@code id} is a sequence). */
@Entity
@Table(name = "job_events")
public class JobEvent {

  @Id
  @GeneratedValue(strategy = GenerationType.IDENTITY)
  private Long id;

  private UUID jobId;

  private Instant at;

  @Enumerated(EnumType.STRING)
  private JobState fromState;

  @Enumerated(EnumType.STRING)
  private JobState toState;

  /** Machine-readable, e.g. {@link EventReason}; text so that later issues add reasons freely. */
  private String reason;

  private String message;

  /** Who caused it: an owner name, or a worker or "scheduler" in later issues. */
  private String actor;

  private int attempt;

  protected JobEvent() {}

  JobEvent(UUID jobId, Instant at, JobState fromState, JobState toState, String reason, String message, String actor,
      int attempt) {
    this.jobId = jobId;
    this.at = at;
    this.fromState = fromState;
    this.toState = toState;
    this.reason = reason;
    this.message = message;
    this.actor = actor;
    this.attempt = attempt;
  }

  public Long id() {
    return id;
  }

  public UUID jobId() {
    return jobId;
  }

  public Instant at() {
    return at;
  }

  public JobState fromState() {
    return fromState;
  }

  public JobState toState() {
    return toState;
  }

  public String reason() {
    return reason;
  }

  public String message() {
    return message;
  }

  public String actor() {
    return actor;
  }

  public int attempt() {
    return attempt;
  }
}
