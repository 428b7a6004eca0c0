package dev.pipemoe.engine.train;

import java.util.List;
import java.util.Map;

/**
 * One rank's output, input gradient and every weight gradient (by parameter name) of one forward
 * and backward pass: what must not change when only the schedule changes.
 */
public record Probe(int rank, double loss, float[] output, float[] inputGrad,
    Map<String, float[]> grads) {

  /**
   * max |a - b| / max |b|: the bound is relative to the tensor's scale; a reference of zeros (E = 1
   * gives the router no gradient) must be matched exactly.
   */
  public static double relativeError(float[] a, float[] b) {
    if (a == null || b == null || a.length != b.length) {
      return Double.POSITIVE_INFINITY;
    }
    double diff = 0;
    double scale = 0;
    for (int i = 0; i < a.length; i++) {
      diff = Math.max(diff, Math.abs((double) a[i] - b[i]));
      scale = Math.max(scale, Math.abs((double) b[i]));
    }
    return scale == 0 ? (diff == 0 ? 0 : Double.POSITIVE_INFINITY) : diff / scale;
  }

  /** The largest relative error of {@code actual} against {@code expected}, over everything. */
  public static double maxRelativeError(List<Probe> expected, List<Probe> actual) {
    if (expected.size() != actual.size()) {
      return Double.POSITIVE_INFINITY;
    }
    double worst = 0;
    for (int r = 0; r < expected.size(); r++) {
      Probe e = expected.get(r);
      Probe a = actual.get(r);
      worst = Math.max(worst, relativeError(a.output(), e.output()));
      worst = Math.max(worst, relativeError(a.inputGrad(), e.inputGrad()));
      for (var g : e.grads().entrySet()) {
        worst = Math.max(worst, relativeError(a.grads().get(g.getKey()), g.getValue()));
      }
      worst = Math.max(worst, Math.abs(a.loss() - e.loss()) / Math.max(Math.abs(e.loss()), 1e-30));
    }
    return worst;
  }
}
