package dev.pipemoe.worker.daemon;

import dev.pipemoe.engine.protocol.Assignment;
import dev.pipemoe.engine.protocol.AttemptRef;
import dev.pipemoe.worker.client.Backoff;
import dev.pipemoe.worker.client.ServiceClient;
import dev.pipemoe.worker.client.ServiceException;
import dev.pipemoe.worker.run.AttemptControl;
import dev.pipemoe.worker.run.AttemptRunner;
import dev.pipemoe.worker.run.Shutdown;
import dev.pipemoe.worker.spool.Shipper;
import dev.pipemoe.worker.spool.Spool;
import dev.pipemoe.worker.system.WorkerMetrics;
import dev.pipemoe.worker.system.WorkerMetrics.Poll;
import dev.pipemoe.worker.system.WorkerProperties;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * The worker daemon: three loops on their own threads, each catching and logging per pass so none
 * dies silently.
 *
 * <ul>
 *   <li><b>heartbeat</b> ({@link HeartbeatLoop}): registration, heartbeats, cancel and lost;
 *   <li><b>lease</b> (here): while registered and idle, long-polls for an assignment and runs it
 *       to its end ({@link AttemptRunner}). One attempt at a time: a job's ranks share the
 *       machine's cores, and a second job beside it would distort both jobs' timings;
 *   <li><b>shipper</b> ({@link Shipper}): sends the spool's metric records.
 * </ul>
 *
 * Shutdown (SIGTERM, Ctrl-C): leave (the service answers the open poll empty), stop the attempt between
 * steps, report it FAILED/SHUTDOWN so that the service retries it, all within the grace period;
 * heartbeats go on meanwhile so that its lease holds; records not acknowledged by then stay in the
 * spool for the next start.
 */
public final class Worker implements SmartLifecycle {
  private static final Logger log = LoggerFactory.getLogger(Worker.class);

  /** Where the worker stands; only REGISTERED is ready. */
  public enum Phase { STARTING, NATIVE_UNAVAILABLE, REGISTERING, UNAUTHORIZED, REGISTERED,
    STOPPING, STOPPED }

  /** The phase and, when not ready, why. */
  public record State(Phase phase, String detail) {}

  private final WorkerProperties props;
  private final ServiceClient client;
  private final Spool spool;
  private final Shipper shipper;
  private final AttemptRunner runner;
  private final Backoff backoff;
  private final WorkerMetrics metrics;
  private final NativeRuntime nativeRuntime;
  private final HeartbeatLoop heartbeats;
  private final Shutdown shutdown = new Shutdown();
  private final Object pollLock = new Object();
  private volatile AttemptControl current;
  private volatile boolean started;
  private volatile boolean stopping;
  private volatile boolean stopped;
  private boolean polling;
  private Thread heartbeatThread;
  private Thread leaseThread;
  private Thread shipperThread;

  public Worker(WorkerProperties props, ServiceClient client, Spool spool, Shipper shipper,
      AttemptRunner runner, Backoff backoff, WorkerMetrics metrics, NativeRuntime nativeRuntime) {
    this.props = props;
    this.client = client;
    this.spool = spool;
    this.shipper = shipper;
    this.runner = runner;
    this.backoff = backoff;
    this.metrics = metrics;
    this.nativeRuntime = nativeRuntime;
    // a new boot id per process: registering with it tells the service that the attempts an
    // earlier process of this name held are lost
    this.heartbeats = new HeartbeatLoop(props, client, backoff, metrics,
        UUID.randomUUID().toString(), () -> current,
        // records an earlier process left (or spooled while unregistered) go now, not after a
        // flush interval: until registered the shipper had nothing it could do
        shipper::wakeNow);
  }

  @Override
  public void start() {
    started = true;
    Optional<String> problem = nativeRuntime.problem();
    if (problem.isPresent()) {
      log.error("the native runtime cannot run here, so this worker will not register: {}",
          problem.get());
      return;
    }
    log.info("worker '{}': {} x {}, fabric {}, service {}, spool {}", props.name(),
        props.devices(), props.deviceType(), props.fabric(), props.serviceUrl(),
        spool.directory());
    // daemon threads: a step that outlasts the grace period must not hold the JVM after stop()
    heartbeatThread = Thread.ofPlatform().name("heartbeat").daemon().start(heartbeats);
    leaseThread = Thread.ofPlatform().name("lease").daemon().start(this::leaseLoop);
    shipperThread = Thread.ofPlatform().name("shipper").daemon().start(shipper);
  }

