package dev.pipemoe.worker.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.Fabric;
import dev.pipemoe.engine.device.LinkModel;
import dev.pipemoe.engine.device.OpRecord;
import dev.pipemoe.engine.metrics.CommVolume;
import dev.pipemoe.engine.moe.LayerShape;
import dev.pipemoe.engine.schedule.SerialSchedule;
import dev.pipemoe.engine.train.RankStep;
import dev.pipemoe.engine.train.Trainer;
import dev.pipemoe.engine.train.TrainingPlan;
import dev.pipemoe.nativebridge.NativeFabric;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The calibration's byte count is what the serial schedule really sends, collective by collective. */
class CommVolumeTest {

  @ParameterizedTest(name = "tp={0} ep={1} sp={2} swiglu={3} {4}")
  @CsvSource({"1,4,false,false,F32", "2,2,true,true,BF16", "2,2,false,true,F32",
      "2,4,true,false,F32"})
  void predictedBytesAndCollectivesMatchTheTimeline(int tp, int ep, boolean sp, boolean swiglu,
      DType wire) {
    LayerShape shape = new LayerShape(16, 8, 16, 4, 2, 8, tp, ep, ep, sp, swiglu, wire, 0.01);
    Map<Integer, List<OpRecord>> timelines = new ConcurrentHashMap<>();
    TrainingPlan plan = new TrainingPlan(shape, 2, new SerialSchedule(), 1, 0, 1, 1e-3, true, 1);
    try (Fabric fabric = NativeFabric.open(shape.worldSize(), LinkModel.unmodelled())) {
      Trainer.train(fabric, plan, (RankStep s) -> timelines.put(s.rank(), s.timeline()),
          () -> false);
    }
    CommVolume expected = CommVolume.serialStep(shape, 2);
    for (List<OpRecord> t : timelines.values()) {
      List<OpRecord> layer = t.stream().filter(r -> !"grad-sync".equals(r.label())).toList();
      assertThat(sum(layer, "comm:ep")).isEqualTo((long) expected.epBytes());
      assertThat(sum(layer, "comm:tp")).isEqualTo((long) expected.tpBytes());
      assertThat(count(layer, "comm:ep", ep)).isEqualTo(expected.epCollectives());
      assertThat(count(layer, "comm:tp", tp)).isEqualTo(expected.tpCollectives());
    }
  }

  private static long sum(List<OpRecord> t, String queuePrefix) {
    return t.stream().filter(r -> r.stream().startsWith(queuePrefix)).mapToLong(OpRecord::bytes)
        .sum();
  }

  /** Collectives of a group larger than one (a group of one sends nothing and is not counted). */
  private static long count(List<OpRecord> t, String queuePrefix, int groupSize) {
    return groupSize == 1 ? 0 : t.stream().filter(r -> r.stream().startsWith(queuePrefix)).count();
  }
}
