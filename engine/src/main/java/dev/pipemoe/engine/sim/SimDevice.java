package dev.pipemoe.engine.sim;

import dev.pipemoe.engine.device.AdamParams;
import dev.pipemoe.engine.device.Communicator;
import dev.pipemoe.engine.device.DType;
import dev.pipemoe.engine.device.Device;
import dev.pipemoe.engine.device.DeviceException;
import dev.pipemoe.engine.device.Distribution;
import dev.pipemoe.engine.device.Event;
import dev.pipemoe.engine.device.OpRecord;
import dev.pipemoe.engine.device.Stream;
import dev.pipemoe.engine.device.Tensor;
import dev.pipemoe.engine.moe.Views;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * One rank of a {@link SimFabric}: every op checks its operands as the native runtime does, takes
 * its duration from the {@link CostModel} and runs on the fabric's {@link VirtualClock}; with
 * numerics on, it also computes its values ({@link SimKernels}). Driven by one host thread, like
 * every {@link Device}; its host time advances only when a host call waits for the device.
 *
 * <p>A file this long because it is the {@code Device} contract: one short method per op.
 */
final class SimDevice implements Device {
  private static final int ERR_ARG = 1;
  private static final int ERR_HANDLE = 2;

  private final SimFabric fabric;
  private final VirtualClock clock;
  private final CostModel cost;
  private final int rank;
  private final boolean numerics;
  private final SimStream compute;
  private final Set<String> streamNames = new HashSet<>();
  private final List<SimCommunicator> communicators = new ArrayList<>();
  private final List<OpRecord> timeline = new ArrayList<>();
  private long seq;
  private long pending;
  private double hostTime;
  private String label;
  private DeviceException failure;
  private boolean closed;

  SimDevice(SimFabric fabric, int rank) {
    this.fabric = fabric;
    this.clock = fabric.clock;
    this.cost = fabric.cost;
    this.rank = rank;
    this.numerics = fabric.numerics;
    this.compute = new SimStream(rank, "compute");
    streamNames.add("compute");
  }

  @Override
  public int rank() {
    return rank;
  }

  @Override
  public int worldSize() {
    return fabric.worldSize();
  }

  @Override
  public boolean holdsValues() {
    return numerics;
  }

  @Override
  public long nowNanos() {
    return nanos(hostTime);
  }

  /** Host time catches up with the clock after a wait outside the fabric (a barrier of ranks). */
  void joinClock(double t) {
    hostTime = Math.max(hostTime, t);
  }

  // ---- memory ----------------------------------------------------------------------------------

  @Override
  public Tensor alloc(DType dtype, long... shape) {
    checkOpen("alloc");
    SimChecks.alloc(dtype, shape);
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return new SimTensor(rank, dtype, shape.clone(), Views.contiguousStrides(shape), 0,
        SimTensor.Storage.of(dtype, n, numerics));
  }

  @Override
  public Tensor view(Tensor base, long offset, long[] shape, long[] strides) {
    SimChecks.view(base, offset, shape, strides);
    SimTensor b = t(base, "view", "base");
    long[] st = strides.clone();
    if (st.length > 0 && shape[st.length - 1] <= 1) {
      st[st.length - 1] = 1;  // as natively: a dimension of one element has stride 1
    }
    return new SimTensor(rank, b.dtype, shape.clone(), st, b.offset + offset, b.storage);
  }

  @Override
  public void write(Tensor t, float[] values) {
    SimChecks.write(t, values);
    SimTensor x = t(t, "write", "t");
    if (numerics) {
      int[] at = SimKernels.index(x);
      for (int i = 0; i < values.length; i++) {
        x.storage.floats()[at[i]] = x.dtype == DType.BF16 ? SimKernels.bf16(values[i]) : values[i];
      }
    }
  }

  @Override
  public void write(Tensor t, Supplier<float[]> values) {
    if (numerics) {
      write(t, values.get());
    } else {
      t(t, "write", "t");
    }
  }

  @Override
  public void write(Tensor t, int[] values) {
    SimChecks.write(t, values);
    SimTensor x = t(t, "write", "t");
    if (numerics) {
      int[] at = SimKernels.index(x);
      for (int i = 0; i < values.length; i++) {
        x.storage.ints()[at[i]] = values[i];
      }
    }
  }

