package dev.pipemoe.engine.sim;

import static dev.pipemoe.engine.sim.SimFixtures.DEVICE;
import static dev.pipemoe.engine.sim.SimFixtures.gaussian;
import static dev.pipemoe.engine.sim.SimFixtures.padded;
import static dev.pipemoe.engine.sim.SimFixtures.read;
import static dev.pipemoe.engine.sim.SimFixtures.readInts;
import static dev.pipemoe.engine.sim.SimFixtures.view;
import static dev.pipemoe.engine.sim.SimFixtures.zeros;
import static dev.pipemoe.engine.testing.Gen.intIn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pipemoe.engine.device.AdamParams;
import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.Distribution;
import dev.pipemoe.engine.testing.Property;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Seeded properties of the simulated device's numerics: strided views compute exactly what
 * contiguous tensors do, and each op agrees with a naive reference loop. Every op's operands pass
 * {@link SimChecks} first, so the checks accept what the kernels handle.
 */
class SimKernelsPropertyTest {

  /** Where a case's tensors live: contiguous, or padded views at random offsets. */
  record Layout(SplittableRandom r, boolean strided) {
    SimTensor f32(float[] values, long... shape) {
      return of(DType.F32, values, shape);
    }

    SimTensor of(DType dtype, float[] values, long... shape) {
      SimTensor t = strided ? padded(r, dtype, shape) : zeros(dtype, shape);
      SimFixtures.write(t, values);
      return t;
    }

    SimTensor i32(int[] values, long... shape) {
      SimTensor t = strided ? padded(r, DType.I32, shape) : zeros(DType.I32, shape);
      SimFixtures.write(t, values);
      return t;
    }
  }

  /** Runs a case contiguous and strided; the outputs (floats, then ints as floats) must be equal. */
  private static void sameUnderStrides(SplittableRandom r, Function<Layout, List<SimTensor>> run) {
    List<SimTensor> dense = run.apply(new Layout(r.split(), false));
    List<SimTensor> strided = run.apply(new Layout(r.split(), true));
    for (int i = 0; i < dense.size(); i++) {
      SimTensor d = dense.get(i), s = strided.get(i);
      if (d.dtype == DType.I32) {
        assertArrayEquals(readInts(d), readInts(s), "output " + i);
      } else {
        assertArrayEquals(read(d), read(s), "output " + i);
      }
    }
  }

  private static long[] shape(SplittableRandom r, int minRank, int maxRank) {
    long[] s = new long[intIn(r, minRank, maxRank)];
    for (int d = 0; d < s.length; d++) {
      s[d] = intIn(r, 0, 3);
    }
    return s;
  }

