package dev.pipemoe.service.jobs;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonRawValue;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import dev.pipemoe.engine.config.EngineConfig;
import dev.pipemoe.engine.config.JobSpec;
import dev.pipemoe.engine.protocol.AttemptStatus;
import dev.pipemoe.service.system.Problems;
import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Schema;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * A job as the API shows it. The spec, effective config, warnings, notes and summary are stored
 * as JSON text and passed through as they are; their schemas are the types that wrote them. A dry
 * run has the same shape without what only storing gives (id, owner, state, times, attempts) and
 * with {@code dryRun: true}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
record JobView(
    UUID id,
    String name,
    String owner,
    JobState state,
    Instant createdAt,
    Instant updatedAt,
    Instant startedAt,
    Instant finishedAt,
    Integer attempt,
    Integer maxAttempts,
    @Schema(description = "json, yaml or args: how the spec was given") SpecForm form,
    @Schema(implementation = JobSpec.class, description = "the spec as given; in the args form, the spec the string"
        + " describes") @JsonRawValue String spec,
    @Schema(description = "the argument string as given (args form only)") String args,
    @Schema(implementation = EffectiveConfig.class) @JsonRawValue String effective,
    @ArraySchema(schema = @Schema(implementation = Problems.FieldError.class), arraySchema = @Schema(description =
        "rules the spec breaks without being refused: what runs differs from what was asked"))
    @JsonRawValue String warnings,
    @ArraySchema(schema = @Schema(implementation = String.class), arraySchema = @Schema(description =
        "the defaults and derivations the engine applied, in words")) @JsonRawValue String notes,
    @Schema(implementation = AttemptStatus.Summary.class, description = "the worker's summary of the run, once it"
        + " reported one") @JsonRawValue String summary,
    Waiting waiting,
    Boolean dryRun) {

  /** @param waiting why a QUEUED job waits; null for jobs in other states */
  static JobView of(Job job, Waiting waiting) {
    return new JobView(job.id(), job.name(), job.owner(), job.state(), job.createdAt(), job.updatedAt(),
        job.startedAt(), job.finishedAt(), job.attempt(), job.maxAttempts(), job.specForm(), job.spec(),
        job.specArgs(), job.effective(), job.warnings(), job.notes(), job.summary(), waiting, null);
  }

  static JobView dryRun(Prepared p) {
    return new JobView(null, p.name(), null, null, null, null, null, null, null, null, p.form(), p.specJson(),
        p.args(), p.effectiveJson(), p.warningsJson(), p.notesJson(), null, null, true);
  }

  /**
   * The schema of {@code effective} in /v3/api-docs: the engine's {@link EngineConfig} sections and
   * what {@link JobJson#effective} derives from them, the two types that write it.
   */
  @Schema(name = "EffectiveConfig", description = "what the engine runs: every default filled in, switched-off"
      + " features off, plus the values derived from them that people look for first")
  record EffectiveConfig(@JsonUnwrapped EngineConfig config, @JsonUnwrapped JobJson.Derived derived) {}

  /** A job in a listing: what tells jobs apart, without the spec (GET the job for that). */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @Schema(name = "JobListEntry")
  record Summary(UUID id, String name, String owner, JobState state, String schedule, String deviceType,
      int devices, int attempt, Instant createdAt, Instant updatedAt, Instant finishedAt) {

    static Summary of(Job job) {
      return new Summary(job.id(), job.name(), job.owner(), job.state(), job.schedule(), job.deviceType(),
          job.devices(), job.attempt(), job.createdAt(), job.updatedAt(), job.finishedAt());
    }
  }

  /** A page of jobs; {@code nextPageToken} is absent on the last page. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @Schema(name = "JobPage")
  record Page(List<Summary> jobs, String nextPageToken) {}

  /** One state change: {@code from} is absent on the submission event. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @Schema(name = "JobEvent")
  record Event(Instant at, JobState from, JobState to, String reason, String message, String actor, int attempt) {

    static Event of(JobEvent e) {
      return new Event(e.at(), e.fromState(), e.toState(), e.reason(), e.message(), e.actor(), e.attempt());
    }
  }

  @Schema(name = "JobEvents")
  record Events(UUID jobId, List<Event> events) {}
}
