package dev.pipemoe.service.workers;

import java.time.Duration;
import java.time.Instant;

/**
 * When the sweeper may judge leases: not before the web server is ready, and then only once the
 * running service has had a whole lease timeout to take the workers' heartbeats. A lease that
 * expired while the service (or its database) was down is therefore judged as if it had been
 * renewed at the moment the service came back: its lease clock discounts the downtime, and a worker
 * that kept running through the outage renews it with its next heartbeat (docs/service.md, 4.4).
 *
 * <p>The same holds after a pause of the sweeper itself: when a pass starts longer than the sweep
 * interval plus a heartbeat interval after the last successful one ended (a JVM pause, a database
 * outage that failed every pass), heartbeats may have failed the same way, and a new grace period
 * starts. Pauses are measured on the monotonic clock (the process's own time); the grace period's
 * end on the service's clock, against which leases expire.
 *
 * <p>One instance per sweeper; its methods run on the sweeper's thread and the ready event's.
 */
final class LeaseGrace {

  private final Duration grace;
  private final long pauseNanos;
  private Instant judgeFrom;  // null until the web server is ready
  private long lastPassEnd;

  /**
   * @param grace how long the running service waits before judging leases (the lease timeout)
   * @param pause a gap between successful passes longer than this is a pause of the sweeper
   */
  LeaseGrace(Duration grace, Duration pause) {
    this.grace = grace;
    this.pauseNanos = pause.toNanos();
  }

  /** The web server takes requests from now on: the first grace period starts. */
  synchronized void ready(Instant now, long nanoTime) {
    judgeFrom = now.plus(grace);
    lastPassEnd = nanoTime;
  }

  /**
   * Asked at the start of a pass: whether leases may be judged now; starts a new grace period
   * first when this pass comes after a pause.
   */
  synchronized boolean mayJudge(Instant now, long nanoTime) {
    if (judgeFrom == null) {
      return false;
    }
    if (nanoTime - lastPassEnd > pauseNanos) {
      Instant from = now.plus(grace);
      judgeFrom = from.isAfter(judgeFrom) ? from : judgeFrom;
    }
    return !now.isBefore(judgeFrom);
  }

  /** A pass completed (whether or not it judged): the next gap is measured from here. */
  synchronized void passed(long nanoTime) {
    lastPassEnd = nanoTime;
  }

  /** When leases are judged again at the earliest; null while the web server is not ready. */
  synchronized Instant judgeFrom() {
    return judgeFrom;
  }
}
