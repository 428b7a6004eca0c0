package dev.pipemoe.engine.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.OpRecord;
import dev.pipemoe.engine.moe.LayerShape;
import dev.pipemoe.engine.schedule.MindSpeedSchedule;
import dev.pipemoe.engine.schedule.Schedule;
import dev.pipemoe.engine.train.RankStep;
import dev.pipemoe.engine.train.Trainer;
import dev.pipemoe.engine.train.TrainingPlan;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The toy timelines of docs/reference.md §4.7, run through the real {@link MindSpeedSchedule} on
 * the simulated device: a profile in which, per chunk, every collective takes exactly {@code comm}
 * time units and the expert exactly {@code expert} units, and nothing else costs anything. TP = 2
 * inside a node, EP = 2 across nodes, SP, one local expert sliced N ways; the forward span from the
 * first dispatch to the last combine must be the analytic model's T.
 */
class ToyTimelinesTest {
  static final double UNIT = 1e-3;
  static final int M = 16;
  static final int F = 32;
  static final Pattern FORWARD_COMM = Pattern.compile("(A|CB|AG|RS)\\d+");

  /** E = 2 over EP 2 (one local expert), capacity 2 slots per slice. */
  static LayerShape shape(int slices) {
    return new LayerShape(2 * slices + 2, M, F, 2, 1, 2 * slices, 2, 2, 2, true, false,
        DType.F32, 0.0);
  }

  /**
   * Per chunk: D = EP x c x M = 64 elements, 4 bytes each. EP all-to-all sends (EP-1)/EP D = 128
   * bytes, TP all-gather and reduce-scatter (TP-1) D = 256 bytes; the expert computes
   * 2 x (TP EP c) x M x F/TP x 2 GEMMs = 16 M F FLOPs.
   */
  static HardwareProfile profile(double comm, double expert, boolean unified) {
    double intra = 256 / (comm * UNIT);
    double inter = 128 / (comm * UNIT);
    return new HardwareProfile("toy", "toy", 2, 16.0 * M * F / (expert * UNIT), 1, 0, 1e30, 1, 0,
        new HardwareProfile.Link(intra, 0), new HardwareProfile.Link(inter, 0), unified, 1);
  }

  static double forwardSpan(HardwareProfile profile, Schedule schedule, int slices) {
    LayerShape shape = shape(slices);
    Map<Integer, List<OpRecord>> byRank = new ConcurrentHashMap<>();
    TrainingPlan plan = new TrainingPlan(shape, 1, schedule, 1, 0, 3, 1e-3, true, 1);
    try (SimFabric fabric = new SimFabric(shape.worldSize(), profile, false)) {
      Trainer.train(fabric, plan, (RankStep s) -> byRank.put(s.rank(), s.timeline()), () -> false);
    }
    List<OpRecord> comm = byRank.get(0).stream().filter(r -> r.label() != null
        && FORWARD_COMM.matcher(r.label()).matches() && r.bytes() > 0).toList();
    long start = comm.stream().mapToLong(OpRecord::startNanos).min().orElseThrow();
    long end = comm.stream().mapToLong(OpRecord::endNanos).max().orElseThrow();
    return (end - start) * 1e-9 / UNIT;
  }

  @Test
  void independentLinksCommBoundDefaultModeTakesTen() {
    assertThat(forwardSpan(profile(1, 2, false), new MindSpeedSchedule(false, 3), 3))
        .isCloseTo(10, within(1e-6));
  }

  @Test
  void independentLinksCommBoundMultiStreamTakesTwelve() {
    assertThat(forwardSpan(profile(1, 2, false), new MindSpeedSchedule(true, 3), 3))
        .isCloseTo(12, within(1e-6));
  }

  @Test
  void sharedLinkDefaultModeTakesTwentyAndMultiStreamSixteen() {
    HardwareProfile shared = profile(2, 4, true);
    assertThat(forwardSpan(shared, new MindSpeedSchedule(false, 2), 2))
        .isCloseTo(20, within(1e-6));
    assertThat(forwardSpan(shared, new MindSpeedSchedule(true, 2), 2))
        .isCloseTo(16, within(1e-6));
  }

  @Test
  void computeBoundBothModesTakeFourteen() {
    HardwareProfile compute = profile(0.5, 4, false);
    assertThat(forwardSpan(compute, new MindSpeedSchedule(false, 3), 3))
        .isCloseTo(14, within(1e-6));
    assertThat(forwardSpan(compute, new MindSpeedSchedule(true, 3), 3))
        .isCloseTo(14, within(1e-6));
  }
}
