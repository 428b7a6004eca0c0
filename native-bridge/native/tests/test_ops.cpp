// test_ops: every op of pipemoe.h against a plain double-precision reference.
//
// Map of this file:
//   1. the harness: one device, host <-> tensor helpers, fresh random inputs, the error measure
//   2. one TEST per op: random inputs at odd sizes (1, 3, 17, 33x65), strided views where the op
//      takes them, and the op's error bound stated next to its reference
//   3. perf mode: `test_ops --perf` times GEMM and a tiny op instead of testing
// To add an op: write its reference in doubles, run the op on the same inputs, and compare with
// expect_close(name, got, ref, bound).
#include <algorithm>
#include <cfloat>
#include <chrono>
#include <cmath>
#include <cstring>
#include <random>

#include "check.hpp"

namespace {

// ---- 1. harness ---------------------------------------------------------------------------------

struct Env {
  pm::fabric_ptr fabric = pm::make_fabric(1);
  pm::device_ptr dev = pm::make_device(fabric.get(), 0);
  pm_stream_t s = 0;
  std::mt19937_64 rng{12345};
  Env() { pm::check(pm_device_stream(dev.get(), &s)); }
};
Env& env() {
  static Env e;
  return e;
}

using Vec = std::vector<float>;
using Shape = std::vector<int64_t>;

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

pm::tensor_ptr tensor(const Shape& shape, pm_dtype dt = PM_F32) {
  pm_tensor_t t = 0;
  pm::check(pm_tensor_new(env().dev.get(), dt, (int32_t)shape.size(), shape.data(), &t));
  return pm::tensor_ptr(t);
}

Vec rnd(int64_t n, float lo = -2.0f, float hi = 2.0f) {
  std::uniform_real_distribution<float> u(lo, hi);
  Vec v(n);
  for (auto& x : v) x = u(env().rng);
  return v;
}

void put(const pm::tensor_ptr& t, const Vec& v) { pm::check(pm_tensor_write(t.get(), v.data(), (int64_t)v.size())); }
void put(const pm::tensor_ptr& t, const std::vector<int32_t>& v) {
  pm::check(pm_tensor_write(t.get(), v.data(), (int64_t)v.size()));
}
pm::tensor_ptr with(const Shape& shape, const Vec& v) {
  auto t = tensor(shape);
  put(t, v);
  return t;
}
pm::tensor_ptr with_i32(const Shape& shape, const std::vector<int32_t>& v) {
  auto t = tensor(shape, PM_I32);
  put(t, v);
  return t;
}
Vec get(const pm::tensor_ptr& t, int64_t n) {
  pm::check(pm_device_synchronize(env().dev.get()));
  Vec v(n);
  pm::check(pm_tensor_read(t.get(), v.data(), n));
  return v;
}
std::vector<int32_t> get_i32(const pm::tensor_ptr& t, int64_t n) {
  pm::check(pm_device_synchronize(env().dev.get()));
  std::vector<int32_t> v(n);
  pm::check(pm_tensor_read(t.get(), v.data(), n));
  return v;
}

// Normalised max error: max |got - ref| / max(1e-30, max |ref|). Scale-free, so one bound per op
// holds for any input size; fp32 rounding of a few operations gives ~1e-7.
double nmax(const Vec& got, const std::vector<double>& ref) {
  double e = 0, scale = 1e-30;
  for (size_t i = 0; i < ref.size(); i++) {
    e = std::max(e, std::fabs((double)got[i] - ref[i]));
    scale = std::max(scale, std::fabs(ref[i]));
  }
  return e / scale;
}

void expect_close(const std::string& what, const Vec& got, const std::vector<double>& ref, double bound) {
  CHECK(got.size() == ref.size(), "%s: %zu values, expected %zu", what.c_str(), got.size(), ref.size());
  double e = nmax(got, ref);
  CHECK(e <= bound, "%s: normalised error %.3g > bound %.3g", what.c_str(), e, bound);
}

const std::vector<Shape> kShapes = {{1}, {3}, {17}, {33, 65}, {2, 3, 17}};

// An elementwise op over fresh inputs of every shape, and over a strided [33,65] view of [33,80].
template <class Run, class Ref>
void elementwise(const char* name, int inputs, int outputs, double bound, Run run, Ref ref) {
  auto once = [&](const Shape& shape, bool strided) {
    int64_t n = numel(shape);
    std::vector<Vec> in;
    std::vector<pm::tensor_ptr> keep, ts;
    auto make = [&](const Vec* v) {
      if (!strided) {
        auto t = v ? with(shape, *v) : tensor(shape);
        ts.push_back(pm::tensor_ptr(t.release()));
        return;
      }
      auto base = tensor({33, 80});
      if (v) {  // write through the view
        auto view = pm::make_view(base.get(), 7, {33, 65}, {80, 1});
        put(view, *v);
        ts.push_back(std::move(view));
      } else {
        ts.push_back(pm::make_view(base.get(), 7, {33, 65}, {80, 1}));
      }
      keep.push_back(std::move(base));
    };
    for (int i = 0; i < inputs; i++) {
      in.push_back(rnd(n));
      make(&in.back());
    }
    for (int i = 0; i < outputs; i++) make(nullptr);
    std::vector<pm_tensor_t> h;
    for (auto& t : ts) h.push_back(t.get());
    run(h);
    for (int o = 0; o < outputs; o++) {
      Vec got = get(ts[inputs + o], n);
      std::vector<double> want(n);
      for (int64_t i = 0; i < n; i++) {
        std::vector<double> x;
        for (auto& v : in) x.push_back(v[i]);
        want[i] = ref(x, o);
      }
      expect_close(std::string(name) + (strided ? " strided" : "") + " out" + std::to_string(o), got, want, bound);
    }
  };
  for (auto& s : kShapes) once(s, false);
  once({33, 65}, true);
}

// ---- 2. ops -------------------------------------------------------------------------------------

pm_stream_t S() { return env().s; }
double sig(double x) { return 1.0 / (1.0 + std::exp(-x)); }

TEST(fill_and_cast) {
  auto t = tensor({3, 17});
  pm::check(pm_fill(S(), t.get(), 2.5f));
  Vec got = get(t, 51);
  CHECK(got[0] == 2.5f && got[50] == 2.5f, "fill gave %g", got[0]);
  // F32 -> BF16 rounds to nearest even and keeps NaN
  float one_plus_half_ulp = 1.0f + std::ldexp(1.0f, -8);   // a tie: rounds down to even 1.0
  float three_quarter_ulp = 1.0f + 3 * std::ldexp(1.0f, -9);  // rounds up to 1 + 2^-7
  Vec v = {one_plus_half_ulp, three_quarter_ulp, NAN, -0.0f, 1e38f, INFINITY};
  auto f = with({6}, v);
  auto b = tensor({6}, PM_BF16);
  auto back = tensor({6});
  pm::check(pm_copy(S(), f.get(), b.get()));
  pm::check(pm_copy(S(), b.get(), back.get()));
  Vec r = get(back, 6);
  CHECK(r[0] == 1.0f, "tie rounds to even: %a", r[0]);
  CHECK(r[1] == 1.0f + std::ldexp(1.0f, -7), "rounds to nearest: %a", r[1]);
  CHECK(std::isnan(r[2]), "NaN kept: %g", r[2]);
  CHECK(r[3] == 0.0f && std::signbit(r[3]), "-0 kept");
  CHECK(std::fabs(r[4] - 1e38f) / 1e38f < 4e-3, "large value: %g", r[4]);
  CHECK(std::isinf(r[5]), "inf kept");
}

uint64_t splitmix(uint64_t seed, uint64_t c) {  // the documented generator, written out again
  uint64_t z = seed + (c + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

TEST(random_is_counter_based) {
  const uint64_t seed = 42;
  auto base = tensor({33, 80});
  auto view = pm::make_view(base.get(), 3, {33, 65}, {80, 1});
  pm::check(pm_random(S(), view.get(), seed, PM_UNIFORM, -1.0f, 3.0f));
  Vec u = get(view, 33 * 65);
  bool exact = true;
  double mean = 0;
  for (int64_t i = 0; i < 33 * 65; i++) {
    double x = (double)(splitmix(seed, 2 * i) >> 40) * 0x1p-24;
    exact &= u[i] == (float)(-1.0 + 4.0 * x);
    exact &= u[i] >= -1.0f && u[i] < 3.0f;
    mean += u[i];
  }
  CHECK(exact, "uniform values follow the documented formula, strides or not");
  CHECK(std::fabs(mean / (33 * 65) - 1.0) < 0.1, "uniform mean %g", mean / (33 * 65));
  auto n = tensor({4096});
  pm::check(pm_random(S(), n.get(), 7, PM_NORMAL, 1.0f, 2.0f));
  Vec z = get(n, 4096);
  double m = 0, v = 0;
  for (float x : z) m += x;
  m /= 4096;
  for (float x : z) v += (x - m) * (x - m);
  v /= 4096;
  CHECK(std::fabs(m - 1.0) < 0.15 && std::fabs(std::sqrt(v) - 2.0) < 0.15, "normal mean %g std %g", m, std::sqrt(v));
  double u1 = (double)((splitmix(7, 0) >> 11) + 1) * 0x1p-53, u2 = (double)(splitmix(7, 1) >> 11) * 0x1p-53;
  float z0 = (float)(1.0 + 2.0 * std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2));
  CHECK(z[0] == z0, "normal element 0 is %g, Box-Muller gives %g", z[0], z0);
}

TEST(gemm) {
  struct G { int m, n, k; };
  for (G g : {G{1, 1, 1}, G{3, 17, 33}, G{33, 65, 17}, G{17, 3, 1}})
    for (int ta = 0; ta < 2; ta++)
      for (int tb = 0; tb < 2; tb++) {
        Vec a = rnd(g.m * g.k), b = rnd(g.k * g.n), c = rnd(g.m * g.n);
        auto A = with(ta ? Shape{g.k, g.m} : Shape{g.m, g.k}, a);
        auto B = with(tb ? Shape{g.n, g.k} : Shape{g.k, g.n}, b);
        auto C = with({g.m, g.n}, c);
        const float alpha = 0.75f, beta = -0.5f;
        pm::check(pm_gemm(S(), ta, tb, alpha, A.get(), B.get(), beta, C.get()));
        std::vector<double> ref(g.m * g.n);
        for (int i = 0; i < g.m; i++)
          for (int j = 0; j < g.n; j++) {
            double acc = 0;
            for (int l = 0; l < g.k; l++)
              acc += (double)(ta ? a[l * g.m + i] : a[i * g.k + l]) * (tb ? b[j * g.k + l] : b[l * g.n + j]);
            ref[i * g.n + j] = alpha * acc + beta * c[i * g.n + j];
          }
        expect_close(test::fmt("gemm %dx%dx%d ta=%d tb=%d", g.m, g.n, g.k, ta, tb), get(C, g.m * g.n), ref, 1e-6);
      }
}

TEST(gemm_strided_batch) {
  const int B = 3, m = 5, n = 17, k = 33;
  Vec a = rnd(B * m * k), b = rnd(k * n);
  auto A = with({B, m, k}, a);
  auto Bbase = with({k, n}, b);
  auto Bv = pm::make_view(Bbase.get(), 0, {B, k, n}, {0, n, 1});  // batch stride 0: broadcast
  auto Cbase = tensor({B, m, n + 5});
  auto Cv = pm::make_view(Cbase.get(), 2, {B, m, n}, {m * (n + 5), n + 5, 1});
  pm::check(pm_gemm(S(), 0, 0, 1.0f, A.get(), Bv.get(), 0.0f, Cv.get()));
  std::vector<double> ref(B * m * n);
  for (int z = 0; z < B; z++)
    for (int i = 0; i < m; i++)
      for (int j = 0; j < n; j++) {
        double acc = 0;
        for (int l = 0; l < k; l++) acc += (double)a[(z * m + i) * k + l] * b[l * n + j];
        ref[(z * m + i) * n + j] = acc;
      }
  expect_close("gemm batch", get(Cv, B * m * n), ref, 1e-6);
  auto E = tensor({0, 4}), F = tensor({4, 3}), G = tensor({0, 3});  // empty: nothing to do, no error
  pm::check(pm_gemm(S(), 0, 0, 1.0f, E.get(), F.get(), 0.0f, G.get()));
  pm::check(pm_device_synchronize(env().dev.get()));
}

TEST(elementwise_ops) {
  // bounds: one or two fp32 roundings (~1e-7), libm erf/exp in float (~1e-6)
  elementwise("add", 2, 1, 1e-7, [](auto& h) { pm::check(pm_add(S(), h[0], h[1], h[2])); },
              [](auto& x, int) { return x[0] + x[1]; });
  elementwise("axpy", 2, 0, 1e-7, [](auto& h) { pm::check(pm_axpy(S(), 0.5f, h[0], h[1])); },
              [](auto&, int) { return 0.0; });
  elementwise("scale", 1, 0, 1e-7, [](auto& h) { pm::check(pm_scale(S(), 3.0f, h[0])); },
              [](auto&, int) { return 0.0; });
  elementwise("gelu", 1, 1, 2e-6, [](auto& h) { pm::check(pm_gelu(S(), h[0], h[1])); },
              [](auto& x, int) { return 0.5 * x[0] * (1 + std::erf(x[0] / std::sqrt(2.0))); });
  elementwise("gelu_backward", 2, 1, 2e-6, [](auto& h) { pm::check(pm_gelu_backward(S(), h[0], h[1], h[2])); },
              [](auto& x, int) {
                double cdf = 0.5 * (1 + std::erf(x[0] / std::sqrt(2.0)));
                double pdf = std::exp(-0.5 * x[0] * x[0]) / std::sqrt(2 * M_PI);
                return x[1] * (cdf + x[0] * pdf);
              });
  elementwise("swiglu", 2, 1, 2e-6, [](auto& h) { pm::check(pm_swiglu(S(), h[0], h[1], h[2])); },
              [](auto& x, int) { return x[0] * sig(x[0]) * x[1]; });
  elementwise("swiglu_backward", 3, 2, 2e-6,
              [](auto& h) { pm::check(pm_swiglu_backward(S(), h[0], h[1], h[2], h[3], h[4])); },
              [](auto& x, int o) {
                double s = sig(x[0]);
                return o == 0 ? x[2] * x[1] * s * (1 + x[0] * (1 - s)) : x[2] * x[0] * s;
              });
}

TEST(axpy_and_scale_in_place) {  // the in-place ops, checked on the values they update
  Vec x = rnd(33 * 65), y = rnd(33 * 65);
  auto X = with({33, 65}, x), Y = with({33, 65}, y);
  pm::check(pm_axpy(S(), -1.5f, X.get(), Y.get()));
  pm::check(pm_scale(S(), 0.25f, X.get()));
  std::vector<double> ry(y.size()), rx(x.size());
  for (size_t i = 0; i < y.size(); i++) {
    ry[i] = y[i] - 1.5 * x[i];
    rx[i] = 0.25 * x[i];
  }
  expect_close("axpy", get(Y, 33 * 65), ry, 2e-7);
  expect_close("scale", get(X, 33 * 65), rx, 1e-7);
}

TEST(softmax_fwd_bwd) {
  for (Shape sh : {Shape{1, 1}, Shape{3, 17}, Shape{33, 65}}) {
    int64_t R = sh[0], E = sh[1];
    Vec x = rnd(R * E, -8, 8), dy = rnd(R * E);
    auto X = with(sh, x), Y = tensor(sh), DY = with(sh, dy), DX = tensor(sh);
    pm::check(pm_softmax(S(), X.get(), Y.get()));
    pm::check(pm_softmax_backward(S(), Y.get(), DY.get(), DX.get()));
    std::vector<double> y(R * E), dx(R * E);
    for (int64_t r = 0; r < R; r++) {
      double mx = -1e300, sum = 0, dot = 0;
      for (int64_t e = 0; e < E; e++) mx = std::max(mx, (double)x[r * E + e]);
      for (int64_t e = 0; e < E; e++) sum += std::exp(x[r * E + e] - mx);
      for (int64_t e = 0; e < E; e++) y[r * E + e] = std::exp(x[r * E + e] - mx) / sum;
      for (int64_t e = 0; e < E; e++) dot += y[r * E + e] * dy[r * E + e];
      for (int64_t e = 0; e < E; e++) dx[r * E + e] = y[r * E + e] * (dy[r * E + e] - dot);
    }
    expect_close("softmax", get(Y, R * E), y, 1e-6);
    expect_close("softmax_backward", get(DX, R * E), dx, 1e-5);
  }
}

TEST(topk_fwd_bwd) {
  const int R = 33, E = 17, k = 2;
  Vec x = rnd(R * E);
  for (int r = 0; r < R; r += 3) x[r * E + 5] = x[r * E + 9] = 5.0f;  // ties: the lower index first
  auto X = with({R, E}, x), V = tensor({R, k}), I = tensor({R, k}, PM_I32);
  pm::check(pm_topk(S(), X.get(), k, V.get(), I.get()));
  Vec v = get(V, R * k);
  auto idx = get_i32(I, R * k);
  bool ok = true;
  for (int r = 0; r < R; r++) {
    std::vector<int> order(E);
    for (int e = 0; e < E; e++) order[e] = e;
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return x[r * E + a] > x[r * E + b]; });
    for (int j = 0; j < k; j++) ok &= idx[r * k + j] == order[j] && v[r * k + j] == x[r * E + order[j]];
  }
  CHECK(ok, "top-k matches a stable descending sort");
  Vec dv = rnd(R * k), dx0 = rnd(R * E);
  auto DV = with({R, k}, dv), DX = with({R, E}, dx0);
  pm::check(pm_topk_backward(S(), DV.get(), I.get(), DX.get()));
  std::vector<double> ref(dx0.begin(), dx0.end());
  for (int r = 0; r < R; r++)
    for (int j = 0; j < k; j++) ref[r * E + idx[r * k + j]] += dv[r * k + j];
  expect_close("topk_backward", get(DX, R * E), ref, 1e-7);
}

