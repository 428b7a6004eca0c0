package dev.pipemoe.engine.sim;

import dev.pipemoe.engine.device.AdamParams;
import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.DeviceException;
import dev.pipemoe.engine.device.Distribution;
import dev.pipemoe.engine.device.Tensor;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * The simulated device's enqueue-time checks: one method per op of {@code Device}, with the
 * native runtime's rules, in its order, with its status codes and messages (native-bridge/native/
 * src/api_ops.cpp, api_comm.cpp, api_runtime.cpp), so that both devices refuse the same calls the
 * same way. A message starts with the {@code Device} method's name where the native one starts
 * with the C function's ("gemm: " for "pm_gemm: ") and names operands as the C API does
 * ("dvalues", "expert_row"). {@code device} is the rank of the device the op is enqueued on; an
 * operand of another device, a freed one or one that is not a simulated tensor is {@link
 * #ERR_HANDLE}.
 */
final class SimChecks {
  /** pipemoe.h's PM_ERR_ARG: a bad shape, dtype, rank or range. */
  static final int ERR_ARG = 1;
  /** pipemoe.h's PM_ERR_HANDLE: a tensor that is null, freed, foreign or of another device. */
  static final int ERR_HANDLE = 2;
  private static final long MAX_DIM = 1L << 40;

  private SimChecks() {}

  // ---- memory ----------------------------------------------------------------------------------

  static void alloc(DType dtype, long[] shape) {
    if (dtype == null) {
      throw new DeviceException(ERR_ARG, "alloc: dtype is null but must be F32, BF16 or I32");
    }
    if (shape.length > 4) {
      throw new DeviceException(ERR_ARG, "alloc: " + shape.length + " dimensions, at most 4");
    }
    long n = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      if (shape[i] < 0 || shape[i] > MAX_DIM) {
        fail("alloc", "shape[" + i + "] is " + shape[i] + " but must be in 0..2^40");
      }
      n *= shape[i];
      if (n > MAX_DIM) {
        fail("alloc", "the tensor has more than 2^40 elements");
      }
    }
  }

  /**
   * A view of base's storage: offsets, shapes and strides non-negative, and every element inside
   * the storage. Its innermost stride may be other than 1 (a transposed view); only ops that say
   * so ({@code logSumExp}) accept such an operand, the others refuse it ({@link #operand}). A
   * dimension of one element gets stride 1 there.
   */
  static void view(Tensor base, long offset, long[] shape, long[] strides) {
    String op = "view";
    if (shape.length != strides.length || shape.length > 4) {
      fail(op, "shape has " + shape.length + " dimensions and strides " + strides.length
          + "; they must match and be at most 4");
    }
    SimTensor b = tensor(op, base, "base");
    long first = b.offset + offset;
    if (first < 0) {
      fail(op, "offset " + offset + " points before the storage");
    }
    long last = first;
    boolean empty = false;
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < 0) {
        fail(op, "shape[" + i + "] is " + shape[i] + " but must be >= 0");
      }
      if (strides[i] < 0) {
        fail(op, "strides[" + i + "] is " + strides[i] + " but must be >= 0");
      }
      if (shape[i] > MAX_DIM || strides[i] > MAX_DIM) {
        fail(op, "dimension " + i + " is too large");
      }
      empty |= shape[i] == 0;
      last += shape[i] == 0 ? 0 : (shape[i] - 1) * strides[i];
    }
    if (!empty && last >= b.storage.elements()) {
      fail(op, "the view reaches element " + last + " but base's storage has "
          + b.storage.elements() + " elements");
    }
  }

  static void write(Tensor t, float[] values) {
    host("write(float[])", t, false, values.length);
  }

  static void write(Tensor t, int[] values) {
    host("write(int[])", t, true, values.length);
  }

  static void readFloats(Tensor t) {
    host("readFloats", t, false, -1);
  }

  static void readInts(Tensor t) {
    host("readInts", t, true, -1);
  }

  /** Host I/O: the array variant that fits the dtype, {@code count} (-1: read) equal to numel. */
  private static void host(String op, Tensor t, boolean ints, long count) {
    if (t != null && (t.dtype() == DType.I32) != ints) {
      fail(op, "the tensor is " + t.dtype() + "; use the " + (ints ? "float[]" : "int[]")
          + " variant");
    }
    SimTensor s = tensor(op, t, "tensor t");
    needUnitInnerStride(op, s, "t");
    if (count >= 0 && count != s.numel()) {
      fail(op, "count is " + count + " but t is " + dims(s) + " (" + s.numel() + " elements)");
    }
    if (s.numel() > Integer.MAX_VALUE - 8) {
      fail(op, "a tensor of " + s.numel() + " elements does not fit a Java array");
    }
  }

  // ---- fill, random, copy, GEMM ----------------------------------------------------------------

  static void fill(int device, Tensor t, float value) {
    operand("fill", device, t, "t");
  }

  static void random(int device, Tensor t, long seed, Distribution dist, float a, float b) {
    String op = "random";
    SimTensor tt = operand(op, device, t, "t");
    if (tt.dtype == DType.I32) {
      fail(op, "t is I32 " + dims(tt) + " but must be F32 or BF16");
    }
    needFinite(op, a, "a");
    needFinite(op, b, "b");
    if (dist == Distribution.UNIFORM && !(a <= b)) {
      fail(op, "UNIFORM needs a <= b, got [" + g(a) + ", " + g(b) + ")");
    } else if (dist == Distribution.NORMAL && !(b >= 0)) {
      fail(op, "NORMAL needs std b >= 0, got " + g(b));
    } else if (dist == null) {
      fail(op, "dist is null but must be UNIFORM or NORMAL");
    }
  }

  static void copy(int device, Tensor src, Tensor dst) {
    String op = "copy";
    SimTensor s = operand(op, device, src, "src"), d = operand(op, device, dst, "dst");
    needSameShape(op, s, "src", d, "dst");
    if (s.dtype != d.dtype && (s.dtype == DType.I32 || d.dtype == DType.I32)) {
      fail(op, "src is " + s.dtype + " but dst is " + d.dtype + ": only F32 <-> BF16 casts exist");
    }
  }

  static void gemm(int device, boolean transA, boolean transB, float alpha, Tensor a, Tensor b,
      float beta, Tensor c) {
    String op = "gemm";
    SimTensor ta = f32(op, device, a, "a", -1), tb = f32(op, device, b, "b", -1);
    SimTensor tc = f32(op, device, c, "c", -1);
    int r = tc.shape.length;
    if (r != 2 && r != 3) {
      fail(op, "c is " + dims(tc) + " but must be rank 2 or 3");
    }
    needRank(op, ta, "a", r);
    needRank(op, tb, "b", r);
    if (r == 3) {
      needDim(op, ta, "a", 0, tc.shape[0], "c's batch count");
      needDim(op, tb, "b", 0, tc.shape[0], "c's batch count");
      if (tc.shape[0] > 1 && tc.strides[0] == 0) {
        fail(op, "c has batch stride 0: batches would overwrite each other");
      }
    }
    needMatrix(op, ta, "a");
    needMatrix(op, tb, "b");
    needMatrix(op, tc, "c");
    long m = ta.shape[transA ? r - 1 : r - 2], ka = ta.shape[transA ? r - 2 : r - 1];
    long kb = tb.shape[transB ? r - 1 : r - 2], n = tb.shape[transB ? r - 2 : r - 1];
    if (ka != kb) {
      fail(op, "op(a) is " + mat(m, ka) + " but op(b) is " + mat(kb, n)
          + ": inner dimensions differ");
    }
    if (tc.shape[r - 2] != m || tc.shape[r - 1] != n) {
      fail(op, "op(a) op(b) is " + mat(m, n) + " but c is " + mat(tc.shape[r - 2], tc.shape[r - 1]));
    }
  }

  // ---- elementwise and activations -------------------------------------------------------------

  static void add(int device, Tensor x, Tensor y, Tensor out) {
    sameShapeF32("add", device, new String[] {"x", "y", "out"}, x, y, out);
  }

  static void axpy(int device, float alpha, Tensor x, Tensor y) {
    sameShapeF32("axpy", device, new String[] {"x", "y"}, x, y);
  }

  static void scale(int device, float alpha, Tensor x) {
    f32("scale", device, x, "x", -1);
  }

  static void gelu(int device, Tensor x, Tensor y) {
    sameShapeF32("gelu", device, new String[] {"x", "y"}, x, y);
  }

  static void geluBackward(int device, Tensor x, Tensor dy, Tensor dx) {
    sameShapeF32("geluBackward", device, new String[] {"x", "dy", "dx"}, x, dy, dx);
  }

  static void swiglu(int device, Tensor a, Tensor b, Tensor y) {
    sameShapeF32("swiglu", device, new String[] {"a", "b", "y"}, a, b, y);
  }

  static void swigluBackward(int device, Tensor a, Tensor b, Tensor dy, Tensor da, Tensor db) {
    sameShapeF32("swigluBackward", device, new String[] {"a", "b", "dy", "da", "db"},
        a, b, dy, da, db);
  }

  static void mseLoss(int device, Tensor y, Tensor target, float gradScale, Tensor loss,
      Tensor dy) {
    String op = "mseLoss";
    SimTensor ty = f32(op, device, y, "y", -1), tt = f32(op, device, target, "target", -1);
    SimTensor tl = f32(op, device, loss, "loss", 1), tdy = f32(op, device, dy, "dy", -1);
    needSameShape(op, ty, "y", tt, "target");
    needSameShape(op, ty, "y", tdy, "dy");
    needDim(op, tl, "loss", 0, 1, "one value");
  }

  static void adam(int device, Tensor param, Tensor grad, Tensor m, Tensor v, AdamParams params,
      int step) {
    String op = "adam";
    sameShapeF32(op, device, new String[] {"param", "grad", "m", "v"}, param, grad, m, v);
    if (step < 1) {
      fail(op, "step is " + step + " but counts from 1");
    }
    float b1 = params.beta1(), b2 = params.beta2();
    if (!(b1 >= 0 && b1 < 1) || !(b2 >= 0 && b2 < 1)) {
      fail(op, "beta1 " + g(b1) + " and beta2 " + g(b2) + " must be in [0, 1)");
    }
    if (!(params.eps() > 0) || !(params.lr() >= 0) || !(params.weightDecay() >= 0)) {
      fail(op, "need eps > 0, lr >= 0, weight_decay >= 0; got " + g(params.eps()) + ", "
          + g(params.lr()) + ", " + g(params.weightDecay()));
    }
  }

  // ---- rows ------------------------------------------------------------------------------------

  static void softmax(int device, Tensor x, Tensor y) {
    SimTensor tx = f32("softmax", device, x, "x", 2), ty = f32("softmax", device, y, "y", 2);
    needSameShape("softmax", tx, "x", ty, "y");
  }

  static void softmaxBackward(int device, Tensor y, Tensor dy, Tensor dx) {
    String op = "softmaxBackward";
    SimTensor ty = f32(op, device, y, "y", 2), tdy = f32(op, device, dy, "dy", 2);
    SimTensor tdx = f32(op, device, dx, "dx", 2);
    needSameShape(op, ty, "y", tdy, "dy");
    needSameShape(op, ty, "y", tdx, "dx");
  }

  static void topk(int device, Tensor x, int k, Tensor values, Tensor indices) {
    String op = "topk";
    SimTensor tx = f32(op, device, x, "x", 2), tv = f32(op, device, values, "values", 2);
    SimTensor ti = i32(op, device, indices, "indices", 2);
    if (k < 1 || k > tx.shape[1]) {
      fail(op, "k is " + k + " but x is " + dims(tx) + ": k must be in 1.." + tx.shape[1]);
    }
    needDim(op, tv, "values", 0, tx.shape[0], "x's rows");
    needDim(op, tv, "values", 1, k, "k");
    needSameShape(op, tv, "values", ti, "indices");
  }

  static void topkBackward(int device, Tensor dValues, Tensor indices, Tensor dx) {
    String op = "topkBackward";
    SimTensor tdv = f32(op, device, dValues, "dvalues", 2);
    SimTensor ti = i32(op, device, indices, "indices", 2);
    SimTensor tdx = f32(op, device, dx, "dx", 2);
    needSameShape(op, tdv, "dvalues", ti, "indices");
    needDim(op, tdx, "dx", 0, tdv.shape[0], "dvalues' rows");
  }

  static void gatherRows(int device, Tensor src, Tensor index, Tensor weights, float beta,
      Tensor dst) {
    String op = "gatherRows";
    SimTensor ts = f32(op, device, src, "src", 2), td = f32(op, device, dst, "dst", 2);
    rowIndex(op, device, index, weights, td.shape[0], "dst's rows");
    needDim(op, td, "dst", 1, ts.shape[1], "src's columns");
  }

  static void scatterAddRows(int device, Tensor src, Tensor index, Tensor weights, Tensor dst) {
    String op = "scatterAddRows";
    SimTensor ts = f32(op, device, src, "src", 2), td = f32(op, device, dst, "dst", 2);
    rowIndex(op, device, index, weights, ts.shape[0], "src's rows");
    needDim(op, td, "dst", 1, ts.shape[1], "src's columns");
  }

  static void gatherDot(int device, Tensor a, Tensor src, Tensor index, Tensor out) {
    String op = "gatherDot";
    SimTensor ta = f32(op, device, a, "a", 2), ts = f32(op, device, src, "src", 2);
    SimTensor to = f32(op, device, out, "out", 2);
    SimTensor ti = rowIndex(op, device, index, null, ta.shape[0], "a's rows");
    needDim(op, ts, "src", 1, ta.shape[1], "a's columns");
    needSameShape(op, to, "out", ti, "index");
  }

  /** The index I32 [R,K] and optional weights F32 [R,K] of the row movers. */
  private static SimTensor rowIndex(String op, int device, Tensor index, Tensor weights, long rows,
      String rowsOf) {
    SimTensor ti = i32(op, device, index, "index", 2);
    needDim(op, ti, "index", 0, rows, rowsOf);
    if (weights != null) {
      needSameShape(op, f32(op, device, weights, "weights", 2), "weights", ti, "index");
    }
    return ti;
  }

  // ---- MoE routing -----------------------------------------------------------------------------

  static void moeRoute(int device, Tensor indices, Tensor expertRow, int capacity, Tensor slots,
      Tensor slotToken, Tensor dropped) {
    String op = "moeRoute";
    SimTensor ti = i32(op, device, indices, "indices", 2);
    SimTensor ter = i32(op, device, expertRow, "expert_row", 1);
    SimTensor tsl = i32(op, device, slots, "slots", 2);
    SimTensor tst = i32(op, device, slotToken, "slot_token", 1);
    SimTensor tdr = i32(op, device, dropped, "dropped", 1);
    if (capacity < 0) {
      fail(op, "capacity is " + capacity + " but must be >= 0");
    }
    needSameShape(op, tsl, "slots", ti, "indices");
    long slotCount = ter.shape[0] * capacity;
    needDim(op, tst, "slot_token", 0, slotCount, "experts * capacity");
    needDim(op, tdr, "dropped", 0, 1, "one counter");
    if (slotCount > Integer.MAX_VALUE) {
      fail(op, "experts * capacity exceeds int32");
    }
  }

  static void moeGateWeights(int device, Tensor values, Tensor slots, Tensor weights) {
    String op = "moeGateWeights";
    SimTensor tv = gate(op, device, values, slots);
    needSameShape(op, f32(op, device, weights, "weights", 2), "weights", tv, "values");
  }

  static void moeGateWeightsBackward(int device, Tensor values, Tensor slots, Tensor dWeights,
      Tensor dValues) {
    String op = "moeGateWeightsBackward";
    SimTensor tv = gate(op, device, values, slots);
    SimTensor tdw = f32(op, device, dWeights, "dweights", 2);
    SimTensor tdv = f32(op, device, dValues, "dvalues", 2);
    needSameShape(op, tdw, "dweights", tv, "values");
    needSameShape(op, tdv, "dvalues", tv, "values");
  }

  /** values F32 [S,k] and slots I32 [S,k], k 1 or 2. */
  private static SimTensor gate(String op, int device, Tensor values, Tensor slots) {
    SimTensor tv = f32(op, device, values, "values", 2);
    needSameShape(op, tv, "values", i32(op, device, slots, "slots", 2), "slots");
    if (tv.shape[1] != 1 && tv.shape[1] != 2) {
      fail(op, "values is " + dims(tv) + " but k must be 1 or 2");
    }
    return tv;
  }

  static void moeAuxLoss(int device, Tensor probs, Tensor indices, float coeff, Tensor loss,
      Tensor dProbs) {
    String op = "moeAuxLoss";
    SimTensor tp = f32(op, device, probs, "probs", 2), ti = i32(op, device, indices, "indices", 2);
    SimTensor tl = f32(op, device, loss, "loss", 1), tdp = f32(op, device, dProbs, "dprobs", 2);
    needDim(op, ti, "indices", 0, tp.shape[0], "probs' rows");
    if (ti.shape[1] < 1) {
      fail(op, "indices is " + dims(ti) + " but needs k >= 1");
    }
    needDim(op, tl, "loss", 0, 1, "one value");
    needSameShape(op, tdp, "dprobs", tp, "probs");
  }

  // ---- transformer: norm, attention, cross-entropy ----------------------------------------------

  static void rmsNorm(int device, Tensor x, Tensor gamma, float eps, Tensor y, Tensor rstd) {
    String op = "rmsNorm";
    SimTensor tx = f32(op, device, x, "x", 2), tg = f32(op, device, gamma, "gamma", 1);
    SimTensor ty = f32(op, device, y, "y", 2), tr = f32(op, device, rstd, "rstd", 1);
    needDim(op, tg, "gamma", 0, tx.shape[1], "x's columns");
    needSameShape(op, tx, "x", ty, "y");
    needDim(op, tr, "rstd", 0, tx.shape[0], "x's rows");
    if (!(eps > 0) || !Float.isFinite(eps)) {
      fail(op, "eps is " + g(eps) + " but must be finite and > 0");
    }
  }

  static void rmsNormBackward(int device, Tensor x, Tensor gamma, Tensor rstd, Tensor dy,
      Tensor dx, Tensor dGamma) {
    String op = "rmsNormBackward";
    SimTensor tx = f32(op, device, x, "x", 2), tg = f32(op, device, gamma, "gamma", 1);
    SimTensor tr = f32(op, device, rstd, "rstd", 1), tdy = f32(op, device, dy, "dy", 2);
    SimTensor tdx = f32(op, device, dx, "dx", 2), tdg = f32(op, device, dGamma, "dgamma", 1);
    needDim(op, tg, "gamma", 0, tx.shape[1], "x's columns");
    needDim(op, tr, "rstd", 0, tx.shape[0], "x's rows");
    needSameShape(op, tx, "x", tdy, "dy");
    needSameShape(op, tx, "x", tdx, "dx");
    needSameShape(op, tg, "gamma", tdg, "dgamma");
  }

  static void causalSoftmax(int device, Tensor x, float scale, int offset, Tensor y) {
    String op = "causalSoftmax";
    SimTensor tx = f32(op, device, x, "x", 3), ty = f32(op, device, y, "y", 3);
    needSameShape(op, tx, "x", ty, "y");
    needFinite(op, scale, "scale");
  }

  static void causalSoftmaxBackward(int device, Tensor y, Tensor dy, float scale, Tensor dx) {
    String op = "causalSoftmaxBackward";
    SimTensor ty = f32(op, device, y, "y", 3), tdy = f32(op, device, dy, "dy", 3);
    SimTensor tdx = f32(op, device, dx, "dx", 3);
    needSameShape(op, ty, "y", tdy, "dy");
    needSameShape(op, ty, "y", tdx, "dx");
    needFinite(op, scale, "scale");
  }

  /** x [R,V] with any strides (the transposed view of gathered shards); lse F32 [R]. */
  static void logSumExp(int device, Tensor x, Tensor lse) {
    String op = "logSumExp";
    SimTensor tx = anyStrides(op, device, x, "x");
    needDtype(op, tx, "x", DType.F32);
    needRank(op, tx, "x", 2);
    SimTensor tl = f32(op, device, lse, "lse", 1);
    needDim(op, tl, "lse", 0, tx.shape[0], "x's rows");
  }

  static void pickTargets(int device, Tensor x, Tensor targets, int first, Tensor out) {
    String op = "pickTargets";
    SimTensor tx = f32(op, device, x, "x", 2), tt = i32(op, device, targets, "targets", 1);
    SimTensor to = f32(op, device, out, "out", 1);
    needDim(op, tt, "targets", 0, tx.shape[0], "x's rows");
    needDim(op, to, "out", 0, tx.shape[0], "x's rows");
  }

  static void crossEntropyBackward(int device, Tensor x, Tensor lse, Tensor targets, int first,
      float scale, Tensor dx) {
    String op = "crossEntropyBackward";
    SimTensor tx = f32(op, device, x, "x", 2), tl = f32(op, device, lse, "lse", 1);
    SimTensor tt = i32(op, device, targets, "targets", 1), tdx = f32(op, device, dx, "dx", 2);
    needDim(op, tl, "lse", 0, tx.shape[0], "x's rows");
    needDim(op, tt, "targets", 0, tx.shape[0], "x's rows");
    needSameShape(op, tx, "x", tdx, "dx");
    needFinite(op, scale, "scale");
  }

  // ---- collectives: this member's own operands, in a group of groupSize members ---------------

  static void allToAll(int device, Tensor in, Tensor out, int groupSize) {
    collective("allToAll", device, in, out, groupSize);
  }

  static void allGather(int device, Tensor in, Tensor out, int groupSize) {
    collective("allGather", device, in, out, groupSize);
  }

  static void reduceScatter(int device, Tensor in, Tensor out, int groupSize) {
    collective("reduceScatter", device, in, out, groupSize);
  }

  static void allReduce(int device, Tensor in, Tensor out, int groupSize) {
    collective("allReduce", device, in, out, groupSize);
  }

  /** Any offset: it counts modulo the group size. */
  static void shift(int device, Tensor in, Tensor out, int groupSize) {
    collective("shift", device, in, out, groupSize);
  }

  /** Wire dtypes F32 or BF16, equal on both sides; dims past 0 equal; dim 0 by the op's rule. */
  private static void collective(String op, int device, Tensor in, Tensor out, int p) {
    SimTensor ti = operand(op, device, in, "in"), to = operand(op, device, out, "out");
    if (ti.dtype == DType.I32) {
      fail(op, "in is I32 " + dims(ti) + " but must be F32 or BF16");
    }
    if (ti.dtype != to.dtype) {
      fail(op, "in is " + ti.dtype + " but out is " + to.dtype + ": dtypes must be equal");
    }
    if (ti.shape.length < 1) {
      fail(op, "in is " + dims(ti) + " but must have rank >= 1");
    }
    if (ti.shape.length != to.shape.length) {
      fail(op, "in is " + dims(ti) + " but out is " + dims(to) + ": ranks differ");
    }
    for (int d = 1; d < ti.shape.length; d++) {
      if (ti.shape[d] != to.shape[d]) {
        fail(op, "in is " + dims(ti) + " but out is " + dims(to)
            + ": dimensions past 0 must be equal");
      }
    }
    long i0 = ti.shape[0], o0 = to.shape[0];
    String rule = switch (op) {
      case "allToAll" -> i0 == o0 && i0 % p == 0 ? null
          : "all-to-all needs equal shapes with dim 0 divisible by the group size";
      case "allGather" -> o0 == i0 * p ? null : "all-gather needs out dim 0 = group size * in dim 0";
      case "reduceScatter" -> i0 == o0 * p ? null
          : "reduce-scatter needs in dim 0 = group size * out dim 0";
      case "shift" -> i0 == o0 ? null : "shift needs equal shapes";
      default -> i0 == o0 ? null : "all-reduce needs equal shapes";
    };
    if (rule != null) {
      fail(op, "in is " + dims(ti) + ", out is " + dims(to) + ", group size " + p + ": " + rule);
    }
  }

  // ---- rules -----------------------------------------------------------------------------------

  /** A live simulated tensor, whatever its device. */
  private static SimTensor tensor(String op, Tensor t, String what) {
    if (t == null) {
      throw new DeviceException(ERR_HANDLE, op + ": " + what + " is null");
    }
    if (!(t instanceof SimTensor s)) {
      throw new DeviceException(ERR_HANDLE, op + ": " + what + " is a " + t.getClass().getName()
          + ", not a tensor of the simulated device");
    }
    if (s.closed()) {
      throw new DeviceException(ERR_HANDLE, op + ": " + what + " (" + s.dtype + " " + dims(s)
          + ") was freed");
    }
    return s;
  }

  /** A live tensor of the device the op is enqueued on, its innermost stride 1. */
  private static SimTensor operand(String op, int device, Tensor t, String what) {
    SimTensor s = anyStrides(op, device, t, what);
    needUnitInnerStride(op, s, what);
    return s;
  }

  /** A live tensor of the device the op is enqueued on, with any strides. */
  private static SimTensor anyStrides(String op, int device, Tensor t, String what) {
    SimTensor s = tensor(op, t, what);
    if (s.device != device) {
      throw new DeviceException(ERR_HANDLE, op + ": " + what
          + " belongs to another device than the stream (rank " + device + ")");
    }
    return s;
  }

  /** Every op but those that say otherwise reads rows of consecutive elements. */
  private static void needUnitInnerStride(String op, SimTensor t, String what) {
    int in = t.shape.length - 1;
    if (in >= 0 && t.strides[in] != 1 && t.shape[in] > 1) {
      fail(op, what + " has innermost stride " + t.strides[in] + " but must have 1 (only"
          + " logSumExp reads a transposed view)");
    }
  }

  /** An F32 operand of the given rank (-1: any rank). */
  private static SimTensor f32(String op, int device, Tensor t, String what, int rank) {
    SimTensor s = operand(op, device, t, what);
    needDtype(op, s, what, DType.F32);
    if (rank >= 0) {
      needRank(op, s, what, rank);
    }
    return s;
  }

  private static SimTensor i32(String op, int device, Tensor t, String what, int rank) {
    SimTensor s = operand(op, device, t, what);
    needDtype(op, s, what, DType.I32);
    needRank(op, s, what, rank);
    return s;
  }

  /** F32 operands of any rank, all shaped like the first, checked in the native order. */
  private static void sameShapeF32(String op, int device, String[] names, Tensor... ts) {
    SimTensor[] s = new SimTensor[ts.length];
    for (int i = 0; i < ts.length; i++) {
      s[i] = f32(op, device, ts[i], names[i], -1);
    }
    for (int i = 1; i < ts.length; i++) {
      needSameShape(op, s[0], names[0], s[i], names[i]);
    }
  }

  private static void needDtype(String op, SimTensor t, String what, DType dtype) {
    if (t.dtype != dtype) {
      fail(op, what + " is " + t.dtype + " " + dims(t) + " but must be " + dtype);
    }
  }

  private static void needRank(String op, SimTensor t, String what, int rank) {
    if (t.shape.length != rank) {
      fail(op, what + " is " + dims(t) + " (rank " + t.shape.length + ") but must be rank " + rank);
    }
  }

  private static void needSameShape(String op, SimTensor a, String wa, SimTensor b, String wb) {
    if (!java.util.Arrays.equals(a.shape, b.shape)) {
      fail(op, wa + " is " + dims(a) + " but " + wb + " is " + dims(b) + ": shapes must be equal");
    }
  }

  private static void needDim(String op, SimTensor t, String what, int d, long size, String rule) {
    if (t.shape[d] != size) {
      fail(op, what + " is " + dims(t) + " but dimension " + d + " must be " + size + " (" + rule
          + ")");
    }
  }

  /** A GEMM operand: dimensions that fit 32 bits, rows that do not overlap (BLAS's ld >= cols). */
  private static void needMatrix(String op, SimTensor t, String what) {
    int r = t.shape.length;
    if (t.shape[r - 2] > Integer.MAX_VALUE || t.shape[r - 1] > Integer.MAX_VALUE) {
      fail(op, what + " is " + dims(t) + ": matrix dimensions must fit in 32 bits");
    }
    if (t.shape[r - 2] > 1 && t.strides[r - 2] < t.shape[r - 1]) {
      fail(op, what + " has row stride " + t.strides[r - 2] + " < " + t.shape[r - 1]
          + " columns: rows must not overlap");
    }
  }

  private static void needFinite(String op, float v, String what) {
    if (!Float.isFinite(v)) {
      fail(op, what + " is " + g(v) + " but must be finite");
    }
  }

  private static void fail(String op, String message) {
    throw new DeviceException(ERR_ARG, op + ": " + message);
  }

  /** "[3,4]", as the native messages write shapes. */
  private static String dims(SimTensor t) {
    return java.util.Arrays.toString(t.shape).replace(" ", "");
  }

  private static String mat(long rows, long cols) {
    return "[" + rows + "," + cols + "]";
  }

  /** C's printf %g: 6 significant digits, no trailing zeros, an exponent below 1e-4 or from 1e6. */
  static String g(double v) {
    if (Double.isNaN(v)) {
      return "nan";
    } else if (Double.isInfinite(v)) {
      return v > 0 ? "inf" : "-inf";
    } else if (v == 0) {
      return 1 / v < 0 ? "-0" : "0";
    }
    BigDecimal d = new BigDecimal(v).round(new MathContext(6, RoundingMode.HALF_EVEN))
        .stripTrailingZeros();
    int exp = d.precision() - d.scale() - 1;
    if (exp >= -4 && exp < 6) {
      return d.toPlainString();
    }
    String digits = d.unscaledValue().abs().toString();
    String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
    return (v < 0 ? "-" : "") + mantissa + "e" + (exp < 0 ? "-" : "+")
        + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
  }
}
