package dev.pipemoe.engine.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.OpRecord;
import dev.pipemoe.engine.metrics.Intervals;
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
 * What any cost model worth the name must satisfy, over random layouts, schedules and profiles on
 * the simulated device (docs/engine.md, "Simulated device: what is checked").
 */
class SimPropertiesTest {
  static final List<String> PROFILES = List.of("ascend-910c", "ascend-910b", "h100");

  record Case(LayerShape shape, Schedule schedule, HardwareProfile profile) {
    @Override
    public String toString() {
      return shape + " " + schedule.name() + " on " + profile.name();
    }
  }

  static Case randomCase(SplittableRandom r) {
    int tp = Gen.oneOf(r, 1, 2, 4);
    int ep = Gen.oneOf(r, 1, 2, 4);
    int local = Gen.oneOf(r, 1, 2);
    int experts = ep * local;
    int topK = experts == 1 ? 1 : Gen.oneOf(r, 1, 2);
    boolean sp = tp > 1 && r.nextBoolean();
    int tokens = Gen.oneOf(r, 512, 2048, 8192);
    int capacity = Math.max(4, (int) Math.ceil((double) topK * tokens / experts));
    int hidden = Gen.oneOf(r, 1024, 4096);
    int ffn = 4 * hidden;
    LayerShape shape = new LayerShape(tokens, hidden, ffn, experts, topK, capacity, tp, ep, ep, sp,
        r.nextBoolean(), DType.BF16, 0.0);
    int n = Gen.oneOf(r, 1, 2, 4);
    boolean ms = sp && r.nextBoolean();
    Schedule schedule = switch (Gen.intIn(r, 0, 2)) {
      case 0 -> new SerialSchedule();
      case 1 -> new MindSpeedSchedule(ms, n);
      default -> new ImprovedSchedule(ms, n, n, 1);
    };
    HardwareProfile profile = HardwareProfile.load(Gen.oneOf(r, PROFILES))
        .withRanksPerNode(Gen.oneOf(r, 2, 4, 8));
    return new Case(shape, schedule, profile);
  }

  /** Every rank's step times of one training step. */
  static Map<Integer, RankStep> step(LayerShape shape, Schedule schedule, HardwareProfile p) {
    Map<Integer, RankStep> byRank = new ConcurrentHashMap<>();
    TrainingPlan plan = new TrainingPlan(shape, 1, schedule, 1, 0, 5, 1e-3, true, 1);
    try (SimFabric fabric = new SimFabric(shape.worldSize(), p, false)) {
      Trainer.train(fabric, plan, s -> byRank.put(s.rank(), s), () -> false);
    }
    return byRank;
  }

  static long slowest(Map<Integer, RankStep> steps) {
    return steps.values().stream().mapToLong(s -> s.times().stepNanos()).max().orElseThrow();
  }

  static HardwareProfile faster(HardwareProfile p, double links, double flops) {
    return p.withLinks(new HardwareProfile.Link(p.intra().bandwidth() * links, p.intra().latency()),
            new HardwareProfile.Link(p.inter().bandwidth() * links, p.inter().latency()),
            p.unifiedLinks(), p.congestion())
        .withCompute(p.peakFlops() * flops, p.gemmEfficiency(), p.hbmBandwidth(),
            p.launchSeconds());
  }

  @Test
  void moreBandwidthOrMoreFlopsNeverMakesAStepSlower() {
    Property.forAll(40, SimPropertiesTest::randomCase, c -> {
      long base = slowest(step(c.shape(), c.schedule(), c.profile()));
      long moreLinks = slowest(step(c.shape(), c.schedule(), faster(c.profile(), 2, 1)));
      long moreFlops = slowest(step(c.shape(), c.schedule(), faster(c.profile(), 1, 2)));
      assertThat(moreLinks).as("twice the bandwidth").isLessThanOrEqualTo(base);
      assertThat(moreFlops).as("twice the FLOPS").isLessThanOrEqualTo(base);
    });
  }

  /**
   * A rank's step is at least its compute, and at least the time its busiest link needs to move
   * its bytes at full bandwidth (links never go faster than alone): no schedule beats the ideal
   * bound max(compute, communication).
   */
  @Test
  void noStepBeatsItsIdealBound() {
    Property.forAll(40, SimPropertiesTest::randomCase, c -> {
      double fastestLink = Math.max(c.profile().intra().bandwidth(),
          c.profile().inter().bandwidth());
      for (RankStep s : step(c.shape(), c.schedule(), c.profile()).values()) {
        StepTimes t = s.times();
        double bytes = s.timeline().stream().mapToLong(r -> r.bytes()).sum();
        double comm = c.profile().unifiedLinks() ? bytes / fastestLink : 0;
        assertThat((double) t.stepNanos()).as("rank %d", s.rank())
            .isGreaterThanOrEqualTo(Math.max(t.computeBusyNanos(), comm * 1e9 - 1));
      }
    });
  }

  /**
   * Serial: nothing waits, so the step is exactly its ops end to end; and no collective overlaps
   * compute, but for Megatron's column-linear backward, whose gather (label i) and reduce-scatter
   * or all-reduce (s) run beside their own GEMMs in the serial baseline too.
   */
  @Test
  void serialStepIsTheSumOfItsParts() {
    Property.forAll(30, r -> {
      Case c = randomCase(r);
      return new Case(c.shape(), new SerialSchedule(), c.profile());
    }, c -> {
      for (RankStep s : step(c.shape(), c.schedule(), c.profile()).values()) {
        List<OpRecord> ops = s.timeline();
        List<long[]> all = ops.stream().map(o -> new long[] {o.startNanos(), o.endNanos()})
            .toList();
        long start = s.startNanos();
        long busy = Intervals.unionLength(all, start, start + s.times().stepNanos());
        // every op's ends are rounded to whole nanoseconds apart
        assertThat(s.times().stepNanos()).as("rank %d: step vs its ops end to end", s.rank())
            .isBetween(busy - ops.size(), busy + ops.size());
        List<OpRecord> compute = ops.stream().filter(o -> o.stream().equals("compute")).toList();
        for (OpRecord comm : ops) {
          if (comm.bytes() > 0 && !comm.label().matches("[is]\\d+")) {
            assertThat(compute.stream().filter(o -> o.durationNanos() > 0 && comm.overlaps(o)
                && Math.min(o.endNanos(), comm.endNanos())
                    - Math.max(o.startNanos(), comm.startNanos()) > 1))
                .as("rank %d: compute beside %s %s", s.rank(), comm.op(), comm.label()).isEmpty();
          }
        }
      }
    });
  }
}
