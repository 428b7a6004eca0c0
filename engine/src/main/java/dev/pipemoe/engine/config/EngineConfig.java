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
    Resources resources) {

  public EngineConfig {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(parallel, "parallel");
    Objects.requireNonNull(pipeExperts, "pipeExperts");
    Objects.requireNonNull(training, "training");
    Objects.requireNonNull(fabric, "fabric");
    Objects.requireNonNull(resources, "resources");
    int tp = parallel.tensor();
    require(model.numExperts() % parallel.expert() == 0,
        "numExperts %s must be divisible by expert %s", model.numExperts(), parallel.expert());
    require(model.topK() <= model.numExperts(),
        "topK %s must be <= numExperts %s", model.topK(), model.numExperts());
    require(model.ffnHiddenSize() % tp == 0,
        "ffnHiddenSize %s must be divisible by tensor %s", model.ffnHiddenSize(), tp);
    require(!parallel.sequenceParallel() || model.seqLength() % tp == 0,
        "with sequence parallelism seqLength %s must be divisible by tensor %s", model.seqLength(), tp);
    long tokens = MoeShape.tokensPerRank(model.microBatchSize(), model.seqLength(), tp, parallel.sequenceParallel());
    require(tokens <= Integer.MAX_VALUE, "tokens per rank %s exceed %s", tokens, Integer.MAX_VALUE);
    require(resources.devices() == parallel.worldSize(),
        "devices %s must equal tensor x data = %s", resources.devices(), parallel.worldSize());
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

  /** Ranks = tensor × data. */
  public int worldSize() {
    return parallel.worldSize();
  }

  /** nle = E/ep. */
  public int localExperts() {
    return model.numExperts() / parallel.expert();
  }

  /** S, the tokens that enter the MoE layer on one rank. */
  public int tokensPerRank() {
    return (int) MoeShape.tokensPerRank(model.microBatchSize(), model.seqLength(), parallel.tensor(), parallel.sequenceParallel());
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

  /** The model shape; one deepspeed_moe layer per rank and layer. */
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
      double auxLossCoeff) {

    public Model {
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

  /** Ranks = tensor × data, TP innermost; expert groups are cut from the data ranks. */
  public record Parallel(int tensor, int data, int expert, boolean sequenceParallel) {

    public Parallel {
      positive("tensor", tensor);
      positive("data", data);
      positive("expert", expert);
      require(data % expert == 0, "expert %s must divide data %s", expert, data);
      require(!sequenceParallel || tensor >= 2, "sequence parallelism needs tensor >= 2, was %s", tensor);
      require((long) tensor * data <= Integer.MAX_VALUE, "tensor %s x data %s overflows", tensor, data);
    }

    public int worldSize() {
      return tensor * data;
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

  /** @param devices ranks the job occupies, = tensor × data */
  public record Resources(DeviceType deviceType, int devices) {

    public Resources {
      Objects.requireNonNull(deviceType, "deviceType");
      positive("devices", devices);
    }
  }
}
