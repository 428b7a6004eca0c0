package dev.pipemoe.worker.run;

import dev.pipemoe.engine.protocol.Assignment;
import dev.pipemoe.engine.protocol.AttemptStatus;
import dev.pipemoe.engine.protocol.AttemptStatus.State;
import dev.pipemoe.worker.client.Backoff;
import dev.pipemoe.worker.client.ServiceClient;
import dev.pipemoe.worker.client.ServiceException;
import dev.pipemoe.worker.spool.Shipper;
import dev.pipemoe.worker.spool.Spool;
import dev.pipemoe.worker.spool.SpoolFile;
import dev.pipemoe.worker.system.WorkerMetrics;
import dev.pipemoe.worker.system.WorkerMetrics.Result;
import java.io.IOException;
import java.time.Duration;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One attempt from lease to final status, the protocol around an {@link EngineRun}:
 *
 * <pre>
 * STARTED (retried until the service takes it)
 *   -> EngineRun: steps -> StepMetrics -> spool
 *   -> seal the spool file; wait until the shipper has every record acknowledged (drain timeout)
 *   -> SUCCEEDED + summary | FAILED + reason | CANCELLED + summary (retried until taken)
 * </pre>
 *
 * The final status goes out only after the records are acknowledged (or the drain timeout, or the
 * shutdown grace, ran out), so a SUCCEEDED job has its metrics stored. A 409 or a heartbeat's
 * {@code lost} at any point ends the attempt without another word to the service; its spooled
 * records are still offered to the service.
 */
public final class AttemptRunner {
  private static final Logger log = LoggerFactory.getLogger(AttemptRunner.class);
  /** The part of a shutdown's grace period kept for reporting the final status. */
  static final long REPORT_RESERVE_NANOS = Duration.ofSeconds(2).toNanos();

  private final ServiceClient client;
  private final EngineRun engine;
  private final Spool spool;
  private final Shipper shipper;
  private final Backoff backoff;
  private final Duration drainTimeout;
  private final WorkerMetrics metrics;

  public AttemptRunner(ServiceClient client, EngineRun engine, Spool spool, Shipper shipper,
      Backoff backoff, Duration drainTimeout, WorkerMetrics metrics) {
    this.client = client;
    this.engine = engine;
    this.spool = spool;
    this.shipper = shipper;
    this.backoff = backoff;
    this.drainTimeout = drainTimeout;
    this.metrics = metrics;
  }

  /**
   * Runs the attempt to its end on the calling thread.
   *
   * @param workerId the current worker id (it changes if the worker has to register again), null
   *     while unregistered
   * @param shutdown the worker's shutdown: once begun, everything must end by its deadline
   */
  public void run(Assignment a, AttemptControl control, Supplier<String> workerId,
      Shutdown shutdown) {
    log.info("attempt {} of job '{}' leased: {} ranks, lease until {}", name(a), a.name(),
        a.ranks(), a.leaseExpiresAt());
    metrics.attemptStarted();
    Result result = Result.LOST;
    try {
      result = runLeased(a, control, workerId, shutdown);
    } finally {
      metrics.attemptEnded(result);
    }
  }

