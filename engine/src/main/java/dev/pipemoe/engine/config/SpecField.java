package dev.pipemoe.engine.config;

import dev.pipemoe.engine.config.JobSpec.FabricSpec;
import dev.pipemoe.engine.config.JobSpec.MindSpeedSpec;
import dev.pipemoe.engine.config.JobSpec.ModelSpec;
import dev.pipemoe.engine.config.JobSpec.ParallelSpec;
import dev.pipemoe.engine.config.JobSpec.PipeExpertsSpec;
import dev.pipemoe.engine.config.JobSpec.ResourcesSpec;
import dev.pipemoe.engine.config.JobSpec.TrainingSpec;
import java.util.function.Function;

/**
 * Every field of a {@link JobSpec}, in record order: its JSON pointer, its MindSpeed-style flag and
 * the Java type of its value. The one table that ties violations to flags and drives {@link
 * MindSpeedArgs}. Flags marked {@code extension} are pipemoe's own, not MindSpeed's or Megatron's.
 */
enum SpecField {
  MOE_MODEL_TYPE(Section.MODEL, "moeModelType", "--moe-model-type", String.class, m(ModelSpec::moeModelType)),
  NUM_LAYERS(Section.MODEL, "numLayers", "--num-layers", Integer.class, m(ModelSpec::numLayers)),
  HIDDEN_SIZE(Section.MODEL, "hiddenSize", "--hidden-size", Integer.class, m(ModelSpec::hiddenSize)),
  FFN_HIDDEN_SIZE(Section.MODEL, "ffnHiddenSize", "--ffn-hidden-size", Integer.class, m(ModelSpec::ffnHiddenSize)),
  NUM_EXPERTS(Section.MODEL, "numExperts", "--num-experts", Integer.class, m(ModelSpec::numExperts)),
  TOP_K(Section.MODEL, "topK", "--moe-router-topk", Integer.class, m(ModelSpec::topK)),
  CAPACITY_FACTOR(Section.MODEL, "capacityFactor", "--moe-train-capacity-factor", Double.class, m(ModelSpec::capacityFactor)),
  /** extension: MindSpeed fixes min_capacity at 4; the name is Megatron-DeepSpeed's. */
  MIN_CAPACITY(Section.MODEL, "minCapacity", "--moe-min-capacity", Integer.class, m(ModelSpec::minCapacity)),
  SWIGLU(Section.MODEL, "swiglu", "--swiglu", Boolean.class, m(ModelSpec::swiglu)),
  SEQ_LENGTH(Section.MODEL, "seqLength", "--seq-length", Integer.class, m(ModelSpec::seqLength)),
  MICRO_BATCH_SIZE(Section.MODEL, "microBatchSize", "--micro-batch-size", Integer.class, m(ModelSpec::microBatchSize)),
  /** Written as --bf16 or --fp16 (MindSpeed), or --dtype VALUE (extension) for anything else. */
  DTYPE(Section.MODEL, "dtype", "--dtype", String.class, m(ModelSpec::dtype)),
  AUX_LOSS_COEFF(Section.MODEL, "auxLossCoeff", "--moe-aux-loss-coeff", Double.class, m(ModelSpec::auxLossCoeff)),
  /** extension: Megatron's model is always a GPT; ours may be the MoE stack alone. */
  ARCHITECTURE(Section.MODEL, "architecture", "--model-architecture", String.class, m(ModelSpec::architecture)),
  NUM_ATTENTION_HEADS(Section.MODEL, "numAttentionHeads", "--num-attention-heads", Integer.class, m(ModelSpec::numAttentionHeads)),
  VOCAB_SIZE(Section.MODEL, "vocabSize", "--vocab-size", Integer.class, m(ModelSpec::vocabSize)),
  /** Megatron's flag; the value byte is ours. */
  TOKENIZER(Section.MODEL, "tokenizer", "--tokenizer-type", String.class, m(ModelSpec::tokenizer)),
  MAKE_VOCAB_SIZE_DIVISIBLE_BY(Section.MODEL, "makeVocabSizeDivisibleBy", "--make-vocab-size-divisible-by", Integer.class, m(ModelSpec::makeVocabSizeDivisibleBy)),

