package dev.pipemoe.engine.train;

import dev.pipemoe.engine.data.TokenSource;
import dev.pipemoe.engine.model.GptShape;
import dev.pipemoe.engine.moe.LayerShape;
import dev.pipemoe.engine.schedule.Schedule;

/**
 * What a run trains: {@code layers} MoE layers of {@code shape}, on a synthetic task whose targets
 * a fixed random teacher model (same architecture, other weights) produces from random inputs.
 *
 * @param warmupSteps steps excluded from averages
 * @param sharedLinks whether EP and TP traffic share one link set
 * @param batches how many distinct input batches the run cycles through
 * @param gpt the whole model around the MoE layers, or null for the stack of MoE layers alone
 * @param tokens the whole model's data (null exactly when gpt is)
 */
public record TrainingPlan(LayerShape shape, int layers, Schedule schedule, int steps,
    int warmupSteps, long seed, double learningRate, boolean sharedLinks, int batches,
    GptShape gpt, TokenSource tokens) {

  /** A stack of MoE layers alone, trained on a teacher's targets. */
  public TrainingPlan(LayerShape shape, int layers, Schedule schedule, int steps, int warmupSteps,
      long seed, double learningRate, boolean sharedLinks, int batches) {
    this(shape, layers, schedule, steps, warmupSteps, seed, learningRate, sharedLinks, batches,
        null, null);
  }

  public TrainingPlan {
    if (layers < 1 || steps < 0 || warmupSteps < 0 || batches < 1 || !(learningRate > 0)) {
      throw new IllegalArgumentException("bad training plan: layers=" + layers + " steps=" + steps
          + " warmup=" + warmupSteps + " batches=" + batches + " lr=" + learningRate);
    }
    if ((gpt == null) != (tokens == null)) {
      throw new IllegalArgumentException("a whole model needs its tokens, and only it");
    }
  }

  public TrainingPlan withSchedule(Schedule other) {
    return new TrainingPlan(shape, layers, other, steps, warmupSteps, seed, learningRate,
        sharedLinks, batches, gpt, tokens);
  }

  public TrainingPlan withSteps(int n) {
    return new TrainingPlan(shape, layers, schedule, n, Math.min(warmupSteps, Math.max(0, n - 1)),
        seed, learningRate, sharedLinks, batches, gpt, tokens);
  }
}
