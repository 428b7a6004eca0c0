package dev.pipemoe.engine.device;

import java.util.List;
import java.util.function.Supplier;

/**
 * The contract every device runtime implements: the native CPU runtime, a simulated device with a
 * virtual clock, later Ascend or CUDA. One {@code Device} is one rank; it is driven by one host
 * thread (its rank thread) and is not thread-safe. Schedules are written once against this
 * interface.
 *
 * <h2>Execution model</h2>
 *
 * <ul>
 *   <li>Every op is <em>enqueued</em> on a {@link Stream} and returns at once; ops on one stream run
 *       in order. {@link #synchronize()} blocks the host until everything enqueued has finished.
 *   <li>A collective is <em>issued from</em> a stream: it first waits for all work enqueued on that
 *       stream so far, then runs on its communicator's own FIFO queue (PyTorch c10d semantics, which
 *       MindSpeed's pipe-experts schedules rely on). Its completion is recorded in {@code done} when
 *       given; {@link #waitEvent} on it is the equivalent of {@code work.wait()}.
 *   <li>Shape, dtype and handle errors are reported when the op is enqueued, as a {@link
 *       DeviceException} naming the op and the operand. Errors found while running (a peer issued a
 *       different collective, a communicator was destroyed) poison the stream or queue: the next
 *       synchronize on it throws.
 *   <li>Every finished op leaves a record (stream, op, label, start, end) in the device's timeline,
 *       on the clock of {@link #nowNanos()}, which all ranks of a fabric share.
 * </ul>
 *
 * <h2>Tensors</h2>
 *
 * Operands may be strided views ({@link #view}); each op states the ranks it accepts. Elementwise
 * ops and copies accept any rank; unless an op says otherwise, all operands are F32.
 */
public interface Device extends AutoCloseable {

  /** This device's global rank in its fabric. */
  int rank();

  int worldSize();

  /**
   * Whether the device holds values. A simulated device modelling cost only does not: its reads
   * return zeros, so host code may skip work whose only product is values (a teacher's targets).
   */
  default boolean holdsValues() {
    return true;
  }

  /** Nanoseconds on the fabric's clock (shared by all ranks, origin arbitrary). */
  long nowNanos();

  // ---- memory ----------------------------------------------------------------------------------

  /** A new contiguous tensor, zero-filled. */
  Tensor alloc(DType dtype, long... shape);

  /** A view of {@code base}'s storage at element offset {@code offset} (relative to base's origin). */
  Tensor view(Tensor base, long offset, long[] shape, long[] strides);

  /** Host to device, synchronous. F32 and BF16 tensors take floats (BF16 rounds to nearest even). */
  void write(Tensor t, float[] values);

  /**
   * Host to device from values made on demand. A device that holds no values (the simulated device
   * when it models cost only) never asks for them, so a production-size model costs nothing to
   * initialise there.
   */
  default void write(Tensor t, Supplier<float[]> values) {
    write(t, values.get());
  }

  /** Host to device, synchronous, for I32 tensors. */
  void write(Tensor t, int[] values);

  /**
   * Device to host, synchronous, in row-major order of the (possibly strided) tensor. The caller
   * synchronizes the streams that write {@code t} first.
   */
  float[] readFloats(Tensor t);

  int[] readInts(Tensor t);

  // ---- streams, events, communicators ----------------------------------------------------------

  /** The stream compute runs on by default. */
  Stream computeStream();

  Stream newStream(String name);

  Event newEvent();

  void record(Event event, Stream stream);

  /** Work enqueued on {@code stream} after this call waits for the work {@code event} captured. */
  void waitEvent(Stream stream, Event event);

  /** True when the work the event captured has finished (or it was never recorded). */
  boolean query(Event event);

  void synchronize(Event event);

  void synchronize(Stream stream);

  /** Blocks until every stream and communicator queue of this device is idle. */
  void synchronize();

  /**
   * This rank's endpoint of the group {@code name}. Every member calls it with the same name and
   * ranks (global ranks, in group order, this rank among them). Does not block.
   *
   * @param linkSet which of this rank's link sets carries the group's traffic
   */
  Communicator newCommunicator(String name, int[] ranks, int linkSet);

  // ---- ops: fill, copy, GEMM -------------------------------------------------------------------

  void fill(Stream s, Tensor t, float value);

  /**
   * Counter-based random fill: element {@code i} (row-major logical index within {@code t}) gets a
   * value that depends only on {@code (seed, i)}, so results do not depend on threads or strides.
   */
  void random(Stream s, Tensor t, long seed, Distribution dist, float a, float b);