TEST(row_movers) {
  const int N = 17, M = 33, R = 5, K = 3;
  Vec src = rnd(N * M), w = rnd(R * K), dst0 = rnd(R * M);
  std::vector<int32_t> index(R * K);
  std::uniform_int_distribution<int> pick(-1, N - 1);  // -1: skipped
  for (auto& i : index) i = pick(env().rng);
  auto SRC = with({N, M}, src), W = with({R, K}, w), I = with_i32({R, K}, index);
  for (bool weighted : {false, true}) {
    auto D = with({R, M}, dst0);
    pm::check(pm_gather_rows(S(), SRC.get(), I.get(), weighted ? W.get() : 0, 0.5f, D.get()));
    std::vector<double> ref(R * M);
    for (int r = 0; r < R; r++)
      for (int c = 0; c < M; c++) {
        double acc = 0.5 * dst0[r * M + c];
        for (int j = 0; j < K; j++)
          if (index[r * K + j] >= 0) acc += (weighted ? w[r * K + j] : 1.0) * src[index[r * K + j] * M + c];
        ref[r * M + c] = acc;
      }
    expect_close(weighted ? "gather_rows weighted" : "gather_rows", get(D, R * M), ref, 1e-6);
  }
  Vec rows = rnd(R * M), acc0 = rnd(N * M);
  auto ROWS = with({R, M}, rows), ACC = with({N, M}, acc0);
  pm::check(pm_scatter_add_rows(S(), ROWS.get(), I.get(), W.get(), ACC.get()));
  std::vector<double> ref(acc0.begin(), acc0.end());
  for (int r = 0; r < R; r++)
    for (int j = 0; j < K; j++)
      if (index[r * K + j] >= 0)
        for (int c = 0; c < M; c++) ref[index[r * K + j] * M + c] += (double)w[r * K + j] * rows[r * M + c];
  expect_close("scatter_add_rows", get(ACC, N * M), ref, 1e-6);
  auto OUT = tensor({R, K});
  pm::check(pm_gather_dot(S(), ROWS.get(), SRC.get(), I.get(), OUT.get()));
  std::vector<double> dots(R * K, 0.0);
  for (int r = 0; r < R; r++)
    for (int j = 0; j < K; j++)
      if (index[r * K + j] >= 0)
        for (int c = 0; c < M; c++) dots[r * K + j] += (double)rows[r * M + c] * src[index[r * K + j] * M + c];
  expect_close("gather_dot", get(OUT, R * K), dots, 1e-6);
}

