package dev.pipemoe.service.metrics;

import dev.pipemoe.service.jobs.Job;
import dev.pipemoe.service.jobs.JobService;
import dev.pipemoe.service.security.Caller;
import dev.pipemoe.service.system.Ids;
import dev.pipemoe.service.system.ProblemResponses;
import dev.pipemoe.service.system.Problems;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.tags.Tag;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** A job's stored metrics and their summary; the job's owner and admins only (others get 404). */
@RestController
@RequestMapping("/api/v1/jobs/{id}")
@Tag(name = "jobs")
class MetricsController {

  private final JobService jobs;
  private final MetricsReader reader;
  private final MetricsProperties properties;

  MetricsController(JobService jobs, MetricsReader reader, MetricsProperties properties) {
    this.jobs = jobs;
    this.reader = reader;
    this.properties = properties;
  }

  @GetMapping("/metrics")
  @ProblemResponses({400, 404})
  @Operation(operationId = "getJobMetrics", summary = "A job's per-step metrics", description = "Per step aggregated over ranks (view=step: max step"
      + " time, mean busy times and FLOP/s, summed tokens/s and dropped tokens) or per rank (view=rank). Paged by"
      + " step: pass nextFromStep as fromStep. Downsampled with every=N (every N-th step) or points=K (at most K).")
  MetricsReader.Page metrics(@PathVariable String id,
      @Parameter(description = "latest (default), all, or an attempt number") @RequestParam(required = false) String attempt,
      @Parameter(description = "step (default) or rank") @RequestParam(defaultValue = "step") String view,
      @Parameter(description = "view=rank only: one rank") @RequestParam(required = false) Integer rank,
      @Parameter(description = "the first step of the page (default 0)") @RequestParam(defaultValue = "0") int fromStep,
      @Parameter(description = "steps per page, default 100, at most 1000") @RequestParam(required = false) Integer pageSize,
      @Parameter(description = "only every N-th step (steps divisible by N)") @RequestParam(required = false) Integer every,
      @Parameter(description = "at most K points over the stored steps") @RequestParam(required = false) Integer points,
      @Parameter(hidden = true) @AuthenticationPrincipal Caller caller) {
    if (!view.equals("step") && !view.equals("rank")) {
      throw Problems.invalidParameter("view", "view must be step or rank, was '" + view + "'");
    }
    positive("fromStep", fromStep, 0);
    positive("pageSize", pageSize, 1);
    positive("every", every, 1);
    positive("points", points, 1);
    positive("rank", rank, 0);
    if (every != null && points != null) {
      throw Problems.invalidParameter("points", "give every or points, not both");
    }
    if (rank != null && view.equals("step")) {
      throw Problems.invalidParameter("rank", "rank filters the per-rank view: add view=rank");
    }
    int size = pageSize != null ? pageSize : points != null ? Math.min(points, properties.maxPageSize())
        : properties.defaultPageSize();
    Job job = jobs.get(Ids.fromPath(id, "job"), caller);
    return reader.page(job, new MetricsReader.Query(attempt, view.equals("rank"), rank, fromStep, size, every, points));
  }

  @GetMapping("/summary")
  @ProblemResponses({400, 404})
  @Operation(operationId = "getJobSummary", summary = "A job's progress and performance", description = "Over the attempt's complete steps after"
      + " warm-up: mean FLOP/s per device, step-time mean and p50/p90/p99, exposed-communication share; progress,"
      + " ETA, and the worker's own summary once it finished. Formulas: docs/service.md.")
  MetricsReader.Summary summary(@PathVariable String id,
      @Parameter(description = "latest (default) or an attempt number") @RequestParam(required = false) String attempt,
      @Parameter(hidden = true) @AuthenticationPrincipal Caller caller) {
    return reader.summary(jobs.get(Ids.fromPath(id, "job"), caller), attempt);
  }

  private static void positive(String name, Integer value, int min) {
    if (value != null && value < min) {
      throw Problems.invalidParameter(name, name + " must be >= " + min + ", was " + value);
    }
  }
}
