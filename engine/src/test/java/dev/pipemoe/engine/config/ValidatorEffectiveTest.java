package dev.pipemoe.engine.config;

import static dev.pipemoe.engine.config.SpecField.*;
import static dev.pipemoe.engine.config.TestSpecs.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pipemoe.engine.config.EngineConfig.PipeExperts;
import dev.pipemoe.engine.config.JobSpec.ModelSpec;
import dev.pipemoe.engine.device.DType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The effective config and the notes: defaults, derivations, and what MindSpeed switches off. */
class ValidatorEffectiveTest {

  private static JobSpec minimal() {
    ModelSpec model = new ModelSpec("deepspeed_moe", null, null, null, 4, null, null, null, null, null, null, null, null,
        null, null, null, null, null);
    return new JobSpec(model, null, null, null, null, null, null);
  }

  @Test
  void minimalSpecGetsTheDocumentedDefaults() {
    Validation v = Validator.validate(minimal());
    assertThat(v.errors()).isEmpty();
    assertThat(v.warnings()).isEmpty();
    EngineConfig c = v.effective();
    assertThat(c.model()).isEqualTo(new EngineConfig.Model(MoeModelType.DEEPSPEED_MOE, 1, 256, 512, 4, 2, 1.0, 4,
        false, 512, 1, DType.F32, 0.0));
    assertThat(c.parallel()).isEqualTo(new EngineConfig.Parallel(1, 1, 1, false));
    assertThat(c.pipeExperts()).isEqualTo(PipeExperts.off(ScheduleFamily.MINDSPEED));
    assertThat(c.training()).isEqualTo(new EngineConfig.Training(20, 3, 1234, 1e-3));
    assertThat(c.fabric()).isEqualTo(EngineConfig.Fabric.of(FabricProfile.ASCEND_910C));
    assertThat(c.resources()).isEqualTo(new EngineConfig.Resources(DeviceType.CPU, 1));
    assertThat(c.schedule()).isEqualTo(ScheduleKind.SERIAL);
    assertThat(c.capacity()).isEqualTo(256); // 512/4 · 2·1.0
    assertThat(v.notes()).first().asString().startsWith("defaults applied").contains("model.hiddenSize = 256",
        "model.dtype = fp32", "fabric.profile = ascend-910c");
    assertThat(v.notes()).anyMatch(n -> n.contains("data = expert = 1"))
        .anyMatch(n -> n.contains("= 256") && n.startsWith("capacity C"))
        .anyMatch(n -> n.equals("schedule serial: pipe-experts off"));
  }

  @Test
  void nullSpecIsReportedNotThrown() {
    Validation v = Validator.validate(null);
    assertThat(v.errors()).extracting(Violation::rule).containsExactly("P-REQUIRED", "P-MODEL-TYPE");
    assertThat(v.effective()).isNull();
    assertThatThrownBy(v::orThrow).isInstanceOf(Validation.InvalidJobException.class)
        .hasMessageContaining("P-REQUIRED").hasMessageContaining("P-MODEL-TYPE");
  }

  @Test
  void pipeExpertsRunsWithTheMindspeedFamily() {
    EngineConfig c = Validator.validate(spec(MULTI_STREAM, true, MULTI_DATA, 2)).orThrow();
    assertThat(c.pipeExperts()).isEqualTo(new PipeExperts(true, true, 2, ScheduleFamily.MINDSPEED, 1, 2));
    assertThat(c.chunksForward()).isEqualTo(4); // nle 2 · N 2
  }

  @Test
  void improvedFamilyTakesItsOptionsAndDefaultsNBackwardToN() {
    Validation v = Validator.validate(spec(FAMILY, "improved", MULTI_DATA, 2, PREFETCH_DEPTH, 3));
    assertThat(v.effective().pipeExperts()).isEqualTo(new PipeExperts(true, false, 2, ScheduleFamily.IMPROVED, 3, 2));
    assertThat(v.effective().schedule()).isEqualTo(ScheduleKind.IMPROVED);
    assertThat(v.notes()).anyMatch(n -> n.contains("n_bwd = 2 (= N, not given)"));
  }

