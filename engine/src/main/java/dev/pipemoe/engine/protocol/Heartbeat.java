package dev.pipemoe.engine.protocol;

import java.time.Instant;
import java.util.List;

/** {@code POST /api/v1/workers/{workerId}/heartbeat}: alive, and what it is running. */
public final class Heartbeat {
  private Heartbeat() {}

  /** @param running the attempts the worker is running now; their leases are renewed */
  public record Request(List<AttemptRef> running, int freeDevices) {}

  /**
   * @param cancel attempts the worker must stop (between steps) and report as cancelled
   * @param lost attempts the service no longer considers the worker's (their lease expired, or
   *     another boot of the worker holds the name): the worker stops them without reporting
   * @param leaseExpiresAt until when the renewed leases hold
   */
  public record Response(List<AttemptRef> cancel, List<AttemptRef> lost, Instant leaseExpiresAt) {}
}
