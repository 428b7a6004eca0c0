package dev.pipemoe.engine.train;

import java.util.Map;

/**
 * One rank's output, input gradient and every weight gradient (by parameter name) of one forward
 * and backward pass: what must not change when only the schedule changes.
 */
public record Probe(int rank, double loss, float[] output, float[] inputGrad,
    Map<String, float[]> grads) {}
