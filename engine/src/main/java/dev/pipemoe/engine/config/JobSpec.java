package dev.pipemoe.engine.config;

/**
 * A job as a user wrote it: every field optional (null = "not given, use the default"), values
 * unchecked. JSON/YAML bodies map onto these records field by field (the JSON pointer of a field is
 * its path of record components, e.g. {@code /pipeExperts/multiData}); a MindSpeed-style argument
 * string maps onto them through {@link MindSpeedArgs}. {@link Validator} turns a spec into an
 * {@link EngineConfig} (the effective config) plus warnings, or into violations.
 */
public record JobSpec(
    ModelSpec model,
    ParallelSpec parallel,
    PipeExpertsSpec pipeExperts,
    TrainingSpec training,
    FabricSpec fabric,
    ResourcesSpec resources,
    MindSpeedSpec mindspeed) {

  /** Model shape. */
  public record ModelSpec(
      /** {@code deepspeed_moe} or {@code megatron_moe} (V11); MindSpeed's default is megatron_moe. */
      String moeModelType,
      Integer numLayers,
      Integer hiddenSize,
      Integer ffnHiddenSize,
      Integer numExperts,
      /** Router top-k: 1 or 2 (V9). */
      Integer topK,
      Double capacityFactor,
      Integer minCapacity,
      /** SwiGLU experts (3 GEMMs) instead of a GELU MLP (2 GEMMs). */
      Boolean swiglu,
      Integer seqLength,
      Integer microBatchSize,
      /** {@code fp32}, {@code bf16} or {@code fp16}: the activation/wire dtype. */
      String dtype,
      Double auxLossCoeff) {}

  /** Parallel layout: world = tensor x data; expert groups are cut from the data ranks. */
  public record ParallelSpec(
      Integer tensor,
      Integer data,
      Integer expert,
      Boolean sequenceParallel) {}

  /** The feature this product is about. */
  public record PipeExpertsSpec(
      Boolean enabled,
      Boolean multiStream,
      /** N, the number of capacity slices per local expert (V1, V7). */
      Integer multiData,
      /** {@code mindspeed} (faithful to MindSpeed) or {@code improved} (ours). */
      String family,
      /** improved only: how many chunks' dispatch may run ahead of compute. */
      Integer prefetchDepth,
      /** improved only: slices per local expert in backward (n_bwd); default = multiData. */
      Integer multiDataBackward) {}

  public record TrainingSpec(
      Integer steps,
      /** Steps excluded from averages. */
      Integer warmupSteps,
      Long seed,
      Double learningRate) {}

  /** The emulated interconnect: a named profile, optionally overridden field by field. */
  public record FabricSpec(
      String profile,
      Double bandwidthBytesPerSecond,
      Double latencySeconds,
      Double congestion,
      /** Whether EP and TP collectives share one link set (910C-like) or use separate ones. */
      Boolean sharedLinks,
      /**
       * R: instead of emulating the device on this very shape, calibrate the emulated bandwidth so
       * that the serial schedule's communication takes R times its computation (a larger job's
       * balance on a CPU-sized shape); see docs/engine.md.
       */
      Double commRatio) {}

  public record ResourcesSpec(
      /** {@code cpu} (the native CPU runtime) or an accelerator type such as {@code ascend-910c}. */
      String deviceType,
      Integer devices) {}

  /** MindSpeed switches we validate against pipe-experts (V4-V6, V10) but do not run. */
  public record MindSpeedSpec(
      Boolean enableZero3,
      Boolean useAscendMc2,
      Boolean reuseFp32Param,
      /** {@code full}, {@code selective} or null. */
      String recomputeGranularity,
      Integer ampipeDegree,
      Boolean moeNoDrop,
      Boolean moeDynamicPadding) {}
}
