package dev.pipemoe.worker.daemon;

import dev.pipemoe.worker.run.AttemptControl;
import dev.pipemoe.worker.spool.Spool;
import java.util.Locale;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * {@code worker} in {@code /actuator/health} and the readiness group: UP once registered, DOWN
 * (with the reason) while registering, when the token is refused, when the native runtime cannot
 * load, and while stopping.
 */
@Component  // bean workerHealthIndicator: health contributor "worker"
class WorkerHealthIndicator implements HealthIndicator {
  private final Worker worker;
  private final Spool spool;

  WorkerHealthIndicator(Worker worker, Spool spool) {
    this.worker = worker;
    this.spool = spool;
  }

  @Override
  public Health health() {
    Worker.State s = worker.state();
    Health.Builder h = s.phase() == Worker.Phase.REGISTERED ? Health.up() : Health.down();
    h.withDetail("phase", s.phase().name().toLowerCase(Locale.ROOT))
        .withDetail("detail", s.detail())
        .withDetail("spoolPendingRecords", spool.pendingRecords());
    if (worker.workerId() != null) {
      h.withDetail("workerId", worker.workerId());
    }
    worker.runningAttempt().ifPresent(a -> h.withDetail("attempt", AttemptControl.name(a)));
    return h.build();
  }
}
