package dev.pipemoe.engine.train;

import dev.pipemoe.engine.moe.LayerShape;
import dev.pipemoe.engine.schedule.Schedule;

/**
 * What a run trains: {@code layers} MoE layers of {@code shape}, on a synthetic task whose targets
 * a fixed random teacher model (same architecture, other weights) produces from random inputs.
 *
 * @param warmupSteps steps excluded from averages
 * @param sharedLinks whether EP and TP traffic share one link set
 * @param batches how many distinct input batches the run cycles through
 */
public record TrainingPlan(LayerShape shape, int layers, Schedule schedule, int steps,
    int warmupSteps, long seed, double learningRate, boolean sharedLinks, int batches) {

  public TrainingPlan {
    if (layers < 1 || steps < 0 || warmupSteps < 0 || batches < 1 || !(learningRate > 0)) {
      throw new IllegalArgumentException("bad training plan: layers=" + layers + " steps=" + steps
          + " warmup=" + warmupSteps + " batches=" + batches + " lr=" + learningRate);
    }
  }

  public TrainingPlan withSchedule(Schedule other) {
    return new TrainingPlan(shape, layers, other, steps, warmupSteps, seed, learningRate,
        sharedLinks, batches);
  }

  public TrainingPlan withSteps(int n) {
    return new TrainingPlan(shape, layers, schedule, n, Math.min(warmupSteps, Math.max(0, n - 1)),
        seed, learningRate, sharedLinks, batches);
  }
}
