package dev.pipemoe.e2e;

/**
 * Jobs small enough for two shared cores and long enough to act on mid-run: 4 ranks (EP 4 over DP
 * 4) at hidden 64, so that computing a step takes about a millisecond, and an emulated fabric whose
 * communication takes {@code commRatio} times as long. The fabric waits rather than computes, so a
 * step lasts tens of milliseconds without loading the cores (docs/engine.md, "Calibration").
 */
final class JobSpecs {
  static final int RANKS = 4;
  static final int WARMUP = 2;

  private JobSpecs() {}

  /** A job of {@code steps} steps, each about commRatio x 0.25 ms long (e.g. 300: ~70 ms). */
  static String job(String name, int steps, int commRatio) {
    return """
        {"name": "%s",
         "model": {"moeModelType": "deepspeed_moe", "numExperts": 4, "hiddenSize": 64, "ffnHiddenSize": 128,
                   "seqLength": 64},
         "parallel": {"expert": 4, "data": 4},
         "pipeExperts": {"enabled": true, "multiData": 2},
         "training": {"steps": %d, "warmupSteps": %d},
         "fabric": {"commRatio": %d},
         "resources": {"deviceType": "cpu", "devices": %d}}
        """.formatted(name, steps, WARMUP, commRatio, RANKS);
  }

  /** A quick job: steps of a few milliseconds. */
  static String quick(String name, int steps) {
    return job(name, steps, 20);
  }

  /** Steps of about 70 ms: long enough to kill, stop or cancel mid-run. */
  static String slow(String name, int steps) {
    return job(name, steps, 300);
  }
}
