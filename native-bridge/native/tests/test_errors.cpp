// Bad input is an error code and a message naming the function, the operand and the rule; the
// runtime keeps working afterwards.
#include <cmath>
#include <cstring>

#include "check.hpp"

namespace {

struct One {
  pm::fabric_ptr f = pm::make_fabric(2);
  pm::device_ptr d = pm::make_device(f.get(), 0);
  pm::device_ptr other = pm::make_device(f.get(), 1);
  pm_stream_t s = 0;
  One() { pm::check(pm_device_stream(d.get(), &s)); }
};

TEST(bad_handles) {
  One o;
  auto x = pm::make_tensor(o.d.get(), PM_F32, {3, 4});
  CHECK_FAILS(pm_scale(o.s, 1, 0), PM_ERR_HANDLE, "pm_scale: x is the null handle");
  CHECK_FAILS(pm_scale(o.s, 1, 0x0500000100000999ull), PM_ERR_HANDLE, "not a handle of this runtime");
  CHECK_FAILS(pm_scale(o.s, 1, 0x12345ull), PM_ERR_HANDLE, "not a handle of this runtime");
  CHECK_FAILS(pm_scale(o.s, 1, o.s), PM_ERR_HANDLE, "x is a stream handle, not a tensor");
  CHECK_FAILS(pm_scale(x.get(), 1, x.get()), PM_ERR_HANDLE, "stream s is a tensor handle");
  auto foreign = pm::make_tensor(o.other.get(), PM_F32, {3, 4});
  CHECK_FAILS(pm_scale(o.s, 1, foreign.get()), PM_ERR_HANDLE, "x belongs to another device");
  pm_tensor_t stale = x.release();
  pm::check(pm_tensor_free(stale));
  CHECK_FAILS(pm_scale(o.s, 1, stale), PM_ERR_HANDLE, "was freed");
  CHECK_FAILS(pm_tensor_free(stale), PM_ERR_HANDLE, "was freed");
  CHECK_FAILS(pm_stream_free(o.s), PM_ERR_STATE, "compute stream");
  CHECK_FAILS(pm_tensor_new(o.d.get(), PM_F32, 2, nullptr, nullptr), PM_ERR_ARG, "out is NULL");
  CHECK(pm_device_synchronize(o.d.get()) == PM_OK, "the device lives on");
}

TEST(bad_shapes_and_dtypes) {
  One o;
  pm_device_t d = o.d.get();
  auto a = pm::make_tensor(d, PM_F32, {3, 4}), b = pm::make_tensor(d, PM_F32, {5, 2});
  auto c = pm::make_tensor(d, PM_F32, {3, 2}), h = pm::make_tensor(d, PM_BF16, {3, 4});
  auto i = pm::make_tensor(d, PM_I32, {3, 2}), v = pm::make_tensor(d, PM_F32, {3});
  CHECK_FAILS(pm_gemm(o.s, 0, 0, 1, a.get(), b.get(), 0, c.get()), PM_ERR_ARG,
              "pm_gemm: op(a) is [3,4] but op(b) is [5,2]: inner dimensions differ");
  CHECK_FAILS(pm_add(o.s, a.get(), c.get(), a.get()), PM_ERR_ARG, "x is [3,4] but y is [3,2]: shapes must be equal");
  CHECK_FAILS(pm_gelu(o.s, h.get(), a.get()), PM_ERR_ARG, "x is BF16 [3,4] but must be F32");
  CHECK_FAILS(pm_softmax(o.s, v.get(), v.get()), PM_ERR_ARG, "x is [3] (rank 1) but must be rank 2");
  CHECK_FAILS(pm_topk(o.s, a.get(), 5, c.get(), i.get()), PM_ERR_ARG, "k must be in 1..4");
  CHECK_FAILS(pm_copy(o.s, a.get(), i.get()), PM_ERR_ARG, "shapes must be equal");
  CHECK_FAILS(pm_random(o.s, a.get(), 1, 7, 0, 1), PM_ERR_ARG, "dist is 7");
  int64_t shape[] = {4, 4}, strides[] = {4, 1};
  pm_tensor_t out = 0;
  CHECK_FAILS(pm_tensor_view(a.get(), 0, 2, shape, strides, &out), PM_ERR_ARG, "base's storage has 12 elements");
  // a transposed view is a view, for log_sum_exp alone: ops, copies, collectives and host I/O walk
  // rows of consecutive elements, so they refuse it, naming the operand
  int64_t t_shape[] = {4, 3}, t_strides[] = {1, 4};
  pm::check(pm_tensor_view(a.get(), 0, 2, t_shape, t_strides, &out));
  pm::tensor_ptr at(out);
  CHECK_FAILS(pm_softmax(o.s, at.get(), at.get()), PM_ERR_ARG,
              "pm_softmax: x is [4,3] with innermost stride 4 but the innermost stride must be 1");
  auto comm = pm::make_comm(d, "g", {0, 1});
  CHECK_FAILS(pm_all_reduce(o.s, comm.get(), at.get(), at.get(), 0), PM_ERR_ARG, "in is [4,3] with innermost stride 4");
  CHECK_FAILS(pm_copy(o.s, at.get(), pm::make_tensor(d, PM_F32, {4, 3}).get()), PM_ERR_ARG, "src is [4,3] with innermost");
  float twelve[12];
  CHECK_FAILS(pm_tensor_read(at.get(), twelve, 12), PM_ERR_ARG, "tensor t is [4,3] with innermost stride 4");
  // the transformer's row ops name the op, the operand and the rule
  auto g3 = pm::make_tensor(d, PM_F32, {3}), b3 = pm::make_tensor(d, PM_F32, {2, 3, 4});
  auto i3 = pm::make_tensor(d, PM_I32, {3});
  CHECK_FAILS(pm_rms_norm(o.s, a.get(), g3.get(), 1e-5f, a.get(), g3.get()), PM_ERR_ARG,
              "pm_rms_norm: gamma is [3] but dimension 0 must be 4 (x's columns)");
  CHECK_FAILS(pm_rms_norm(o.s, c.get(), pm::make_tensor(d, PM_F32, {2}).get(), -1.0f, c.get(), g3.get()), PM_ERR_ARG,
              "eps is -1 but must be finite and > 0");
  CHECK_FAILS(pm_rms_norm_backward(o.s, c.get(), v.get(), g3.get(), c.get(), c.get(), v.get()), PM_ERR_ARG,
              "pm_rms_norm_backward: gamma is [3] but dimension 0 must be 2");
  CHECK_FAILS(pm_causal_softmax(o.s, a.get(), 1.0f, 0, a.get()), PM_ERR_ARG,
              "pm_causal_softmax: x is [3,4] (rank 2) but must be rank 3");
  CHECK_FAILS(pm_causal_softmax(o.s, b3.get(), NAN, 0, b3.get()), PM_ERR_ARG, "scale is nan but must be finite");
  CHECK_FAILS(pm_causal_softmax_backward(o.s, b3.get(), b3.get(), 1.0f, pm::make_tensor(d, PM_F32, {2, 4, 3}).get()),
              PM_ERR_ARG, "y is [2,3,4] but dx is [2,4,3]: shapes must be equal");
  CHECK_FAILS(pm_log_sum_exp(o.s, at.get(), v.get()), PM_ERR_ARG,
              "pm_log_sum_exp: lse is [3] but dimension 0 must be 4 (x's rows)");
  CHECK_FAILS(pm_log_sum_exp(o.s, h.get(), g3.get()), PM_ERR_ARG, "x is BF16 [3,4] but must be F32");
  CHECK_FAILS(pm_pick_targets(o.s, a.get(), g3.get(), 0, g3.get()), PM_ERR_ARG,
              "pm_pick_targets: targets is F32 [3] but must be I32");
  CHECK_FAILS(pm_cross_entropy_backward(o.s, a.get(), g3.get(), i3.get(), 0, 1.0f, c.get()), PM_ERR_ARG,
              "pm_cross_entropy_backward: x is [3,4] but dx is [3,2]: shapes must be equal");
  float buf[5];
  CHECK_FAILS(pm_tensor_write(a.get(), buf, 5), PM_ERR_ARG, "count is 5 but t is [3,4]");
  CHECK(pm_device_synchronize(d) == PM_OK, "nothing was enqueued by the failed calls");
}

TEST(freeing_with_work_queued_is_safe) {
  One o;
  pm_device_t d = o.d.get();
  auto keep = pm::make_tensor(d, PM_F32, {64, 64});
  pm_tensor_t a = 0, b = 0;
  int64_t shape[] = {64, 64};
  pm::check(pm_tensor_new(d, PM_F32, 2, shape, &a));
  pm::check(pm_tensor_new(d, PM_F32, 2, shape, &b));
  pm::check(pm_fill(o.s, a, 1.0f));
  pm::check(pm_gemm(o.s, 0, 0, 1, a, a, 0, b));
  pm::check(pm_copy(o.s, b, keep.get()));
  pm::check(pm_tensor_free(a));  // queued ops still hold the storage
  pm::check(pm_tensor_free(b));
  pm::check(pm_device_synchronize(d));
  float v[64 * 64];
  pm::check(pm_tensor_read(keep.get(), v, 64 * 64));
  CHECK(v[0] == 64.0f && v[4095] == 64.0f, "result %g", v[0]);
}

TEST(data_errors_poison_until_synchronize) {
  One o;
  pm_device_t d = o.d.get();
  auto src = pm::make_tensor(d, PM_F32, {4, 3}), dst = pm::make_tensor(d, PM_F32, {2, 3});
  auto idx = pm::make_tensor(d, PM_I32, {2, 1});
  int32_t bad[] = {1, 9};
  pm::check(pm_tensor_write(idx.get(), bad, 2));
  pm::check(pm_gather_rows(o.s, src.get(), idx.get(), 0, 0, dst.get()));
  CHECK_FAILS(pm_device_synchronize(d), PM_ERR_ARG, "index[1,0] = 9 but src has 4 rows");
  CHECK(pm_device_synchronize(d) == PM_OK, "reported once, then cleared");
  pm::check(pm_scale(o.s, 2, dst.get()));
  CHECK(pm_stream_synchronize(o.s) == PM_OK, "the stream keeps working");
}

TEST(events_order_streams) {
  One o;
  pm_device_t d = o.d.get();
  auto side = pm::make_stream(d);
  auto e = pm::make_event(d), never = pm::make_event(d);
  int32_t done = 0;
  pm::check(pm_event_query(never.get(), &done));
  CHECK(done == 1, "a never-recorded event counts as done");
  pm::check(pm_event_wait(side.get(), never.get()));  // a no-op
  auto big = pm::make_tensor(d, PM_F32, {384, 384}), x = pm::make_tensor(d, PM_F32, {384, 384});
  pm::check(pm_fill(o.s, big.get(), 1.0f));
  pm::check(pm_gemm(o.s, 0, 0, 1, big.get(), big.get(), 0, x.get()));  // x = 384 everywhere
  pm::check(pm_event_record(e.get(), o.s));
  pm::check(pm_event_wait(side.get(), e.get()));
  pm::check(pm_scale(side.get(), 0.5f, x.get()));  // must see the GEMM's result
  pm::check(pm_event_record(e.get(), side.get()));  // re-record: now tracks the side stream
  pm::check(pm_event_synchronize(e.get()));
  pm::check(pm_event_query(e.get(), &done));
  float v = 0;
  auto one = pm::make_view(x.get(), 383 * 384 + 383, {1}, {1});
  pm::check(pm_tensor_read(one.get(), &v, 1));
  CHECK(done == 1 && v == 192.0f, "scale ran after the gemm: %g", v);
}

TEST(timeline_records_and_labels) {
  One o;
  pm_device_t d = o.d.get();
  auto x = pm::make_tensor(d, PM_F32, {8});
  pm::check(pm_device_set_label(d, 7));
  pm::check(pm_fill(o.s, x.get(), 1));
  pm::check(pm_device_set_label(d, 0));
  pm::check(pm_scale(o.s, 2, x.get()));
  pm::check(pm_device_synchronize(d));
  pm_op_record r[4];
  int64_t n = 0;
  pm::check(pm_device_timeline(d, r, 4, &n));
  CHECK(n == 2, "%lld records", (long long)n);
  if (n == 2) {
    CHECK(r[0].kind == PM_OP_FILL && r[0].label == 7 && r[0].seq == 0, "fill record");
    CHECK(r[1].kind == PM_OP_SCALE && r[1].label == 0 && r[1].seq == 1, "scale record");
    CHECK(r[0].start_ns <= r[0].end_ns && r[0].end_ns <= r[1].start_ns, "in order on one stream");
  }
  pm::check(pm_device_timeline(d, r, 4, &n));
  CHECK(n == 0, "drained");
}

}  // namespace

int main(int argc, char** argv) { return test::main(argc, argv); }
