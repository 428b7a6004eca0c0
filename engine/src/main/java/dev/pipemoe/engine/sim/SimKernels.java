package dev.pipemoe.engine.sim;

import dev.pipemoe.engine.device.AdamParams;
import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.DeviceException;
import dev.pipemoe.engine.device.Distribution;

/**
 * The simulated device's numerics: one method per op of {@code Device}, with the native runtime's
 * semantics (native-bridge/native/src/kernels_*.cpp). Operands were checked by {@link SimChecks}
 * and hold values. Arithmetic is fp32 where the native kernel's is (Java's float arithmetic is
 * IEEE single without fused multiply-add, as the native build's baseline x86-64 code), and double
 * where it sums in double, in the same order, so that results agree to the last bit except GEMM
 * (BLAS's summation order) and GELU (glibc's erff is not always correctly rounded); see
 * docs/engine.md, "The simulated device's numerics and checks". Transcendentals use {@link
 * StrictMath}, so results are the same on every JVM. Data errors the native kernels find while
 * running (an index out of range) throw a {@link DeviceException} with the native message, after
 * the same partial writes.
 */
final class SimKernels {
  private static final int ERR_ARG = 1;
  private static final float FLT_EPSILON = 0x1p-23f;

  private SimKernels() {}

  // ---- fill, random, copy, GEMM --------------------------------------------------------------

  static void fill(SimTensor t, float value) {
    int[] it = index(t);
    if (t.dtype == DType.I32) {
      int v = cvttss2si(value);
      for (int i : it) {
        t.storage.ints()[i] = v;
      }
    } else {
      for (int i : it) {
        put(t, i, value);
      }
    }
  }

  /**
   * Element i (row-major) of t: w(c) = the c-th output of SplitMix64 seeded with seed. UNIFORM:
   * {@code a + (b - a) * (w(2i) >> 40) 2^-24} in double, then float, kept below b; NORMAL:
   * Box-Muller over {@code u1 = ((w(2i) >> 11) + 1) 2^-53} and {@code u2 = (w(2i+1) >> 11) 2^-53}.
   */
  static void random(SimTensor t, long seed, Distribution dist, float a, float b) {
    int[] it = index(t);
    for (int e = 0; e < it.length; e++) {
      float v;
      if (dist == Distribution.UNIFORM) {
        double u = (splitmix64(seed, 2L * e) >>> 40) * 0x1p-24;
        v = (float) (a + ((double) b - a) * u);
        v = v >= b && a < b ? Math.nextDown(b) : v;
      } else {
        double u1 = ((splitmix64(seed, 2L * e) >>> 11) + 1) * 0x1p-53;
        double u2 = (splitmix64(seed, 2L * e + 1) >>> 11) * 0x1p-53;
        v = (float) (a + b * StrictMath.sqrt(-2.0 * StrictMath.log(u1))
            * StrictMath.cos(2 * Math.PI * u2));
      }
      put(t, it[e], v);
    }
  }

  /** dst = src; F32 to BF16 rounds. Everything is read before anything is written. */
  static void copy(SimTensor src, SimTensor dst) {
    int[] is = index(src), id = index(dst);
    if (src.dtype == DType.I32) {
      int[] v = new int[is.length];
      for (int i = 0; i < is.length; i++) {
        v[i] = src.storage.ints()[is[i]];
      }
      for (int i = 0; i < id.length; i++) {
        dst.storage.ints()[id[i]] = v[i];
      }
    } else {
      write(dst, read(src));
    }
  }

  /**
   * c = alpha op(a) op(b) + beta c per batch (batch stride 0 broadcasts). BLAS's blocked summation
   * order cannot be reproduced, so each dot product is summed in double and rounded once: equal
   * to the native result within fp32 rounding, not bitwise. As in BLAS, beta 0 never reads c, and
   * alpha 0 (or k = 0) never reads a and b.
   */
  static void gemm(boolean transA, boolean transB, float alpha, SimTensor a, SimTensor b,
      float beta, SimTensor c) {
    int r = c.shape.length;
    long batches = r == 3 ? c.shape[0] : 1;
    long m = c.shape[r - 2], n = c.shape[r - 1], k = transA ? a.shape[r - 2] : a.shape[r - 1];
    // strides of op(a) [m,k] and op(b) [k,n]
    long am = a.strides[transA ? r - 1 : r - 2], ak = a.strides[transA ? r - 2 : r - 1];
    long bk = b.strides[transB ? r - 1 : r - 2], bn = b.strides[transB ? r - 2 : r - 1];
    float[] fa = a.storage.floats(), fb = b.storage.floats(), fc = c.storage.floats();
    for (long batch = 0; batch < batches; batch++) {
      long a0 = a.offset + (r == 3 ? batch * a.strides[0] : 0);
      long b0 = b.offset + (r == 3 ? batch * b.strides[0] : 0);
      long c0 = c.offset + (r == 3 ? batch * c.strides[0] : 0);
      for (long i = 0; i < m; i++) {
        for (long j = 0; j < n; j++) {
          int ci = (int) (c0 + i * c.strides[r - 2] + j * c.strides[r - 1]);
          double acc = 0;
          for (long p = 0; alpha != 0 && p < k; p++) {
            acc += (double) fa[(int) (a0 + i * am + p * ak)] * fb[(int) (b0 + p * bk + j * bn)];
          }
          double old = beta == 0 ? 0 : (double) beta * fc[ci];
          fc[ci] = (float) (alpha == 0 || k == 0 ? old : alpha * acc + old);
        }
      }
    }
  }

