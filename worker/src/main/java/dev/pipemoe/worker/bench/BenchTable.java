package dev.pipemoe.worker.bench;

import dev.pipemoe.engine.metrics.Flops;
import dev.pipemoe.engine.metrics.StepSplit;
import java.util.List;
import java.util.Locale;

/** Rows from a run's steps; the table and the JSON the bench prints. */
final class BenchTable {
  private BenchTable() {}

  /**
   * @param wholeModel whether the row is a whole model's, whose time split it then carries
   * @param lossHeld whether the run's losses are values (not on a device that models cost only),
   *     so that a whole model's row shows the loss trend
   */
  static BenchRow row(Variants.Variant v, StepStats stats, Flops flops, boolean wholeModel,
      boolean lossHeld, BenchRow serial, Double maxRelError) {
    List<StepStats.JobStep> steps = stats.measured();
    double step = meanStepMillis(stats);
    double compute = mean(steps, StepStats.JobStep::computeBusyNanos) / 1e6;
    double ep = mean(steps, StepStats.JobStep::epBusyNanos) / 1e6;
    double tp = mean(steps, StepStats.JobStep::tpBusyNanos) / 1e6;
    double exposed = mean(steps, StepStats.JobStep::exposedNanos) / 1e6;
    long nanos = (long) (step * 1e6);
    Double improvement = null;
    Double hidden = null;
    if (serial != null) {
      improvement = 100 * (serial.stepMillis() / step - 1);
      double ideal = serial.stepMillis()
          - Math.max(serial.computeMillis(), serial.epMillis() + serial.tpMillis());
      hidden = ideal > 0 ? (serial.stepMillis() - step) / ideal : null;
    }
    var pe = v.config().pipeExperts();
    return new BenchRow(v.name(), v.isSerial() ? "serial" : pe.family().jsonName(),
        pe.multiStream(), pe.multiData(), steps.size(), step, compute, ep, tp,
        Flops.tflops(flops.model(), nanos), Flops.tflops(flops.hardware(), nanos), improvement,
        100 * exposed / step, hidden, steps.get(steps.size() - 1).loss(), maxRelError,
        wholeModel ? stats.measuredSplit() : null,
        wholeModel && lossHeld ? BenchRow.LossTrend.of(stats.steps().stream().map(StepStats.JobStep::loss)
            .toList()) : null);
  }

  /** The mean step time over the measured steps, ms (a step lasts as long as its slowest rank). */
  static double meanStepMillis(StepStats stats) {
    return mean(stats.measured(), s -> s.stepNanos()) / 1e6;
  }

  private interface Field {
    double of(StepStats.JobStep s);
  }

  private static double mean(List<StepStats.JobStep> steps, Field f) {
    return steps.stream().mapToDouble(f::of).average().orElseThrow();
  }