TEST(moe_route_first_come) {
  const int S_ = 17, k = 2, E = 4, C = 5;
  std::vector<int32_t> choice(S_ * k), rows = {2, 0, 3, 1};
  std::uniform_int_distribution<int> pick(0, E - 1);
  for (int s = 0; s < S_; s++) {
    choice[s * k] = pick(env().rng);
    do choice[s * k + 1] = pick(env().rng); while (choice[s * k + 1] == choice[s * k]);
  }
  auto I = with_i32({S_, k}, choice), ER = with_i32({E}, rows);
  auto SL = tensor({S_, k}, PM_I32), ST = tensor({E * C}, PM_I32), DR = tensor({1}, PM_I32);
  pm::check(pm_moe_route(S(), I.get(), ER.get(), C, SL.get(), ST.get(), DR.get()));
  std::vector<int32_t> slots(S_ * k), token(E * C, -1), fill(E, 0);
  int dropped = 0;
  for (int j = 0; j < k; j++)
    for (int s = 0; s < S_; s++) {
      int e = choice[s * k + j];
      if (fill[e] < C) {
        slots[s * k + j] = rows[e] * C + fill[e]++;
        token[slots[s * k + j]] = s;
      } else {
        slots[s * k + j] = -1;
        dropped++;
      }
    }
  CHECK(get_i32(SL, S_ * k) == slots, "slots follow first-come order, choice 0 first");
  CHECK(get_i32(ST, E * C) == token, "slot_token inverts slots");
  CHECK(get_i32(DR, 1)[0] == dropped && dropped > 0, "dropped %d (expected %d > 0)", get_i32(DR, 1)[0], dropped);
}

