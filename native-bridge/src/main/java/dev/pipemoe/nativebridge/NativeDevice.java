package dev.pipemoe.nativebridge;

import static dev.pipemoe.nativebridge.PipemoeLib.PM_ERR_ARG;
import static dev.pipemoe.nativebridge.PipemoeLib.PM_ERR_HANDLE;
import static dev.pipemoe.nativebridge.PipemoeLib.CRITICAL;
import static dev.pipemoe.nativebridge.PipemoeLib.S_JJJ;
import static dev.pipemoe.nativebridge.PipemoeLib.S_JJJJ;
import static dev.pipemoe.nativebridge.PipemoeLib.S_JJJJJ;
import static dev.pipemoe.nativebridge.PipemoeLib.bind;
import static dev.pipemoe.nativebridge.PipemoeLib.call;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

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
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * One rank of a {@link NativeFabric}: every method is one pm_* call made through {@link
 * PipemoeLib#call} (ops return once enqueued), and every failure is a {@link DeviceException}
 * carrying the runtime's message; {@link NativeTimeline} keeps the names records refer to. Like the interface
 * says, a device is driven by one thread at a time. Handles go to C as longs and nothing is
 * allocated on the op path; arrays cross without a copy (critical downcalls with heap access).
 */
final class NativeDevice implements Device {
  // ---- the ops' downcalls, next to the methods that make them: adding an op is the C
  // definition and its method here (docs/native-runtime.md, "How to add an op") ----
  private static final MethodHandle pm_fill =
      bind("pm_fill", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_FLOAT), CRITICAL);
  private static final MethodHandle pm_random = bind("pm_random",
      FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_FLOAT, JAVA_FLOAT), CRITICAL);
  private static final MethodHandle pm_copy = bind("pm_copy", S_JJJ, CRITICAL);
  private static final MethodHandle pm_gemm = bind("pm_gemm", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT,
      JAVA_FLOAT, JAVA_LONG, JAVA_LONG, JAVA_FLOAT, JAVA_LONG), CRITICAL);
  private static final MethodHandle pm_add = bind("pm_add", S_JJJJ, CRITICAL);
  private static final MethodHandle pm_axpy =
      bind("pm_axpy", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_FLOAT, JAVA_LONG, JAVA_LONG), CRITICAL);
  private static final MethodHandle pm_scale =
      bind("pm_scale", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_FLOAT, JAVA_LONG), CRITICAL);
  private static final MethodHandle pm_gelu = bind("pm_gelu", S_JJJ, CRITICAL);
  private static final MethodHandle pm_gelu_backward = bind("pm_gelu_backward", S_JJJJ, CRITICAL);
  private static final MethodHandle pm_swiglu = bind("pm_swiglu", S_JJJJ, CRITICAL);
  private static final MethodHandle pm_swiglu_backward = bind("pm_swiglu_backward",
      FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), CRITICAL);
  private static final MethodHandle pm_softmax = bind("pm_softmax", S_JJJ, CRITICAL);
  private static final MethodHandle pm_softmax_backward = bind("pm_softmax_backward", S_JJJJ, CRITICAL);
  private static final MethodHandle pm_topk = bind("pm_topk",
      FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG), CRITICAL);
  private static final MethodHandle pm_topk_backward = bind("pm_topk_backward", S_JJJJ, CRITICAL);
  private static final MethodHandle pm_gather_rows = bind("pm_gather_rows",
      FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_FLOAT, JAVA_LONG), CRITICAL);
  private static final MethodHandle pm_scatter_add_rows = bind("pm_scatter_add_rows", S_JJJJJ, CRITICAL);
  private static final MethodHandle pm_gather_dot = bind("pm_gather_dot", S_JJJJJ, CRITICAL);
  private static final MethodHandle pm_moe_route = bind("pm_moe_route", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG,
      JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG), CRITICAL);
  private static final MethodHandle pm_moe_gate_weights = bind("pm_moe_gate_weights", S_JJJJ, CRITICAL);
  private static final MethodHandle pm_moe_gate_weights_backward = bind("pm_moe_gate_weights_backward", S_JJJJJ, CRITICAL);
  private static final MethodHandle pm_moe_aux_loss = bind("pm_moe_aux_loss", FunctionDescriptor.of(JAVA_INT, JAVA_LONG,
      JAVA_LONG, JAVA_LONG, JAVA_FLOAT, JAVA_LONG, JAVA_LONG), CRITICAL);
  private static final MethodHandle pm_mse_loss = bind("pm_mse_loss", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG,
      JAVA_LONG, JAVA_FLOAT, JAVA_LONG, JAVA_LONG), CRITICAL);
  private static final MethodHandle pm_adam = bind("pm_adam", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG,
      JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, JAVA_INT), CRITICAL);
  private static final MethodHandle pm_rms_norm = bind("pm_rms_norm", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG,
      JAVA_LONG, JAVA_FLOAT, JAVA_LONG, JAVA_LONG), CRITICAL);
  private static final MethodHandle pm_rms_norm_backward = bind("pm_rms_norm_backward",
      FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), CRITICAL);
  private static final MethodHandle pm_causal_softmax = bind("pm_causal_softmax",
      FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_FLOAT, JAVA_INT, JAVA_LONG), CRITICAL);
  private static final MethodHandle pm_causal_softmax_backward = bind("pm_causal_softmax_backward",
      FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_FLOAT, JAVA_LONG), CRITICAL);
  private static final MethodHandle pm_log_sum_exp = bind("pm_log_sum_exp", S_JJJ, CRITICAL);
  private static final MethodHandle pm_pick_targets = bind("pm_pick_targets",
      FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG), CRITICAL);
  private static final MethodHandle pm_cross_entropy_backward = bind("pm_cross_entropy_backward", FunctionDescriptor.of(
      JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_FLOAT, JAVA_LONG), CRITICAL);

  private static final MethodHandle pm_all_to_all = bind("pm_all_to_all", S_JJJJJ, CRITICAL);
  private static final MethodHandle pm_all_gather = bind("pm_all_gather", S_JJJJJ, CRITICAL);
  private static final MethodHandle pm_reduce_scatter = bind("pm_reduce_scatter", S_JJJJJ, CRITICAL);
  private static final MethodHandle pm_all_reduce = bind("pm_all_reduce", S_JJJJJ, CRITICAL);
  private static final MethodHandle pm_shift = bind("pm_shift",
      FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG), CRITICAL);

  private final NativeFabric fabric;
  private final long handle;
  private final int rank;
  private final int worldSize;
  private final NativeStream compute;
  private final NativeTimeline timeline;
  private boolean closed;

  private NativeDevice(NativeFabric fabric, long handle, int rank, int worldSize, long computeHandle) {
    this.fabric = fabric;
    this.handle = handle;
    this.rank = rank;
    this.worldSize = worldSize;
    this.compute = new NativeStream("compute", computeHandle, queueId(computeHandle));
    this.timeline = new NativeTimeline(handle);
    timeline.nameQueue(compute.queueId(), compute.name());
  }

  static NativeDevice create(NativeFabric fabric, long fabricHandle, int rank, int worldSize) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(JAVA_LONG, 2);
      call(() -> (int) PipemoeLib.pm_device_new.invokeExact(fabricHandle, rank, out));
      long d = out.get(JAVA_LONG, 0);
      call(() -> (int) PipemoeLib.pm_device_stream.invokeExact(d, out.asSlice(8)));
      return new NativeDevice(fabric, d, rank, worldSize, out.get(JAVA_LONG, 8));
    }
  }

  // ---- handles ----------------------------------------------------------------------------------

  private static long h(Tensor t) {
    if (t == null) {
      return 0;  // the runtime names the operand in its null-handle error
    }
    if (t instanceof NativeTensor n) {
      return n.handle;
    }
    throw new DeviceException(PM_ERR_HANDLE, t.getClass().getName() + " is not a tensor of the native runtime");
  }

  private static long h(Stream s) {
    if (s instanceof NativeStream n && n.handle() != 0) {
      return n.handle();
    }
    if (s instanceof NativeStream n) {
      throw new DeviceException(PM_ERR_HANDLE, n.name() + " is a communicator's queue; enqueue on a stream");
    }
    if (s == null) {
      return 0;
    }
    throw new DeviceException(PM_ERR_HANDLE, s.getClass().getName() + " is not a stream of the native runtime");
  }

  private static long h(Event e) {
    if (e == null) {
      return 0;
    }
    if (e instanceof NativeEvent n) {
      return n.handle;
    }
    throw new DeviceException(PM_ERR_HANDLE, e.getClass().getName() + " is not an event of the native runtime");
  }

  private static long h(Communicator c) {
    if (c == null) {
      return 0;
    }
    if (c instanceof NativeCommunicator n) {
      return n.handle;
    }
    throw new DeviceException(PM_ERR_HANDLE, c.getClass().getName() + " is not a communicator of the native runtime");
  }

  private static int queueId(long stream) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment seg = a.allocate(JAVA_INT);
      call(() -> (int) PipemoeLib.pm_stream_id.invokeExact(stream, seg));
      return seg.get(JAVA_INT, 0);
    }
  }

  // ---- identity, clock ----------------------------------------------------------------------------

  @Override
  public int rank() {
    return rank;
  }

  @Override
  public int worldSize() {
    return worldSize;
  }

  @Override
  public long nowNanos() {
    return fabric.nowNanos();
  }

  // ---- memory -------------------------------------------------------------------------------------

  @Override
  public Tensor alloc(DType dtype, long... shape) {
    if (shape.length > 4) {
      throw new DeviceException(PM_ERR_ARG, "alloc: " + shape.length + " dimensions, at most 4");
    }
    try (Arena a = Arena.ofConfined()) {
      MemorySegment dims = a.allocateFrom(JAVA_LONG, shape), out = a.allocate(JAVA_LONG);
      call(() -> (int) PipemoeLib.pm_tensor_new.invokeExact(handle, dtype.ordinal(), shape.length, dims, out));
      return new NativeTensor(out.get(JAVA_LONG, 0), dtype, shape, NativeTensor.contiguousStrides(shape));
    }
  }

  @Override
  public Tensor view(Tensor base, long offset, long[] shape, long[] strides) {
    if (shape.length != strides.length || shape.length > 4) {
      throw new DeviceException(PM_ERR_ARG, "view: shape has " + shape.length + " dimensions and strides "
          + strides.length + "; they must match and be at most 4");
    }
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(JAVA_LONG);
      MemorySegment dims = a.allocateFrom(JAVA_LONG, shape), steps = a.allocateFrom(JAVA_LONG, strides);
      call(() -> (int) PipemoeLib.pm_tensor_view.invokeExact(h(base), offset, shape.length, dims, steps, out));
      return new NativeTensor(out.get(JAVA_LONG, 0), base.dtype(), shape, strides);
    }
  }

  @Override
  public void write(Tensor t, float[] values) {
    needFloats(t, "write(float[])");
    io(PipemoeLib.pm_tensor_write, t, MemorySegment.ofArray(values), values.length);
  }

  @Override
  public void write(Tensor t, int[] values) {
    needInts(t, "write(int[])");
    io(PipemoeLib.pm_tensor_write, t, MemorySegment.ofArray(values), values.length);
  }

  @Override
  public float[] readFloats(Tensor t) {
    needFloats(t, "readFloats");
    float[] out = new float[numel(t)];
    io(PipemoeLib.pm_tensor_read, t, MemorySegment.ofArray(out), out.length);
    return out;
  }

  @Override
  public int[] readInts(Tensor t) {
    needInts(t, "readInts");
    int[] out = new int[numel(t)];
    io(PipemoeLib.pm_tensor_read, t, MemorySegment.ofArray(out), out.length);
    return out;
  }

  /** The array's own length goes to C, which refuses any count other than the tensor's numel. */
  private static void io(MethodHandle mh, Tensor t, MemorySegment array, long count) {
    call(() -> (int) mh.invokeExact(h(t), array, count));
  }

  private static void needFloats(Tensor t, String op) {
    if (t != null && t.dtype() == DType.I32) {
      throw new DeviceException(PM_ERR_ARG, op + ": the tensor is I32; use the int[] variant");
    }
  }

  private static void needInts(Tensor t, String op) {
    if (t != null && t.dtype() != DType.I32) {
      throw new DeviceException(PM_ERR_ARG, op + ": the tensor is " + t.dtype() + "; use the float[] variant");
    }
  }

  private static int numel(Tensor t) {
    if (t == null) {
      throw new DeviceException(PM_ERR_HANDLE, "the tensor is null");
    }
    long n = t.numel();
    if (n > Integer.MAX_VALUE - 8) {
      throw new DeviceException(PM_ERR_ARG, "a tensor of " + n + " elements does not fit a Java array");
    }
    return (int) n;
  }

  // ---- streams, events, communicators -------------------------------------------------------------

  @Override
  public Stream computeStream() {
    return compute;
  }

  @Override
  public Stream newStream(String name) {
    if (timeline.hasQueueNamed(name)) {
      throw new DeviceException(PM_ERR_ARG, "newStream: device " + rank + " already has a queue named " + name);
    }
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(JAVA_LONG);
      call(() -> (int) PipemoeLib.pm_stream_new.invokeExact(handle, out));
      long s = out.get(JAVA_LONG, 0);
      NativeStream stream = new NativeStream(name, s, queueId(s));
      timeline.nameQueue(stream.queueId(), name);
      return stream;
    }
  }

  @Override
  public Event newEvent() {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(JAVA_LONG);
      call(() -> (int) PipemoeLib.pm_event_new.invokeExact(handle, out));
      return new NativeEvent(out.get(JAVA_LONG, 0));
    }
  }

  @Override
  public void record(Event event, Stream stream) {
    call(() -> (int) PipemoeLib.pm_event_record.invokeExact(h(event), h(stream)));
  }

  @Override
  public void waitEvent(Stream stream, Event event) {
    call(() -> (int) PipemoeLib.pm_event_wait.invokeExact(h(stream), h(event)));
  }

  @Override
  public boolean query(Event event) {
    int[] done = new int[1];
    call(() -> (int) PipemoeLib.pm_event_query.invokeExact(h(event), MemorySegment.ofArray(done)));
    return done[0] != 0;
  }

  @Override
  public void synchronize(Event event) {
    call(() -> (int) PipemoeLib.pm_event_synchronize.invokeExact(h(event)));
  }

  @Override
  public void synchronize(Stream stream) {
    call(() -> (int) PipemoeLib.pm_stream_synchronize.invokeExact(h(stream)));
  }

  @Override
  public void synchronize() {
    call(() -> (int) PipemoeLib.pm_device_synchronize.invokeExact(handle));
  }

  @Override
  public Communicator newCommunicator(String name, int[] ranks, int linkSet) {
    int index = -1;
    List<Integer> rs = new ArrayList<>();
    for (int i = 0; i < ranks.length; i++) {
      rs.add(ranks[i]);
      index = ranks[i] == rank ? i : index;
    }
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(JAVA_LONG), qid = a.allocate(JAVA_INT);
      MemorySegment cName = a.allocateFrom(name), cRanks = a.allocateFrom(JAVA_INT, ranks);
      call(() -> (int) PipemoeLib.pm_comm_new.invokeExact(handle, cName, cRanks, ranks.length, linkSet, out));
      long c = out.get(JAVA_LONG, 0);
      call(() -> (int) PipemoeLib.pm_comm_queue_id.invokeExact(c, qid));
      NativeStream queue = new NativeStream("comm:" + name, 0, qid.get(JAVA_INT, 0));
      timeline.nameQueue(queue.queueId(), queue.name());
      return new NativeCommunicator(c, name, rs, index, queue);
    }
  }

  // ---- ops ------------------------------------------------------------------------------------------

  @Override
  public void fill(Stream s, Tensor t, float value) {
    call(() -> (int) pm_fill.invokeExact(h(s), h(t), value));
  }

  @Override
  public void random(Stream s, Tensor t, long seed, Distribution dist, float a, float b) {
    call(() -> (int) pm_random.invokeExact(h(s), h(t), seed, dist.ordinal(), a, b));
  }

  @Override
  public void copy(Stream s, Tensor src, Tensor dst) {
    call(() -> (int) pm_copy.invokeExact(h(s), h(src), h(dst)));
  }

  @Override
  public void gemm(Stream s, boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
    call(() -> (int) pm_gemm.invokeExact(h(s), transA ? 1 : 0, transB ? 1 : 0, alpha, h(a), h(b), beta, h(c)));
  }

  @Override
  public void add(Stream s, Tensor x, Tensor y, Tensor out) {
    call(() -> (int) pm_add.invokeExact(h(s), h(x), h(y), h(out)));
  }

  @Override
  public void axpy(Stream s, float alpha, Tensor x, Tensor y) {
    call(() -> (int) pm_axpy.invokeExact(h(s), alpha, h(x), h(y)));
  }

  @Override
  public void scale(Stream s, float alpha, Tensor x) {
    call(() -> (int) pm_scale.invokeExact(h(s), alpha, h(x)));
  }

  @Override
  public void gelu(Stream s, Tensor x, Tensor y) {
    call(() -> (int) pm_gelu.invokeExact(h(s), h(x), h(y)));
  }

  @Override
  public void geluBackward(Stream s, Tensor x, Tensor dy, Tensor dx) {
    call(() -> (int) pm_gelu_backward.invokeExact(h(s), h(x), h(dy), h(dx)));
  }

  @Override
  public void swiglu(Stream s, Tensor a, Tensor b, Tensor y) {
    call(() -> (int) pm_swiglu.invokeExact(h(s), h(a), h(b), h(y)));
  }

  @Override
  public void swigluBackward(Stream s, Tensor a, Tensor b, Tensor dy, Tensor da, Tensor db) {
    call(() -> (int) pm_swiglu_backward.invokeExact(h(s), h(a), h(b), h(dy), h(da), h(db)));
  }

  @Override
  public void softmax(Stream s, Tensor x, Tensor y) {
    call(() -> (int) pm_softmax.invokeExact(h(s), h(x), h(y)));
  }

  @Override
  public void softmaxBackward(Stream s, Tensor y, Tensor dy, Tensor dx) {
    call(() -> (int) pm_softmax_backward.invokeExact(h(s), h(y), h(dy), h(dx)));
  }

  @Override
  public void topk(Stream s, Tensor x, int k, Tensor values, Tensor indices) {
    call(() -> (int) pm_topk.invokeExact(h(s), h(x), k, h(values), h(indices)));
  }

  @Override
  public void topkBackward(Stream s, Tensor dValues, Tensor indices, Tensor dx) {
    call(() -> (int) pm_topk_backward.invokeExact(h(s), h(dValues), h(indices), h(dx)));
  }

  @Override
  public void gatherRows(Stream s, Tensor src, Tensor index, Tensor weights, float beta, Tensor dst) {
    call(() -> (int) pm_gather_rows.invokeExact(h(s), h(src), h(index), h(weights), beta, h(dst)));
  }

  @Override
  public void scatterAddRows(Stream s, Tensor src, Tensor index, Tensor weights, Tensor dst) {
    call(() -> (int) pm_scatter_add_rows.invokeExact(h(s), h(src), h(index), h(weights), h(dst)));
  }

  @Override
  public void gatherDot(Stream s, Tensor a, Tensor src, Tensor index, Tensor out) {
    call(() -> (int) pm_gather_dot.invokeExact(h(s), h(a), h(src), h(index), h(out)));
  }

  @Override
  public void moeRoute(Stream s, Tensor indices, Tensor expertRow, int capacity, Tensor slots, Tensor slotToken,
      Tensor dropped) {
    call(() -> (int) pm_moe_route.invokeExact(h(s), h(indices), h(expertRow), capacity, h(slots), h(slotToken), h(dropped)));
  }

  @Override
  public void moeGateWeights(Stream s, Tensor values, Tensor slots, Tensor weights) {
    call(() -> (int) pm_moe_gate_weights.invokeExact(h(s), h(values), h(slots), h(weights)));
  }

  @Override
  public void moeGateWeightsBackward(Stream s, Tensor values, Tensor slots, Tensor dWeights, Tensor dValues) {
    call(() -> (int) pm_moe_gate_weights_backward.invokeExact(h(s), h(values), h(slots), h(dWeights), h(dValues)));
  }

  @Override
  public void moeAuxLoss(Stream s, Tensor probs, Tensor indices, float coeff, Tensor loss, Tensor dProbs) {
    call(() -> (int) pm_moe_aux_loss.invokeExact(h(s), h(probs), h(indices), coeff, h(loss), h(dProbs)));
  }

  @Override
  public void mseLoss(Stream s, Tensor y, Tensor target, float gradScale, Tensor loss, Tensor dy) {
    call(() -> (int) pm_mse_loss.invokeExact(h(s), h(y), h(target), gradScale, h(loss), h(dy)));
  }

  @Override
  public void adam(Stream s, Tensor param, Tensor grad, Tensor m, Tensor v, AdamParams p, int step) {
    call(() -> (int) pm_adam.invokeExact(h(s), h(param), h(grad), h(m), h(v), p.lr(), p.beta1(), p.beta2(), p.eps(), p.weightDecay(), step));
  }

  @Override
  public void rmsNorm(Stream s, Tensor x, Tensor gamma, float eps, Tensor y, Tensor rstd) {
    call(() -> (int) pm_rms_norm.invokeExact(h(s), h(x), h(gamma), eps, h(y), h(rstd)));
  }

  @Override
  public void rmsNormBackward(Stream s, Tensor x, Tensor gamma, Tensor rstd, Tensor dy, Tensor dx, Tensor dGamma) {
    call(() -> (int) pm_rms_norm_backward.invokeExact(h(s), h(x), h(gamma), h(rstd), h(dy), h(dx), h(dGamma)));
  }

  @Override
  public void causalSoftmax(Stream s, Tensor x, float scale, int offset, Tensor y) {
    call(() -> (int) pm_causal_softmax.invokeExact(h(s), h(x), scale, offset, h(y)));
  }

  @Override
  public void causalSoftmaxBackward(Stream s, Tensor y, Tensor dy, float scale, Tensor dx) {
    call(() -> (int) pm_causal_softmax_backward.invokeExact(h(s), h(y), h(dy), scale, h(dx)));
  }

  @Override
  public void logSumExp(Stream s, Tensor x, Tensor lse) {
    call(() -> (int) pm_log_sum_exp.invokeExact(h(s), h(x), h(lse)));
  }

  @Override
  public void pickTargets(Stream s, Tensor x, Tensor targets, int first, Tensor out) {
    call(() -> (int) pm_pick_targets.invokeExact(h(s), h(x), h(targets), first, h(out)));
  }

  @Override
  public void crossEntropyBackward(Stream s, Tensor x, Tensor lse, Tensor targets, int first, float scale, Tensor dx) {
    call(() -> (int) pm_cross_entropy_backward.invokeExact(h(s), h(x), h(lse), h(targets), first, scale, h(dx)));
  }

  // ---- collectives --------------------------------------------------------------------------------

  @Override
  public void allToAll(Stream from, Communicator comm, Tensor in, Tensor out, Event done) {
    call(() -> (int) pm_all_to_all.invokeExact(h(from), h(comm), h(in), h(out), h(done)));
  }

  @Override
  public void allGather(Stream from, Communicator comm, Tensor in, Tensor out, Event done) {
    call(() -> (int) pm_all_gather.invokeExact(h(from), h(comm), h(in), h(out), h(done)));
  }

  @Override
  public void reduceScatter(Stream from, Communicator comm, Tensor in, Tensor out, Event done) {
    call(() -> (int) pm_reduce_scatter.invokeExact(h(from), h(comm), h(in), h(out), h(done)));
  }

  @Override
  public void allReduce(Stream from, Communicator comm, Tensor in, Tensor out, Event done) {
    call(() -> (int) pm_all_reduce.invokeExact(h(from), h(comm), h(in), h(out), h(done)));
  }

  @Override
  public void shift(Stream from, Communicator comm, int offset, Tensor in, Tensor out, Event done) {
    call(() -> (int) pm_shift.invokeExact(h(from), h(comm), offset, h(in), h(out), h(done)));
  }

  // ---- timeline -----------------------------------------------------------------------------------

  @Override
  public void label(String name) {
    timeline.label(name);
  }

  @Override
  public List<OpRecord> drainTimeline() {
    return timeline.drain();
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      call(() -> (int) PipemoeLib.pm_device_free.invokeExact(handle));
    } finally {
      timeline.close();
    }
  }
}
