package dev.pipemoe.engine.metrics;

import dev.pipemoe.engine.moe.LayerShape;
import dev.pipemoe.engine.train.RankStep;

/**
 * One rank's metrics for one step, in base units: what a worker ships and the service stores
 * (formulas in docs/engine.md, "Metrics per step").
 *
 * @param tflopsPerDevice model FLOPs of the rank's step / step time, in 10^12 FLOP/s
 * @param hardwareTflopsPerDevice the same with capacity padding, router and combine counted
 * @param tokensPerSecond the rank's share of the job's tokens (S under SP, S/TP without) / step
 *     time; the job's rate is the sum over ranks
 * @param droppedTokens routing choices dropped for lack of capacity
 */
public record StepMetrics(int step, int rank, double stepSeconds, double computeBusySeconds,
    double epBusySeconds, double tpBusySeconds, double otherCommBusySeconds,
    double exposedCommSeconds, double tflopsPerDevice, double hardwareTflopsPerDevice,
    double tokensPerSecond, double loss, double auxLoss, long droppedTokens) {

  public static StepMetrics of(RankStep s, LayerShape shape, int layers) {
    StepTimes t = s.times();
    Flops flops = Flops.perRankStep(shape, layers);
    double seconds = t.stepNanos() * 1e-9;
    double tokens = shape.sequenceParallel() ? shape.tokens()
        : (double) shape.tokens() / shape.tensor();
    return new StepMetrics(s.step(), s.rank(), seconds, t.computeBusyNanos() * 1e-9,
        t.epBusyNanos() * 1e-9, t.tpBusyNanos() * 1e-9, t.otherCommBusyNanos() * 1e-9,
        t.exposedCommNanos() * 1e-9, Flops.tflops(flops.model(), t.stepNanos()),
        Flops.tflops(flops.hardware(), t.stepNanos()), seconds > 0 ? tokens / seconds : 0,
        s.loss(), s.auxLoss(), s.droppedChoices());
  }
}