TEST(moe_gate_weights_fwd_bwd) {
  const int S_ = 33;
  for (int k : {1, 2}) {
    Vec v = rnd(S_ * k, 0.01f, 1.0f), dw = rnd(S_ * k);
    std::vector<int32_t> slots(S_ * k);
    for (int i = 0; i < S_ * k; i++) slots[i] = (i % 5 == 3) ? -1 : i;
    auto V = with({S_, k}, v), SL = with_i32({S_, k}, slots), W = tensor({S_, k});
    auto DW = with({S_, k}, dw), DV = tensor({S_, k});
    pm::check(pm_moe_gate_weights(S(), V.get(), SL.get(), W.get()));
    pm::check(pm_moe_gate_weights_backward(S(), V.get(), SL.get(), DW.get(), DV.get()));
    std::vector<double> w(S_ * k), dv(S_ * k);
    for (int s = 0; s < S_; s++) {
      double sum = 0;
      for (int j = 0; j < k; j++) sum += slots[s * k + j] >= 0 ? v[s * k + j] : 0.0;
      double D = k == 2 ? std::max(sum, (double)FLT_EPSILON) : 1.0, dot = 0;
      for (int j = 0; j < k; j++) w[s * k + j] = slots[s * k + j] >= 0 ? v[s * k + j] / D : 0.0;
      for (int j = 0; j < k; j++) dot += k == 2 ? dw[s * k + j] * w[s * k + j] : 0.0;
      for (int j = 0; j < k; j++) dv[s * k + j] = slots[s * k + j] >= 0 ? (dw[s * k + j] - dot) / D : 0.0;
    }
    expect_close(test::fmt("gate weights k=%d", k), get(W, S_ * k), w, 1e-6);
    expect_close(test::fmt("gate weights backward k=%d", k), get(DV, S_ * k), dv, 1e-5);
  }
}

