// The transformer's row kernels: RMSNorm, causal softmax, and the pieces of a vocabulary-parallel
// cross-entropy. Like the other row kernels, each row is independent and the loops go row by row
// (rank threads give the parallelism). Sums that feed one number per row are in double and rounded
// once, everything else is fp32 in the order written, as the simulated device's SimKernels does
// (bits agree except where glibc's expf rounds otherwise than Java's exp rounded to float).
#include <cmath>
#include <limits>
#include <vector>

#include "kernels.hpp"

namespace pm::kernels {

namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Row i of batch b of a rank-3 operand with unit inner stride.
float* row3(const View& v, int64_t b, int64_t i) {
  return v.as<float>() + b * v.strides[0] + i * v.strides[1];
}

// The element of a rank-1 operand (any stride).
template <class T>
T& at1(const View& v, int64_t r) {
  return v.as<T>()[r * v.strides[0]];
}
}  // namespace

void rms_norm(const View& x, const View& gamma, float eps, const View& y, const View& rstd) {
  const int64_t R = x.shape[0], M = x.shape[1];
  const float* g = gamma.as<float>();
  for (int64_t r = 0; r < R; r++) {
    const float* px = row<float>(x, r);
    float* py = row<float>(y, r);
    double ss = 0;
    for (int64_t m = 0; m < M; m++) ss += (double)px[m] * px[m];
    float rs = (float)(1.0 / std::sqrt(ss / (double)std::max<int64_t>(M, 1) + (double)eps));
    at1<float>(rstd, r) = rs;
    for (int64_t m = 0; m < M; m++) py[m] = px[m] * rs * g[m * gamma.strides[0]];
  }
}

void rms_norm_backward(const View& x, const View& gamma, const View& rstd, const View& dy, const View& dx,
                       const View& dgamma) {
  const int64_t R = x.shape[0], M = x.shape[1];
  const float* g = gamma.as<float>();
  std::vector<double> dg(M, 0.0);
  for (int64_t r = 0; r < R; r++) {
    const float *px = row<float>(x, r), *pdy = row<float>(dy, r);
    float* pdx = row<float>(dx, r);
    const float rs = at1<float>(rstd, r);
    double dot = 0;
    for (int64_t m = 0; m < M; m++) {
      dot += (double)g[m * gamma.strides[0]] * pdy[m] * px[m];
      dg[m] += (double)pdy[m] * px[m] * rs;
    }
    // dx may alias dy or x: element m is read just before it is written
    const float mean = (float)(dot / (double)std::max<int64_t>(M, 1));
    for (int64_t m = 0; m < M; m++) pdx[m] = rs * (g[m * gamma.strides[0]] * pdy[m] - px[m] * rs * rs * mean);
  }
  float* pg = dgamma.as<float>();
  for (int64_t m = 0; m < M; m++) pg[m * dgamma.strides[0]] = (float)((double)pg[m * dgamma.strides[0]] + dg[m]);
}

void causal_softmax(const View& x, float scale, int32_t offset, const View& y) {
  const int64_t B = x.shape[0], Q = x.shape[1], K = x.shape[2];
  for (int64_t b = 0; b < B; b++)
    for (int64_t i = 0; i < Q; i++) {
      const float* px = row3(x, b, i);
      float* py = row3(y, b, i);
      const int64_t n = std::min(K, std::max<int64_t>(0, i + (int64_t)offset + 1));  // visible columns
      float mx = kNegInf;
      for (int64_t j = 0; j < n; j++) mx = std::max(mx, scale * px[j]);
      double sum = 0;
      for (int64_t j = 0; j < n; j++) {
        float v = std::exp(scale * px[j] - mx);
        py[j] = v;
        sum += v;
      }
      float inv = (float)(1.0 / sum);
      for (int64_t j = 0; j < n; j++) py[j] *= inv;
      for (int64_t j = n; j < K; j++) py[j] = 0.0f;
    }
}

void causal_softmax_backward(const View& y, const View& dy, float scale, const View& dx) {
  const int64_t B = y.shape[0], Q = y.shape[1], K = y.shape[2];
  for (int64_t b = 0; b < B; b++)
    for (int64_t i = 0; i < Q; i++) {
      const float *py = row3(y, b, i), *pdy = row3(dy, b, i);
      float* pdx = row3(dx, b, i);
      double dot = 0;
      for (int64_t j = 0; j < K; j++) dot += (double)py[j] * pdy[j];
      const float d = (float)dot;
      for (int64_t j = 0; j < K; j++) pdx[j] = scale * py[j] * (pdy[j] - d);
    }
}

void log_sum_exp(const View& x, const View& lse) {
  const int64_t R = x.shape[0], V = x.shape[1];
  const float* base = x.as<float>();
  const int64_t s0 = x.strides[0], s1 = x.strides[1];
  for (int64_t r = 0; r < R; r++) {
    const float* px = base + r * s0;
    float mx = kNegInf;
    for (int64_t j = 0; j < V; j++) mx = std::max(mx, px[j * s1]);
    if (std::isinf(mx)) {  // all -inf (or V = 0), or a +inf: the sum is that infinity
      at1<float>(lse, r) = mx;
      continue;
    }
    double sum = 0;
    for (int64_t j = 0; j < V; j++) sum += std::exp(px[j * s1] - mx);
    at1<float>(lse, r) = (float)((double)mx + std::log(sum));
  }
}

void pick_targets(const View& x, const View& targets, int32_t first, const View& out) {
  const int64_t R = x.shape[0], V = x.shape[1];
  for (int64_t r = 0; r < R; r++) {
    const int64_t j = (int64_t)at1<int32_t>(targets, r) - first;
    at1<float>(out, r) = j >= 0 && j < V ? row<float>(x, r)[j] : 0.0f;
  }
}

void cross_entropy_backward(const View& x, const View& lse, const View& targets, int32_t first, float scale,
                            const View& dx) {
  const int64_t R = x.shape[0], V = x.shape[1];
  for (int64_t r = 0; r < R; r++) {
    const float* px = row<float>(x, r);
    float* pdx = row<float>(dx, r);
    const float l = at1<float>(lse, r);
    const int64_t t = (int64_t)at1<int32_t>(targets, r) - first;
    for (int64_t j = 0; j < V; j++) pdx[j] = scale * (std::exp(px[j] - l) - (j == t ? 1.0f : 0.0f));
  }
}

}  // namespace pm::kernels
