package dev.pipemoe.worker.daemon;

import dev.pipemoe.engine.protocol.Assignment;
import dev.pipemoe.engine.protocol.AttemptRef;
import dev.pipemoe.engine.protocol.Heartbeat;
import dev.pipemoe.engine.protocol.Register;
import dev.pipemoe.worker.client.Backoff;
import dev.pipemoe.worker.client.ServiceClient;
import dev.pipemoe.worker.client.ServiceException;
import dev.pipemoe.worker.run.AttemptControl;
import dev.pipemoe.worker.run.AttemptRunner;
import dev.pipemoe.worker.run.Shutdown;
import dev.pipemoe.worker.spool.Shipper;
import dev.pipemoe.worker.spool.Spool;
import dev.pipemoe.worker.system.WorkerMetrics;
import dev.pipemoe.worker.system.WorkerMetrics.Failure;
import dev.pipemoe.worker.system.WorkerMetrics.Poll;
import dev.pipemoe.worker.system.WorkerProperties;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
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
 *   <li><b>heartbeat</b>: registers (retrying with backoff), then heartbeats every interval the
 *       service gave, listing the running attempt; applies the answer's {@code cancel} and
 *       {@code lost}; registers again on 404;
 *   <li><b>lease</b>: while registered and idle, long-polls for an assignment and runs it to its
 *       end ({@link AttemptRunner}). One attempt at a time: a job's ranks share the machine's
 *       cores, and a second job beside it would distort both jobs' timings;
 *   <li><b>shipper</b>: sends the spool's metric records ({@link Shipper}).
 * </ul>
 *
 * Shutdown (SIGTERM, Ctrl-C): stop leasing (an open poll is abandoned), stop the attempt between
 * steps, report it FAILED/SHUTDOWN so the service retries it, all within the grace period;
 * heartbeats go on meanwhile so its lease holds; records not acknowledged by then stay in the
 * spool for the next start.
 */
public final class Worker implements SmartLifecycle {
  private static final Logger log = LoggerFactory.getLogger(Worker.class);
  private static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(10);
  private static final Duration DEFAULT_POLL = Duration.ofSeconds(20);