  static String text(List<BenchRow> rows) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT,
        "| %-26s | %9s | %11s | %9s | %9s | %9s | %11s | %9s | %10s |%n", "config",
        "step ms", "TFLOPs/dev", "vs serial", "exposed", "hidden", "compute ms", "comm ms",
        "max rel err"));
    sb.append("|----------------------------|-----------|-------------|-----------|-----------"
        + "|-----------|-------------|-----------|------------|\n");
    for (BenchRow r : rows) {
      sb.append(String.format(Locale.ROOT,
          "| %-26s | %9.1f | %11.4g | %9s | %8.1f%% | %9s | %11.1f | %9.1f | %10s |%n",
          r.config(), r.stepMillis(), r.tflops(),
          r.improvementPercent() == null ? "-"
              : String.format(Locale.ROOT, "%+.1f%%", r.improvementPercent()),
          r.exposedCommPercent(),
          r.hiddenShare() == null ? "-" : String.format(Locale.ROOT, "%.0f%%",
              100 * r.hiddenShare()),
          r.computeMillis(), r.epMillis() + r.tpMillis(),
          r.maxRelError() == null ? "-" : String.format(Locale.ROOT, "%.1e", r.maxRelError())));
    }
    return sb.toString();
  }

  /**
   * The whole-model rows: model and hardware TFLOP/s per device, and the time split in ms per part
   * (mean over ranks and measured steps; the parts add up to the ranks' mean step time); empty when
   * no row is a whole model's (a MoE stack's output stays as it was).
   */
  static String wholeModelText(List<BenchRow> rows) {
    if (rows.stream().allMatch(r -> r.split() == null)) {
      return "";
    }
    StringBuilder sb = new StringBuilder("whole model: TFLOP/s per device (model: Megatron's count;"
        + " hardware: as computed) and the time split of the step, ms (mean over ranks and measured"
        + " steps; docs/engine.md):\n");
    sb.append(String.format(Locale.ROOT, "| %-26s | %11s | %11s | %23s |", "config", "TFLOPs/dev",
        "hw TFLOPs", "loss first -> last (n)"));
    StringBuilder rule = new StringBuilder("|----------------------------|-------------|"
        + "-------------|-------------------------|");
    for (StepSplit.Part p : StepSplit.Part.values()) {
      sb.append(String.format(Locale.ROOT, " %12s |", p.label()));
      rule.append("--------------|");
    }
    sb.append('\n').append(rule).append('\n');
    for (BenchRow r : rows) {
      if (r.split() == null) {
        continue;
      }
      sb.append(String.format(Locale.ROOT, "| %-26s | %11.4g | %11.4g | %23s |", r.config(),
          r.tflops(), r.hardwareTflops(), trend(r.lossTrend())));
      for (StepSplit.Part p : StepSplit.Part.values()) {
        sb.append(String.format(Locale.ROOT, " %12.3f |", 1e3 * p.of(r.split())));
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  /** "5.512 -> 1.203 (20)": the loss's first and last means, over n steps each. */
  private static String trend(BenchRow.LossTrend t) {
    return t == null ? "-" : String.format(Locale.ROOT, "%.4g -> %.4g (%d)", t.first(), t.last(),
        t.window());
  }

  static String json(List<BenchRow> rows) {
    StringBuilder sb = new StringBuilder("[\n");
    for (int i = 0; i < rows.size(); i++) {
      BenchRow r = rows.get(i);
      sb.append(String.format(Locale.ROOT, "  {\"config\": \"%s\", \"family\": \"%s\","
              + " \"multiStream\": %s, \"multiData\": %d, \"steps\": %d, \"stepMillis\": %.4f,"
              + " \"computeBusyMillis\": %.4f, \"epBusyMillis\": %.4f, \"tpBusyMillis\": %.4f,"
              + " \"tflopsPerDevice\": %.9f, \"hardwareTflopsPerDevice\": %.9f,"
              + " \"improvementPercent\": %s, \"exposedCommPercent\": %.4f,"
              + " \"hiddenShare\": %s, \"loss\": %.8g, \"maxRelError\": %s%s}%s%n",
          r.config(), r.family(), r.multiStream(), r.multiData(), r.steps(), r.stepMillis(),
          r.computeMillis(), r.epMillis(), r.tpMillis(), r.tflops(), r.hardwareTflops(),
          num(r.improvementPercent()), r.exposedCommPercent(), num(r.hiddenShare()), r.loss(),
          num(r.maxRelError()), splitJson(r.split()) + trendJson(r.lossTrend()),
          i < rows.size() - 1 ? "," : ""));
    }
    return sb.append("]\n").toString();
  }

  /** {@code , "splitMillis": {"attention": …, …}} for a whole model, nothing for a MoE stack. */
  private static String splitJson(StepSplit split) {
    if (split == null) {
      return "";
    }
    StringBuilder sb = new StringBuilder(", \"splitMillis\": {");
    for (StepSplit.Part p : StepSplit.Part.values()) {
      sb.append(p.ordinal() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "\"%s\": %.6f",
          p.label(), 1e3 * p.of(split)));
    }
    return sb.append('}').toString();
  }

  /** {@code , "lossTrend": {...}} for a whole model, nothing for a MoE stack. */
  private static String trendJson(BenchRow.LossTrend t) {
    return t == null ? "" : String.format(Locale.ROOT,
        ", \"lossTrend\": {\"window\": %d, \"firstMean\": %.8g, \"lastMean\": %.8g}",
        t.window(), t.first(), t.last());
  }

  private static String num(Double d) {
    return d == null || d.isNaN() || d.isInfinite() ? "null" : String.format(Locale.ROOT, "%.6g", d);
  }
}