  private static int numel(long... shape) {
    return (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
  }

  private static int[] ints(SplittableRandom r, int n, int lo, int hi) {
    int[] v = new int[n];
    for (int i = 0; i < n; i++) {
      v[i] = intIn(r, lo, hi);
    }
    return v;
  }

  // ---- strided views == contiguous tensors ---------------------------------------------------

  @Test
  void elementwiseOpsGiveTheSameValuesOnStridedViews() {
    Property.forAll(200, r -> r.nextLong(), seed -> {
      SplittableRandom r = new SplittableRandom(seed);
      long[] s = shape(r, 0, 4);
      int n = numel(s);
      float[] x = gaussian(r, n), y = gaussian(r, n), z = gaussian(r, n), w = gaussian(r, n);
      float[] v = gaussian(r, n);
      for (int i = 0; i < n; i++) {
        v[i] = Math.abs(v[i]);
      }
      float alpha = (float) r.nextGaussian();
      long rseed = r.nextLong();
      sameUnderStrides(r, l -> {
        List<SimTensor> out = new ArrayList<>();
        SimTensor tx = l.f32(x, s), ty = l.f32(y, s), tz = l.f32(z, s), o = l.f32(w, s);
        SimChecks.add(DEVICE, tx, ty, o);
        SimKernels.add(tx, ty, o);
        out.add(o);
        SimTensor ax = l.f32(w, s);
        SimChecks.axpy(DEVICE, alpha, tx, ax);
        SimKernels.axpy(alpha, tx, ax);
        SimKernels.scale(alpha, ax);
        out.add(ax);
        for (int op = 0; op < 4; op++) {
          SimTensor a = l.f32(w, s), b = l.f32(w, s);
          switch (op) {
            case 0 -> SimKernels.gelu(tx, a);
            case 1 -> SimKernels.geluBackward(tx, ty, a);
            case 2 -> SimKernels.swiglu(tx, ty, a);
            default -> SimKernels.swigluBackward(tx, ty, tz, a, b);
          }
          out.add(a);
          out.add(b);
        }
        SimTensor loss = l.f32(new float[1], 1), dy = l.f32(w, s);
        SimChecks.mseLoss(DEVICE, tx, ty, alpha, loss, dy);
        SimKernels.mseLoss(tx, ty, alpha, loss, dy);
        out.add(loss);
        out.add(dy);
        SimTensor p = l.f32(x, s), m = l.f32(y, s), vv = l.f32(v, s);
        AdamParams hp = new AdamParams(0.01f, 0.9f, 0.99f, 1e-6f, 0.1f);
        SimChecks.adam(DEVICE, p, tz, m, vv, hp, 3);
        SimKernels.adam(p, tz, m, vv, hp, 3);
        out.addAll(List.of(p, m, vv));
        SimTensor h = l.of(DType.BF16, w, s);
        SimChecks.copy(DEVICE, tx, h);
        SimKernels.copy(tx, h);
        SimTensor rnd = l.f32(w, s), filled = l.i32(new int[n], s);
        SimKernels.random(rnd, rseed, Distribution.NORMAL, 0, 1);
        SimKernels.fill(filled, alpha * 10);
        out.addAll(List.of(h, rnd, filled));
        return out;
      });
    });
  }

  @Test
  void rowOpsGiveTheSameValuesOnStridedViews() {
    Property.forAll(200, r -> r.nextLong(), seed -> {
      SplittableRandom r = new SplittableRandom(seed);
      int rows = intIn(r, 0, 4), cols = intIn(r, 1, 5), k = intIn(r, 1, cols);
      int srcRows = intIn(r, 1, 4), kk = intIn(r, 1, 3);
      float[] x = gaussian(r, rows * cols), dy = gaussian(r, rows * cols);
      float[] src = gaussian(r, srcRows * cols), dst = gaussian(r, rows * cols);
      float[] w = gaussian(r, rows * kk), dv = gaussian(r, rows * k);
      int[] gather = ints(r, rows * kk, -1, srcRows - 1), chosen = ints(r, rows * k, 0, cols - 1);
      float beta = SimFixtures.gaussian(r, 1)[0] * (r.nextBoolean() ? 0 : 1);
      boolean weighted = r.nextBoolean();
      sameUnderStrides(r, l -> {
        SimTensor tx = l.f32(x, rows, cols), y = l.f32(dst, rows, cols);
        SimChecks.softmax(DEVICE, tx, y);
        SimKernels.softmax(tx, y);
        SimTensor dx = l.f32(dst, rows, cols), tdy = l.f32(dy, rows, cols);
        SimChecks.softmaxBackward(DEVICE, y, tdy, dx);
        SimKernels.softmaxBackward(y, tdy, dx);
        SimTensor values = l.f32(new float[rows * k], rows, k);
        SimTensor indices = l.i32(new int[rows * k], rows, k);
        SimChecks.topk(DEVICE, tx, k, values, indices);
        SimKernels.topk(tx, k, values, indices);
        SimTensor tdx = l.f32(dst, rows, cols), tdv = l.f32(dv, rows, k);
        SimTensor tchosen = l.i32(chosen, rows, k);
        SimChecks.topkBackward(DEVICE, tdv, tchosen, tdx);
        SimKernels.topkBackward(tdv, tchosen, tdx);
        SimTensor tsrc = l.f32(src, srcRows, cols), tindex = l.i32(gather, rows, kk);
        SimTensor tw = weighted ? l.f32(w, rows, kk) : null, g = l.f32(dst, rows, cols);
        SimChecks.gatherRows(DEVICE, tsrc, tindex, tw, beta, g);
        SimKernels.gatherRows(tsrc, tindex, tw, beta, g);
        SimTensor sc = l.f32(src, srcRows, cols);
        SimChecks.scatterAddRows(DEVICE, tx, tindex, tw, sc);
        SimKernels.scatterAddRows(tx, tindex, tw, sc);
        SimTensor dot = l.f32(w, rows, kk);
        SimChecks.gatherDot(DEVICE, tx, tsrc, tindex, dot);
        SimKernels.gatherDot(tx, tsrc, tindex, dot);
        return List.of(y, dx, values, indices, tdx, g, sc, dot);
      });
    });
  }

  @Test
  void routingOpsGiveTheSameValuesOnStridedViews() {
    Property.forAll(200, r -> r.nextLong(), seed -> {
      SplittableRandom r = new SplittableRandom(seed);
      int tokens = intIn(r, 0, 6), experts = intIn(r, 1, 4), k = intIn(r, 1, 2);
      int capacity = intIn(r, 0, tokens);
      int[] chosen = ints(r, tokens * k, 0, experts - 1), slotIds = ints(r, tokens * k, -1, 3);
      List<Integer> perm = new ArrayList<>();
      for (int e = 0; e < experts; e++) {
        perm.add(e);
      }
      java.util.Collections.shuffle(perm, new java.util.Random(r.nextLong()));
      int[] expertRow = perm.stream().mapToInt(Integer::intValue).toArray();
      float[] probs = gaussian(r, tokens * experts), v = gaussian(r, tokens * k);
      float[] dw = gaussian(r, tokens * k);
      for (int i = 0; i < v.length; i++) {
        v[i] = Math.abs(v[i]);
      }
      sameUnderStrides(r, l -> {
        SimTensor ti = l.i32(chosen, tokens, k), er = l.i32(expertRow, experts);
        SimTensor slots = l.i32(new int[tokens * k], tokens, k);
        SimTensor slotToken = l.i32(new int[experts * capacity], (long) experts * capacity);
        SimTensor dropped = l.i32(new int[1], 1);
        SimChecks.moeRoute(DEVICE, ti, er, capacity, slots, slotToken, dropped);
        SimKernels.moeRoute(ti, er, capacity, slots, slotToken, dropped);
        SimTensor tv = l.f32(v, tokens, k), tsl = l.i32(slotIds, tokens, k);
        SimTensor weights = l.f32(dw, tokens, k), dValues = l.f32(dw, tokens, k);
        SimTensor tdw = l.f32(dw, tokens, k);
        SimChecks.moeGateWeights(DEVICE, tv, tsl, weights);
        SimKernels.moeGateWeights(tv, tsl, weights);
        SimChecks.moeGateWeightsBackward(DEVICE, tv, tsl, tdw, dValues);
        SimKernels.moeGateWeightsBackward(tv, tsl, tdw, dValues);
        SimTensor tp = l.f32(probs, tokens, experts), loss = l.f32(new float[1], 1);
        SimTensor dProbs = l.f32(probs, tokens, experts);
        SimChecks.moeAuxLoss(DEVICE, tp, ti, 0.01f, loss, dProbs);
        SimKernels.moeAuxLoss(tp, ti, 0.01f, loss, dProbs);
        return List.of(slots, slotToken, dropped, weights, dValues, loss, dProbs);
      });
    });
  }

  // ---- against naive references --------------------------------------------------------------

  /** An operand of logical shape [batches?, rows, cols], maybe broadcast over batches (stride 0). */
  private static SimTensor matrix(SplittableRandom r, int rank, int batches, int rows, int cols,
      boolean broadcast) {
    if (rank == 2) {
      return padded(r, DType.F32, rows, cols);
    }
    if (!broadcast) {
      return padded(r, DType.F32, batches, rows, cols);
    }
    SimTensor one = padded(r, DType.F32, rows, cols);
    return view(one, 0, new long[] {batches, rows, cols}, new long[] {0, one.strides[0], 1});
  }

  /** Element (batch, i, j) of op(t) for a rank-2 or rank-3 operand, read through at(). */
  private static double op(SimTensor t, boolean trans, int batch, int i, int j) {
    int r = t.shape.length;
    long rows = t.shape[r - 2], cols = t.shape[r - 1];
    long row = trans ? j : i, col = trans ? i : j;
    long logical = (r == 3 ? batch * rows * cols : 0) + row * cols + col;
    return t.storage.floats()[(int) t.at(logical)];
  }

  @Test
  void gemmMatchesANaiveLoop() {
    Property.forAll(300, r -> r.nextLong(), seed -> {
      SplittableRandom r = new SplittableRandom(seed);
      int rank = intIn(r, 2, 3), batches = rank == 3 ? intIn(r, 1, 3) : 1;
      int m = intIn(r, 0, 5), n = intIn(r, 0, 5), k = intIn(r, 0, 5);
      boolean ta = r.nextBoolean(), tb = r.nextBoolean();
      boolean bcast = rank == 3 && r.nextBoolean(), bcastA = r.nextBoolean();
      SimTensor a = matrix(r, rank, batches, ta ? k : m, ta ? m : k, bcast && bcastA);
      SimTensor b = matrix(r, rank, batches, tb ? n : k, tb ? k : n, bcast && !bcastA);
      SimTensor c = matrix(r, rank, batches, m, n, false);
      float alpha = r.nextBoolean() ? 0 : (float) r.nextGaussian();
      float beta = r.nextBoolean() ? 0 : (float) r.nextGaussian();
      float[] before = read(c);
      SimChecks.gemm(DEVICE, ta, tb, alpha, a, b, beta, c);
      SimKernels.gemm(ta, tb, alpha, a, b, beta, c);
      float[] after = read(c);
      for (int bt = 0; bt < batches; bt++) {
        for (int i = 0; i < m; i++) {
          for (int j = 0; j < n; j++) {
            double sum = 0, mag = 0;
            for (int p = 0; p < k; p++) {
              double t = op(a, ta, bt, i, p) * op(b, tb, bt, p, j);
              sum += t;
              mag += Math.abs(t);
            }
            int at = (bt * m + i) * n + j;
            double expect = alpha * sum + beta * before[at];
            assertEquals(expect, after[at], 1e-6 * (Math.abs(alpha) * mag + Math.abs(expect)),
                "c[" + bt + "," + i + "," + j + "]");
          }
        }
      }
    });
  }

  @Test
  void activationGradientsMatchTheirDerivatives() {
    Property.forAll(100, r -> r.nextLong(), seed -> {
      SplittableRandom r = new SplittableRandom(seed);
      int n = 16;
      float[] x = new float[n];
      for (int i = 0; i < n; i++) {
        x[i] = (float) (r.nextGaussian() * 3);
      }
      float[] ones = new float[n];
      Arrays.fill(ones, 1);
      SimTensor tx = SimFixtures.f32(x, n), one = SimFixtures.f32(ones, n);
      SimTensor y = zeros(DType.F32, n), dx = zeros(DType.F32, n), db = zeros(DType.F32, n);
      SimKernels.gelu(tx, y);
      float[] gelu = read(y);
      SimKernels.geluBackward(tx, one, dx);
      float[] dgelu = read(dx);
      SimKernels.swigluBackward(tx, one, one, dx, db);
      for (int i = 0; i < n; i++) {
        double v = x[i], phi = Math.exp(-v * v / 2) / Math.sqrt(2 * Math.PI);
        double cdf = 0.5 * (1 + SimKernels.erf(v / Math.sqrt(2)));
        assertEquals(v * cdf, gelu[i], 1e-6 * (1 + Math.abs(v)), "gelu(" + v + ")");
        assertEquals(cdf + v * phi, dgelu[i], 1e-6, "gelu'(" + v + ")");
        double s = 1 / (1 + Math.exp(-v));
        assertEquals(s * (1 + v * (1 - s)), read(dx)[i], 1e-6, "silu'(" + v + ")");
        assertEquals(v * s, read(db)[i], 1e-6 * (1 + Math.abs(v)), "silu(" + v + ")");
      }
    });
  }

  @Test
  void softmaxRowsSumToOneAndTopkMatchesASort() {
    Property.forAll(200, r -> r.nextLong(), seed -> {
      SplittableRandom r = new SplittableRandom(seed);
      int rows = intIn(r, 1, 4), cols = intIn(r, 1, 6), k = intIn(r, 1, cols);
      float[] x = new float[rows * cols];
      for (int i = 0; i < x.length; i++) {
        x[i] = intIn(r, -3, 3) * 0.5f;  // coarse: plenty of ties
      }
      SimTensor tx = SimFixtures.f32(x, rows, cols), y = zeros(DType.F32, rows, cols);
      SimKernels.softmax(tx, y);
      SimTensor values = zeros(DType.F32, rows, k), indices = zeros(DType.I32, rows, k);
      SimKernels.topk(tx, k, values, indices);
      for (int row = 0; row < rows; row++) {
        final int base = row * cols;
        double z = 0;
        for (int e = 0; e < cols; e++) {
          z += Math.exp(x[base + e]);
        }
        for (int e = 0; e < cols; e++) {
          assertEquals(Math.exp(x[base + e]) / z, read(y)[base + e], 1e-6);
        }
        Integer[] order = new Integer[cols];
        for (int e = 0; e < cols; e++) {
          order[e] = e;
        }
        Arrays.sort(order, (p, q) -> Float.compare(x[base + q], x[base + p]));  // stable
        for (int j = 0; j < k; j++) {
          assertEquals(order[j], readInts(indices)[row * k + j], "row " + row + " choice " + j);
          assertEquals(x[base + order[j]], read(values)[row * k + j]);
        }
      }
    });
  }

  @Test
  void moeRouteMatchesQueuesPerExpert() {
    Property.forAll(300, r -> r.nextLong(), seed -> {
      SplittableRandom r = new SplittableRandom(seed);
      int tokens = intIn(r, 0, 8), experts = intIn(r, 1, 4), k = intIn(r, 1, 2);
      int capacity = intIn(r, 0, 4);
      int[] chosen = ints(r, tokens * k, 0, experts - 1);
      int[] expertRow = new int[experts];
      for (int e = 0; e < experts; e++) {
        expertRow[e] = experts - 1 - e;
      }
      SimTensor slots = zeros(DType.I32, tokens, k);
      SimTensor slotToken = zeros(DType.I32, (long) experts * capacity);
      SimTensor dropped = zeros(DType.I32, 1);
      SimKernels.moeRoute(SimFixtures.i32(chosen, tokens, k), SimFixtures.i32(expertRow, experts),
          capacity, slots, slotToken, dropped);
      List<List<Integer>> queues = new ArrayList<>();
      for (int e = 0; e < experts; e++) {
        queues.add(new ArrayList<>());
      }
      int[] expectSlots = new int[tokens * k], expectTokens = new int[experts * capacity];
      Arrays.fill(expectTokens, -1);
      int drops = 0;
      for (int j = 0; j < k; j++) {
        for (int s = 0; s < tokens; s++) {
          List<Integer> q = queues.get(chosen[s * k + j]);
          int slot = q.size() < capacity ? expertRow[chosen[s * k + j]] * capacity + q.size() : -1;
          if (slot < 0) {
            drops++;
          } else {
            q.add(s);
            expectTokens[slot] = s;
          }
          expectSlots[s * k + j] = slot;
        }
      }
      assertArrayEquals(expectSlots, readInts(slots));
      assertArrayEquals(expectTokens, readInts(slotToken));
      assertEquals(drops, readInts(dropped)[0]);
    });
  }

  @Test
  void rowMoversMatchNaiveLoops() {
    Property.forAll(200, r -> r.nextLong(), seed -> {
      SplittableRandom r = new SplittableRandom(seed);
      int rows = intIn(r, 0, 4), cols = intIn(r, 1, 4), n = intIn(r, 1, 4), k = intIn(r, 1, 3);
      float[] src = gaussian(r, n * cols), a = gaussian(r, rows * cols), w = gaussian(r, rows * k);
      int[] index = ints(r, rows * k, -1, n - 1);
      SimTensor tsrc = SimFixtures.f32(src, n, cols), ti = SimFixtures.i32(index, rows, k);
      SimTensor tw = SimFixtures.f32(w, rows, k), ta = SimFixtures.f32(a, rows, cols);
      SimTensor g = SimFixtures.f32(a, rows, cols), s = zeros(DType.F32, n, cols);
      SimTensor dot = zeros(DType.F32, rows, k);
      SimKernels.gatherRows(tsrc, ti, tw, 1, g);
      SimKernels.scatterAddRows(ta, ti, tw, s);
      SimKernels.gatherDot(ta, tsrc, ti, dot);
      float[] eg = a.clone(), es = new float[n * cols], ed = new float[rows * k];
      for (int row = 0; row < rows; row++) {
        for (int j = 0; j < k; j++) {
          int at = index[row * k + j];
          float d = 0;
          for (int c = 0; at >= 0 && c < cols; c++) {
            eg[row * cols + c] += w[row * k + j] * src[at * cols + c];
            es[at * cols + c] += w[row * k + j] * a[row * cols + c];
            d += a[row * cols + c] * src[at * cols + c];
          }
          ed[row * k + j] = d;
        }
      }
      assertArrayEquals(eg, read(g));
      assertArrayEquals(es, read(s));
      assertArrayEquals(ed, read(dot));
    });
  }

  @Test
  void collectivesMoveAndSumBlocksInMemberOrder() {
    Property.forAll(200, r -> r.nextLong(), seed -> {
      SplittableRandom r = new SplittableRandom(seed);
      int p = intIn(r, 1, 4), block = intIn(r, 0, 3), cols = intIn(r, 1, 3);
      DType dtype = r.nextBoolean() ? DType.F32 : DType.BF16;
      SimTensor[] in = new SimTensor[p], out = new SimTensor[p], back = new SimTensor[p];
      SimTensor[] sum = new SimTensor[p], part = new SimTensor[p], gathered = new SimTensor[p];
      for (int i = 0; i < p; i++) {
        in[i] = padded(r, dtype, (long) p * block, cols);
        out[i] = padded(r, dtype, (long) p * block, cols);
        back[i] = padded(r, dtype, (long) p * block, cols);
        sum[i] = padded(r, dtype, (long) p * block, cols);
        part[i] = padded(r, dtype, block, cols);
        gathered[i] = padded(r, dtype, (long) p * p * block, cols);
        SimChecks.allToAll(DEVICE, in[i], out[i], p);
        SimChecks.allReduce(DEVICE, in[i], sum[i], p);
        SimChecks.reduceScatter(DEVICE, in[i], part[i], p);
        SimChecks.allGather(DEVICE, in[i], gathered[i], p);
      }
      SimKernels.allToAll(in, out);
      SimKernels.allToAll(out, back);
      SimKernels.allReduce(in, sum);
      SimKernels.reduceScatter(in, part);
      SimKernels.allGather(in, gathered);
      int rowLen = block * cols;
      float[] expectSum = new float[p * rowLen];
      for (SimTensor t : in) {
        float[] v = read(t);
        for (int e = 0; e < v.length; e++) {
          expectSum[e] += v[e];
        }
      }
      for (int e = 0; e < expectSum.length; e++) {
        expectSum[e] = dtype == DType.BF16 ? SimKernels.bf16(expectSum[e]) : expectSum[e];
      }
      for (int i = 0; i < p; i++) {
        assertArrayEquals(read(in[i]), read(back[i]), "all-to-all twice is the identity");
        for (int j = 0; j < p; j++) {
          assertArrayEquals(Arrays.copyOfRange(read(in[j]), i * rowLen, (i + 1) * rowLen),
              Arrays.copyOfRange(read(out[i]), j * rowLen, (j + 1) * rowLen));
          assertArrayEquals(read(in[j]),
              Arrays.copyOfRange(read(gathered[i]), j * p * rowLen, (j + 1) * p * rowLen));
        }
        assertArrayEquals(expectSum, read(sum[i]));
        assertArrayEquals(Arrays.copyOfRange(expectSum, i * rowLen, (i + 1) * rowLen),
            read(part[i]));
      }
    });
  }

  @Test
  void randomDistributionsHaveTheirMoments() {
    SimTensor t = zeros(DType.F32, 20_000);
    SimKernels.random(t, 11, Distribution.NORMAL, 2, 3);
    double mean = 0, sq = 0;
    for (float v : read(t)) {
      mean += v / 20_000.0;
      sq += (double) v * v / 20_000.0;
    }
    // 20,000 draws: a standard error of 3 / 141 = 0.021 on the mean; allow about 5 of them
    assertEquals(2, mean, 0.1);
    assertEquals(3, Math.sqrt(sq - mean * mean), 0.1);
    SimKernels.random(t, 12, Distribution.UNIFORM, -1, 3);
    mean = 0;
    for (float v : read(t)) {
      assertTrue(v >= -1 && v < 3, "uniform in [-1, 3): " + v);
      mean += v / 20_000.0;
    }
    assertEquals(1, mean, 0.05);  // standard error 4 / sqrt(12 * 20,000) = 0.008
  }
}