  /** {@code dst = src}, converting dtype when they differ (the cast op). Shapes must be equal. */
  void copy(Stream s, Tensor src, Tensor dst);

  /**
   * {@code c = alpha * op(a) * op(b) + beta * c}, fp32. Rank 2 operands, or rank 3 for a strided
   * batch (batch stride 0 broadcasts an operand). {@code op(x)} transposes the last two
   * dimensions when asked.
   */
  void gemm(Stream s, boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta,
      Tensor c);

  // ---- ops: elementwise and activations --------------------------------------------------------

  /** {@code out = x + y}. */
  void add(Stream s, Tensor x, Tensor y, Tensor out);

  /** {@code y += alpha * x}. */
  void axpy(Stream s, float alpha, Tensor x, Tensor y);

  /** {@code x *= alpha}. */
  void scale(Stream s, float alpha, Tensor x);

  /** Exact (erf) GELU. */
  void gelu(Stream s, Tensor x, Tensor y);

  void geluBackward(Stream s, Tensor x, Tensor dy, Tensor dx);

  /** {@code y = silu(a) * b}. */
  void swiglu(Stream s, Tensor a, Tensor b, Tensor y);

  void swigluBackward(Stream s, Tensor a, Tensor b, Tensor dy, Tensor da, Tensor db);

  // ---- ops: rows (routing, dispatch, combine) --------------------------------------------------

  /** Row-wise softmax of a rank-2 tensor. */
  void softmax(Stream s, Tensor x, Tensor y);

  /** {@code dx = y * (dy - sum(dy * y))} per row. */
  void softmaxBackward(Stream s, Tensor y, Tensor dy, Tensor dx);

  /** The k largest entries of each row of {@code x [R,E]}: values F32 [R,k], indices I32 [R,k]; ties go to the lower index. */
  void topk(Stream s, Tensor x, int k, Tensor values, Tensor indices);

  /** {@code dx[r, indices[r,j]] += dValues[r,j]}. */
  void topkBackward(Stream s, Tensor dValues, Tensor indices, Tensor dx);

  /**
   * {@code dst[r] = beta * dst[r] + sum_j w[r,j] * src[index[r,j]]}, skipping negative indices;
   * {@code src [N,M]}, {@code index I32 [R,K]}, {@code weights F32 [R,K]} or null (all ones),
   * {@code dst [R,M]}. Dispatch is K=1 without weights, combine is K=topk with weights.
   */
  void gatherRows(Stream s, Tensor src, Tensor index, Tensor weights, float beta, Tensor dst);

  /** {@code dst[index[r,j]] += w[r,j] * src[r]}, skipping negative indices; shapes as in gatherRows. */
  void scatterAddRows(Stream s, Tensor src, Tensor index, Tensor weights, Tensor dst);

  /** {@code out[r,j] = dot(a[r], src[index[r,j]])}, 0 for negative indices: the combine weight gradient. */
  void gatherDot(Stream s, Tensor a, Tensor src, Tensor index, Tensor out);

  /**
   * Capacity assignment with the first-come drop policy. For the choices {@code indices I32 [S,k]}
   * (expert ids), choice 0 of every token queues first, in token order, then choice 1: slot =
   * {@code expertRow[e] * capacity + position}, or -1 when position reaches capacity. Writes
   * {@code slots I32 [S,k]}, {@code slotToken I32 [E*capacity]} (token of each slot or -1) and
   * {@code dropped I32 [1]} (number of dropped choices).
   */
  void moeRoute(Stream s, Tensor indices, Tensor expertRow, int capacity, Tensor slots,
      Tensor slotToken, Tensor dropped);

  /**
   * Combine weights from the top-k probabilities {@code values [S,k]}: dropped choices (slot -1)
   * get 0; with k = 2 the kept ones are normalised to sum 1 (denominator clamped at eps).
   */
  void moeGateWeights(Stream s, Tensor values, Tensor slots, Tensor weights);

  void moeGateWeightsBackward(Stream s, Tensor values, Tensor slots, Tensor dWeights,
      Tensor dValues);

  /**
   * Load-balancing loss {@code l = E * sum_e mean_s(probs[s,e]) * frac_e}, where {@code frac_e} is
   * the share of tokens whose first choice is e; writes {@code coeff * l} to {@code loss F32 [1]}
   * and adds {@code coeff * dl/dprobs} to {@code dProbs}.
   */
  void moeAuxLoss(Stream s, Tensor probs, Tensor indices, float coeff, Tensor loss, Tensor dProbs);

  /** {@code loss[0] = mean((y - target)^2)}, {@code dy = gradScale * 2 (y - target) / numel}. */
  void mseLoss(Stream s, Tensor y, Tensor target, float gradScale, Tensor loss, Tensor dy);

