package dev.pipemoe.engine.train;

import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Distribution;
import dev.pipemoe.engine.device.Fabric;
import dev.pipemoe.engine.device.OpRecord;
import dev.pipemoe.engine.device.Stream;
import dev.pipemoe.engine.device.Tensor;
import dev.pipemoe.engine.moe.LayerShape;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Function;

/**
 * GEMM rates measured on the device's own timeline while every rank runs the same GEMM at once:
 * ranks share the CPU's cores, so this is the per-rank rate of a loaded machine, the one training
 * sees; {@link #expert} measures the job's own expert GEMM (all of a local expert's gathered rows
 * against its W1 shard).
 */
public final class GemmRate {
  private static final int WARMUP = 1;
  private static final int REPEATS = 4;

  private GemmRate() {}

  /** The per-rank rate of the job's first expert GEMM, FLOP/s. */
  public static double expert(Fabric fabric, LayerShape shape) {
    return measure(fabric, shape.gatheredRows(shape.capacity()), shape.hidden(),
        shape.ffnShard());
  }

  /** FLOP/s per rank of [rows, m] x [m, n], averaged over ranks. */
  static double measure(Fabric fabric, long rows, long m, long n) {
    double flops = 2.0 * rows * m * n;
    return onEveryRank(fabric, "gemm-rate", d -> flops / meanGemmNanos(d, rows, m, n) * 1e9)
        .stream().mapToDouble(Double::doubleValue).average().orElseThrow();
  }

  /**
   * Runs {@code body} on every rank's device at once, a thread each, as training loads the cores;
   * the results in no particular order. A rank's failure is rethrown.
   */
  public static <T> List<T> onEveryRank(Fabric fabric, String name, Function<Device, T> body) {
    ConcurrentLinkedQueue<T> results = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<RuntimeException> failures = new ConcurrentLinkedQueue<>();
    Thread[] threads = new Thread[fabric.worldSize()];
    for (int r = 0; r < threads.length; r++) {
      Device d = fabric.device(r);
      threads[r] = Thread.ofPlatform().name(name + "-" + r).start(() -> {
        try {
          results.add(body.apply(d));
        } catch (RuntimeException e) {
          failures.add(e);
        }
      });
    }
    for (Thread t : threads) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while measuring " + name, e);
      }
    }
    if (!failures.isEmpty()) {
      throw failures.peek();
    }
    return List.copyOf(results);
  }

  private static double meanGemmNanos(Device d, long rows, long m, long n) {
    Stream s = d.computeStream();
    try (Tensor x = d.alloc(DType.F32, rows, m);
        Tensor w = d.alloc(DType.F32, n, m);
        Tensor out = d.alloc(DType.F32, rows, n)) {
      d.random(s, x, 1, Distribution.NORMAL, 0f, 1f);
      d.random(s, w, 2, Distribution.NORMAL, 0f, 1f);
      for (int i = 0; i < WARMUP; i++) {
        d.gemm(s, false, true, 1f, x, w, 0f, out);
      }
      d.synchronize();
      d.drainTimeline();
      d.label("gemm-rate");
      for (int i = 0; i < REPEATS; i++) {
        d.gemm(s, false, true, 1f, x, w, 0f, out);
      }
      d.synchronize();
      d.label(null);
      List<OpRecord> records = d.drainTimeline();
      return records.stream().filter(r -> r.op().equals("gemm"))
          .mapToLong(OpRecord::durationNanos).average().orElseThrow();
    }
  }
}
