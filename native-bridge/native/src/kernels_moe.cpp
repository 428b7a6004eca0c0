// MoE routing kernels: capacity assignment, combine weights and the load-balancing loss.
#include <cfloat>
#include <vector>

#include "kernels.hpp"

namespace pm::kernels {

void moe_route(const View& indices, const View& expert_row, int32_t capacity, const View& slots,
               const View& slot_token, const View& dropped) {
  const int64_t S = indices.shape[0], K = indices.shape[1], E = expert_row.shape[0];
  const int32_t* er = expert_row.as<int32_t>();
  for (int64_t e = 0; e < E; e++)
    if (er[e] < 0 || er[e] >= E)
      fail(PM_ERR_ARG, strf("expert_row[%lld] = %d is outside 0..%lld", (long long)e, er[e], (long long)E - 1));
  int32_t* st = slot_token.as<int32_t>();
  for (int64_t i = 0; i < E * (int64_t)capacity; i++) st[i] = -1;
  std::vector<int64_t> fill(E, 0);
  int32_t n_dropped = 0;
  for (int64_t j = 0; j < K; j++)  // choice 0 of every token queues before any choice 1
    for (int64_t s = 0; s < S; s++) {
      int32_t e = row<int32_t>(indices, s)[j];
      if (e < 0 || e >= E)
        fail(PM_ERR_ARG, strf("indices[%lld,%lld] = %d is outside 0..%lld", (long long)s, (long long)j, e,
                              (long long)E - 1));
      int32_t& slot = row<int32_t>(slots, s)[j];
      if (fill[e] < capacity) {
        slot = (int32_t)(er[e] * (int64_t)capacity + fill[e]++);
        st[slot] = (int32_t)s;
      } else {
        slot = -1;
        n_dropped++;
      }
    }
  dropped.as<int32_t>()[0] = n_dropped;
}

void moe_gate_weights(const View& values, const View& slots, const View& weights) {
  const int64_t S = values.shape[0], K = values.shape[1];
  for (int64_t s = 0; s < S; s++) {
    const float* v = row<float>(values, s);
    const int32_t* sl = row<int32_t>(slots, s);
    float* w = row<float>(weights, s);
    float sum = 0.0f;
    for (int64_t j = 0; j < K; j++) sum += sl[j] >= 0 ? v[j] : 0.0f;
    float denom = K == 2 ? std::max(sum, FLT_EPSILON) : 1.0f;
    for (int64_t j = 0; j < K; j++) w[j] = sl[j] >= 0 ? v[j] / denom : 0.0f;
  }
}

void moe_gate_weights_backward(const View& values, const View& slots, const View& dweights,
                               const View& dvalues) {
  const int64_t S = values.shape[0], K = values.shape[1];
  for (int64_t s = 0; s < S; s++) {
    const float *v = row<float>(values, s), *dw = row<float>(dweights, s);
    const int32_t* sl = row<int32_t>(slots, s);
    float* dv = row<float>(dvalues, s);
    float sum = 0.0f;
    for (int64_t j = 0; j < K; j++) sum += sl[j] >= 0 ? v[j] : 0.0f;
    if (K == 2 && sum > FLT_EPSILON) {
      // w_j = v_j / D with D = sum of kept v: dv_i = (dw_i - sum_j dw_j w_j) / D for kept i
      float dot = 0.0f;
      for (int64_t j = 0; j < K; j++) dot += sl[j] >= 0 ? dw[j] * v[j] / sum : 0.0f;
      for (int64_t j = 0; j < K; j++) dv[j] = sl[j] >= 0 ? (dw[j] - dot) / sum : 0.0f;
    } else {  // k == 1, or the clamped denominator is a constant
      float denom = K == 2 ? FLT_EPSILON : 1.0f;
      for (int64_t j = 0; j < K; j++) dv[j] = sl[j] >= 0 ? dw[j] / denom : 0.0f;
    }
  }
}

void moe_aux_loss(const View& probs, const View& indices, float coeff, const View& loss, const View& dprobs) {
  const int64_t S = probs.shape[0], E = probs.shape[1];
  std::vector<double> frac(E, 0.0), mean(E, 0.0);
  for (int64_t s = 0; s < S; s++) {
    int32_t e = row<int32_t>(indices, s)[0];
    if (e < 0 || e >= E)
      fail(PM_ERR_ARG, strf("indices[%lld,0] = %d is outside 0..%lld", (long long)s, e, (long long)E - 1));
    frac[e] += 1.0;
    const float* p = row<float>(probs, s);
    for (int64_t c = 0; c < E; c++) mean[c] += p[c];
  }
  double l = 0;
  for (int64_t e = 0; e < E && S > 0; e++) {
    frac[e] /= (double)S;
    l += mean[e] / (double)S * frac[e];
  }
  loss.as<float>()[0] = (float)(coeff * (double)E * l);
  for (int64_t s = 0; s < S; s++) {
    float* d = row<float>(dprobs, s);
    for (int64_t e = 0; e < E; e++) d[e] += (float)(coeff * (double)E * frac[e] / (double)S);
  }
}

}  // namespace pm::kernels
