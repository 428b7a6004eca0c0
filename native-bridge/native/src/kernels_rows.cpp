// Row kernels: softmax, top-k and the index-driven row movers of dispatch and combine. Every
// operand is rank 2 with unit inner stride; row r starts at base + r * strides[0].
#include <cmath>
#include <limits>

#include "kernels.hpp"

namespace pm::kernels {

namespace {
void check_index(const char* what, int64_t r, int64_t j, int32_t idx, int64_t limit, const char* of) {
  if (idx >= limit)
    fail(PM_ERR_ARG, strf("%s[%lld,%lld] = %d but %s has %lld rows", what, (long long)r, (long long)j,
                          idx, of, (long long)limit));
}
}  // namespace

void softmax(const View& x, const View& y) {
  const int64_t R = x.shape[0], E = x.shape[1];
  for (int64_t r = 0; r < R; r++) {
    const float* px = row<float>(x, r);
    float* py = row<float>(y, r);
    float mx = -std::numeric_limits<float>::infinity();
    for (int64_t e = 0; e < E; e++) mx = std::max(mx, px[e]);
    double sum = 0;
    for (int64_t e = 0; e < E; e++) {
      float v = std::exp(px[e] - mx);
      py[e] = v;
      sum += v;
    }
    float inv = (float)(1.0 / sum);
    for (int64_t e = 0; e < E; e++) py[e] *= inv;
  }
}

void softmax_backward(const View& y, const View& dy, const View& dx) {
  const int64_t R = y.shape[0], E = y.shape[1];
  for (int64_t r = 0; r < R; r++) {
    const float *py = row<float>(y, r), *pdy = row<float>(dy, r);
    float* pdx = row<float>(dx, r);
    double dot = 0;
    for (int64_t e = 0; e < E; e++) dot += (double)py[e] * pdy[e];
    for (int64_t e = 0; e < E; e++) pdx[e] = py[e] * (pdy[e] - (float)dot);
  }
}

void topk(const View& x, int32_t k, const View& values, const View& indices) {
  const int64_t R = x.shape[0], E = x.shape[1];
  for (int64_t r = 0; r < R; r++) {
    const float* px = row<float>(x, r);
    float* pv = row<float>(values, r);
    int32_t* pi = row<int32_t>(indices, r);
    // k passes of selection: k is small (1 or 2 in MoE) and NaN cannot break a plain scan the way
    // it breaks a sort's ordering contract
    for (int32_t j = 0; j < k; j++) {
      int64_t best = -1;
      for (int64_t e = 0; e < E; e++) {
        bool taken = false;
        for (int32_t t = 0; t < j; t++) taken |= pi[t] == e;
        if (taken) continue;
        if (best < 0 || px[e] > px[best]) best = e;  // strict: ties keep the lower index
      }
      pi[j] = (int32_t)best;
      pv[j] = px[best];
    }
  }
}

void topk_backward(const View& dvalues, const View& indices, const View& dx) {
  const int64_t R = dvalues.shape[0], K = dvalues.shape[1], E = dx.shape[1];
  for (int64_t r = 0; r < R; r++) {
    const float* pdv = row<float>(dvalues, r);
    const int32_t* pi = row<int32_t>(indices, r);
    float* pdx = row<float>(dx, r);
    for (int64_t j = 0; j < K; j++) {
      if (pi[j] < 0 || pi[j] >= E)
        fail(PM_ERR_ARG, strf("indices[%lld,%lld] = %d is outside dx's %lld columns", (long long)r,
                              (long long)j, pi[j], (long long)E));
      pdx[pi[j]] += pdv[j];
    }
  }
}

void gather_rows(const View& src, const View& index, const View* weights, float beta, const View& dst) {
  const int64_t R = dst.shape[0], M = dst.shape[1], K = index.shape[1], N = src.shape[0];
  for (int64_t r = 0; r < R; r++) {
    float* pd = row<float>(dst, r);
    const int32_t* pi = row<int32_t>(index, r);
    const float* pw = weights ? row<float>(*weights, r) : nullptr;
    for (int64_t j = 0; j < K; j++) check_index("index", r, j, pi[j], N, "src");
    if (beta == 0.0f)
      std::fill(pd, pd + M, 0.0f);  // beta 0 never reads dst, as in BLAS
    else if (beta != 1.0f)
      for (int64_t c = 0; c < M; c++) pd[c] *= beta;
    for (int64_t j = 0; j < K; j++) {
      if (pi[j] < 0) continue;
      const float* ps = row<float>(src, pi[j]);
      float w = pw ? pw[j] : 1.0f;
      for (int64_t c = 0; c < M; c++) pd[c] += w * ps[c];
    }
  }
}

void scatter_add_rows(const View& src, const View& index, const View* weights, const View& dst) {
  const int64_t R = src.shape[0], M = src.shape[1], K = index.shape[1], N = dst.shape[0];
  for (int64_t r = 0; r < R; r++) {
    const float* ps = row<float>(src, r);
    const int32_t* pi = row<int32_t>(index, r);
    const float* pw = weights ? row<float>(*weights, r) : nullptr;
    for (int64_t j = 0; j < K; j++) {
      if (pi[j] < 0) continue;
      check_index("index", r, j, pi[j], N, "dst");
      float* pd = row<float>(dst, pi[j]);
      float w = pw ? pw[j] : 1.0f;
      for (int64_t c = 0; c < M; c++) pd[c] += w * ps[c];
    }
  }
}

void gather_dot(const View& a, const View& src, const View& index, const View& out) {
  const int64_t R = a.shape[0], M = a.shape[1], K = index.shape[1], N = src.shape[0];
  for (int64_t r = 0; r < R; r++) {
    const float* pa = row<float>(a, r);
    const int32_t* pi = row<int32_t>(index, r);
    float* po = row<float>(out, r);
    for (int64_t j = 0; j < K; j++) {
      if (pi[j] < 0) {
        po[j] = 0.0f;
        continue;
      }
      check_index("index", r, j, pi[j], N, "src");
      const float* ps = row<float>(src, pi[j]);
      float dot = 0.0f;
      for (int64_t c = 0; c < M; c++) dot += pa[c] * ps[c];
      po[j] = dot;
    }
  }
}

}  // namespace pm::kernels
