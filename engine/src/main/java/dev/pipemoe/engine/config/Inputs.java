package dev.pipemoe.engine.config;

import static dev.pipemoe.engine.config.SpecField.*;

import dev.pipemoe.engine.device.DType;
import java.util.Optional;

/**
 * A spec's fields read into types, with defaults applied and each value's own range checked
 * ({@code P-RANGE}, {@code P-CHOICE}, {@code P-REQUIRED}, V9, V11's choices). A field is null here
 * when its value was invalid (the error is recorded and the field marked invalid) or when it is
 * absent and derived later from other fields (data, devices, prefetch depth, n_bwd). Pipe-experts
 * values are read raw: MindSpeed checks them only when the feature is on, and so do we.
 */
final class Inputs {

  private final JobSpec spec;
  private final Findings findings;

  MoeModelType moeModelType;
  Integer numLayers, hiddenSize, ffnHiddenSize, numExperts, topK, minCapacity, seqLength, microBatchSize;
  Double capacityFactor, auxLossCoeff;
  boolean swiglu;
  /** F32 or BF16; null when fp16 (refused later, see {@link #fp16}) or unknown. */
  DType dtype;
  boolean fp16;
  /** Null when unknown; gpt when not given but numAttentionHeads is (see {@link #readArchitecture}). */
  Architecture architecture;
  Integer numAttentionHeads, vocabSize, makeVocabSizeDivisibleBy;
  Tokenizer tokenizer;

  Integer tensor, data, expert, context;
  boolean sequenceParallel;

  boolean pipeExperts, multiStream;
  Integer multiData, prefetchDepth, multiDataBackward;
  ScheduleFamily family;

  Integer steps, warmupSteps;
  long seed;
  Double learningRate;
  Integer globalBatchSize;
  String dataPath;
  boolean distributedOptimizer;

  FabricProfile profile;
  Double bandwidth, latency, congestion, commRatio;
  Boolean sharedLinks;

  DeviceType deviceType;
  Integer devices;

  boolean zero3, mc2, reuseFp32Param, noDrop, dynamicPadding;
  String recompute, recomputeMethod;
  Integer recomputeNumLayers, ampipeDegree;

  private Inputs(JobSpec spec, Findings findings) {
    this.spec = spec;
    this.findings = findings;
  }

  static Inputs read(JobSpec spec, Findings findings) {
    Inputs in = new Inputs(spec, findings);
    in.readModel();
    in.readParallelAndPipeExperts();
    in.readTraining();
    in.readFabricAndResources();
    in.readMindSpeed();
    return in;
  }

  boolean given(SpecField field) {
    return field.get(spec) != null;
  }

  /** The value as the spec wrote it, for messages. */
  Object raw(SpecField field) {
    return field.get(spec);
  }

  private void readModel() {
    moeModelType = choice(MOE_MODEL_TYPE, MoeModelType.class, Defaults.MOE_MODEL_TYPE, "V11");
    numLayers = integer(NUM_LAYERS, 1, Defaults.NUM_LAYERS);
    hiddenSize = integer(HIDDEN_SIZE, 1, Defaults.HIDDEN_SIZE);
    ffnHiddenSize = integer(FFN_HIDDEN_SIZE, 1, Defaults.FFN_HIDDEN_SIZE);
    numExperts = integer(NUM_EXPERTS, 1, null);
    if (!given(NUM_EXPERTS)) {
      findings.invalid(NUM_EXPERTS, "P-REQUIRED", "model.numExperts (--num-experts) is required: without it"
          + " MindSpeed builds a dense model, and --use-pipe-experts fails computing num_experts // ep");
    }
    topK = (Integer) TOP_K.get(spec);
    if (topK == null) {
      topK = defaulted(TOP_K, Defaults.TOP_K);
    } else if (topK != 1 && topK != 2) {
      findings.invalid(TOP_K, "V9", "model.topK (--moe-router-topk) must be 1 or 2: only top-1 and top-2"
          + " gatings are supported, was " + topK);
      topK = null;
    }
    capacityFactor = real(CAPACITY_FACTOR, 0, false, Defaults.CAPACITY_FACTOR);
    minCapacity = integer(MIN_CAPACITY, 0, Defaults.MIN_CAPACITY);
    swiglu = bool(SWIGLU, Defaults.SWIGLU);
    seqLength = integer(SEQ_LENGTH, 1, Defaults.SEQ_LENGTH);
    microBatchSize = integer(MICRO_BATCH_SIZE, 1, Defaults.MICRO_BATCH_SIZE);
    readDtype();
    auxLossCoeff = real(AUX_LOSS_COEFF, 0, true, Defaults.AUX_LOSS_COEFF);
    readArchitecture();
    numAttentionHeads = integer(NUM_ATTENTION_HEADS, 1, null);
    vocabSize = integer(VOCAB_SIZE, 1, null);
    tokenizer = given(TOKENIZER) ? choice(TOKENIZER, Tokenizer.class, null, "P-CHOICE") : null;
    makeVocabSizeDivisibleBy = integer(MAKE_VOCAB_SIZE_DIVISIBLE_BY, 1, null);
  }

