package dev.pipemoe.engine.config;

import static dev.pipemoe.engine.config.Checks.finite;
import static dev.pipemoe.engine.config.Checks.positive;
import static dev.pipemoe.engine.config.Checks.require;

import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.LinkModel;
import java.util.List;
import java.util.Objects;

/**
 * The effective config: exactly what the engine runs, typed and complete. {@link Validator} builds
 * it from a {@link JobSpec} with defaults filled in and the features MindSpeed would switch off
 * switched off; the records check their own invariants, so code holding an {@code EngineConfig}
 * needs no further validation. Notation (docs/engine.md, "Notation"): b micro-batch, s sequence, S
 * tokens per rank, E experts, ep, nle = E/ep local experts, k top-k, f capacity factor, C capacity,
 * N slices per local expert, n = nle·N pipeline chunks. The whole tree sits in this one file so
 * that everything the engine may rely on reads in one place.
 */
public record EngineConfig(
    Model model,
    Parallel parallel,
    PipeExperts pipeExperts,
    Training training,
    Fabric fabric,
    Resources resources,
    Gpt gpt) {

  /** A stack of MoE layers alone (architecture moe-stack). */
  public EngineConfig(Model model, Parallel parallel, PipeExperts pipeExperts, Training training,
      Fabric fabric, Resources resources) {
    this(model, parallel, pipeExperts, training, fabric, resources, null);
  }

  public EngineConfig {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(parallel, "parallel");
    Objects.requireNonNull(pipeExperts, "pipeExperts");
    Objects.requireNonNull(training, "training");
    Objects.requireNonNull(fabric, "fabric");
    Objects.requireNonNull(resources, "resources");
    int tp = parallel.tensor();
    require((gpt != null) == (model.architecture() == Architecture.GPT),
        "the gpt section is present exactly for architecture gpt, was %s with gpt %s", model.architecture(), gpt);
    require(gpt != null || parallel.context() == 1, "context parallelism needs architecture gpt, was %s", parallel.context());
    if (gpt != null) {
      require(gpt.numAttentionHeads() % tp == 0,
          "numAttentionHeads %s must be divisible by tensor %s (G1)", gpt.numAttentionHeads(), tp);
      require(model.hiddenSize() % gpt.numAttentionHeads() == 0,
          "hiddenSize %s must be divisible by numAttentionHeads %s (G2)", model.hiddenSize(), gpt.numAttentionHeads());
      require(gpt.paddedVocabSize() % tp == 0, "paddedVocabSize %s must be divisible by tensor %s",
          gpt.paddedVocabSize(), tp);
      require((long) gpt.microBatches() * model.microBatchSize() * parallel.data() == gpt.globalBatchSize(),
          "globalBatchSize %s must be microBatches %s x microBatchSize %s x data %s (G4)",
          gpt.globalBatchSize(), gpt.microBatches(), model.microBatchSize(), parallel.data());
    }
    require(model.seqLength() % MoeShape.sequenceSplit(tp, parallel.context(), parallel.sequenceParallel()) == 0,
        "seqLength %s must be divisible by context %s x (tensor %s with sequence parallelism) (P-SP-SEQ, G3)",
        model.seqLength(), parallel.context(), tp);
    require(model.numExperts() % parallel.expert() == 0,
        "numExperts %s must be divisible by expert %s", model.numExperts(), parallel.expert());
    require(model.topK() <= model.numExperts(),
        "topK %s must be <= numExperts %s", model.topK(), model.numExperts());
    require(model.ffnHiddenSize() % tp == 0,
        "ffnHiddenSize %s must be divisible by tensor %s", model.ffnHiddenSize(), tp);
    long tokens = MoeShape.tokensPerRank(model.microBatchSize(), model.seqLength(), tp, parallel.context(),
        parallel.sequenceParallel());
    require(tokens <= Integer.MAX_VALUE, "tokens per rank %s exceed %s", tokens, Integer.MAX_VALUE);
    require(resources.devices() == parallel.worldSize(),
        "devices %s must equal tensor x context x data = %s", resources.devices(), parallel.worldSize());
    if (pipeExperts.enabled()) {
      long capacity = MoeShape.capacity(tokens, model.numExperts(), model.topK(), model.capacityFactor(), model.minCapacity());
      int nle = model.numExperts() / parallel.expert();
      require(pipeExperts.multiData() <= capacity && pipeExperts.multiDataBackward() <= capacity,
          "multiData %s and multiDataBackward %s must be <= capacity %s (V7)",
          pipeExperts.multiData(), pipeExperts.multiDataBackward(), capacity);
      require(nle * pipeExperts.multiData() >= 2,
          "pipe-experts needs >= 2 chunks, local experts %s x multiData %s (V3)", nle, pipeExperts.multiData());
      require(!pipeExperts.multiStream() || parallel.sequenceParallel(),
          "multi-stream needs sequence parallelism (V2)");
    }
  }

  /** What to run: serial whenever pipe-experts is effectively off, else the chosen family. */
  public ScheduleKind schedule() {
    if (!pipeExperts.enabled()) {
      return ScheduleKind.SERIAL;
    }
    return switch (pipeExperts.family()) {
      case MINDSPEED -> ScheduleKind.MINDSPEED;
      case IMPROVED -> ScheduleKind.IMPROVED;
    };
  }

  /** What the engine trains: the MoE stack alone, or the whole GPT. */
  public Architecture architecture() {
    return model.architecture();
  }

  /** Ranks = tensor × context × data. */
  public int worldSize() {
    return parallel.worldSize();
  }

  /** nle = E/ep. */
  public int localExperts() {
    return model.numExperts() / parallel.expert();
  }

  /** S, the tokens that enter the MoE layer on one rank (per micro-batch). */
  public int tokensPerRank() {
    return (int) MoeShape.tokensPerRank(model.microBatchSize(), model.seqLength(), parallel.tensor(),
        parallel.context(), parallel.sequenceParallel());
  }

  /** C, the slots per expert on every rank. */
  public int capacity() {
    return (int) MoeShape.capacity(tokensPerRank(), model.numExperts(), model.topK(), model.capacityFactor(), model.minCapacity());
  }

  /** Forward pipeline chunks n = nle·N; 1 when the schedule is serial. */
  public int chunksForward() {
    return pipeExperts.enabled() ? localExperts() * pipeExperts.multiData() : 1;
  }

  /** Backward pipeline chunks nle·n_bwd; 1 when the schedule is serial. */
  public int chunksBackward() {
    return pipeExperts.enabled() ? localExperts() * pipeExperts.multiDataBackward() : 1;
  }

  /**
   * The model shape; one deepspeed_moe layer per rank and layer, inside a whole GPT when the
   * architecture is gpt (its own figures in {@link Gpt}).
   */
  public record Model(
      MoeModelType moeModelType,
      int numLayers,
      int hiddenSize,
      int ffnHiddenSize,
      int numExperts,
      int topK,
      double capacityFactor,
      int minCapacity,
      boolean swiglu,
      int seqLength,
      int microBatchSize,
      /** Activation and wire type: F32 or BF16. Gating always runs in fp32. */
      DType dtype,
      double auxLossCoeff,
      Architecture architecture) {

    /** The MoE stack alone. */
    public Model(MoeModelType moeModelType, int numLayers, int hiddenSize, int ffnHiddenSize, int numExperts,
        int topK, double capacityFactor, int minCapacity, boolean swiglu, int seqLength, int microBatchSize,
        DType dtype, double auxLossCoeff) {
      this(moeModelType, numLayers, hiddenSize, ffnHiddenSize, numExperts, topK, capacityFactor, minCapacity,
          swiglu, seqLength, microBatchSize, dtype, auxLossCoeff, Architecture.MOE_STACK);
    }

    public Model {
      Objects.requireNonNull(architecture, "architecture");
      require(moeModelType == MoeModelType.DEEPSPEED_MOE, "the engine runs only deepspeed_moe, was %s", moeModelType);
      positive("numLayers", numLayers);
      positive("hiddenSize", hiddenSize);
      positive("ffnHiddenSize", ffnHiddenSize);
      positive("numExperts", numExperts);
      require(topK == 1 || topK == 2, "topK must be 1 or 2, was %s", topK);
      require(capacityFactor > 0 && finite(capacityFactor), "capacityFactor must be > 0, was %s", capacityFactor);
      require(minCapacity >= 0, "minCapacity must be >= 0, was %s", minCapacity);
      positive("seqLength", seqLength);
      positive("microBatchSize", microBatchSize);
      require(dtype == DType.F32 || dtype == DType.BF16, "dtype must be F32 or BF16, was %s", dtype);
      require(auxLossCoeff >= 0 && finite(auxLossCoeff), "auxLossCoeff must be >= 0, was %s", auxLossCoeff);
    }
  }

  /**
   * Ranks = tensor × context × data, TP innermost then CP: {@code rank = tp + tensor·(cp +
   * context·dp)}. Expert groups are cut from the context × data ranks, the MoE block's data ranks.
   *
   * @param data DP, Megatron's data-parallel size (world / (tensor × context))
   * @param context CP, the sequence split over this many ranks
   */
  public record Parallel(int tensor, int data, int expert, boolean sequenceParallel, int context) {

    /** No context parallelism. */
    public Parallel(int tensor, int data, int expert, boolean sequenceParallel) {
      this(tensor, data, expert, sequenceParallel, 1);
    }

    public Parallel {
      positive("tensor", tensor);
      positive("data", data);
      positive("expert", expert);
      positive("context", context);
      require((long) tensor * context * data <= Integer.MAX_VALUE, "tensor %s x context %s x data %s overflows",
          tensor, context, data);
      require(context * data % expert == 0, "expert %s must divide context %s x data %s", expert, context, data);
      require(!sequenceParallel || tensor >= 2, "sequence parallelism needs tensor >= 2, was %s", tensor);
    }

    public int worldSize() {
      return tensor * context * data;
    }

    /** The MoE block's data ranks: context × data (LayerShape.data). */
    public int expertData() {
      return context * data;
    }
  }

  /**
   * Pipe-experts as it runs. When off, the other switches hold their neutral values (no
   * multi-stream, one slice, prefetch 1) so that "off" has one representation.
   *
   * @param multiData N, capacity slices per local expert in forward
   * @param prefetchDepth improved family: chunks whose dispatch may run ahead of compute (mindspeed: 1)
   * @param multiDataBackward n_bwd, slices per local expert in backward (mindspeed: N)
   */
  public record PipeExperts(
      boolean enabled,
      boolean multiStream,
      int multiData,
      ScheduleFamily family,
      int prefetchDepth,
      int multiDataBackward) {

    public PipeExperts {
      Objects.requireNonNull(family, "family");
      positive("multiData", multiData);
      positive("prefetchDepth", prefetchDepth);
      positive("multiDataBackward", multiDataBackward);
      require(enabled || (!multiStream && multiData == 1 && prefetchDepth == 1 && multiDataBackward == 1),
          "pipe-experts off must have no multi-stream and one slice, was %s/%s/%s/%s",
          multiStream, multiData, prefetchDepth, multiDataBackward);
      require(family != ScheduleFamily.MINDSPEED || (prefetchDepth == 1 && multiDataBackward == multiData),
          "family mindspeed has prefetch 1 and n_bwd = N, was %s and %s (N = %s)",
          prefetchDepth, multiDataBackward, multiData);
    }

    /** Pipe-experts off: the serial schedule. */
    public static PipeExperts off(ScheduleFamily family) {
      return new PipeExperts(false, false, 1, family, 1, 1);
    }
  }

  /** @param warmupSteps the first steps, excluded from averages */
  public record Training(int steps, int warmupSteps, long seed, double learningRate) {

    public Training {
      positive("steps", steps);
      require(warmupSteps >= 0 && warmupSteps < steps, "warmupSteps must be in [0, steps %s), was %s", steps, warmupSteps);
      require(learningRate > 0 && finite(learningRate), "learningRate must be > 0, was %s", learningRate);
    }

    /** Steps that count in averages. */
    public int measuredSteps() {
      return steps - warmupSteps;
    }
  }

  /**
   * The emulated interconnect in <em>device</em> terms: the profile's figures, each replaced by the
   * spec's override where one was given. Nothing here is in CPU terms yet: the engine's {@code
   * Calibration} scales it to the CPU once it has measured the job's GEMM rate. The unmodelled
   * profile has zero figures and gives {@link LinkModel#unmodelled()}.
   *
   * @param peakFlopsPerSecond the device's dense peak the calibration divides by
   * @param bandwidthBytesPerSecond per-rank collective bandwidth of the device
   * @param latencySeconds per-collective start-up latency α of the device
   * @param congestion factor (&ge; 1) by which concurrent transfers on one link slow each other
   * @param sharedLinks whether EP and TP collectives use one link set
   * @param commRatio R &gt; 0: calibrate so that the serial schedule's communication takes R times
   *     its computation (engine: {@code Calibration}); 0: emulate the device on this shape
   */
  public record Fabric(
      FabricProfile profile,
      double peakFlopsPerSecond,
      double bandwidthBytesPerSecond,
      double latencySeconds,
      double congestion,
      boolean sharedLinks,
      double commRatio) {

    /** The link set EP communicators use; TP uses {@link #tpLinkSet()}. */
    public static final int EP_LINK_SET = dev.pipemoe.engine.moe.RankContext.LINKS_EP;

    public Fabric {
      Objects.requireNonNull(profile, "profile");
      require(congestion >= 1 && finite(congestion), "congestion must be >= 1, was %s", congestion);
      require(commRatio >= 0 && finite(commRatio), "commRatio must be >= 0, was %s", commRatio);
      require(profile.modelled() || commRatio == 0, "the unmodelled profile has no comm ratio, was %s", commRatio);
      if (profile.modelled()) {
        require(peakFlopsPerSecond > 0 && finite(peakFlopsPerSecond), "peak FLOP/s must be > 0, was %s", peakFlopsPerSecond);
        require(bandwidthBytesPerSecond > 0 && finite(bandwidthBytesPerSecond), "bandwidth must be > 0, was %s", bandwidthBytesPerSecond);
        require(latencySeconds >= 0 && finite(latencySeconds), "latency must be >= 0, was %s", latencySeconds);
      } else {
        require(peakFlopsPerSecond == 0 && bandwidthBytesPerSecond == 0 && latencySeconds == 0,
            "the unmodelled profile has no figures, was %s/%s/%s", peakFlopsPerSecond, bandwidthBytesPerSecond, latencySeconds);
      }
    }

    /** A profile's own figures, no overrides. */
    public static Fabric of(FabricProfile profile) {
      return new Fabric(profile, profile.peakFlopsPerSecond(), profile.bandwidthBytesPerSecond(),
          profile.latencySeconds(), profile.congestion(), profile.sharedLinks(), 0);
    }

    public int tpLinkSet() {
      return dev.pipemoe.engine.moe.RankContext.tpLinkSet(sharedLinks);
    }
  }

  /**
   * The whole model around the MoE layers (architecture gpt): token and position embeddings, per
   * layer attention then the MoE block, final norm, LM head and cross-entropy, trained on tokens.
   *
   * @param tokenizer how the data becomes tokens (always byte-level: ids in [0, 256))
   * @param vocabSize the vocabulary as given ({@code --vocab-size}) or the tokenizer's
   * @param paddedVocabSize vocabSize rounded up to a multiple of makeVocabSizeDivisibleBy × tensor
   * @param dataPath a text file on the worker; null: the built-in generated corpus
   * @param globalBatchSize samples per step over all DP ranks
   * @param microBatches micro-batches per step and DP rank: globalBatchSize / (microBatchSize × data)
   * @param recompute full, uniform recompute of each layer (one layer per unit)
   * @param distributedOptimizer gradients reduce-scattered over DP, parameters all-gathered
   */
  public record Gpt(
      int numAttentionHeads,
      Tokenizer tokenizer,
      int vocabSize,
      int makeVocabSizeDivisibleBy,
      int paddedVocabSize,
      String dataPath,
      int globalBatchSize,
      int microBatches,
      boolean recompute,
      boolean distributedOptimizer) {

    public Gpt {
      Objects.requireNonNull(tokenizer, "tokenizer");
      positive("numAttentionHeads", numAttentionHeads);
      require(vocabSize >= tokenizer.vocabSize(), "vocabSize %s must hold the %s tokenizer's %s ids",
          vocabSize, tokenizer.jsonName(), tokenizer.vocabSize());
      positive("makeVocabSizeDivisibleBy", makeVocabSizeDivisibleBy);
      require(paddedVocabSize >= vocabSize && paddedVocabSize % makeVocabSizeDivisibleBy == 0,
          "paddedVocabSize %s must be a multiple of %s and >= vocabSize %s", paddedVocabSize,
          makeVocabSizeDivisibleBy, vocabSize);
      require(dataPath == null || !dataPath.isBlank(), "dataPath must not be blank, was '%s'", dataPath);
      positive("globalBatchSize", globalBatchSize);
      positive("microBatches", microBatches);
    }

    /** Megatron's padding: round up to a multiple of {@code divisibleBy × tensor}. */
    public static long paddedVocab(long vocabSize, long divisibleBy, long tensor) {
      long multiple = divisibleBy * tensor;
      return (vocabSize + multiple - 1) / multiple * multiple;
    }
  }

  /** @param devices ranks the job occupies, = tensor × context × data */
  public record Resources(DeviceType deviceType, int devices) {

    public Resources {
      Objects.requireNonNull(deviceType, "deviceType");
      positive("devices", devices);
    }
  }
}
