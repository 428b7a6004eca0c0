package dev.pipemoe.engine.train;

import dev.pipemoe.engine.config.EngineConfig;
import dev.pipemoe.engine.data.ByteTokens;
import dev.pipemoe.engine.data.GeneratedCorpus;
import dev.pipemoe.engine.data.TokenWindows;
import dev.pipemoe.engine.device.Fabric;
import dev.pipemoe.engine.device.LinkModel;
import dev.pipemoe.engine.model.GptShape;
import dev.pipemoe.engine.moe.LayerShape;
import dev.pipemoe.engine.schedule.ImprovedSchedule;
import dev.pipemoe.engine.schedule.MindSpeedSchedule;
import dev.pipemoe.engine.schedule.Schedule;
import dev.pipemoe.engine.schedule.SerialSchedule;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;

/**
 * From an effective config to a finished run: the layer shape and schedule it names, the GEMM rate
 * measured on this machine, the calibrated link model, then {@link Trainer}. The worker and the
 * bench command both run jobs through here.
 */
public final class JobRunner {
  /** Distinct input batches a run cycles through. */
  static final int BATCHES = 4;

  private JobRunner() {}

  /** What a run will do, known before it starts. */
  public record Prepared(TrainingPlan plan, Calibration.Result calibration,
      double gemmFlopsPerSecond) {
    public LinkModel linkModel() {
      return calibration.linkModel();
    }
  }

  /**
   * The MoE layer on one rank. Its data ranks are the context x data ranks (expert groups are cut
   * from them), and its tokens one micro-batch's share of the rank: b·s/cp, /tp under SP.
   */
  public static LayerShape shape(EngineConfig c) {
    EngineConfig.Model m = c.model();
    EngineConfig.Parallel p = c.parallel();
    return new LayerShape(c.tokensPerRank(), m.hiddenSize(), m.ffnHiddenSize(), m.numExperts(),
        m.topK(), c.capacity(), p.tensor(), p.expertData(), p.expert(), p.sequenceParallel(),
        m.swiglu(), m.dtype(), m.auxLossCoeff());
  }

  /** The whole model around the MoE layers; null for the MoE stack. */
  public static GptShape gptShape(EngineConfig c) {
    EngineConfig.Gpt g = c.gpt();
    if (g == null) {
      return null;
    }
    return new GptShape(g.paddedVocabSize(), g.numAttentionHeads(), c.model().seqLength(),
        c.model().microBatchSize(), g.microBatches(), c.parallel().context(), g.recompute(),
        g.distributedOptimizer());
  }

  /**
   * A gpt job's tokens: its data file (read once, here) or the generated corpus, cut into samples
   * of seq-length + 1 tokens (inputs and the targets one token later) and shuffled by the job's
   * seed. A file too short for one sample fails here, before any rank starts.
   */
  public static TokenWindows tokens(EngineConfig c) {
    EngineConfig.Gpt g = c.gpt();
    byte[] text = g.dataPath() != null ? ByteTokens.read(Path.of(g.dataPath()))
        : GeneratedCorpus.standard();
    TokenWindows tokens = new TokenWindows(text, c.training().seed(), g.microBatches());
    tokens.windows(c.model().seqLength() + 1);
    return tokens;
  }

  public static Schedule schedule(EngineConfig c) {
    EngineConfig.PipeExperts pe = c.pipeExperts();
    return switch (c.schedule()) {
      case SERIAL -> new SerialSchedule();
      case MINDSPEED -> new MindSpeedSchedule(pe.multiStream(), pe.multiData());
      case IMPROVED -> new ImprovedSchedule(pe.multiStream(), pe.multiData(),
          pe.multiDataBackward(), pe.prefetchDepth());
    };
  }

  /** What the config trains: the MoE stack on a teacher's targets, or the whole GPT on tokens. */
  public static TrainingPlan plan(EngineConfig c) {
    EngineConfig.Training t = c.training();
    GptShape gpt = gptShape(c);
    return new TrainingPlan(shape(c), c.model().numLayers(), schedule(c), t.steps(),
        t.warmupSteps(), t.seed(), t.learningRate(), c.fabric().sharedLinks(), BATCHES, gpt,
        gpt == null ? null : tokens(c));
  }

  /** Measures the job's expert GEMM rate on an unmodelled fabric of its size, then calibrates. */
  public static Prepared prepare(EngineConfig c, Fabric.Factory fabrics) {
    TrainingPlan plan = plan(c);
    double gemmRate;
    try (Fabric probe = fabrics.open(c.worldSize(), LinkModel.unmodelled())) {
      gemmRate = GemmRate.expert(probe, plan.shape());
    }
    return new Prepared(plan, Calibration.calibrate(c.fabric(), plan.shape(), gemmRate),
        gemmRate);
  }

  public static Trainer.Outcome run(Prepared prepared, Fabric.Factory fabrics,
      StepListener listener, BooleanSupplier cancelRequested) {
    TrainingPlan plan = prepared.plan();
    try (Fabric fabric = fabrics.open(plan.shape().worldSize(), prepared.linkModel())) {
      return Trainer.train(fabric, plan, listener, cancelRequested);
    }
  }
}
