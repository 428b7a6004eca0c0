package dev.pipemoe.worker.run;

import dev.pipemoe.engine.protocol.AttemptRef;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The running attempt's stop request: set by the heartbeat loop (cancel, lost), by a 409 and by
 * shutdown; read by the trainer between steps. The strongest request wins: a lost attempt reports
 * nothing, so LOST beats everything; a cancelled job must not be retried, so CANCEL beats SHUTDOWN.
 */
public final class AttemptControl {

  /** Why the attempt should stop, weakest first. */
  public enum Stop { NONE, SHUTDOWN, CANCEL, LOST }

  private final AttemptRef ref;
  private final AtomicReference<Stop> stop = new AtomicReference<>(Stop.NONE);

  public AttemptControl(AttemptRef ref) {
    this.ref = ref;
  }

  public AttemptRef ref() {
    return ref;
  }

  /** {@code <job id>/<attempt>}, as logs name an attempt. */
  public static String name(AttemptRef ref) {
    return ref.jobId() + "/" + ref.attempt();
  }

  public void request(Stop s) {
    stop.accumulateAndGet(s, (a, b) -> a.compareTo(b) >= 0 ? a : b);
  }

  public Stop stop() {
    return stop.get();
  }

  public boolean stopRequested() {
    return stop.get() != Stop.NONE;
  }

  public boolean lost() {
    return stop.get() == Stop.LOST;
  }
}
