package dev.pipemoe.worker.bench;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code --compare-native}: each row's step time predicted on {@code sim:cpu} against the one
 * measured on the native runtime, and per op class the sum of its ops' durations in a rank's step
 * on both timelines, so that a miss can be put on the class the model gets wrong.
 */
final class NativeComparison {
  private NativeComparison() {}

  /** One config on both devices. */
  record Line(String config, double measuredMillis, double predictedMillis,
      Map<OpClass, Double> measuredClasses, Map<OpClass, Double> predictedClasses) {
    /** (predicted - measured) / measured, in per cent. */
    double errorPercent() {
      return 100 * (predictedMillis / measuredMillis - 1);
    }
  }

  static String text(List<Line> lines) {
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
        "| %-26s | %9s | %9s | %7s | %-15s | %-15s | %-15s |%n", "config", "native ms",
        "sim ms", "error", "GEMM ms nat/sim", "memory nat/sim", "collect. nat/sim"));
    sb.append("|----------------------------|-----------|-----------|---------|-----------------"
        + "|-----------------|-----------------|\n");
    for (Line l : lines) {
      sb.append(String.format(Locale.ROOT, "| %-26s | %9.2f | %9.2f | %+6.1f%% | %-15s | %-15s"
              + " | %-15s |%n", l.config(), l.measuredMillis(), l.predictedMillis(),
          l.errorPercent(), pair(l, OpClass.GEMM), pair(l, OpClass.MEMORY),
          pair(l, OpClass.COLLECTIVE)));
    }
    return sb.toString();
  }

  private static String pair(Line l, OpClass c) {
    return String.format(Locale.ROOT, "%.2f / %.2f", l.measuredClasses().get(c),
        l.predictedClasses().get(c));
  }
}