TEST(losses_and_adam) {
  const int S_ = 33, E = 17;
  Vec probs = rnd(S_ * E, 0, 1), d0 = rnd(S_ * E);
  std::vector<int32_t> idx(S_ * 2);
  for (int i = 0; i < S_ * 2; i++) idx[i] = (i * 7) % E;
  auto P = with({S_, E}, probs), I = with_i32({S_, 2}, idx), L = tensor({1}), DP = with({S_, E}, d0);
  pm::check(pm_moe_aux_loss(S(), P.get(), I.get(), 0.01f, L.get(), DP.get()));
  std::vector<double> frac(E, 0), mean(E, 0);
  for (int s = 0; s < S_; s++) {
    frac[idx[s * 2]] += 1.0 / S_;
    for (int e = 0; e < E; e++) mean[e] += probs[s * E + e] / S_;
  }
  double l = 0;
  for (int e = 0; e < E; e++) l += mean[e] * frac[e];
  std::vector<double> dref(S_ * E);
  for (int s = 0; s < S_; s++)
    for (int e = 0; e < E; e++) dref[s * E + e] = d0[s * E + e] + 0.01 * E * frac[e] / S_;
  expect_close("aux loss", get(L, 1), {0.01 * E * l}, 1e-6);
  expect_close("aux loss grad", get(DP, S_ * E), dref, 1e-7);

  Vec y = rnd(33 * 65), t = rnd(33 * 65);
  auto Y = with({33, 65}, y), T = with({33, 65}, t), ML = tensor({1}), DY = tensor({33, 65});
  pm::check(pm_mse_loss(S(), Y.get(), T.get(), 2.0f, ML.get(), DY.get()));
  double sum = 0;
  std::vector<double> dy(y.size());
  for (size_t i = 0; i < y.size(); i++) {
    sum += (double)(y[i] - t[i]) * (y[i] - t[i]);
    dy[i] = 2.0 * 2 * ((double)y[i] - t[i]) / y.size();
  }
  expect_close("mse", get(ML, 1), {sum / y.size()}, 1e-6);
  expect_close("mse grad", get(DY, y.size()), dy, 1e-6);

  Vec p = rnd(17 * 3), g = rnd(17 * 3), m = rnd(17 * 3), v = rnd(17 * 3, 0, 1);
  auto PP = with({17, 3}, p), G = with({17, 3}, g), M = with({17, 3}, m), V = with({17, 3}, v);
  const int step = 3;
  pm::check(pm_adam(S(), PP.get(), G.get(), M.get(), V.get(), 1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f, step));
  std::vector<double> pr(p.size());
  for (size_t i = 0; i < p.size(); i++) {
    double mi = 0.9 * m[i] + 0.1 * g[i], vi = 0.999 * v[i] + 0.001 * (double)g[i] * g[i];
    double mh = mi / (1 - std::pow(0.9, step)), vh = vi / (1 - std::pow(0.999, step));
    pr[i] = p[i] - 1e-2 * (mh / (std::sqrt(vh) + 1e-8) + 0.1 * p[i]);
  }
  expect_close("adam", get(PP, p.size()), pr, 1e-6);
}

