package dev.pipemoe.engine.config;

import static dev.pipemoe.engine.config.SpecField.*;
import static dev.pipemoe.engine.config.TestSpecs.spec;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * One test per rule: each changes the clean base spec so that exactly that rule fires (plus, where
 * noted, the companion a second true statement demands), and checks pointer, flag, severity and a
 * message that names the values.
 */
class ValidatorRulesTest {

  @Test
  void baseSpecIsClean() {
    Validation v = Validator.validate(spec());
    assertThat(v.errors()).isEmpty();
    assertThat(v.warnings()).isEmpty();
    assertThat(v.effective().schedule()).isEqualTo(ScheduleKind.MINDSPEED);
    assertThat(v.effective().capacity()).isEqualTo(64);
  }

  @Test
  void v1MultiDataMustBePositiveWithPipeExperts() {
    only(spec(MULTI_DATA, 0), "V1", Severity.ERROR, MULTI_DATA, "must be greater than 0", "was 0");
  }

  @Test
  void v2MultiStreamNeedsSequenceParallelism() {
    only(spec(SEQUENCE_PARALLEL, false, MULTI_STREAM, true), "V2", Severity.ERROR, MULTI_STREAM,
        "--sequence-parallel", "not set");
  }

  @Test
  void v3WarnsAndSwitchesOffWithOneLocalExpertAndOneSlice() {
    Validation v = only(spec(EXPERT, 8), "V3", Severity.WARNING, ENABLED, "numExperts 8 / parallel.expert 8 = 1",
        "switched off");
    assertThat(v.effective().schedule()).isEqualTo(ScheduleKind.SERIAL);
  }

  @Test
  void v4Zero3ExcludesPipeExperts() {
    Validation v = Validator.validate(spec(ENABLE_ZERO3, true));
    assertThat(v.errors()).singleElement().satisfies(e -> matches(e, "V4", Severity.ERROR, ENABLE_ZERO3,
        "given with --use-pipe-experts"));
    assertThat(rules(v.warnings())).containsExactly("P-NOT-RUN"); // zero3 itself is not run either
  }

  @Test
  void v5Mc2ExcludesPipeExperts() {
    Validation v = Validator.validate(spec(USE_ASCEND_MC2, true));
    assertThat(v.errors()).singleElement().satisfies(e -> matches(e, "V5", Severity.ERROR, USE_ASCEND_MC2,
        "not compatible with --use-pipe-experts"));
    assertThat(rules(v.warnings())).containsExactly("P-NOT-RUN");
  }

  @Test
  void v6WarnsAndSwitchesOffWhenAmpipeDoesNotDivideN() {
    Validation v = Validator.validate(spec(AMPIPE_DEGREE, 2, MULTI_DATA, 3, MULTI_STREAM, true));
    assertThat(v.errors()).isEmpty();
    assertThat(v.warnings()).filteredOn(w -> w.rule().equals("V6")).singleElement()
        .satisfies(w -> matches(w, "V6", Severity.WARNING, MULTI_DATA, "multiData 3", "ampipeDegree 2"));
    assertThat(rules(v.warnings())).containsExactlyInAnyOrder("V6", "P-NOT-RUN"); // ampipe is not run
    assertThat(v.effective().pipeExperts()).isEqualTo(EngineConfig.PipeExperts.off(ScheduleFamily.MINDSPEED));
  }

  @Test
  void v7MultiDataAtMostCapacity() {
    only(spec(MULTI_DATA, 65), "V7", Severity.ERROR, MULTI_DATA, "65", "capacity C = 64");
  }

  @Test
  void v8ExpertsDivisibleByExpertParallelSize() {
    only(spec(NUM_EXPERTS, 6), "V8", Severity.ERROR, EXPERT, "numExperts 6", "parallel.expert", "4");
  }

  @Test
  void v9TopOneOrTwo() {
    only(spec(TOP_K, 3), "V9", Severity.ERROR, TOP_K, "1 or 2", "was 3");
  }

  @Test
  void v10DynamicPaddingNeedsNoDrop() {
    only(spec(MOE_DYNAMIC_PADDING, true), "V10", Severity.ERROR, MOE_DYNAMIC_PADDING, "--moe-no-drop");
  }

  @Test
  void v11ModelTypeChoices() {
    only(spec(MOE_MODEL_TYPE, "switch_moe"), "V11", Severity.ERROR, MOE_MODEL_TYPE,
        "deepspeed_moe, megatron_moe", "'switch_moe'");
  }

