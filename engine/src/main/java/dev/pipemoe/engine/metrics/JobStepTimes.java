package dev.pipemoe.engine.metrics;

import java.util.List;
import java.util.function.ToLongFunction;

/**
 * One step of a job, from its ranks' {@link StepTimes}: the step lasts as long as its slowest rank;
 * busy and exposed times are the ranks' mean (docs/engine.md, "Metrics per step"). The bench, the
 * command line's prediction and the worker's summary read a job's steps this way.
 */
public record JobStepTimes(long stepNanos, double computeBusyNanos, double epBusyNanos,
    double tpBusyNanos, double exposedNanos) {

  public static JobStepTimes of(List<StepTimes> ranks) {
    return new JobStepTimes(ranks.stream().mapToLong(StepTimes::stepNanos).max().orElseThrow(),
        mean(ranks, StepTimes::computeBusyNanos), mean(ranks, StepTimes::epBusyNanos),
        mean(ranks, StepTimes::tpBusyNanos), mean(ranks, StepTimes::exposedCommNanos));
  }

  private static double mean(List<StepTimes> ranks, ToLongFunction<StepTimes> f) {
    return ranks.stream().mapToLong(f).average().orElseThrow();
  }
}
