/*
 * pipemoe.h: the C ABI of the pipemoe device runtime.
 *
 * A fabric is a set of ranks (threads of one process for the "local" fabric); each rank has one
 * device; a device has streams (FIFO queues, one executor thread each), events, tensors in native
 * memory and communicator endpoints (one FIFO queue each). Ops are enqueued on a stream and return
 * at once. A collective is issued *from* a stream: it waits for the work enqueued there so far,
 * then runs on its communicator's queue, where members match collectives by issue order.
 *
 *   pm_fabric_t f;  pm_fabric_new(2, 1.0, &f);  pm_fabric_set_link(f, 0, 50e6, 1e-3);
 *   pm_device_t d;  pm_device_new(f, rank, &d);                  // on each rank's thread
 *   pm_comm_t ep;   int32_t r[] = {0, 1};  pm_comm_new(d, "ep", r, 2, 0, &ep);
 *   pm_stream_t s;  pm_device_stream(d, &s);                     // the compute stream
 *   pm_tensor_t x, y;  int64_t shp[] = {2, 8, 16};  pm_tensor_new(d, PM_F32, 3, shp, &x); ...
 *   pm_all_to_all(s, ep, x, y, NULL);  pm_device_synchronize(d);
 *
 * Conventions
 * - Names are pm_<object>_<verb>; every _new pairs with a _free; handles are opaque 64-bit ids
 *   checked on every call: a stale, freed or foreign handle is PM_ERR_HANDLE, never a crash.
 * - Every function returns pm_status. On failure pm_last_error() (thread-local) holds the code and
 *   a message naming the function, the operand and the rule, e.g.
 *   "pm_gemm: a is [3,4] but b is [5,2]: inner dimensions differ".
 * - Errors in enqueued work (a peer issued another collective, a communicator was freed, a timeout)
 *   poison the stream or queue; the next pm_*_synchronize touching it returns the error.
 * - Shapes are row-major, strides in elements. A view may have any innermost stride (a transposed
 *   view), but only an op that says "any strides" (pm_log_sum_exp's x) takes one: every other op,
 *   collective and host read or write refuses it with PM_ERR_ARG.
 * - Nothing throws across this ABI and nothing aborts the process.
 */
#ifndef PIPEMOE_H
#define PIPEMOE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status ---------------------------------------------------------------------------------- */

typedef enum pm_status {
  PM_OK = 0,
  PM_ERR_ARG = 1,       /* a bad argument: shape, dtype, rank, range, null pointer */
  PM_ERR_HANDLE = 2,    /* a handle that is unknown, freed, or of another kind or device */
  PM_ERR_STATE = 3,     /* the object cannot do this now (communicator destroyed, stream poisoned) */
  PM_ERR_MISMATCH = 4,  /* members of a group issued different collectives or shapes */
  PM_ERR_TIMEOUT = 5,   /* a collective waited longer than the fabric's timeout for its peers */
  PM_ERR_NOMEM = 6,
  PM_ERR_INTERNAL = 7
} pm_status;

typedef struct pm_error {
  int32_t code;          /* a pm_status */
  char message[512];     /* NUL-terminated */
} pm_error;

/* The last error of the calling thread; valid until that thread's next failing call. */
const pm_error* pm_last_error(void);
const char* pm_status_name(int32_t status);

/* ---- handles --------------------------------------------------------------------------------- */

typedef uint64_t pm_fabric_t;
typedef uint64_t pm_device_t;
typedef uint64_t pm_stream_t;
typedef uint64_t pm_event_t;
typedef uint64_t pm_tensor_t;
typedef uint64_t pm_comm_t;

typedef enum pm_dtype { PM_F32 = 0, PM_BF16 = 1, PM_I32 = 2 } pm_dtype;
typedef enum pm_dist { PM_UNIFORM = 0, PM_NORMAL = 1 } pm_dist;

#define PM_MAX_DIMS 4
#define PM_MAX_LINK_SETS 8

/* ---- fabric: ranks and the link model --------------------------------------------------------- */

/*
 * A local fabric of world_size ranks. congestion (>= 1): when m > 1 collectives share a link set
 * of a rank, each progresses at bandwidth / (m * congestion). No link set is modelled until set.
 */
