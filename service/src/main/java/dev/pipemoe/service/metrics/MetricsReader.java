package dev.pipemoe.service.metrics;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonRawValue;
import dev.pipemoe.engine.metrics.StepSplit;
import dev.pipemoe.engine.protocol.AttemptStatus;
import dev.pipemoe.service.jobs.Job;
import dev.pipemoe.service.jobs.JobState;
import dev.pipemoe.service.metrics.StepMetricsRepository.RankRow;
import dev.pipemoe.service.metrics.StepMetricsRepository.StepRow;
import dev.pipemoe.service.system.Problems;
import io.swagger.v3.oas.annotations.media.Schema;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.UUID;
import org.springframework.stereotype.Service;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * GET .../metrics and GET .../summary: which attempts a request means, how a page is cut, and the
 * summary's formulas (docs/service.md, "Reading metrics").
 */
@Service
class MetricsReader {

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final StepMetricsRepository repository;
  private final MetricsProperties properties;
  private final InstantSource clock;

  MetricsReader(StepMetricsRepository repository, MetricsProperties properties, InstantSource clock) {
    this.repository = repository;
    this.properties = properties;
    this.clock = clock;
  }

  /** A page request, its parameters checked by the controller. {@code every} and {@code points} are exclusive. */
  record Query(String attempt, boolean perRank, Integer rank, int fromStep, int pageSize, Integer every,
      Integer points) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  @Schema(name = "MetricsPage")
  record Page(UUID jobId, String view, List<Integer> attempts, int every, List<StepRow> steps, List<RankRow> records,
      Integer nextFromStep) {}

  Page page(Job job, Query q) {
    List<Integer> selected = select(job, q.attempt());
    String view = q.perRank() ? "rank" : "step";
    if (selected.isEmpty()) {
      return new Page(job.id(), view, selected, 1, q.perRank() ? null : List.of(), q.perRank() ? List.of() : null, null);
    }
    int every = q.every() != null ? q.every() : q.points() == null ? 1 : everyFor(job.id(), selected, q.points());
    int size = Math.min(q.pageSize(), properties.maxPageSize());
    if (q.perRank()) {
      // a page of a 4,096-rank job holds fewer steps, so that it stays a page
      size = Math.min(size, Math.max(1, properties.maxRowsPerPage() / Math.max(1, job.devices())));
      List<RankRow> rows = repository.ranks(job.id(), selected, q.fromStep(), every, size + 1, q.rank());
      List<Integer> steps = rows.stream().map(RankRow::step).distinct().toList();
      Integer next = steps.size() > size ? steps.get(size) : null;
      List<RankRow> page = next == null ? rows : rows.stream().filter(r -> r.step() < next).toList();
      return new Page(job.id(), view, selected, every, null, page, next);
    }
    List<StepRow> rows = repository.steps(job.id(), selected, q.fromStep(), every, size + 1);
    List<Integer> steps = rows.stream().map(StepRow::step).distinct().toList();
    Integer next = steps.size() > size ? steps.get(size) : null;
    List<StepRow> page = next == null ? rows : rows.stream().filter(r -> r.step() < next).toList();
    return new Page(job.id(), view, selected, every, page, null, next);
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  @Schema(name = "JobSummary")
  record Summary(UUID jobId, JobState state, Integer attempt, Integer ranks, int steps, int warmupSteps,
      int stepsDone, double progress, int measuredSteps, Double tflopsPerDevice, Double hardwareTflopsPerDevice,
      Double tokensPerSecond, StepTime stepSeconds, Double exposedCommShare, Double lastLoss, long droppedTokens,
      Double etaSeconds, Instant estimatedFinishAt,
      @Schema(description = "mean over the measured steps of each part's mean over ranks; absent when the"
          + " workers sent no split") StepSplit split,
      @Schema(description = "the loss's mean over the attempt's first and last min(20, steps/2) complete steps;"
          + " absent before two steps") StepMetricsRepository.LossTrend lossTrend,
      @Schema(implementation = AttemptStatus.Summary.class, description = "the worker's own summary, once it reported"
          + " one") @JsonRawValue String reported) {}

  /** Step time over measured steps: the mean and nearest-rank percentiles of the per-step maximum. */
  record StepTime(Double mean, Double p50, Double p90, Double p99) {}

  Summary summary(Job job, String attemptParameter) {
    JsonNode training = JSON.readTree(job.effective()).path("training");
    int steps = training.path("steps").asInt();
    int warmup = training.path("warmupSteps").asInt();
    if ("all".equals(attemptParameter)) {
      throw Problems.invalidParameter("attempt", "a summary is of one attempt: latest (default) or a number");
    }
    List<Integer> selected = select(job, attemptParameter);
    if (selected.isEmpty()) {
      return new Summary(job.id(), job.state(), null, null, steps, warmup, 0, 0, 0, null, null, null, null, null,
          null, 0, null, null, null, null, job.summary());
    }
    int attempt = selected.getFirst();
    // every attempt runs all of the job's ranks (a lease takes jobs.devices devices)
    StepMetricsRepository.Totals t = repository.totals(job.id(), attempt, job.devices(), warmup);
    Double mean = t.meanStepSeconds() != null ? t.meanStepSeconds() : t.meanStepSecondsAll();
    Double eta = null;
    Instant finish = null;
    boolean active = job.state().hasLiveAttempt();
    if (active && attempt == job.attempt() && mean != null) {
      eta = Math.max(0, steps - t.stepsDone()) * mean;
      finish = clock.instant().plus(Duration.ofNanos((long) (eta * 1e9)));
    }
    return new Summary(job.id(), job.state(), attempt, job.devices(), steps, warmup, t.stepsDone(),
        steps == 0 ? 0 : (double) t.stepsDone() / steps, t.measuredSteps(), t.tflopsPerDevice(),
        t.hardwareTflopsPerDevice(), t.tokensPerSecond(), new StepTime(t.meanStepSeconds(), t.p50(), t.p90(), t.p99()),
        t.exposedCommShare(), t.lastLoss(), t.droppedTokens(), eta, finish, t.split(), t.lossTrend(),
        attempt == job.attempt() ? job.summary() : null);
  }

  /** latest (the job's current attempt), all, or one attempt by number; none before the first lease. */
  private static List<Integer> select(Job job, String attempt) {
    if (attempt == null || attempt.equals("latest")) {
      return job.attempt() == 0 ? List.of() : List.of(job.attempt());
    }
    if (attempt.equals("all")) {
      return java.util.stream.IntStream.rangeClosed(1, job.attempt()).boxed().toList();
    }
    try {
      int n = Integer.parseInt(attempt);
      if (n >= 1 && n <= job.attempt()) {
        return List.of(n);
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw Problems.invalidParameter("attempt", "attempt must be latest, all, or a number from 1 to "
        + job.attempt() + " (the job's attempts so far), was '" + attempt + "'");
  }

  /** points=K: the smallest n for which every n-th step of the stored range gives at most K points. */
  private int everyFor(UUID jobId, List<Integer> attempts, int points) {
    return repository.stepRange(jobId, attempts)
        .map(r -> Math.max(1, (int) Math.ceil((r[1] - r[0] + 1) / (double) points)))
        .orElse(1);
  }
}