  /**
   * Given, or gpt when numAttentionHeads is given (a Megatron or MindSpeed command always describes
   * a GPT, and carries --num-attention-heads), else moe-stack. Derived here rather than when an
   * argument string is read, so that a JSON body and its argument string mean the same.
   */
  private void readArchitecture() {
    if (given(ARCHITECTURE) || !given(NUM_ATTENTION_HEADS)) {
      architecture = choice(ARCHITECTURE, Architecture.class, Defaults.ARCHITECTURE, "P-CHOICE");
    } else {
      architecture = Architecture.GPT;
      findings.note("model.architecture not given: gpt, because model.numAttentionHeads"
          + " (--num-attention-heads) is given, as in every Megatron or MindSpeed command");
    }
  }

  private void readDtype() {
    String name = (String) DTYPE.get(spec);
    if (name == null) {
      dtype = defaulted(DTYPE, Defaults.DTYPE);
      return;
    }
    switch (name) {
      case "fp32" -> dtype = DType.F32;
      case "bf16" -> dtype = DType.BF16;
      case "fp16" -> fp16 = true;
      default -> {
        findings.invalid(DTYPE, "P-CHOICE", "model.dtype (--dtype) must be one of fp32, bf16, fp16, was '" + name + "'");
      }
    }
  }

  private void readParallelAndPipeExperts() {
    tensor = integer(TENSOR, 1, Defaults.TENSOR);
    data = integer(DATA, 1, null);
    expert = integer(EXPERT, 1, Defaults.EXPERT);
    sequenceParallel = bool(SEQUENCE_PARALLEL, Defaults.SEQUENCE_PARALLEL);
    context = integer(CONTEXT, 1, Defaults.CONTEXT);
    pipeExperts = bool(ENABLED, Defaults.PIPE_EXPERTS);
    multiStream = bool(MULTI_STREAM, Defaults.MULTI_STREAM);
    multiData = (Integer) MULTI_DATA.get(spec);
    if (multiData == null) {
      multiData = defaulted(MULTI_DATA, Defaults.MULTI_DATA);
    }
    family = choice(FAMILY, ScheduleFamily.class, Defaults.FAMILY, "P-CHOICE");
    prefetchDepth = (Integer) PREFETCH_DEPTH.get(spec);
    multiDataBackward = (Integer) MULTI_DATA_BACKWARD.get(spec);
  }

  private void readTraining() {
    steps = integer(STEPS, 1, Defaults.STEPS);
    if (given(WARMUP_STEPS)) {
      warmupSteps = integer(WARMUP_STEPS, 0, null);
      if (warmupSteps != null && steps != null && warmupSteps >= steps) {
        findings.invalid(WARMUP_STEPS, "P-RANGE", "training.warmupSteps (--warmup-steps) must be < steps "
            + steps + " so that some steps are measured, was " + warmupSteps);
        warmupSteps = null;
      }
    } else if (steps != null && steps <= Defaults.WARMUP_STEPS) {
      warmupSteps = steps - 1;
      findings.note("training.warmupSteps not given: " + warmupSteps + " (the default "
          + Defaults.WARMUP_STEPS + " capped at steps - 1, so that a step is measured)");
    } else {
      warmupSteps = defaulted(WARMUP_STEPS, Defaults.WARMUP_STEPS);
    }
    Long givenSeed = (Long) SEED.get(spec);
    seed = givenSeed != null ? givenSeed : defaulted(SEED, Defaults.SEED);
    learningRate = real(LEARNING_RATE, 0, false, Defaults.LEARNING_RATE);
    globalBatchSize = integer(GLOBAL_BATCH_SIZE, 1, null);
    dataPath = (String) DATA_PATH.get(spec);
    if (dataPath != null && dataPath.isBlank()) {
      findings.invalid(DATA_PATH, "P-RANGE", describe(DATA_PATH) + " must name a file, was '" + dataPath + "'");
      dataPath = null;
    }
    distributedOptimizer = Boolean.TRUE.equals(USE_DISTRIBUTED_OPTIMIZER.get(spec));
  }

