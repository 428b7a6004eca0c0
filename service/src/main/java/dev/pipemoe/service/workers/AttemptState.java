package dev.pipemoe.service.workers;

/**
 * An attempt's life: a lease is LEASED until the worker says STARTED, then RUNNING, and ends in
 * exactly one of the others. Only LEASED and RUNNING attempts hold a lease, count against their
 * worker's devices, and may be renewed; a job has at most one such attempt (a unique index says so).
 */
public enum AttemptState {
  LEASED,
  RUNNING,
  SUCCEEDED,
  FAILED,
  CANCELLED,
  /** The lease expired, or the worker registered with a new boot id: the worker is presumed gone. */
  LOST;

  /**
   * The states of {@link #live()} as an SQL list, for {@code state in ...}; written exactly as the
   * predicates of the partial indexes over live attempts (V2), so that queries can use them.
   */
  public static final String LIVE_SQL = "('LEASED', 'RUNNING')";

  public boolean live() {
    return this == LEASED || this == RUNNING;
  }
}
