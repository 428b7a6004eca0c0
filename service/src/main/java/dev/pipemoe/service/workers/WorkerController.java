package dev.pipemoe.service.workers;

import dev.pipemoe.engine.protocol.Assignment;
import dev.pipemoe.engine.protocol.AttemptStatus;
import dev.pipemoe.engine.protocol.Heartbeat;
import dev.pipemoe.engine.protocol.Register;
import dev.pipemoe.service.security.Caller;
import dev.pipemoe.service.system.Ids;
import dev.pipemoe.service.system.ProblemResponses;
import dev.pipemoe.service.system.Problems;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The worker protocol (docs/worker-protocol.md), WORKER tokens only. Bodies are the engine's
 * protocol records, so the contract exists once. Metric batches are the metrics feature's.
 */
@RestController
@RequestMapping("/api/v1/workers")
@Tag(name = "worker protocol", description = "register, heartbeat, lease, report: what worker processes call,"
    + " with WORKER tokens only (docs/worker-protocol.md)")
class WorkerController {

  private final WorkerRegistry registry;
  private final Leases leases;
  private final AttemptReports reports;

  WorkerController(WorkerRegistry registry, Leases leases, AttemptReports reports) {
    this.registry = registry;
    this.leases = leases;
    this.reports = reports;
  }

  @PostMapping
  @ProblemResponses({400, 409, 413})
  @Operation(operationId = "registerWorker", summary = "Register a worker", description = "Upsert by name. A new bootId loses the attempts the"
      + " previous process held (they are retried at once). Answers the worker id and the intervals to use.")
  Register.Response register(@RequestBody Register.Request request,
      @Parameter(hidden = true) @AuthenticationPrincipal Caller caller) {
    return registry.register(caller, request);
  }

  @PostMapping("/{workerId}/heartbeat")
  @ProblemResponses({400, 404, 413})
  @Operation(operationId = "sendHeartbeat", summary = "Heartbeat", description = "Renews the leases of the listed attempts; answers which to cancel"
      + " and which are lost (stop them, report nothing). 404: unknown worker, register again.")
  Heartbeat.Response heartbeat(@PathVariable String workerId, @RequestBody Heartbeat.Request request,
      @Parameter(hidden = true) @AuthenticationPrincipal Caller caller) {
    return registry.heartbeat(caller, Ids.fromPath(workerId, "worker"), request);
  }

  @PostMapping("/{workerId}/lease")
  @ProblemResponses({400, 404})
  @Operation(operationId = "leaseJob", summary = "Lease a job (long poll)", description = "Waits up to wait (ISO-8601, capped by the poll"
      + " timeout) for a queued job of the worker's device type that fits its free devices.")
  @ApiResponse(responseCode = "200", description = "an assignment: the job's spec, attempt, ranks, lease expiry")
  @ApiResponse(responseCode = "204", description = "nothing fitted within the wait", content = @Content)
  ResponseEntity<Assignment> lease(@PathVariable String workerId,
      @Parameter(description = "how long to wait for work, ISO-8601 (PT20S); default and cap: the poll timeout")
      @RequestParam(required = false) String wait,
      @Parameter(hidden = true) @AuthenticationPrincipal Caller caller) throws InterruptedException {
    return leases.lease(caller, Ids.fromPath(workerId, "worker"), waitOf(wait))
        .map(ResponseEntity::ok)
        .orElseGet(() -> ResponseEntity.noContent().build());
  }

  @PostMapping("/{workerId}/leave")
  @ProblemResponses(404)
  @Operation(operationId = "leaveFleet", summary = "Leave (the worker stops)", description = "The worker's waiting lease calls answer 204 and"
      + " it is leased nothing more until it registers again. Its running attempts are unaffected: it still"
      + " reports them.")
  @ApiResponse(responseCode = "204", description = "left", content = @Content)
  ResponseEntity<Void> leave(@PathVariable String workerId,
      @Parameter(hidden = true) @AuthenticationPrincipal Caller caller) {
    leases.leave(caller, Ids.fromPath(workerId, "worker"));
    return ResponseEntity.noContent().build();
  }

  @PostMapping("/{workerId}/attempts/{jobId}/{attempt}/status")
  @ProblemResponses({400, 404, 409, 413})
  @Operation(operationId = "reportAttemptStatus", summary = "Report an attempt's state", description = "STARTED, SUCCEEDED (with summary), FAILED (with"
      + " reason) or CANCELLED. 409 attempt-not-held: the attempt is no longer this worker's; stop it.")
  AttemptReports.Answer status(@PathVariable String workerId, @PathVariable String jobId, @PathVariable int attempt,
      @RequestBody AttemptStatus status, @Parameter(hidden = true) @AuthenticationPrincipal Caller caller) {
    return reports.report(caller, Ids.fromPath(workerId, "worker"), Ids.fromPath(jobId, "job"), attempt, status);
  }

  private static Duration waitOf(String wait) {
    if (wait == null) {
      return Duration.ofDays(1); // cut to the poll timeout
    }
    try {
      Duration d = Duration.parse(wait);
      if (!d.isNegative()) {
        return d;
      }
    } catch (DateTimeParseException e) {
      // answered below
    }
    throw Problems.invalidParameter("wait", "wait must be an ISO-8601 duration >= 0 such as PT20S, was '" + wait + "'");
  }
}
