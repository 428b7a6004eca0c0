package dev.pipemoe.service.workers;

import java.time.Duration;
import java.time.Instant;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Workers, leases and the sweeper ({@code pipemoe.scheduler.*}). The first three travel to the
 * worker in its registration answer.
 *
 * @param heartbeatInterval how often a worker is told to heartbeat
 * @param leaseTimeout how long a lease holds without a heartbeat that renews it; after that the
 *     attempt is lost (three missed heartbeats by default). A worker whose last heartbeat is older
 *     than this is OFFLINE ({@link #onlineSince})
 * @param pollTimeout the longest a lease call waits for work (a larger {@code wait} is cut to it)
 * @param pollInterval how often a waiting lease call looks at the queue again; jobs submitted to
 *     this replica wake it at once, so this bounds the delay for jobs submitted to another replica
 * @param sweepInterval how often the sweeper looks for expired leases
 * @param sweepBatch the most expired leases one sweeper pass handles in one transaction; a full
 *     batch is followed at once by another pass
 */
@ConfigurationProperties("pipemoe.scheduler")
public record SchedulerProperties(
    @DefaultValue("10s") Duration heartbeatInterval,
    @DefaultValue("30s") Duration leaseTimeout,
    @DefaultValue("30s") Duration pollTimeout,
    @DefaultValue("1s") Duration pollInterval,
    @DefaultValue("5s") Duration sweepInterval,
    @DefaultValue("100") int sweepBatch) {

  public SchedulerProperties {
    for (Duration d : new Duration[] {heartbeatInterval, leaseTimeout, pollInterval, sweepInterval}) {
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("pipemoe.scheduler durations must be > 0, were heartbeat-interval "
            + heartbeatInterval + ", lease-timeout " + leaseTimeout + ", poll-interval " + pollInterval
            + ", sweep-interval " + sweepInterval);
      }
    }
    if (leaseTimeout.compareTo(heartbeatInterval) <= 0) {
      throw new IllegalArgumentException("pipemoe.scheduler.lease-timeout (" + leaseTimeout
          + ") must be longer than heartbeat-interval (" + heartbeatInterval + "), or every lease expires");
    }
    if (pollTimeout.isNegative() || sweepBatch < 1) {
      throw new IllegalArgumentException("pipemoe.scheduler.poll-timeout must be >= 0 and sweep-batch >= 1, were "
          + pollTimeout + " and " + sweepBatch);
    }
  }

  /**
   * A worker is online while its last heartbeat is at or after this: younger than the lease
   * timeout (beyond that its leases are expiring anyway).
   */
  public Instant onlineSince(Instant now) {
    return now.minus(leaseTimeout);
  }
}