  private void readFabricAndResources() {
    profile = choice(PROFILE, FabricProfile.class, Defaults.FABRIC, "P-CHOICE");
    bandwidth = real(BANDWIDTH, 0, false, null);
    latency = real(LATENCY, 0, true, null);
    congestion = real(CONGESTION, 1, true, null);
    sharedLinks = (Boolean) SHARED_LINKS.get(spec);
    commRatio = real(COMM_RATIO, 0, false, null);
    deviceType = choice(DEVICE_TYPE, DeviceType.class, Defaults.DEVICE_TYPE, "P-CHOICE");
    devices = integer(DEVICES, 1, null);
  }

  /** The switches of features we validate but do not run; "not given" is plainly "off". */
  private void readMindSpeed() {
    zero3 = Boolean.TRUE.equals(ENABLE_ZERO3.get(spec));
    mc2 = Boolean.TRUE.equals(USE_ASCEND_MC2.get(spec));
    reuseFp32Param = Boolean.TRUE.equals(REUSE_FP32_PARAM.get(spec));
    noDrop = Boolean.TRUE.equals(MOE_NO_DROP.get(spec));
    dynamicPadding = Boolean.TRUE.equals(MOE_DYNAMIC_PADDING.get(spec));
    recompute = (String) RECOMPUTE_GRANULARITY.get(spec);
    if (recompute != null && !recompute.equals("full") && !recompute.equals("selective")) {
      findings.invalid(RECOMPUTE_GRANULARITY, "P-CHOICE", "mindspeed.recomputeGranularity (--recompute-granularity)"
          + " must be full or selective, was '" + recompute + "'");
    }
    recomputeMethod = (String) RECOMPUTE_METHOD.get(spec);
    if (recomputeMethod != null && !recomputeMethod.equals("uniform") && !recomputeMethod.equals("block")) {
      findings.invalid(RECOMPUTE_METHOD, "P-CHOICE", describe(RECOMPUTE_METHOD) + " must be uniform or block, was '"
          + recomputeMethod + "'");
    }
    recomputeNumLayers = integer(RECOMPUTE_NUM_LAYERS, 1, null);
    ampipeDegree = integer(AMPIPE_DEGREE, 1, null);
  }

  private <T> T defaulted(SpecField field, T value) {
    Object shown = switch (value) {
      case Named named -> named.jsonName();
      case DType type -> type == DType.BF16 ? "bf16" : "fp32";
      default -> value;
    };
    findings.defaulted(field, shown);
    return value;
  }

  /** The value, the default when absent (null: no default), or null with P-RANGE below {@code min}. */
  private Integer integer(SpecField field, int min, Integer dflt) {
    Integer value = (Integer) field.get(spec);
    if (value == null) {
      return dflt == null ? null : defaulted(field, dflt);
    }
    if (value < min) {
      findings.invalid(field, "P-RANGE", describe(field) + " must be >= " + min + ", was " + value);
      return null;
    }
    return value;
  }

  /** Like {@link #integer}, for finite reals above {@code min} (or at it, when inclusive). */
  private Double real(SpecField field, double min, boolean inclusive, Double dflt) {
    Double value = (Double) field.get(spec);
    if (value == null) {
      return dflt == null ? null : defaulted(field, dflt);
    }
    boolean inRange = inclusive ? value >= min : value > min;
    if (!inRange || !Checks.finite(value)) {
      findings.invalid(field, "P-RANGE", describe(field) + " must be a finite number " + (inclusive ? ">= " : "> ")
          + min + ", was " + value);
      return null;
    }
    return value;
  }

  private boolean bool(SpecField field, boolean dflt) {
    Boolean value = (Boolean) field.get(spec);
    return value != null ? value : defaulted(field, dflt);
  }

  private <E extends Enum<E> & Named> E choice(SpecField field, Class<E> type, E dflt, String rule) {
    String name = (String) field.get(spec);
    if (name == null) {
      return dflt == null ? null : defaulted(field, dflt);
    }
    Optional<E> value = Named.byName(type, name);
    if (value.isEmpty()) {
      findings.invalid(field, rule, describe(field) + " must be one of " + Named.choices(type) + ", was '" + name + "'");
    }
    return value.orElse(null);
  }

  static String describe(SpecField field) {
    return field.path + " (" + field.flag + ")";
  }
}