  // ---- elementwise and activations -----------------------------------------------------------

  static void add(SimTensor x, SimTensor y, SimTensor out) {
    int[] ix = index(x), iy = index(y), io = index(out);
    float[] fx = x.storage.floats(), fy = y.storage.floats(), fo = out.storage.floats();
    for (int i = 0; i < io.length; i++) {
      fo[io[i]] = fx[ix[i]] + fy[iy[i]];
    }
  }

  static void axpy(float alpha, SimTensor x, SimTensor y) {
    int[] ix = index(x), iy = index(y);
    float[] fx = x.storage.floats(), fy = y.storage.floats();
    for (int i = 0; i < iy.length; i++) {
      fy[iy[i]] += alpha * fx[ix[i]];
    }
  }

  static void scale(float alpha, SimTensor x) {
    float[] fx = x.storage.floats();
    for (int i : index(x)) {
      fx[i] *= alpha;
    }
  }

  static void gelu(SimTensor x, SimTensor y) {
    int[] ix = index(x), iy = index(y);
    float[] fx = x.storage.floats(), fy = y.storage.floats();
    for (int i = 0; i < iy.length; i++) {
      float v = fx[ix[i]];
      fy[iy[i]] = 0.5f * v * (1.0f + erff(v * SQRT1_2));
    }
  }

  static void geluBackward(SimTensor x, SimTensor dy, SimTensor dx) {
    int[] ix = index(x), idy = index(dy), idx = index(dx);
    float[] fx = x.storage.floats(), fdy = dy.storage.floats(), fdx = dx.storage.floats();
    for (int i = 0; i < idx.length; i++) {
      float v = fx[ix[i]];
      float cdf = 0.5f * (1.0f + erff(v * SQRT1_2));
      float pdf = INV_SQRT_2PI * expf(-0.5f * v * v);
      fdx[idx[i]] = fdy[idy[i]] * (cdf + v * pdf);
    }
  }

  static void swiglu(SimTensor a, SimTensor b, SimTensor y) {
    int[] ia = index(a), ib = index(b), iy = index(y);
    float[] fa = a.storage.floats(), fb = b.storage.floats(), fy = y.storage.floats();
    for (int i = 0; i < iy.length; i++) {
      float v = fa[ia[i]];
      fy[iy[i]] = v * sigmoid(v) * fb[ib[i]];
    }
  }

  static void swigluBackward(SimTensor a, SimTensor b, SimTensor dy, SimTensor da, SimTensor db) {
    int[] ia = index(a), ib = index(b), idy = index(dy), ida = index(da), idb = index(db);
    float[] fa = a.storage.floats(), fb = b.storage.floats(), fdy = dy.storage.floats();
    float[] fda = da.storage.floats(), fdb = db.storage.floats();
    for (int i = 0; i < ia.length; i++) {
      // read everything first: da or db may alias a, b or dy
      float v = fa[ia[i]], s = sigmoid(v), g = fdy[idy[i]], bv = fb[ib[i]];
      fda[ida[i]] = g * bv * s * (1.0f + v * (1.0f - s));
      fdb[idb[i]] = g * v * s;
    }
  }

  /** loss[0] = mean((y - target)^2) summed in double; dy = gradScale 2 (y - target) / numel. */
  static void mseLoss(SimTensor y, SimTensor target, float gradScale, SimTensor loss,
      SimTensor dy) {
    int[] iy = index(y), it = index(target), idy = index(dy);
    float[] fy = y.storage.floats(), ft = target.storage.floats(), fdy = dy.storage.floats();
    int numel = iy.length;
    float k = numel > 0 ? gradScale * 2.0f / numel : 0.0f;
    double sum = 0;
    for (int i = 0; i < numel; i++) {
      float d = fy[iy[i]] - ft[it[i]];
      sum += (double) d * d;
      fdy[idy[i]] = k * d;
    }
    loss.storage.floats()[(int) loss.offset] = numel > 0 ? (float) (sum / numel) : 0.0f;
  }

