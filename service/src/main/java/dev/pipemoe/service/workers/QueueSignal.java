package dev.pipemoe.service.workers;

import dev.pipemoe.service.jobs.JobNotices;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;
import org.springframework.transaction.event.TransactionalEventListener;

/**
 * Wakes the lease calls waiting on this replica when work may have appeared for their device type:
 * a job was queued (submitted or retried) or an attempt ended (its devices are free). Only a hint:
 * a woken call looks at the database, and calls also look every poll interval, which is how they
 * see jobs queued through another replica.
 *
 * <p>A generation counter per device type avoids lost wake-ups: a caller reads the generation
 * before it looks at the queue and waits only while it is unchanged.
 */
@Component
class QueueSignal {

  private final ConcurrentMap<String, Generation> byDeviceType = new ConcurrentHashMap<>();
  private volatile boolean closing;

  long generation(String deviceType) {
    return of(deviceType).current();
  }

  /** Waits until the generation differs from {@code seen} or the time is up. */
  void awaitChange(String deviceType, long seen, long nanos) throws InterruptedException {
    of(deviceType).await(seen, nanos);
  }

  /** How many calls wait in {@link #awaitChange} for {@code deviceType} now (tests wait on it). */
  int waiting(String deviceType) {
    return of(deviceType).waiting();
  }

  /** Wakes the calls waiting for {@code deviceType}, so they look again now (a worker left). */
  void wake(String deviceType) {
    of(deviceType).bump();
  }

  /** True once the application is shutting down: lease calls stop waiting. */
  boolean closing() {
    return closing;
  }

  /**
   * The application is shutting down (SIGTERM): wakes every waiting lease call, which then answers
   * 204. Otherwise the web server's graceful shutdown waits for each idle worker's poll to run out
   * (the poll timeout, 30 s, as long as Boot's whole shutdown phase), and a service with idle
   * workers took half a minute to stop. Published before the server begins its graceful shutdown.
   */
  @EventListener(ContextClosedEvent.class)
  void contextClosed() {
    closing = true;
    byDeviceType.values().forEach(Generation::bump);
  }

  @TransactionalEventListener(fallbackExecution = true)
  void queued(JobNotices.Queued notice) {
    of(notice.deviceType()).bump();
  }

  @TransactionalEventListener(fallbackExecution = true)
  void ended(AttemptNotices.Ended notice) {
    of(notice.deviceType()).bump();
  }

  private Generation of(String deviceType) {
    return byDeviceType.computeIfAbsent(deviceType, t -> new Generation());
  }

  private static final class Generation {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private long value;
    private int waiting;

    long current() {
      lock.lock();
      try {
        return value;
      } finally {
        lock.unlock();
      }
    }

    void bump() {
      lock.lock();
      try {
        value++;
        changed.signalAll();
      } finally {
        lock.unlock();
      }
    }

    int waiting() {
      lock.lock();
      try {
        return waiting;
      } finally {
        lock.unlock();
      }
    }

    void await(long seen, long nanos) throws InterruptedException {
      lock.lock();
      waiting++;
      try {
        long left = nanos;
        while (value == seen && left > 0) {
          left = changed.awaitNanos(left);
        }
      } finally {
        waiting--;
        lock.unlock();
      }
    }
  }
}