  private Result runLeased(Assignment a, AttemptControl control, Supplier<String> workerId,
      Shutdown shutdown) {
    if (!report(a, control, new AttemptStatus(State.STARTED, null, null, null), workerId,
        shutdown)) {
      return Result.LOST;
    }
    SpoolFile file;
    try {
      file = spool.create(a.ref());
    } catch (IOException e) {
      log.error("attempt {}: cannot create its spool file in {}", name(a), spool.directory(), e);
      AttemptStatus failed = new AttemptStatus(State.FAILED, "DEVICE_ERROR",
          "the worker cannot spool metrics: " + e, null);
      return report(a, control, failed, workerId, shutdown) ? Result.FAILED : Result.LOST;
    }
    try {
      EngineRun.Result run;
      try {
        run = engine.run(a, file, control);
      } catch (RuntimeException e) {  // EngineRun reports what it knows; this is a bug of ours
        log.error("attempt {}: the worker failed running it", name(a), e);
        run = new EngineRun.Result(control.lost() ? null : new AttemptStatus(State.FAILED,
            "ENGINE_ERROR", "the worker failed running the job: " + e, null), 0);
      }
      spool.seal(file);
      if (run.status() == null) {
        log.info("attempt {} stopped after {} steps: the service says it is no longer this"
            + " worker's", name(a), run.stepsCompleted());
        return Result.LOST;
      }
      awaitRecords(a, control, file, shutdown);
      if (!report(a, control, run.status(), workerId, shutdown)) {
        return Result.LOST;
      }
      log.info("attempt {} {}: {}{}", name(a), run.status().state(),
          run.status().reason() == null ? "" : run.status().reason() + ", ",
          run.status().summary() == null ? run.status().message()
              : RunSummary.describe(run.status().summary()));
      return switch (run.status().state()) {
        case SUCCEEDED -> Result.SUCCEEDED;
        case CANCELLED -> Result.CANCELLED;
        case FAILED, STARTED -> Result.FAILED;
      };
    } catch (IOException e) {
      log.error("attempt {}: its spool file failed", name(a), e);
      AttemptStatus failed = new AttemptStatus(State.FAILED, "DEVICE_ERROR",
          "the worker's spool failed: " + e, null);
      return report(a, control, failed, workerId, shutdown) ? Result.FAILED : Result.LOST;
    } finally {
      try {
        spool.seal(file);
      } catch (IOException e) {
        log.warn("attempt {}: sealing {} failed: {}", name(a), file, e.toString());
      }
    }
  }

  /**
   * Waits until the attempt's records are acknowledged, at most the drain timeout; in a shutdown
   * only until {@link #REPORT_RESERVE_NANOS} before its deadline, so the final status still fits.
   */
  private void awaitRecords(Assignment a, AttemptControl control, SpoolFile file,
      Shutdown shutdown) {
    long drainEnd = System.nanoTime() + drainTimeout.toNanos();
    boolean done;
    try {
      done = shipper.awaitDone(file, drainEnd, () -> control.lost()
          || shutdown.remainingNanos(REPORT_RESERVE_NANOS) <= 0);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      done = false;
    }
    if (!done && !control.lost()) {
      log.warn("attempt {}: reporting its end with {} of its {} metric records not yet"
          + " acknowledged; the spool keeps sending them", name(a), file.pendingRecords(),
          file.records());
    }
  }

  /**
   * Sends a status until the service takes it. False when the attempt is lost (409, or a
   * heartbeat said so) or the shutdown deadline passed first.
   */
  private boolean report(Assignment a, AttemptControl control, AttemptStatus status,
      Supplier<String> workerId, Shutdown shutdown) {
    for (int failures = 0; ; ) {
      if (control.lost()) {
        return false;
      }
      if (shutdown.remainingNanos(0) <= 0) {
        log.warn("attempt {}: the shutdown grace period ended before {} was reported; the service"
            + " will find the attempt lost when its lease expires", name(a), status.state());
        return false;
      }
      String id = workerId.get();
      if (id != null) {
        try {
          client.status(id, a.ref(), status);
          return true;
        } catch (ServiceException e) {
          if (e.kind() == ServiceException.Kind.CONFLICT) {
            control.request(AttemptControl.Stop.LOST);
            log.info("attempt {}: the service answered {} to {}: the attempt is no longer this"
                + " worker's", name(a), e.status(), status.state());
            return false;
          }
          log.warn("attempt {}: {} not reported yet: {}", name(a), status.state(), e.getMessage());
        }
      }
      sleep(Math.min(backoff.delay(failures++).toNanos(), shutdown.remainingNanos(0)));
    }
  }

  private static String name(Assignment a) {
    return AttemptControl.name(a.ref());
  }

  private static void sleep(long nanos) {
    try {
      Thread.sleep(Duration.ofNanos(Math.max(nanos, 1_000_000)));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
