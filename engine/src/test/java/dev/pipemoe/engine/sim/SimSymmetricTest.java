package dev.pipemoe.engine.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.metrics.StepTimes;
import dev.pipemoe.engine.moe.LayerShape;
import dev.pipemoe.engine.schedule.ImprovedSchedule;
import dev.pipemoe.engine.schedule.MindSpeedSchedule;
import dev.pipemoe.engine.schedule.Schedule;
import dev.pipemoe.engine.schedule.SerialSchedule;
import dev.pipemoe.engine.testing.Gen;
import dev.pipemoe.engine.testing.Property;
import dev.pipemoe.engine.train.RankStep;
import dev.pipemoe.engine.train.Trainer;
import dev.pipemoe.engine.train.TrainingPlan;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * A symmetric simulated fabric (rank 0 standing for all) predicts exactly what the full
 * simulation of every rank does, on layouts whose groups sit alike on the nodes.
 */
class SimSymmetricTest {

  record Case(LayerShape shape, Schedule schedule, HardwareProfile profile) {
    @Override
    public String toString() {
      return shape + " " + schedule.name() + " on " + profile.name() + " nodes of "
          + profile.ranksPerNode();
    }
  }

  static Case regularCase(SplittableRandom r) {
    int tp = Gen.oneOf(r, 1, 2, 4);
    int ep = Gen.oneOf(r, 1, 2, 4);
    int data = ep * Gen.oneOf(r, 1, 2);
    int experts = ep * Gen.oneOf(r, 1, 2);
    int topK = experts == 1 ? 1 : 2;
    boolean sp = tp > 1 && r.nextBoolean();
    LayerShape shape = new LayerShape(1024, 1024, 4096, experts, topK,
        Math.max(4, topK * 1024 / experts), tp, data, ep, sp, r.nextBoolean(), DType.BF16, 0.0);
    // TP inside a node; EP groups (TP x EP consecutive ranks) all inside one, or all across
    int node = Gen.oneOf(r, tp, tp * ep, 2 * tp * ep);
    int n = Gen.oneOf(r, 1, 2, 4);
    boolean ms = sp && r.nextBoolean();
    Schedule schedule = switch (Gen.intIn(r, 0, 2)) {
      case 0 -> new SerialSchedule();
      case 1 -> new MindSpeedSchedule(ms, n);
      default -> new ImprovedSchedule(ms, n, n, 2);
    };
    HardwareProfile profile = HardwareProfile.load(Gen.oneOf(r, "ascend-910c", "h100"))
        .withRanksPerNode(node);
    return new Case(shape, schedule, profile);
  }

  static List<StepTimes> steps(Case c, boolean symmetric) {
    Map<Integer, List<StepTimes>> byRank = new ConcurrentHashMap<>();
    TrainingPlan plan = new TrainingPlan(c.shape(), 1, c.schedule(), 2, 0, 5, 1e-3, true, 1);
    try (SimFabric fabric = new SimFabric(c.shape().worldSize(), c.profile(), false, symmetric)) {
      Trainer.train(fabric, plan, (RankStep s) -> byRank.computeIfAbsent(s.rank(),
          k -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(s.times()), () -> false);
    }
    return byRank.get(0);
  }

  @Test
  void rankZeroAloneIsRankZeroAmongAll() {
    Property.forAll(40, SimSymmetricTest::regularCase, c -> {
      assertThat(steps(c, true)).isEqualTo(steps(c, false));
    });
  }
}