  @Override
  public float[] readFloats(Tensor t) {
    SimChecks.readFloats(t);
    SimTensor x = t(t, "readFloats", "t");
    float[] out = new float[(int) x.numel()];
    if (numerics) {
      int[] at = SimKernels.index(x);
      for (int i = 0; i < out.length; i++) {
        out[i] = x.storage.floats()[at[i]];
      }
    }
    return out;
  }

  @Override
  public int[] readInts(Tensor t) {
    SimChecks.readInts(t);
    SimTensor x = t(t, "readInts", "t");
    int[] out = new int[(int) x.numel()];
    if (numerics) {
      int[] at = SimKernels.index(x);
      for (int i = 0; i < out.length; i++) {
        out[i] = x.storage.ints()[at[i]];
      }
    }
    return out;
  }

  // ---- streams, events, communicators ------------------------------------------------------------

  @Override
  public Stream computeStream() {
    return compute;
  }

  @Override
  public Stream newStream(String name) {
    checkOpen("newStream");
    if (!streamNames.add(name)) {
      throw new DeviceException(ERR_ARG, "newStream: device " + rank
          + " already has a queue named " + name);
    }
    return new SimStream(rank, name);
  }

  @Override
  public Event newEvent() {
    checkOpen("newEvent");
    return new SimStream.SimEvent(rank);
  }

  @Override
  public void record(Event event, Stream stream) {
    SimStream.SimEvent e = event(event, "record");
    SimStream s = stream(stream, "record");
    clock.lock.lock();
    try {
      e.captured = s.last;
    } finally {
      clock.lock.unlock();
    }
  }

  @Override
  public void waitEvent(Stream stream, Event event) {
    SimStream s = stream(stream, "waitEvent");
    SimStream.SimEvent e = event(event, "waitEvent");
    clock.lock.lock();
    try {
      if (!e.done()) {
        Op wait = newOp(s, "event_wait", true, 0);
        wait.after(e.captured);
        enqueue(s, wait);
      }
    } finally {
      clock.lock.unlock();
    }
  }

  @Override
  public boolean query(Event event) {
    SimStream.SimEvent e = event(event, "query");
    clock.lock.lock();
    try {
      // the clock moves up to this host time at least, so that "finished by now" is decided
      double t = hostTime;
      waitUntil(() -> e.done() || clock.now() >= t, "query");
      return e.captured == null || e.done() && e.captured.end <= t;
    } finally {
      clock.lock.unlock();
    }
  }

  @Override
  public void synchronize(Event event) {
    SimStream.SimEvent e = event(event, "synchronize");
    hostWait(e::done, "synchronize(event)");
  }

  @Override
  public void synchronize(Stream stream) {
    SimStream s = stream(stream, "synchronize");
    hostWait(s::idle, "synchronize(" + s.name + ")");
  }

  @Override
  public void synchronize() {
    hostWait(() -> pending == 0, "synchronize");
  }

  private void hostWait(java.util.function.BooleanSupplier done, String what) {
    clock.lock.lock();
    try {
      waitUntil(done, what + " on rank " + rank);
      if (failure != null) {
        DeviceException f = failure;
        failure = null;
        throw new DeviceException(f.code(), f.getMessage());
      }
    } finally {
      clock.lock.unlock();
    }
  }

  private void waitUntil(java.util.function.BooleanSupplier done, String what) {
    double t = clock.await(done, what);
    if (!Double.isNaN(t)) {
      hostTime = Math.max(hostTime, t);
    }
  }

  @Override
  public Communicator newCommunicator(String name, int[] ranks, int linkSet) {
    checkOpen("newCommunicator");
    int index = -1;
    for (int i = 0; i < ranks.length; i++) {
      if (ranks[i] < 0 || ranks[i] >= worldSize()) {
        throw new DeviceException(ERR_ARG, "newCommunicator: rank " + ranks[i] + " of group "
            + name + " outside the world of " + worldSize());
      }
      if (ranks[i] == rank) {
        index = i;
      }
    }
    if (index < 0) {
      throw new DeviceException(ERR_ARG, "newCommunicator: rank " + rank + " is not a member of "
          + name + " " + java.util.Arrays.toString(ranks));
    }
    clock.lock.lock();
    try {
      SimCommunicator c = new SimCommunicator(this, fabric.join(name, ranks, index), index);
      communicators.add(c);
      return c;
    } finally {
      clock.lock.unlock();
    }
  }