pm_status pm_fabric_new(int32_t world_size, double congestion, pm_fabric_t* out);
/* bandwidth in bytes/s per rank (0: unmodelled, the copy alone), latency in seconds per collective. */
pm_status pm_fabric_set_link(pm_fabric_t f, int32_t link_set, double bandwidth, double latency);
/* How long a collective may wait for its peers before failing with PM_ERR_TIMEOUT (default 120 s). */
pm_status pm_fabric_set_timeout(pm_fabric_t f, double seconds);
/* Nanoseconds on the fabric's steady clock; every timeline record uses it. */
pm_status pm_fabric_now(pm_fabric_t f, int64_t* out_ns);
/* Frees the fabric; its remaining devices are freed with it. */
pm_status pm_fabric_free(pm_fabric_t f);

/* ---- devices, streams, events ---------------------------------------------------------------- */

pm_status pm_device_new(pm_fabric_t f, int32_t rank, pm_device_t* out);
pm_status pm_device_free(pm_device_t d);
/* The device's compute stream (created with the device, freed with it). */
pm_status pm_device_stream(pm_device_t d, pm_stream_t* out);
/* Blocks until every stream and communicator queue of the device is idle; returns their first error. */
pm_status pm_device_synchronize(pm_device_t d);

pm_status pm_stream_new(pm_device_t d, pm_stream_t* out);
pm_status pm_stream_free(pm_stream_t s);  /* waits for its work first */
pm_status pm_stream_synchronize(pm_stream_t s);

pm_status pm_event_new(pm_device_t d, pm_event_t* out);
pm_status pm_event_free(pm_event_t e);
pm_status pm_event_record(pm_event_t e, pm_stream_t s);
pm_status pm_event_wait(pm_stream_t s, pm_event_t e);          /* stream-side, the host does not block */
pm_status pm_event_query(pm_event_t e, int32_t* out_done);      /* 1 when done or never recorded */
pm_status pm_event_synchronize(pm_event_t e);

/* ---- tensors --------------------------------------------------------------------------------- */

/* A contiguous, zero-filled tensor. */
pm_status pm_tensor_new(pm_device_t d, int32_t dtype, int32_t ndim, const int64_t* shape,
                        pm_tensor_t* out);
/* A view of base's storage at element offset (relative to base's own origin) with the given strides. */
pm_status pm_tensor_view(pm_tensor_t base, int64_t offset, int32_t ndim, const int64_t* shape,
                         const int64_t* strides, pm_tensor_t* out);
/* Drops the handle; storage lives on while views or queued ops still use it. */
pm_status pm_tensor_free(pm_tensor_t t);
/* Host I/O, synchronous, row-major over the (strided) tensor. F32/BF16 tensors take float32 values,
 * I32 tensors int32. count must equal the tensor's numel. */
pm_status pm_tensor_write(pm_tensor_t t, const void* src, int64_t count);
pm_status pm_tensor_read(pm_tensor_t t, void* dst, int64_t count);

/* ---- ops (enqueued on stream s) ---------------------------------------------------------------- */

pm_status pm_fill(pm_stream_t s, pm_tensor_t t, float value);
/* Element i (row-major logical index) depends only on (seed, i): UNIFORM [a, b), NORMAL(mean a, std b). */
pm_status pm_random(pm_stream_t s, pm_tensor_t t, uint64_t seed, int32_t dist, float a, float b);
/* dst = src, casting when dtypes differ (F32 <-> BF16 rounds to nearest even). Equal shapes. */
pm_status pm_copy(pm_stream_t s, pm_tensor_t src, pm_tensor_t dst);
/* c = alpha * op(a) * op(b) + beta * c, F32; rank 2, or rank 3 = strided batch (batch stride 0
 * broadcasts). One BLAS thread per call unless pm_set_blas_threads says otherwise. */
pm_status pm_gemm(pm_stream_t s, int32_t trans_a, int32_t trans_b, float alpha, pm_tensor_t a,
                  pm_tensor_t b, float beta, pm_tensor_t c);

