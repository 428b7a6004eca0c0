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
      Double auxLossCoeff,
      /** {@code moe-stack} (default) or {@code gpt}: the whole model around the MoE layers. */
      String architecture,
      /** gpt: attention heads (divisible by tensor; hiddenSize divisible by it). */
      Integer numAttentionHeads,
      /** gpt: the vocabulary, without a tokenizer (token ids are bytes, so at least 256). */
      Integer vocabSize,
      /** gpt: {@code byte} (vocabulary 256); the default when vocabSize is absent. */
      String tokenizer,
      /** gpt: the vocabulary is padded to a multiple of this x tensor (Megatron's rule). */
      Integer makeVocabSizeDivisibleBy) {}

  /**
   * Parallel layout: world = tensor x context x data, TP innermost then CP; expert groups are cut
   * from the context x data ranks.
   */
  public record ParallelSpec(
      Integer tensor,
      Integer data,
      Integer expert,
      Boolean sequenceParallel,
      /** CP: the sequence split over this many ranks (gpt only; simulated devices only). */
      Integer context) {}

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
      Double learningRate,
      /** gpt: samples per step over all data ranks; micro-batches = this / (microBatchSize x data). */
      Integer globalBatchSize,
      /** gpt: a text file on the worker, read as bytes; absent = the built-in generated corpus. */
      String dataPath,
      /** gpt: reduce-scatter gradients, Adam on a shard, all-gather parameters. */
      Boolean useDistributedOptimizer) {}

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

  /**
   * MindSpeed switches we validate against pipe-experts (V4-V6, V10); most are not run. Full
   * uniform recompute of one layer runs in the gpt architecture.
   */
  public record MindSpeedSpec(
      Boolean enableZero3,
      Boolean useAscendMc2,
      Boolean reuseFp32Param,
      /** {@code full}, {@code selective} or null. */
      String recomputeGranularity,
      Integer ampipeDegree,
      Boolean moeNoDrop,
      Boolean moeDynamicPadding,
      /** {@code uniform} or {@code block}; with full granularity. */
      String recomputeMethod,
      /** Layers per recompute unit; with full granularity. */
      Integer recomputeNumLayers) {}
}