  void closeCommunicator(SimCommunicator c) {
    clock.lock.lock();
    try {
      if (c.closed) {
        return;
      }
      c.closed = true;
      for (Collective pending : List.copyOf(c.group.collectives.values())) {
        if (!pending.complete()) {
          clock.fail(pending, new DeviceException(3, pending.kind + " #" + pending.seq
              + " of group " + c.group.name + ": rank " + rank + " closed its communicator;"
              + " members " + pending.missing() + " never issued it"));
        }
      }
    } finally {
      clock.lock.unlock();
    }
  }

  // ---- ops: fill, copy, GEMM -------------------------------------------------------------------

  @Override
  public void fill(Stream s, Tensor t, float value) {
    SimChecks.fill(rank, t, value);
    SimTensor x = t(t, "fill", "t");
    elementwise(s, "fill", () -> SimKernels.fill(x, value), x);
  }

  @Override
  public void random(Stream s, Tensor t, long seed, Distribution dist, float a, float b) {
    SimTensor x = t(t, "random", "t");
    SimChecks.random(rank, x, seed, dist, a, b);
    elementwise(s, "random", () -> SimKernels.random(x, seed, dist, a, b), x);
  }

  @Override
  public void copy(Stream s, Tensor src, Tensor dst) {
    SimTensor a = t(src, "copy", "src");
    SimTensor b = t(dst, "copy", "dst");
    SimChecks.copy(rank, a, b);
    elementwise(s, "copy", () -> SimKernels.copy(a, b), a, b);
  }

  @Override
  public void gemm(Stream s, boolean transA, boolean transB, float alpha, Tensor a, Tensor b,
      float beta, Tensor c) {
    SimTensor x = t(a, "gemm", "a");
    SimTensor y = t(b, "gemm", "b");
    SimTensor z = t(c, "gemm", "c");
    SimChecks.gemm(rank, transA, transB, alpha, x, y, beta, z);
    int r = z.shape.length;
    long m = z.shape[r - 2];
    long n = z.shape[r - 1];
    long k = transA ? x.shape[x.shape.length - 2] : x.shape[x.shape.length - 1];
    long batch = r == 3 ? z.shape[0] : 1;
    double bytes = x.bytes() + y.bytes() + z.bytes() * (beta == 0f ? 1 : 2);
    op(s, "gemm", cost.gemm(m, n, k, batch, bytes),
        () -> SimKernels.gemm(transA, transB, alpha, x, y, beta, z));
  }

  // ---- ops: elementwise and activations --------------------------------------------------------

  @Override
  public void add(Stream s, Tensor x, Tensor y, Tensor out) {
    SimTensor a = t(x, "add", "x");
    SimTensor b = t(y, "add", "y");
    SimTensor o = t(out, "add", "out");
    SimChecks.add(rank, a, b, o);
    elementwise(s, "add", () -> SimKernels.add(a, b, o), a, b, o);
  }

  @Override
  public void axpy(Stream s, float alpha, Tensor x, Tensor y) {
    SimTensor a = t(x, "axpy", "x");
    SimTensor b = t(y, "axpy", "y");
    SimChecks.axpy(rank, alpha, a, b);
    elementwise(s, "axpy", () -> SimKernels.axpy(alpha, a, b), a, b, b);
  }

  @Override
  public void scale(Stream s, float alpha, Tensor x) {
    SimTensor a = t(x, "scale", "x");
    SimChecks.scale(rank, alpha, a);
    elementwise(s, "scale", () -> SimKernels.scale(alpha, a), a, a);
  }

  @Override
  public void gelu(Stream s, Tensor x, Tensor y) {
    SimTensor a = t(x, "gelu", "x");
    SimTensor b = t(y, "gelu", "y");
    SimChecks.gelu(rank, a, b);
    elementwise(s, "gelu", () -> SimKernels.gelu(a, b), a, b);
  }

