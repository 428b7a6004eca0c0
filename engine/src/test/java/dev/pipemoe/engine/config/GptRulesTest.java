package dev.pipemoe.engine.config;

import static dev.pipemoe.engine.config.SpecField.*;
import static dev.pipemoe.engine.config.ValidatorRulesTest.only;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.config.EngineConfig.Gpt;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The whole-model fields and rules (G1-G9), one test per rule on a clean gpt base: the MoE base of
 * {@link TestSpecs} (tp 2 with SP, ep 4, data 4, world 8) with 4 attention heads.
 */
class GptRulesTest {

  /** The clean gpt base with {@code field, value} pairs applied. */
  static JobSpec gpt(Object... changes) {
    List<Object> all = new ArrayList<>(List.of(NUM_ATTENTION_HEADS, 4));
    all.addAll(Arrays.asList(changes));
    return TestSpecs.spec(all.toArray());
  }

  @Test
  void headsAloneMakeAGptWithMegatronDefaults() {
    Validation v = Validator.validate(gpt());
    assertThat(v.errors()).isEmpty();
    assertThat(v.warnings()).isEmpty();
    EngineConfig c = v.effective();
    assertThat(c.architecture()).isEqualTo(Architecture.GPT);
    // byte tokens, padded to 128 x tp 2; one micro-batch of b x DP = 4 samples; generated corpus
    assertThat(c.gpt()).isEqualTo(new Gpt(4, Tokenizer.BYTE, 256, 128, 256, null, 4, 1, false, false));
    assertThat(v.notes()).anyMatch(n -> n.startsWith("model.architecture not given: gpt"))
        .anyMatch(n -> n.contains("generated corpus")).anyMatch(n -> n.startsWith("padded vocabulary"));
  }

  @Test
  void theMoeStackStaysTheDefaultWithoutHeads() {
    EngineConfig c = Validator.validate(TestSpecs.spec()).effective();
    assertThat(c.architecture()).isEqualTo(Architecture.MOE_STACK);
    assertThat(c.gpt()).isNull();
  }

  @Test
  void vocabularyIsPaddedAsMegatronDoes() {
    Gpt g = Validator.validate(gpt(VOCAB_SIZE, 50257)).effective().gpt();
    assertThat(g.paddedVocabSize()).isEqualTo(50432); // 197 x 256
    assertThat(Validator.validate(gpt(VOCAB_SIZE, 50257, MAKE_VOCAB_SIZE_DIVISIBLE_BY, 1)).effective().gpt()
        .paddedVocabSize()).isEqualTo(50258); // a multiple of 1 x tp 2
    assertThat(Gpt.paddedVocab(256, 128, 8)).isEqualTo(1024);
  }

  @Test
  void globalBatchGivesTheMicroBatches() {
    Gpt g = Validator.validate(gpt(GLOBAL_BATCH_SIZE, 16, MICRO_BATCH_SIZE, 2)).effective().gpt();
    assertThat(g.microBatches()).isEqualTo(2); // 16 / (2 x data 4)
    assertThat(g.globalBatchSize()).isEqualTo(16);
  }

  @Test
  void g1HeadsDivisibleByTensor() {
    only(gpt(NUM_ATTENTION_HEADS, 3, HIDDEN_SIZE, 192), "G1", Severity.ERROR, NUM_ATTENTION_HEADS, "3",
        "parallel.tensor 2");
  }

  @Test
  void g2HiddenDivisibleByHeads() {
    only(gpt(NUM_ATTENTION_HEADS, 6), "G2", Severity.ERROR, HIDDEN_SIZE, "hiddenSize (--hidden-size) 256",
        "numAttentionHeads 6");
  }

  @Test
  void headsAreRequiredForAGpt() {
    only(TestSpecs.spec(ARCHITECTURE, "gpt"), "P-REQUIRED", Severity.ERROR, NUM_ATTENTION_HEADS,
        "--num-attention-heads", "required");
  }

  @Test
  void g3SequenceDividesOverContextAndTensor() {
    only(gpt(CONTEXT, 2, SEQ_LENGTH, 502, DEVICE_TYPE, "ascend-910c"), "G3", Severity.ERROR, SEQ_LENGTH,
        "502", "parallel.context 2 x parallel.tensor 2", "= 4");
  }

  @Test
  void g4GlobalBatchDividesIntoMicroBatches() {
    only(gpt(GLOBAL_BATCH_SIZE, 6), "G4", Severity.ERROR, GLOBAL_BATCH_SIZE, "6", "microBatchSize 1 x"
        + " parallel.data 4 = 4");
  }

  @Test
  void g5ContextParallelismIsRefusedOnTheCpuRuntime() {
    only(gpt(CONTEXT, 2), "G5", Severity.ERROR, CONTEXT, "2", "native CPU runtime", "deviceType cpu");
  }