  @Override
  public void stop() {
    if (!started || stopping) {
      return;
    }
    stopping = true;
    shutdown.begin(props.shutdownGrace());
    log.info("shutting down: no more leases; the running attempt, if any, stops after its step"
        + " (grace {})", props.shutdownGrace());
    leave();
    synchronized (pollLock) {
      if (polling) {
        leaseThread.interrupt();  // abandons the long poll; an answer on its way is lost (docs)
      }
    }
    AttemptControl c = current;
    if (c != null) {
      c.request(AttemptControl.Stop.SHUTDOWN);
    }
    join(leaseThread, shutdown.remainingNanos(0));
    if (leaseThread != null && leaseThread.isAlive()) {
      log.warn("the attempt's step outlasted the grace period; the service will find the attempt"
          + " lost when its lease expires, or at this worker's next start");
    }
    heartbeats.stop();
    shipper.stop();
    join(heartbeatThread, TimeUnit.SECONDS.toNanos(2));
    join(shipperThread, TimeUnit.SECONDS.toNanos(2));
    long pending = spool.pendingRecords();  // closing forgets the files, not their records
    try {
      spool.close();
    } catch (IOException e) {
      log.warn("closing the spool: {}", e.toString());
    }
    log.info("stopped; {} metric records wait in {} for the next start", pending,
        spool.directory());
    stopped = true;
  }

  @Override
  public boolean isRunning() {
    return started && !stopped;
  }

  public State state() {
    Optional<String> problem = started ? nativeRuntime.problem() : Optional.empty();
    if (stopped) {
      return new State(Phase.STOPPED, "stopped");
    } else if (stopping) {
      return new State(Phase.STOPPING, "shutting down");
    } else if (!started) {
      return new State(Phase.STARTING, "starting");
    } else if (problem.isPresent()) {
      return new State(Phase.NATIVE_UNAVAILABLE, problem.get());
    } else if (heartbeats.refused() != null) {
      return new State(Phase.UNAUTHORIZED, heartbeats.refused());
    } else if (heartbeats.workerId() == null) {
      return new State(Phase.REGISTERING, "registering with " + props.serviceUrl());
    }
    return new State(Phase.REGISTERED, "registered as " + heartbeats.workerId());
  }

  public String workerId() {
    return heartbeats.workerId();
  }

  public Optional<AttemptRef> runningAttempt() {
    AttemptControl c = current;
    return c == null ? Optional.empty() : Optional.of(c.ref());
  }

  /** The shipper's 409: the attempt is not this worker's any more. */
  public void rejected(AttemptRef ref) {
    AttemptControl c = current;
    if (c != null && c.ref().equals(ref)) {
      c.request(AttemptControl.Stop.LOST);
    }
  }

  /** A 404 on a worker call: the service forgot this worker; register again. */
  public void unknownWorker() {
    heartbeats.forget();
  }

  private void leaseLoop() {
    int failures = 0;
    while (!stopping) {
      String id = heartbeats.workerId();
      if (id == null || heartbeats.refused() != null) {
        sleepQuietly(Duration.ofMillis(200));
        continue;
      }
      Optional<Assignment> assignment;
      try {
        synchronized (pollLock) {
          if (stopping) {
            break;
          }
          polling = true;
        }
        assignment = client.lease(id, heartbeats.pollTimeout());
        failures = 0;
      } catch (InterruptedException e) {
        continue;  // stop() abandoned the poll
      } catch (ServiceException e) {
        metrics.leasePolled(Poll.FAILED);
        if (e.kind() == ServiceException.Kind.UNKNOWN_WORKER) {
          unknownWorker();
        }
        log.warn("lease poll failed: {}", e.getMessage());
        sleepQuietly(backoff.delay(failures++));
        continue;
      } catch (RuntimeException e) {
        metrics.leasePolled(Poll.FAILED);
        log.error("lease loop: unexpected failure; going on", e);
        sleepQuietly(backoff.delay(failures++));
        continue;
      } finally {
        synchronized (pollLock) {
          polling = false;
          Thread.interrupted();  // an interrupt meant for the poll must not reach the attempt
        }
      }
      if (assignment.isEmpty()) {
        metrics.leasePolled(Poll.EMPTY);
        continue;
      }
      metrics.leasePolled(Poll.ASSIGNED);
      runAttempt(assignment.get());
    }
  }

  private void runAttempt(Assignment a) {
    AttemptControl control = new AttemptControl(a.ref());
    current = control;
    if (stopping) {  // stop() may have looked at current just before it was set
      control.request(AttemptControl.Stop.SHUTDOWN);
    }
    try {
      runner.run(a, control, heartbeats::workerId, shutdown);
    } catch (RuntimeException e) {
      log.error("attempt {}: unexpected failure in the worker", AttemptControl.name(a.ref()), e);
    } finally {
      current = null;
    }
  }

  /**
   * Says so to the service before abandoning the poll: else the service goes on polling on this
   * worker's behalf until the poll times out and may lease a job to a process that is gone (lost
   * only when its lease expires, one attempt spent). Best effort: a killed worker cannot say it
   * either, and that case ends the same way.
   */
  private void leave() {
    String id = heartbeats.workerId();
    if (id == null) {
      return;
    }
    try {
      client.leave(id);
    } catch (ServiceException e) {
      log.info("could not tell the service that this worker leaves ({}); a job it leases to this"
          + " worker meanwhile is retried when the lease expires", e.getMessage());
    }
  }

  private static void sleepQuietly(Duration d) {
    try {
      Thread.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void join(Thread t, long nanos) {
    if (t == null) {
      return;
    }
    try {
      t.join(Duration.ofNanos(Math.max(nanos, 1_000_000)));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