  @Override
  public void geluBackward(Stream s, Tensor x, Tensor dy, Tensor dx) {
    SimTensor a = t(x, "gelu_backward", "x");
    SimTensor b = t(dy, "gelu_backward", "dy");
    SimTensor c = t(dx, "gelu_backward", "dx");
    SimChecks.geluBackward(rank, a, b, c);
    elementwise(s, "gelu_backward", () -> SimKernels.geluBackward(a, b, c), a, b, c);
  }

  @Override
  public void swiglu(Stream s, Tensor a, Tensor b, Tensor y) {
    SimTensor x = t(a, "swiglu", "a");
    SimTensor z = t(b, "swiglu", "b");
    SimTensor o = t(y, "swiglu", "y");
    SimChecks.swiglu(rank, x, z, o);
    elementwise(s, "swiglu", () -> SimKernels.swiglu(x, z, o), x, z, o);
  }

  @Override
  public void swigluBackward(Stream s, Tensor a, Tensor b, Tensor dy, Tensor da, Tensor db) {
    SimTensor x = t(a, "swiglu_backward", "a");
    SimTensor z = t(b, "swiglu_backward", "b");
    SimTensor g = t(dy, "swiglu_backward", "dy");
    SimTensor gx = t(da, "swiglu_backward", "da");
    SimTensor gz = t(db, "swiglu_backward", "db");
    SimChecks.swigluBackward(rank, x, z, g, gx, gz);
    elementwise(s, "swiglu_backward", () -> SimKernels.swigluBackward(x, z, g, gx, gz),
        x, z, g, gx, gz);
  }

  // ---- ops: rows (routing, dispatch, combine) --------------------------------------------------

  @Override
  public void softmax(Stream s, Tensor x, Tensor y) {
    SimTensor a = t(x, "softmax", "x");
    SimTensor b = t(y, "softmax", "y");
    SimChecks.softmax(rank, a, b);
    elementwise(s, "softmax", () -> SimKernels.softmax(a, b), a, b);
  }

  @Override
  public void softmaxBackward(Stream s, Tensor y, Tensor dy, Tensor dx) {
    SimTensor a = t(y, "softmax_backward", "y");
    SimTensor b = t(dy, "softmax_backward", "dy");
    SimTensor c = t(dx, "softmax_backward", "dx");
    SimChecks.softmaxBackward(rank, a, b, c);
    elementwise(s, "softmax_backward", () -> SimKernels.softmaxBackward(a, b, c), a, b, c);
  }

  @Override
  public void topk(Stream s, Tensor x, int k, Tensor values, Tensor indices) {
    SimTensor a = t(x, "topk", "x");
    SimTensor v = t(values, "topk", "values");
    SimTensor i = t(indices, "topk", "indices");
    SimChecks.topk(rank, a, k, v, i);
    elementwise(s, "topk", () -> SimKernels.topk(a, k, v, i), a, v, i);
  }

  @Override
  public void topkBackward(Stream s, Tensor dValues, Tensor indices, Tensor dx) {
    SimTensor v = t(dValues, "topk_backward", "dValues");
    SimTensor i = t(indices, "topk_backward", "indices");
    SimTensor d = t(dx, "topk_backward", "dx");
    SimChecks.topkBackward(rank, v, i, d);
    elementwise(s, "topk_backward", () -> SimKernels.topkBackward(v, i, d), v, i, v, v);
  }

  @Override
  public void gatherRows(Stream s, Tensor src, Tensor index, Tensor weights, float beta,
      Tensor dst) {
    SimTensor a = t(src, "gather_rows", "src");
    SimTensor i = t(index, "gather_rows", "index");
    SimTensor w = weights == null ? null : t(weights, "gather_rows", "weights");
    SimTensor d = t(dst, "gather_rows", "dst");
    SimChecks.gatherRows(rank, a, i, w, beta, d);
    double bytes = rowsBytes(i, a) + i.bytes() + (w == null ? 0 : w.bytes())
        + d.bytes() * (beta == 0f ? 1 : 2);
    op(s, "gather_rows", cost.memory("gather_rows", bytes, d.numel()),
        () -> SimKernels.gatherRows(a, i, w, beta, d));
  }