pm_status pm_add(pm_stream_t s, pm_tensor_t x, pm_tensor_t y, pm_tensor_t out);  /* out = x + y */
pm_status pm_axpy(pm_stream_t s, float alpha, pm_tensor_t x, pm_tensor_t y);     /* y += alpha x */
pm_status pm_scale(pm_stream_t s, float alpha, pm_tensor_t x);                   /* x *= alpha */
pm_status pm_gelu(pm_stream_t s, pm_tensor_t x, pm_tensor_t y);                  /* exact, erf */
pm_status pm_gelu_backward(pm_stream_t s, pm_tensor_t x, pm_tensor_t dy, pm_tensor_t dx);
pm_status pm_swiglu(pm_stream_t s, pm_tensor_t a, pm_tensor_t b, pm_tensor_t y); /* silu(a) * b */
pm_status pm_swiglu_backward(pm_stream_t s, pm_tensor_t a, pm_tensor_t b, pm_tensor_t dy,
                             pm_tensor_t da, pm_tensor_t db);

/* Rank-2, per row. */
pm_status pm_softmax(pm_stream_t s, pm_tensor_t x, pm_tensor_t y);
pm_status pm_softmax_backward(pm_stream_t s, pm_tensor_t y, pm_tensor_t dy, pm_tensor_t dx);
/* values F32 [R,k], indices I32 [R,k]; descending; ties go to the lower index. */
pm_status pm_topk(pm_stream_t s, pm_tensor_t x, int32_t k, pm_tensor_t values, pm_tensor_t indices);
/* dx[r, indices[r,j]] += dvalues[r,j] */
pm_status pm_topk_backward(pm_stream_t s, pm_tensor_t dvalues, pm_tensor_t indices, pm_tensor_t dx);

/* dst[r] = beta*dst[r] + sum_j w[r,j]*src[index[r,j]] (negative index: skipped); weights may be 0
 * (the null handle) for all ones. src [N,M], index I32 [R,K], weights F32 [R,K], dst [R,M]. */
pm_status pm_gather_rows(pm_stream_t s, pm_tensor_t src, pm_tensor_t index, pm_tensor_t weights,
                         float beta, pm_tensor_t dst);
/* dst[index[r,j]] += w[r,j]*src[r]; src [R,M], dst [N,M]; sequential, so deterministic. */
pm_status pm_scatter_add_rows(pm_stream_t s, pm_tensor_t src, pm_tensor_t index,
                              pm_tensor_t weights, pm_tensor_t dst);
/* out[r,j] = dot(a[r], src[index[r,j]]), 0 for a negative index; a [R,M], out F32 [R,K]. */
pm_status pm_gather_dot(pm_stream_t s, pm_tensor_t a, pm_tensor_t src, pm_tensor_t index,
                        pm_tensor_t out);

/* MoE routing with first-come drop: choice 0 of all tokens (in token order) queues before choice 1.
 * indices I32 [S,k] expert ids in [0,E); expert_row I32 [E] (row of each expert in the dispatched
 * tensor); slots I32 [S,k] = expert_row[e]*capacity + position, or -1 when position >= capacity;
 * slot_token I32 [E*capacity] = token of each slot or -1; dropped I32 [1] = dropped choices. */
pm_status pm_moe_route(pm_stream_t s, pm_tensor_t indices, pm_tensor_t expert_row, int32_t capacity,
                       pm_tensor_t slots, pm_tensor_t slot_token, pm_tensor_t dropped);
/* weights [S,k] from values [S,k]: 0 where slot < 0; for k == 2 kept values / max(sum kept, eps). */
pm_status pm_moe_gate_weights(pm_stream_t s, pm_tensor_t values, pm_tensor_t slots,
                              pm_tensor_t weights);
pm_status pm_moe_gate_weights_backward(pm_stream_t s, pm_tensor_t values, pm_tensor_t slots,
                                       pm_tensor_t dweights, pm_tensor_t dvalues);
/* loss[0] = coeff * E * sum_e mean_s(probs[s,e]) * frac_e, frac_e = share of tokens whose choice 0
 * is e; dprobs += coeff * E * frac_e / S. probs [S,E], indices I32 [S,k], loss F32 [1]. */
pm_status pm_moe_aux_loss(pm_stream_t s, pm_tensor_t probs, pm_tensor_t indices, float coeff,
                          pm_tensor_t loss, pm_tensor_t dprobs);
/* loss[0] = mean((y - t)^2); dy = grad_scale * 2 (y - t) / numel. */
pm_status pm_mse_loss(pm_stream_t s, pm_tensor_t y, pm_tensor_t target, float grad_scale,
                      pm_tensor_t loss, pm_tensor_t dy);
