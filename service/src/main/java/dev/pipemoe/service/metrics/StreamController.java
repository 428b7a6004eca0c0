package dev.pipemoe.service.metrics;

import dev.pipemoe.service.jobs.JobService;
import dev.pipemoe.service.security.Caller;
import dev.pipemoe.service.system.Ids;
import dev.pipemoe.service.system.ProblemResponses;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.util.UUID;
import org.springframework.http.CacheControl;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/** GET /api/v1/jobs/{id}/stream: server-sent events of a job, for its owner and admins. */
@RestController
@Tag(name = "jobs")
class StreamController {

  private final JobService jobs;
  private final JobStreams streams;

  StreamController(JobService jobs, JobStreams streams) {
    this.jobs = jobs;
    this.streams = streams;
  }

  @GetMapping(path = "/api/v1/jobs/{id}/stream", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
  @ProblemResponses({400, 404})
  @ApiResponse(responseCode = "200", description = "the events until the job finished", content = @Content(
      mediaType = MediaType.TEXT_EVENT_STREAM_VALUE, schema = @Schema(type = "string", format = "binary",
      description = "server-sent events (a byte stream to clients: OpenAPI 3.0 has no event schema): event:state"
      + " with a JobEvent as data, event:step with a StepRow, event:end with {\"state\": ...}")))
  @Operation(operationId = "streamJob", summary = "Follow a job live (server-sent events)", description = "event: state (each state change, as"
      + " in /events), event: step (each complete step aggregated over ranks, in order), a keep-alive comment every"
      + " 15 s, and event: end when the job finished; then the response completes. Every event has an id; send the"
      + " last one as Last-Event-ID to resume.")
  ResponseEntity<SseEmitter> stream(@PathVariable String id,
      @Parameter(description = "resume after this event id") @RequestHeader(name = "Last-Event-ID", required = false)
      String lastEventId,
      @Parameter(hidden = true) @AuthenticationPrincipal Caller caller) {
    UUID jobId = Ids.fromPath(id, "job");
    jobs.get(jobId, caller); // 404 for jobs the caller may not see
    StreamCursor cursor = StreamCursor.parse(lastEventId);
    return ResponseEntity.ok()
        .cacheControl(CacheControl.noStore())
        .header("X-Accel-Buffering", "no") // nginx and friends: do not buffer a stream
        .body(streams.open(jobId, cursor));
  }
}
