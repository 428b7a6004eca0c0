package dev.pipemoe.worker.bench;

import dev.pipemoe.engine.train.RankStep;
import java.io.PrintStream;

/**
 * "config i of n, step s of K, ETA" while a long bench runs: rewritten in place on a terminal,
 * a line per quarter of the run in a log.
 */
final class Progress {
  private static final boolean TERMINAL = System.console() != null;
  private final PrintStream err;
  private final String prefix;
  private final int steps;
  private final long started = System.nanoTime();

  Progress(PrintStream err, int index, int count, String name, int steps) {
    this.err = err;
    this.prefix = String.format("[%d/%d] %-24s", index, count, name);
    this.steps = steps;
  }

  void onStep(RankStep s) {
    if (s.rank() != 0) {
      return;
    }
    double elapsed = (System.nanoTime() - started) / 1e9;
    int done = s.step() + 1;
    double eta = elapsed / done * (steps - done);
    if (TERMINAL) {
      err.printf("\r%s step %d/%d  %.1f s elapsed, ETA %.1f s   ", prefix, done, steps,
          elapsed, eta);
    } else if (done % Math.max(1, steps / 4) == 0 && done < steps) {
      err.printf("%s step %d/%d  %.1f s elapsed, ETA %.1f s%n", prefix, done, steps, elapsed,
          eta);
    }
  }

  void done() {
    err.printf("%s%s done in %.1f s%s%n", TERMINAL ? "\r" : "", prefix,
        (System.nanoTime() - started) / 1e9, TERMINAL ? " ".repeat(30) : "");
  }
}
