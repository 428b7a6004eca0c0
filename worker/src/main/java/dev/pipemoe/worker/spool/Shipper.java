package dev.pipemoe.worker.spool;

import dev.pipemoe.engine.protocol.AttemptRef;
import dev.pipemoe.engine.protocol.MetricBatch;
import dev.pipemoe.worker.client.Backoff;
import dev.pipemoe.worker.client.ServiceException;
import dev.pipemoe.worker.system.WorkerMetrics;
import dev.pipemoe.worker.system.WorkerMetrics.Failure;
import java.io.IOException;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the spool's records to the service in batches and moves each file's acknowledged offset
 * once the service answers {@code acknowledged: true}: at-least-once transport, and the service
 * stores each (job, attempt, step, rank) once, so exactly-once storage.
 *
 * <p>One pass ({@link #shipPending}) sends every pending record of every file, oldest file first,
 * a batch of at most {@code batchSize} records at a time. The loop ({@link #run}) makes a pass
 * whenever a batch fills up or a file is sealed, and at least every flush interval, so a record
 * waits at most about that long; after a failed batch it waits a backoff with full jitter. A 409
 * (the attempt is not this worker's) drops the file's records: the service will never take them.
 */
public final class Shipper implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(Shipper.class);

  /** The service's metrics call. */
  @FunctionalInterface
  public interface Sender {
    MetricBatch.Response send(MetricBatch.Request batch) throws ServiceException;
  }

  /** What a pass achieved. */
  public enum Pass { IDLE, SHIPPED, FAILED }

  private final Spool spool;
  private final Sender sender;
  private final int batchSize;
  private final long flushNanos;
  private final Backoff backoff;
  private final WorkerMetrics metrics;
  private final BooleanSupplier canShip;
  private final Consumer<AttemptRef> onRejected;
  private final Object wake = new Object();
  private final Object progress = new Object();
  private boolean woken;
  private volatile boolean stopped;

  /**
   * @param canShip false while the worker is not registered (nothing to send as yet)
   * @param onRejected told the attempt whose records the service refused with 409
   */
  public Shipper(Spool spool, Sender sender, int batchSize, Duration flushInterval,
      Backoff backoff, WorkerMetrics metrics, BooleanSupplier canShip,
      Consumer<AttemptRef> onRejected) {
    this.spool = spool;
    this.sender = sender;
    this.batchSize = batchSize;
    this.flushNanos = flushInterval.toNanos();
    this.backoff = backoff;
    this.metrics = metrics;
    this.canShip = canShip;
    this.onRejected = onRejected;
    spool.onChange(this::onSpoolChange);
  }

  @Override
  public void run() {
    int failures = 0;
    while (!stopped) {
      Pass pass;
      try {
        pass = canShip.getAsBoolean() ? shipPending() : Pass.IDLE;
      } catch (RuntimeException e) {
        log.error("shipper: unexpected failure; retrying", e);
        pass = Pass.FAILED;
      }
      if (pass == Pass.FAILED) {
        // new records or a waiting attempt do not cut a backoff short: the service is in trouble
        sleep(backoff.delay(failures++).toNanos(), false);
      } else {
        failures = 0;
        sleep(flushNanos, true);
      }
    }
  }

  /** Sends every pending record; stops at the first batch that fails. */
  public Pass shipPending() {
    Pass result = Pass.IDLE;
    for (SpoolFile f : spool.files()) {
      try {
        while (f.pendingRecords() > 0) {
          if (!shipOne(f)) {
            return Pass.FAILED;
          }
          result = Pass.SHIPPED;
          if (f.gone()) {
            break;
          }
        }
        if (f.drained()) {
          spool.remove(f);
          signalProgress();
        }
      } catch (IOException e) {
        log.error("shipper: spool {} cannot be read or updated: {}", f, e.toString());
        return Pass.FAILED;
      }
    }
    return result;
  }

  /** One batch of f; false when it was not acknowledged. */
  private boolean shipOne(SpoolFile f) throws IOException {
    f.force();  // fsync in groups: once per batch (at least every flush interval), not per record
    SpoolFile.Batch batch = f.next(batchSize);
    if (batch.unreadable() > 0) {
      metrics.dropped(batch.unreadable());
    }
    if (!batch.records().isEmpty()) {
      AttemptRef ref = f.ref();
      MetricBatch.Response answer;
      try {
        metrics.shipped(batch.records().size());
        answer = sender.send(new MetricBatch.Request(ref.jobId(), ref.attempt(), batch.records()));
      } catch (ServiceException e) {
        metrics.shippingFailed(Failure.of(e));
        if (e.kind() == ServiceException.Kind.CONFLICT) {
          reject(f, e);
          return true;
        }
        log.warn("shipper: {} records of {} not shipped: {}", batch.records().size(), ref,
            e.getMessage());
        return false;
      }
      if (answer == null || !answer.acknowledged()) {
        metrics.shippingFailed(Failure.SERVER);
        log.warn("shipper: the service did not acknowledge {} records of {} ({}); sending again",
            batch.records().size(), ref, answer);
        return false;
      }
      metrics.acked(batch.records().size());
    }
    f.ack(batch);
    signalProgress();
    return true;
  }

  private void reject(SpoolFile f, ServiceException e) throws IOException {
    long n = f.pendingRecords();
    log.warn("shipper: the service refused the records of {} (409: the attempt is not this"
        + " worker's); dropping its {} unacknowledged records: {}", f.ref(), n, e.getMessage());
    metrics.dropped(n);
    onRejected.accept(f.ref());  // first, so the attempt stops before its file disappears
    spool.remove(f);
    signalProgress();
  }

  /**
   * Waits until f is drained (sealed and acknowledged) or dropped, the deadline passes, or
   * giveUp says so. True when drained or dropped.
   */
  public boolean awaitDone(SpoolFile f, long deadlineNanos, BooleanSupplier giveUp)
      throws InterruptedException {
    wakeNow();
    synchronized (progress) {
      while (!f.gone() && !f.drained()) {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0 || giveUp.getAsBoolean()) {
          return false;
        }
        progress.wait(Math.max(1, Math.min(left / 1_000_000, 100)));
      }
      return true;
    }
  }

  public void stop() {
    stopped = true;
    wakeNow();
  }

  /** A pass now (a file was sealed, or an attempt waits for its records). */
  public void wakeNow() {
    synchronized (wake) {
      woken = true;
      wake.notifyAll();
    }
  }

  private void onSpoolChange(SpoolFile f) {
    if (f.sealed() || f.pendingRecords() >= batchSize) {
      wakeNow();  // a full batch, or an attempt's last records: no reason to wait
    }
  }

  private void signalProgress() {
    synchronized (progress) {
      progress.notifyAll();
    }
  }

  private void sleep(long nanos, boolean wakeable) {
    long deadline = System.nanoTime() + nanos;
    synchronized (wake) {
      try {
        while (!(wakeable && woken) && !stopped) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            break;
          }
          wake.wait(Math.max(1, left / 1_000_000));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        stopped = true;
      }
      woken = false;
    }
  }
}
