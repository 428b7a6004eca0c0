// Elementwise kernels over strided views of any rank: for_each_run hands out contiguous runs.
#include <cmath>
#include <cstring>

#include "kernels.hpp"

namespace pm::kernels {

namespace {
inline float* f32(const View& v) { return v.as<float>(); }
inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
constexpr double kTwoPi = 6.283185307179586476925286766559;
}  // namespace

void fill(const View& t, float value) {
  if (t.dtype == PM_I32) {
    int32_t v = (int32_t)value;
    int32_t* p = t.as<int32_t>();
    for_each_run([&](int64_t n, int64_t o) { std::fill(p + o, p + o + n, v); }, t);
  } else if (t.dtype == PM_BF16) {
    uint16_t v = f32_to_bf16(value);
    uint16_t* p = t.as<uint16_t>();
    for_each_run([&](int64_t n, int64_t o) { std::fill(p + o, p + o + n, v); }, t);
  } else {
    float* p = f32(t);
    for_each_run([&](int64_t n, int64_t o) { std::fill(p + o, p + o + n, value); }, t);
  }
}

uint64_t splitmix64_output(uint64_t seed, uint64_t c) {
  uint64_t z = seed + (c + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void random(const View& t, uint64_t seed, int32_t dist, float a, float b) {
  int64_t i = 0;  // row-major logical index: runs arrive in row-major order
  auto value = [&](int64_t e) -> float {
    if (dist == PM_UNIFORM) {
      double u = (double)(splitmix64_output(seed, 2 * (uint64_t)e) >> 40) * 0x1p-24;
      float v = (float)((double)a + ((double)b - (double)a) * u);
      return (v >= b && a < b) ? std::nextafter(b, a) : v;
    }
    double u1 = (double)((splitmix64_output(seed, 2 * (uint64_t)e) >> 11) + 1) * 0x1p-53;
    double u2 = (double)(splitmix64_output(seed, 2 * (uint64_t)e + 1) >> 11) * 0x1p-53;
    return (float)((double)a + (double)b * std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2));
  };
  if (t.dtype == PM_BF16) {
    uint16_t* p = t.as<uint16_t>();
    for_each_run([&](int64_t n, int64_t o) {
      for (int64_t j = 0; j < n; j++) p[o + j] = f32_to_bf16(value(i++));
    }, t);
  } else {
    float* p = f32(t);
    for_each_run([&](int64_t n, int64_t o) {
      for (int64_t j = 0; j < n; j++) p[o + j] = value(i++);
    }, t);
  }
}

void add(const View& x, const View& y, const View& out) {
  const float *px = f32(x), *py = f32(y);
  float* po = f32(out);
  for_each_run([&](int64_t n, int64_t ox, int64_t oy, int64_t oo) {
    for (int64_t i = 0; i < n; i++) po[oo + i] = px[ox + i] + py[oy + i];
  }, x, y, out);
}

void axpy(float alpha, const View& x, const View& y) {
  const float* px = f32(x);
  float* py = f32(y);
  for_each_run([&](int64_t n, int64_t ox, int64_t oy) {
    for (int64_t i = 0; i < n; i++) py[oy + i] += alpha * px[ox + i];
  }, x, y);
}

void scale(float alpha, const View& x) {
  float* p = f32(x);
  for_each_run([&](int64_t n, int64_t o) {
    for (int64_t i = 0; i < n; i++) p[o + i] *= alpha;
  }, x);
}

void gelu(const View& x, const View& y) {
  const float* px = f32(x);
  float* py = f32(y);
  for_each_run([&](int64_t n, int64_t ox, int64_t oy) {
    for (int64_t i = 0; i < n; i++) {
      float v = px[ox + i];
      py[oy + i] = 0.5f * v * (1.0f + std::erf(v * (float)M_SQRT1_2));
    }
  }, x, y);
}

void gelu_backward(const View& x, const View& dy, const View& dx) {
  const float *px = f32(x), *pdy = f32(dy);
  float* pdx = f32(dx);
  const float inv_sqrt_2pi = 0.3989422804014327f;
  for_each_run([&](int64_t n, int64_t ox, int64_t ody, int64_t odx) {
    for (int64_t i = 0; i < n; i++) {
      float v = px[ox + i];
      float cdf = 0.5f * (1.0f + std::erf(v * (float)M_SQRT1_2));
      float pdf = inv_sqrt_2pi * std::exp(-0.5f * v * v);
      pdx[odx + i] = pdy[ody + i] * (cdf + v * pdf);
    }
  }, x, dy, dx);
}

void swiglu(const View& a, const View& b, const View& y) {
  const float *pa = f32(a), *pb = f32(b);
  float* py = f32(y);
  for_each_run([&](int64_t n, int64_t oa, int64_t ob, int64_t oy) {
    for (int64_t i = 0; i < n; i++) {
      float v = pa[oa + i];
      py[oy + i] = v * sigmoid(v) * pb[ob + i];
    }
  }, a, b, y);
}

void swiglu_backward(const View& a, const View& b, const View& dy, const View& da, const View& db) {
  const float *pa = f32(a), *pb = f32(b), *pdy = f32(dy);
  float *pda = f32(da), *pdb = f32(db);
  for_each_run([&](int64_t n, int64_t oa, int64_t ob, int64_t ody, int64_t oda, int64_t odb) {
    for (int64_t i = 0; i < n; i++) {
      float v = pa[oa + i], s = sigmoid(v), g = pdy[ody + i];
      // read everything first: da or db may alias a, b or dy
      float bv = pb[ob + i];
      pda[oda + i] = g * bv * s * (1.0f + v * (1.0f - s));
      pdb[odb + i] = g * v * s;
    }
  }, a, b, dy, da, db);
}

void mse_loss(const View& y, const View& target, float grad_scale, const View& loss, const View& dy) {
  const float *py = f32(y), *pt = f32(target);
  float* pdy = f32(dy);
  int64_t numel = y.numel();
  double sum = 0;
  float k = numel > 0 ? grad_scale * 2.0f / (float)numel : 0.0f;
  for_each_run([&](int64_t n, int64_t oy, int64_t ot, int64_t od) {
    for (int64_t i = 0; i < n; i++) {
      float d = py[oy + i] - pt[ot + i];
      sum += (double)d * d;
      pdy[od + i] = k * d;
    }
  }, y, target, dy);
  f32(loss)[0] = numel > 0 ? (float)(sum / (double)numel) : 0.0f;
}

void adam(const View& p, const View& g, const View& m, const View& v, float lr, float beta1,
          float beta2, float eps, float weight_decay, int32_t step) {
  float *pp = f32(p), *pm = f32(m), *pv = f32(v);
  const float* pg = f32(g);
  float c1 = (float)(1.0 - std::pow((double)beta1, step));
  float c2 = (float)(1.0 - std::pow((double)beta2, step));
  for_each_run([&](int64_t n, int64_t op, int64_t og, int64_t om, int64_t ov) {
    for (int64_t i = 0; i < n; i++) {
      float gr = pg[og + i];
      float mi = beta1 * pm[om + i] + (1.0f - beta1) * gr;
      float vi = beta2 * pv[ov + i] + (1.0f - beta2) * gr * gr;
      pm[om + i] = mi;
      pv[ov + i] = vi;
      float w = pp[op + i];
      pp[op + i] = w - lr * ((mi / c1) / (std::sqrt(vi / c2) + eps) + weight_decay * w);
    }
  }, p, g, m, v);
}

}  // namespace pm::kernels