// The transformer's row ops: a case worked by hand, then random inputs against double references.

TEST(rms_norm_fwd_bwd) {
  {  // x = [3, 4]: mean square 12.5, rstd = 1/sqrt(12.5 + 0.5) = 1/sqrt(13); gamma [1, 2]
    auto X = with({1, 2}, {3, 4}), G = with({2}, {1, 2}), Y = tensor({1, 2}), RS = tensor({1});
    pm::check(pm_rms_norm(S(), X.get(), G.get(), 0.5f, Y.get(), RS.get()));
    double r = 1 / std::sqrt(13.0);
    expect_close("rms_norm by hand", get(Y, 2), {3 * r, 8 * r}, 1e-7);
    expect_close("rstd by hand", get(RS, 1), {r}, 1e-7);
  }
  const int R = 33, M = 65, LD = 80;
  const float eps = 1e-5f;
  Vec x = rnd(R * M), g = rnd(M, 0.5f, 1.5f), dy = rnd(R * M), dg0 = rnd(M);
  auto XB = tensor({R, LD}), YB = tensor({R, LD});  // rows strided: a slice of wider rows
  auto X = pm::make_view(XB.get(), 3, {R, M}, {LD, 1}), Y = pm::make_view(YB.get(), 5, {R, M}, {LD, 1});
  put(X, x);
  auto G = with({M}, g), RS = tensor({R}), DY = with({R, M}, dy), DG = with({M}, dg0);
  pm::check(pm_rms_norm(S(), X.get(), G.get(), eps, Y.get(), RS.get()));
  pm::check(pm_rms_norm_backward(S(), X.get(), G.get(), RS.get(), DY.get(), DY.get(), DG.get()));  // dx = dy in place
  std::vector<double> y(R * M), rs(R), dx(R * M), dg(dg0.begin(), dg0.end());
  for (int r = 0; r < R; r++) {
    double ss = 0, dot = 0;
    for (int m = 0; m < M; m++) ss += (double)x[r * M + m] * x[r * M + m];
    rs[r] = 1 / std::sqrt(ss / M + eps);
    for (int m = 0; m < M; m++) {
      y[r * M + m] = x[r * M + m] * rs[r] * g[m];
      dot += (double)g[m] * dy[r * M + m] * x[r * M + m];
      dg[m] += (double)dy[r * M + m] * x[r * M + m] * rs[r];
    }
    for (int m = 0; m < M; m++)
      dx[r * M + m] = rs[r] * (g[m] * dy[r * M + m] - x[r * M + m] * rs[r] * rs[r] * dot / M);
  }
  expect_close("rms_norm", get(Y, R * M), y, 1e-6);
  expect_close("rms_norm rstd", get(RS, R), rs, 1e-6);
  expect_close("rms_norm_backward dx", get(DY, R * M), dx, 1e-5);
  expect_close("rms_norm_backward dgamma accumulates", get(DG, M), dg, 1e-6);
}

