package dev.pipemoe.engine.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.contract.WholeModelCase;
import dev.pipemoe.engine.sim.HardwareProfile;
import dev.pipemoe.engine.sim.SimFabric;
import dev.pipemoe.engine.train.Trainer;
import dev.pipemoe.engine.train.TrainingPlan;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import org.junit.jupiter.api.Test;

/**
 * The whole model learns: on tokens whose next token is a function of the current one, the
 * cross-entropy of a tiny model (TP 2 with SP, DP 2, EP 2) falls well below its start within a few
 * dozen steps, on the simulated device with numerics.
 */
class WholeModelTrainingTest {

  @Test
  void theLossFallsOnALearnablePattern() {
    WholeModelCase c = WholeModelCase.tiny().withLayout(2, 1, 2, 2, true);
    int steps = 40;
    TrainingPlan plan = c.plan(steps, 1e-2, true);
    Map<Integer, Double> loss = new ConcurrentSkipListMap<>();
    try (SimFabric fabric = new SimFabric(c.world(), HardwareProfile.load("ascend-910c"), true)) {
      Trainer.train(fabric, plan, step -> loss.merge(step.step(), step.loss() / c.world(),
          Double::sum), () -> false);
    }
    assertThat(loss).hasSize(steps);
    double first = mean(loss, 0, 5);
    double last = mean(loss, steps - 5, steps);
    assertThat(first).as("the start is near log V").isBetween(2.5, 5.0);
    assertThat(last).as("mean loss of the last 5 steps vs the first 5 (%.3f)", first)
        .isLessThan(0.5 * first);
  }

  static double mean(Map<Integer, Double> loss, int from, int to) {
    double sum = 0;
    for (int s = from; s < to; s++) {
      sum += loss.get(s);
    }
    return sum / (to - from);
  }
}