  @Test
  void v11WarnsThatPipeExpertsDoesNothingOnMegatronMoe() {
    Validation v = Validator.validate(spec(MOE_MODEL_TYPE, "megatron_moe"));
    assertThat(v.warnings()).singleElement().satisfies(w -> matches(w, "V11", Severity.WARNING, MOE_MODEL_TYPE,
        "only takes effect with --moe-model-type deepspeed_moe"));
    assertThat(rules(v.errors())).containsExactly("P-MODEL-TYPE"); // and the engine cannot run it
  }

  @Test
  void modelTypeMustBeDeepspeedMoe() {
    only(spec(ENABLED, false, MOE_MODEL_TYPE, "megatron_moe"), "P-MODEL-TYPE", Severity.ERROR, MOE_MODEL_TYPE,
        "is megatron_moe", "only deepspeed_moe");
    only(spec(ENABLED, false, MOE_MODEL_TYPE, null), "P-MODEL-TYPE", Severity.ERROR, MOE_MODEL_TYPE,
        "not given", "default is megatron_moe");
  }

  @Test
  void numExpertsIsRequired() {
    only(spec(NUM_EXPERTS, null), "P-REQUIRED", Severity.ERROR, NUM_EXPERTS, "model.numExperts", "required");
  }

  @Test
  void rangesAreChecked() {
    only(spec(HIDDEN_SIZE, 0), "P-RANGE", Severity.ERROR, HIDDEN_SIZE, "model.hiddenSize (--hidden-size)", "was 0");
    only(spec(CAPACITY_FACTOR, Double.NaN), "P-RANGE", Severity.ERROR, CAPACITY_FACTOR, "> 0.0", "was NaN");
    only(spec(LEARNING_RATE, 0.0), "P-RANGE", Severity.ERROR, LEARNING_RATE, "was 0.0");
    only(spec(STEPS, 5, WARMUP_STEPS, 5), "P-RANGE", Severity.ERROR, WARMUP_STEPS, "< steps 5", "was 5");
    only(spec(CONGESTION, 0.5), "P-RANGE", Severity.ERROR, CONGESTION, ">= 1.0", "was 0.5");
    only(spec(COMM_RATIO, 0.0), "P-RANGE", Severity.ERROR, COMM_RATIO, "> 0.0", "was 0.0");
  }

  @Test
  void namesMustBeKnown() {
    only(spec(DTYPE, "int8"), "P-CHOICE", Severity.ERROR, DTYPE, "fp32, bf16, fp16", "'int8'");
    only(spec(PROFILE, "tpu"), "P-CHOICE", Severity.ERROR, PROFILE, "ascend-910c", "'tpu'");
    only(spec(DEVICE_TYPE, "gpu"), "P-CHOICE", Severity.ERROR, DEVICE_TYPE, "cpu, ascend-910c", "'gpu'");
    only(spec(FAMILY, "fast"), "P-CHOICE", Severity.ERROR, FAMILY, "mindspeed, improved", "'fast'");
    only(spec(RECOMPUTE_GRANULARITY, "some"), "P-CHOICE", Severity.ERROR, RECOMPUTE_GRANULARITY, "'some'");
  }

  @Test
  void fp16IsRefused() {
    Validation v = only(spec(DTYPE, "fp16"), "P-FP16", Severity.ERROR, DTYPE, "fp32 or bf16 only",
        "parallel.expert = 4");
    assertThat(v.errors().get(0).flag()).isEqualTo("--fp16");
  }

  @Test
  void devicesMustMatchTheWorld() {
    only(spec(DATA, 4, DEVICES, 16), "P-WORLD", Severity.ERROR, DEVICES, "16", "tensor 2 x parallel.data 4 = 8");
    only(spec(DEVICES, 7), "P-WORLD", Severity.ERROR, DEVICES, "7 must be a multiple of parallel.tensor 2");
  }

  @Test
  void expertSizeDividesData() {
    only(spec(DATA, 6), "P-EP-DATA", Severity.ERROR, DATA, "expert-model-parallel-size) 4", "data 6");
  }

  @Test
  void sequenceParallelismNeedsTwoTensorRanks() {
    Validation v = only(spec(TENSOR, 1), "P-SP-TP", Severity.WARNING, SEQUENCE_PARALLEL, "tensor >= 2, was 1",
        "effective config has it off");
    assertThat(v.effective().parallel().sequenceParallel()).isFalse();
  }

  @Test
  void sequenceParallelismSplitsTheSequence() {
    only(spec(SEQ_LENGTH, 511), "P-SP-SEQ", Severity.ERROR, SEQ_LENGTH, "511", "tensor 2");
  }

