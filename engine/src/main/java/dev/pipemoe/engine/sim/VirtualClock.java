package dev.pipemoe.engine.sim;

import dev.pipemoe.engine.device.DeviceException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * The simulated fabric's clock: a discrete-event simulation of every op its devices enqueue,
 * driven by the ranks' own host threads (docs/engine.md, "Simulated device").
 *
 * <p>Host threads enqueue ops without blocking. A host call that needs the device's progress
 * (synchronize, an event query) blocks its thread; when every host thread of the fabric is blocked,
 * the last one advances the clock in time order until some blocked thread's condition holds, wakes
 * the threads it holds for, and stops there. Nothing moves while any host thread runs, so an op
 * issued at host time t never meets a simulation already past t; and since what has been issued
 * when all threads are blocked does not depend on thread timing, neither do the results: the same
 * program gives the same timeline on any machine, under any load.
 *
 * <p>One lock guards all of it; host calls of the devices take it too.
 */
final class VirtualClock {
  final ReentrantLock lock = new ReentrantLock();
  private final FluidModel links;
  private final double timeoutSeconds;
  private final PriorityQueue<Op> ending = new PriorityQueue<>(Comparator
      .comparingDouble((Op o) -> o.end).thenComparingInt(Op::rank).thenComparingLong(o -> o.seq));
  private final List<Participant> blocked = new ArrayList<>();
  private final ThreadLocal<Participant> current = new ThreadLocal<>();
  private double now;
  /** Flows the link model retired that the simulation has not ended yet. */
  private final List<FluidModel.Flow> finished = new ArrayList<>();
  /** Registered host threads that are not blocked, and expected ones that have not started. */
  private int running;
  /** Host threads announced by {@link #expect} that have not started yet. */
  private int expected;
  /** Registered host threads waiting for something outside the fabric (a barrier of ranks). */
  private int away;

  VirtualClock(FluidModel links, double timeoutSeconds) {
    this.links = links;
    this.timeoutSeconds = timeoutSeconds;
  }

  /** A host thread's state: what it waits for, and when it was woken. */
  private final class Participant {
    final Condition wake = lock.newCondition();
    final boolean registered;
    BooleanSupplier condition;
    String waitingFor;
    boolean woken;
    double wokenAt;
    DeviceException error;

    Participant(boolean registered) {
      this.registered = registered;
    }
  }

  double now() {
    return now;
  }

  // ---- host threads ------------------------------------------------------------------------------

  /**
   * Announces {@code n} host threads about to start: the clock waits for them from now on, so that
   * the first ones to block do not move it past what a late starter issues at time zero.
   */
  void expect(int n) {
    lock.lock();
    try {
      expected += n;
      running += n;
    } finally {
      lock.unlock();
    }
  }

  /** Runs {@code body} as a host thread of the fabric: the clock waits for it while it runs. */
  <T> T run(java.util.concurrent.Callable<T> body) throws Exception {
    lock.lock();
    try {
      current.set(new Participant(true));
      if (expected > 0) {
        expected--;  // counted as running since expect()
      } else {
        running++;
      }
    } finally {
      lock.unlock();
    }
    try {
      return body.call();
    } finally {
      lock.lock();
      try {
        current.remove();
        running--;
        advanceIfAllBlocked();
      } finally {
        lock.unlock();
      }
    }
  }

  /**
   * A barrier of host threads on this clock: a thread waiting there is not waited for, and the
   * last to arrive lets all of them go at once, at the clock's time then, so that the clock cannot
   * move while some of them are still on their way out.
   */
  abstract class Barrier implements dev.pipemoe.engine.device.Fabric.HostBarrier {
    private final int parties;
    private final Runnable action;
    private final Condition released = lock.newCondition();
    private int arrived;
    /** Arrived threads that are host threads of the fabric, not waited for while here. */
    private int waiting;
    private long generation;
    private double releasedAt;
    private boolean broken;

    Barrier(int parties, Runnable action) {
      this.parties = parties;
      this.action = action;
    }

    /** Waits for the others; returns the simulated time at which all left. */
    double arrive() throws java.util.concurrent.BrokenBarrierException, InterruptedException {
      lock.lock();
      try {
        if (broken) {
          throw new java.util.concurrent.BrokenBarrierException();
        }
        boolean registered = current.get() != null;
        if (++arrived == parties) {
          action.run();
          arrived = 0;
          generation++;
          releasedAt = now;
          release();
          return releasedAt;
        }
        long g = generation;
        if (registered) {
          running--;
          away++;
          waiting++;
        }
        advanceIfAllBlocked();
        while (g == generation && !broken) {
          released.await();
        }
        if (broken && g == generation) {
          throw new java.util.concurrent.BrokenBarrierException();
        }
        return releasedAt;
      } finally {
        lock.unlock();
      }
    }

    /** Every waiting thread is running again before any of them can block. */
    private void release() {
      away -= waiting;
      running += waiting;
      waiting = 0;
      released.signalAll();
    }

    @Override
    public void breakBarrier() {
      lock.lock();
      try {
        broken = true;
        release();
      } finally {
        lock.unlock();
      }
    }
  }