  @Test
  void v3LeavesTheSerialScheduleAndSaysSo() {
    Validation v = Validator.validate(spec(EXPERT, 8, MULTI_STREAM, true));
    assertThat(v.effective().pipeExperts().enabled()).isFalse();
    assertThat(v.effective().pipeExperts().multiStream()).isFalse();
    assertThat(v.warnings().get(0).message()).contains("and with it multi-stream");
    assertThat(v.notes()).anyMatch(n -> n.startsWith("pipe-experts off (V3)"));
  }

  @Test
  void v3DoesNotApplyWhenMultiDataGivesSlices() {
    EngineConfig c = Validator.validate(spec(EXPERT, 8, MULTI_DATA, 4)).orThrow();
    assertThat(c.localExperts()).isEqualTo(1);
    assertThat(c.chunksForward()).isEqualTo(4);
  }

  @Test
  void v6SwitchesEverythingOff() {
    Validation v = Validator.validate(spec(AMPIPE_DEGREE, 2, MULTI_DATA, 3, MULTI_STREAM, true));
    assertThat(v.effective().schedule()).isEqualTo(ScheduleKind.SERIAL);
    assertThat(v.notes()).anyMatch(n -> n.startsWith("pipe-experts off (V6)"))
        .anyMatch(n -> n.contains("not run") && n.contains("ampipe 2"));
  }

  @Test
  void v6DoesNotApplyWhenAmpipeDividesN() {
    Validation v = Validator.validate(spec(AMPIPE_DEGREE, 2, MULTI_DATA, 4));
    assertThat(v.effective().pipeExperts().multiData()).isEqualTo(4);
    assertThat(v.warnings()).extracting(Violation::rule).containsExactly("P-NOT-RUN");
  }

  @Test
  void sequenceParallelismOffAtTensorOneChangesTheShape() {
    Validation v = Validator.validate(spec(TENSOR, 1));
    assertThat(v.effective().parallel().sequenceParallel()).isFalse();
    assertThat(v.effective().tokensPerRank()).isEqualTo(512); // b·s, not b·s/tp
    assertThat(v.notes()).anyMatch(n -> n.startsWith("sequence parallelism off"));
  }

  @Test
  void v2IsJudgedOnTheEffectiveSequenceParallelism() {
    Validation v = Validator.validate(spec(TENSOR, 1, MULTI_STREAM, true));
    assertThat(v.warnings()).extracting(Violation::rule).containsExactly("P-SP-TP");
    assertThat(v.errors()).singleElement().satisfies(e -> {
      assertThat(e.rule()).isEqualTo("V2");
      assertThat(e.message()).contains("off because parallel.tensor = 1");
    });
  }

  @Test
  void v2FiresEvenWhenV3WouldSwitchPipeExpertsOff() {
    // MindSpeed checks V2 before V3 decides: the error stands
    Validation v = Validator.validate(spec(EXPERT, 8, SEQUENCE_PARALLEL, false, MULTI_STREAM, true));
    assertThat(v.errors()).extracting(Violation::rule).containsExactly("V2");
    assertThat(v.warnings()).extracting(Violation::rule).containsExactly("V3");
  }

  @Test
  void v7UsesTheCapacityOfTheEffectiveLayout() {
    // tp 2 without SP: S = 512, C = 128, so N = 100 fits; with SP (S 256, C 64) it would not
    assertThat(Validator.validate(spec(SEQUENCE_PARALLEL, false, MULTI_DATA, 100)).errors()).isEmpty();
    assertThat(Validator.validate(spec(MULTI_DATA, 100)).errors()).extracting(Violation::rule).containsExactly("V7");
  }

