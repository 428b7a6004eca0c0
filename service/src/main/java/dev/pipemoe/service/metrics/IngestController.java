package dev.pipemoe.service.metrics;

import dev.pipemoe.engine.protocol.MetricBatch;
import dev.pipemoe.service.security.Caller;
import dev.pipemoe.service.system.Ids;
import dev.pipemoe.service.system.ProblemResponses;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.tags.Tag;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/** The worker protocol's metric batches (WORKER tokens, like the rest of /api/v1/workers/**). */
@RestController
@Tag(name = "worker protocol")
class IngestController {

  private final MetricIngest ingest;

  IngestController(MetricIngest ingest) {
    this.ingest = ingest;
  }

  @PostMapping("/api/v1/workers/{workerId}/metrics")
  @ProblemResponses({400, 404, 409, 413})
  @Operation(operationId = "sendMetricBatch", summary = "Send a metric batch", description = "Per-step, per-rank records of one attempt. Idempotent on"
      + " (job, attempt, step, rank): replays are counted as duplicates and change nothing. acknowledged: true"
      + " once every record of the batch is durable. 409 attempt-not-held: the attempt is lost or not this worker's.")
  MetricBatch.Response ingest(@PathVariable String workerId, @RequestBody MetricBatch.Request batch,
      @Parameter(hidden = true) @AuthenticationPrincipal Caller caller) {
    return ingest.ingest(caller, Ids.fromPath(workerId, "worker"), batch);
  }
}
