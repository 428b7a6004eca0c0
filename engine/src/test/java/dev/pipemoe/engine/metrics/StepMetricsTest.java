package dev.pipemoe.engine.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.moe.LayerShape;
import dev.pipemoe.engine.train.RankStep;
import java.util.List;
import org.junit.jupiter.api.Test;

class StepMetricsTest {

  @Test
  void baseUnitsAndRatesByHand() {
    // the GELU shape of FlopsTest: 2,304 model and 2,912 hardware FLOPs per step, S = 8 tokens
    LayerShape shape = new LayerShape(8, 4, 6, 2, 1, 4, 1, 1, 1, false, false, DType.F32, 0);
    StepTimes t = new StepTimes(2_000_000, 1_500_000, 300_000, 0, 100_000);
    RankStep s = new RankStep(7, 0, t, 0.5, 0.01, 3, 123, List.of());
    StepMetrics m = StepMetrics.of(s, shape, 1);
    assertThat(m.stepSeconds()).isEqualTo(0.002);
    assertThat(m.computeBusySeconds()).isEqualTo(0.0015);
    assertThat(m.exposedCommSeconds()).isCloseTo(0.0005, within(1e-15));
    assertThat(m.tflopsPerDevice()).isCloseTo(2304 / 0.002 / 1e12, within(1e-18));
    assertThat(m.hardwareTflopsPerDevice()).isCloseTo(2912 / 0.002 / 1e12, within(1e-18));
    assertThat(m.tokensPerSecond()).isCloseTo(8 / 0.002, within(1e-9));
    assertThat(m.droppedTokens()).isEqualTo(3);
    assertThat(m.step()).isEqualTo(7);
  }

  @Test
  void withoutSequenceParallelismATensorRankCountsItsShareOfTheTokens() {
    LayerShape shape = new LayerShape(8, 4, 6, 2, 1, 4, 2, 1, 1, false, false, DType.F32, 0);
    RankStep s = new RankStep(0, 1, new StepTimes(1_000_000_000, 0, 0, 0, 0), 0, 0, 0, 0,
        List.of());
    assertThat(StepMetrics.of(s, shape, 1).tokensPerSecond()).isEqualTo(4.0);
  }
}
