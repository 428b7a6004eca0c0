package dev.pipemoe.worker.bench;

import dev.pipemoe.engine.train.Probe;
import java.util.List;

/** How far a schedule's results are from serial's: max-norm relative error over everything. */
final class Verify {
  private Verify() {}

  static double maxRelativeError(List<Probe> serial, List<Probe> other) {
    double worst = 0;
    for (int r = 0; r < serial.size(); r++) {
      Probe e = serial.get(r);
      Probe a = other.get(r);
      worst = Math.max(worst, relative(a.output(), e.output()));
      worst = Math.max(worst, relative(a.inputGrad(), e.inputGrad()));
      for (String p : e.grads().keySet()) {
        worst = Math.max(worst, relative(a.grads().get(p), e.grads().get(p)));
      }
      worst = Math.max(worst, Math.abs(a.loss() - e.loss()) / Math.max(Math.abs(e.loss()), 1e-30));
    }
    return worst;
  }

  static double relative(float[] a, float[] b) {
    if (a == null || a.length != b.length) {
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
}