  /**
   * m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr (m/c1 / (sqrt(v/c2) + eps) + wd p) with
   * the bias corrections c = 1 - beta^step computed in double.
   */
  static void adam(SimTensor param, SimTensor grad, SimTensor m, SimTensor v, AdamParams hp,
      int step) {
    int[] ip = index(param), ig = index(grad), im = index(m), iv = index(v);
    float[] fp = param.storage.floats(), fg = grad.storage.floats();
    float[] fm = m.storage.floats(), fv = v.storage.floats();
    float b1 = hp.beta1(), b2 = hp.beta2(), lr = hp.lr(), eps = hp.eps(), wd = hp.weightDecay();
    float c1 = (float) (1.0 - StrictMath.pow(b1, step));
    float c2 = (float) (1.0 - StrictMath.pow(b2, step));
    for (int i = 0; i < ip.length; i++) {
      float g = fg[ig[i]];
      float mi = b1 * fm[im[i]] + (1.0f - b1) * g;
      float vi = b2 * fv[iv[i]] + (1.0f - b2) * g * g;
      fm[im[i]] = mi;
      fv[iv[i]] = vi;
      float w = fp[ip[i]];
      fp[ip[i]] = w - lr * ((mi / c1) / ((float) StrictMath.sqrt(vi / c2) + eps) + wd * w);
    }
  }

  // ---- rows: every operand is rank 2; element (r, c) is offset + r s0 + c s1 -------------------

  /** Row-wise softmax: max in fp32, exponentials summed in double. */
  static void softmax(SimTensor x, SimTensor y) {
    long rows = x.shape[0], cols = x.shape[1];
    float[] fx = x.storage.floats(), fy = y.storage.floats();
    for (long r = 0; r < rows; r++) {
      float mx = Float.NEGATIVE_INFINITY;
      for (long e = 0; e < cols; e++) {
        float v = fx[at(x, r, e)];
        mx = mx < v ? v : mx;  // std::max: a NaN never replaces the running maximum
      }
      double sum = 0;
      for (long e = 0; e < cols; e++) {
        float v = expf(fx[at(x, r, e)] - mx);
        fy[at(y, r, e)] = v;
        sum += v;
      }
      float inv = (float) (1.0 / sum);
      for (long e = 0; e < cols; e++) {
        fy[at(y, r, e)] *= inv;
      }
    }
  }

  static void softmaxBackward(SimTensor y, SimTensor dy, SimTensor dx) {
    long rows = y.shape[0], cols = y.shape[1];
    float[] fy = y.storage.floats(), fdy = dy.storage.floats(), fdx = dx.storage.floats();
    for (long r = 0; r < rows; r++) {
      double dot = 0;
      for (long e = 0; e < cols; e++) {
        dot += (double) fy[at(y, r, e)] * fdy[at(dy, r, e)];
      }
      for (long e = 0; e < cols; e++) {
        fdx[at(dx, r, e)] = fy[at(y, r, e)] * (fdy[at(dy, r, e)] - (float) dot);
      }
    }
  }

  /** k passes of selection per row; strictly greater wins, so ties keep the lower index. */
  static void topk(SimTensor x, int k, SimTensor values, SimTensor indices) {
    long rows = x.shape[0], cols = x.shape[1];
    float[] fx = x.storage.floats(), fv = values.storage.floats();
    int[] ii = indices.storage.ints();
    for (long r = 0; r < rows; r++) {
      for (int j = 0; j < k; j++) {
        long best = -1;
        for (long e = 0; e < cols; e++) {
          boolean taken = false;
          for (int t = 0; t < j; t++) {
            taken |= ii[at(indices, r, t)] == e;
          }
          if (!taken && (best < 0 || fx[at(x, r, e)] > fx[at(x, r, best)])) {
            best = e;
          }
        }
        ii[at(indices, r, j)] = (int) best;
        fv[at(values, r, j)] = fx[at(x, r, best)];
      }
    }
  }

  static void topkBackward(SimTensor dValues, SimTensor indices, SimTensor dx) {
    long rows = dValues.shape[0], k = dValues.shape[1], cols = dx.shape[1];
    float[] fdv = dValues.storage.floats(), fdx = dx.storage.floats();
    int[] ii = indices.storage.ints();
    for (long r = 0; r < rows; r++) {
      for (long j = 0; j < k; j++) {
        int e = ii[at(indices, r, j)];
        if (e < 0 || e >= cols) {
          throw new DeviceException(ERR_ARG, "topkBackward: indices[" + r + "," + j + "] = " + e
              + " is outside dx's " + cols + " columns");
        }
        fdx[at(dx, r, e)] += fdv[at(dValues, r, j)];
      }
    }
  }

