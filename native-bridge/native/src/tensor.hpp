// Tensors: refcounted storage plus an immutable (dtype, shape, strides, offset) description.
// A view shares its base's storage; queued ops hold shared_ptrs to their operands, so freeing a
// handle never frees memory that work still uses.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "errors.hpp"
#include "registry.hpp"

namespace pm {

int dtype_size(int32_t dtype);
const char* dtype_name(int32_t dtype);

struct Storage {
  explicit Storage(size_t bytes);  // zero-filled, 64-byte aligned
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data;
  size_t bytes;
};

// A non-owning strided view: what kernels and collectives work on.
struct View {
  char* base = nullptr;  // element (0,...,0)
  int32_t dtype = PM_F32;
  int32_t ndim = 0;
  int64_t shape[PM_MAX_DIMS] = {0};
  int64_t strides[PM_MAX_DIMS] = {0};

  int64_t numel() const;
  bool contiguous() const;
  template <class T> T* as() const { return reinterpret_cast<T*>(base); }
  // Rows [first, first+count) of dim 0.
  View rows(int64_t first, int64_t count) const;
};

struct Tensor {
  static constexpr Kind kKind = Kind::Tensor;
  std::shared_ptr<Storage> storage;
  uint64_t device = 0;
  int64_t offset = 0;  // in elements, from the start of storage
  View view;           // base points into storage

  int64_t numel() const { return view.numel(); }
  int32_t dtype() const { return view.dtype; }
  int32_t ndim() const { return view.ndim; }
  const int64_t* shape() const { return view.shape; }
};
using TensorRef = std::shared_ptr<const Tensor>;

// "[3,4]" for messages.
std::string shape_str(const View& v);
inline std::string shape_str(const Tensor& t) { return shape_str(t.view); }
bool same_shape(const View& a, const View& b);
// Refuses a view whose innermost stride is not 1 (a transposed view), naming it `what`: only
// log_sum_exp reads such a view; kernels, copies, collectives and host I/O walk rows of
// consecutive elements.
void need_unit_inner_stride(const Tensor& t, const char* what);

// bf16 is the upper half of an fp32; rounding to nearest even, NaN kept NaN (quiet, same sign).
inline uint16_t f32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x0040u);
  u += 0x7FFFu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}
inline float bf16_to_f32(uint16_t h) {
  uint32_t u = (uint32_t)h << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Calls run(n, off_0, ..., off_k) for each contiguous innermost run of equally shaped views (each
// with innermost stride 1), with element offsets from each view's base; one call covering
// everything when all are contiguous.
template <class Run, class... Views>
void for_each_run(Run&& run, const View& v0, const Views&... vs) {
  if (v0.contiguous() && (vs.contiguous() && ...)) {
    run(v0.numel(), int64_t(0), ((void)vs, int64_t(0))...);
    return;
  }
  if (v0.numel() == 0) return;
  // pad to 4 dims: leading dims of size 1
  int pad = PM_MAX_DIMS - v0.ndim;
  auto dim = [&](const View& v, int d) { return d < pad ? int64_t(1) : v.shape[d - pad]; };
  auto str = [&](const View& v, int d) { return d < pad ? int64_t(0) : v.strides[d - pad]; };
  int64_t n0 = dim(v0, 0), n1 = dim(v0, 1), n2 = dim(v0, 2), inner = dim(v0, 3);
  for (int64_t i0 = 0; i0 < n0; i0++)
    for (int64_t i1 = 0; i1 < n1; i1++)
      for (int64_t i2 = 0; i2 < n2; i2++)
        run(inner, i0 * str(v0, 0) + i1 * str(v0, 1) + i2 * str(v0, 2),
            (i0 * str(vs, 0) + i1 * str(vs, 1) + i2 * str(vs, 2))...);
}

// A row-major contiguous view of dtype at base, shaped like `like`.
View contiguous_view(char* base, int32_t dtype, const View& like);

// dst = src over equally shaped views, converting F32 <-> BF16 when dtypes differ.
void copy_cast(const View& src, const View& dst);

}  // namespace pm