/* Adam with bias correction (step >= 1); weight_decay > 0 is decoupled (AdamW). */
pm_status pm_adam(pm_stream_t s, pm_tensor_t param, pm_tensor_t grad, pm_tensor_t m, pm_tensor_t v,
                  float lr, float beta1, float beta2, float eps, float weight_decay, int32_t step);

/* The transformer's row ops. Sums feeding one number (a norm, a softmax denominator, a dot) are
 * in double; everything else is fp32. */
/* RMSNorm of each row of x [R,M]: rstd[r] = 1/sqrt(mean_m(x[r,m]^2) + eps) into rstd F32 [R],
 * y = x * rstd * gamma with gamma [M]; eps > 0. y may be x. */
pm_status pm_rms_norm(pm_stream_t s, pm_tensor_t x, pm_tensor_t gamma, float eps, pm_tensor_t y,
                      pm_tensor_t rstd);
/* dx = rstd * (gamma*dy - x * rstd^2 * mean_m(gamma*dy*x)) (overwritten; may be dy or x) and
 * dgamma[m] += sum_r dy[r,m] * x[r,m] * rstd[r]. */
pm_status pm_rms_norm_backward(pm_stream_t s, pm_tensor_t x, pm_tensor_t gamma, pm_tensor_t rstd,
                               pm_tensor_t dy, pm_tensor_t dx, pm_tensor_t dgamma);
/* Causal softmax over the last dim of x [B,Q,K] (rank 3, strided views): row (b,i) sees columns
 * j <= i + offset: y = exp(scale*x - max) / sum over them, 0 beyond; a row that sees no column is
 * all zeros. offset = first query's position - first key's. y may be x. */
pm_status pm_causal_softmax(pm_stream_t s, pm_tensor_t x, float scale, int32_t offset, pm_tensor_t y);
/* dx = scale * y * (dy - sum_j dy*y) per row of [B,Q,K] (from the forward's output y). */
pm_status pm_causal_softmax_backward(pm_stream_t s, pm_tensor_t y, pm_tensor_t dy, float scale,
                                     pm_tensor_t dx);
/* lse[r] = log(sum_j exp(x[r,j])), max-subtracted; x [R,V] with any strides (a transposed view),
 * lse F32 [R]. A row of -inf (or V = 0) gives -inf. */
pm_status pm_log_sum_exp(pm_stream_t s, pm_tensor_t x, pm_tensor_t lse);
/* out[r] = x[r, targets[r] - first] when first <= targets[r] < first + V, else 0: the target
 * logits of the vocabulary shard x [R,V] whose column 0 is token `first`. targets I32 [R]. */
pm_status pm_pick_targets(pm_stream_t s, pm_tensor_t x, pm_tensor_t targets, int32_t first,
                          pm_tensor_t out);
/* dx[r,j] = scale * (exp(x[r,j] - lse[r]) - (targets[r] == first + j)), lse over the whole
 * vocabulary [R]; x, dx [R,V] (dx may be x). */
pm_status pm_cross_entropy_backward(pm_stream_t s, pm_tensor_t x, pm_tensor_t lse, pm_tensor_t targets,
                                    int32_t first, float scale, pm_tensor_t dx);

/* ---- communicators and collectives ---------------------------------------------------------- */

/* This rank's endpoint of group `name` (same name and ranks on every member; this device's rank
 * among them) on link set `link_set`. Does not block; members meet at their first collective. */
pm_status pm_comm_new(pm_device_t d, const char* name, const int32_t* ranks, int32_t nranks,
                      int32_t link_set, pm_comm_t* out);
/* Frees the endpoint; peers blocked in a collective with it fail with PM_ERR_STATE. */
pm_status pm_comm_free(pm_comm_t c);
/* The id of the communicator's queue in timeline records. */
pm_status pm_comm_queue_id(pm_comm_t c, int32_t* out);

/* All issued from stream `from`, run on c's queue, `done` (0 = none) recorded at completion.
 * F32 or BF16 (BF16 reduces in fp32). Reductions sum in group order: every member gets identical
 * bits. Bytes under the link model, per rank: all-to-all and reduce-scatter (p-1)/p * bytes(in),
 * all-gather (p-1) * bytes(in), all-reduce 2 (p-1)/p * bytes(in), shift bytes(in); a group of one
 * costs nothing. */