  /** Where the worker stands; only REGISTERED is ready. */
  public enum Phase { STARTING, NATIVE_UNAVAILABLE, REGISTERING, UNAUTHORIZED, REGISTERED, STOPPING,
    STOPPED }

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
  private final String bootId = UUID.randomUUID().toString();
  private final Shutdown shutdown = new Shutdown();
  private final Object pollLock = new Object();
  private final Object heartbeatWake = new Object();
  private volatile State state = new State(Phase.STARTING, "starting");
  private volatile String workerId;
  private volatile Register.Response registration;
  private volatile AttemptControl current;
  private volatile boolean stopping;
  private volatile boolean heartbeatsStopped;
  private volatile boolean running;
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
  }

  @Override
  public void start() {
    running = true;
    Optional<String> problem = nativeRuntime.problem();
    if (problem.isPresent()) {
      state = new State(Phase.NATIVE_UNAVAILABLE, problem.get());
      log.error("the native runtime cannot run here, so this worker will not register: {}",
          problem.get());
      return;
    }
    state = new State(Phase.REGISTERING, "registering with " + props.serviceUrl());
    log.info("worker '{}' (boot {}): {} x {}, fabric {}, service {}, spool {}", props.name(),
        bootId, props.devices(), props.deviceType(), props.fabric(), props.serviceUrl(),
        spool.directory());
    // daemon threads: a step that outlasts the grace period must not hold the JVM after stop()
    heartbeatThread = Thread.ofPlatform().name("heartbeat").daemon().start(this::heartbeatLoop);
    leaseThread = Thread.ofPlatform().name("lease").daemon().start(this::leaseLoop);
    shipperThread = Thread.ofPlatform().name("shipper").daemon().start(shipper);
  }

  @Override
  public void stop() {
    if (!running) {
      return;
    }
    stopping = true;
    shutdown.begin(props.shutdownGrace());
    state = new State(Phase.STOPPING, "shutting down");
    log.info("shutting down: no more leases; the running attempt, if any, stops after its step"
        + " (grace {})", props.shutdownGrace());
    synchronized (pollLock) {
      if (polling) {
        leaseThread.interrupt();  // abandons the long poll; an answer on its way is lost (see docs)
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
    heartbeatsStopped = true;
    synchronized (heartbeatWake) {
      heartbeatWake.notifyAll();
    }
    shipper.stop();
    join(heartbeatThread, TimeUnit.SECONDS.toNanos(2));
    join(shipperThread, TimeUnit.SECONDS.toNanos(2));
    try {
      spool.close();
    } catch (IOException e) {
      log.warn("closing the spool: {}", e.toString());
    }
    log.info("stopped; {} metric records wait in {} for the next start", spool.pendingRecords(),
        spool.directory());
    state = new State(Phase.STOPPED, "stopped");
    running = false;
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  public State state() {
    return state;
  }

  public String workerId() {
    return workerId;
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

  /** The shipper's 404: the service forgot this worker; the heartbeat loop registers again. */
  public void unknownWorker() {
    workerId = null;
    synchronized (heartbeatWake) {
      heartbeatWake.notifyAll();
    }
  }

  // ---- heartbeat loop

  private void heartbeatLoop() {
    int failures = 0;
    while (!heartbeatsStopped) {
      Duration next;
      try {
        if (workerId == null) {
          register();
        } else {
          heartbeat();
        }
        failures = 0;
        next = interval();
      } catch (ServiceException e) {
        metrics.heartbeatFailed(Failure.of(e));
        next = onHeartbeatFailure(e, failures++);
      } catch (RuntimeException e) {
        log.error("heartbeat loop: unexpected failure; going on", e);
        next = backoff.delay(failures++);
      }
      pause(next);
    }
  }

  private void register() throws ServiceException {
    Register.Response r = client.register(new Register.Request(props.name(), bootId,
        props.deviceType(), props.devices(), List.of(props.fabric()), version()));
    registration = r;
    workerId = r.workerId();
    if (!stopping) {
      state = new State(Phase.REGISTERED, "registered as " + r.workerId());
    }
    log.info("registered with {} as worker {} (heartbeat every {}, lease timeout {}, poll up to"
        + " {})", props.serviceUrl(), r.workerId(), r.heartbeatInterval(), r.leaseTimeout(),
        r.pollTimeout());
  }

  private void heartbeat() throws ServiceException {
    AttemptControl c = current;
    List<AttemptRef> runningNow = c == null ? List.of() : List.of(c.ref());
    Heartbeat.Response r = client.heartbeat(workerId,
        new Heartbeat.Request(runningNow, c == null ? props.devices() : 0));
    if (state.phase() == Phase.UNAUTHORIZED && !stopping) {
      state = new State(Phase.REGISTERED, "registered as " + workerId);
    }
    if (c != null && r.cancel() != null && r.cancel().contains(c.ref())) {
      log.info("attempt {}: cancel requested; stopping after the current step",
          AttemptControl.name(c.ref()));
      c.request(AttemptControl.Stop.CANCEL);
    }
    if (c != null && r.lost() != null && r.lost().contains(c.ref())) {
      log.warn("attempt {}: the service considers it lost; stopping it without reporting",
          AttemptControl.name(c.ref()));
      c.request(AttemptControl.Stop.LOST);
    }
  }

  private Duration onHeartbeatFailure(ServiceException e, int failures) {
    switch (e.kind()) {
      case UNAUTHORIZED -> {
        if (!stopping) {
          state = new State(Phase.UNAUTHORIZED, "the service refuses the token (" + e.status()
              + "): check pipemoe.worker.token (PIPEMOE_WORKER_TOKEN), a WORKER token");
        }
        log.error("the service refuses this worker's token ({}); check PIPEMOE_WORKER_TOKEN: it"
            + " must be an active token of role WORKER. Retrying in {}", e.getMessage(),
            backoff.max());
        return backoff.max();
      }
      case UNKNOWN_WORKER -> {
        if (workerId != null) {
          log.warn("the service does not know worker {}; registering again", workerId);
          workerId = null;
          return Duration.ZERO;
        }
        log.warn("registering failed: {}", e.getMessage());
        return backoff.delay(failures);
      }
      default -> {
        log.warn("{} failed: {}", workerId == null ? "registering" : "heartbeat", e.getMessage());
        return workerId == null ? backoff.delay(failures) : interval();
      }
    }
  }

  private Duration interval() {
    Register.Response r = registration;
    return r != null && r.heartbeatInterval() != null && r.heartbeatInterval().isPositive()
        ? r.heartbeatInterval() : DEFAULT_HEARTBEAT;
  }

  /** Waits d, or less when stop() or a 404 (register again now) wakes the loop. */
  private void pause(Duration d) {
    long millis = d.toMillis();
    synchronized (heartbeatWake) {
      if (millis <= 0 || heartbeatsStopped) {
        return;
      }
      try {
        heartbeatWake.wait(millis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        heartbeatsStopped = true;
      }
    }
  }

  // ---- lease loop

  private void leaseLoop() {
    int failures = 0;
    while (!stopping) {
      String id = workerId;
      if (id == null || state.phase() != Phase.REGISTERED) {
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
        assignment = client.lease(id, pollTimeout());
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
    if (stopping) {  // stop() may have looked at current just before we set it
      control.request(AttemptControl.Stop.SHUTDOWN);
    }
    try {
      runner.run(a, control, this::workerId, shutdown);
    } catch (RuntimeException e) {
      log.error("attempt {}: unexpected failure in the worker", AttemptControl.name(a.ref()), e);
    } finally {
      current = null;
    }
  }

  private Duration pollTimeout() {
    Register.Response r = registration;
    return r != null && r.pollTimeout() != null && r.pollTimeout().isPositive()
        ? r.pollTimeout() : DEFAULT_POLL;
  }

  private static String version() {
    String v = Worker.class.getPackage().getImplementationVersion();
    return v != null ? v : "dev";
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
