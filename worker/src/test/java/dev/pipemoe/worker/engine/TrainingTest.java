package dev.pipemoe.worker.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.Fabric;
import dev.pipemoe.engine.device.LinkModel;
import dev.pipemoe.engine.moe.LayerShape;
import dev.pipemoe.engine.schedule.ImprovedSchedule;
import dev.pipemoe.engine.schedule.MindSpeedSchedule;
import dev.pipemoe.engine.schedule.Schedule;
import dev.pipemoe.engine.schedule.SerialSchedule;
import dev.pipemoe.engine.train.RankStep;
import dev.pipemoe.engine.train.Trainer;
import dev.pipemoe.engine.train.TrainingPlan;
import dev.pipemoe.nativebridge.NativeFabric;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** The student learns the teacher: the loss falls over 50 steps, with every schedule family. */
class TrainingTest {
  /** TP = 2, EP = 2, SP, SwiGLU top-2, two layers, bf16 on the wire. */
  static final LayerShape SHAPE = new LayerShape(32, 24, 48, 4, 2, 16, 2, 2, 2, true, true,
      DType.BF16, 0.01);

  static List<Schedule> schedules() {
    return List.of(new SerialSchedule(), new MindSpeedSchedule(true, 2),
        new ImprovedSchedule(false, 2, 3, 2));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("schedules")
  void lossFallsOverFiftySteps(Schedule schedule) {
    TrainingPlan plan = new TrainingPlan(SHAPE, 2, schedule, 50, 0, 11, 3e-3, true, 4);
    ConcurrentMap<Integer, double[]> lossByStep = new ConcurrentHashMap<>();
    try (Fabric fabric = NativeFabric.open(SHAPE.worldSize(), LinkModel.unmodelled())) {
      Trainer.Outcome outcome = Trainer.train(fabric, plan, (RankStep s) -> lossByStep
          .computeIfAbsent(s.step(), k -> new double[SHAPE.worldSize()])[s.rank()] = s.loss(),
          () -> false);
      assertThat(outcome.stepsCompleted()).isEqualTo(50);
      assertThat(outcome.cancelled()).isFalse();
    }
    double first = mean(lossByStep, 0, 4);
    double last = mean(lossByStep, 46, 50);
    assertThat(last).as("loss of the last 4 steps vs the first 4").isLessThan(0.7 * first);
  }

  @Test
  void cancellationStopsEveryRankAtTheSameStep() {
    TrainingPlan plan = new TrainingPlan(SHAPE, 1, new SerialSchedule(), 50, 0, 5, 1e-3, true, 2);
    AtomicInteger reports = new AtomicInteger();
    try (Fabric fabric = NativeFabric.open(SHAPE.worldSize(), LinkModel.unmodelled())) {
      Trainer.Outcome outcome = Trainer.train(fabric, plan, s -> reports.incrementAndGet(),
          () -> reports.get() >= 3 * SHAPE.worldSize());
      assertThat(outcome.cancelled()).isTrue();
      assertThat(outcome.stepsCompleted()).isEqualTo(3);
      assertThat(reports.get()).isEqualTo(3 * SHAPE.worldSize());
    }
  }

  private static double mean(ConcurrentMap<Integer, double[]> byStep, int from, int to) {
    double sum = 0;
    int n = 0;
    for (int s = from; s < to; s++) {
      for (double v : byStep.get(s)) {
        sum += v;
        n++;
      }
    }
    return sum / n;
  }
}