  @Override
  public void scatterAddRows(Stream s, Tensor src, Tensor index, Tensor weights, Tensor dst) {
    SimTensor a = t(src, "scatter_add_rows", "src");
    SimTensor i = t(index, "scatter_add_rows", "index");
    SimTensor w = weights == null ? null : t(weights, "scatter_add_rows", "weights");
    SimTensor d = t(dst, "scatter_add_rows", "dst");
    SimChecks.scatterAddRows(rank, a, i, w, d);
    double bytes = a.bytes() + i.bytes() + (w == null ? 0 : w.bytes()) + 2 * rowsBytes(i, d);
    op(s, "scatter_add_rows", cost.memory("scatter_add_rows", bytes, a.numel()),
        () -> SimKernels.scatterAddRows(a, i, w, d));
  }

  @Override
  public void gatherDot(Stream s, Tensor a, Tensor src, Tensor index, Tensor out) {
    SimTensor x = t(a, "gather_dot", "a");
    SimTensor y = t(src, "gather_dot", "src");
    SimTensor i = t(index, "gather_dot", "index");
    SimTensor o = t(out, "gather_dot", "out");
    SimChecks.gatherDot(rank, x, y, i, o);
    double bytes = x.bytes() + rowsBytes(i, y) + i.bytes() + o.bytes();
    op(s, "gather_dot", cost.memory("gather_dot", bytes, o.numel()),
        () -> SimKernels.gatherDot(x, y, i, o));
  }

  @Override
  public void moeRoute(Stream s, Tensor indices, Tensor expertRow, int capacity, Tensor slots,
      Tensor slotToken, Tensor dropped) {
    SimTensor i = t(indices, "moe_route", "indices");
    SimTensor e = t(expertRow, "moe_route", "expertRow");
    SimTensor sl = t(slots, "moe_route", "slots");
    SimTensor st = t(slotToken, "moe_route", "slotToken");
    SimTensor d = t(dropped, "moe_route", "dropped");
    SimChecks.moeRoute(rank, i, e, capacity, sl, st, d);
    elementwise(s, "moe_route", () -> SimKernels.moeRoute(i, e, capacity, sl, st, d), i, e, sl, st, d);
  }

  @Override
  public void moeGateWeights(Stream s, Tensor values, Tensor slots, Tensor weights) {
    SimTensor v = t(values, "moe_gate_weights", "values");
    SimTensor sl = t(slots, "moe_gate_weights", "slots");
    SimTensor w = t(weights, "moe_gate_weights", "weights");
    SimChecks.moeGateWeights(rank, v, sl, w);
    elementwise(s, "moe_gate_weights", () -> SimKernels.moeGateWeights(v, sl, w), v, sl, w);
  }

  @Override
  public void moeGateWeightsBackward(Stream s, Tensor values, Tensor slots, Tensor dWeights,
      Tensor dValues) {
    SimTensor v = t(values, "moe_gate_weights_backward", "values");
    SimTensor sl = t(slots, "moe_gate_weights_backward", "slots");
    SimTensor dw = t(dWeights, "moe_gate_weights_backward", "dWeights");
    SimTensor dv = t(dValues, "moe_gate_weights_backward", "dValues");
    SimChecks.moeGateWeightsBackward(rank, v, sl, dw, dv);
    elementwise(s, "moe_gate_weights_backward", () -> SimKernels.moeGateWeightsBackward(v, sl, dw, dv), v, sl, dw, dv);
  }

  @Override
  public void moeAuxLoss(Stream s, Tensor probs, Tensor indices, float coeff, Tensor loss,
      Tensor dProbs) {
    SimTensor p = t(probs, "moe_aux_loss", "probs");
    SimTensor i = t(indices, "moe_aux_loss", "indices");
    SimTensor l = t(loss, "moe_aux_loss", "loss");
    SimTensor d = t(dProbs, "moe_aux_loss", "dProbs");
    SimChecks.moeAuxLoss(rank, p, i, coeff, l, d);
    elementwise(s, "moe_aux_loss", () -> SimKernels.moeAuxLoss(p, i, coeff, l, d), p, i, l, d, d);
  }