  /**
   * Blocks the calling host thread until {@code condition} holds; returns the simulated time at
   * which it did. Call with the lock held.
   */
  double await(BooleanSupplier condition, String what) {
    if (condition.getAsBoolean()) {
      return Double.NaN;  // already true: the caller's host time stands
    }
    Participant p = current.get();
    if (p == null) {
      p = new Participant(false);  // a thread that drives devices outside Trainer (tests)
    }
    p.condition = condition;
    p.waitingFor = what;
    p.woken = false;
    p.error = null;
    blocked.add(p);
    if (p.registered) {
      running--;
    }
    advanceIfAllBlocked();
    long deadline = System.nanoTime() + (long) (timeoutSeconds * 1e9);
    try {
      while (!p.woken) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          blocked.remove(p);
          if (p.registered) {
            running++;
          }
          throw new DeviceException(5, what + ": still waiting after " + timeoutSeconds
              + " s of real time (a host thread of the fabric is stuck outside it)");
        }
        p.wake.await(left, TimeUnit.NANOSECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      blocked.remove(p);
      if (p.registered) {
        running++;
      }
      throw new DeviceException(3, what + ": interrupted");
    }
    if (p.error != null) {
      throw p.error;
    }
    return p.wokenAt;
  }

  private void wake(Participant p, DeviceException error) {
    blocked.remove(p);
    p.woken = true;
    p.wokenAt = now;
    p.error = error;
    if (p.registered) {
      running++;
    }
    p.wake.signal();
  }

  // ---- ops ---------------------------------------------------------------------------------------

  /** Enters an op whose dependencies are set: it starts now if none is pending. */
  void submit(Op op) {
    if (op.waiting == 0) {
      start(op);
    }
  }

  private void start(Op op) {
    op.start = Math.max(op.readyAt, now);
    if (op.collective != null) {
      arrive(op);
      return;
    }
    if (op.math != null && op.error == null) {
      op.error = run(op.math);
    }
    op.end = op.start + op.duration;
    ending.add(op);
  }

  private void arrive(Op member) {
    Collective c = member.collective;
    c.arrived++;
    if (c.arrived < c.expected || !c.complete()) {
      return;
    }
    List<Op> members = c.present();
    DeviceException error = null;
    for (Op m : members) {
      error = error != null ? error : m.error;
    }
    if (error == null && members.get(0).math != null) {
      error = run(members.get(0).math);  // the data movement of the whole group
    }
    int n = members.size();
    int[] ranks = new int[n];
    int[] linkSets = new int[n];
    for (int i = 0; i < n; i++) {
      Op m = members.get(i);
      m.error = m.error != null ? m.error : error;
      ranks[i] = m.rank();
      linkSets[i] = c.group.linkSet;
    }
    finished.addAll(links.advance(now));  // flows done by now end in the next advance()
    links.add(c, ranks, linkSets, c.bytes, members.get(0).duration, c.group.bandwidth);
  }

  /** Runs an op's math; an error it finds poisons the op, as a running op's error does natively. */
  private static DeviceException run(Runnable math) {
    try {
      math.run();
      return null;
    } catch (DeviceException e) {
      return e;
    } catch (RuntimeException e) {
      return new DeviceException(7, "simulated op failed: " + e);
    }
  }

  private void end(Op op, double t) {
    op.end = t;
    op.done = true;
    op.device.ended(op);
    for (Op d : op.dependents()) {
      d.readyAt = Math.max(d.readyAt, t);
      if (--d.waiting == 0) {
        start(d);
      }
    }
  }

  /** Fails every op of a collective that can never complete, so that its waiters get an error. */
  void fail(Collective c, DeviceException error) {
    for (Op m : c.members) {
      if (m != null && !m.done) {
        m.error = error;
        end(m, now);
      }
    }
  }

  // ---- the simulation ------------------------------------------------------------------------------

  private void advanceIfAllBlocked() {
    if (running == 0 && !blocked.isEmpty()) {
      advance();
    }
  }

  /** Processes events in time order until a blocked thread can go on; call with the lock held. */
  private void advance() {
    for (;;) {
      List<Participant> ready = new ArrayList<>();
      for (Participant p : blocked) {
        if (p.condition.getAsBoolean()) {
          ready.add(p);
        }
      }
      if (!ready.isEmpty()) {
        ready.forEach(p -> wake(p, null));
        return;
      }
      double t = !finished.isEmpty() ? now : Math.min(links.nextEvent(),
          ending.isEmpty() ? Double.POSITIVE_INFINITY : ending.peek().end);
      if (t == Double.POSITIVE_INFINITY) {
        if (away == 0) {
          deadlock();
        }
        return;
      }
      now = Math.max(now, t);
      finished.addAll(links.advance(now));
      while (!finished.isEmpty()) {  // ending members may start collectives that add to it
        Collective c = (Collective) finished.removeFirst().owner();
        for (Op m : c.present()) {
          end(m, now);
        }
      }
      while (!ending.isEmpty() && ending.peek().end <= now) {
        Op op = ending.poll();
        end(op, op.end);
      }
    }
  }

  /** Every host thread waits and nothing is in flight: what they wait for can never happen. */
  private void deadlock() {
    for (Participant p : List.copyOf(blocked)) {
      wake(p, new DeviceException(5, p.waitingFor + ": can never finish: every host thread of the"
          + " simulated fabric waits and nothing is in flight (a collective some members never"
          + " issued, or a communicator closed)"));
    }
  }
}