  @Test
  void tensorParallelismSplitsTheFfn() {
    only(spec(FFN_HIDDEN_SIZE, 511), "P-TP-FFN", Severity.ERROR, FFN_HIDDEN_SIZE, "511", "tensor 2");
  }

  @Test
  void topKAtMostTheExperts() {
    only(spec(ENABLED, false, NUM_EXPERTS, 1, EXPERT, 1, TOP_K, 2), "P-TOPK-E", Severity.ERROR, TOP_K,
        "2 must be <= model.numExperts 1");
  }

  @Test
  void pipeExpertsSwitchesWithoutPipeExpertsAreIgnoredWithAWarning() {
    Validation v = only(spec(ENABLED, false, MULTI_STREAM, true), "P-PE-IGNORED", Severity.WARNING, MULTI_STREAM,
        "= true is ignored", "--use-pipe-experts");
    assertThat(v.effective().pipeExperts().multiStream()).isFalse();
    only(spec(ENABLED, null, MULTI_DATA, 4), "P-PE-IGNORED", Severity.WARNING, MULTI_DATA, "= 4 is ignored");
  }

  @Test
  void improvedOptionsAreIgnoredByTheMindspeedFamily() {
    Validation v = only(spec(PREFETCH_DEPTH, 2), "P-FAMILY", Severity.WARNING, PREFETCH_DEPTH,
        "= 2", "improved family only");
    assertThat(v.effective().pipeExperts().prefetchDepth()).isEqualTo(1);
  }

  @Test
  void backwardSlicesAtMostCapacity() {
    only(spec(FAMILY, "improved", MULTI_DATA_BACKWARD, 65), "P-N-CAPACITY", Severity.ERROR, MULTI_DATA_BACKWARD,
        "65", "capacity C = 64");
  }

  @Test
  void performanceOnlyFeaturesAreDroppedWithAWarning() {
    Validation v = only(spec(RECOMPUTE_GRANULARITY, "full"), "P-NOT-RUN", Severity.WARNING, RECOMPUTE_GRANULARITY,
        "= full", "runs without it");
    assertThat(v.notes()).anyMatch(n -> n.contains("not run") && n.contains("recompute full"));
  }

  @Test
  void noDropIsRefusedBecauseItChangesTheMath() {
    only(spec(MOE_NO_DROP, true), "P-UNSUPPORTED", Severity.ERROR, MOE_NO_DROP, "--moe-no-drop", "changes the tokens");
  }

  @Test
  void reuseFp32ParamNeedsBf16() {
    Validation v = Validator.validate(spec(REUSE_FP32_PARAM, true));
    assertThat(v.errors()).singleElement().satisfies(e -> matches(e, "P-REUSE-BF16", Severity.ERROR,
        REUSE_FP32_PARAM, "only supports bf16", "fp32"));
    assertThat(Validator.validate(spec(REUSE_FP32_PARAM, true, DTYPE, "bf16")).errors()).isEmpty();
  }

  @Test
  void theUnmodelledFabricTakesNoOverrides() {
    only(spec(PROFILE, "unmodelled", BANDWIDTH, 1e9), "P-FABRIC", Severity.ERROR, BANDWIDTH, "1.0E9",
        "unmodelled has none");
    only(spec(PROFILE, "unmodelled", COMM_RATIO, 1.0), "P-FABRIC", Severity.ERROR, COMM_RATIO,
        "unmodelled has none");
  }

  /** Asserts that the spec breaks exactly one rule, as described, and returns the validation. */
  static Validation only(JobSpec spec, String rule, Severity severity, SpecField field, String... parts) {
    Validation v = Validator.validate(spec);
    List<Violation> all = new ArrayList<>(v.errors());
    all.addAll(v.warnings());
    assertThat(all).as("violations of %s", spec).singleElement()
        .satisfies(x -> matches(x, rule, severity, field, parts));
    return v;
  }

  static void matches(Violation v, String rule, Severity severity, SpecField field, String... parts) {
    assertThat(v.rule()).isEqualTo(rule);
    assertThat(v.severity()).isEqualTo(severity);
    assertThat(v.pointer()).isEqualTo(field.pointer);
    if (field != DTYPE) {
      assertThat(v.flag()).isEqualTo(field.flag);
    }
    assertThat(v.message()).startsWith(rule + ": ").contains(parts);
  }

  private static List<String> rules(List<Violation> violations) {
    return violations.stream().map(Violation::rule).toList();
  }
}
