package dev.pipemoe.engine.sim;

import dev.pipemoe.engine.device.DeviceException;
import java.util.ArrayList;
import java.util.List;

/**
 * One op enqueued on a simulated device: a node of the dependency graph the {@link VirtualClock}
 * resolves. It starts when every op it depends on has ended (and not before the host issued it),
 * and lasts {@code duration}, or, for a collective member, until its flow finishes.
 */
final class Op {
  final SimDevice device;
  /** Issue order on its device: with the rank, the tie-break that keeps the clock deterministic. */
  final long seq;
  final SimStream stream;
  final String name;
  final String label;
  /** Zero-cost ordering nodes (event waits, a collective's issue point) stay out of timelines. */
  final boolean marker;
  final double duration;
  /** Runs the op's math when it starts; null when the fabric simulates cost only. */
  Runnable math;
  /** Set for a collective's member op. */
  Collective collective;

  private List<Op> dependents;
  int waiting;
  double readyAt;
  double start = Double.NaN;
  double end = Double.NaN;
  boolean done;
  /**
   * This op's own failure (its math, or its collective's). It becomes the device's failure, which
   * the next synchronize reports once; ops after it still run, as on the native runtime.
   */
  DeviceException error;

  Op(SimDevice device, long seq, SimStream stream, String name, String label, boolean marker,
      double duration, double issuedAt) {
    this.device = device;
    this.seq = seq;
    this.stream = stream;
    this.name = name;
    this.label = label;
    this.marker = marker;
    if (!(duration >= 0) || !(issuedAt >= 0)) {
      throw new IllegalStateException(name + ": duration " + duration + " issued at " + issuedAt);
    }
    this.duration = duration;
    this.readyAt = issuedAt;
  }

  /** Makes this op wait for {@code dep} (null: nothing); call before {@link VirtualClock#submit}. */
  void after(Op dep) {
    if (dep == null) {
      return;
    }
    if (dep.done) {
      readyAt = Math.max(readyAt, dep.end);
    } else {
      if (dep.dependents == null) {
        dep.dependents = new ArrayList<>(2);
      }
      dep.dependents.add(this);
      waiting++;
    }
  }

  List<Op> dependents() {
    return dependents == null ? List.of() : dependents;
  }

  int rank() {
    return device.rank();
  }
}
