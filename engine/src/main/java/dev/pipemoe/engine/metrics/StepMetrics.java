package dev.pipemoe.engine.metrics;

import dev.pipemoe.engine.model.GptShape;
import dev.pipemoe.engine.moe.LayerShape;
import dev.pipemoe.engine.train.RankStep;
import dev.pipemoe.engine.train.TrainingPlan;

/**
 * One rank's metrics for one step, in base units: what a worker ships and the service stores
 * (formulas in docs/engine.md, "Metrics per step").
 *
 * @param tflopsPerDevice model FLOPs of the rank's step / step time, in 10^12 FLOP/s: the MoE-MLP
 *     term for a stack of MoE layers, the whole model's for a GPT ({@link Flops})
 * @param hardwareTflopsPerDevice the same with what the device really computes (capacity padding,
 *     router, combine; for a GPT also attention as computed and recompute)
 * @param tokensPerSecond the rank's share of the job's tokens / step time; the job's rate is the
 *     sum over ranks
 * @param droppedTokens routing choices dropped for lack of capacity
 * @param split where the step went ({@link StepSplit}); null from workers older than the field
 */
public record StepMetrics(int step, int rank, double stepSeconds, double computeBusySeconds,
    double epBusySeconds, double tpBusySeconds, double otherCommBusySeconds,
    double exposedCommSeconds, double tflopsPerDevice, double hardwareTflopsPerDevice,
    double tokensPerSecond, double loss, double auxLoss, long droppedTokens, StepSplit split) {

  /** A record without a split, as workers older than the field send it. */
  public StepMetrics(int step, int rank, double stepSeconds, double computeBusySeconds,
      double epBusySeconds, double tpBusySeconds, double otherCommBusySeconds,
      double exposedCommSeconds, double tflopsPerDevice, double hardwareTflopsPerDevice,
      double tokensPerSecond, double loss, double auxLoss, long droppedTokens) {
    this(step, rank, stepSeconds, computeBusySeconds, epBusySeconds, tpBusySeconds,
        otherCommBusySeconds, exposedCommSeconds, tflopsPerDevice, hardwareTflopsPerDevice,
        tokensPerSecond, loss, auxLoss, droppedTokens, null);
  }

  /**
   * The record of a step of {@code plan}: FLOPs and tokens of the whole model when it has one, else
   * of its stack of MoE layers; the time split of either.
   */
  public static StepMetrics of(RankStep s, TrainingPlan plan) {
    LayerShape shape = plan.shape();
    GptShape gpt = plan.gpt();
    Flops flops = Flops.perRankStep(plan);
    double tokens;
    if (gpt == null) {
      tokens = shape.sequenceParallel() ? shape.tokens() : (double) shape.tokens() / shape.tensor();
    } else {
      // the job's tokens per step, B x s, shared by its ranks
      tokens = Flops.globalBatch(shape, gpt) * gpt.seqLength() / shape.worldSize();
    }
    StepTimes t = s.times();
    double seconds = t.stepNanos() * 1e-9;
    return new StepMetrics(s.step(), s.rank(), seconds, t.computeBusyNanos() * 1e-9,
        t.epBusyNanos() * 1e-9, t.tpBusyNanos() * 1e-9, t.otherCommBusyNanos() * 1e-9,
        t.exposedCommNanos() * 1e-9, Flops.tflops(flops.model(), t.stepNanos()),
        Flops.tflops(flops.hardware(), t.stepNanos()), seconds > 0 ? tokens / seconds : 0,
        s.loss(), s.auxLoss(), s.droppedChoices(), StepSplit.of(s));
  }
}
