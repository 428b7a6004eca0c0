#include <algorithm>

#include "blas.hpp"
#include "kernels.hpp"

namespace pm::kernels {

namespace {
// Leading dimension of a row-major matrix view: its row stride, at least its width (a single
// row may carry any row stride; BLAS still wants ld >= cols).
int ld(const View& v) {
  int64_t rows = v.shape[v.ndim - 2], cols = v.shape[v.ndim - 1];
  int64_t s = v.strides[v.ndim - 2];
  return (int)std::max<int64_t>(rows <= 1 ? cols : s, std::max<int64_t>(cols, 1));
}
}  // namespace

void gemm(bool ta, bool tb, float alpha, const View& a, const View& b, float beta, const View& c) {
  const int r = c.ndim;
  const int64_t batches = r == 3 ? c.shape[0] : 1;
  const int m = (int)c.shape[r - 2], n = (int)c.shape[r - 1];
  const int k = (int)(ta ? a.shape[r - 2] : a.shape[r - 1]);
  const int64_t sa = r == 3 ? a.strides[0] : 0, sb = r == 3 ? b.strides[0] : 0, sc = r == 3 ? c.strides[0] : 0;
  if (m == 0 || n == 0) return;
  for (int64_t i = 0; i < batches; i++) {
    float* pc = c.as<float>() + i * sc;
    if (k == 0) {  // no products: c = beta c (beta 0 never reads c)
      for (int row = 0; row < m; row++) {
        float* p = pc + row * c.strides[r - 2];
        for (int col = 0; col < n; col++) p[col] = beta == 0.0f ? 0.0f : beta * p[col];
      }
      continue;
    }
    sgemm(ta, tb, m, n, k, alpha, a.as<float>() + i * sa, ld(a), b.as<float>() + i * sb, ld(b), beta,
          pc, ld(c));
  }
}

}  // namespace pm::kernels
