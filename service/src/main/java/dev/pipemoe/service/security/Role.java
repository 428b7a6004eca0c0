package dev.pipemoe.service.security;

/** What a token may do. A token has exactly one role. */
public enum Role {
  /** Submits jobs and sees, lists and cancels its owner's jobs. */
  USER,
  /** Everything a user may do, on every owner's jobs, plus token administration and metrics. */
  ADMIN,
  /**
   * A worker machine: only the worker protocol ({@code /api/v1/workers/**}) and the list of its own
   * owner's workers, never the jobs API.
   */
  WORKER,
  /** A Prometheus server: {@code GET /actuator/prometheus} (and health), nothing else. */
  METRICS;

  public String authority() {
    return "ROLE_" + name();
  }
}
