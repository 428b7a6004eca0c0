package dev.pipemoe.service.workers;

import java.time.Duration;
import java.util.UUID;

/**
 * What the scheduler tells the rest of the service, as Spring application events published inside
 * its transactions; listeners use {@code @TransactionalEventListener} and so observe them only
 * once committed (the metrics feature counts them, the queue signal wakes lease calls).
 */
public final class AttemptNotices {

  private AttemptNotices() {}

  /**
   * A worker leased a job.
   *
   * @param queueWait from when the job last entered the queue to this lease
   * @param sinceSubmit from submission to this lease; only for a job's first attempt, else null
   */
  public record Leased(UUID jobId, int attempt, String deviceType, Duration queueWait, Duration sinceSubmit) {}

  /** A live attempt ended: its worker's devices are free again. */
  public record Ended(UUID jobId, int attempt, AttemptState state, String deviceType) {}

  /** One pass of the lease sweeper: how many leases it expired, or that it failed. */
  public record Swept(int expired, boolean failed) {}
}