  TENSOR(Section.PARALLEL, "tensor", "--tensor-model-parallel-size", Integer.class, p(ParallelSpec::tensor)),
  /** extension: Megatron derives dp from the launcher's world size. */
  DATA(Section.PARALLEL, "data", "--data-parallel-size", Integer.class, p(ParallelSpec::data)),
  EXPERT(Section.PARALLEL, "expert", "--expert-model-parallel-size", Integer.class, p(ParallelSpec::expert)),
  SEQUENCE_PARALLEL(Section.PARALLEL, "sequenceParallel", "--sequence-parallel", Boolean.class, p(ParallelSpec::sequenceParallel)),
  CONTEXT(Section.PARALLEL, "context", "--context-parallel-size", Integer.class, p(ParallelSpec::context)),

  ENABLED(Section.PIPE_EXPERTS, "enabled", "--use-pipe-experts", Boolean.class, pe(PipeExpertsSpec::enabled)),
  MULTI_STREAM(Section.PIPE_EXPERTS, "multiStream", "--pipe-experts-multi-stream", Boolean.class, pe(PipeExpertsSpec::multiStream)),
  MULTI_DATA(Section.PIPE_EXPERTS, "multiData", "--pipe-experts-multi-data", Integer.class, pe(PipeExpertsSpec::multiData)),
  /** extension */
  FAMILY(Section.PIPE_EXPERTS, "family", "--pipe-experts-family", String.class, pe(PipeExpertsSpec::family)),
  /** extension */
  PREFETCH_DEPTH(Section.PIPE_EXPERTS, "prefetchDepth", "--pipe-experts-prefetch-depth", Integer.class, pe(PipeExpertsSpec::prefetchDepth)),
  /** extension */
  MULTI_DATA_BACKWARD(Section.PIPE_EXPERTS, "multiDataBackward", "--pipe-experts-multi-data-bwd", Integer.class, pe(PipeExpertsSpec::multiDataBackward)),

  STEPS(Section.TRAINING, "steps", "--train-iters", Integer.class, t(TrainingSpec::steps)),
  /** extension */
  WARMUP_STEPS(Section.TRAINING, "warmupSteps", "--warmup-steps", Integer.class, t(TrainingSpec::warmupSteps)),
  SEED(Section.TRAINING, "seed", "--seed", Long.class, t(TrainingSpec::seed)),
  LEARNING_RATE(Section.TRAINING, "learningRate", "--lr", Double.class, t(TrainingSpec::learningRate)),
  GLOBAL_BATCH_SIZE(Section.TRAINING, "globalBatchSize", "--global-batch-size", Integer.class, t(TrainingSpec::globalBatchSize)),
  DATA_PATH(Section.TRAINING, "dataPath", "--data-path", String.class, t(TrainingSpec::dataPath)),
  USE_DISTRIBUTED_OPTIMIZER(Section.TRAINING, "useDistributedOptimizer", "--use-distributed-optimizer", Boolean.class, t(TrainingSpec::useDistributedOptimizer)),

  /** extension, as are all fabric flags */
  PROFILE(Section.FABRIC, "profile", "--fabric", String.class, f(FabricSpec::profile)),
  BANDWIDTH(Section.FABRIC, "bandwidthBytesPerSecond", "--fabric-bandwidth", Double.class, f(FabricSpec::bandwidthBytesPerSecond)),
  LATENCY(Section.FABRIC, "latencySeconds", "--fabric-latency", Double.class, f(FabricSpec::latencySeconds)),
  CONGESTION(Section.FABRIC, "congestion", "--fabric-congestion", Double.class, f(FabricSpec::congestion)),
  /** Written as --fabric-shared-links (true) or --fabric-separate-links (false). */
  SHARED_LINKS(Section.FABRIC, "sharedLinks", "--fabric-shared-links", Boolean.class, f(FabricSpec::sharedLinks)),
  COMM_RATIO(Section.FABRIC, "commRatio", "--fabric-comm-ratio", Double.class, f(FabricSpec::commRatio)),

  /** extension, as is --devices */
  DEVICE_TYPE(Section.RESOURCES, "deviceType", "--device-type", String.class, r(ResourcesSpec::deviceType)),
  DEVICES(Section.RESOURCES, "devices", "--devices", Integer.class, r(ResourcesSpec::devices)),

