package dev.pipemoe.engine.config;

import static dev.pipemoe.engine.config.SpecField.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class MindSpeedArgsTest {

  /** Every valued flag of the spec, with a value as text and as read. */
  static Stream<Arguments> valuedFlags() {
    return Stream.of(
        Arguments.of("--moe-model-type", "deepspeed_moe", MOE_MODEL_TYPE, "deepspeed_moe"),
        Arguments.of("--num-layers", "2", NUM_LAYERS, 2),
        Arguments.of("--hidden-size", "1024", HIDDEN_SIZE, 1024),
        Arguments.of("--ffn-hidden-size", "4096", FFN_HIDDEN_SIZE, 4096),
        Arguments.of("--num-experts", "8", NUM_EXPERTS, 8),
        Arguments.of("--moe-router-topk", "1", TOP_K, 1),
        Arguments.of("--moe-train-capacity-factor", "1.25", CAPACITY_FACTOR, 1.25),
        Arguments.of("--moe-min-capacity", "0", MIN_CAPACITY, 0),
        Arguments.of("--seq-length", "4096", SEQ_LENGTH, 4096),
        Arguments.of("--micro-batch-size", "2", MICRO_BATCH_SIZE, 2),
        Arguments.of("--dtype", "fp32", DTYPE, "fp32"),
        Arguments.of("--moe-aux-loss-coeff", "1e-2", AUX_LOSS_COEFF, 0.01),
        Arguments.of("--model-architecture", "gpt", ARCHITECTURE, "gpt"),
        Arguments.of("--num-attention-heads", "16", NUM_ATTENTION_HEADS, 16),
        Arguments.of("--vocab-size", "50257", VOCAB_SIZE, 50257),
        Arguments.of("--tokenizer-type", "byte", TOKENIZER, "byte"),
        Arguments.of("--make-vocab-size-divisible-by", "64", MAKE_VOCAB_SIZE_DIVISIBLE_BY, 64),
        Arguments.of("--context-parallel-size", "2", CONTEXT, 2),
        Arguments.of("--global-batch-size", "64", GLOBAL_BATCH_SIZE, 64),
        Arguments.of("--data-path", "/data/corpus.txt", DATA_PATH, "/data/corpus.txt"),
        Arguments.of("--recompute-method", "uniform", RECOMPUTE_METHOD, "uniform"),
        Arguments.of("--recompute-num-layers", "1", RECOMPUTE_NUM_LAYERS, 1),
        Arguments.of("--tensor-model-parallel-size", "8", TENSOR, 8),
        Arguments.of("--data-parallel-size", "2", DATA, 2),
        Arguments.of("--expert-model-parallel-size", "4", EXPERT, 4),
        Arguments.of("--pipe-experts-multi-data", "4", MULTI_DATA, 4),
        Arguments.of("--pipe-experts-family", "improved", FAMILY, "improved"),
        Arguments.of("--pipe-experts-prefetch-depth", "2", PREFETCH_DEPTH, 2),
        Arguments.of("--pipe-experts-multi-data-bwd", "3", MULTI_DATA_BACKWARD, 3),
        Arguments.of("--train-iters", "50", STEPS, 50),
        Arguments.of("--warmup-steps", "5", WARMUP_STEPS, 5),
        Arguments.of("--seed", "-9000000000", SEED, -9_000_000_000L),
        Arguments.of("--lr", "5.0e-7", LEARNING_RATE, 5.0e-7),
        Arguments.of("--fabric", "h100", PROFILE, "h100"),
        Arguments.of("--fabric-bandwidth", "2e11", BANDWIDTH, 2e11),
        Arguments.of("--fabric-latency", "1.5e-5", LATENCY, 1.5e-5),
        Arguments.of("--fabric-congestion", "1.5", CONGESTION, 1.5),
        Arguments.of("--fabric-comm-ratio", "0.8", COMM_RATIO, 0.8),
        Arguments.of("--device-type", "ascend-910c", DEVICE_TYPE, "ascend-910c"),
        Arguments.of("--devices", "16", DEVICES, 16),
        Arguments.of("--recompute-granularity", "full", RECOMPUTE_GRANULARITY, "full"),
        Arguments.of("--ampipe-degree", "2", AMPIPE_DEGREE, 2));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("valuedFlags")
  void valuedFlagTakesTheNextTokenOrTheTextAfterEquals(String flag, String text, SpecField field, Object value) {
    assertThat(field.get(MindSpeedArgs.parse(flag + " " + text))).isEqualTo(value);
    assertThat(field.get(MindSpeedArgs.parse(flag + "=" + text))).isEqualTo(value);
  }

  @Test
  void everySpecFieldHasAFlag() {
    for (SpecField field : SpecField.values()) {
      assertThat(MindSpeedArgs.FLAGS).containsKey(field == SHARED_LINKS ? "--fabric-shared-links" : field.flag);
    }
    // the tables of this test cover every field (SHARED_LINKS in valueSettingSwitches)
    Set<Object> tested = Stream.concat(valuedFlags(), switches()).map(a -> a.get()[a.get().length == 4 ? 2 : 1])
        .collect(Collectors.toSet());
    tested.add(SHARED_LINKS);
    assertThat(tested).containsExactlyInAnyOrder((Object[]) SpecField.values());
  }

  static Stream<Arguments> switches() {
    return Stream.of(
        Arguments.of("--use-pipe-experts", ENABLED), Arguments.of("--pipe-experts-multi-stream", MULTI_STREAM),
        Arguments.of("--sequence-parallel", SEQUENCE_PARALLEL), Arguments.of("--swiglu", SWIGLU),
        Arguments.of("--enable-zero3", ENABLE_ZERO3), Arguments.of("--use-ascend-mc2", USE_ASCEND_MC2),
        Arguments.of("--reuse-fp32-param", REUSE_FP32_PARAM), Arguments.of("--moe-no-drop", MOE_NO_DROP),
        Arguments.of("--moe-dynamic-padding", MOE_DYNAMIC_PADDING),
        Arguments.of("--use-distributed-optimizer", USE_DISTRIBUTED_OPTIMIZER));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("switches")
  void booleanSwitchIsTrueAloneAndTakesAnExplicitFalse(String flag, SpecField field) {
    assertThat(field.get(MindSpeedArgs.parse(flag))).isEqualTo(true);
    assertThat(field.get(MindSpeedArgs.parse(flag + "=true"))).isEqualTo(true);
    assertThat(field.get(MindSpeedArgs.parse(flag + "=false"))).isEqualTo(false);
    assertThat(field.get(MindSpeedArgs.parse(""))).isNull();
  }

  @Test
  void valueSettingSwitches() {
    assertThat(DTYPE.get(MindSpeedArgs.parse("--bf16"))).isEqualTo("bf16");
    assertThat(DTYPE.get(MindSpeedArgs.parse("--fp16"))).isEqualTo("fp16");
    assertThat(SHARED_LINKS.get(MindSpeedArgs.parse("--fabric-shared-links"))).isEqualTo(true);
    assertThat(SHARED_LINKS.get(MindSpeedArgs.parse("--fabric-separate-links"))).isEqualTo(false);
    assertErrors("--bf16=true", "--bf16=true: --bf16 takes no value");
  }

  @Test
  void unknownFlagsAreAllReportedWithSuggestions() {
    MindSpeedArgs.Parsed p = MindSpeedArgs.read("--foo 3 --use-pipe-expert --num-experts 4 --pipe-expert-multi-data=2");
    assertThat(p.spec()).isNull();
    assertThat(p.errors()).extracting(Violation::flag)
        .containsExactly("--foo", "--use-pipe-expert", "--pipe-expert-multi-data");
    assertThat(p.errors()).extracting(Violation::message).containsExactly(
        "ARGS: unknown flag --foo",
        "ARGS: unknown flag --use-pipe-expert; did you mean --use-pipe-experts?",
        "ARGS: unknown flag --pipe-expert-multi-data; did you mean --pipe-experts-multi-data?");
    assertThat(p.errors()).allMatch(e -> e.pointer().equals("/args") && e.rule().equals("ARGS")
        && e.severity() == Severity.ERROR);
  }

  @Test
  void otherStacksSpellingsGetASuggestion() {
    assertErrors("--moe-expert-parallel-size 4",
        "unknown flag --moe-expert-parallel-size; did you mean --expert-model-parallel-size?");
  }

  @Test
  void repeatedAndConflictingFlagsAreErrors() {
    assertErrors("--num-experts 4 --num-experts 8", "--num-experts is given twice");
    assertErrors("--bf16 --fp16", "--fp16 conflicts with --bf16: both set model.dtype");
    assertErrors("--fp16 --dtype fp32", "--dtype conflicts with --fp16: both set model.dtype");
    assertErrors("--fabric-shared-links --fabric-separate-links",
        "--fabric-separate-links conflicts with --fabric-shared-links: both set fabric.sharedLinks");
    assertErrors("--use-flash-attn --use-flash-attn", "--use-flash-attn is given twice");
  }

  @Test
  void malformedValuesNameTheFlagAndTheValue() {
    assertErrors("--num-experts four --lr fast --seed 1.5",
        "--num-experts: 'four' is not an integer", "--lr: 'fast' is not a number",
        "--seed: '1.5' is not a 64-bit integer");
    assertErrors("--use-pipe-experts=yes", "--use-pipe-experts=yes: --use-pipe-experts takes =true or =false only");
    assertErrors("--hidden-size=", "--hidden-size: '' is not an integer");
  }

  @Test
  void missingAndStrayValuesAreErrors() {
    assertErrors("--num-experts", "--num-experts needs a value");
    assertErrors("--num-experts --use-pipe-experts", "--num-experts needs a value");
    assertErrors("4 --num-experts 8", "unexpected value '4': a value follows its flag");
    assertErrors("--use-pipe-experts true",
        "unexpected value 'true' after --use-pipe-experts: a switch takes no value"
            + " (write --use-pipe-experts=false to set it false)");
  }

  @Test
  void megatronFlagsThatDoNotChangeTheLayerAreAcceptedWithAWarning() {
    MindSpeedArgs.Parsed p = MindSpeedArgs.read("--num-query-groups 8 --use-flash-attn --num-experts 4");
    assertThat(p.errors()).isEmpty();
    assertThat(p.warnings()).extracting(Violation::flag).containsExactly("--num-query-groups", "--use-flash-attn");
    assertThat(p.warnings()).allMatch(w -> w.severity() == Severity.WARNING && w.message().contains("ignored"));
    assertThat(MindSpeedArgs.format(p.spec())).isEqualTo("--num-experts 4");
    assertErrors("--num-query-groups", "--num-query-groups needs a value");
  }

  @Test
  void megatronFlagsThatChangeWhatRunsMustBeOne() {
    assertThat(MindSpeedArgs.read("--pipeline-model-parallel-size 1 --expert-interval=1").warnings()).isEmpty();
    assertErrors("--pipeline-model-parallel-size 2",
        "--pipeline-model-parallel-size 2 is not supported: the engine runs one pipeline stage, so it must be 1");
    assertErrors("--expert-interval two", "--expert-interval: 'two' is not an integer");
  }

  /**
   * The MindSpeed pipe-experts example command (docs), reduced to one pipeline stage and no CP: a
   * whole GPT, since it gives --num-attention-heads.
   */
  @Test
  void aPastedCommandReadsAndValidates() {
    String command = """
        --reuse-fp32-param \\
        --enable-token-rearrange-opt \\
        --moe-model-type deepspeed_moe \\
        --use-pipe-experts \\
        --pipe-experts-multi-stream \\
        --pipe-experts-multi-data 4 \\
        --tensor-model-parallel-size 8 \\
        --pipeline-model-parallel-size 1 \\
        --use-distributed-optimizer \\
        --sequence-parallel \\
        --num-layers 2 --hidden-size 1024 --num-attention-heads 16 \\
        --seq-length 4096 --max-position-embeddings 4096 \\
        --micro-batch-size 1 --global-batch-size 8 \\
        --num-experts 4 --expert-model-parallel-size 4 --moe-router-topk 2 \\
        --train-iters 5000 --lr 5.0e-7 --lr-decay-style cosine \\
        --no-gradient-accumulation-fusion --use-flash-attn --bf16
        """;
    Validation v = Validator.validateArgs(command);
    assertThat(v.errors()).isEmpty();
    assertThat(v.warnings()).extracting(Violation::rule).containsOnly("ARGS", "P-NOT-RUN");
    EngineConfig c = v.effective();
    assertThat(c.schedule()).isEqualTo(ScheduleKind.MINDSPEED);
    assertThat(c.worldSize()).isEqualTo(32); // tp 8 x data = ep 4
    assertThat(c.tokensPerRank()).isEqualTo(512); // 4096 / 8
    assertThat(c.chunksForward()).isEqualTo(4); // nle 1 x N 4
    assertThat(c.architecture()).isEqualTo(Architecture.GPT);
    assertThat(c.gpt().numAttentionHeads()).isEqualTo(16);
    assertThat(c.gpt().microBatches()).isEqualTo(2); // 8 / (1 x data 4)
    assertThat(c.gpt().paddedVocabSize()).isEqualTo(1024); // 256 bytes up to 128 x tp 8
    assertThat(c.gpt().distributedOptimizer()).isTrue();
  }

  @Test
  void validateArgsReportsArgsErrorsBeforeValidating() {
    Validation v = Validator.validateArgs("--num-experts x --hidden-size 0");
    assertThat(v.errors()).extracting(Violation::rule).containsExactly("ARGS");
    assertThat(v.effective()).isNull();
  }

  @Test
  void formatWritesTheCanonicalForm() {
    JobSpec spec = MindSpeedArgs.parse("--use-pipe-experts=true --fp16 --num-experts=4 --swiglu=false"
        + " --fabric-separate-links --lr 0.0010");
    assertThat(MindSpeedArgs.format(spec)).isEqualTo(
        "--num-experts 4 --swiglu=false --fp16 --use-pipe-experts --lr 0.001 --fabric-separate-links");
    assertThat(MindSpeedArgs.format(null)).isEmpty();
  }

  @Test
  void formatGluesValuesThatWouldReadAsSomethingElse() {
    assertThat(MindSpeedArgs.format(TestSpecs.spec(MOE_MODEL_TYPE, "")).split(" ")).contains("--moe-model-type=");
    assertThat(MindSpeedArgs.format(TestSpecs.spec(MOE_MODEL_TYPE, "--x")).split(" ")).contains("--moe-model-type=--x");
    assertThat(MindSpeedArgs.format(TestSpecs.spec(MOE_MODEL_TYPE, "\\")).split(" ")).contains("--moe-model-type=\\");
    assertThat(MindSpeedArgs.format(TestSpecs.spec(SEED, -5L))).contains("--seed -5");
    assertThatThrownBy(() -> MindSpeedArgs.format(TestSpecs.spec(FAMILY, "two words")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pipeExperts.family = 'two words'");
  }

  @Test
  void nullAndBlankReadAsTheEmptySpec() {
    JobSpec empty = new JobSpec(null, null, null, null, null, null, null);
    assertThat(MindSpeedArgs.read(null).spec()).isEqualTo(empty);
    assertThat(MindSpeedArgs.parse(" \t\n")).isEqualTo(empty);
  }

  private static void assertErrors(String args, String... messages) {
    MindSpeedArgs.Parsed p = MindSpeedArgs.read(args);
    assertThat(p.spec()).isNull();
    assertThat(p.errors()).extracting(Violation::message).containsExactly(
        Stream.of(messages).map(m -> "ARGS: " + m).toArray(String[]::new));
  }
}
