package dev.pipemoe.worker.daemon;

import dev.pipemoe.engine.protocol.AttemptRef;
import dev.pipemoe.engine.protocol.Heartbeat;
import dev.pipemoe.engine.protocol.Register;
import dev.pipemoe.worker.client.Backoff;
import dev.pipemoe.worker.client.ServiceClient;
import dev.pipemoe.worker.client.ServiceException;
import dev.pipemoe.worker.run.AttemptControl;
import dev.pipemoe.worker.system.WorkerMetrics;
import dev.pipemoe.worker.system.WorkerMetrics.Failure;
import dev.pipemoe.worker.system.WorkerProperties;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registration and heartbeats, on one thread: registers (retrying with backoff), then heartbeats
 * every interval the service gave, listing the running attempt, and passes the answer's
 * {@code cancel} and {@code lost} to it. A 404 means the service forgot this worker: it registers
 * again at once, with the same boot id (this process's attempts are not lost). A refused token
 * (401/403) is a configuration error: logged as such, readiness down, retried every backoff-max
 * so that a token issued later is picked up. Any other failure is logged and the next pass comes.
 */
final class HeartbeatLoop implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(HeartbeatLoop.class);
  private static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);
  private static final Duration DEFAULT_POLL = Duration.ofSeconds(20);

  private final WorkerProperties props;
  private final ServiceClient client;
  private final Backoff backoff;
  private final WorkerMetrics metrics;
  private final String bootId;
  private final Supplier<AttemptControl> current;
  private final Runnable onRegistered;
  private final Object wake = new Object();
  private volatile String workerId;
  private volatile Register.Response registration;
  private volatile String refused;
  private volatile boolean stopped;

  HeartbeatLoop(WorkerProperties props, ServiceClient client, Backoff backoff,
      WorkerMetrics metrics, String bootId, Supplier<AttemptControl> current, Runnable onRegistered) {
    this.props = props;
    this.client = client;
    this.backoff = backoff;
    this.metrics = metrics;
    this.bootId = bootId;
    this.current = current;
    this.onRegistered = onRegistered;
  }

  /** The id the service gave; null until registered (and again after a 404). */
  String workerId() {
    return workerId;
  }

  /** Why the service refuses the token, while it does; else null. */
  String refused() {
    return refused;
  }

  /** The longest lease poll the service allows. */
  Duration pollTimeout() {
    Register.Response r = registration;
    return r != null && r.pollTimeout() != null && r.pollTimeout().isPositive()
        ? r.pollTimeout() : DEFAULT_POLL;
  }

  /** The service does not know this worker (a 404 elsewhere): register again now. */
  void forget() {
    if (workerId != null) {
      log.warn("the service does not know worker {}; registering again", workerId);
      workerId = null;
    }
    wakeUp();
  }

  void stop() {
    stopped = true;
    wakeUp();
  }

  @Override
  public void run() {
    int failures = 0;
    while (!stopped) {
      Duration next;
      try {
        if (workerId == null) {
          register();
        } else {
          heartbeat();
        }
        refused = null;
        failures = 0;
        next = interval();
      } catch (ServiceException e) {
        metrics.heartbeatFailed(Failure.of(e));
        next = onFailure(e, failures++);
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
    log.info("registered with {} as worker {} (heartbeat every {}, lease timeout {}, poll up to"
        + " {})", props.serviceUrl(), r.workerId(), r.heartbeatInterval(), r.leaseTimeout(),
        r.pollTimeout());
    onRegistered.run();
  }

  private void heartbeat() throws ServiceException {
    AttemptControl c = current.get();
    List<AttemptRef> running = c == null ? List.of() : List.of(c.ref());
    // one attempt at a time: while it runs, no device is free for another job
    Heartbeat.Response r = client.heartbeat(workerId,
        new Heartbeat.Request(running, c == null ? props.devices() : 0));
    if (c == null) {
      return;
    }
    if (r.cancel() != null && r.cancel().contains(c.ref())) {
      log.info("attempt {}: cancel requested; stopping after the current step",
          AttemptControl.name(c.ref()));
      c.request(AttemptControl.Stop.CANCEL);
    }
    if (r.lost() != null && r.lost().contains(c.ref())) {
      log.warn("attempt {}: the service considers it lost; stopping it without reporting",
          AttemptControl.name(c.ref()));
      c.request(AttemptControl.Stop.LOST);
    }
  }

  private Duration onFailure(ServiceException e, int failures) {
    switch (e.kind()) {
      case UNAUTHORIZED -> {
        refused = "the service refuses the token (" + e.status() + "): check"
            + " pipemoe.worker.token (PIPEMOE_WORKER_TOKEN), an active token of role WORKER";
        log.error("{}; retrying in {}: {}", refused, backoff.max(), e.getMessage());
        return backoff.max();
      }
      case UNKNOWN_WORKER -> {
        if (workerId != null) {
          forget();
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
        ? r.heartbeatInterval() : DEFAULT_INTERVAL;
  }

  /** Waits d, or less when stop() or forget() wakes the loop. */
  private void pause(Duration d) {
    long millis = d.toMillis();
    synchronized (wake) {
      if (millis <= 0 || stopped) {
        return;
      }
      try {
        wake.wait(millis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        stopped = true;
      }
    }
  }

  private void wakeUp() {
    synchronized (wake) {
      wake.notifyAll();
    }
  }

  private static String version() {
    String v = HeartbeatLoop.class.getPackage().getImplementationVersion();
    return v != null ? v : "dev";
  }
}
