package dev.pipemoe.worker.run;

import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Distribution;
import dev.pipemoe.engine.device.Fabric;
import dev.pipemoe.engine.device.LinkModel;
import dev.pipemoe.engine.device.OpRecord;
import dev.pipemoe.engine.device.Stream;
import dev.pipemoe.engine.device.Tensor;
import dev.pipemoe.engine.sim.HardwareProfile;
import dev.pipemoe.engine.train.GemmRate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The {@code cpu} profile, measured by micro-benchmarks on the native runtime (docs/engine.md,
 * "The cpu profile"), so that a simulation can be held against a real run of the same job.
 *
 * <p>Every rank of a fabric of the job's size runs the same benchmarks at once (ranks share the
 * cores, as in training), each on its compute stream's own timeline: a burst of K equal ops is
 * enqueued, and one op costs the burst's span / K, gaps between ops included; the median of {@value
 * #REPEATS} bursts, averaged over ranks. Then, in the cost model's terms (op = launch + work):
 *
 * <ul>
 *   <li>launch: a burst of one-element fills, whose work is nil (after {@value #LAUNCH_WARMUP}
 *       warm-up bursts, so that the host's issue path is compiled, as it is in training);
 *   <li>HBM bandwidth: a 16 MiB copy and axpy, their bytes (every operand read or written) over
 *       their time less launch; the mean of the two;
 *   <li>GEMM: the rate 2mnk / (time - launch) of a large and of thin GEMMs, fitted to rate = P x
 *       m/(m+h) x n/(n+h) x k/(k+h) ({@link #fitGemm}); P is the profile's peak with efficiency 1.
 * </ul>
 *
 * Nothing is fitted to a job's step time: the benchmarks measure ops, the simulation predicts
 * steps.
 */
public final class CpuProfile {
  static final int REPEATS = 5;
  private static final int LAUNCH_OPS = 500;
  /** Warm-up bursts: enough calls for the JIT to compile the host's issue path, as in training. */
  private static final int LAUNCH_WARMUP = 20;
  private static final long MEMORY_ELEMENTS = 4L << 20;
  private static final int MEMORY_OPS = 4;
  /** GEMM shapes (m, n, k): one large, thin ones in each dimension for the half-dimension h. */
  static final int[][] GEMM_SHAPES = {{512, 512, 512}, {128, 512, 512}, {32, 512, 512},
      {8, 512, 512}, {512, 32, 512}, {512, 512, 32}};
  private static final double GEMM_BURST_FLOPS = 1.5e9;
  /**
   * Elementwise ops whose arithmetic, not their bytes, bounds them on a CPU (erf, exp, sqrt,
   * division), timed per element on {@value #ELEMENT_ROWS} x {@value #ELEMENT_COLS} tensors.
   */
  static final List<String> ARITHMETIC_OPS = List.of("gelu", "gelu_backward", "swiglu",
      "swiglu_backward", "softmax", "softmax_backward", "adam");
  private static final int ELEMENT_ROWS = 256;
  private static final int ELEMENT_COLS = 1024;
  private static final int ELEMENT_OPS = 8;

  /** One GEMM shape and the seconds one op of it took. */
  public record GemmSample(int m, int n, int k, double seconds) {
    double flops() {
      return 2.0 * m * n * k;
    }
  }

  /** The fitted GEMM curve: rate = peak x m/(m+h) x n/(n+h) x k/(k+h). */
  public record GemmFit(double peakFlops, double halfDim) {
    public double rate(double m, double n, double k) {
      return peakFlops * m / (m + halfDim) * n / (n + halfDim) * k / (k + halfDim);
    }
  }

  /**
   * What the benchmarks measured, per rank with {@code ranks} ranks running at once.
   *
   * @param gemm per shape, seconds per op (launch included)
   */
  public record Measured(int ranks, double launchSeconds, double copyBytesPerSecond,
      double axpyBytesPerSecond, List<GemmSample> gemm, GemmFit fit,
      java.util.Map<String, Double> elementSeconds) {
    public double hbmBytesPerSecond() {
      return (copyBytesPerSecond + axpyBytesPerSecond) / 2;
    }

    /** One line for the bench header. */
    public String describe() {
      StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
          "measured on the native runtime (%d rank(s) at once, median of %d bursts): launch %.1f"
              + " us/op; copy %.1f GB/s, axpy %.1f GB/s; GEMM fit %.1f GFLOP/s, h = %.1f from",
          ranks, REPEATS, launchSeconds * 1e6, copyBytesPerSecond / 1e9,
          axpyBytesPerSecond / 1e9, fit.peakFlops() / 1e9, fit.halfDim()));
      for (GemmSample s : gemm) {
        sb.append(String.format(Locale.ROOT, " %dx%dx%d %.1f", s.m(), s.n(), s.k(),
            s.flops() / (s.seconds() - launchSeconds) / 1e9));
      }
      sb.append(" GFLOP/s; per element:");
      elementSeconds.forEach((op, sec) -> sb.append(String.format(Locale.ROOT, " %s %.2f ns", op,
          sec * 1e9)));
      return sb.toString();
    }
  }

  private CpuProfile() {}

  /** Runs the benchmarks on a native fabric of {@code ranks} ranks. */
  public static Measured measure(Fabric.Factory nativeFabrics, int ranks) {
    try (Fabric fabric = nativeFabrics.open(ranks, LinkModel.unmodelled())) {
      List<double[]> perRank =
          GemmRate.onEveryRank(fabric, "cpu-profile", CpuProfile::rankTimes);
      double[] mean = new double[perRank.get(0).length];
      for (double[] r : perRank) {
        for (int i = 0; i < mean.length; i++) {
          mean[i] += r[i] / perRank.size();
        }
      }
      return fromTimes(ranks, mean);
    }
  }

  /**
   * The figures from per-op seconds: [launch, copy, axpy, GEMM shapes in {@link #GEMM_SHAPES}
   * order, then the ops of {@link #ARITHMETIC_OPS} in order].
   */
  static Measured fromTimes(int ranks, double[] t) {
    double launch = t[0];
    double copyBytes = 2.0 * MEMORY_ELEMENTS * Float.BYTES;
    double axpyBytes = 3.0 * MEMORY_ELEMENTS * Float.BYTES;
    List<GemmSample> gemm = new ArrayList<>();
    for (int i = 0; i < GEMM_SHAPES.length; i++) {
      int[] s = GEMM_SHAPES[i];
      gemm.add(new GemmSample(s[0], s[1], s[2], t[3 + i]));
    }
    java.util.Map<String, Double> perElement = new java.util.LinkedHashMap<>();
    int base = 3 + GEMM_SHAPES.length;
    for (int i = 0; i < ARITHMETIC_OPS.size() && base + i < t.length; i++) {
      perElement.put(ARITHMETIC_OPS.get(i),
          work(t[base + i], launch) / ((double) ELEMENT_ROWS * ELEMENT_COLS));
    }
    return new Measured(ranks, launch, copyBytes / work(t[1], launch),
        axpyBytes / work(t[2], launch), gemm, fitGemm(gemm, launch), perElement);
  }

  private static double work(double seconds, double launch) {
    return Math.max(seconds - launch, seconds * 1e-3);
  }

  /**
   * Least squares in log space: for each h on a log grid from 0.01 to 10^4 (steps of 0.12 %), log P
   * is the mean of log rate - log(m/(m+h) n/(n+h) k/(k+h)); the h with the smallest squared
   * residual wins. Rates are 2mnk / (seconds - launch), the cost model's GEMM time less its launch.
   */
  public static GemmFit fitGemm(List<GemmSample> samples, double launchSeconds) {
    double best = Double.POSITIVE_INFINITY;
    GemmFit fit = null;
    for (int i = 0; i <= 12_000; i++) {
      double h = 0.01 * Math.pow(10, i * 6.0 / 12_000);
      double sum = 0;
      double[] residual = new double[samples.size()];
      for (int j = 0; j < samples.size(); j++) {
        GemmSample s = samples.get(j);
        double rate = s.flops() / work(s.seconds(), launchSeconds);
        residual[j] = Math.log(rate) - Math.log(new GemmFit(1, h).rate(s.m(), s.n(), s.k()));
        sum += residual[j];
      }
      double logPeak = sum / samples.size();
      double sq = 0;
      for (double r : residual) {
        sq += (r - logPeak) * (r - logPeak);
      }
      if (sq < best) {
        best = sq;
        fit = new GemmFit(Math.exp(logPeak), h);
      }
    }
    return fit;
  }

  /**
   * The {@code cpu} profile with the measured figures and the native job's link model, mapped so
   * that every group lands on the link set it uses natively (docs/engine.md, "The cpu profile"):
   * one link set (EP and TP share) becomes unified links; two (EP on set 0, TP on its own) become
   * separate intra/inter links with one node per TP group, so TP groups move their bytes inside a
   * node and EP groups (and the gradient reductions, on set 0) across nodes. No links: free.
   */
  public static HardwareProfile profile(HardwareProfile base, Measured m, LinkModel links,
      int tensorParallel, int worldSize) {
    HardwareProfile p = base.withCompute(m.fit().peakFlops(), 1.0, m.hbmBytesPerSecond(),
        m.launchSeconds()).withGemmHalfDim(m.fit().halfDim())
        .withElementSeconds(m.elementSeconds());
    List<LinkModel.Link> sets = links.links();
    if (sets.isEmpty()) {
      HardwareProfile.Link free = new HardwareProfile.Link(0, 0);
      return p.withLinks(free, free, true, links.congestion()).withRanksPerNode(worldSize);
    }
    LinkModel.Link ep = sets.stream().filter(l -> l.id() == 0).findFirst().orElse(sets.get(0));
    HardwareProfile.Link epLink = new HardwareProfile.Link(ep.bandwidthBytesPerSecond(),
        ep.latencySeconds());
    if (sets.size() == 1) {
      return p.withLinks(epLink, epLink, true, links.congestion()).withRanksPerNode(worldSize);
    }
    LinkModel.Link tp = sets.stream().filter(l -> l.id() != ep.id()).findFirst().orElseThrow();
    return p.withLinks(new HardwareProfile.Link(tp.bandwidthBytesPerSecond(), tp.latencySeconds()),
        epLink, false, links.congestion()).withRanksPerNode(tensorParallel);
  }

  private static double[] rankTimes(Device d) {
    Stream s = d.computeStream();
    double[] t = new double[3 + GEMM_SHAPES.length + ARITHMETIC_OPS.size()];
    try (Tensor one = d.alloc(DType.F32, 1)) {
      t[0] = perOp(d, LAUNCH_WARMUP, LAUNCH_OPS, () -> d.fill(s, one, 0f));
    }
    try (Tensor x = d.alloc(DType.F32, MEMORY_ELEMENTS);
        Tensor y = d.alloc(DType.F32, MEMORY_ELEMENTS)) {
      d.fill(s, x, 1f);
      d.fill(s, y, 0f);
      t[1] = perOp(d, 1, MEMORY_OPS, () -> d.copy(s, x, y));
      t[2] = perOp(d, 1, MEMORY_OPS, () -> d.axpy(s, 1e-6f, x, y));
    }
    for (int i = 0; i < GEMM_SHAPES.length; i++) {
      int m = GEMM_SHAPES[i][0];
      int n = GEMM_SHAPES[i][1];
      int k = GEMM_SHAPES[i][2];
      int ops = (int) Math.clamp(GEMM_BURST_FLOPS / (2.0 * m * n * k), 2, 64);
      try (Tensor a = d.alloc(DType.F32, m, k);
          Tensor b = d.alloc(DType.F32, n, k);
          Tensor c = d.alloc(DType.F32, m, n)) {
        d.random(s, a, 1, Distribution.NORMAL, 0f, 1f);
        d.random(s, b, 2, Distribution.NORMAL, 0f, 1f);
        t[3 + i] = perOp(d, 1, ops, () -> d.gemm(s, false, true, 1f, a, b, 0f, c));
      }
    }
    int base = 3 + GEMM_SHAPES.length;
    try (Tensor a = d.alloc(DType.F32, ELEMENT_ROWS, ELEMENT_COLS);
        Tensor b = d.alloc(DType.F32, ELEMENT_ROWS, ELEMENT_COLS);
        Tensor c = d.alloc(DType.F32, ELEMENT_ROWS, ELEMENT_COLS);
        Tensor e = d.alloc(DType.F32, ELEMENT_ROWS, ELEMENT_COLS);
        Tensor f = d.alloc(DType.F32, ELEMENT_ROWS, ELEMENT_COLS)) {
      d.random(s, a, 3, Distribution.NORMAL, 0f, 1f);
      d.random(s, b, 4, Distribution.NORMAL, 0f, 1f);
      d.random(s, c, 5, Distribution.NORMAL, 0f, 1f);
      d.fill(s, e, 0f);
      d.fill(s, f, 0f);
      dev.pipemoe.engine.device.AdamParams adam = dev.pipemoe.engine.device.AdamParams.of(1e-3f);
      Runnable[] ops = {
          () -> d.gelu(s, a, b),
          () -> d.geluBackward(s, a, c, e),
          () -> d.swiglu(s, a, b, e),
          () -> d.swigluBackward(s, a, b, c, e, f),
          () -> d.softmax(s, a, e),
          () -> d.softmaxBackward(s, b, c, e),
          () -> d.adam(s, f, c, a, b, adam, 1)};
      for (int i = 0; i < ops.length; i++) {
        t[base + i] = perOp(d, 1, ELEMENT_OPS, ops[i]);
      }
    }
    return t;
  }

  /** The median over bursts of a burst's span / ops, after warm-up bursts. */
  private static double perOp(Device d, int warmup, int ops, Runnable op) {
    double[] perOp = new double[REPEATS];
    for (int r = -warmup; r < REPEATS; r++) {
      d.synchronize();
      d.drainTimeline();
      for (int i = 0; i < ops; i++) {
        op.run();
      }
      d.synchronize();
      List<OpRecord> burst = d.drainTimeline();
      if (r >= 0) {
        long start = burst.stream().mapToLong(OpRecord::startNanos).min().orElseThrow();
        long end = burst.stream().mapToLong(OpRecord::endNanos).max().orElseThrow();
        perOp[r] = (end - start) / 1e9 / ops;
      }
    }
    Arrays.sort(perOp);
    return perOp[REPEATS / 2];
  }
}
