package dev.pipemoe.engine.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pipemoe.engine.device.OpRecord;
import java.util.List;
import org.junit.jupiter.api.Test;

class StepSplitTest {

  /** A step of 100 ns whose split is worked out by hand in the comments. */
  static final List<OpRecord> TIMELINE = List.of(
      new OpRecord("compute", "gemm", "attention-qkv", 0, 20, 0, 0),      // attention 20
      new OpRecord("compute", "rms_norm", "moe-norm", 20, 25, 0, 0),      // MoE 5
      new OpRecord("compute", "gemm", "E0", 30, 50, 0, 0),                // MoE 20
      new OpRecord("compute", "gemm", "head-logits", 60, 70, 0, 0),       // other 10
      new OpRecord("compute", "scale", "grad-sync", 80, 82, 0, 0),        // DP 2
      new OpRecord("compute", "adam", "optimizer", 90, 95, 0, 0),         // optimizer 5
      // [15, 30): [15, 25) hidden under compute, [25, 30) exposed: 5
      new OpRecord("comm:tp0", "all_gather", "attention-ag", 15, 30, 64, 15),
      // [40, 50) hidden under E0; [50, 58) exposed, counted once with A0: 8
      new OpRecord("comm:ep0", "all_to_all", "CB0", 40, 55, 64, 15),
      new OpRecord("comm:ep0", "all_to_all", "A0", 50, 58, 64, 8),
      // [75, 90) less [80, 82) where compute runs: 13 more DP
      new OpRecord("comm:dp", "all_reduce", "grad-sync", 75, 90, 64, 15),
      // an issue stream's wait is no part: [58, 60) stays idle
      new OpRecord("a2a-issue", "wait", "A1", 58, 60, 0, 0));

  @Test
  void everyInstantCountsInOnePartByHand() {
    StepSplit s = StepSplit.of(TIMELINE, 0, 100, "compute");
    assertThat(s.attentionSeconds()).isCloseTo(20e-9, within(1e-18));
    assertThat(s.moeComputeSeconds()).isCloseTo(25e-9, within(1e-18));
    assertThat(s.otherSeconds()).isCloseTo(10e-9, within(1e-18));
    assertThat(s.optimizerSeconds()).isCloseTo(5e-9, within(1e-18));
    assertThat(s.dpReductionSeconds()).isCloseTo(15e-9, within(1e-18));
    assertThat(s.exposedCommSeconds()).isCloseTo(13e-9, within(1e-18));
    // idle: [58, 60) + [70, 75) + [95, 100)
    assertThat(s.idleSeconds()).isCloseTo(12e-9, within(1e-18));
    assertThat(s.totalSeconds()).isCloseTo(100e-9, within(1e-18));
  }

  @Test
  void opsOutsideTheStepAreClippedAndThePartsStillAddUp() {
    StepSplit s = StepSplit.of(TIMELINE, 10, 60, "compute");
    assertThat(s.attentionSeconds()).isCloseTo(10e-9, within(1e-18));
    assertThat(s.exposedCommSeconds()).isCloseTo(13e-9, within(1e-18));
    assertThat(s.idleSeconds()).isCloseTo(2e-9, within(1e-18));
    assertThat(s.totalSeconds()).isCloseTo(50e-9, within(1e-18));
  }

  @Test
  void aJobStepIsTheRanksMeanOfEveryPart() {
    StepSplit a = new StepSplit(1, 2, 3, 4, 5, 6, 7);
    StepSplit b = new StepSplit(3, 4, 5, 6, 7, 8, 9);
    assertThat(StepSplit.mean(List.of(a, b))).isEqualTo(new StepSplit(2, 3, 4, 5, 6, 7, 8));
    assertThat(StepSplit.Part.MOE_COMPUTE.of(b)).isEqualTo(4);
    assertThat(StepSplit.Part.DP_REDUCTION.label()).isEqualTo("dp_reduction");
  }
}
