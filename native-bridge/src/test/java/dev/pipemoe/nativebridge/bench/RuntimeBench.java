package dev.pipemoe.nativebridge.bench;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.pipemoe.engine.device.Communicator;
import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Distribution;
import dev.pipemoe.engine.device.LinkModel;
import dev.pipemoe.engine.device.OpRecord;
import dev.pipemoe.engine.device.Stream;
import dev.pipemoe.engine.device.Tensor;
import dev.pipemoe.nativebridge.NativeFabric;
import dev.pipemoe.nativebridge.NativeLibrary;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Benchmark of the native runtime (not a test): (a) GEMM through Device.gemm against bare
 * cblas_sgemm through FFM, 1 rank and 2 ranks at once; (b) enqueue overhead of a tiny op; (c)
 * modelled vs achieved collectives. Run (after ./mvnw -B -pl native-bridge -am test-compile):
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp native-bridge/target/test-classes:native-bridge/target/classes:engine/target/classes \
 *     dev.pipemoe.nativebridge.bench.RuntimeBench
 * </pre>
 */
public final class RuntimeBench {
  static final int[][] SHAPES = {{256, 256, 256}, {512, 512, 2048}, {1024, 1024, 1024}, {256, 1024, 4096}};
  static MethodHandle sgemm;

  public static void main(String[] args) throws Throwable {
    SymbolLookup blas = SymbolLookup.libraryLookup(NativeLibrary.directory().resolve("libopenblas.so.0"), Arena.global());
    Linker linker = Linker.nativeLinker();
    sgemm = linker.downcallHandle(blas.find("cblas_sgemm").orElseThrow(), FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT,
        JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_FLOAT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_FLOAT, ADDRESS,
        JAVA_INT));
    MethodHandle threads = linker.downcallHandle(blas.find("openblas_set_num_threads").orElseThrow(),
        FunctionDescriptor.ofVoid(JAVA_INT));
    try (NativeFabric f = NativeFabric.open(2, LinkModel.unmodelled())) {
      threads.invokeExact(1);  // the runtime's policy, for both sides
      System.out.println("(a) GEMM, GFLOP/s, 1 BLAS thread per call");
      System.out.println("| m x n x k | ranks | runtime | bare cblas_sgemm | ratio |");
      System.out.println("|---|---|---|---|---|");
      for (int[] s : SHAPES) {
        for (int ranks : new int[] {1, 2}) {
          double rt = concurrently(ranks, r -> runtimeGemm(f.device(r), s));
          double bare = concurrently(ranks, r -> bareGemm(s));
          System.out.printf("| %dx%dx%d | %d | %.1f | %.1f | %.2f |%n", s[0], s[1], s[2], ranks, rt, bare, rt / bare);
        }
      }
      enqueueOverhead(f.device(0));
    }
    collectives();
  }

  interface PerRank {
    double run(int rank) throws Throwable;
  }

  /** Runs body on `ranks` threads at once; the summed rate (GFLOP/s per rank, averaged). */
  static double concurrently(int ranks, PerRank body) throws Exception {
    double[] out = new double[ranks];
    CountDownLatch start = new CountDownLatch(1);
    Thread[] ts = new Thread[ranks];
    for (int r = 0; r < ranks; r++) {
      int rank = r;
      ts[r] = new Thread(() -> {
        try {
          start.await();
          out[rank] = body.run(rank);
        } catch (Throwable t) {
          throw new RuntimeException(t);
        }
      });
      ts[r].start();
    }
    start.countDown();
    double sum = 0;
    for (int r = 0; r < ranks; r++) {
      ts[r].join();
      sum += out[r];
    }
    return sum / ranks;
  }

  static int reps(int[] s) {
    return Math.max(3, (int) (4e9 / (2.0 * s[0] * s[1] * s[2])));
  }

  static double runtimeGemm(Device d, int[] s) {
    Stream st = d.computeStream();
    try (Tensor a = d.alloc(DType.F32, s[0], s[2]); Tensor b = d.alloc(DType.F32, s[2], s[1]);
        Tensor c = d.alloc(DType.F32, s[0], s[1])) {
      d.random(st, a, 1, Distribution.UNIFORM, -1, 1);
      d.random(st, b, 2, Distribution.UNIFORM, -1, 1);
      d.gemm(st, false, false, 1f, a, b, 0f, c);  // warm-up
      d.synchronize();
      int reps = reps(s);
      long t0 = System.nanoTime();
      for (int i = 0; i < reps; i++) {
        d.gemm(st, false, false, 1f, a, b, 0f, c);
      }
      d.synchronize();
      return 2.0 * s[0] * s[1] * s[2] * reps / (System.nanoTime() - t0);
    }
  }

  static double bareGemm(int[] s) throws Throwable {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment a = arena.allocate(4L * s[0] * s[2], 64), b = arena.allocate(4L * s[2] * s[1], 64);
      MemorySegment c = arena.allocate(4L * s[0] * s[1], 64);
      for (long i = 0; i < a.byteSize() / 4; i++) {
        a.setAtIndex(JAVA_FLOAT, i, (i % 7) * 0.1f);
      }
      for (long i = 0; i < b.byteSize() / 4; i++) {
        b.setAtIndex(JAVA_FLOAT, i, (i % 5) * 0.1f);
      }
      int reps = reps(s);
      long t0 = 0;
      for (int i = -1; i < reps; i++) {  // i = -1 warms up
        if (i == 0) {
          t0 = System.nanoTime();
        }
        sgemm.invokeExact(101, 111, 111, s[0], s[1], s[2], 1f, a, s[2], b, s[1], 0f, c, s[1]);
      }
      return 2.0 * s[0] * s[1] * s[2] * reps / (System.nanoTime() - t0);
    }
  }

  static void enqueueOverhead(Device d) {
    Stream s = d.computeStream();
    Tensor x = d.alloc(DType.F32, 1);
    int n = 100_000;
    for (int round = 0; round < 3; round++) {  // the last round is the steady state
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        d.scale(s, 1f, x);
      }
      long enqueued = System.nanoTime();
      d.synchronize();
      long done = System.nanoTime();
      d.drainTimeline();
      if (round == 2) {
        System.out.printf("%n(b) enqueue overhead, scale on 1 element x %d: %.0f ns/op enqueue, %.0f ns/op until all ran%n",
            n, (enqueued - t0) / (double) n, (done - t0) / (double) n);
      }
    }
  }

  static void collectives() throws Exception {
    double bw = 50e6, alpha = 2e-3;
    System.out.printf("%n(c) collectives on the local fabric, link set 0: %.0f MB/s, alpha %.0f ms; kappa 1.5%n",
        bw / 1e6, alpha * 1e3);
    System.out.println("| collective | ranks | in per rank | bytes sent | modelled ms | achieved ms | achieved/modelled |");
    System.out.println("|---|---|---|---|---|---|---|");
    String[] kinds = {"all_to_all", "all_gather", "reduce_scatter", "all_reduce"};
    for (int p : new int[] {2, 4}) {
      for (int rows : new int[] {64, 1024}) {
        for (String kind : kinds) {
          report(kind, p, rows, bw, alpha, false);
        }
      }
    }
    report("all_to_all", 2, 1024, bw, alpha, true);
  }

  /** Rank 0's records of one collective (two when shared: two groups on link set 0 at once). */
  static void report(String kind, int p, int rows, double bw, double alpha, boolean shared) throws Exception {
    int m = 256;
    LinkModel model = new LinkModel(1.5, List.of(new LinkModel.Link(0, bw, alpha)));
    try (NativeFabric f = NativeFabric.open(p, model)) {
      List<OpRecord>[] recs = new List[p];
      concurrently(p, r -> {
        Device d = f.device(r);
        int[] all = new int[p];
        for (int i = 0; i < p; i++) {
          all[i] = i;
        }
        Communicator c = d.newCommunicator("g", all, 0), c2 = d.newCommunicator("g2", all, 0);
        long outRows = kind.equals("all_gather") ? (long) rows * p : kind.equals("reduce_scatter") ? rows / p : rows;
        Tensor in = d.alloc(DType.F32, rows, m), out = d.alloc(DType.F32, outRows, m);
        Tensor in2 = d.alloc(DType.F32, rows, m), out2 = d.alloc(DType.F32, outRows, m);
        Stream s = d.computeStream();
        issue(d, kind, s, c, in, out);
        if (shared) {
          issue(d, kind, s, c2, in2, out2);
        }
        d.synchronize();
        recs[r] = d.drainTimeline().stream().filter(o -> o.op().equals(kind)).toList();
        return 0;
      });
      for (OpRecord o : recs[0]) {
        System.out.printf("| %s%s | %d | %d kB | %d kB | %.2f | %.2f | %.2f |%n", kind, shared ? " (2 groups, shared link)" : "",
            p, rows * m * 4 / 1024, o.bytes() / 1024, o.modelledNanos() / 1e6, o.durationNanos() / 1e6,
            o.durationNanos() / (double) o.modelledNanos());
      }
    }
  }

  static void issue(Device d, String kind, Stream s, Communicator c, Tensor in, Tensor out) {
    switch (kind) {
      case "all_to_all" -> d.allToAll(s, c, in, out, null);
      case "all_gather" -> d.allGather(s, c, in, out, null);
      case "reduce_scatter" -> d.reduceScatter(s, c, in, out, null);
      default -> d.allReduce(s, c, in, out, null);
    }
  }
}
