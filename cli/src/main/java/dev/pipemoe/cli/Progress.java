package dev.pipemoe.cli;

import tools.jackson.databind.JsonNode;

/**
 * A running attempt as its steps arrive on the stream, and how it looks: a bar for a terminal, a
 * line for a log. The figures are the summary's (docs/service.md §5.3) over the steps seen so far:
 * means over the measured steps (after the warm-up; over every step until there is one), ETA =
 * steps left × mean step time.
 */
final class Progress {
  private final int totalSteps;
  private final int warmupSteps;
  private int attempt;
  private int stepsDone;
  private double tflopsNow = Double.NaN;
  private double tflopsSum;
  private double stepSecondsSum;
  private double exposedSum;
  private int counted;
  private boolean countingMeasured;
  private double loss = Double.NaN;

  Progress(int totalSteps, int warmupSteps) {
    this.totalSteps = totalSteps;
    this.warmupSteps = warmupSteps;
  }

  /** One aggregated step ({@code attempt, step, stepSeconds, tflopsPerDevice, exposedCommSeconds, loss}). */
  void step(JsonNode s) {
    int a = s.path("attempt").asInt();
    if (a != attempt) {
      reset(a);  // a retry starts over: its steps are the ones that count
    }
    int step = s.path("step").asInt();
    stepsDone = Math.max(stepsDone, step + 1);
    double seconds = s.path("stepSeconds").asDouble();
    tflopsNow = s.path("tflopsPerDevice").asDouble();
    if (s.hasNonNull("loss")) {
      loss = s.path("loss").asDouble();
    }
    boolean measured = step >= warmupSteps;
    if (measured && !countingMeasured) {
      countingMeasured = true;  // drop the warm-up steps from the means from here on
      tflopsSum = stepSecondsSum = exposedSum = 0;
      counted = 0;
    }
    if (measured || !countingMeasured) {
      tflopsSum += tflopsNow;
      stepSecondsSum += seconds;
      exposedSum += s.path("exposedCommSeconds").asDouble();
      counted++;
    }
  }

  private void reset(int newAttempt) {
    attempt = newAttempt;
    stepsDone = 0;
    tflopsNow = loss = Double.NaN;
    tflopsSum = stepSecondsSum = exposedSum = 0;
    counted = 0;
    countingMeasured = false;
  }

  int total() {
    return totalSteps;
  }

  int attempt() {
    return attempt;
  }

  int stepsDone() {
    return stepsDone;
  }

  double meanTflops() {
    return counted == 0 ? Double.NaN : tflopsSum / counted;
  }

  double exposedShare() {
    return stepSecondsSum == 0 ? Double.NaN : exposedSum / stepSecondsSum;
  }

  double etaSeconds() {
    return counted == 0 ? Double.NaN : Math.max(0, totalSteps - stepsDone) * stepSecondsSum / counted;
  }

  /** The figures after the step count: ETA, TFLOP/s per device now and mean, exposed share, loss. */
  private String figures() {
    return "ETA " + duration(etaSeconds())
        + "  TFLOP/s/device " + num(tflopsNow, 3) + " now, " + num(meanTflops(), 3) + " mean"
        + "  exposed comm " + percent(exposedShare())
        + "  loss " + num(loss, 4);
  }

  /** The bar for a terminal line of {@code width} columns (cut to fit, so that \r redraws it). */
  String bar(int width, boolean unicode) {
    int cells = 20;
    int filled = totalSteps <= 0 ? 0 : (int) Math.round(cells * Math.min(1.0, (double) stepsDone / totalSteps));
    String line = "[" + (unicode ? "█" : "#").repeat(filled) + (unicode ? "░" : "-").repeat(cells - filled) + "] "
        + stepsDone + "/" + totalSteps + " steps  " + figures();
    return line.length() < width ? line : line.substring(0, Math.max(0, width - 1));
  }

  /** A plain line for logs and pipes. */
  String line() {
    return "step " + stepsDone + "/" + totalSteps + " (attempt " + attempt + ")  " + figures();
  }

  private static String num(double v, int digits) {
    return Double.isNaN(v) ? "?" : Table.sig(v, digits);
  }

  static String percent(double share) {
    return Double.isNaN(share) ? "?" : Table.fixed(share * 100, 1) + " %";
  }

  /** 75 → 1m15s, 3725 → 1h02m; ? while unknown. */
  static String duration(double seconds) {
    if (Double.isNaN(seconds)) {
      return "?";
    }
    long s = Math.round(seconds);
    if (s < 60) {
      return s + "s";
    }
    if (s < 3600) {
      return (s / 60) + "m" + String.format("%02d", s % 60) + "s";
    }
    return (s / 3600) + "h" + String.format("%02d", (s % 3600) / 60) + "m";
  }
}