  ENABLE_ZERO3(Section.MINDSPEED, "enableZero3", "--enable-zero3", Boolean.class, ms(MindSpeedSpec::enableZero3)),
  USE_ASCEND_MC2(Section.MINDSPEED, "useAscendMc2", "--use-ascend-mc2", Boolean.class, ms(MindSpeedSpec::useAscendMc2)),
  REUSE_FP32_PARAM(Section.MINDSPEED, "reuseFp32Param", "--reuse-fp32-param", Boolean.class, ms(MindSpeedSpec::reuseFp32Param)),
  RECOMPUTE_GRANULARITY(Section.MINDSPEED, "recomputeGranularity", "--recompute-granularity", String.class, ms(MindSpeedSpec::recomputeGranularity)),
  AMPIPE_DEGREE(Section.MINDSPEED, "ampipeDegree", "--ampipe-degree", Integer.class, ms(MindSpeedSpec::ampipeDegree)),
  MOE_NO_DROP(Section.MINDSPEED, "moeNoDrop", "--moe-no-drop", Boolean.class, ms(MindSpeedSpec::moeNoDrop)),
  MOE_DYNAMIC_PADDING(Section.MINDSPEED, "moeDynamicPadding", "--moe-dynamic-padding", Boolean.class, ms(MindSpeedSpec::moeDynamicPadding)),
  RECOMPUTE_METHOD(Section.MINDSPEED, "recomputeMethod", "--recompute-method", String.class, ms(MindSpeedSpec::recomputeMethod)),
  RECOMPUTE_NUM_LAYERS(Section.MINDSPEED, "recomputeNumLayers", "--recompute-num-layers", Integer.class, ms(MindSpeedSpec::recomputeNumLayers));

  /** The sub-records of a JobSpec, with their JSON names. */
  enum Section {
    MODEL("model"),
    PARALLEL("parallel"),
    PIPE_EXPERTS("pipeExperts"),
    TRAINING("training"),
    FABRIC("fabric"),
    RESOURCES("resources"),
    MINDSPEED("mindspeed");

    final String jsonName;

    Section(String jsonName) {
      this.jsonName = jsonName;
    }
  }

  final Section section;
  /** The dotted path messages use: {@code pipeExperts.multiData}. */
  final String path;
  final String pointer;
  final String flag;
  final Class<?> type;
  private final Function<JobSpec, Object> getter;

  SpecField(Section section, String name, String flag, Class<?> type, Function<JobSpec, Object> getter) {
    this.section = section;
    this.path = section.jsonName + "." + name;
    this.pointer = "/" + section.jsonName + "/" + name;
    this.flag = flag;
    this.type = type;
    this.getter = getter;
  }

  /** The field's value in {@code spec}, null when it or its section is absent. */
  Object get(JobSpec spec) {
    return getter.apply(spec);
  }

  private static <S> Function<JobSpec, Object> in(Function<JobSpec, S> section, Function<S, ?> field) {
    return spec -> {
      S s = spec == null ? null : section.apply(spec);
      return s == null ? null : field.apply(s);
    };
  }

  private static Function<JobSpec, Object> m(Function<ModelSpec, ?> field) {
    return in(JobSpec::model, field);
  }

  private static Function<JobSpec, Object> p(Function<ParallelSpec, ?> field) {
    return in(JobSpec::parallel, field);
  }

  private static Function<JobSpec, Object> pe(Function<PipeExpertsSpec, ?> field) {
    return in(JobSpec::pipeExperts, field);
  }

  private static Function<JobSpec, Object> t(Function<TrainingSpec, ?> field) {
    return in(JobSpec::training, field);
  }

  private static Function<JobSpec, Object> f(Function<FabricSpec, ?> field) {
    return in(JobSpec::fabric, field);
  }

  private static Function<JobSpec, Object> r(Function<ResourcesSpec, ?> field) {
    return in(JobSpec::resources, field);
  }

  private static Function<JobSpec, Object> ms(Function<MindSpeedSpec, ?> field) {
    return in(JobSpec::mindspeed, field);
  }
}
