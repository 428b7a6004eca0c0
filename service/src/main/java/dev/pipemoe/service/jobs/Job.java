package dev.pipemoe.service.jobs;

import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import jakarta.persistence.Version;
import java.time.Instant;
import java.util.UUID;
import org.hibernate.annotations.JdbcType;
import org.hibernate.dialect.type.PostgreSQLJsonPGObjectJsonType;

/**
 * A submitted job: the spec as the user gave it, the effective config the engine will run, and its
 * state. This entity's state changes go through {@link #transition}, which enforces {@link JobState}'s
 * rules and returns the event to store with it; the scheduler's go through its SQL in
 * workers/LeaseRepository. The database refuses, from either, a move JobState does not allow or
 * one without its event (docs/service.md §3.6). {@code version} guards
 * every update (optimistic
 * locking): a cancel racing a worker's lease loses cleanly instead of overwriting it. The JSON
 * columns are PostgreSQL {@code json}, bound as such (not jsonb, which would reorder keys), so the
 * spec comes back exactly as it was given.
 */
@Entity
@Table(name = "jobs")
public class Job {

  @Id
  private UUID id;

  private String name;

  private String owner;

  @Enumerated(EnumType.STRING)
  private JobState state;

  @Enumerated(EnumType.STRING)
  private SpecForm specForm;

  /** The spec fields as given (JSON/YAML form), or the spec the argument string describes. */
  @JdbcType(PostgreSQLJsonPGObjectJsonType.class)
  private String spec;

  /** The argument string as given (args form only). */
  private String specArgs;

  @JdbcType(PostgreSQLJsonPGObjectJsonType.class)
  private String effective;

  @JdbcType(PostgreSQLJsonPGObjectJsonType.class)
  private String warnings;

  @JdbcType(PostgreSQLJsonPGObjectJsonType.class)
  private String notes;

  /** serial, mindspeed or improved: the effective schedule, kept as a column for filters and metrics. */
  private String schedule;

  private String deviceType;

  private int devices;

  /** Attempts leased so far; the scheduler (workers/LeaseRepository) increments it on every lease. */
  private int attempt;

  private int maxAttempts;

  private String idempotencyKey;

  private byte[] requestHash;

  private Instant createdAt;

  private Instant updatedAt;

  private Instant startedAt;

  private Instant finishedAt;

  /** When the job last entered QUEUED (submit, or a retry); the scheduler measures queue wait from it. */
  private Instant queuedAt;

  /** The worker's summary of the finished run (AttemptStatus.Summary as JSON); null until one reports it. */
  @JdbcType(PostgreSQLJsonPGObjectJsonType.class)
  private String summary;

  @Version
  private Long version;

  protected Job() {}

  /** A new QUEUED job; store it together with {@link #submittedEvent}. */
  static Job queued(UUID id, String name, String owner, Prepared spec, int maxAttempts, String idempotencyKey,
      byte[] requestHash, Instant now) {
    Job job = new Job();
    job.id = id;
    job.name = name;
    job.owner = owner;
    job.state = JobState.QUEUED;
    job.specForm = spec.form();
    job.spec = spec.specJson();
    job.specArgs = spec.args();
    job.effective = spec.effectiveJson();
    job.warnings = spec.warningsJson();
    job.notes = spec.notesJson();
    job.schedule = spec.schedule();
    job.deviceType = spec.deviceType();
    job.devices = spec.devices();
    job.maxAttempts = maxAttempts;
    job.idempotencyKey = idempotencyKey;
    job.requestHash = requestHash;
    job.createdAt = now;
    job.updatedAt = now;
    job.queuedAt = now;
    return job;
  }

  JobEvent submittedEvent() {
    return new JobEvent(id, createdAt, null, JobState.QUEUED, EventReason.SUBMITTED.name(),
        "submitted by " + owner + " (" + specForm.jsonName() + " form)", owner, attempt);
  }

  /**
   * Moves the job to {@code to}, or throws IllegalStateException for a move {@link JobState} does
   * not allow. Returns the event that records the change; the caller stores both in one transaction.
   */
  public JobEvent transition(JobState to, String reason, String message, String actor, Instant now) {
    if (!state.canBecome(to)) {
      throw new IllegalStateException("job " + id + " cannot go from " + state + " to " + to + " (" + reason + ")");
    }
    JobEvent event = new JobEvent(id, now, state, to, reason, message, actor, attempt);
    state = to;
    updatedAt = now;
    if (to == JobState.RUNNING && startedAt == null) {
      startedAt = now;
    }
    if (to.terminal()) {
      finishedAt = now;
    }
    return event;
  }

  public UUID id() {
    return id;
  }

  public String name() {
    return name;
  }

  public String owner() {
    return owner;
  }

  public JobState state() {
    return state;
  }

  public SpecForm specForm() {
    return specForm;
  }

  public String spec() {
    return spec;
  }

  public String specArgs() {
    return specArgs;
  }

  public String effective() {
    return effective;
  }

  public String warnings() {
    return warnings;
  }

  public String notes() {
    return notes;
  }

  public String schedule() {
    return schedule;
  }

  public String deviceType() {
    return deviceType;
  }

  public int devices() {
    return devices;
  }

  public int attempt() {
    return attempt;
  }

  public int maxAttempts() {
    return maxAttempts;
  }

  byte[] requestHash() {
    return requestHash == null ? null : requestHash.clone();
  }

  public Instant createdAt() {
    return createdAt;
  }

  public Instant updatedAt() {
    return updatedAt;
  }

  public Instant startedAt() {
    return startedAt;
  }

  public Instant finishedAt() {
    return finishedAt;
  }

  public String summary() {
    return summary;
  }
}
