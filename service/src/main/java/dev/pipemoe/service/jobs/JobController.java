package dev.pipemoe.service.jobs;

import dev.pipemoe.service.security.Caller;
import dev.pipemoe.service.system.Ids;
import dev.pipemoe.service.system.ProblemResponses;
import dev.pipemoe.service.system.Problems;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.net.URI;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.ErrorResponseException;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** The jobs API. Users see their own jobs, admins everyone's; other owners' jobs are 404 to users. */
@RestController
@RequestMapping("/api/v1/jobs")
@Tag(name = "jobs", description = "submit, list, inspect and cancel MoE training jobs")
class JobController {

  static final String IDEMPOTENCY_KEY = "Idempotency-Key";
  static final String REPLAYED = "Idempotent-Replayed";

  private final SubmissionReader reader;
  private final SubmissionValidator validator;
  private final JobService jobs;
  private final JobsProperties properties;
  private final ApplicationEventPublisher notices;
  private final WaitingReasons waiting;

  JobController(SubmissionReader reader, SubmissionValidator validator, JobService jobs, JobsProperties properties,
      ApplicationEventPublisher notices, WaitingReasons waiting) {
    this.reader = reader;
    this.validator = validator;
    this.jobs = jobs;
    this.properties = properties;
    this.notices = notices;
    this.waiting = waiting;
  }