  @Test
  void contextParallelismRunsOnASimulatedDevice() {
    EngineConfig c = Validator.validate(gpt(CONTEXT, 2, DEVICE_TYPE, "ascend-910c")).effective();
    // ep 4 divides cp 2 x data 2: data derived as expert / gcd(expert, cp)
    assertThat(c.parallel()).isEqualTo(new EngineConfig.Parallel(2, 2, 4, true, 2));
    assertThat(c.worldSize()).isEqualTo(8);
    assertThat(c.resources().devices()).isEqualTo(8);
    assertThat(c.tokensPerRank()).isEqualTo(128); // 512 / (cp 2 x tp 2)
    assertThat(c.parallel().expertData()).isEqualTo(4);
  }

  @Test
  void worldIsTensorTimesContextTimesData() {
    only(gpt(CONTEXT, 2, DEVICE_TYPE, "ascend-910c", DATA, 2, DEVICES, 4), "P-WORLD", Severity.ERROR, DEVICES,
        "4", "parallel.tensor 2 x parallel.context 2 x parallel.data 2 = 8");
    EngineConfig c = Validator.validate(gpt(CONTEXT, 2, DEVICE_TYPE, "ascend-910c", DEVICES, 16)).effective();
    assertThat(c.parallel().data()).isEqualTo(4); // 16 / (2 x 2)
  }

  @Test
  void expertsAreCutFromContextTimesDataRanks() {
    only(gpt(CONTEXT, 2, DEVICE_TYPE, "ascend-910c", DATA, 1), "P-EP-DATA", Severity.ERROR, DATA,
        "parallel.context 2 x parallel.data 1 = 2");
  }

  @Test
  void g6GptFieldsWithTheMoeStackAreIgnoredAndContextRefused() {
    only(TestSpecs.spec(ARCHITECTURE, "moe-stack", NUM_ATTENTION_HEADS, 4), "G6", Severity.WARNING,
        NUM_ATTENTION_HEADS, "moe-stack", "ignored");
    only(TestSpecs.spec(DATA_PATH, "/data/a.txt"), "G6", Severity.WARNING, DATA_PATH, "/data/a.txt");
    only(TestSpecs.spec(CONTEXT, 2, DATA, 2, DEVICE_TYPE, "ascend-910c"), "G6", Severity.ERROR, CONTEXT,
        "no attention");
  }

  @Test
  void g7VocabularyHoldsEveryByteAndHasOneSource() {
    only(gpt(VOCAB_SIZE, 100), "G7", Severity.ERROR, VOCAB_SIZE, "100", ">= 256");
    only(gpt(VOCAB_SIZE, 300, TOKENIZER, "byte"), "G7", Severity.ERROR, VOCAB_SIZE, "not both");
    only(gpt(TOKENIZER, "gpt2"), "P-CHOICE", Severity.ERROR, TOKENIZER, "gpt2", "byte");
  }

  @Test
  void fullUniformRecomputeOfOneLayerRuns() {
    Validation v = Validator.validate(gpt(RECOMPUTE_GRANULARITY, "full"));
    assertThat(v.warnings()).isEmpty();
    assertThat(v.effective().gpt().recompute()).isTrue();
    assertThat(v.notes()).anyMatch(n -> n.contains("method uniform, 1 layer per unit"));
    assertThat(Validator.validate(gpt(RECOMPUTE_GRANULARITY, "full", RECOMPUTE_METHOD, "uniform",
        RECOMPUTE_NUM_LAYERS, 1)).effective().gpt().recompute()).isTrue();
  }

  @Test
  void g8OtherRecomputeFormsAreNotRun() {
    Validation block = only(gpt(RECOMPUTE_GRANULARITY, "full", RECOMPUTE_METHOD, "block"), "G8", Severity.WARNING,
        RECOMPUTE_METHOD, "block", "not run");
    assertThat(block.effective().gpt().recompute()).isFalse();
    only(gpt(RECOMPUTE_GRANULARITY, "full", RECOMPUTE_NUM_LAYERS, 2), "G8", Severity.WARNING,
        RECOMPUTE_NUM_LAYERS, "--recompute-num-layers 2");
    Validation selective = only(gpt(RECOMPUTE_GRANULARITY, "selective"), "P-NOT-RUN", Severity.WARNING,
        RECOMPUTE_GRANULARITY, "selective");
    assertThat(selective.effective().gpt().recompute()).isFalse();
  }

  @Test
  void g9RecomputeOptionsWithoutFullGranularityAreIgnored() {
    only(gpt(RECOMPUTE_METHOD, "uniform"), "G9", Severity.WARNING, RECOMPUTE_METHOD, "full only");
    only(TestSpecs.spec(RECOMPUTE_NUM_LAYERS, 1), "G9", Severity.WARNING, RECOMPUTE_NUM_LAYERS, "full only");
  }

  @Test
  void aBlankDataPathIsRefused() {
    only(gpt(DATA_PATH, " "), "P-RANGE", Severity.ERROR, DATA_PATH, "must name a file");
  }

  @Test
  void distributedOptimizerIsKept() {
    assertThat(Validator.validate(gpt(USE_DISTRIBUTED_OPTIMIZER, true)).effective().gpt().distributedOptimizer())
        .isTrue();
  }
}
