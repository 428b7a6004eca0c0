package dev.pipemoe.engine.metrics;

import dev.pipemoe.engine.device.OpRecord;
import dev.pipemoe.engine.train.RankStep;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * Where one rank's step went, in seconds, read off its timeline by the ops' labels
 * (docs/engine.md, "The time split of a whole-model step"). Every instant of the step counts in
 * exactly one part, the first of this order that covers it:
 *
 * <ol>
 *   <li>attention: a compute-stream op labelled {@code attention...} runs;
 *   <li>MoE compute: a compute-stream op of the MoE block runs ({@code moe-norm} and today's MoE
 *       labels: every label that is none of the others);
 *   <li>other: a compute-stream op labelled {@code embedding...}, {@code head...} or {@code loss}
 *       (a MoE stack's loss), or unlabelled;
 *   <li>optimizer: a compute-stream op labelled {@code optimizer...};
 *   <li>DP reduction: a compute-stream op labelled {@code grad-sync...};
 *   <li>exposed communication: no compute runs, a collective other than the gradient sync is in
 *       flight (EP, TP, CP queues, attention's collectives included);
 *   <li>DP reduction again: no compute runs, a {@code grad-sync...} collective is in flight;
 *   <li>idle: nothing of the above (host work, launch gaps, waiting on no transfer).
 * </ol>
 *
 * <p>So the parts add up to the step time exactly; communication hidden under compute counts in the
 * compute part it overlapped.
 */
public record StepSplit(double attentionSeconds, double moeComputeSeconds,
    double exposedCommSeconds, double dpReductionSeconds, double optimizerSeconds,
    double otherSeconds, double idleSeconds) {

  /** The name every device gives its compute stream ({@code Device.computeStream()}). */
  public static final String COMPUTE_STREAM = "compute";

  /** The parts in a fixed order, with the names the service and Grafana label them by. */
  public enum Part {
    ATTENTION("attention", StepSplit::attentionSeconds),
    MOE_COMPUTE("moe_compute", StepSplit::moeComputeSeconds),
    EXPOSED_COMM("exposed_comm", StepSplit::exposedCommSeconds),
    DP_REDUCTION("dp_reduction", StepSplit::dpReductionSeconds),
    OPTIMIZER("optimizer", StepSplit::optimizerSeconds),
    OTHER("other", StepSplit::otherSeconds),
    IDLE("idle", StepSplit::idleSeconds);

    private final String label;
    private final ToDoubleFunction<StepSplit> seconds;

    Part(String label, ToDoubleFunction<StepSplit> seconds) {
      this.label = label;
      this.seconds = seconds;
    }

    /** The part's name in metrics and tables ({@code moe_compute}). */
    public String label() {
      return label;
    }

    public double of(StepSplit split) {
      return seconds.applyAsDouble(split);
    }
  }

  /** The sum of the parts: the step time. */
  public double totalSeconds() {
    double sum = 0;
    for (Part p : Part.values()) {
      sum += p.of(this);
    }
    return sum;
  }

  /** The split of one rank's step, from its timeline. */
  public static StepSplit of(RankStep step) {
    return of(step.timeline(), step.startNanos(), step.startNanos() + step.times().stepNanos(),
        COMPUTE_STREAM);
  }

  /**
   * @param compute the compute stream's name; collectives are the records of communicator queues
   *     ({@code comm:...})
   */
  public static StepSplit of(List<OpRecord> timeline, long start, long end, String compute) {
    List<List<long[]>> kinds = new ArrayList<>();
    for (int i = 0; i < Kind.values().length; i++) {
      kinds.add(new ArrayList<>());
    }
    for (OpRecord r : timeline) {
      Kind kind = Kind.of(r, compute);
      if (kind != null) {
        kinds.get(kind.ordinal()).add(new long[] {r.startNanos(), r.endNanos()});
      }
    }
    // a kind's own time = |union of it and the kinds before| - |union of the kinds before|
    long[] own = new long[kinds.size()];
    List<long[]> before = new ArrayList<>();
    long coveredBefore = 0;
    for (int i = 0; i < kinds.size(); i++) {
      before.addAll(kinds.get(i));
      long covered = Intervals.unionLength(before, start, end);
      own[i] = covered - coveredBefore;
      coveredBefore = covered;
    }
    long idle = (end - start) - coveredBefore;
    return new StepSplit(seconds(own[Kind.ATTENTION.ordinal()]),
        seconds(own[Kind.MOE.ordinal()]), seconds(own[Kind.COMM.ordinal()]),
        seconds(own[Kind.GRAD_SYNC.ordinal()] + own[Kind.GRAD_SYNC_COMM.ordinal()]),
        seconds(own[Kind.OPTIMIZER.ordinal()]), seconds(own[Kind.OTHER.ordinal()]),
        seconds(idle));
  }

  /** A split from its parts' seconds in {@link Part} order. */
  public static StepSplit ofParts(double... seconds) {
    if (seconds.length != Part.values().length) {
      throw new IllegalArgumentException("a split has " + Part.values().length + " parts, not "
          + seconds.length);
    }
    return new StepSplit(seconds[0], seconds[1], seconds[2], seconds[3], seconds[4], seconds[5],
        seconds[6]);
  }

  /** The ranks' mean of every part (a job's step, as {@link JobStepTimes} reads busy times). */
  public static StepSplit mean(List<StepSplit> ranks) {
    double[] means = new double[Part.values().length];
    for (StepSplit s : ranks) {
      for (Part p : Part.values()) {
        means[p.ordinal()] += p.of(s) / ranks.size();
      }
    }
    return ofParts(means);
  }

  private static double seconds(long nanos) {
    return nanos * 1e-9;
  }

  /** The classes of timeline records, in the order that decides which part an instant is in. */
  private enum Kind {
    ATTENTION, MOE, OTHER, OPTIMIZER, GRAD_SYNC, COMM, GRAD_SYNC_COMM;

    /** The kind of a record, or null for records of no part (the issue streams' waits). */
    static Kind of(OpRecord r, String compute) {
      String label = r.label() == null ? "" : r.label();
      boolean gradSync = label.startsWith("grad-sync");
      if (r.stream().equals(compute)) {
        if (label.startsWith("attention")) {
          return ATTENTION;
        } else if (label.isEmpty() || label.startsWith("embedding") || label.startsWith("head")
            || label.startsWith("loss")) {
          return OTHER;
        } else if (label.startsWith("optimizer")) {
          return OPTIMIZER;
        }
        return gradSync ? GRAD_SYNC : MOE;
      }
      if (r.stream().startsWith("comm:")) {
        return gradSync ? GRAD_SYNC_COMM : COMM;
      }
      return null;
    }
  }
}