pm_status pm_all_to_all(pm_stream_t from, pm_comm_t c, pm_tensor_t in, pm_tensor_t out, pm_event_t done);
pm_status pm_all_gather(pm_stream_t from, pm_comm_t c, pm_tensor_t in, pm_tensor_t out, pm_event_t done);
pm_status pm_reduce_scatter(pm_stream_t from, pm_comm_t c, pm_tensor_t in, pm_tensor_t out, pm_event_t done);
pm_status pm_all_reduce(pm_stream_t from, pm_comm_t c, pm_tensor_t in, pm_tensor_t out, pm_event_t done);
/* Collective permute: member i's in goes to member (i + offset) mod p, so out (shaped like in)
 * receives member (i - offset) mod p's; offset may be negative or >= p, and every member passes
 * the same one (else PM_ERR_MISMATCH). One step under the link model: bytes(in) per rank. */
pm_status pm_shift(pm_stream_t from, pm_comm_t c, int32_t offset, pm_tensor_t in, pm_tensor_t out,
                   pm_event_t done);

/* ---- timeline ---------------------------------------------------------------------------------- */

/* The op kinds of timeline records, one line each: the enumerator and the name timelines show.
 * pm_op_kind_name reads the names from this list, so a binding never copies it. */
#define PM_OP_KIND_LIST(X)                                                          \
  X(PM_OP_FILL, "fill")                                                             \
  X(PM_OP_RANDOM, "random")                                                         \
  X(PM_OP_COPY, "copy")                                                             \
  X(PM_OP_GEMM, "gemm")                                                             \
  X(PM_OP_ADD, "add")                                                               \
  X(PM_OP_AXPY, "axpy")                                                             \
  X(PM_OP_SCALE, "scale")                                                           \
  X(PM_OP_GELU, "gelu")                                                             \
  X(PM_OP_GELU_BWD, "gelu_backward")                                                \
  X(PM_OP_SWIGLU, "swiglu")                                                         \
  X(PM_OP_SWIGLU_BWD, "swiglu_backward")                                            \
  X(PM_OP_SOFTMAX, "softmax")                                                       \
  X(PM_OP_SOFTMAX_BWD, "softmax_backward")                                          \
  X(PM_OP_TOPK, "topk")                                                             \
  X(PM_OP_TOPK_BWD, "topk_backward")                                                \
  X(PM_OP_GATHER_ROWS, "gather_rows")                                               \
  X(PM_OP_SCATTER_ADD_ROWS, "scatter_add_rows")                                     \
  X(PM_OP_GATHER_DOT, "gather_dot")                                                 \
  X(PM_OP_MOE_ROUTE, "moe_route")                                                   \
  X(PM_OP_MOE_GATE_WEIGHTS, "moe_gate_weights")                                     \
  X(PM_OP_MOE_GATE_WEIGHTS_BWD, "moe_gate_weights_backward")                        \
  X(PM_OP_MOE_AUX_LOSS, "moe_aux_loss")                                             \
  X(PM_OP_MSE_LOSS, "mse_loss")                                                     \
  X(PM_OP_ADAM, "adam")                                                             \
  X(PM_OP_ALL_TO_ALL, "all_to_all")                                                 \
  X(PM_OP_ALL_GATHER, "all_gather")                                                 \
  X(PM_OP_REDUCE_SCATTER, "reduce_scatter")                                         \
  X(PM_OP_ALL_REDUCE, "all_reduce")                                                 \
  X(PM_OP_EVENT_RECORD, "event_record")                                             \
  X(PM_OP_EVENT_WAIT, "event_wait")                                                 \
  X(PM_OP_RMS_NORM, "rms_norm")                                                     \
  X(PM_OP_RMS_NORM_BWD, "rms_norm_backward")                                        \
  X(PM_OP_CAUSAL_SOFTMAX, "causal_softmax")                                         \
  X(PM_OP_CAUSAL_SOFTMAX_BWD, "causal_softmax_backward")                            \
  X(PM_OP_LOG_SUM_EXP, "log_sum_exp")                                               \
  X(PM_OP_PICK_TARGETS, "pick_targets")                                             \
  X(PM_OP_CROSS_ENTROPY_BWD, "cross_entropy_backward")                              \
  X(PM_OP_SHIFT, "shift")

