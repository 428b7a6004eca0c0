package dev.pipemoe.worker.bench;

import dev.pipemoe.engine.metrics.StepSplit;
import java.util.List;

/**
 * One line of the bench table (docs/benchmarks.md explains each column).
 *
 * @param tflops mean model TFLOP/s per device over the measured steps (Megatron's MoE term; for a
 *     whole model, Megatron's whole-model count)
 * @param hardwareTflops the same with what the device computes (capacity padding, router, combine;
 *     for a whole model also attention as computed, the LM head and recompute)
 * @param improvementPercent step-time speed-up over serial: t_serial / t - 1, in per cent
 * @param exposedCommPercent share of the step in which the compute stream was idle
 * @param hiddenShare the saving over serial as a share of the ideal saving, serial's step minus
 *     max(its compute, its communication) (docs/reference.md §7); null for serial
 * @param maxRelError with --verify: the largest max-norm relative error against serial over the
 *     output, input gradient and every weight gradient of every rank; null otherwise
 * @param split for a whole model, where its measured steps went (mean over ranks and steps); null
 *     for a MoE stack, whose table stays as it was
 * @param lossTrend for a whole model, the cross-entropy's mean over the run's first and last
 *     steps; null for a MoE stack
 */
record BenchRow(String config, String family, boolean multiStream, int multiData, int steps,
    double stepMillis, double computeMillis, double epMillis, double tpMillis, double tflops,
    double hardwareTflops, Double improvementPercent, double exposedCommPercent,
    Double hiddenShare, double loss, Double maxRelError, StepSplit split, LossTrend lossTrend) {

  /**
   * Whether training learns: the ranks' mean loss averaged over the first and over the last
   * {@code window} steps of the run (warm-up included: the first steps are where the loss is
   * highest), window = min(20, steps / 2).
   */
  record LossTrend(int window, double first, double last) {
    static LossTrend of(List<Double> losses) {
      int w = Math.min(20, losses.size() / 2);
      if (w == 0) {
        return null;
      }
      double first = losses.subList(0, w).stream().mapToDouble(Double::doubleValue).average()
          .orElseThrow();
      double last = losses.subList(losses.size() - w, losses.size()).stream()
          .mapToDouble(Double::doubleValue).average().orElseThrow();
      return new LossTrend(w, first, last);
    }
  }
}