  /** A row's indices are all checked before the row is written; beta 0 never reads dst. */
  static void gatherRows(SimTensor src, SimTensor index, SimTensor weights, float beta,
      SimTensor dst) {
    long rows = dst.shape[0], cols = dst.shape[1], k = index.shape[1], n = src.shape[0];
    float[] fs = src.storage.floats(), fd = dst.storage.floats();
    int[] ii = index.storage.ints();
    for (long r = 0; r < rows; r++) {
      for (long j = 0; j < k; j++) {
        checkIndex("gatherRows", r, j, ii[at(index, r, j)], n, "src");
      }
      for (long c = 0; c < cols && beta != 1.0f; c++) {
        fd[at(dst, r, c)] = beta == 0.0f ? 0.0f : fd[at(dst, r, c)] * beta;
      }
      for (long j = 0; j < k; j++) {
        int s = ii[at(index, r, j)];
        if (s < 0) {
          continue;
        }
        float w = weights == null ? 1.0f : weights.storage.floats()[at(weights, r, j)];
        for (long c = 0; c < cols; c++) {
          fd[at(dst, r, c)] += w * fs[at(src, s, c)];
        }
      }
    }
  }

  static void scatterAddRows(SimTensor src, SimTensor index, SimTensor weights, SimTensor dst) {
    long rows = src.shape[0], cols = src.shape[1], k = index.shape[1], n = dst.shape[0];
    float[] fs = src.storage.floats(), fd = dst.storage.floats();
    int[] ii = index.storage.ints();
    for (long r = 0; r < rows; r++) {
      for (long j = 0; j < k; j++) {
        int d = ii[at(index, r, j)];
        if (d < 0) {
          continue;
        }
        checkIndex("scatterAddRows", r, j, d, n, "dst");
        float w = weights == null ? 1.0f : weights.storage.floats()[at(weights, r, j)];
        for (long c = 0; c < cols; c++) {
          fd[at(dst, d, c)] += w * fs[at(src, r, c)];
        }
      }
    }
  }

  /** out[r,j] = dot(a[r], src[index[r,j]]) summed in fp32, 0 for a negative index. */
  static void gatherDot(SimTensor a, SimTensor src, SimTensor index, SimTensor out) {
    long rows = a.shape[0], cols = a.shape[1], k = index.shape[1], n = src.shape[0];
    float[] fa = a.storage.floats(), fs = src.storage.floats(), fo = out.storage.floats();
    int[] ii = index.storage.ints();
    for (long r = 0; r < rows; r++) {
      for (long j = 0; j < k; j++) {
        int s = ii[at(index, r, j)];
        float dot = 0.0f;
        if (s >= 0) {
          checkIndex("gatherDot", r, j, s, n, "src");
          for (long c = 0; c < cols; c++) {
            dot += fa[at(a, r, c)] * fs[at(src, s, c)];
          }
        }
        fo[at(out, r, j)] = dot;
      }
    }
  }

  // ---- MoE routing ---------------------------------------------------------------------------

  /** First-come capacity assignment; choice 0 of every token queues before any choice 1. */
  static void moeRoute(SimTensor indices, SimTensor expertRow, int capacity, SimTensor slots,
      SimTensor slotToken, SimTensor dropped) {
    long tokens = indices.shape[0], k = indices.shape[1];
    int experts = (int) expertRow.shape[0];
    int[] ii = indices.storage.ints(), isl = slots.storage.ints(), ist = slotToken.storage.ints();
    int[] er = new int[experts];
    for (int e = 0; e < experts; e++) {
      er[e] = expertRow.storage.ints()[(int) expertRow.at(e)];
      if (er[e] < 0 || er[e] >= experts) {
        throw new DeviceException(ERR_ARG, "moeRoute: expert_row[" + e + "] = " + er[e]
            + " is outside 0.." + (experts - 1));
      }
    }
    int[] st = index(slotToken);
    for (int i : st) {
      ist[i] = -1;
    }
    int[] fill = new int[experts];
    int nDropped = 0;
    for (long j = 0; j < k; j++) {
      for (long s = 0; s < tokens; s++) {
        int e = ii[at(indices, s, j)];
        if (e < 0 || e >= experts) {
          throw new DeviceException(ERR_ARG, "moeRoute: indices[" + s + "," + j + "] = " + e
              + " is outside 0.." + (experts - 1));
        }
        int slot = -1;
        if (fill[e] < capacity) {
          slot = er[e] * capacity + fill[e]++;
          ist[st[slot]] = (int) s;
        } else {
          nDropped++;
        }
        isl[at(slots, s, j)] = slot;
      }
    }
    dropped.storage.ints()[(int) dropped.offset] = nDropped;
  }

