package dev.pipemoe.engine.sim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pipemoe.engine.device.AdamParams;
import dev.pipemoe.engine.device.Communicator;
import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.DeviceException;
import dev.pipemoe.engine.device.Distribution;
import dev.pipemoe.engine.device.LinkModel;
import dev.pipemoe.engine.device.Stream;
import dev.pipemoe.engine.device.Tensor;
import dev.pipemoe.nativebridge.NativeFabric;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The simulated device's kernels against the native runtime's, on the same inputs: bit for bit,
 * except GEMM (BLAS's summation order), GELU (glibc's erff is not always correctly rounded) and
 * the transformer ops built on exp (nor is glibc's expf), which agree to fp32 rounding. It lives
 * here, in the engine's package, because it needs both the native library and the package-private
 * kernels. The Device contract suite holds each device to a
 * reference within a tolerance; this holds the two to each other, bit for bit, and compares their
 * refusals' wording, which a suite of one device at a time cannot.
 */
class SimNativeAgreementTest {
  static final long SEED = 0x5eed_51L;
  static NativeFabric fabric;
  static Device dev;
  static Stream st;
  final SplittableRandom r = new SplittableRandom(SEED);

  /** One operand on both devices, equal values. */
  record Pair(Tensor n, SimTensor s) {}

  @BeforeAll
  static void open() {
    fabric = NativeFabric.open(2, LinkModel.unmodelled());
    dev = fabric.device(0);
    st = dev.computeStream();
  }

  @AfterAll
  static void close() {
    fabric.close();
  }

  static Pair floats(Device d, DType dtype, float[] v, long... shape) {
    Tensor n = d.alloc(dtype, shape);
    d.write(n, v);
    long[] strides = new long[shape.length];
    long size = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      strides[i] = size;
      size *= shape[i];
    }
    SimTensor s = new SimTensor(d.rank(), dtype, shape, strides, 0,
        SimTensor.Storage.of(dtype, size, true));
    for (int i = 0; i < v.length; i++) {
      s.storage.floats()[i] = dtype == DType.BF16 ? SimKernels.bf16(v[i]) : v[i];
    }
    return new Pair(n, s);
  }

  static Pair f32(float[] v, long... shape) {
    return floats(dev, DType.F32, v, shape);
  }

  static Pair i32(int[] v, long... shape) {
    Tensor n = dev.alloc(DType.I32, shape);
    dev.write(n, v);
    SimTensor s = new SimTensor(0, DType.I32, shape, shape.length == 2 ? new long[] {shape[1], 1}
        : new long[] {1}, 0, SimTensor.Storage.of(DType.I32, v.length, true));
    System.arraycopy(v, 0, s.storage.ints(), 0, v.length);
    return new Pair(n, s);
  }

  float[] gaussian(int n, double scale) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (r.nextGaussian() * scale);
    }
    return v;
  }

  static float[] sim(Pair p) {
    return p.s.storage.floats().clone();  // contiguous: storage order is row-major
  }

  static void same(String op, Pair p) {
    same(op, p, dev);
  }

  static void same(String op, Pair p, Device d) {
    d.synchronize();
    if (p.s.dtype == DType.I32) {
      assertArrayEquals(d.readInts(p.n), p.s.storage.ints(), op + " (seed " + SEED + ")");
    } else {
      assertArrayEquals(d.readFloats(p.n), sim(p), op + " (seed " + SEED + ")");
    }
  }

  @Test
  void elementwiseOpsAgreeBitForBit() {
    int n = 4096;
    float[] x = gaussian(n, 3), y = gaussian(n, 1), v = gaussian(n, 1);
    for (int i = 0; i < n; i++) {
      v[i] = Math.abs(v[i]);
    }
    Pair px = f32(x, n), py = f32(y, n), pz = f32(gaussian(n, 1), n);
    Pair sum = f32(new float[n], n), acc = f32(y, n), sw = f32(new float[n], n);
    Pair da = f32(new float[n], n), db = f32(new float[n], n);
    Pair loss = f32(new float[1], 1), dy = f32(new float[n], n);
    Pair p = f32(x, n), m = f32(y, n), pv = f32(v, n);
    AdamParams hp = new AdamParams(1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f);
    dev.add(st, px.n, py.n, sum.n);
    SimKernels.add(px.s, py.s, sum.s);
    dev.axpy(st, 0.3f, px.n, acc.n);
    SimKernels.axpy(0.3f, px.s, acc.s);
    dev.scale(st, 1.7f, acc.n);
    SimKernels.scale(1.7f, acc.s);
    dev.swiglu(st, px.n, py.n, sw.n);
    SimKernels.swiglu(px.s, py.s, sw.s);
    dev.swigluBackward(st, px.n, py.n, pz.n, da.n, db.n);
    SimKernels.swigluBackward(px.s, py.s, pz.s, da.s, db.s);
    dev.mseLoss(st, px.n, py.n, 0.5f, loss.n, dy.n);
    SimKernels.mseLoss(px.s, py.s, 0.5f, loss.s, dy.s);
    dev.adam(st, p.n, pz.n, m.n, pv.n, hp, 7);
    SimKernels.adam(p.s, pz.s, m.s, pv.s, hp, 7);
    same("add", sum);
    same("axpy, scale", acc);
    same("swiglu", sw);
    same("swigluBackward da", da);
    same("swigluBackward db", db);
    same("mseLoss loss", loss);
    same("mseLoss dy", dy);
    same("adam param", p);
    same("adam m", m);
    same("adam v", pv);
  }

  @Test
  void geluAgreesToAnUlpOfErf() {
    int n = 4096;
    float[] x = gaussian(n, 3);
    Pair px = f32(x, n), py = f32(gaussian(n, 1), n), y = f32(new float[n], n);
    Pair dx = f32(new float[n], n);
    dev.gelu(st, px.n, y.n);
    SimKernels.gelu(px.s, y.s);
    dev.geluBackward(st, px.n, py.n, dx.n);
    SimKernels.geluBackward(px.s, py.s, dx.s);
    dev.synchronize();
    float[] ny = dev.readFloats(y.n), ndx = dev.readFloats(dx.n);
    for (int i = 0; i < n; i++) {
      // an ulp of erf (2^-24 near 1) times x / 2, plus the result's own rounding
      assertEquals(ny[i], sim(y)[i], 1e-7 * Math.abs(x[i]) + Math.ulp(ny[i]), "gelu(" + x[i] + ")");
      assertEquals(ndx[i], sim(dx)[i], 1e-7 * Math.abs(py.s.storage.floats()[i]) + Math.ulp(ndx[i]),
          "geluBackward(" + x[i] + ")");
    }
  }

  @Test
  void fillsAndCopiesAgreeBitForBit() {
    int n = 4096;
    for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
      for (Distribution dist : Distribution.values()) {
        Pair t = floats(dev, dtype, new float[n], n);
        dev.random(st, t.n, 99, dist, -0.5f, 1.5f);
        SimKernels.random(t.s, 99, dist, -0.5f, 1.5f);
        same("random " + dtype + " " + dist, t);
      }
    }
    Pair src = f32(gaussian(n, 3), n), cast = floats(dev, DType.BF16, new float[n], n);
    Pair filled = floats(dev, DType.BF16, new float[n], n);
    dev.copy(st, src.n, cast.n);
    SimKernels.copy(src.s, cast.s);
    dev.fill(st, filled.n, 0.1f);
    SimKernels.fill(filled.s, 0.1f);
    same("copy F32 -> BF16", cast);
    same("fill BF16", filled);
  }

  @Test
  void routingAndRowOpsAgreeBitForBit() {
    int tokens = 64, experts = 8, k = 2, capacity = 12, hidden = 32;
    float[] logits = gaussian(tokens * experts, 2);
    for (int row = 0; row < tokens; row += 2) {  // ties for the top place in every other row
      int e1 = r.nextInt(experts), e2 = (e1 + 1 + r.nextInt(experts - 1)) % experts;
      logits[row * experts + e1] = logits[row * experts + e2] = 9;
    }
    Pair x = f32(logits, tokens, experts), probs = f32(new float[tokens * experts], tokens, experts);
    Pair dProbs = f32(new float[tokens * experts], tokens, experts);
    Pair dyProbs = f32(gaussian(tokens * experts, 1), tokens, experts);
    Pair values = f32(new float[tokens * k], tokens, k), indices = i32(new int[tokens * k], tokens, k);
    Pair dx = f32(new float[tokens * experts], tokens, experts);
    Pair dValues = f32(gaussian(tokens * k, 1), tokens, k);
    Pair expertRow = i32(new int[] {7, 6, 5, 4, 3, 2, 1, 0}, experts);
    Pair slots = i32(new int[tokens * k], tokens, k);
    Pair slotToken = i32(new int[experts * capacity], experts * capacity);
    Pair dropped = i32(new int[1], 1), weights = f32(new float[tokens * k], tokens, k);
    Pair dWeights = f32(gaussian(tokens * k, 1), tokens, k), dGate = f32(new float[tokens * k], tokens, k);
    Pair loss = f32(new float[1], 1), dAux = f32(gaussian(tokens * experts, 1), tokens, experts);
    dev.softmax(st, x.n, probs.n);
    SimKernels.softmax(x.s, probs.s);
    dev.softmaxBackward(st, probs.n, dyProbs.n, dProbs.n);
    SimKernels.softmaxBackward(probs.s, dyProbs.s, dProbs.s);
    dev.topk(st, x.n, k, values.n, indices.n);
    SimKernels.topk(x.s, k, values.s, indices.s);
    dev.topkBackward(st, dValues.n, indices.n, dx.n);
    SimKernels.topkBackward(dValues.s, indices.s, dx.s);
    dev.moeRoute(st, indices.n, expertRow.n, capacity, slots.n, slotToken.n, dropped.n);
    SimKernels.moeRoute(indices.s, expertRow.s, capacity, slots.s, slotToken.s, dropped.s);
    dev.moeGateWeights(st, values.n, slots.n, weights.n);
    SimKernels.moeGateWeights(values.s, slots.s, weights.s);
    dev.moeGateWeightsBackward(st, values.n, slots.n, dWeights.n, dGate.n);
    SimKernels.moeGateWeightsBackward(values.s, slots.s, dWeights.s, dGate.s);
    dev.moeAuxLoss(st, probs.n, indices.n, 0.01f, loss.n, dAux.n);
    SimKernels.moeAuxLoss(probs.s, indices.s, 0.01f, loss.s, dAux.s);
    for (Object[] c : new Object[][] {{"softmax", probs}, {"softmaxBackward", dProbs},
        {"topk values", values}, {"topk indices", indices}, {"topkBackward", dx},
        {"moeRoute slots", slots}, {"moeRoute slotToken", slotToken}, {"moeRoute dropped", dropped},
        {"moeGateWeights", weights}, {"moeGateWeightsBackward", dGate}, {"moeAuxLoss", loss},
        {"moeAuxLoss dProbs", dAux}}) {
      same((String) c[0], (Pair) c[1]);
    }

    dev.synchronize();
    Pair tokenOfSlot = i32(dev.readInts(slotToken.n), experts * capacity, 1);
    Pair in = f32(gaussian(tokens * hidden, 1), tokens, hidden);
    Pair dispatched = f32(new float[experts * capacity * hidden], experts * capacity, hidden);
    Pair combined = f32(gaussian(tokens * hidden, 1), tokens, hidden);
    Pair scattered = f32(new float[experts * capacity * hidden], experts * capacity, hidden);
    Pair dots = f32(new float[tokens * k], tokens, k);
    dev.gatherRows(st, in.n, tokenOfSlot.n, null, 0, dispatched.n);
    SimKernels.gatherRows(in.s, tokenOfSlot.s, null, 0, dispatched.s);
    dev.gatherRows(st, dispatched.n, slots.n, weights.n, 0.5f, combined.n);
    SimKernels.gatherRows(dispatched.s, slots.s, weights.s, 0.5f, combined.s);
    dev.scatterAddRows(st, in.n, slots.n, weights.n, scattered.n);
    SimKernels.scatterAddRows(in.s, slots.s, weights.s, scattered.s);
    dev.gatherDot(st, in.n, dispatched.n, slots.n, dots.n);
    SimKernels.gatherDot(in.s, dispatched.s, slots.s, dots.s);
    same("gatherRows (dispatch)", dispatched);
    same("gatherRows (combine)", combined);
    same("scatterAddRows", scattered);
    same("gatherDot", dots);
  }

  @Test
  void transformerRowOpsAgreeBitForBit() {
    int rows = 48, cols = 40, b = 3, q = 16, k = 24, vocab = 20, first = 10;
    Pair x = f32(gaussian(rows * cols, 2), rows, cols), gamma = f32(gaussian(cols, 1), cols);
    Pair y = f32(new float[rows * cols], rows, cols), rstd = f32(new float[rows], rows);
    Pair dy = f32(gaussian(rows * cols, 1), rows, cols), dx = f32(new float[rows * cols], rows, cols);
    Pair dGamma = f32(gaussian(cols, 1), cols);
    dev.rmsNorm(st, x.n, gamma.n, 1e-5f, y.n, rstd.n);
    SimKernels.rmsNorm(x.s, gamma.s, 1e-5f, y.s, rstd.s);
    dev.rmsNormBackward(st, x.n, gamma.n, rstd.n, dy.n, dx.n, dGamma.n);
    SimKernels.rmsNormBackward(x.s, gamma.s, rstd.s, dy.s, dx.s, dGamma.s);
    Pair scores = f32(gaussian(b * q * k, 4), b, q, k), probs = f32(new float[b * q * k], b, q, k);
    Pair dProbs = f32(gaussian(b * q * k, 1), b, q, k), dScores = f32(new float[b * q * k], b, q, k);
    dev.causalSoftmax(st, scores.n, 0.125f, 8, probs.n);
    SimKernels.causalSoftmax(scores.s, 0.125f, 8, probs.s);
    dev.causalSoftmaxBackward(st, probs.n, dProbs.n, 0.125f, dScores.n);
    SimKernels.causalSoftmaxBackward(probs.s, dProbs.s, 0.125f, dScores.s);
    Pair logits = f32(gaussian(rows * vocab, 5), rows, vocab), lse = f32(new float[rows], rows);
    int[] t = new int[rows];
    for (int i = 0; i < rows; i++) {
      t[i] = r.nextInt(3 * vocab) - 5;  // in the shard [first, first + vocab) or not
    }
    Pair targets = i32(t, rows), picked = f32(new float[rows], rows);
    Pair dLogits = f32(new float[rows * vocab], rows, vocab);
    dev.logSumExp(st, logits.n, lse.n);
    SimKernels.logSumExp(logits.s, lse.s);
    dev.pickTargets(st, logits.n, targets.n, first, picked.n);
    SimKernels.pickTargets(logits.s, targets.s, first, picked.s);
    dev.crossEntropyBackward(st, logits.n, lse.n, targets.n, first, 1f / rows, dLogits.n);
    SimKernels.crossEntropyBackward(logits.s, lse.s, targets.s, first, 1f / rows, dLogits.s);
    for (Object[] c : new Object[][] {{"rmsNorm", y}, {"rmsNorm rstd", rstd}, {"rmsNormBackward", dx},
        {"rmsNormBackward dGamma", dGamma}, {"pickTargets", picked}}) {
      same((String) c[0], (Pair) c[1]);
    }
    // glibc's expf is not always correctly rounded (StrictMath's exp rounded to float is), so what
    // goes through exp agrees to an ulp of the largest value, not bit for bit
    for (Object[] c : new Object[][] {{"causalSoftmax", probs}, {"causalSoftmaxBackward", dScores},
        {"logSumExp", lse}, {"crossEntropyBackward", dLogits}}) {
      closeToAnUlp((String) c[0], (Pair) c[1]);
    }
  }

  /** Native and simulated values within 2^-22 of the largest magnitude (two ulps of it). */
  static void closeToAnUlp(String op, Pair p) {
    dev.synchronize();
    float[] n = dev.readFloats(p.n), s = sim(p);
    double worst = 0, scale = 1e-30;
    for (int i = 0; i < n.length; i++) {
      worst = Math.max(worst, Math.abs((double) n[i] - s[i]));
      scale = Math.max(scale, Math.abs(s[i]));
    }
    assertTrue(worst <= 0x1p-22 * scale, op + " (seed " + SEED + "): differs by " + worst + " of " + scale);
  }

  @Test
  void gemmAgreesToFp32Rounding() {
    for (int[] mnk : new int[][] {{8, 8, 8}, {64, 48, 96}, {33, 17, 500}}) {
      int m = mnk[0], n = mnk[1], k = mnk[2];
      Pair a = f32(gaussian(m * k, 1), m, k), b = f32(gaussian(k * n, 1), k, n);
      Pair c = f32(gaussian(m * n, 1), m, n);
      dev.gemm(st, false, false, 1.5f, a.n, b.n, 0.5f, c.n);
      SimKernels.gemm(false, false, 1.5f, a.s, b.s, 0.5f, c.s);
      dev.synchronize();
      float[] got = dev.readFloats(c.n);
      for (int i = 0; i < got.length; i++) {
        // fp32 sums of k unit-variance products: errors of about sqrt(k) 2^-24 each
        assertEquals(got[i], sim(c)[i], 1e-6 * k, "gemm " + m + "x" + n + "x" + k + " [" + i + "]");
      }
    }
  }

  @Test
  void collectivesAgreeBitForBit() {
    Device dev1 = fabric.device(1);
    Stream st1 = dev1.computeStream();
    Communicator c0 = dev.newCommunicator("agree", new int[] {0, 1}, 0);
    Communicator c1 = dev1.newCommunicator("agree", new int[] {0, 1}, 0);
    for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
      Pair a0 = floats(dev, dtype, gaussian(64, 100), 8, 8);
      Pair a1 = floats(dev1, dtype, gaussian(64, 0.01), 8, 8);
      Pair o0 = floats(dev, dtype, new float[64], 8, 8), o1 = floats(dev1, dtype, new float[64], 8, 8);
      Pair h0 = floats(dev, dtype, new float[32], 4, 8), h1 = floats(dev1, dtype, new float[32], 4, 8);
      SimTensor[] ins = {a0.s, a1.s};
      dev.allReduce(st, c0, a0.n, o0.n, null);
      dev1.allReduce(st1, c1, a1.n, o1.n, null);
      SimKernels.allReduce(ins, new SimTensor[] {o0.s, o1.s});
      dev.reduceScatter(st, c0, a0.n, h0.n, null);
      dev1.reduceScatter(st1, c1, a1.n, h1.n, null);
      SimKernels.reduceScatter(ins, new SimTensor[] {h0.s, h1.s});
      dev.allToAll(st, c0, a0.n, a0.n, null);  // in place
      dev1.allToAll(st1, c1, a1.n, a1.n, null);
      SimKernels.allToAll(ins, ins);
      dev.shift(st, c0, 3, a0.n, a0.n, null);  // in place, offset past the group size
      dev1.shift(st1, c1, 3, a1.n, a1.n, null);
      SimKernels.shift(ins, ins, 3);
      same("allReduce " + dtype, o0);
      same("allReduce " + dtype, o1, dev1);
      same("reduceScatter " + dtype, h0);
      same("reduceScatter " + dtype, h1, dev1);
      same("allToAll, then shift, in place " + dtype, a0);
      same("allToAll, then shift, in place " + dtype, a1, dev1);
    }
    c0.close();
    c1.close();
  }

  /** A zero-filled operand on both devices. */
  static Pair zeros(DType dtype, long... shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return dtype == DType.I32 ? i32(new int[(int) n], shape) : floats(dev, dtype, new float[(int) n], shape);
  }

  /** A call refused by both devices with the same code and the same message after the op's name. */
  static void refusedAlike(String op, Runnable nativeCall, Runnable simCheck) {
    DeviceException nat = assertThrows(DeviceException.class, nativeCall::run, op);
    DeviceException sim = assertThrows(DeviceException.class, simCheck::run, op);
    assertEquals(nat.code(), sim.code(), op + ": " + nat.getMessage());
    assertEquals(nat.getMessage().replaceFirst("^pm_[a-z_]+: ", ""),
        sim.getMessage().replaceFirst("^" + op + ": ", ""), op);
  }

  @Test
  void badCallsAreRefusedAlike() {
    Pair a23 = zeros(DType.F32, 2, 3), b42 = zeros(DType.F32, 4, 2), c22 = zeros(DType.F32, 2, 2);
    Pair v4 = zeros(DType.F32, 4), v3 = zeros(DType.F32, 3), i2 = zeros(DType.I32, 2, 1);
    Pair one = zeros(DType.F32, 1), two = zeros(DType.F32, 2), ints = zeros(DType.I32, 4);
    Pair x23 = zeros(DType.F32, 2, 3), idx31 = zeros(DType.I32, 3, 1), src = zeros(DType.F32, 4, 3);
    Pair k3 = zeros(DType.F32, 2, 3), s3 = zeros(DType.I32, 2, 3), slots = zeros(DType.I32, 4, 2);
    Pair experts = zeros(DType.I32, 3), tokenOf = zeros(DType.I32, 5), dropped = zeros(DType.I32, 1);
    Pair rows5 = zeros(DType.F32, 5, 2), bf4 = zeros(DType.BF16, 4);
    AdamParams badBeta = new AdamParams(0.1f, 1, 0.999f, 1e-8f, 0);
    AdamParams badEps = new AdamParams(0.1f, 0.9f, 0.999f, 0, 1e-5f);
    Communicator comm = dev.newCommunicator("refuse", new int[] {0, 1}, 0);
    refusedAlike("gemm", () -> dev.gemm(st, false, false, 1, a23.n, b42.n, 0, c22.n),
        () -> SimChecks.gemm(0, false, false, 1, a23.s, b42.s, 0, c22.s));
    refusedAlike("gemm", () -> dev.gemm(st, false, false, 1, a23.n, b42.n, 0, v4.n),
        () -> SimChecks.gemm(0, false, false, 1, a23.s, b42.s, 0, v4.s));
    refusedAlike("add", () -> dev.add(st, v4.n, v3.n, v4.n),
        () -> SimChecks.add(0, v4.s, v3.s, v4.s));
    refusedAlike("gelu", () -> dev.gelu(st, ints.n, v4.n),
        () -> SimChecks.gelu(0, ints.s, v4.s));
    refusedAlike("copy", () -> dev.copy(st, ints.n, v4.n),
        () -> SimChecks.copy(0, ints.s, v4.s));
    refusedAlike("random", () -> dev.random(st, v4.n, 1, Distribution.UNIFORM, 2, 1),
        () -> SimChecks.random(0, v4.s, 1, Distribution.UNIFORM, 2, 1));
    refusedAlike("topk", () -> dev.topk(st, x23.n, 0, two.n, i2.n),
        () -> SimChecks.topk(0, x23.s, 0, two.s, i2.s));
    refusedAlike("gatherRows", () -> dev.gatherRows(st, src.n, idx31.n, null, 0, x23.n),
        () -> SimChecks.gatherRows(0, src.s, idx31.s, null, 0, x23.s));
    refusedAlike("moeRoute", () -> dev.moeRoute(st, slots.n, experts.n, 2, slots.n, tokenOf.n, dropped.n),
        () -> SimChecks.moeRoute(0, slots.s, experts.s, 2, slots.s, tokenOf.s, dropped.s));
    refusedAlike("moeGateWeights", () -> dev.moeGateWeights(st, k3.n, s3.n, k3.n),
        () -> SimChecks.moeGateWeights(0, k3.s, s3.s, k3.s));
    refusedAlike("mseLoss", () -> dev.mseLoss(st, v4.n, v4.n, 1, two.n, v4.n),
        () -> SimChecks.mseLoss(0, v4.s, v4.s, 1, two.s, v4.s));
    refusedAlike("adam", () -> dev.adam(st, one.n, one.n, one.n, one.n, badBeta, 1),
        () -> SimChecks.adam(0, one.s, one.s, one.s, one.s, badBeta, 1));
    refusedAlike("adam", () -> dev.adam(st, one.n, one.n, one.n, one.n, badEps, 1),
        () -> SimChecks.adam(0, one.s, one.s, one.s, one.s, badEps, 1));
    refusedAlike("allToAll", () -> dev.allToAll(st, comm, rows5.n, rows5.n, null),
        () -> SimChecks.allToAll(0, rows5.s, rows5.s, 2));
    refusedAlike("allGather", () -> dev.allGather(st, comm, v4.n, bf4.n, null),
        () -> SimChecks.allGather(0, v4.s, bf4.s, 2));
    v3.n.close();
    v3.s.close();
    DeviceException nat = assertThrows(DeviceException.class, () -> dev.scale(st, 2, v3.n));
    DeviceException sim = assertThrows(DeviceException.class, () -> SimChecks.scale(0, 2, v3.s));
    assertEquals(nat.code(), sim.code(), "a freed tensor: " + nat.getMessage() + " / " + sim.getMessage());
    comm.close();
  }
}