typedef enum pm_op_kind {
#define PM_OP_KIND_ENUMERATOR(kind, name) kind,
  PM_OP_KIND_LIST(PM_OP_KIND_ENUMERATOR)
#undef PM_OP_KIND_ENUMERATOR
  PM_OP_KIND_COUNT  /* not a kind: how many there are */
} pm_op_kind;

/* The name of op kind `kind` in timelines ("gemm", "all_to_all"), or NULL outside 0..PM_OP_KIND_COUNT-1. */
const char* pm_op_kind_name(int32_t kind);
/* PM_OP_KIND_COUNT as this library was built with it. */
int32_t pm_op_kind_count(void);

typedef struct pm_op_record {
  int32_t queue;        /* stream id (pm_stream_id) or communicator queue id (pm_comm_queue_id) */
  int32_t kind;         /* pm_op_kind */
  int64_t seq;          /* per-queue enqueue sequence number, from 0 */
  int64_t start_ns;     /* fabric clock; for collectives, when all members had arrived (the link
                           model's start of the flow) */
  int64_t end_ns;
  int64_t bytes;        /* collectives: bytes this rank sends under the link model */
  int64_t modelled_ns;  /* collectives: the link model's duration */
  int32_t label;        /* the device's label when the op was enqueued (pm_device_set_label) */
  int32_t reserved;
} pm_op_record;

pm_status pm_stream_id(pm_stream_t s, int32_t* out);
/* Tags the ops enqueued on this device from now on (0 = none); the binding maps ids to names. */
pm_status pm_device_set_label(pm_device_t d, int32_t label);
/* Moves up to cap finished records (event records/waits excluded) into buf, oldest first;
 * *out_n = number written. Call again while *out_n == cap. */
pm_status pm_device_timeline(pm_device_t d, pm_op_record* buf, int64_t cap, int64_t* out_n);

/* ---- introspection, for bindings --------------------------------------------------------------- */

/* How many pm_status codes there are (0 .. count-1, named by pm_status_name). */
int32_t pm_status_count(void);
/* The layout of a struct of this header as the library was built ("pm_error", "pm_op_record"):
 * with field NULL, *out_offset = 0 and *out_size = sizeof the struct; else the field's byte offset
 * and size. A binding checks its copy of each layout against this at load. */
pm_status pm_struct_layout(const char* name, const char* field, int64_t* out_offset, int64_t* out_size);

/* ---- the link model's arithmetic, for tests that hold another implementation against it ------- */

/* *out = the bytes one member sends under the link model for a collective `kind` (PM_OP_ALL_TO_ALL
 * .. PM_OP_ALL_REDUCE, PM_OP_SHIFT) over `members` ranks with in_bytes of input each (see the
 * collectives above). */
pm_status pm_collective_bytes(int32_t kind, int32_t members, double in_bytes, double* out);

/* Runs the link model of a fabric with `congestion` and link sets 0..n_link_sets-1 (bandwidth
 * bytes/s per rank, 0 = unmodelled; latency s; sets from n_link_sets up are unmodelled) on n_flows
 * collectives given by hand, with no clock and no data. Flow f has all its members arrived at
 * arrive_s[f] (any order) and sends bytes[f] per member (pm_collective_bytes); its members are
 * entries member_offsets[f] .. member_offsets[f+1]-1 of member_ranks (a rank) and
 * member_link_sets (that member's link set). Writes each flow's modelled end, in seconds, to
 * out_end_s[f]: what a collective of the real fabric would wait for, had its peers arrived then. */
pm_status pm_link_model_eval(double congestion, int32_t n_link_sets, const double* bandwidth,
                             const double* latency, int32_t n_flows, const double* arrive_s,
                             const double* bytes, const int32_t* member_offsets,
                             const int32_t* member_ranks, const int32_t* member_link_sets,
                             double* out_end_s);

/* ---- threading ---------------------------------------------------------------------------------- */

/* BLAS threads per GEMM call, process-wide (default 1: rank threads give the parallelism). */
pm_status pm_set_blas_threads(int32_t n);

#ifdef __cplusplus
}
#endif
#endif /* PIPEMOE_H */