  @Test
  void ignoredSwitchesShowOffInTheEffectiveConfig() {
    Validation v = Validator.validate(spec(ENABLED, null, MULTI_STREAM, true, MULTI_DATA, 4, FAMILY, "improved"));
    assertThat(v.warnings()).extracting(Violation::pointer)
        .containsExactly("/pipeExperts/multiStream", "/pipeExperts/multiData", "/pipeExperts/family");
    assertThat(v.effective().pipeExperts()).isEqualTo(PipeExperts.off(ScheduleFamily.IMPROVED));
  }

  @Test
  void dataDerivesFromDevices() {
    Validation v = Validator.validate(spec(DEVICES, 16));
    assertThat(v.effective().parallel().data()).isEqualTo(8);
    assertThat(v.notes()).anyMatch(n -> n.equals("parallel.data not given: data = devices / tensor = 16 / 2 = 8"));
  }

  @Test
  void devicesDeriveFromTheLayout() {
    Validation v = Validator.validate(spec(DATA, 8));
    assertThat(v.effective().resources().devices()).isEqualTo(16);
    assertThat(v.notes()).anyMatch(n -> n.contains("devices = tensor x data = 2 x 8 = 16"));
  }

  @Test
  void warmupIsCappedForShortRuns() {
    Validation v = Validator.validate(spec(STEPS, 2));
    assertThat(v.effective().training().warmupSteps()).isEqualTo(1);
    assertThat(v.notes()).anyMatch(n -> n.startsWith("training.warmupSteps not given: 1"));
  }

  @Test
  void fabricOverridesReplaceProfileFigures() {
    Validation v = Validator.validate(spec(BANDWIDTH, 200e9, SHARED_LINKS, false));
    EngineConfig.Fabric fabric = v.effective().fabric();
    assertThat(fabric.bandwidthBytesPerSecond()).isEqualTo(200e9);
    assertThat(fabric.latencySeconds()).isEqualTo(30e-6);
    assertThat(fabric.congestion()).isEqualTo(1.25);
    assertThat(fabric.sharedLinks()).isFalse();
    assertThat(v.notes()).anyMatch(n -> n.contains("profile with overrides") && n.contains("200 GB/s"));
  }

  @Test
  void commRatioSwitchesCalibrationToTheRatioMode() {
    Validation v = Validator.validate(spec(COMM_RATIO, 1.0));
    assertThat(v.effective().fabric().commRatio()).isEqualTo(1.0);
    assertThat(v.notes()).anyMatch(n -> n.contains("communication takes 1 x computation"));
    assertThat(Validator.validate(spec()).effective().fabric().commRatio()).isZero();
  }

  @Test
  void bf16IsTheOtherDtype() {
    assertThat(Validator.validate(spec(DTYPE, "bf16")).orThrow().model().dtype()).isEqualTo(DType.BF16);
  }

  @Test
  void allViolationsAreReportedAtOnce() {
    Validation v = Validator.validate(spec(HIDDEN_SIZE, -1, TOP_K, 5, NUM_EXPERTS, 6, DATA, 6, MULTI_DATA, 0,
        DTYPE, "fp16", MOE_DYNAMIC_PADDING, true, PROFILE, "nvlink", LEARNING_RATE, Double.POSITIVE_INFINITY));
    assertThat(v.errors()).extracting(Violation::rule).containsExactlyInAnyOrder(
        "P-RANGE", "V9", "P-RANGE", "V8", "P-EP-DATA", "V1", "P-FP16", "V10", "P-CHOICE");
    assertThat(v.errors()).extracting(Violation::pointer).doesNotHaveDuplicates();
  }

  @Test
  void anInvalidFieldDoesNotCascade() {
    // tensor -1 is one mistake: no world, SP, split or capacity error follows from it
    Validation v = Validator.validate(spec(TENSOR, -1));
    assertThat(v.errors()).extracting(Violation::rule).isEqualTo(List.of("P-RANGE"));
  }
}
