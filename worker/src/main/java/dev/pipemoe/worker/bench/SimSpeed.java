package dev.pipemoe.worker.bench;

import dev.pipemoe.engine.config.EngineConfig;
import dev.pipemoe.engine.sim.SimFabric;
import dev.pipemoe.engine.train.JobRunner;
import dev.pipemoe.engine.train.Trainer;
import dev.pipemoe.engine.train.TrainingPlan;
import dev.pipemoe.worker.run.FabricChoice;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;

/**
 * {@code bench --device sim:PROFILE [flags] --speed}: how many configs a second the simulated
 * device predicts, one config being one training step (forward, backward, gradient reduction,
 * optimizer) of the job on every rank, simulated symmetrically (rank 0 standing for all, exact on
 * regular layouts: docs/engine.md, "Speed"). Five rounds of at least a second each; min, median
 * and max, after three seconds of warm-up.
 * Run it under {@code taskset -c 0} for the one-core figure (docs/benchmarks.md).
 */
final class SimSpeed {
  private SimSpeed() {}

  static void run(EngineConfig config, FabricChoice device, PrintStream out) {
    TrainingPlan plan = JobRunner.plan(config).withSteps(1);
    long warm = System.nanoTime();
    while (System.nanoTime() - warm < 3_000_000_000L) {
      once(plan, device);  // warm-up: class loading and the JIT's compiled code
    }
    double[] rates = new double[5];
    for (int round = 0; round < rates.length; round++) {
      long start = System.nanoTime();
      int n = 0;
      while (System.nanoTime() - start < 1_000_000_000L) {
        once(plan, device);
        n++;
      }
      rates[round] = n / ((System.nanoTime() - start) * 1e-9);
    }
    Arrays.sort(rates);
    out.printf(Locale.ROOT, "| device | ranks | configs/s min | median | max |%n");
    out.printf(Locale.ROOT, "|---|---|---|---|---|%n");
    out.printf(Locale.ROOT, "| %s | %d | %.1f | %.1f | %.1f |%n", device.name(),
        config.worldSize(), rates[0], rates[2], rates[4]);
  }

  /** One config on a symmetric fabric: rank 0 stands for every rank (the layout is regular). */
  private static void once(TrainingPlan plan, FabricChoice device) {
    try (var fabric = new SimFabric(plan.shape().worldSize(), device.profile(), false, true)) {
      Trainer.train(fabric, plan, s -> {}, () -> false);
    }
  }
}