  @Override
  public void mseLoss(Stream s, Tensor y, Tensor target, float gradScale, Tensor loss,
      Tensor dy) {
    SimTensor a = t(y, "mse_loss", "y");
    SimTensor b = t(target, "mse_loss", "target");
    SimTensor l = t(loss, "mse_loss", "loss");
    SimTensor d = t(dy, "mse_loss", "dy");
    SimChecks.mseLoss(rank, a, b, gradScale, l, d);
    elementwise(s, "mse_loss", () -> SimKernels.mseLoss(a, b, gradScale, l, d), a, b, l, d);
  }

  @Override
  public void adam(Stream s, Tensor param, Tensor grad, Tensor m, Tensor v, AdamParams params,
      int step) {
    SimTensor p = t(param, "adam", "param");
    SimTensor g = t(grad, "adam", "grad");
    SimTensor a = t(m, "adam", "m");
    SimTensor b = t(v, "adam", "v");
    SimChecks.adam(rank, p, g, a, b, params, step);
    elementwise(s, "adam", () -> SimKernels.adam(p, g, a, b, params, step),
        p, p, g, a, a, b, b);
  }

  // ---- ops: transformer (norm, attention, cross-entropy) -----------------------------------------

  @Override
  public void rmsNorm(Stream s, Tensor x, Tensor gamma, float eps, Tensor y, Tensor rstd) {
    SimTensor a = t(x, "rms_norm", "x");
    SimTensor g = t(gamma, "rms_norm", "gamma");
    SimTensor b = t(y, "rms_norm", "y");
    SimTensor r = t(rstd, "rms_norm", "rstd");
    SimChecks.rmsNorm(rank, a, g, eps, b, r);
    elementwise(s, "rms_norm", () -> SimKernels.rmsNorm(a, g, eps, b, r), a, g, b, r);
  }

  @Override
  public void rmsNormBackward(Stream s, Tensor x, Tensor gamma, Tensor rstd, Tensor dy, Tensor dx,
      Tensor dGamma) {
    SimTensor a = t(x, "rms_norm_backward", "x");
    SimTensor g = t(gamma, "rms_norm_backward", "gamma");
    SimTensor r = t(rstd, "rms_norm_backward", "rstd");
    SimTensor gy = t(dy, "rms_norm_backward", "dy");
    SimTensor gx = t(dx, "rms_norm_backward", "dx");
    SimTensor gg = t(dGamma, "rms_norm_backward", "dGamma");
    SimChecks.rmsNormBackward(rank, a, g, r, gy, gx, gg);
    elementwise(s, "rms_norm_backward", () -> SimKernels.rmsNormBackward(a, g, r, gy, gx, gg),
        a, g, r, gy, gx, gg, gg);
  }

  @Override
  public void causalSoftmax(Stream s, Tensor x, float scale, int offset, Tensor y) {
    SimTensor a = t(x, "causal_softmax", "x");
    SimTensor b = t(y, "causal_softmax", "y");
    SimChecks.causalSoftmax(rank, a, scale, offset, b);
    elementwise(s, "causal_softmax", () -> SimKernels.causalSoftmax(a, scale, offset, b), a, b);
  }

  @Override
  public void causalSoftmaxBackward(Stream s, Tensor y, Tensor dy, float scale, Tensor dx) {
    SimTensor a = t(y, "causal_softmax_backward", "y");
    SimTensor b = t(dy, "causal_softmax_backward", "dy");
    SimTensor c = t(dx, "causal_softmax_backward", "dx");
    SimChecks.causalSoftmaxBackward(rank, a, b, scale, c);
    elementwise(s, "causal_softmax_backward",
        () -> SimKernels.causalSoftmaxBackward(a, b, scale, c), a, b, c);
  }

  @Override
  public void logSumExp(Stream s, Tensor x, Tensor lse) {
    SimTensor a = t(x, "log_sum_exp", "x");
    SimTensor l = t(lse, "log_sum_exp", "lse");
    SimChecks.logSumExp(rank, a, l);
    elementwise(s, "log_sum_exp", () -> SimKernels.logSumExp(a, l), a, l);
  }

