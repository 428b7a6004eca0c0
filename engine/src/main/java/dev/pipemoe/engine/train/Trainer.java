package dev.pipemoe.engine.train;

import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Fabric;
import dev.pipemoe.engine.moe.Param;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;

/**
 * Runs a {@link TrainingPlan} SPMD: one thread per rank this process owns ({@link
 * Fabric#localRanks()}), each with its own device of the fabric. Those ranks start every step
 * together (the fabric's host barrier), so a cancellation seen between two steps stops all of them
 * at the same step; a fabric spanning processes must make that decision agree across them too. If
 * one rank fails, the fabric is closed so that the others' pending collectives fail instead of
 * waiting for it.
 */
public final class Trainer {
  private Trainer() {}

  /** How a run ended. */
  public record Outcome(int stepsCompleted, boolean cancelled) {}

  public static Outcome train(Fabric fabric, TrainingPlan plan, StepListener listener,
      BooleanSupplier cancelRequested) {
    int world = plan.shape().worldSize();
    checkWorld(fabric, world);
    boolean[] stop = new boolean[1];
    int[] completed = new int[1];
    int[] step = {0};
    List<Integer> ranks = fabric.localRanks();
    Fabric.HostBarrier barrier = fabric.newHostBarrier(ranks.size(), () -> {
      stop[0] = step[0] >= plan.steps() || cancelRequested.getAsBoolean();
      if (!stop[0]) {
        completed[0] = step[0];
        step[0]++;
      }
    });
    runRanks(fabric, ranks, barrier::breakBarrier, rank -> {
      try (RankModel model = new RankModel(plan, fabric.device(rank))) {
        model.prepareData();
        for (int s = 0; ; s++) {
          barrier.await(rank);
          if (stop[0]) {
            return null;
          }
          listener.onStep(model.step(s));
        }
      }
    });
    int done = step[0];
    return new Outcome(done, done < plan.steps());
  }

  /** One forward and backward pass on batch 0, read back per rank (for comparing schedules). */
  public static List<Probe> probe(Fabric fabric, TrainingPlan plan) {
    return probe(fabric, plan, false, (d, p) -> {});
  }

  /** A change to a rank's parameter before a probe (a finite-difference check's nudge). */
  public interface ParamEdit {
    void apply(Device device, Param param);
  }

  /**
   * {@link #probe(Fabric, TrainingPlan)} after {@code edit} has seen every parameter of every rank;
   * with {@code reduced} the gradients are summed over their replicas, as before Adam.
   */
  public static List<Probe> probe(Fabric fabric, TrainingPlan plan, boolean reduced,
      ParamEdit edit) {
    int world = plan.shape().worldSize();
    checkWorld(fabric, world);
    return runRanks(fabric, fabric.localRanks(), () -> {}, rank -> {
      try (RankModel model = new RankModel(plan, fabric.device(rank))) {
        model.prepareData();
        model.edit(edit);
        return model.probe(0, reduced);
      }
    });
  }

  /** Every rank's parameters, by name, after {@code plan.steps()} training steps. */
  public static List<Map<String, float[]>> parametersAfter(Fabric fabric, TrainingPlan plan) {
    checkWorld(fabric, plan.shape().worldSize());
    return runRanks(fabric, fabric.localRanks(), () -> {}, rank -> {
      try (RankModel model = new RankModel(plan, fabric.device(rank))) {
        model.prepareData();
        for (int s = 0; s < plan.steps(); s++) {
          model.step(s);
        }
        return model.parameters();
      }
    });
  }

  private interface RankTask<T> {
    T run(int rank) throws Exception;
  }

  /** Runs task on every rank; when one fails, {@code abort} and closing the fabric free the others. */
  private static <T> List<T> runRanks(Fabric fabric, List<Integer> ranks, Runnable abort,
      RankTask<T> task) {
    ExecutorService pool = Executors.newFixedThreadPool(ranks.size(), r -> {
      Thread t = new Thread(r);
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<T>> futures = new ArrayList<>();
      for (int r : ranks) {
        futures.add(pool.submit(() -> {
          Thread.currentThread().setName("rank-" + r);
          try {
            return fabric.runRank(r, () -> task.run(r));
          } catch (Throwable e) {
            // peers blocked in collectives with this rank fail fast instead of timing out
            abort.run();
            fabric.close();
            throw e;
          }
        }));
      }
      List<T> results = new ArrayList<>();
      Throwable first = null;
      for (Future<T> f : futures) {
        try {
          results.add(f.get());
        } catch (ExecutionException e) {
          first = first == null ? e.getCause() : first;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while training", e);
        }
      }
      if (first != null) {
        throw first instanceof RuntimeException re ? re
            : new IllegalStateException("a rank failed: " + first, first);
      }
      return results;
    } finally {
      pool.shutdownNow();
    }
  }

  private static void checkWorld(Fabric fabric, int world) {
    if (fabric.worldSize() != world) {
      throw new IllegalArgumentException("the plan needs " + world + " ranks (TP x CP x DP), the fabric has "
          + fabric.worldSize());
    }
  }
}
