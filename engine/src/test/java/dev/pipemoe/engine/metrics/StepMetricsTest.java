package dev.pipemoe.engine.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pipemoe.engine.data.TokenSource;
import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.model.GptShape;
import dev.pipemoe.engine.moe.LayerShape;
import dev.pipemoe.engine.schedule.SerialSchedule;
import dev.pipemoe.engine.train.RankStep;
import dev.pipemoe.engine.train.TrainingPlan;
import java.util.List;
import org.junit.jupiter.api.Test;

class StepMetricsTest {

  /** The metrics read no tokens. */
  static final TokenSource NO_TOKENS = new TokenSource() {
    @Override
    public int vocabSize() {
      return 16;
    }

    @Override
    public int[] sequences(int step, int microBatch, int dataRank, int dataRanks, int samples,
        int length) {
      throw new UnsupportedOperationException("metrics read no tokens");
    }
  };

  @Test
  void baseUnitsAndRatesByHand() {
    // the GELU shape of FlopsTest: 2,304 model and 2,912 hardware FLOPs per step, S = 8 tokens
    LayerShape shape = new LayerShape(8, 4, 6, 2, 1, 4, 1, 1, 1, false, false, DType.F32, 0);
    StepTimes t = new StepTimes(2_000_000, 1_500_000, 300_000, 0, 100_000);
    RankStep s = new RankStep(7, 0, t, 0.5, 0.01, 3, 123, List.of());
    StepMetrics m = StepMetrics.of(s, stack(shape));
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
    assertThat(StepMetrics.of(s, stack(shape)).tokensPerSecond()).isEqualTo(4.0);
  }

  @Test
  void aWholeModelStepReportsWholeModelFlopsTokensAndItsSplit() {
    // FlopsTest's small case: 16,896 model and 17,504 hardware FLOPs per rank and step; B s = 8
    // tokens per step over 2 ranks; the timeline of StepSplitTest, 100 ns
    GptShape gpt = new GptShape(16, 2, 4, 1, 1, 1, false, false);
    TrainingPlan plan = new TrainingPlan(FlopsTest.SMALL, 1, new SerialSchedule(), 1, 0, 1, 1e-3,
        false, 1, gpt, NO_TOKENS);
    RankStep s = new RankStep(0, 1, new StepTimes(100, 88, 0, 0, 0), 2.5, 0, 0, 0,
        StepSplitTest.TIMELINE);
    StepMetrics m = StepMetrics.of(s, plan);
    assertThat(m.tflopsPerDevice()).isCloseTo(16896 / 100e-9 / 1e12, within(1e-12));
    assertThat(m.hardwareTflopsPerDevice()).isCloseTo(17504 / 100e-9 / 1e12, within(1e-12));
    assertThat(m.tokensPerSecond()).isCloseTo(4 / 100e-9, within(1e-3));
    assertThat(m.split()).isEqualTo(StepSplit.of(StepSplitTest.TIMELINE, 0, 100, "compute"));
    assertThat(m.split().totalSeconds()).isCloseTo(m.stepSeconds(), within(1e-18));
    assertThat(m.loss()).isEqualTo(2.5);
  }

  @Test
  void aMoeStackStepIsSplitToo() {
    RankStep s = new RankStep(0, 0, new StepTimes(100, 88, 0, 0, 0), 0, 0, 0, 0,
        StepSplitTest.TIMELINE);
    StepMetrics m = StepMetrics.of(s, stack(FlopsTest.SMALL));
    assertThat(m.split()).isEqualTo(StepSplit.of(StepSplitTest.TIMELINE, 0, 100, "compute"));
    // the MoE stack's own FLOPs: 6 k g M F x S = 6 * 1 * 2 * 8 * 16 * 4 = 6144
    assertThat(m.tflopsPerDevice()).isCloseTo(6144 / 100e-9 / 1e12, within(1e-12));
  }

  static TrainingPlan stack(LayerShape shape) {
    return new TrainingPlan(shape, 1, new SerialSchedule(), 1, 0, 1, 1e-3, false, 1);
  }
}
