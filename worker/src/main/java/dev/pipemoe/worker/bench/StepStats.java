package dev.pipemoe.worker.bench;

import dev.pipemoe.engine.device.OpRecord;
import dev.pipemoe.engine.metrics.JobStepTimes;
import dev.pipemoe.engine.metrics.StepSplit;
import dev.pipemoe.engine.train.RankStep;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A run's steps, aggregated over ranks: a step lasts as long as its slowest rank; busy times are
 * the ranks' mean. Warm-up steps are kept out of the averages.
 */
final class StepStats {
  private final int warmup;
  private final TreeMap<Integer, List<RankStep>> byStep = new TreeMap<>();

  StepStats(int warmup) {
    this.warmup = warmup;
  }

  synchronized void add(RankStep s) {
    byStep.computeIfAbsent(s.step(), k -> new ArrayList<>()).add(s);
  }

  /** One step of the job: its times ({@link JobStepTimes}), the ranks' mean loss, their drops. */
  record JobStep(int step, JobStepTimes times, double loss, long dropped) {
    long stepNanos() {
      return times.stepNanos();
    }

    double computeBusyNanos() {
      return times.computeBusyNanos();
    }

    double epBusyNanos() {
      return times.epBusyNanos();
    }

    double tpBusyNanos() {
      return times.tpBusyNanos();
    }

    double exposedNanos() {
      return times.exposedNanos();
    }
  }

  synchronized List<JobStep> steps() {
    List<JobStep> out = new ArrayList<>();
    for (var e : byStep.entrySet()) {
      List<RankStep> ranks = e.getValue();
      out.add(new JobStep(e.getKey(),
          JobStepTimes.of(ranks.stream().map(RankStep::times).toList()),
          ranks.stream().mapToDouble(RankStep::loss).average().orElseThrow(),
          ranks.stream().mapToLong(RankStep::droppedChoices).sum()));
    }
    return out;
  }

  /**
   * The time split of the measured steps: each part the mean over ranks and measured steps, so the
   * parts add up to the ranks' mean step time (docs/engine.md, "The time split of a step").
   */
  synchronized StepSplit measuredSplit() {
    List<StepSplit> ranks = new ArrayList<>();
    for (List<RankStep> step : byStep.tailMap(warmup).values()) {
      step.forEach(r -> ranks.add(StepSplit.of(r)));
    }
    return StepSplit.mean(ranks);
  }

  /** The measured steps (after warm-up). */
  List<JobStep> measured() {
    return steps().stream().filter(s -> s.step() >= warmup).toList();
  }

  /**
   * Per op class, the sum of its ops' durations in one rank's step: the mean over ranks and
   * measured steps, in ms.
   */
  synchronized Map<OpClass, Double> opClassMillis() {
    Map<OpClass, Double> sums = new java.util.EnumMap<>(OpClass.class);
    for (OpClass c : OpClass.values()) {
      sums.put(c, 0.0);
    }
    int count = 0;
    for (var e : byStep.tailMap(warmup).entrySet()) {
      for (RankStep r : e.getValue()) {
        count++;
        for (OpRecord op : r.timeline()) {
          sums.merge(OpClass.of(op), op.durationNanos() / 1e6, Double::sum);
        }
      }
    }
    int n = Math.max(1, count);
    sums.replaceAll((c, v) -> v / n);
    return sums;
  }

  /** Every rank's timeline of the last step. */
  synchronized Map<Integer, List<OpRecord>> lastTimelines() {
    Map<Integer, List<OpRecord>> t = new TreeMap<>();
    for (RankStep r : byStep.get(byStep.lastKey())) {
      t.put(r.rank(), r.timeline());
    }
    return t;
  }
}