  /** Dropped choices (slot -1) get 0; with k = 2 the kept ones are divided by max(sum, eps). */
  static void moeGateWeights(SimTensor values, SimTensor slots, SimTensor weights) {
    long tokens = values.shape[0], k = values.shape[1];
    float[] fv = values.storage.floats(), fw = weights.storage.floats();
    for (long s = 0; s < tokens; s++) {
      float sum = keptSum(values, slots, s);
      float denom = k == 2 ? (sum < FLT_EPSILON ? FLT_EPSILON : sum) : 1.0f;
      for (long j = 0; j < k; j++) {
        fw[at(weights, s, j)] = kept(slots, s, j) ? fv[at(values, s, j)] / denom : 0.0f;
      }
    }
  }

  static void moeGateWeightsBackward(SimTensor values, SimTensor slots, SimTensor dWeights,
      SimTensor dValues) {
    long tokens = values.shape[0], k = values.shape[1];
    float[] fv = values.storage.floats(), fdw = dWeights.storage.floats();
    float[] fdv = dValues.storage.floats();
    for (long s = 0; s < tokens; s++) {
      float sum = keptSum(values, slots, s);
      if (k == 2 && sum > FLT_EPSILON) {
        // w_j = v_j / D with D = sum of kept v: dv_i = (dw_i - sum_j dw_j w_j) / D for kept i
        float dot = 0.0f;
        for (long j = 0; j < k; j++) {
          dot += kept(slots, s, j) ? fdw[at(dWeights, s, j)] * fv[at(values, s, j)] / sum : 0.0f;
        }
        for (long j = 0; j < k; j++) {
          fdv[at(dValues, s, j)] = kept(slots, s, j) ? (fdw[at(dWeights, s, j)] - dot) / sum : 0f;
        }
      } else {  // k == 1, or the clamped denominator is a constant
        float denom = k == 2 ? FLT_EPSILON : 1.0f;
        for (long j = 0; j < k; j++) {
          fdv[at(dValues, s, j)] = kept(slots, s, j) ? fdw[at(dWeights, s, j)] / denom : 0.0f;
        }
      }
    }
  }

  /** Sums and shares in double; loss = coeff E sum_e mean_e frac_e; dProbs += coeff E frac_e / S. */
  static void moeAuxLoss(SimTensor probs, SimTensor indices, float coeff, SimTensor loss,
      SimTensor dProbs) {
    long tokens = probs.shape[0];
    int experts = (int) probs.shape[1];
    float[] fp = probs.storage.floats(), fd = dProbs.storage.floats();
    double[] frac = new double[experts], mean = new double[experts];
    for (long s = 0; s < tokens; s++) {
      int e = indices.storage.ints()[at(indices, s, 0)];
      if (e < 0 || e >= experts) {
        throw new DeviceException(ERR_ARG, "moeAuxLoss: indices[" + s + ",0] = " + e
            + " is outside 0.." + (experts - 1));
      }
      frac[e] += 1.0;
      for (int c = 0; c < experts; c++) {
        mean[c] += fp[at(probs, s, c)];
      }
    }
    double l = 0;
    for (int e = 0; e < experts && tokens > 0; e++) {
      frac[e] /= tokens;
      l += mean[e] / tokens * frac[e];
    }
    loss.storage.floats()[(int) loss.offset] = (float) ((double) coeff * experts * l);
    for (long s = 0; s < tokens; s++) {
      for (int e = 0; e < experts; e++) {
        fd[at(dProbs, s, e)] += (float) ((double) coeff * experts * frac[e] / tokens);
      }
    }
  }

  // ---- transformer: norm, attention, cross-entropy --------------------------------------------

  /**
   * Per row: the mean of squares in double, rstd = 1/sqrt(mean + eps) in double rounded once,
   * y = (x rstd) gamma in fp32. y may be x.
   */
  static void rmsNorm(SimTensor x, SimTensor gamma, float eps, SimTensor y, SimTensor rstd) {
    long rows = x.shape[0], cols = x.shape[1];
    float[] fx = x.storage.floats(), fg = gamma.storage.floats(), fy = y.storage.floats();
    for (long r = 0; r < rows; r++) {
      double sq = 0;
      for (long c = 0; c < cols; c++) {
        float v = fx[at(x, r, c)];
        sq += (double) v * v;
      }
      float rs = (float) (1.0 / StrictMath.sqrt(sq / Math.max(cols, 1) + eps));
      for (long c = 0; c < cols; c++) {
        fy[at(y, r, c)] = fx[at(x, r, c)] * rs * fg[(int) gamma.at(c)];
      }
      rstd.storage.floats()[(int) rstd.at(r)] = rs;
    }
  }

