/*
 * pipemoe-cpp.hpp: owning C++ wrappers for pipemoe.h handles (in the spirit of ggml-cpp.h), so
 * C++ callers never call a _free by hand:
 *
 *   pm::fabric_ptr f = pm::make_fabric(2, 1.0);
 *   pm::tensor_ptr t = pm::make_tensor(dev.get(), PM_F32, {3, 4});
 *
 * Handles are 64-bit ids rather than pointers, so the wrapper is a small move-only class instead of
 * a unique_ptr with a deleter. The make_* helpers throw pm::status_error on failure.
 */
#ifndef PIPEMOE_CPP_HPP
#define PIPEMOE_CPP_HPP

#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "pipemoe.h"

namespace pm {

struct status_error : std::runtime_error {
  status_error(pm_status s, const char* message) : std::runtime_error(message), status(s) {}
  pm_status status;
};

inline void check(pm_status s) {
  if (s != PM_OK) throw status_error(s, pm_last_error()->message);
}

template <pm_status (*Free)(uint64_t)>
class handle {
 public:
  handle() = default;
  explicit handle(uint64_t h) : h_(h) {}
  handle(handle&& o) noexcept : h_(std::exchange(o.h_, 0)) {}
  handle& operator=(handle&& o) noexcept {
    reset();
    h_ = std::exchange(o.h_, 0);
    return *this;
  }
  handle(const handle&) = delete;
  handle& operator=(const handle&) = delete;
  ~handle() { reset(); }

  uint64_t get() const { return h_; }
  uint64_t release() { return std::exchange(h_, 0); }
  void reset() {
    if (h_) Free(h_);
    h_ = 0;
  }

 private:
  uint64_t h_ = 0;
};

using fabric_ptr = handle<pm_fabric_free>;
using device_ptr = handle<pm_device_free>;
using stream_ptr = handle<pm_stream_free>;
using event_ptr = handle<pm_event_free>;
using tensor_ptr = handle<pm_tensor_free>;
using comm_ptr = handle<pm_comm_free>;

inline fabric_ptr make_fabric(int32_t world_size, double congestion = 1.0) {
  pm_fabric_t f = 0;
  check(pm_fabric_new(world_size, congestion, &f));
  return fabric_ptr(f);
}

inline device_ptr make_device(pm_fabric_t f, int32_t rank) {
  pm_device_t d = 0;
  check(pm_device_new(f, rank, &d));
  return device_ptr(d);
}

inline stream_ptr make_stream(pm_device_t d) {
  pm_stream_t s = 0;
  check(pm_stream_new(d, &s));
  return stream_ptr(s);
}

inline event_ptr make_event(pm_device_t d) {
  pm_event_t e = 0;
  check(pm_event_new(d, &e));
  return event_ptr(e);
}

inline tensor_ptr make_tensor(pm_device_t d, pm_dtype dtype, std::initializer_list<int64_t> shape) {
  std::vector<int64_t> s(shape);
  pm_tensor_t t = 0;
  check(pm_tensor_new(d, dtype, (int32_t)s.size(), s.data(), &t));
  return tensor_ptr(t);
}

inline tensor_ptr make_view(pm_tensor_t base, int64_t offset, std::initializer_list<int64_t> shape,
                            std::initializer_list<int64_t> strides) {
  std::vector<int64_t> sh(shape), st(strides);
  pm_tensor_t t = 0;
  check(pm_tensor_view(base, offset, (int32_t)sh.size(), sh.data(), st.data(), &t));
  return tensor_ptr(t);
}

inline comm_ptr make_comm(pm_device_t d, const std::string& name, const std::vector<int32_t>& ranks,
                          int32_t link_set = 0) {
  pm_comm_t c = 0;
  check(pm_comm_new(d, name.c_str(), ranks.data(), (int32_t)ranks.size(), link_set, &c));
  return comm_ptr(c);
}

}  // namespace pm

#endif /* PIPEMOE_CPP_HPP */
