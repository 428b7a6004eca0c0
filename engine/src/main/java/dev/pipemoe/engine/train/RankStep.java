package dev.pipemoe.engine.train;

import dev.pipemoe.engine.device.OpRecord;
import dev.pipemoe.engine.metrics.StepTimes;
import java.util.List;

/**
 * One rank's account of one training step.
 *
 * @param loss this rank's task loss (mean squared error over its tokens)
 * @param auxLoss the load-balancing loss summed over layers (already multiplied by its coefficient)
 * @param droppedChoices routing choices dropped for lack of capacity, summed over layers
 * @param startNanos when the step began on the fabric clock
 * @param timeline the rank's ops during the step
 */
public record RankStep(int step, int rank, StepTimes times, double loss, double auxLoss,
    long droppedChoices, long startNanos, List<OpRecord> timeline) {}
