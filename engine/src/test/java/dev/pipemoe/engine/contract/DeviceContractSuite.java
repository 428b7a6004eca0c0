package dev.pipemoe.engine.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.pipemoe.engine.device.AdamParams;
import dev.pipemoe.engine.device.Communicator;
import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.DeviceException;
import dev.pipemoe.engine.device.Distribution;
import dev.pipemoe.engine.device.Event;
import dev.pipemoe.engine.device.Fabric;
import dev.pipemoe.engine.device.OpRecord;
import dev.pipemoe.engine.device.Stream;
import dev.pipemoe.engine.device.Tensor;
import dev.pipemoe.engine.moe.HostRandom;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What every {@link Device} promises, said through the interface alone (in the manner of ggml's
 * test-backend-ops): each op against a plain reference computed here in double, streams and events,
 * the errors reported at enqueue time, and the collectives over several ranks driven from the test
 * thread. A device joins by subclassing this and naming its fabric (docs/native-runtime.md, "The
 * Device contract suite").
 *
 * <p>Inputs are drawn from one seeded generator per test; every failure names the seed, and {@code
 * -Dpipemoe.test.seed=N} explores others. No assertion depends on how real threads interleave:
 * orders are asserted where the contract makes them (one stream, an event, a collective behind its
 * stream's work), never overlaps.
 *
 * <p>Error messages are held to what the contract promises: the status code, the op and the
 * operand, and where the devices agree on it, the rule's wording after the op's name. The op's
 * spelling differs by device ({@code pm_all_gather}, {@code allGather}), so it is compared without
 * case, underscores or a {@code pm_} prefix. A hang fails the test after two minutes.
 */
@Timeout(120)
public abstract class DeviceContractSuite {
  /** A fabric of {@code worldSize} ranks; link timing is not part of this contract. */
  protected abstract Fabric open(int worldSize);

  protected static final long SEED = Long.getLong("pipemoe.test.seed", 20261204L);

  /** Every failure says which inputs it saw. */
  @RegisterExtension
  static final TestExecutionExceptionHandler NAME_THE_SEED = (context, failure) -> {
    throw new AssertionError("[seed " + SEED + ", rerun with -Dpipemoe.test.seed=" + SEED + "] "
        + failure.getMessage(), failure);
  };

  /*
   * Tolerances bound the normalised max error, max|got - ref| / max(1, max|ref|): relative for
   * large results, absolute for results below 1 (the inputs are O(1), so a result near 0 comes
   * from cancellation, e.g. GELU's derivative near x = -0.75, where fp32 cannot do better). Inputs
   * are multiples of 2^-22 in [-2, 2), so sums of two and scaling by a power of two are exact.
   * Measured on both devices (seed 20261204): at most 1.1e-7 outside GEMM, 2.4e-7 in GEMM.
   */

  /** Ops whose result is exact on these inputs: add, scaling by 1/4, moving or summing into 0. */
  static final double EXACT = 0;

  /** A few fp32 roundings (2^-24 each), float libm, and the reference erf's 1.2e-7. */
  static final double FP32 = 1e-6;

  /** Sums of k products in an order the device chooses (BLAS blocks them). */
  static final double GEMM = 1e-5;

  final Random rnd = new Random(SEED);
  Fabric fabric;
  Device d;
  Stream s;

  @BeforeEach
  void openOneRank() {
    fabric = open(1);
    d = fabric.device(0);
    s = d.computeStream();
  }

  @AfterEach
  void closeFabric() {
    fabric.close();
  }

  // ---- helpers ---------------------------------------------------------------------------------

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
    assertClose(what, got, ref, FP32);
  }

  static void assertClose(String what, float[] got, double[] ref, double bound) {
    assertThat(got).as(what).hasSize(ref.length);
    double err = 0, scale = 1;
    for (int i = 0; i < ref.length; i++) {
      err = Math.max(err, Math.abs(got[i] - ref[i]));
      scale = Math.max(scale, Math.abs(ref[i]));
    }
    assertThat(err / scale).as(what + ": normalised max error").isLessThanOrEqualTo(bound);
  }

  /** Round to nearest even into the upper 16 bits, as DType.BF16 documents. */
  static float bf16(float f) {
    int u = Float.floatToRawIntBits(f);
    return Float.intBitsToFloat(((u + 0x7FFF + ((u >>> 16) & 1)) >>> 16) << 16);
  }

  static String squash(String name) {
    return name.toLowerCase(Locale.ROOT).replace("_", "").replace("-", "").replaceFirst("^pm", "");
  }

  /**
   * {@code call} throws a DeviceException with {@code code} whose message starts with the op's
   * name and names {@code operand} after it; returns the text after the op's name.
   */
  static String refused(int code, String op, String operand, ThrowingCallable call) {
    Throwable t = org.assertj.core.api.Assertions.catchThrowable(call);
    assertThat(t).as("%s refused", op).isInstanceOf(DeviceException.class);
    DeviceException e = (DeviceException) t;
    String message = e.getMessage();
    assertThat(e.code()).as("code of: %s", message).isEqualTo(code);
    int colon = message.indexOf(": ");
    assertThat(colon).as("'op: reason' in: %s", message).isPositive();
    assertThat(squash(message.substring(0, colon))).as("the op named in: %s", message)
        .contains(squash(op));
    String reason = message.substring(colon + 2);
    if (operand != null) {
      assertThat(reason).as("the operand named in: %s", message)
          .containsPattern("(?<![\\w.])" + operand + "(?!\\w)");
    }
    return reason;
  }

  static int[] iota(int n) {
    int[] r = new int[n];
    for (int i = 0; i < n; i++) {
      r[i] = i;
    }
    return r;
  }

  // ---- ops -------------------------------------------------------------------------------------

  @Test
  public void gemmWithTransposesAndBatches() {
    int[][] shapes = {{1, 1, 1}, {3, 17, 33}, {33, 65, 17}};
    for (int[] mnk : shapes) {
      for (int t = 0; t < 4; t++) {
        boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
        int m = mnk[0], n = mnk[1], k = mnk[2];
        float[] a = random(m * k), b = random(k * n), c = random(m * n);
        Tensor A = ta ? with(a, k, m) : with(a, m, k), B = tb ? with(b, n, k) : with(b, k, n);
        Tensor C = with(c, m, n);
        d.gemm(s, ta, tb, 0.5f, A, B, 2f, C);
        double[] ref = new double[m * n];
        for (int i = 0; i < m; i++) {
          for (int j = 0; j < n; j++) {
            double acc = 0;
            for (int l = 0; l < k; l++) {
              acc += (double) (ta ? a[l * m + i] : a[i * k + l])
                  * (tb ? b[j * k + l] : b[l * n + j]);
            }
            ref[i * n + j] = 0.5 * acc + 2.0 * c[i * n + j];
          }
        }
        assertClose("gemm " + m + "x" + n + "x" + k + " ta=" + ta + " tb=" + tb, read(C), ref,
            GEMM);
      }
    }
    // rank 3: b broadcast with batch stride 0
    int batches = 3, m = 4, n = 5, k = 6;
    float[] a = random(batches * m * k), b = random(k * n);
    Tensor A = with(a, batches, m, k), Bb = with(b, k, n), C = d.alloc(DType.F32, batches, m, n);
    d.gemm(s, false, false, 1f, A, d.view(Bb, 0, new long[] {batches, k, n}, new long[] {0, n, 1}),
        0f, C);
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
    assertClose("batched gemm", read(C), ref, GEMM);
  }

  interface Op {
    void run(Tensor[] in, Tensor[] out);
  }

  interface Ref {
    double at(double[] x, int output);
  }

  /** Elementwise op on every odd shape, and on a strided [33,65] view of a [33,80] buffer. */
  void elementwise(String name, double bound, int inputs, int outputs, Op op, Ref ref) {
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
        Tensor t = strided ? d.view(d.alloc(DType.F32, 33, 80), 5, sh, new long[] {80, 1})
            : d.alloc(DType.F32, sh);
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
        assertClose(name + (strided ? " strided" : " " + n) + " output " + o, read(out[o]), want,
            bound);
      }
    }
  }

  static double sigmoid(double x) {
    return 1 / (1 + Math.exp(-x));
  }

  /** Numerical Recipes' erfc approximation: relative error below 1.2e-7. */
  static double erf(double x) {
    double t = 1 / (1 + 0.5 * Math.abs(x));
    double y = 1 - t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196
        + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398
        + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
    return x >= 0 ? y : -y;
  }

  @Test
  public void elementwiseOps() {
    elementwise("add", EXACT, 2, 1, (i, o) -> d.add(s, i[0], i[1], o[0]), (x, o) -> x[0] + x[1]);
    elementwise("gelu", FP32, 1, 1, (i, o) -> d.gelu(s, i[0], o[0]),
        (x, o) -> 0.5 * x[0] * (1 + erf(x[0] / Math.sqrt(2))));
    elementwise("geluBackward", FP32, 2, 1, (i, o) -> d.geluBackward(s, i[0], i[1], o[0]),
        (x, o) -> {
          double cdf = 0.5 * (1 + erf(x[0] / Math.sqrt(2)));
          double pdf = Math.exp(-0.5 * x[0] * x[0]) / Math.sqrt(2 * Math.PI);
          return x[1] * (cdf + x[0] * pdf);
        });
    elementwise("swiglu", FP32, 2, 1, (i, o) -> d.swiglu(s, i[0], i[1], o[0]),
        (x, o) -> x[0] * sigmoid(x[0]) * x[1]);
    elementwise("swigluBackward", FP32, 3, 2,
        (i, o) -> d.swigluBackward(s, i[0], i[1], i[2], o[0], o[1]),
        (x, o) -> {
          double sg = sigmoid(x[0]);
          return o == 0 ? x[2] * x[1] * sg * (1 + x[0] * (1 - sg)) : x[2] * x[0] * sg;
        });
  }

  @Test
  public void inPlaceOpsAndCopies() {
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
    assertClose("scale", read(X), rx, EXACT);
    Tensor h = d.alloc(DType.BF16, 33, 65), back = d.alloc(DType.F32, 33, 65);
    d.copy(s, Y, h);
    d.copy(s, h, back);
    float[] r = read(back), yy = read(Y);
    for (int i = 0; i < r.length; i++) {
      assertThat(Float.floatToRawIntBits(r[i])).as("bf16 round trip of %s", yy[i])
          .isEqualTo(Float.floatToRawIntBits(bf16(yy[i])));
    }
  }

  /** BF16 is storage: writes round to nearest even, fill and random round their F32 values. */
  @Test
  public void bf16StorageRoundsToNearestEven() {
    float[] v = random(3 * 17);
    v[0] = Float.intBitsToFloat(0x3F808000);  // exactly halfway: even (down) wins
    v[1] = Float.intBitsToFloat(0x3F818000);  // exactly halfway: even (up) wins
    Tensor h = d.alloc(DType.BF16, 3, 17);
    d.write(h, v);
    float[] got = d.readFloats(h);
    for (int i = 0; i < v.length; i++) {
      assertThat(got[i]).as("bf16 write of %s (element %d)", v[i], i).isEqualTo(bf16(v[i]));
    }
    assertThat(got[0]).isEqualTo(Float.intBitsToFloat(0x3F800000));
    assertThat(got[1]).isEqualTo(Float.intBitsToFloat(0x3F820000));
    d.fill(s, h, 0.1f);
    assertThat(read(h)).containsOnly(bf16(0.1f));
    long seed = rnd.nextLong();
    d.random(s, h, seed, Distribution.UNIFORM, -0.5f, 1.5f);
    float[] r = read(h);
    for (int i = 0; i < r.length; i++) {
      assertThat(r[i]).as("bf16 random seed %d element %d", seed, i)
          .isEqualTo(bf16(HostRandom.deviceUniform(seed, i, -0.5f, 1.5f)));
    }
  }

  /** Reads and writes of a strided view go through the view, in its row-major order. */
  @Test
  public void stridedViewsReadAndWriteTheirOwnElements() {
    Tensor base = d.alloc(DType.F32, 6, 8);
    d.fill(s, base, -1f);
    d.synchronize();
    Tensor v = d.view(base, 9, new long[] {3, 4}, new long[] {16, 1});  // rows 1, 3, 5 at col 1
    float[] x = random(12);
    d.write(v, x);
    assertThat(d.readFloats(v)).containsExactly(x);
    float[] all = d.readFloats(base);
    for (int i = 0; i < 48; i++) {
      int row = i / 8, col = i % 8;
      boolean inView = row % 2 == 1 && col >= 1 && col <= 4;
      assertThat(all[i]).as("base element %d", i)
          .isEqualTo(inView ? x[(row / 2) * 4 + col - 1] : -1f);
    }
  }

  @Test
  public void randomFollowsTheDocumentedGenerator() {
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

  /** Device.random and HostRandom are one generator, over many seeds and both distributions. */
  @Test
  public void randomEqualsHostRandomOverSeeds() {
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
  public void softmaxAndTopkWithTies() {
    int rows = 33, e = 17, k = 2;
    float[] x = random(rows * e), dy = random(rows * e);
    x[5] = x[9] = 9f;  // a tie for the top in row 0: the lower index first
    x[e + 3] = 9f;  // row 1: one top, then a three-way tie for second: the lowest index
    x[e + 2] = x[e + 7] = x[e + 11] = 8f;
    Tensor X = with(x, rows, e), Y = d.alloc(DType.F32, rows, e), DY = with(dy, rows, e);
    Tensor DX = d.alloc(DType.F32, rows, e);
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
    assertThat(new int[] {idx[0], idx[1]}).as("a tie for the top").containsExactly(5, 9);
    assertThat(new int[] {idx[2], idx[3]}).as("a tie for second").containsExactly(3, 2);
    float[] v = d.readFloats(V);
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < e; c++) {
        if (c != idx[r * k] && c != idx[r * k + 1]) {
          assertThat(x[r * e + c]).as("row %d column %d not chosen", r, c)
              .isLessThanOrEqualTo(v[r * k + 1]);
        }
      }
      assertThat(v[r * k]).isEqualTo(x[r * e + idx[r * k]]).isGreaterThanOrEqualTo(v[r * k + 1]);
      assertThat(v[r * k + 1]).isEqualTo(x[r * e + idx[r * k + 1]]);
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
    assertClose("topkBackward", read(DXK), ref, EXACT);
  }

  @Test
  public void rowMovers() {
    int n = 17, m = 33, rows = 5, k = 3;
    float[] src = random(n * m), w = random(rows * k), dst0 = random(rows * m);
    int[] index = new int[rows * k];
    for (int i = 0; i < index.length; i++) {
      index[i] = rnd.nextInt(n + 1) - 1;  // -1 is skipped
    }
    index[0] = -1;
    Tensor SRC = with(src, n, m), W = with(w, rows, k), I = withInts(index, rows, k);
    Tensor D = with(dst0, rows, m);
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
    // dispatch: K = 1 without weights, beta 0 overwrites what was there
    Tensor D1 = with(random(rows * m), rows, m);
    Tensor I1 = d.view(I, 0, new long[] {rows, 1}, new long[] {k, 1});
    d.gatherRows(s, SRC, I1, null, 0f, D1);
    double[] ref1 = new double[rows * m];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < m; c++) {
        ref1[r * m + c] = index[r * k] >= 0 ? src[index[r * k] * m + c] : 0;
      }
    }
    assertClose("gatherRows (dispatch, strided index)", read(D1), ref1, EXACT);
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
    Tensor ACCW = with(acc0, n, m);
    d.scatterAddRows(s, R, I, W, ACCW);
    double[] wref = new double[n * m];
    for (int i = 0; i < wref.length; i++) {
      wref[i] = acc0[i];
    }
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < k; j++) {
        if (index[r * k + j] >= 0) {
          for (int c = 0; c < m; c++) {
            wref[index[r * k + j] * m + c] += (double) w[r * k + j] * rowsV[r * m + c];
          }
        }
      }
    }
    assertClose("scatterAddRows weighted", read(ACCW), wref);
    Tensor OUT = d.alloc(DType.F32, rows, k);
    d.gatherDot(s, R, SRC, I, OUT);
    assertClose("gatherDot", read(OUT), dots);
  }

  /**
   * Capacity routing's first-come rule (choice 0 of every token before any choice 1, in token
   * order; a choice past capacity is dropped), the gate weights' normalisation and drop rule, the
   * auxiliary loss and the MSE loss.
   */
  @Test
  public void moeRoutingGatesAndLosses() {
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
    int[] slotToken = new int[experts * capacity];
    java.util.Arrays.fill(slotToken, -1);
    int dropped = 0;
    for (int j = 0; j < k; j++) {
      for (int t = 0; t < tokens; t++) {
        int e = choice[t * k + j];
        slots[t * k + j] = fill[e] < capacity ? rows[e] * capacity + fill[e]++ : -1;
        if (slots[t * k + j] >= 0) {
          slotToken[slots[t * k + j]] = t;
        }
        dropped += slots[t * k + j] < 0 ? 1 : 0;
      }
    }
    assertThat(dropped).as("34 choices for 20 slots drop some").isPositive();
    d.synchronize();
    assertThat(d.readInts(SL)).as("slots").containsExactly(slots);
    assertThat(d.readInts(ST)).as("slotToken").containsExactly(slotToken);
    assertThat(d.readInts(DR)).as("dropped").containsExactly(dropped);

    float[] v = new float[tokens * k];
    for (int i = 0; i < v.length; i++) {
      v[i] = 0.05f + rnd.nextFloat();
    }
    float[] dw = random(tokens * k);
    Tensor V = with(v, tokens, k), W = d.alloc(DType.F32, tokens, k);
    Tensor DV = d.alloc(DType.F32, tokens, k);
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
    float[] gotW = read(W);
    assertClose("moeGateWeights", gotW, w);
    for (int i = 0; i < slots.length; i++) {
      if (slots[i] < 0) {
        assertThat(gotW[i]).as("weight of dropped choice %d", i).isZero();
      }
    }
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
  public void adamMatchesTheFormula() {
    int n = 3 * 17;
    float[] p = random(n), g = random(n), m = random(n), v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = rnd.nextFloat();
    }
    Tensor P = with(p, 3, 17), M = with(m, 3, 17), VV = with(v, 3, 17);
    AdamParams ap = new AdamParams(1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f);
    int step = 4;
    d.adam(s, P, with(g, 3, 17), M, VV, ap, step);
    double[] ref = new double[n], mr = new double[n], vr = new double[n];
    for (int i = 0; i < n; i++) {
      double mi = 0.9 * m[i] + 0.1 * g[i], vi = 0.999 * v[i] + 0.001 * (double) g[i] * g[i];
      double mh = mi / (1 - Math.pow(0.9, step)), vh = vi / (1 - Math.pow(0.999, step));
      ref[i] = p[i] - 1e-2 * (mh / (Math.sqrt(vh) + 1e-8) + 0.1 * p[i]);
      mr[i] = mi;
      vr[i] = vi;
    }
    assertClose("adam param", read(P), ref);
    assertClose("adam m", read(M), mr);
    assertClose("adam v", read(VV), vr);
  }

  // ---- streams and events ----------------------------------------------------------------------

  /** Each op reads what the one before it on the stream wrote; the timeline shows them in order. */
  @Test
  public void opsOnOneStreamRunInOrder() {
    Stream side = d.newStream("ordered");
    Tensor x = d.alloc(DType.F32, 64, 64), y = d.alloc(DType.F32, 64, 64);
    d.fill(side, x, 1f);
    d.gemm(side, false, false, 1f, x, x, 0f, y);  // 64
    d.scale(side, 0.5f, y);  // 32
    d.axpy(side, 2f, x, y);  // 34
    d.add(side, y, y, x);  // 68
    d.synchronize(side);
    assertThat(d.readFloats(x)).containsOnly(68f);
    List<OpRecord> t = d.drainTimeline().stream().filter(r -> r.stream().equals("ordered"))
        .toList();
    assertThat(t).extracting(OpRecord::op).containsExactly("fill", "gemm", "scale", "axpy", "add");
    for (int i = 1; i < t.size(); i++) {
      assertThat(t.get(i).startNanos())
          .as("%s starts after %s ends", t.get(i).op(), t.get(i - 1).op())
          .isGreaterThanOrEqualTo(t.get(i - 1).endNanos());
    }
  }

  @Test
  public void eventsOrderStreamsAndTimelinesShowIt() {
    Stream side = d.newStream("side");
    Event never = d.newEvent(), e = d.newEvent();
    assertThat(d.query(never)).as("an event never recorded").isTrue();
    d.synchronize(never);  // returns
    d.waitEvent(side, never);  // a no-op
    Tensor a = d.alloc(DType.F32, 256, 256), x = d.alloc(DType.F32, 256, 256);
    d.fill(s, a, 1f);
    d.label("big");
    d.gemm(s, false, false, 1f, a, a, 0f, x);  // x = 256 everywhere
    d.record(e, s);
    d.label("after");
    d.waitEvent(side, e);
    d.scale(side, 0.5f, x);
    d.synchronize(side);
    assertThat(d.readFloats(x)[65535]).isEqualTo(128f);
    List<OpRecord> t = d.drainTimeline();
    OpRecord gemm = t.stream().filter(r -> r.op().equals("gemm")).findFirst().orElseThrow();
    OpRecord scale = t.stream().filter(r -> r.op().equals("scale")).findFirst().orElseThrow();
    assertThat(gemm.stream()).isEqualTo("compute");
    assertThat(gemm.label()).isEqualTo("big");
    assertThat(scale.stream()).isEqualTo("side");
    assertThat(scale.label()).isEqualTo("after");
    assertThat(scale.startNanos()).isGreaterThanOrEqualTo(gemm.endNanos());
    assertThat(d.drainTimeline()).isEmpty();
  }

  @Test
  public void synchronizeOnStreamEventOrDeviceFinishesTheWork() {
    Stream side = d.newStream("side");
    Tensor a = d.alloc(DType.F32, 128, 128), b = d.alloc(DType.F32, 128, 128);
    Event e = d.newEvent();
    d.fill(s, a, 1f);
    d.gemm(s, false, false, 1f, a, a, 0f, b);
    d.record(e, s);
    d.synchronize(e);
    assertThat(d.query(e)).as("query after synchronize(event)").isTrue();
    assertThat(d.readFloats(b)).containsOnly(128f);

    d.scale(side, 2f, b);
    d.record(e, side);  // re-armed
    d.synchronize(side);
    assertThat(d.query(e)).as("query after synchronize(stream)").isTrue();
    assertThat(d.readFloats(b)).containsOnly(256f);

    d.gemm(s, false, false, 1f, a, a, 0f, b);
    d.scale(s, 0.25f, b);
    d.record(e, s);
    d.synchronize();
    assertThat(d.query(e)).as("query after synchronize()").isTrue();
    assertThat(d.readFloats(b)).containsOnly(32f);
  }

  // ---- transformer ops: norm, causal softmax, vocabulary-parallel cross-entropy ----------------

  /** A [rows, cols] view at offset 3 of a [rows, cols + 5] buffer: rows that are not adjacent. */
  Tensor stridedRows(float[] v, int rows, int cols) {
    Tensor t = d.view(d.alloc(DType.F32, rows, cols + 5), 3, new long[] {rows, cols},
        new long[] {cols + 5, 1});
    if (v != null) {
      d.write(t, v);
    }
    return t;
  }

  /** y = x rstd gamma with rstd = 1/sqrt(mean(x^2) + eps), in double, per row. */
  static double[] rmsNormRef(double[] x, float[] gamma, int rows, int cols, float eps,
      double[] rstd) {
    double[] y = new double[rows * cols];
    for (int r = 0; r < rows; r++) {
      double sq = 0;
      for (int c = 0; c < cols; c++) {
        sq += x[r * cols + c] * x[r * cols + c];
      }
      rstd[r] = 1 / Math.sqrt(sq / cols + eps);
      for (int c = 0; c < cols; c++) {
        y[r * cols + c] = x[r * cols + c] * rstd[r] * gamma[c];
      }
    }
    return y;
  }

  @Test
  public void rmsNormAndItsBackwardOnStridedRows() {
    int rows = 7, cols = 33;
    float eps = 1e-5f;
    float[] x = random(rows * cols), gamma = random(cols), dy = random(rows * cols);
    float[] dGamma0 = random(cols);
    Tensor X = stridedRows(x, rows, cols), Y = stridedRows(null, rows, cols);
    Tensor G = with(gamma, cols), R = d.alloc(DType.F32, rows), DY = stridedRows(dy, rows, cols);
    Tensor DX = stridedRows(null, rows, cols), DG = with(dGamma0, cols);
    d.rmsNorm(s, X, G, eps, Y, R);
    d.rmsNormBackward(s, X, G, R, DY, DX, DG);
    double[] xd = new double[x.length], rstd = new double[rows];
    for (int i = 0; i < x.length; i++) {
      xd[i] = x[i];
    }
    double[] y = rmsNormRef(xd, gamma, rows, cols, eps, rstd);
    assertClose("rmsNorm y", read(Y), y);
    float[] rs = read(R);
    assertClose("rmsNorm rstd", rs, rstd);
    // the javadoc's dx, and dGamma added to what it held
    double[] dx = new double[rows * cols], dg = new double[cols];
    for (int r = 0; r < rows; r++) {
      double mean = 0;
      for (int c = 0; c < cols; c++) {
        mean += (double) gamma[c] * dy[r * cols + c] * x[r * cols + c] / cols;
      }
      for (int c = 0; c < cols; c++) {
        dx[r * cols + c] = rstd[r] * (gamma[c] * dy[r * cols + c]
            - x[r * cols + c] * rstd[r] * rstd[r] * mean);
        dg[c] += (double) dy[r * cols + c] * x[r * cols + c] * rstd[r];
      }
    }
    assertClose("rmsNormBackward dx", read(DX), dx);
    double[] accumulated = new double[cols];
    for (int c = 0; c < cols; c++) {
      accumulated[c] = dGamma0[c] + dg[c];
    }
    assertClose("rmsNormBackward dGamma accumulates", read(DG), accumulated);
    // dx is the gradient of sum(dy * y): central differences of the double forward
    for (int e : new int[] {0, cols + 4, rows * cols - 1}) {
      double h = 1e-6;
      double[] up = xd.clone(), down = xd.clone();
      up[e] += h;
      down[e] -= h;
      double[] yu = rmsNormRef(up, gamma, rows, cols, eps, new double[rows]);
      double[] yd = rmsNormRef(down, gamma, rows, cols, eps, new double[rows]);
      double fd = 0;
      for (int i = 0; i < yu.length; i++) {
        fd += dy[i] * (yu[i] - yd[i]) / (2 * h);
      }
      assertThat(dx[e]).as("the javadoc's dx against finite differences at %d", e)
          .isCloseTo(fd, within(1e-6));
    }
    // a second backward adds the same contribution again
    d.rmsNormBackward(s, X, G, R, DY, DX, DG);
    for (int c = 0; c < cols; c++) {
      accumulated[c] += dg[c];
    }
    assertClose("rmsNormBackward dGamma after two", read(DG), accumulated);
  }

  @Test
  public void causalSoftmaxOnAStridedRank3ViewWithOffsets() {
    int b = 3, q = 5, k = 7, pad = 4;
    float scale = 0.37f;
    long[] shape = {b, q, k}, strides = {(q + 1) * (k + pad), k + pad, 1};
    // offsets: plain causal, keys ahead of the queries, behind them (rows 0 and 1 see nothing),
    // and so far ahead that every key is visible
    for (int offset : new int[] {0, 2, -2, k + 3}) {
      float[] x = random(b * q * k), dy = random(b * q * k);
      Tensor X = d.view(d.alloc(DType.F32, b, q + 1, k + pad), k + pad + 1, shape, strides);
      Tensor Yb = d.alloc(DType.F32, b, q + 1, k + pad), DYb = d.alloc(DType.F32, b, q + 1, k + pad);
      Tensor DXb = d.alloc(DType.F32, b, q + 1, k + pad);
      d.fill(s, Yb, 7f);
      d.fill(s, DXb, 7f);
      Tensor Y = d.view(Yb, 2, shape, strides), DY = d.view(DYb, 1, shape, strides);
      Tensor DX = d.view(DXb, 2, shape, strides);
      d.write(X, x);
      d.write(DY, dy);
      d.causalSoftmax(s, X, scale, offset, Y);
      d.causalSoftmaxBackward(s, Y, DY, scale, DX);
      double[] y = new double[b * q * k], dx = new double[b * q * k];
      for (int z = 0; z < b; z++) {
        for (int i = 0; i < q; i++) {
          int row = (z * q + i) * k, visible = Math.clamp(i + offset + 1, 0, k);
          double mx = Double.NEGATIVE_INFINITY, sum = 0, dot = 0;
          for (int j = 0; j < visible; j++) {
            mx = Math.max(mx, (double) scale * x[row + j]);
          }
          for (int j = 0; j < visible; j++) {
            sum += Math.exp((double) scale * x[row + j] - mx);
          }
          for (int j = 0; j < visible; j++) {
            y[row + j] = Math.exp((double) scale * x[row + j] - mx) / sum;
            dot += y[row + j] * dy[row + j];
          }
          for (int j = 0; j < k; j++) {
            dx[row + j] = scale * y[row + j] * (dy[row + j] - dot);
          }
        }
      }
      float[] got = read(Y);
      assertClose("causalSoftmax offset " + offset, got, y);
      for (int i = 0; i < got.length; i++) {
        if (y[i] == 0) {
          assertThat(got[i]).as("offset %d: masked element %d", offset, i).isZero();
        }
      }
      assertClose("causalSoftmaxBackward offset " + offset, read(DX), dx);
      // the views' neighbours keep what they held
      float[] around = d.readFloats(Yb);
      assertThat(around[0]).as("before y's view").isEqualTo(7f);
      assertThat(around[k + 2]).as("between y's rows").isEqualTo(7f);
      assertThat(d.readFloats(DXb)[(q + 1) * (k + pad) - 1]).as("after dx's view").isEqualTo(7f);
    }
  }

  /** log(sum(exp(row))) in double, stable. */
  static double lse(double[] row) {
    double mx = Double.NEGATIVE_INFINITY, sum = 0;
    for (double v : row) {
      mx = Math.max(mx, v);
    }
    for (double v : row) {
      sum += Math.exp(v - mx);
    }
    return mx + Math.log(sum);
  }

  /**
   * The vocabulary-parallel log-sum-exp: each shard's logSumExp over strided rows, the shards'
   * results side by side as a gather leaves them ([shards, R]), then logSumExp of that buffer's
   * transposed view [R, shards]: the log-sum-exp of the whole row. Large logits do not overflow.
   */
  @Test
  public void logSumExpOfShardsAndOfTheTransposedGather() {
    int rows = 6, v = 19, shards = 3;
    float[][] x = new float[shards][];
    double[] whole = new double[rows];
    for (int p = 0; p < shards; p++) {
      x[p] = random(rows * v);
    }
    for (int c = 0; c < v; c++) {
      x[1][4 * v + c] += 90f;  // row 4 of shard 1: exp overflows fp32
    }
    float[] gathered = new float[shards * rows];
    for (int p = 0; p < shards; p++) {
      Tensor lse = d.alloc(DType.F32, rows);
      d.logSumExp(s, stridedRows(x[p], rows, v), lse);
      float[] got = read(lse);
      double[] ref = new double[rows];
      for (int r = 0; r < rows; r++) {
        double[] row = new double[v];
        for (int c = 0; c < v; c++) {
          row[c] = x[p][r * v + c];
        }
        ref[r] = lse(row);
      }
      assertClose("logSumExp of shard " + p, got, ref);
      System.arraycopy(got, 0, gathered, p * rows, rows);
    }
    for (int r = 0; r < rows; r++) {
      double[] row = new double[shards * v];
      for (int p = 0; p < shards; p++) {
        for (int c = 0; c < v; c++) {
          row[p * v + c] = x[p][r * v + c];
        }
      }
      whole[r] = lse(row);
    }
    Tensor g = with(gathered, shards * rows);
    Tensor transposed = d.view(g, 0, new long[] {rows, shards}, new long[] {1, rows});
    Tensor global = d.alloc(DType.F32, rows);
    d.logSumExp(s, transposed, global);
    assertClose("logSumExp of the transposed gather", read(global), whole);
  }

  @Test
  public void pickTargetsTakesOnlyTheShardsOwnTokens() {
    int rows = 9, v = 11, first = 2 * v;
    float[] x = random(rows * v);
    // below, first, inside, last, just past, far past, negative, inside, inside
    int[] targets = {first - 1, first, first + 5, first + v - 1, first + v, 1000, -1, first + 3,
        first + 10};
    Tensor out = d.alloc(DType.F32, rows);
    d.fill(s, out, 7f);
    d.pickTargets(s, stridedRows(x, rows, v), withInts(targets, rows), first, out);
    double[] ref = new double[rows];
    for (int r = 0; r < rows; r++) {
      int c = targets[r] - first;
      ref[r] = c >= 0 && c < v ? x[r * v + c] : 0;
    }
    assertClose("pickTargets", read(out), ref, EXACT);
  }

  @Test
  public void crossEntropyBackwardOfTheWholeVocabularyAndOfAShard() {
    int rows = 8, v = 13, shards = 3;
    float scale = 0.25f;
    float[] logits = random(rows * shards * v);
    float[] lse = new float[rows];
    for (int r = 0; r < rows; r++) {
      double[] row = new double[shards * v];
      for (int c = 0; c < row.length; c++) {
        row[c] = logits[r * shards * v + c];
      }
      lse[r] = (float) lse(row);
    }
    int[] targets = new int[rows];
    for (int r = 0; r < rows; r++) {
      targets[r] = rnd.nextInt(shards * v);
    }
    targets[0] = v;  // the shard's first token
    targets[1] = 2 * v - 1;  // its last
    targets[2] = v - 1;  // the previous shard's last
    Tensor L = with(lse, rows), T = withInts(targets, rows);
    // the whole vocabulary (one shard, first 0): every row sums to 0
    Tensor whole = with(logits, rows, shards * v), dWhole = d.alloc(DType.F32, rows, shards * v);
    d.crossEntropyBackward(s, whole, L, T, 0, scale, dWhole);
    float[] got = read(dWhole);
    double[] ref = new double[got.length];
    for (int r = 0; r < rows; r++) {
      double sum = 0;
      for (int c = 0; c < shards * v; c++) {
        int i = r * shards * v + c;
        ref[i] = scale * (Math.exp((double) logits[i] - lse[r]) - (targets[r] == c ? 1 : 0));
        sum += got[i];
      }
      assertThat(sum).as("row %d of the whole vocabulary sums to 0", r).isCloseTo(0, within(1e-6));
    }
    assertClose("crossEntropyBackward, whole vocabulary", got, ref);
    // shard 1 on strided rows: rows whose target is elsewhere sum to scale * the shard's softmax
    float[] shard = new float[rows * v];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(logits, r * shards * v + v, shard, r * v, v);
    }
    Tensor dShard = stridedRows(null, rows, v);
    d.crossEntropyBackward(s, stridedRows(shard, rows, v), L, T, v, scale, dShard);
    float[] gs = read(dShard);
    double[] rs = new double[gs.length];
    for (int r = 0; r < rows; r++) {
      boolean inShard = targets[r] >= v && targets[r] < 2 * v;
      double sum = 0, softmax = 0;
      for (int c = 0; c < v; c++) {
        double p = Math.exp((double) shard[r * v + c] - lse[r]);
        rs[r * v + c] = scale * (p - (targets[r] == v + c ? 1 : 0));
        softmax += p;
        sum += gs[r * v + c];
      }
      assertThat(sum).as("row %d of shard 1 (target %d)", r, targets[r])
          .isCloseTo(scale * (softmax - (inShard ? 1 : 0)), within(1e-6));
    }
    assertClose("crossEntropyBackward, shard 1", gs, rs);
  }

  @Test
  public void transformerOpsRefuseBadOperandsAtEnqueue() {
    Tensor x = d.alloc(DType.F32, 4, 6), y = d.alloc(DType.F32, 4, 6);
    Tensor rows = d.alloc(DType.F32, 4), cols = d.alloc(DType.F32, 6);
    Tensor targets = d.alloc(DType.I32, 4);
    refused(1, "rmsNorm", "gamma", () -> d.rmsNorm(s, x, rows, 1e-5f, y, rows));
    refused(1, "rmsNorm", "rstd", () -> d.rmsNorm(s, x, cols, 1e-5f, y, cols));
    refused(1, "rmsNormBackward", "dx",
        () -> d.rmsNormBackward(s, x, cols, rows, y, d.alloc(DType.F32, 6, 4), cols));
    refused(1, "causalSoftmax", "x", () -> d.causalSoftmax(s, x, 1f, 0, y));
    Tensor x3 = d.alloc(DType.F32, 2, 4, 6);
    refused(1, "causalSoftmaxBackward", "dx",
        () -> d.causalSoftmaxBackward(s, x3, x3, 1f, d.alloc(DType.F32, 2, 4, 5)));
    refused(1, "logSumExp", "lse", () -> d.logSumExp(s, x, cols));
    refused(1, "pickTargets", "targets", () -> d.pickTargets(s, x, rows, 0, rows));
    refused(1, "pickTargets", "out", () -> d.pickTargets(s, x, targets, 0, cols));
    refused(1, "crossEntropyBackward", "lse",
        () -> d.crossEntropyBackward(s, x, cols, targets, 0, 1f, y));
    refused(1, "crossEntropyBackward", "dx",
        () -> d.crossEntropyBackward(s, x, rows, targets, 0, 1f, d.alloc(DType.BF16, 4, 6)));
    refused(2, "logSumExp", "x", () -> d.logSumExp(s, null, rows));
    // a transposed view is for logSumExp alone: the others read rows of consecutive elements
    Tensor t = d.view(x, 0, new long[] {6, 4}, new long[] {1, 6});
    refused(1, "softmax", "x", () -> d.softmax(s, t, d.alloc(DType.F32, 6, 4)));
    refused(1, "scale", "x", () -> d.scale(s, 2f, t));
    // refusals leave no trace
    d.fill(s, x, 1f);
    d.logSumExp(s, t, d.alloc(DType.F32, 6));
    d.rmsNorm(s, x, cols, 1e-5f, y, rows);
    assertThat(read(y)).as("rmsNorm of ones with gamma 0").containsOnly(0f);
  }

  // ---- errors ----------------------------------------------------------------------------------

  @Test
  public void shapeDtypeAndHandleErrorsAreRefusedAtEnqueue() {
    Tensor a = d.alloc(DType.F32, 3, 4), b = d.alloc(DType.F32, 5, 2), c = d.alloc(DType.F32, 3, 2);
    assertThat(refused(1, "gemm", "op\\(b\\)", () -> d.gemm(s, false, false, 1f, a, b, 0f, c)))
        .isEqualTo("op(a) is [3,4] but op(b) is [5,2]: inner dimensions differ");
    Tensor h = d.alloc(DType.BF16, 3, 4);
    assertThat(refused(1, "gelu", "x", () -> d.gelu(s, h, a)))
        .isEqualTo("x is BF16 [3,4] but must be F32");
    refused(2, "add", "y", () -> d.add(s, a, null, a));
    assertThat(refused(1, "add", "y", () -> d.add(s, a, d.alloc(DType.F32, 4, 3), a)))
        .isEqualTo("x is [3,4] but y is [4,3]: shapes must be equal");
    Tensor ints = d.alloc(DType.I32, 4);
    assertThat(refused(1, "copy", "src", () -> d.copy(s, ints, d.alloc(DType.F32, 4))))
        .isEqualTo("src is I32 but dst is F32: only F32 <-> BF16 casts exist");
    assertThat(refused(1, "topk", "k",
        () -> d.topk(s, a, 0, d.alloc(DType.F32, 3, 1), d.alloc(DType.I32, 3, 1))))
        .isEqualTo("k is 0 but x is [3,4]: k must be in 1..4");
    assertThat(refused(1, "random", "b", () -> d.random(s, a, 1, Distribution.UNIFORM, 2, 1)))
        .isEqualTo("UNIFORM needs a <= b, got [2, 1)");
    AdamParams badBeta = new AdamParams(0.1f, 1, 0.999f, 1e-8f, 0);
    Tensor one = d.alloc(DType.F32, 1);
    assertThat(refused(1, "adam", "beta1", () -> d.adam(s, one, one, one, one, badBeta, 1)))
        .isEqualTo("beta1 1 and beta2 0.999 must be in [0, 1)");
    assertThat(refused(1, "write", "t", () -> d.write(a, new float[5])))
        .isEqualTo("count is 5 but t is [3,4] (12 elements)");
    assertThatThrownBy(() -> d.readInts(a)).isInstanceOf(DeviceException.class);
    // refusals leave no trace: the device goes on
    d.fill(s, a, 2f);
    d.scale(s, 3f, a);
    assertThat(read(a)).containsOnly(6f);
  }

  @Test
  public void aClosedOrForeignTensorIsAnErrorNeverACrash() {
    try (Fabric two = open(2)) {
      Device d0 = two.device(0);
      Stream s0 = d0.computeStream();
      Tensor gone = d0.alloc(DType.F32, 3, 4), base = d0.alloc(DType.F32, 3, 4);
      Tensor view = d0.view(base, 0, new long[] {3, 2}, new long[] {4, 1});
      gone.close();
      gone.close();  // idempotent
      refused(2, "scale", "x", () -> d0.scale(s0, 2f, gone));
      refused(2, "add", "x", () -> d0.add(s0, gone, view, view));
      base.close();  // the view keeps its storage alive
      d0.fill(s0, view, 4f);
      d0.synchronize();
      assertThat(d0.readFloats(view)).containsOnly(4f);
      Tensor foreign = two.device(1).alloc(DType.F32, 3, 4);
      refused(2, "scale", "x", () -> d0.scale(s0, 2f, foreign));
      // a tensor closed while an op that uses it is queued: the op still sees it
      Tensor big = d0.alloc(DType.F32, 128, 128), out = d0.alloc(DType.F32, 128, 128);
      d0.fill(s0, big, 1f);
      d0.gemm(s0, false, false, 1f, big, big, 0f, out);
      big.close();
      d0.synchronize();
      assertThat(d0.readFloats(out)).containsOnly(128f);
    }
  }

  /** A data error found while running poisons the stream; synchronize reports it once. */
  @Test
  public void aRunTimeErrorIsReportedBySynchronizeAndTheDeviceLivesOn() {
    Tensor a = d.alloc(DType.F32, 3, 4), idx = d.alloc(DType.I32, 2, 1);
    Tensor dst = d.alloc(DType.F32, 2, 4);
    d.write(idx, new int[] {1, 9});
    d.gatherRows(s, a, idx, null, 0f, dst);
    assertThatThrownBy(d::synchronize).isInstanceOf(DeviceException.class)
        .hasMessageContaining("index[1,0] = 9 but src has 3 rows");
    d.fill(s, a, 2f);
    d.scale(s, 3f, a);
    d.synchronize();
    assertThat(d.readFloats(a)).containsOnly(6f);
  }

  @Test
  public void communicatorErrorsAreRefusedAtEnqueue() {
    try (Fabric two = open(2)) {
      Device d0 = two.device(0);
      Stream s0 = d0.computeStream();
      Tensor a = d0.alloc(DType.F32, 3, 4);
      Communicator comm = d0.newCommunicator("tp", new int[] {0, 1}, 0);
      assertThat(comm.name()).isEqualTo("tp");
      assertThat(comm.ranks()).containsExactly(0, 1);
      assertThat(comm.index()).isZero();
      assertThat(comm.size()).isEqualTo(2);
      assertThat(refused(1, "allGather", "out", () -> d0.allGather(s0, comm, a, a, null)))
          .isEqualTo("in is [3,4], out is [3,4], group size 2: all-gather needs out dim 0 = group"
              + " size * in dim 0");
      assertThat(refused(1, "allToAll", "in", () -> d0.allToAll(s0, comm,
          d0.alloc(DType.F32, 5, 2), d0.alloc(DType.F32, 5, 2), null)))
          .isEqualTo("in is [5,2], out is [5,2], group size 2: all-to-all needs equal shapes with"
              + " dim 0 divisible by the group size");
      assertThat(refused(1, "allGather", "out", () -> d0.allGather(s0, comm,
          d0.alloc(DType.F32, 4), d0.alloc(DType.BF16, 8), null)))
          .isEqualTo("in is F32 but out is BF16: dtypes must be equal");
      assertThatThrownBy(() -> d0.newCommunicator("x", new int[] {1}, 0))
          .isInstanceOf(DeviceException.class).hasMessageContaining("rank 0");
      comm.close();
      refused(2, "allReduce", "communicator", () -> d0.allReduce(s0, comm, a, a, null));
    }
  }

  // ---- collectives -----------------------------------------------------------------------------

  /** Multiples of 1/4 below 64: exact in BF16, and their sums exact in fp32. */
  static float val(int rank, int i) {
    return (rank * 8 + i % 13) * 0.25f;
  }

  static Communicator[] communicators(Fabric f, String name, int p) {
    Communicator[] c = new Communicator[p];
    for (int r = 0; r < p; r++) {
      c[r] = f.device(r).newCommunicator(name, iota(p), 0);
    }
    return c;
  }

  static void synchronizeAll(Fabric f) {
    for (int r = 0; r < f.worldSize(); r++) {
      f.device(r).synchronize();
    }
  }

  @ParameterizedTest(name = "{0} ranks")
  @ValueSource(ints = {2, 4, 8})
  public void allFourCollectivesMoveTheRightData(int p) {
    int b = 3, m = 5, blk = b * m;
    try (Fabric f = open(p)) {
      for (DType dt : new DType[] {DType.F32, DType.BF16}) {
        Communicator[] c = communicators(f, "g-" + dt, p);
        Tensor[][] t = new Tensor[p][];
        for (int r = 0; r < p; r++) {
          Device d = f.device(r);
          Stream s = d.computeStream();
          float[] x = new float[p * blk];
          for (int i = 0; i < x.length; i++) {
            x[i] = val(r, i);
          }
          Tensor in = d.alloc(dt, p * b, m), a2a = d.alloc(dt, p * b, m);
          Tensor ag = d.alloc(dt, p * p * b, m), rs = d.alloc(dt, b, m);
          Tensor ar = d.alloc(dt, p * b, m), inPlace = d.alloc(dt, p * b, m);
          d.write(in, x);
          d.write(inPlace, x);
          d.allToAll(s, c[r], in, a2a, null);
          d.allGather(s, c[r], in, ag, null);
          d.reduceScatter(s, c[r], in, rs, null);
          d.allReduce(s, c[r], in, ar, null);
          d.allReduce(s, c[r], inPlace, inPlace, null);
          t[r] = new Tensor[] {a2a, ag, rs, ar, inPlace};
        }
        synchronizeAll(f);
        for (int r = 0; r < p; r++) {
          Device d = f.device(r);
          float[] A = d.readFloats(t[r][0]), G = d.readFloats(t[r][1]), R = d.readFloats(t[r][2]);
          float[] S = d.readFloats(t[r][3]), IP = d.readFloats(t[r][4]);
          String at = p + " ranks, " + dt + ", rank " + r;
          for (int j = 0; j < p; j++) {
            for (int e = 0; e < blk; e++) {
              assertThat(A[j * blk + e]).as("all-to-all %s, block %d [%d]", at, j, e)
                  .isEqualTo(val(j, r * blk + e));
            }
            for (int e = 0; e < p * blk; e++) {
              assertThat(G[j * p * blk + e]).as("all-gather %s, block %d [%d]", at, j, e)
                  .isEqualTo(val(j, e));
            }
          }
          for (int e = 0; e < p * blk; e++) {
            float sum = 0;
            for (int j = 0; j < p; j++) {
              sum += val(j, e);
            }
            assertThat(S[e]).as("all-reduce %s [%d]", at, e).isEqualTo(sum);
            assertThat(IP[e]).as("all-reduce in place %s [%d]", at, e).isEqualTo(sum);
            if (e >= r * blk && e < (r + 1) * blk) {
              assertThat(R[e - r * blk]).as("reduce-scatter %s [%d]", at, e).isEqualTo(sum);
            }
          }
        }
        for (Communicator x : c) {
          x.close();
        }
      }
    }
  }

  /** Strided views in and out: a capacity slice of each block, the rest of out untouched. */
  @Test
  public void allToAllOfCapacitySlices() {
    int p = 2, cap = 6, c0 = 2, c = 3, m = 4;
    try (Fabric f = open(p)) {
      Communicator[] ep = communicators(f, "ep", p);
      Tensor[] outs = new Tensor[p];
      Event[] done = new Event[p];
      for (int r = 0; r < p; r++) {
        Device d = f.device(r);
        Tensor in = d.alloc(DType.F32, p, cap, m);
        outs[r] = d.alloc(DType.F32, p, cap, m);
        float[] x = new float[p * cap * m];
        for (int i = 0; i < x.length; i++) {
          x[i] = val(r, i);
        }
        d.write(in, x);
        long[] shape = {p, c, m}, strides = {cap * m, m, 1};
        done[r] = d.newEvent();
        d.allToAll(d.computeStream(), ep[r], d.view(in, c0 * m, shape, strides),
            d.view(outs[r], c0 * m, shape, strides), done[r]);
      }
      for (int r = 0; r < p; r++) {
        Device d = f.device(r);
        d.synchronize(done[r]);
        assertThat(d.query(done[r])).isTrue();
        float[] got = d.readFloats(outs[r]);
        for (int j = 0; j < p; j++) {
          for (int cc = 0; cc < cap; cc++) {
            for (int e = 0; e < m; e++) {
              float want = cc >= c0 && cc < c0 + c ? val(j, (r * cap + cc) * m + e) : 0f;
              assertThat(got[(j * cap + cc) * m + e])
                  .as("rank %d block %d row %d [%d]", r, j, cc, e)
                  .isEqualTo(want);
            }
          }
        }
      }
    }
  }

  /**
   * Collectives match by issue order per communicator: rank 0 issues on A then B, rank 1 on B
   * then A, and each pair still meets its own; two on one communicator meet in order.
   */
  @Test
  public void collectivesMatchInIssueOrderPerCommunicator() {
    int p = 2, n = 8;
    try (Fabric f = open(p)) {
      Communicator[] ca = communicators(f, "a", p), cb = communicators(f, "b", p);
      Tensor[][] out = new Tensor[p][3];
      for (int r = 0; r < p; r++) {
        Device d = f.device(r);
        Stream st = d.computeStream();
        Tensor x1 = d.alloc(DType.F32, n), x2 = d.alloc(DType.F32, n), y = d.alloc(DType.F32, n);
        d.fill(st, x1, 1 + r);
        d.fill(st, x2, 10 * (1 + r));
        d.fill(st, y, 100 * (1 + r));
        for (int i = 0; i < 3; i++) {
          out[r][i] = d.alloc(DType.F32, n);
        }
        if (r == 0) {
          d.allReduce(st, ca[r], x1, out[r][0], null);
          d.allReduce(st, ca[r], x2, out[r][1], null);
          d.allReduce(st, cb[r], y, out[r][2], null);
        } else {
          d.allReduce(st, cb[r], y, out[r][2], null);
          d.allReduce(st, ca[r], x1, out[r][0], null);
          d.allReduce(st, ca[r], x2, out[r][1], null);
        }
      }
      synchronizeAll(f);
      for (int r = 0; r < p; r++) {
        Device d = f.device(r);
        assertThat(d.readFloats(out[r][0])).as("first on a, rank %d", r).containsOnly(3f);
        assertThat(d.readFloats(out[r][1])).as("second on a, rank %d", r).containsOnly(30f);
        assertThat(d.readFloats(out[r][2])).as("only on b, rank %d", r).containsOnly(300f);
      }
    }
  }

  /** A collective issued from a stream sees what that stream computed before it, on every rank. */
  @Test
  public void aCollectiveWaitsForItsStreamsEarlierWork() {
    int p = 2, n = 128;
    try (Fabric f = open(p)) {
      Communicator[] c = communicators(f, "ep", p);
      Tensor[] out = new Tensor[p];
      for (int r = 0; r < p; r++) {
        Device d = f.device(r);
        Stream st = d.newStream("producer");
        Tensor a = d.alloc(DType.F32, n, n), x = d.alloc(DType.F32, n, n);
        out[r] = d.alloc(DType.F32, n, n);
        d.fill(st, a, 1f + r);
        d.gemm(st, false, false, 1f, a, a, 0f, x);  // n (1 + r)^2
        d.allReduce(st, c[r], x, out[r], null);
      }
      synchronizeAll(f);
      for (int r = 0; r < p; r++) {
        assertThat(f.device(r).readFloats(out[r])).as("rank %d", r).containsOnly(n * (1f + 4f));
      }
    }
  }

  /** Members that issue different collectives, or different shapes, all fail on synchronize. */
  @Test
  public void mismatchedCollectivesFailOnEveryRank() {
    int p = 2;
    try (Fabric f = open(p)) {
      Communicator[] c = communicators(f, "ep", p);
      for (int r = 0; r < p; r++) {
        Device d = f.device(r);
        Tensor x = d.alloc(DType.F32, 2, 3), y = d.alloc(DType.F32, 2, 3);
        Tensor g = d.alloc(DType.F32, 4, 3);
        if (r == 0) {
          d.allToAll(d.computeStream(), c[r], x, y, null);
        } else {
          d.allGather(d.computeStream(), c[r], x, g, null);
        }
      }
      for (int r = 0; r < p; r++) {
        Device d = f.device(r);
        assertThatThrownBy(d::synchronize).as("rank %d", r).isInstanceOf(DeviceException.class)
            .satisfies(e -> {
              assertThat(((DeviceException) e).code()).isEqualTo(4);
              // both kinds, by the names timelines give them
              assertThat(e.getMessage()).contains("all_to_all").contains("all_gather");
            });
      }
    }
    try (Fabric f = open(p)) {
      Communicator[] c = communicators(f, "tp", p);
      for (int r = 0; r < p; r++) {
        Device d = f.device(r);
        Tensor x = d.alloc(DType.F32, 2 + 2 * r, 3);
        d.allReduce(d.computeStream(), c[r], x, x, null);
      }
      for (int r = 0; r < p; r++) {
        Device d = f.device(r);
        assertThatThrownBy(d::synchronize).as("rank %d", r).isInstanceOf(DeviceException.class)
            .satisfies(e -> assertThat(((DeviceException) e).code()).isEqualTo(4));
      }
    }
  }

  /** A member that closes its endpoint fails the collectives waiting for it, instead of a hang. */
  @Test
  public void closingACommunicatorFailsAPeersPendingCollective() {
    int p = 4;
    try (Fabric f = open(p)) {
      Communicator[] c = communicators(f, "ep", p);
      for (int r = 0; r < p - 1; r++) {
        Device d = f.device(r);
        Tensor x = d.alloc(DType.F32, 4, 3);
        d.allReduce(d.computeStream(), c[r], x, x, null);
      }
      c[p - 1].close();
      for (int r = 0; r < p - 1; r++) {
        Device d = f.device(r);
        assertThatThrownBy(d::synchronize).as("rank %d", r).isInstanceOf(DeviceException.class)
            .satisfies(e -> assertThat(((DeviceException) e).code()).isEqualTo(3));
      }
      f.device(p - 1).synchronize();  // the closer has nothing pending
    }
  }

  /**
   * shift on 2 and 4 ranks, offsets 1, -1 and n + 1 (the same as 1), F32 and BF16, issued from a
   * stream other than compute after work of its own there: member r receives member (r - offset)
   * mod n's input, and the timeline shows it on the communicator's queue.
   */
  @ParameterizedTest(name = "{0} ranks")
  @ValueSource(ints = {2, 4})
  public void shiftMovesEveryMembersInputAlongTheRing(int p) {
    int rows = 3, m = 5;
    try (Fabric f = open(p)) {
      for (DType dt : new DType[] {DType.F32, DType.BF16}) {
        Communicator[] c = communicators(f, "cp-" + dt, p);
        for (int offset : new int[] {1, -1, p + 1}) {
          Tensor[] out = new Tensor[p];
          Event[] done = new Event[p];
          for (int r = 0; r < p; r++) {
            Device d = f.device(r);
            Stream ring = d.newStream("ring-" + dt + offset);
            float[] x = new float[rows * m];
            for (int i = 0; i < x.length; i++) {
              x[i] = val(r, i);
            }
            Tensor in = d.alloc(dt, rows, m);
            out[r] = d.alloc(dt, rows, m);
            d.write(in, x);
            d.fill(ring, out[r], -1f);  // the shift waits for it, then overwrites it
            done[r] = d.newEvent();
            d.shift(ring, c[r], offset, in, out[r], done[r]);
          }
          for (int r = 0; r < p; r++) {
            Device d = f.device(r);
            d.synchronize(done[r]);
            int from = Math.floorMod(r - offset, p);
            float[] got = d.readFloats(out[r]);
            for (int i = 0; i < got.length; i++) {
              assertThat(got[i]).as("%s offset %d: rank %d [%d] from rank %d", dt, offset, r, i,
                  from).isEqualTo(val(from, i));
            }
          }
        }
        synchronizeAll(f);
        for (int r = 0; r < p; r++) {
          String queue = c[r].queue().name();
          List<OpRecord> shifts = f.device(r).drainTimeline().stream()
              .filter(x -> x.op().equals("shift")).toList();
          assertThat(shifts).as("rank %d's shifts", r).hasSize(3)
              .allSatisfy(x -> assertThat(x.stream()).isEqualTo(queue));
        }
        for (Communicator x : c) {
          x.close();
        }
      }
    }
  }

  /** Members that shift by different offsets, or issue another collective, all fail. */
  @Test
  public void mismatchedShiftsFailOnEveryRank() {
    int p = 4;
    try (Fabric f = open(p)) {
      Communicator[] c = communicators(f, "cp", p);
      for (int r = 0; r < p; r++) {
        Device d = f.device(r);
        Tensor x = d.alloc(DType.F32, 2, 3), y = d.alloc(DType.F32, 2, 3);
        d.shift(d.computeStream(), c[r], r == 2 ? -1 : 1, x, y, null);
      }
      for (int r = 0; r < p; r++) {
        Device d = f.device(r);
        assertThatThrownBy(d::synchronize).as("offsets differ, rank %d", r)
            .isInstanceOf(DeviceException.class)
            .satisfies(e -> assertThat(((DeviceException) e).code()).isEqualTo(4));
      }
    }
    try (Fabric f = open(2)) {
      Communicator[] c = communicators(f, "cp", 2);
      for (int r = 0; r < 2; r++) {
        Device d = f.device(r);
        Tensor x = d.alloc(DType.F32, 2, 3), y = d.alloc(DType.F32, 2, 3);
        if (r == 0) {
          d.shift(d.computeStream(), c[r], 1, x, y, null);
        } else {
          d.allReduce(d.computeStream(), c[r], x, y, null);
        }
      }
      for (int r = 0; r < 2; r++) {
        Device d = f.device(r);
        assertThatThrownBy(d::synchronize).as("shift against all-reduce, rank %d", r)
            .isInstanceOf(DeviceException.class)
            .satisfies(e -> {
              assertThat(((DeviceException) e).code()).isEqualTo(4);
              assertThat(e.getMessage()).contains("shift").contains("all_reduce");
            });
      }
      Device d0 = f.device(0);
      assertThat(refused(1, "shift", "out", () -> d0.shift(d0.computeStream(), c[0], 1,
          d0.alloc(DType.F32, 2, 3), d0.alloc(DType.F32, 3, 3), null)))
          .isEqualTo("in is [2,3], out is [3,3], group size 2: shift needs equal shapes");
    }
  }
}