  /** One Adam update (bias-corrected, step counted from 1) of {@code param} with moments m, v. */
  void adam(Stream s, Tensor param, Tensor grad, Tensor m, Tensor v, AdamParams params, int step);

  // ---- ops: transformer (norm, attention, cross-entropy) --------------------------------------

  /**
   * RMSNorm of each row of {@code x [R,M]}: {@code y = x * rstd * gamma}, with {@code rstd[r] =
   * 1/sqrt(mean_m(x[r,m]^2) + eps)} also written to {@code rstd F32 [R]} for the backward.
   */
  void rmsNorm(Stream s, Tensor x, Tensor gamma, float eps, Tensor y, Tensor rstd);

  /**
   * Backward of {@link #rmsNorm}: overwrites {@code dx = rstd * (gamma*dy - x * rstd^2 *
   * mean_m(gamma*dy*x))} and accumulates {@code dGamma[m] += sum_r dy[r,m] * x[r,m] * rstd[r]}.
   */
  void rmsNormBackward(Stream s, Tensor x, Tensor gamma, Tensor rstd, Tensor dy, Tensor dx,
      Tensor dGamma);

  /**
   * Causal softmax over the last dimension of {@code x [B,Q,K]} (rank 3, strided views allowed):
   * {@code y[b,i,j] = exp(scale*x[b,i,j]) / sum_{j' <= i+offset} exp(scale*x[b,i,j'])} for {@code j
   * <= i + offset}, and 0 beyond; a row with no visible column is all zeros. {@code offset} is the
   * first query's position minus the first key's (0 for plain causal attention).
   */
  void causalSoftmax(Stream s, Tensor x, float scale, int offset, Tensor y);

  /** Backward of {@link #causalSoftmax} from its output: {@code dx = scale * y * (dy - sum_j(dy * y))} per row. */
  void causalSoftmaxBackward(Stream s, Tensor y, Tensor dy, float scale, Tensor dx);

  /** {@code lse[r] = log(sum_j exp(x[r,j]))} of {@code x [R,V]} (rank 2, any strides) into {@code lse F32 [R]}. */
  void logSumExp(Stream s, Tensor x, Tensor lse);

  /**
   * {@code out[r] = x[r, targets[r] - first]} when {@code first <= targets[r] < first + V}, else 0;
   * {@code x [R,V]}, {@code targets I32 [R]}, {@code out F32 [R]}. The target logits of a
   * vocabulary shard whose first column is token {@code first}.
   */
  void pickTargets(Stream s, Tensor x, Tensor targets, int first, Tensor out);

  /**
   * Cross-entropy gradient of a vocabulary shard: {@code dx[r,j] = scale * (exp(x[r,j] - lse[r]) -
   * [targets[r] == first + j])}, with {@code lse} the log-sum-exp over the whole vocabulary.
   */
  void crossEntropyBackward(Stream s, Tensor x, Tensor lse, Tensor targets, int first,
      float scale, Tensor dx);

  // ---- collectives (issued from a stream, run on the communicator's queue) --------------------

  /** Equal split along dim 0: block i of {@code in} goes to member i, block j of {@code out} came from member j. */
  void allToAll(Stream from, Communicator comm, Tensor in, Tensor out, Event done);

  /** {@code out} is the members' {@code in}, concatenated along dim 0 in group order. */
  void allGather(Stream from, Communicator comm, Tensor in, Tensor out, Event done);

  /** {@code out} = sum over members of their {@code in}'s block {@code index()} along dim 0. */
  void reduceScatter(Stream from, Communicator comm, Tensor in, Tensor out, Event done);

  /** {@code out} = sum over members of {@code in} (may be the same tensor); identical on all members. */
  void allReduce(Stream from, Communicator comm, Tensor in, Tensor out, Event done);

  /**
   * Collective permute: member i's {@code in} goes to member {@code (i + offset) mod n}, so {@code
   * out} receives member {@code (i - offset) mod n}'s; every member passes the same offset and
   * shape. Context parallelism's K/V ring is a sequence of these.
   */
  void shift(Stream from, Communicator comm, int offset, Tensor in, Tensor out,
      Event done);

  // ---- timeline --------------------------------------------------------------------------------

  /** Labels the ops enqueued from now on (for timelines and tests), until the next call; null clears. */
  void label(String label);

  /** The records of finished ops since the last drain, ordered by start time. */
  List<OpRecord> drainTimeline();

  /** Frees everything this device owns; its communicators are closed. */
  @Override
  void close();
}
