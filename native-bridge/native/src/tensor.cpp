#include "tensor.hpp"

#include <cstdlib>
#include <new>

namespace pm {

int dtype_size(int32_t dtype) { return dtype == PM_BF16 ? 2 : 4; }

const char* dtype_name(int32_t dtype) {
  switch (dtype) {
    case PM_F32: return "F32";
    case PM_BF16: return "BF16";
    case PM_I32: return "I32";
  }
  return "?";
}

Storage::Storage(size_t n) : bytes(n) {
  size_t rounded = (n + 63) / 64 * 64;
  data = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (!data) throw std::bad_alloc();
  std::memset(data, 0, rounded == 0 ? 64 : rounded);
}

Storage::~Storage() { std::free(data); }

int64_t View::numel() const {
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) n *= shape[i];
  return n;
}

bool View::contiguous() const {
  int64_t expect = 1;
  for (int i = ndim - 1; i >= 0; i--) {
    if (shape[i] != 1 && strides[i] != expect) return false;
    expect *= shape[i];
  }
  return true;
}

View View::rows(int64_t first, int64_t count) const {
  View v = *this;
  v.base = base + first * strides[0] * dtype_size(dtype);
  v.shape[0] = count;
  return v;
}

std::string shape_str(const View& v) {
  std::string s = "[";
  for (int i = 0; i < v.ndim; i++) {
    if (i) s += ",";
    s += std::to_string(v.shape[i]);
  }
  return s + "]";
}

View contiguous_view(char* base, int32_t dtype, const View& like) {
  View v = like;
  v.base = base;
  v.dtype = dtype;
  int64_t s = 1;
  for (int i = v.ndim - 1; i >= 0; i--) {
    v.strides[i] = s;
    s *= v.shape[i];
  }
  return v;
}

bool same_shape(const View& a, const View& b) {
  if (a.ndim != b.ndim) return false;
  for (int i = 0; i < a.ndim; i++)
    if (a.shape[i] != b.shape[i]) return false;
  return true;
}

void need_unit_inner_stride(const Tensor& t, const char* what) {
  const int last = t.ndim() - 1;
  if (last >= 0 && t.view.strides[last] != 1 && t.shape()[last] > 1)
    fail(PM_ERR_ARG, strf("%s is %s with innermost stride %lld but the innermost stride must be 1 (only "
                          "log_sum_exp reads a transposed view)", what, shape_str(t).c_str(),
                          (long long)t.view.strides[last]));
}

void copy_cast(const View& src, const View& dst) {
  if (src.dtype == dst.dtype) {
    int es = dtype_size(src.dtype);
    for_each_run([&](int64_t n, int64_t s, int64_t d) {
      std::memmove(dst.base + d * es, src.base + s * es, (size_t)(n * es));
    }, src, dst);
  } else if (src.dtype == PM_F32 && dst.dtype == PM_BF16) {
    const float* s = src.as<float>();
    uint16_t* d = dst.as<uint16_t>();
    for_each_run([&](int64_t n, int64_t so, int64_t dof) {
      for (int64_t i = 0; i < n; i++) d[dof + i] = f32_to_bf16(s[so + i]);
    }, src, dst);
  } else {  // BF16 -> F32; the API layer refuses the rest
    const uint16_t* s = src.as<uint16_t>();
    float* d = dst.as<float>();
    for_each_run([&](int64_t n, int64_t so, int64_t dof) {
      for (int64_t i = 0; i < n; i++) d[dof + i] = bf16_to_f32(s[so + i]);
    }, src, dst);
  }
}

}  // namespace pm