// The causal softmax of one row of scale*x in double: columns j <= i + offset, zeros beyond.
std::vector<double> causal_ref(const Vec& x, int64_t Q, int64_t K, double scale, int offset) {
  std::vector<double> y(x.size(), 0.0);
  for (size_t base = 0; base < x.size(); base += K) {
    int64_t i = (int64_t)(base / K) % Q, n = std::min<int64_t>(K, std::max<int64_t>(0, i + offset + 1));
    double mx = -1e300, sum = 0;
    for (int64_t j = 0; j < n; j++) mx = std::max(mx, scale * x[base + j]);
    for (int64_t j = 0; j < n; j++) sum += std::exp(scale * x[base + j] - mx);
    for (int64_t j = 0; j < n; j++) y[base + j] = std::exp(scale * x[base + j] - mx) / sum;
  }
  return y;
}

TEST(causal_softmax_fwd_bwd) {
  {  // zeros [1,2,3]: offset 0 sees 1 then 2 columns; offset -1 hides row 0 and sees 1 column in row 1
    auto X = tensor({1, 2, 3}), Y = tensor({1, 2, 3});
    pm::check(pm_causal_softmax(S(), X.get(), 1.0f, 0, Y.get()));
    expect_close("causal_softmax by hand", get(Y, 6), {1, 0, 0, 0.5, 0.5, 0}, 1e-7);
    pm::check(pm_causal_softmax(S(), X.get(), 1.0f, -1, Y.get()));
    expect_close("causal_softmax offset -1 by hand", get(Y, 6), {0, 0, 0, 1, 0, 0}, 1e-7);
  }
  // [B,Q,K] as a strided view of a [Q,B,K+2] buffer (heads interleaved with padded rows)
  const int B = 3, Q = 5, K = 7, LD = K + 2;
  const float scale = 0.5f;
  for (int offset : {0, 2, -2, -5, 9}) {
    Vec x = rnd(B * Q * K, -6, 6), dy = rnd(B * Q * K);
    auto XB = tensor({Q, B, LD}), YB = tensor({Q, B, LD});
    auto X = pm::make_view(XB.get(), 1, {B, Q, K}, {LD, B * LD, 1});
    auto Y = pm::make_view(YB.get(), 1, {B, Q, K}, {LD, B * LD, 1});
    put(X, x);
    auto DY = with({B, Q, K}, dy), DX = tensor({B, Q, K});
    pm::check(pm_causal_softmax(S(), X.get(), scale, offset, Y.get()));
    pm::check(pm_causal_softmax_backward(S(), Y.get(), DY.get(), scale, DX.get()));
    std::vector<double> y = causal_ref(x, Q, K, scale, offset), dx(x.size());
    for (size_t base = 0; base < x.size(); base += K) {
      double dot = 0;
      for (int j = 0; j < K; j++) dot += y[base + j] * dy[base + j];
      for (int j = 0; j < K; j++) dx[base + j] = scale * y[base + j] * (dy[base + j] - dot);
    }
    Vec got = get(Y, B * Q * K);
    expect_close(test::fmt("causal_softmax offset %d", offset), got, y, 1e-6);
    bool zeros = true;  // masked entries are exactly 0, not tiny
    for (size_t e = 0; e < x.size(); e++) zeros &= y[e] != 0 || got[e] == 0.0f;
    CHECK(zeros, "offset %d: masked entries are 0", offset);
    expect_close(test::fmt("causal_softmax_backward offset %d", offset), get(DX, B * Q * K), dx, 1e-5);
  }
  auto X = with({1, 1, 2}, {0, 0});  // in place
  pm::check(pm_causal_softmax(S(), X.get(), 1.0f, 1, X.get()));
  expect_close("causal_softmax in place", get(X, 2), {0.5, 0.5}, 1e-7);
}