  /**
   * Per row: {@code mean(gamma dy x)} in double; dx = rstd (gamma dy - x rstd^2 mean) in fp32 from
   * that mean rounded once; dGamma[m] += the column's sum over rows of dy x rstd, in double, rounded
   * once into dGamma. dx may be x or dy: each row is read before it is written.
   */
  static void rmsNormBackward(SimTensor x, SimTensor gamma, SimTensor rstd, SimTensor dy,
      SimTensor dx, SimTensor dGamma) {
    long rows = x.shape[0], cols = x.shape[1];
    float[] fx = x.storage.floats(), fg = gamma.storage.floats(), fr = rstd.storage.floats();
    float[] fdy = dy.storage.floats(), fdx = dx.storage.floats(), fdg = dGamma.storage.floats();
    double[] dg = new double[(int) cols];
    float[] gx = new float[(int) cols], gdy = new float[(int) cols];
    for (long r = 0; r < rows; r++) {
      float rs = fr[(int) rstd.at(r)];
      double dot = 0;
      for (int c = 0; c < cols; c++) {
        gx[c] = fx[at(x, r, c)];
        gdy[c] = fdy[at(dy, r, c)];
        dot += (double) fg[(int) gamma.at(c)] * gdy[c] * gx[c];
        dg[c] += (double) gdy[c] * gx[c] * rs;
      }
      float mean = (float) (dot / Math.max(cols, 1));
      for (int c = 0; c < cols; c++) {
        fdx[at(dx, r, c)] = rs * (fg[(int) gamma.at(c)] * gdy[c] - gx[c] * rs * rs * mean);
      }
    }
    for (int c = 0; c < cols; c++) {
      int i = (int) dGamma.at(c);
      fdg[i] = (float) (fdg[i] + dg[c]);
    }
  }

  /**
   * Per row (b, i) of x [B,Q,K]: the columns j &lt;= i + offset are visible; over them, max of
   * scale x in fp32, exp(scale x - max) in fp32 summed in double, then times the fp32 inverse of
   * the sum, as {@link #softmax}; the other columns get 0, a row with none visible all zeros.
   */
  static void causalSoftmax(SimTensor x, float scale, int offset, SimTensor y) {
    long batches = x.shape[0], q = x.shape[1], k = x.shape[2];
    float[] fx = x.storage.floats(), fy = y.storage.floats();
    for (long b = 0; b < batches; b++) {
      for (long i = 0; i < q; i++) {
        long visible = Math.clamp(i + offset + 1, 0, k);
        float mx = Float.NEGATIVE_INFINITY;
        for (long j = 0; j < visible; j++) {
          float v = scale * fx[at3(x, b, i, j)];
          mx = mx < v ? v : mx;
        }
        double sum = 0;
        for (long j = 0; j < visible; j++) {
          float v = expf(scale * fx[at3(x, b, i, j)] - mx);
          fy[at3(y, b, i, j)] = v;
          sum += v;
        }
        float inv = (float) (1.0 / sum);
        for (long j = 0; j < k; j++) {
          fy[at3(y, b, i, j)] = j < visible ? fy[at3(y, b, i, j)] * inv : 0.0f;
        }
      }
    }
  }

  /** dx = (scale y) (dy - dot) per row of [B,Q,K], dot = sum(dy y) in double rounded once. */
  static void causalSoftmaxBackward(SimTensor y, SimTensor dy, float scale, SimTensor dx) {
    long batches = y.shape[0], q = y.shape[1], k = y.shape[2];
    float[] fy = y.storage.floats(), fdy = dy.storage.floats(), fdx = dx.storage.floats();
    for (long b = 0; b < batches; b++) {
      for (long i = 0; i < q; i++) {
        double dot = 0;
        for (long j = 0; j < k; j++) {
          dot += (double) fy[at3(y, b, i, j)] * fdy[at3(dy, b, i, j)];
        }
        float d = (float) dot;
        for (long j = 0; j < k; j++) {
          fdx[at3(dx, b, i, j)] = scale * fy[at3(y, b, i, j)] * (fdy[at3(dy, b, i, j)] - d);
        }
      }
    }
  }

  /**
   * lse = max + log(sum exp(x - max)) per row: max in fp32, exp in fp32 summed in double, log and
   * the add in double, rounded once; a row of -inf only (or of no columns) gives -inf. Any strides.
   */
  static void logSumExp(SimTensor x, SimTensor lse) {
    long rows = x.shape[0], cols = x.shape[1];
    float[] fx = x.storage.floats();
    for (long r = 0; r < rows; r++) {
      float mx = Float.NEGATIVE_INFINITY;
      for (long c = 0; c < cols; c++) {
        float v = fx[at(x, r, c)];
        mx = mx < v ? v : mx;
      }
      float out = mx;
      if (mx != Float.NEGATIVE_INFINITY && mx != Float.POSITIVE_INFINITY) {
        double sum = 0;
        for (long c = 0; c < cols; c++) {
          sum += expf(fx[at(x, r, c)] - mx);
        }
        out = (float) (mx + StrictMath.log(sum));
      }
      lse.storage.floats()[(int) lse.at(r)] = out;
    }
  }

