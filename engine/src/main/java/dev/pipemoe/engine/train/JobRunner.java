package dev.pipemoe.engine.train;

import dev.pipemoe.engine.config.EngineConfig;
import dev.pipemoe.engine.device.Fabric;
import dev.pipemoe.engine.device.LinkModel;
import dev.pipemoe.engine.moe.LayerShape;
import dev.pipemoe.engine.schedule.ImprovedSchedule;
import dev.pipemoe.engine.schedule.MindSpeedSchedule;
import dev.pipemoe.engine.schedule.Schedule;
import dev.pipemoe.engine.schedule.SerialSchedule;
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

  public static LayerShape shape(EngineConfig c) {
    EngineConfig.Model m = c.model();
    EngineConfig.Parallel p = c.parallel();
    return new LayerShape(c.tokensPerRank(), m.hiddenSize(), m.ffnHiddenSize(), m.numExperts(),
        m.topK(), c.capacity(), p.tensor(), p.data(), p.expert(), p.sequenceParallel(), m.swiglu(),
        m.dtype(), m.auxLossCoeff());
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

  public static TrainingPlan plan(EngineConfig c) {
    EngineConfig.Training t = c.training();
    return new TrainingPlan(shape(c), c.model().numLayers(), schedule(c), t.steps(),
        t.warmupSteps(), t.seed(), t.learningRate(), c.fabric().sharedLinks(), BATCHES);
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
