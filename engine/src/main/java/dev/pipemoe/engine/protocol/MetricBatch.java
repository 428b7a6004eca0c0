package dev.pipemoe.engine.protocol;

import dev.pipemoe.engine.metrics.StepMetrics;
import java.util.List;

/**
 * {@code POST /api/v1/workers/{workerId}/metrics}: per-step, per-rank records of one attempt.
 * Storing is idempotent on (job, attempt, step, rank): a replayed batch stores nothing twice. The
 * service answers with what it holds now, so the worker can drop those records from its spool.
 */
public final class MetricBatch {
  private MetricBatch() {}

  public record Request(String jobId, int attempt, List<StepMetrics> records) {}

  /**
   * @param stored records of this batch newly stored
   * @param duplicates records of this batch the service already held (replays)
   * @param acknowledged every record of this batch is durable (stored now or before)
   */
  public record Response(int stored, int duplicates, boolean acknowledged) {}
}