  @PostMapping
  @Operation(operationId = "submitJob", summary = "Submit a job", description = "The body is the job: a name plus either the spec's fields"
      + " (JSON, or YAML with Content-Type application/yaml) or a MindSpeed-style argument string in args."
      + " 201 with the stored job; 200 with the same body and nothing stored when dryRun=true; 400 malformed,"
      + " 413 too large, 415 not JSON/YAML, 422 invalid (every violated rule in errors, with its JSON pointer).")
  @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = {
      @Content(mediaType = "application/json", schema = @Schema(implementation = OpenApiExamples.SubmissionSchema.class),
          examples = {
              @ExampleObject(name = "spec", summary = "spec fields as JSON", value = OpenApiExamples.JSON),
              @ExampleObject(name = "args", summary = "a MindSpeed-style argument string", value = OpenApiExamples.ARGS)}),
      @Content(mediaType = "application/yaml", schema = @Schema(implementation = OpenApiExamples.SubmissionSchema.class),
          examples = @ExampleObject(name = "yaml", summary = "spec fields as YAML", value = OpenApiExamples.YAML))})
  @ApiResponse(responseCode = "201", description = "stored, QUEUED")
  @ApiResponse(responseCode = "200", description = "dry run: validated, nothing stored")
  @ProblemResponses({400, 413, 415, 422})
  ResponseEntity<JobView> submit(
      @Parameter(hidden = true) // the request body's media types say it
      @RequestHeader(name = HttpHeaders.CONTENT_TYPE, required = false) String contentType,
      @Parameter(description = "makes a retried submit safe: same key and body return the first job,"
          + " the same key with another body is 422; per owner, up to 255 visible ASCII characters")
      @RequestHeader(name = IDEMPOTENCY_KEY, required = false) String idempotencyKey,
      @Parameter(description = "validate only; store nothing") @RequestParam(defaultValue = "false") boolean dryRun,
      @Parameter(hidden = true) @AuthenticationPrincipal Caller caller,
      HttpServletRequest request) throws IOException {
    try {
      ResponseEntity<JobView> response = store(contentType, idempotencyKey, dryRun, caller, request);
      notices.publishEvent(new JobNotices.Submitted(dryRun ? JobNotices.SubmitOutcome.DRY_RUN
          : response.getHeaders().containsHeader(REPLAYED) ? JobNotices.SubmitOutcome.REPLAYED
          : JobNotices.SubmitOutcome.ACCEPTED));
      return response;
    } catch (ErrorResponseException e) {
      notices.publishEvent(new JobNotices.Submitted(refusal(e)));
      throw e;
    }
  }

  private ResponseEntity<JobView> store(String contentType, String idempotencyKey, boolean dryRun, Caller caller,
      HttpServletRequest request) throws IOException {
    SpecForm form = reader.form(contentType);
    String key = idempotencyKey(idempotencyKey);
    // within pipemoe.jobs.max-body-size: BodyLimitFilter refused larger bodies before they were read
    byte[] body = request.getInputStream().readAllBytes();
    Submission submission = reader.read(form, body, key != null && !dryRun);
    Prepared prepared = validator.validate(submission);
    if (dryRun) {
      return ResponseEntity.ok(JobView.dryRun(prepared));
    }
    JobService.Submitted submitted = jobs.submit(submission, prepared, caller, key);
    ResponseEntity.BodyBuilder response = ResponseEntity.created(URI.create("/api/v1/jobs/" + submitted.job().id()));
    if (submitted.replayed()) {
      response.header(REPLAYED, "true");
    }
    return response.body(view(submitted.job()));
  }

  @GetMapping("/{id}")
  @ProblemResponses(404)
  @Operation(operationId = "getJob", summary = "Get a job: spec as given, effective config, warnings, state; for a queued job, why it waits")
  JobView get(@PathVariable String id, @Parameter(hidden = true) @AuthenticationPrincipal Caller caller) {
    return view(jobs.get(jobId(id), caller));
  }

  @GetMapping
  @ProblemResponses(400)
  @Operation(operationId = "listJobs", summary = "List jobs, newest first", description = "Keyset paging: pass nextPageToken as pageToken"
      + " with the same filters. Users list only their own jobs; admins all, or one owner's with owner=.")
  JobView.Page list(
      @Parameter(description = "only these states; repeat or comma-separate") @RequestParam(name = "state", required = false) List<String> states,
      @Parameter(description = "only names starting with this") @RequestParam(required = false) String namePrefix,
      @Parameter(description = "only this owner's jobs (users: only their own name matches anything)") @RequestParam(required = false) String owner,
      @Parameter(description = "jobs per page, default 20, at most 100") @RequestParam(required = false) Integer pageSize,
      @Parameter(description = "nextPageToken of the previous page") @RequestParam(required = false) String pageToken,
      @Parameter(hidden = true) @AuthenticationPrincipal Caller caller) {
    int size = pageSize(pageSize);
    if (!caller.isAdmin() && owner != null && !owner.equals(caller.owner())) {
      return new JobView.Page(List.of(), null); // users see only their own jobs: another owner's filter matches none
    }
    String ownerFilter = caller.isAdmin() ? owner : caller.owner();
    JobQuery query = new JobQuery(states(states), namePrefix, ownerFilter, size, null).after(pageToken);
    JobService.Page page = jobs.list(query);
    return new JobView.Page(page.jobs().stream().map(JobView.Summary::of).toList(), page.nextPageToken());
  }

  @PostMapping("/{id}/cancel")
  @ProblemResponses({404, 409})
  @Operation(operationId = "cancelJob", summary = "Cancel a job", description = "QUEUED becomes CANCELLED, RUNNING becomes CANCELLING (the"
      + " worker confirms); CANCELLING and finished jobs are returned unchanged. Idempotent; always 200.")
  JobView cancel(@PathVariable String id, @Parameter(hidden = true) @AuthenticationPrincipal Caller caller) {
    return view(jobs.cancel(jobId(id), caller));
  }

  @GetMapping("/{id}/events")
  @ProblemResponses(404)
  @Operation(operationId = "listJobEvents", summary = "Every state change of a job, oldest first, with time, reason code and message")
  JobView.Events events(@PathVariable String id, @Parameter(hidden = true) @AuthenticationPrincipal Caller caller) {
    UUID jobId = jobId(id);
    return new JobView.Events(jobId, jobs.events(jobId, caller).stream().map(JobView.Event::of).toList());
  }

  private static JobNotices.SubmitOutcome refusal(ErrorResponseException e) {
    if (Problems.IDEMPOTENCY_KEY_REUSED.equals(e.getBody().getType())) {
      return JobNotices.SubmitOutcome.KEY_REUSED;
    }
    if (e.getStatusCode().isSameCodeAs(HttpStatus.UNPROCESSABLE_CONTENT)) {
      return JobNotices.SubmitOutcome.INVALID;
    }
    return e.getStatusCode().isSameCodeAs(HttpStatus.BAD_REQUEST) ? JobNotices.SubmitOutcome.MALFORMED
        : JobNotices.SubmitOutcome.REFUSED;
  }

  /** The job, and for a queued one why it waits (one more statement; not in listings). */
  private JobView view(Job job) {
    return JobView.of(job, job.state() == JobState.QUEUED ? waiting.of(job) : null);
  }

  /** An id that is no UUID names no job: 404, like an unknown one. */
  private static UUID jobId(String id) {
    return Ids.fromPath(id, "job");
  }

  private int pageSize(Integer requested) {
    if (requested == null) {
      return properties.defaultPageSize();
    }
    if (requested < 1) {
      throw Problems.invalidParameter("pageSize", "pageSize must be >= 1, was " + requested);
    }
    return Math.min(requested, properties.maxPageSize());
  }

  private static Set<JobState> states(List<String> names) {
    Set<JobState> states = EnumSet.noneOf(JobState.class);
    for (String name : names == null ? List.<String>of() : names) {
      try {
        states.add(JobState.valueOf(name.strip().toUpperCase(Locale.ROOT)));
      } catch (IllegalArgumentException e) {
        throw Problems.invalidParameter("state", "state must be one of " + EnumSet.allOf(JobState.class) + ", was '" + name + "'");
      }
    }
    return states;
  }

  private static String idempotencyKey(String key) {
    if (key == null) {
      return null;
    }
    if (key.isEmpty() || key.length() > 255 || !key.chars().allMatch(c -> c >= 0x21 && c <= 0x7e)) {
      throw Problems.invalidParameter(IDEMPOTENCY_KEY, "Idempotency-Key must be 1-255 visible ASCII characters"
          + " (a UUID is a good choice)");
    }
    return key;
  }
}