  /** out[r] = x[r, targets[r] - first] when that column is in the shard, else 0. */
  static void pickTargets(SimTensor x, SimTensor targets, int first, SimTensor out) {
    long rows = x.shape[0], cols = x.shape[1];
    float[] fx = x.storage.floats(), fo = out.storage.floats();
    for (long r = 0; r < rows; r++) {
      long c = (long) targets.storage.ints()[(int) targets.at(r)] - first;
      fo[(int) out.at(r)] = c >= 0 && c < cols ? fx[at(x, r, c)] : 0.0f;
    }
  }

  /** dx = scale (exp(x - lse) - [target]) in fp32. dx may be x. */
  static void crossEntropyBackward(SimTensor x, SimTensor lse, SimTensor targets, int first,
      float scale, SimTensor dx) {
    long rows = x.shape[0], cols = x.shape[1];
    float[] fx = x.storage.floats(), fdx = dx.storage.floats();
    for (long r = 0; r < rows; r++) {
      float l = lse.storage.floats()[(int) lse.at(r)];
      long t = (long) targets.storage.ints()[(int) targets.at(r)] - first;
      for (long c = 0; c < cols; c++) {
        fdx[at(dx, r, c)] = scale * (expf(fx[at(x, r, c)] - l) - (c == t ? 1.0f : 0.0f));
      }
    }
  }

  // ---- collectives: member i of the group is index i; all inputs are read before any write ---

  /** Block j (along dim 0) of member i's out is block i of member j's in. */
  static void allToAll(SimTensor[] in, SimTensor[] out) {
    int p = in.length;
    float[][] vals = readAll(in);
    for (int i = 0; i < p; i++) {
      int block = vals[i].length / p;
      float[] o = new float[vals[i].length];
      for (int j = 0; j < p; j++) {
        System.arraycopy(vals[j], i * block, o, j * block, block);
      }
      write(out[i], o);
    }
  }

  /** Every member's out is the members' in, concatenated along dim 0 in group order. */
  static void allGather(SimTensor[] in, SimTensor[] out) {
    float[][] vals = readAll(in);
    int block = vals[0].length;
    float[] o = new float[block * in.length];
    for (int j = 0; j < in.length; j++) {
      System.arraycopy(vals[j], 0, o, j * block, block);
    }
    for (SimTensor t : out) {
      write(t, o);
    }
  }

  /** Member i's out is the fp32 sum, in group order from 0, of block i of every member's in. */
  static void reduceScatter(SimTensor[] in, SimTensor[] out) {
    float[][] vals = readAll(in);
    int block = vals[0].length / in.length;
    for (int i = 0; i < in.length; i++) {
      write(out[i], sum(vals, i * block, block));
    }
  }

  /** Every member's out is the fp32 sum, in group order from 0, of the members' in. */
  static void allReduce(SimTensor[] in, SimTensor[] out) {
    float[][] vals = readAll(in);
    float[] o = sum(vals, 0, vals[0].length);
    for (SimTensor t : out) {
      write(t, o);
    }
  }

  /** Member i's out is member (i - offset) mod n's in. */
  static void shift(SimTensor[] in, SimTensor[] out, int offset) {
    int p = in.length;
    float[][] vals = readAll(in);
    for (int i = 0; i < p; i++) {
      write(out[i], vals[Math.floorMod(i - offset, p)]);
    }
  }

  private static float[][] readAll(SimTensor[] ts) {
    float[][] vals = new float[ts.length][];
    for (int j = 0; j < ts.length; j++) {
      vals[j] = read(ts[j]);
    }
    return vals;
  }

  /** Elements [from, from + n) summed over members, in order, into a zeroed fp32 buffer. */
  private static float[] sum(float[][] vals, int from, int n) {
    float[] acc = new float[n];
    for (float[] v : vals) {
      for (int e = 0; e < n; e++) {
        acc[e] += v[from + e];
      }
    }
    return acc;
  }

  // ---- numbers ---------------------------------------------------------------------------------

  /** bfloat16 rounding of an fp32: round to nearest even, a NaN stays a (quiet) NaN of its sign. */
  static float bf16(float f) {
    int u = Float.floatToRawIntBits(f);
    if ((u & 0x7fffffff) > 0x7f800000) {
      return Float.intBitsToFloat(((u >>> 16) | 0x40) << 16);
    }
    u += 0x7fff + ((u >>> 16) & 1);
    return Float.intBitsToFloat(u & 0xffff0000);
  }

  private static final double TWO_OVER_SQRT_PI = 1.1283791670955126;
  private static final double SQRT_PI = 1.7724538509055159;
  private static final float SQRT1_2 = 0.70710677f;  // (float) M_SQRT1_2
  private static final float INV_SQRT_2PI = 0.3989422804014327f;

