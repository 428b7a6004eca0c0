package dev.pipemoe.nativebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pipemoe.engine.device.AdamParams;
import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.Distribution;
import dev.pipemoe.engine.device.LinkModel;
import dev.pipemoe.engine.device.Stream;
import dev.pipemoe.engine.device.Tensor;
import dev.pipemoe.engine.moe.HostRandom;
import java.util.Random;
import java.util.function.DoubleBinaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every op through FFM against a Java reference that accumulates in double, on seeded random inputs
 * at odd sizes. The bound is on the normalised max error, max|got - ref| / max(1, max|ref|): relative
 * for large results, absolute for results below 1 (the inputs are O(1), so a result near 0 comes
 * from cancellation, e.g. GELU's derivative near x = -0.75, where fp32 cannot do better). fp32
 * rounding of a few operations and float libm for erf/exp stay well below it.
 */
class OpsTest {
  static final double BOUND = 1e-5;
  static NativeFabric fabric;
  static Device d;
  static Stream s;
  /** Inputs are seeded, so a failure reproduces; -Dpipemoe.test.seed=N explores others. */
  static final long SEED = Long.getLong("pipemoe.test.seed", 20261204L);
  final Random rnd = new Random(SEED);

  @BeforeAll
  static void open() {
    fabric = NativeFabric.open(1, LinkModel.unmodelled());
    d = fabric.device(0);
    s = d.computeStream();
  }

  @AfterAll
  static void close() {
    fabric.close();
  }

  float[] random(int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = rnd.nextFloat() * 4 - 2;
    }
    return v;
  }

  Tensor with(float[] v, long... shape) {
    Tensor t = d.alloc(DType.F32, shape);
    d.write(t, v);
    return t;
  }

  Tensor withInts(int[] v, long... shape) {
    Tensor t = d.alloc(DType.I32, shape);
    d.write(t, v);
    return t;
  }

  float[] read(Tensor t) {
    d.synchronize();
    return d.readFloats(t);
  }

  static void assertClose(String what, float[] got, double[] ref) {
    assertThat(got).as(what).hasSize(ref.length);
    double err = 0, scale = 1;
    for (int i = 0; i < ref.length; i++) {
      err = Math.max(err, Math.abs(got[i] - ref[i]));
      scale = Math.max(scale, Math.abs(ref[i]));
    }
    assertThat(err / scale).as(what + ": normalised max error").isLessThanOrEqualTo(BOUND);
  }

  @Test
  void gemmWithTransposesAndBatches() {
    int[][] shapes = {{1, 1, 1}, {3, 17, 33}, {33, 65, 17}};
    for (int[] mnk : shapes) {
      for (int t = 0; t < 4; t++) {
        boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
        int m = mnk[0], n = mnk[1], k = mnk[2];
        float[] a = random(m * k), b = random(k * n), c = random(m * n);
        Tensor A = ta ? with(a, k, m) : with(a, m, k), B = tb ? with(b, n, k) : with(b, k, n), C = with(c, m, n);
        d.gemm(s, ta, tb, 0.5f, A, B, 2f, C);
        double[] ref = new double[m * n];
        for (int i = 0; i < m; i++) {
          for (int j = 0; j < n; j++) {
            double acc = 0;
            for (int l = 0; l < k; l++) {
              acc += (double) (ta ? a[l * m + i] : a[i * k + l]) * (tb ? b[j * k + l] : b[l * n + j]);
            }
            ref[i * n + j] = 0.5 * acc + 2.0 * c[i * n + j];
          }
        }
        assertClose("gemm " + m + "x" + n + "x" + k + " ta=" + ta + " tb=" + tb, read(C), ref);
      }
    }
    // rank 3: b broadcast with batch stride 0
    int batches = 3, m = 4, n = 5, k = 6;
    float[] a = random(batches * m * k), b = random(k * n);
    Tensor A = with(a, batches, m, k), Bb = with(b, k, n), C = d.alloc(DType.F32, batches, m, n);
    d.gemm(s, false, false, 1f, A, d.view(Bb, 0, new long[] {batches, k, n}, new long[] {0, n, 1}), 0f, C);
    double[] ref = new double[batches * m * n];
    for (int z = 0; z < batches; z++) {
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          for (int l = 0; l < k; l++) {
            ref[(z * m + i) * n + j] += (double) a[(z * m + i) * k + l] * b[l * n + j];
          }
        }
      }
    }
    assertClose("batched gemm", read(C), ref);
  }

  interface Op {
    void run(Tensor[] in, Tensor[] out);
  }

  interface Ref {
    double at(double[] x, int output);
  }

  /** Elementwise op on every odd shape, and on a strided [33,65] view of a [33,80] buffer. */
  void elementwise(String name, int inputs, int outputs, Op op, Ref ref) {
    long[][] shapes = {{1}, {3}, {17}, {33, 65}, {2, 3, 17}, null};
    for (long[] shape : shapes) {
      boolean strided = shape == null;
      long[] sh = strided ? new long[] {33, 65} : shape;
      int n = 1;
      for (long x : sh) {
        n *= (int) x;
      }
      Tensor[] in = new Tensor[inputs], out = new Tensor[outputs];
      float[][] vals = new float[inputs][];
      for (int i = 0; i < inputs + outputs; i++) {
        Tensor t = strided ? d.view(d.alloc(DType.F32, 33, 80), 5, sh, new long[] {80, 1}) : d.alloc(DType.F32, sh);
        if (i < inputs) {
          vals[i] = random(n);
          d.write(t, vals[i]);
          in[i] = t;
        } else {
          out[i - inputs] = t;
        }
      }
      op.run(in, out);
      for (int o = 0; o < outputs; o++) {
        double[] want = new double[n];
        for (int e = 0; e < n; e++) {
          double[] x = new double[inputs];
          for (int i = 0; i < inputs; i++) {
            x[i] = vals[i][e];
          }
          want[e] = ref.at(x, o);
        }
        assertClose(name + (strided ? " strided" : " " + n) + " output " + o, read(out[o]), want);
      }
    }
  }

  static double sigmoid(double x) {
    return 1 / (1 + Math.exp(-x));
  }

  static double erf(double x) {  // Abramowitz-Stegun 7.1.26 is too coarse; use the series/continued form
    double t = 1 / (1 + 0.5 * Math.abs(x));
    double y = 1 - t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
        + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
        + t * (-0.82215223 + t * 0.17087277)))))))));
    return x >= 0 ? y : -y;  // Numerical Recipes erfc approximation: relative error < 1.2e-7
  }

  @Test
  void elementwiseOps() {
    elementwise("add", 2, 1, (i, o) -> d.add(s, i[0], i[1], o[0]), (x, o) -> x[0] + x[1]);
    elementwise("gelu", 1, 1, (i, o) -> d.gelu(s, i[0], o[0]), (x, o) -> 0.5 * x[0] * (1 + erf(x[0] / Math.sqrt(2))));
    elementwise("geluBackward", 2, 1, (i, o) -> d.geluBackward(s, i[0], i[1], o[0]), (x, o) -> {
      double cdf = 0.5 * (1 + erf(x[0] / Math.sqrt(2))), pdf = Math.exp(-0.5 * x[0] * x[0]) / Math.sqrt(2 * Math.PI);
      return x[1] * (cdf + x[0] * pdf);
    });
    elementwise("swiglu", 2, 1, (i, o) -> d.swiglu(s, i[0], i[1], o[0]), (x, o) -> x[0] * sigmoid(x[0]) * x[1]);
    elementwise("swigluBackward", 3, 2, (i, o) -> d.swigluBackward(s, i[0], i[1], i[2], o[0], o[1]), (x, o) -> {
      double sg = sigmoid(x[0]);
      return o == 0 ? x[2] * x[1] * sg * (1 + x[0] * (1 - sg)) : x[2] * x[0] * sg;
    });
  }

  @Test
  void inPlaceOpsAndCopies() {
    float[] x = random(33 * 65), y = random(33 * 65);
    Tensor X = with(x, 33, 65), Y = with(y, 33, 65);
    d.axpy(s, -1.5f, X, Y);
    d.scale(s, 0.25f, X);
    double[] ry = new double[x.length], rx = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      ry[i] = y[i] - 1.5 * x[i];
      rx[i] = 0.25 * x[i];
    }
    assertClose("axpy", read(Y), ry);
    assertClose("scale", read(X), rx);
    Tensor h = d.alloc(DType.BF16, 33, 65), back = d.alloc(DType.F32, 33, 65);
    d.copy(s, Y, h);
    d.copy(s, h, back);
    float[] r = read(back), yy = read(Y);
    for (int i = 0; i < r.length; i++) {
      assertThat(Float.floatToRawIntBits(r[i])).isEqualTo(bf16RoundTrip(yy[i]));
    }
  }

  /** Round to nearest even into the upper 16 bits, as documented. */
  static int bf16RoundTrip(float f) {
    int u = Float.floatToRawIntBits(f);
    return ((u + 0x7FFF + ((u >>> 16) & 1)) >>> 16) << 16;
  }

  @Test
  void randomFollowsTheDocumentedGenerator() {
    long seed = rnd.nextLong();
    Tensor t = d.view(d.alloc(DType.F32, 17, 40), 3, new long[] {17, 33}, new long[] {40, 1});
    d.random(s, t, seed, Distribution.UNIFORM, -1f, 3f);
    float[] got = read(t);
    for (int i = 0; i < got.length; i++) {
      double u = (HostRandom.splitmix64(seed, 2L * i) >>> 40) * 0x1p-24;
      float want = (float) (-1.0 + 4.0 * u);
      assertThat(got[i]).as("seed %d element %d", seed, i).isEqualTo(want);
    }
  }

  /** The native fill and the engine's HostRandom are one generator, over many seeds and both distributions. */
  @Test
  void randomEqualsHostRandomOverSeeds() {
    Tensor t = d.alloc(DType.F32, 7, 129);
    for (int round = 0; round < 20; round++) {
      long seed = rnd.nextLong();
      float a = rnd.nextFloat() * 4 - 2, b = a + 0.5f + rnd.nextFloat() * 3;
      d.random(s, t, seed, Distribution.UNIFORM, a, b);
      float[] uniform = read(t);
      for (int i = 0; i < uniform.length; i++) {
        assertThat(uniform[i]).as("uniform [%s, %s) seed %d element %d", a, b, seed, i)
            .isEqualTo(HostRandom.deviceUniform(seed, i, a, b));
      }
      float std = b - a;
      d.random(s, t, seed, Distribution.NORMAL, a, std);
      float[] normal = read(t);
      for (int i = 0; i < normal.length; i++) {
        float want = HostRandom.deviceNormal(seed, i, a, std);
        // C's log and cos may differ from Java's in the last bit of a double, which can move the
        // float by one ulp; anything more is a different formula
        assertThat(normal[i]).as("normal(%s, %s) seed %d element %d", a, std, seed, i)
            .isCloseTo(want, within(Math.ulp(want)));
      }
    }
  }

  @Test
  void softmaxAndTopk() {
    int rows = 33, e = 17, k = 2;
    float[] x = random(rows * e), dy = random(rows * e);
    x[5] = x[9] = 9f;  // a tie in row 0: the lower index wins
    Tensor X = with(x, rows, e), Y = d.alloc(DType.F32, rows, e), DY = with(dy, rows, e), DX = d.alloc(DType.F32, rows, e);
    d.softmax(s, X, Y);
    d.softmaxBackward(s, Y, DY, DX);
    double[] y = new double[rows * e], dx = new double[rows * e];
    for (int r = 0; r < rows; r++) {
      double mx = Double.NEGATIVE_INFINITY, sum = 0, dot = 0;
      for (int c = 0; c < e; c++) {
        mx = Math.max(mx, x[r * e + c]);
      }
      for (int c = 0; c < e; c++) {
        sum += Math.exp(x[r * e + c] - mx);
      }
      for (int c = 0; c < e; c++) {
        y[r * e + c] = Math.exp(x[r * e + c] - mx) / sum;
        dot += y[r * e + c] * dy[r * e + c];
      }
      for (int c = 0; c < e; c++) {
        dx[r * e + c] = y[r * e + c] * (dy[r * e + c] - dot);
      }
    }
    assertClose("softmax", read(Y), y);
    assertClose("softmaxBackward", read(DX), dx);
    Tensor V = d.alloc(DType.F32, rows, k), I = d.alloc(DType.I32, rows, k);
    d.topk(s, X, k, V, I);
    d.synchronize();
    int[] idx = d.readInts(I);
    assertThat(idx[0]).isEqualTo(5);
    assertThat(idx[1]).isEqualTo(9);
    float[] v = d.readFloats(V);
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < e; c++) {
        if (c != idx[r * k] && c != idx[r * k + 1]) {
          assertThat(x[r * e + c]).isLessThanOrEqualTo(v[r * k + 1]);
        }
      }
      assertThat(v[r * k]).isEqualTo(x[r * e + idx[r * k]]).isGreaterThanOrEqualTo(v[r * k + 1]);
    }
    float[] dv = random(rows * k), base = new float[rows * e];
    Tensor DXK = with(base, rows, e);
    d.topkBackward(s, with(dv, rows, k), I, DXK);
    double[] ref = new double[rows * e];
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < k; j++) {
        ref[r * e + idx[r * k + j]] += dv[r * k + j];
      }
    }
    assertClose("topkBackward", read(DXK), ref);
  }

  @Test
  void rowMovers() {
    int n = 17, m = 33, rows = 5, k = 3;
    float[] src = random(n * m), w = random(rows * k), dst0 = random(rows * m);
    int[] index = new int[rows * k];
    for (int i = 0; i < index.length; i++) {
      index[i] = rnd.nextInt(n + 1) - 1;  // -1 is skipped
    }
    Tensor SRC = with(src, n, m), W = with(w, rows, k), I = withInts(index, rows, k), D = with(dst0, rows, m);
    d.gatherRows(s, SRC, I, W, 0.5f, D);
    double[] ref = new double[rows * m];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < m; c++) {
        ref[r * m + c] = 0.5 * dst0[r * m + c];
        for (int j = 0; j < k; j++) {
          if (index[r * k + j] >= 0) {
            ref[r * m + c] += (double) w[r * k + j] * src[index[r * k + j] * m + c];
          }
        }
      }
    }
    assertClose("gatherRows", read(D), ref);
    float[] acc0 = random(n * m), rowsV = random(rows * m);
    Tensor ACC = with(acc0, n, m), R = with(rowsV, rows, m);
    d.scatterAddRows(s, R, I, null, ACC);
    double[] sref = new double[n * m];
    for (int i = 0; i < sref.length; i++) {
      sref[i] = acc0[i];
    }
    double[] dots = new double[rows * k];
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < k; j++) {
        if (index[r * k + j] >= 0) {
          for (int c = 0; c < m; c++) {
            sref[index[r * k + j] * m + c] += rowsV[r * m + c];
            dots[r * k + j] += (double) rowsV[r * m + c] * src[index[r * k + j] * m + c];
          }
        }
      }
    }
    assertClose("scatterAddRows", read(ACC), sref);
    Tensor OUT = d.alloc(DType.F32, rows, k);
    d.gatherDot(s, R, SRC, I, OUT);
    assertClose("gatherDot", read(OUT), dots);
  }

  @Test
  void moeRoutingGatesAndLosses() {
    int tokens = 17, k = 2, experts = 4, capacity = 5;
    int[] choice = new int[tokens * k], rows = {2, 0, 3, 1};
    for (int t = 0; t < tokens; t++) {
      choice[t * k] = rnd.nextInt(experts);
      choice[t * k + 1] = (choice[t * k] + 1 + rnd.nextInt(experts - 1)) % experts;
    }
    Tensor I = withInts(choice, tokens, k), SL = d.alloc(DType.I32, tokens, k);
    Tensor ST = d.alloc(DType.I32, experts * capacity), DR = d.alloc(DType.I32, 1);
    d.moeRoute(s, I, withInts(rows, experts), capacity, SL, ST, DR);
    int[] slots = new int[tokens * k], fill = new int[experts];
    int dropped = 0;
    for (int j = 0; j < k; j++) {
      for (int t = 0; t < tokens; t++) {
        int e = choice[t * k + j];
        slots[t * k + j] = fill[e] < capacity ? rows[e] * capacity + fill[e]++ : -1;
        dropped += slots[t * k + j] < 0 ? 1 : 0;
      }
    }
    d.synchronize();
    assertThat(d.readInts(SL)).containsExactly(slots);
    assertThat(d.readInts(DR)).containsExactly(dropped);

    float[] v = new float[tokens * k];
    for (int i = 0; i < v.length; i++) {
      v[i] = 0.05f + rnd.nextFloat();
    }
    float[] dw = random(tokens * k);
    Tensor V = with(v, tokens, k), W = d.alloc(DType.F32, tokens, k), DV = d.alloc(DType.F32, tokens, k);
    d.moeGateWeights(s, V, SL, W);
    d.moeGateWeightsBackward(s, V, SL, with(dw, tokens, k), DV);
    double[] w = new double[v.length], dvRef = new double[v.length];
    for (int t = 0; t < tokens; t++) {
      double sum = 0, dot = 0;
      for (int j = 0; j < k; j++) {
        sum += slots[t * k + j] >= 0 ? v[t * k + j] : 0;
      }
      double denom = Math.max(sum, Math.ulp(1f));
      for (int j = 0; j < k; j++) {
        w[t * k + j] = slots[t * k + j] >= 0 ? v[t * k + j] / denom : 0;
        dot += dw[t * k + j] * w[t * k + j];
      }
      for (int j = 0; j < k; j++) {
        dvRef[t * k + j] = slots[t * k + j] >= 0 ? (dw[t * k + j] - dot) / denom : 0;
      }
    }
    assertClose("moeGateWeights", read(W), w);
    assertClose("moeGateWeightsBackward", read(DV), dvRef);

    float[] probs = new float[tokens * experts];
    for (int i = 0; i < probs.length; i++) {
      probs[i] = rnd.nextFloat();
    }
    Tensor LOSS = d.alloc(DType.F32, 1), DP = d.alloc(DType.F32, tokens, experts);
    d.moeAuxLoss(s, with(probs, tokens, experts), I, 0.01f, LOSS, DP);
    double[] frac = new double[experts], mean = new double[experts];
    for (int t = 0; t < tokens; t++) {
      frac[choice[t * k]] += 1.0 / tokens;
      for (int e = 0; e < experts; e++) {
        mean[e] += probs[t * experts + e] / tokens;
      }
    }
    double l = 0;
    double[] dp = new double[tokens * experts];
    for (int e = 0; e < experts; e++) {
      l += mean[e] * frac[e];
      for (int t = 0; t < tokens; t++) {
        dp[t * experts + e] = 0.01 * experts * frac[e] / tokens;
      }
    }
    assertClose("moeAuxLoss", read(LOSS), new double[] {0.01 * experts * l});
    assertClose("moeAuxLoss grad", read(DP), dp);

    float[] y = random(33 * 65), target = random(33 * 65);
    Tensor ML = d.alloc(DType.F32, 1), DY = d.alloc(DType.F32, 33, 65);
    d.mseLoss(s, with(y, 33, 65), with(target, 33, 65), 3f, ML, DY);
    double sum = 0;
    double[] dy = new double[y.length];
    for (int i = 0; i < y.length; i++) {
      sum += (double) (y[i] - target[i]) * (y[i] - target[i]);
      dy[i] = 3.0 * 2 * ((double) y[i] - target[i]) / y.length;
    }
    assertClose("mseLoss", read(ML), new double[] {sum / y.length});
    assertClose("mseLoss grad", read(DY), dy);
  }

  @Test
  void adamMatchesTheFormula() {
    int n = 3 * 17;
    float[] p = random(n), g = random(n), m = random(n), v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = rnd.nextFloat();
    }
    Tensor P = with(p, 3, 17);
    AdamParams ap = new AdamParams(1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f);
    int step = 4;
    d.adam(s, P, with(g, 3, 17), with(m, 3, 17), with(v, 3, 17), ap, step);
    double[] ref = new double[n];
    for (int i = 0; i < n; i++) {
      double mi = 0.9 * m[i] + 0.1 * g[i], vi = 0.999 * v[i] + 0.001 * (double) g[i] * g[i];
      double mh = mi / (1 - Math.pow(0.9, step)), vh = vi / (1 - Math.pow(0.999, step));
      ref[i] = p[i] - 1e-2 * (mh / (Math.sqrt(vh) + 1e-8) + 0.1 * p[i]);
    }
    assertClose("adam", read(P), ref);
  }
}
