// Checks shared by the entry points: out-parameters, and the enqueue-time checks of ops and
// collectives. Each failure names the operand, its actual shape or dtype and the rule it broke.
#pragma once

#include <climits>
#include <functional>

#include "device.hpp"

namespace pm {

// An out-parameter the caller must pass.
template <class T>
void out_ptr(T* p, const char* what) {
  if (!p) fail(PM_ERR_ARG, strf("%s is NULL", what));
}

inline std::shared_ptr<Stream> stream_of(pm_stream_t s, const char* what = "stream s") {
  return lookup<Stream>(s, what);
}

// A tensor of the stream's device, with innermost stride 1 unless the op takes any strides
// (any_strides: its kernel steps by the strides itself).
inline TensorRef operand(const Stream& s, pm_tensor_t h, const char* what, bool any_strides = false) {
  auto t = lookup<Tensor>(h, what);
  if (t->device != s.device)
    fail(PM_ERR_HANDLE, strf("%s belongs to another device than the stream (rank %d)", what, s.dev->rank));
  if (!any_strides) need_unit_inner_stride(*t, what);
  return t;
}

inline void need_dtype(const TensorRef& t, const char* what, int32_t dtype) {
  if (t->dtype() != dtype)
    fail(PM_ERR_ARG, strf("%s is %s %s but must be %s", what, dtype_name(t->dtype()), shape_str(*t).c_str(),
                          dtype_name(dtype)));
}

inline void need_rank(const TensorRef& t, const char* what, int rank) {
  if (t->ndim() != rank)
    fail(PM_ERR_ARG, strf("%s is %s (rank %d) but must be rank %d", what, shape_str(*t).c_str(), t->ndim(), rank));
}

inline void need_same_shape(const TensorRef& a, const char* wa, const TensorRef& b, const char* wb) {
  if (!same_shape(a->view, b->view))
    fail(PM_ERR_ARG, strf("%s is %s but %s is %s: shapes must be equal", wa, shape_str(*a).c_str(), wb,
                          shape_str(*b).c_str()));
}

inline void need_dim(const TensorRef& t, const char* what, int d, int64_t size, const char* rule) {
  if (t->shape()[d] != size)
    fail(PM_ERR_ARG, strf("%s is %s but dimension %d must be %lld (%s)", what, shape_str(*t).c_str(), d,
                          (long long)size, rule));
}

// An F32 operand of the given rank (-1: any rank).
inline TensorRef f32_operand(const Stream& s, pm_tensor_t h, const char* what, int rank = -1) {
  auto t = operand(s, h, what);
  need_dtype(t, what, PM_F32);
  if (rank >= 0) need_rank(t, what, rank);
  return t;
}

inline TensorRef i32_operand(const Stream& s, pm_tensor_t h, const char* what, int rank) {
  auto t = operand(s, h, what);
  need_dtype(t, what, PM_I32);
  need_rank(t, what, rank);
  return t;
}

// Enqueues run on q as an op issued from stream s (labelled with s's device's current label);
// returns its sequence number on q.
inline int64_t enqueue(const Stream& s, Queue& q, int32_t kind, const char* fn,
                       std::function<void(OpResult&)> run) {
  Task t;
  t.kind = kind;
  t.label = s.dev->label.load(std::memory_order_relaxed);
  t.fn = fn;
  t.run = std::move(run);
  return q.enqueue(std::move(t));
}

// An op on the stream itself.
inline void enqueue(const Stream& s, int32_t kind, const char* fn, std::function<void(OpResult&)> run) {
  enqueue(s, *s.q, kind, fn, std::move(run));
}

}  // namespace pm