  /**
   * The error function in double, within about 2e-15 (absolute; relative for |x| < 1). Below 2.5
   * the series with positive terms {@code erf x = 2/sqrt(pi) e^(-x^2) sum_n 2^n x^(2n+1) /
   * (1*3*...*(2n+1))} (Abramowitz and Stegun 7.1.6), which has no cancellation; from 2.5 on,
   * {@code erfc x = e^(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))} (A&S 7.1.14),
   * evaluated backwards from depth 40; from 6 on, erfc x is below half an ulp of 1.
   */
  static double erf(double x) {
    double ax = Math.abs(x);
    double r;
    if (Double.isNaN(x)) {
      return x;
    } else if (ax < 2.5) {
      double x2 = ax * ax, term = ax, sum = ax;
      for (int n = 1; term > sum * 1e-17; n++) {
        term *= 2 * x2 / (2 * n + 1);
        sum += term;
      }
      r = TWO_OVER_SQRT_PI * StrictMath.exp(-x2) * sum;
    } else if (ax < 6) {
      double f = ax;
      for (int n = 40; n >= 1; n--) {
        f = ax + n * 0.5 / f;
      }
      r = 1 - StrictMath.exp(-ax * ax) / (SQRT_PI * f);
    } else {
      r = 1;
    }
    return Math.copySign(r, x);
  }

  /** erff as the native kernels call it: a float in, the float nearest erf out. */
  private static float erff(float x) {
    return (float) erf(x);
  }

  private static float expf(float x) {
    return (float) StrictMath.exp(x);
  }

  private static float sigmoid(float x) {
    return 1.0f / (1.0f + expf(-x));
  }

  /** C's (int32_t) cast of a float on x86 (cvttss2si): truncation, INT_MIN when out of range or NaN. */
  private static int cvttss2si(float v) {
    return v >= -0x1p31f && v < 0x1p31f ? (int) v : Integer.MIN_VALUE;
  }

  /** Output c of SplitMix64 seeded with seed, as kernels_elementwise.cpp's splitmix64_output. */
  private static long splitmix64(long seed, long c) {
    long z = seed + (c + 1) * 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  // ---- addressing --------------------------------------------------------------------------------

  /** Storage indices of t's elements in row-major logical order (an odometer over the strides). */
  static int[] index(SimTensor t) {
    int rank = t.shape.length;
    int[] out = new int[Math.toIntExact(t.numel())];
    long[] pos = new long[rank];
    long at = t.offset;
    for (int i = 0; i < out.length; i++) {
      out[i] = (int) at;
      for (int d = rank - 1; d >= 0; d--) {
        at += t.strides[d];
        if (++pos[d] < t.shape[d]) {
          break;
        }
        at -= pos[d] * t.strides[d];
        pos[d] = 0;
      }
    }
    return out;
  }

  /** Storage index of element (r, c) of a rank-2 tensor. */
  private static int at(SimTensor t, long r, long c) {
    return (int) (t.offset + r * t.strides[0] + c * t.strides[1]);
  }

  /** Storage index of element (b, i, j) of a rank-3 tensor. */
  private static int at3(SimTensor t, long b, long i, long j) {
    return (int) (t.offset + b * t.strides[0] + i * t.strides[1] + j * t.strides[2]);
  }

  /** t's values (F32 or BF16) in row-major order. */
  private static float[] read(SimTensor t) {
    int[] it = index(t);
    float[] v = new float[it.length];
    for (int i = 0; i < it.length; i++) {
      v[i] = t.storage.floats()[it[i]];
    }
    return v;
  }

  /** Writes values in row-major order, rounding to bfloat16 when t is BF16. */
  private static void write(SimTensor t, float[] values) {
    int[] it = index(t);
    for (int i = 0; i < it.length; i++) {
      put(t, it[i], values[i]);
    }
  }

  private static void put(SimTensor t, int i, float v) {
    t.storage.floats()[i] = t.dtype == DType.BF16 ? bf16(v) : v;
  }

  private static boolean kept(SimTensor slots, long s, long j) {
    return slots.storage.ints()[at(slots, s, j)] >= 0;
  }

  /** The sum in fp32 of token s's kept values, adding 0 for a dropped one as the native loop does. */
  private static float keptSum(SimTensor values, SimTensor slots, long s) {
    float sum = 0.0f;
    for (long j = 0; j < values.shape[1]; j++) {
      sum += kept(slots, s, j) ? values.storage.floats()[at(values, s, j)] : 0.0f;
    }
    return sum;
  }

  private static void checkIndex(String op, long r, long j, int idx, long limit, String of) {
    if (idx >= limit) {
      throw new DeviceException(ERR_ARG, op + ": index[" + r + "," + j + "] = " + idx + " but "
          + of + " has " + limit + " rows");
    }
  }
}
