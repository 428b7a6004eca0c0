package dev.pipemoe.engine.metrics;

import dev.pipemoe.engine.device.OpRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Where one rank's step went, read off its timeline (docs/metrics.md):
 *
 * <ul>
 *   <li>compute-busy: union of the compute stream's ops;
 *   <li>comm-busy EP / TP / other: union of the transfers on the EP queue, the TP queue, and the
 *       gradient-reduction queues;
 *   <li>exposed communication = step - compute-busy: the time compute was not running, which
 *       communication (or waiting on it) took.
 * </ul>
 */
public record StepTimes(long stepNanos, long computeBusyNanos, long epBusyNanos,
    long tpBusyNanos, long otherCommBusyNanos) {

  public long exposedCommNanos() {
    return Math.max(0, stepNanos - computeBusyNanos);
  }

  /**
   * @param compute the compute stream's name; {@code ep}, {@code tp} the EP and TP queues' names
   */
  public static StepTimes of(List<OpRecord> timeline, long start, long end, String compute,
      String ep, String tp) {
    long computeBusy = busy(timeline, r -> r.stream().equals(compute), start, end);
    long epBusy = busy(timeline, r -> r.stream().equals(ep), start, end);
    long tpBusy = busy(timeline, r -> r.stream().equals(tp), start, end);
    long other = busy(timeline, r -> r.bytes() > 0 && !r.stream().equals(ep)
        && !r.stream().equals(tp), start, end);
    return new StepTimes(end - start, computeBusy, epBusy, tpBusy, other);
  }

  private static long busy(List<OpRecord> timeline, Predicate<OpRecord> which, long start,
      long end) {
    List<long[]> iv = new ArrayList<>();
    for (OpRecord r : timeline) {
      if (which.test(r)) {
        iv.add(new long[] {r.startNanos(), r.endNanos()});
      }
    }
    return Intervals.unionLength(iv, start, end);
  }
}