  @Override
  public void pickTargets(Stream s, Tensor x, Tensor targets, int first, Tensor out) {
    SimTensor a = t(x, "pick_targets", "x");
    SimTensor i = t(targets, "pick_targets", "targets");
    SimTensor o = t(out, "pick_targets", "out");
    SimChecks.pickTargets(rank, a, i, first, o);
    // one element of x per row, not the whole shard
    double bytes = (double) o.numel() * a.dtype.bytes() + i.bytes() + o.bytes();
    op(s, "pick_targets", cost.memory("pick_targets", bytes, o.numel()),
        () -> SimKernels.pickTargets(a, i, first, o));
  }

  @Override
  public void crossEntropyBackward(Stream s, Tensor x, Tensor lse, Tensor targets, int first,
      float scale, Tensor dx) {
    SimTensor a = t(x, "cross_entropy_backward", "x");
    SimTensor l = t(lse, "cross_entropy_backward", "lse");
    SimTensor i = t(targets, "cross_entropy_backward", "targets");
    SimTensor d = t(dx, "cross_entropy_backward", "dx");
    SimChecks.crossEntropyBackward(rank, a, l, i, first, scale, d);
    elementwise(s, "cross_entropy_backward",
        () -> SimKernels.crossEntropyBackward(a, l, i, first, scale, d), a, l, i, d);
  }

  // ---- collectives -------------------------------------------------------------------------------

  @Override
  public void allToAll(Stream from, Communicator comm, Tensor in, Tensor out, Event done) {
    collective("all_to_all", from, comm, 0, in, out, done);
  }

  @Override
  public void allGather(Stream from, Communicator comm, Tensor in, Tensor out, Event done) {
    collective("all_gather", from, comm, 0, in, out, done);
  }

  @Override
  public void reduceScatter(Stream from, Communicator comm, Tensor in, Tensor out, Event done) {
    collective("reduce_scatter", from, comm, 0, in, out, done);
  }

  @Override
  public void allReduce(Stream from, Communicator comm, Tensor in, Tensor out, Event done) {
    collective("all_reduce", from, comm, 0, in, out, done);
  }

  @Override
  public void shift(Stream from, Communicator comm, int offset, Tensor in, Tensor out,
      Event done) {
    collective("shift", from, comm, offset, in, out, done);
  }

  /**
   * Issued from {@code from}: an issue point there waits for the stream's work so far; the member
   * op on the communicator's queue waits for it and for the queue's previous collective, and the
   * collective starts when every member's queue has reached it.
   */
  private void collective(String kind, Stream from, Communicator comm, int offset, Tensor in,
      Tensor out, Event done) {
    SimStream s = stream(from, kind);
    if (!(comm instanceof SimCommunicator c) || c.device != this) {
      throw new DeviceException(ERR_HANDLE, kind + ": comm is not a communicator of device "
          + rank);
    }
    if (c.closed) {
      throw new DeviceException(ERR_HANDLE, kind + ": communicator " + c.name() + " was closed");
    }
    SimTensor x = t(in, kind, "in");
    SimTensor y = t(out, kind, "out");
    SimStream.SimEvent e = done == null ? null : event(done, kind);
    int size = c.group.ranks.length;
    switch (kind) {
      case "all_to_all" -> SimChecks.allToAll(rank, x, y, size);
      case "all_gather" -> SimChecks.allGather(rank, x, y, size);
      case "reduce_scatter" -> SimChecks.reduceScatter(rank, x, y, size);
      case "shift" -> SimChecks.shift(rank, x, y, size);
      default -> SimChecks.allReduce(rank, x, y, size);
    }
    clock.lock.lock();
    try {
      Op issue = newOp(s, kind, true, 0);
      issue.after(s.last);
      pending++;
      clock.submit(issue);
      int members = c.group.ranks.length;
      double startup = cost.collectiveStartup(kind, members, fabric.spansNodes(c.group.ranks));
      Op member = newOp(c.queue, kind, false, startup);
      member.after(issue);
      Collective coll = c.group.collective(c.next++, kind);
      coll.join(c.index, member, x, y, offset);
      coll.bytes = CostModel.collectiveBytes(kind, members, x.bytes());
      if (numerics) {
        member.math = switch (kind) {
          case "all_to_all" -> () -> SimKernels.allToAll(coll.in, coll.out);
          case "all_gather" -> () -> SimKernels.allGather(coll.in, coll.out);
          case "reduce_scatter" -> () -> SimKernels.reduceScatter(coll.in, coll.out);
          case "shift" -> () -> SimKernels.shift(coll.in, coll.out, coll.offset);
          default -> () -> SimKernels.allReduce(coll.in, coll.out);
        };
      }
      enqueue(c.queue, member);
      if (e != null) {
        e.captured = member;
      }
    } finally {
      clock.lock.unlock();
    }
  }

