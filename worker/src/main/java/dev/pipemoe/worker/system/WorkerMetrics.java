package dev.pipemoe.worker.system;

import dev.pipemoe.worker.client.ServiceException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToDoubleFunction;

/**
 * The worker's own Micrometer meters, {@code pipemoe_worker_*} in Prometheus, in base units, with
 * bounded tags (a result or a failure kind, never a job id). Every series exists from the start,
 * at zero, so dashboards and alerts see it before the first event. docs/worker.md lists them.
 */
public final class WorkerMetrics {
  /** How an attempt ended on this worker. */
  public enum Result { SUCCEEDED, FAILED, CANCELLED, LOST }

  /** Why a call to the service failed. */
  public enum Failure {
    UNREACHABLE, SERVER, UNAUTHORIZED, CONFLICT, UNKNOWN_WORKER;

    public static Failure of(ServiceException e) {
      return switch (e.kind()) {
        case UNAUTHORIZED -> UNAUTHORIZED;
        case CONFLICT -> CONFLICT;
        case UNKNOWN_WORKER -> UNKNOWN_WORKER;
        case RETRYABLE -> e.status() == 0 ? UNREACHABLE : SERVER;
      };
    }
  }

  /** What a lease poll brought. */
  public enum Poll { ASSIGNED, EMPTY, FAILED }

  private final MeterRegistry registry;
  private final AtomicInteger running = new AtomicInteger();
  private final Counter steps;
  private final Counter spooled;
  private final Counter shipped;
  private final Counter acked;
  private final Counter dropped;
  private final Map<Result, Counter> attempts = new EnumMap<>(Result.class);
  private final Map<Failure, Counter> shippingFailures = new EnumMap<>(Failure.class);
  private final Map<Failure, Counter> heartbeatFailures = new EnumMap<>(Failure.class);
  private final Map<Poll, Counter> polls = new EnumMap<>(Poll.class);

  public WorkerMetrics(MeterRegistry registry) {
    this.registry = registry;
    Gauge.builder("pipemoe.worker.attempts.running", running, AtomicInteger::get)
        .description("attempts this worker is running, from lease to final status (0 or 1)")
        .register(registry);
    steps = Counter.builder("pipemoe.worker.steps")
        .description("training steps completed (every rank of the step done)").register(registry);
    spooled = records("spooled", "metric records appended to the spool");
    shipped = records("shipped",
        "metric records sent to the service (a retried batch counts again)");
    acked = records("acked", "metric records the service acknowledged as stored");
    dropped = records("dropped",
        "metric records given up unstored: the service answered 409, or the line was unreadable");
    for (Result r : Result.values()) {
      attempts.put(r, Counter.builder("pipemoe.worker.attempts").tag("result", lower(r))
          .description("attempts that ended on this worker, by result").register(registry));
    }
    for (Failure f : Failure.values()) {
      shippingFailures.put(f, Counter.builder("pipemoe.worker.shipping.failures")
          .tag("kind", lower(f)).description("metric batches the service did not acknowledge")
          .register(registry));
      heartbeatFailures.put(f, Counter.builder("pipemoe.worker.heartbeat.failures")
          .tag("kind", lower(f)).description("registrations and heartbeats that failed")
          .register(registry));
    }
    for (Poll p : Poll.values()) {
      polls.put(p, Counter.builder("pipemoe.worker.lease.polls").tag("result", lower(p))
          .description("lease long-polls by outcome: assigned, empty (nothing fit in time), failed")
          .register(registry));
    }
  }

  private Counter records(String what, String description) {
    return Counter.builder("pipemoe.worker.metric.records." + what).description(description)
        .register(registry);
  }

  /** The spool's size on disk, read when scraped. */
  public <T> void spoolGauges(T spool, ToDoubleFunction<T> bytes, ToDoubleFunction<T> pending) {
    Gauge.builder("pipemoe.worker.spool.size", spool, bytes).baseUnit("bytes")
        .description("bytes of metric records on disk, acknowledged or not").register(registry);
    Gauge.builder("pipemoe.worker.spool.pending", spool, pending).baseUnit("records")
        .description("metric records on disk not yet acknowledged by the service")
        .register(registry);
  }

  public void attemptStarted() {
    running.incrementAndGet();
  }

  public void attemptEnded(Result result) {
    running.decrementAndGet();
    attempts.get(result).increment();
  }

  public void stepCompleted() {
    steps.increment();
  }

  public void spooled(int n) {
    spooled.increment(n);
  }

  public void shipped(int n) {
    shipped.increment(n);
  }

  public void acked(int n) {
    acked.increment(n);
  }

  public void dropped(long n) {
    dropped.increment(n);
  }

  public void shippingFailed(Failure f) {
    shippingFailures.get(f).increment();
  }

  public void heartbeatFailed(Failure f) {
    heartbeatFailures.get(f).increment();
  }

  public void leasePolled(Poll p) {
    polls.get(p).increment();
  }

  private static String lower(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT);
  }
}