TEST(log_sum_exp_any_strides) {
  {  // rows [0, 0], [0, log 3], [1000, 1000] (max-subtracted, so no overflow), [-inf, -inf]
    float inf = INFINITY;
    auto X = with({4, 2}, {0, 0, 0, std::log(3.0f), 1000, 1000, -inf, -inf}), L = tensor({4});
    pm::check(pm_log_sum_exp(S(), X.get(), L.get()));
    Vec l = get(L, 4);
    expect_close("log_sum_exp by hand", Vec(l.begin(), l.begin() + 3), {std::log(2.0), std::log(4.0), 1000 + std::log(2.0)},
                 1e-7);
    CHECK(std::isinf(l[3]) && l[3] < 0, "a row of -inf gives -inf, got %g", l[3]);
  }
  // the transposed [R, TP] view of TP gathered shards' [TP, R] values
  const int R = 17, TP = 4;
  Vec shards = rnd(TP * R, -30, 30);
  auto G = with({TP, R}, shards), L = tensor({R});
  auto T = pm::make_view(G.get(), 0, {R, TP}, {1, R});
  pm::check(pm_log_sum_exp(S(), T.get(), L.get()));
  std::vector<double> ref(R);
  for (int r = 0; r < R; r++) {
    double mx = -1e300, sum = 0;
    for (int t = 0; t < TP; t++) mx = std::max(mx, (double)shards[t * R + r]);
    for (int t = 0; t < TP; t++) sum += std::exp(shards[t * R + r] - mx);
    ref[r] = mx + std::log(sum);
  }
  expect_close("log_sum_exp transposed", get(L, R), ref, 1e-6);
}

TEST(vocab_parallel_cross_entropy_pieces) {
  // a shard of V = 4 columns starting at token 4; targets 3 and 8 are in other shards
  const int R = 5, V = 4, first = 4;
  Vec x = rnd(R * V, -3, 3);
  std::vector<int32_t> targets = {4, 7, 3, 8, 5};
  auto X = with({R, V}, x), T = with_i32({R}, targets), O = tensor({R});
  pm::check(pm_pick_targets(S(), X.get(), T.get(), first, O.get()));
  expect_close("pick_targets", get(O, R), {x[0], x[1 * V + 3], 0, 0, x[4 * V + 1]}, 0);
  Vec lse = rnd(R, 2, 4);  // the log-sum-exp over the whole vocabulary, as the shards' all-gather gives it
  auto L = with({R}, lse), DX = tensor({R, V});
  const float scale = 0.125f;
  pm::check(pm_cross_entropy_backward(S(), X.get(), L.get(), T.get(), first, scale, DX.get()));
  std::vector<double> dx(R * V);
  for (int r = 0; r < R; r++)
    for (int j = 0; j < V; j++)
      dx[r * V + j] = scale * (std::exp((double)x[r * V + j] - lse[r]) - (targets[r] == first + j ? 1 : 0));
  expect_close("cross_entropy_backward", get(DX, R * V), dx, 1e-6);
  pm::check(pm_cross_entropy_backward(S(), X.get(), L.get(), T.get(), first, scale, X.get()));  // in place
  expect_close("cross_entropy_backward in place", get(X, R * V), dx, 1e-6);
}

// ---- 3. perf mode ---------------------------------------------------------------------------------

void perf() {
  for (int n : {256, 512, 1024}) {
    auto A = tensor({n, n}), B = tensor({n, n}), C = tensor({n, n});
    pm::check(pm_random(S(), A.get(), 1, PM_UNIFORM, -1, 1));
    pm::check(pm_random(S(), B.get(), 2, PM_UNIFORM, -1, 1));
    pm::check(pm_device_synchronize(env().dev.get()));
    int reps = 5;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; i++) pm::check(pm_gemm(S(), 0, 0, 1, A.get(), B.get(), 0, C.get()));
    pm::check(pm_device_synchronize(env().dev.get()));
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("gemm %4d^3: %.1f GFLOP/s\n", n, 2.0 * n * n * n * reps / s * 1e-9);
  }
  auto x = tensor({1});
  const int n = 100000;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; i++) pm::check(pm_scale(S(), 1.0f, x.get()));
  pm::check(pm_device_synchronize(env().dev.get()));
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("scale [1] enqueue+run: %.0f ns/op\n", s / n * 1e9);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--perf") == 0) {
    perf();
    return 0;
  }
  return test::main(argc, argv);
}