  // ---- timeline ----------------------------------------------------------------------------------

  @Override
  public void label(String label) {
    this.label = label;
  }

  @Override
  public List<OpRecord> drainTimeline() {
    clock.lock.lock();
    try {
      List<OpRecord> out = new ArrayList<>(timeline);
      timeline.clear();
      out.sort(Comparator.comparingLong(OpRecord::startNanos));
      return out;
    } finally {
      clock.lock.unlock();
    }
  }

  /** The clock's callback when an op of this device ended. */
  void ended(Op op) {
    pending--;
    if (op.error != null && failure == null) {
      failure = op.error;
    }
    if (!op.marker) {
      long bytes = op.collective == null ? 0 : Math.round(op.collective.bytes);
      long modelled = op.collective == null ? 0 : nanos(op.end) - nanos(op.start);
      timeline.add(new OpRecord(op.stream.name, op.name, op.label, nanos(op.start),
          nanos(op.end), bytes, modelled));
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    List.copyOf(communicators).forEach(this::closeCommunicator);
    closed = true;
  }

  // ---- helpers -----------------------------------------------------------------------------------

  private void op(Stream stream, String name, double duration, Runnable math) {
    SimStream s = stream(stream, name);
    clock.lock.lock();
    try {
      Op o = newOp(s, name, false, duration);
      if (numerics) {
        o.math = math;
      }
      enqueue(s, o);
    } finally {
      clock.lock.unlock();
    }
  }

  private Op newOp(SimStream s, String name, boolean marker, double duration) {
    checkOpen(name);
    return new Op(this, seq++, s, name, label, marker, duration, hostTime);
  }

  private void enqueue(SimStream s, Op o) {
    o.after(s.last);
    s.last = o;
    pending++;
    clock.submit(o);
  }

  /**
   * A memory-bound op: it moves its operands' bytes (an operand listed twice is read and written)
   * and computes over its largest operand's elements.
   */
  private void elementwise(Stream s, String name, Runnable math, SimTensor... operands) {
    double bytes = 0;
    long elements = 0;
    for (SimTensor x : operands) {
      bytes += x.bytes();
      elements = Math.max(elements, x.numel());
    }
    op(s, name, cost.memory(name, bytes, elements), math);
  }

  /** Bytes of the rows an index [R, K] selects from a [N, M] tensor. */
  private static double rowsBytes(SimTensor index, SimTensor rows) {
    return (double) index.numel() * rows.shape[rows.shape.length - 1] * rows.dtype.bytes();
  }

  private SimTensor t(Tensor t, String op, String operand) {
    if (!(t instanceof SimTensor x) || x.device != rank) {
      throw new DeviceException(ERR_HANDLE, op + ": " + operand
          + " is not a tensor of simulated device " + rank);
    }
    if (x.closed()) {
      throw new DeviceException(ERR_HANDLE, op + ": " + operand + " was closed");
    }
    return x;
  }

  private SimStream stream(Stream s, String op) {
    if (!(s instanceof SimStream x) || x.device != rank) {
      throw new DeviceException(ERR_HANDLE, op + ": not a stream of simulated device " + rank);
    }
    return x;
  }

  private SimStream.SimEvent event(Event e, String op) {
    if (!(e instanceof SimStream.SimEvent x) || x.device != rank) {
      throw new DeviceException(ERR_HANDLE, op + ": not an event of simulated device " + rank);
    }
    return x;
  }

  private void checkOpen(String op) {
    if (closed) {
      throw new DeviceException(3, op + ": simulated device " + rank + " was closed");
    }
  }

  private static long nanos(double seconds) {
    return Math.round(seconds * 1e9);
  }
}
