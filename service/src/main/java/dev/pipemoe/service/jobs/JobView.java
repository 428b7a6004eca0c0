package dev.pipemoe.service.jobs;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonRawValue;
import io.swagger.v3.oas.annotations.media.Schema;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * A job as the API shows it. The spec, effective config, warnings and notes are stored as JSON
 * text and passed through as they are. A dry run has the same shape without what only storing
 * gives (id, owner, state, times, attempts) and with {@code dryRun: true}.
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
    @Schema(type = "object", description = "the spec as given; in the args form, the spec the string describes")
    @JsonRawValue String spec,
    @Schema(description = "the argument string as given (args form only)") String args,
    @Schema(type = "object", description = "what the engine runs: every default filled in, switched-off features off")
    @JsonRawValue String effective,
    @Schema(type = "array", description = "rules the spec breaks without being refused: {pointer, flag, rule, message}")
    @JsonRawValue String warnings,
    @Schema(type = "array", description = "the defaults and derivations the engine applied, in words")
    @JsonRawValue String notes,
    @Schema(type = "object", description = "the worker's summary of the run, once it finished (or was cancelled):"
        + " stepsCompleted, measuredSteps, meanStepSeconds, tflopsPerDevice, ...")
    @JsonRawValue String summary,
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

  /** A job in a listing: what tells jobs apart, without the spec (GET the job for that). */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Summary(UUID id, String name, String owner, JobState state, String schedule, String deviceType,
      int devices, int attempt, Instant createdAt, Instant updatedAt, Instant finishedAt) {

    static Summary of(Job job) {
      return new Summary(job.id(), job.name(), job.owner(), job.state(), job.schedule(), job.deviceType(),
          job.devices(), job.attempt(), job.createdAt(), job.updatedAt(), job.finishedAt());
    }
  }

  /** A page of jobs; {@code nextPageToken} is absent on the last page. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Page(List<Summary> jobs, String nextPageToken) {}

  /** One state change: {@code from} is absent on the submission event. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Event(Instant at, JobState from, JobState to, String reason, String message, String actor, int attempt) {

    static Event of(JobEvent e) {
      return new Event(e.at(), e.fromState(), e.toState(), e.reason(), e.message(), e.actor(), e.attempt());
    }
  }

  record Events(UUID jobId, List<Event> events) {}
}
