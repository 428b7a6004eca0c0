// CPU kernels. Operands were validated when the op was enqueued (dtypes, ranks, shapes); what
// only the data can tell (an index out of range) is checked here and fails the op with an Error.
// All compute is fp32; sums that feed a single number (loss, softmax denominator) use double.
#pragma once

#include <cstdint>

#include "tensor.hpp"

namespace pm::kernels {

// Row r of a rank-2 operand with unit inner stride (the row and MoE kernels' operands).
template <class T>
T* row(const View& v, int64_t r) {
  return v.as<T>() + r * v.strides[0];
}

void fill(const View& t, float value);
// Element i (row-major) of t: w(c) = the c-th output (from 0) of SplitMix64 seeded with seed.
//   UNIFORM: u = (w(2i) >> 40) * 2^-24, value = (float)(a + (b - a) * u) in double, clamped < b.
//   NORMAL:  u1 = ((w(2i) >> 11) + 1) * 2^-53, u2 = (w(2i+1) >> 11) * 2^-53,
//            value = (float)(a + b * sqrt(-2 ln u1) * cos(2 pi u2)) in double (Box-Muller).
void random(const View& t, uint64_t seed, int32_t dist, float a, float b);
uint64_t splitmix64_output(uint64_t seed, uint64_t c);

void gemm(bool trans_a, bool trans_b, float alpha, const View& a, const View& b, float beta, const View& c);

void add(const View& x, const View& y, const View& out);
void axpy(float alpha, const View& x, const View& y);
void scale(float alpha, const View& x);
void gelu(const View& x, const View& y);
void gelu_backward(const View& x, const View& dy, const View& dx);
void swiglu(const View& a, const View& b, const View& y);
void swiglu_backward(const View& a, const View& b, const View& dy, const View& da, const View& db);
void mse_loss(const View& y, const View& target, float grad_scale, const View& loss, const View& dy);
// m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; mh = m / (1-b1^t); vh = v / (1-b2^t);
// p -= lr * (mh / (sqrt(vh) + eps) + wd * p)
void adam(const View& p, const View& g, const View& m, const View& v, float lr, float beta1,
          float beta2, float eps, float weight_decay, int32_t step);

void softmax(const View& x, const View& y);
void softmax_backward(const View& y, const View& dy, const View& dx);
void topk(const View& x, int32_t k, const View& values, const View& indices);
void topk_backward(const View& dvalues, const View& indices, const View& dx);
void gather_rows(const View& src, const View& index, const View* weights, float beta, const View& dst);
void scatter_add_rows(const View& src, const View& index, const View* weights, const View& dst);
void gather_dot(const View& a, const View& src, const View& index, const View& out);

void moe_route(const View& indices, const View& expert_row, int32_t capacity, const View& slots,
               const View& slot_token, const View& dropped);
void moe_gate_weights(const View& values, const View& slots, const View& weights);
void moe_gate_weights_backward(const View& values, const View& slots, const View& dweights,
                               const View& dvalues);
void moe_aux_loss(const View& probs, const View& indices, float coeff, const View& loss, const View& dprobs);

// The transformer's row ops (kernels_transformer.cpp); semantics in pipemoe.h.
void rms_norm(const View& x, const View& gamma, float eps, const View& y, const View& rstd);
void rms_norm_backward(const View& x, const View& gamma, const View& rstd, const View& dy, const View& dx,
                       const View& dgamma);
void causal_softmax(const View& x, float scale, int32_t offset, const View& y);
void causal_softmax_backward(const View& y, const View& dy, float scale, const View& dx);
void log_sum_exp(const View& x, const View& lse);  // x: any strides
void pick_targets(const View& x, const View& targets, int32_t first, const View& out);
void cross_entropy_backward(const View& x, const View& lse, const View& targets, int32_t first, float scale,
                            const View& dx);

}  // namespace pm::kernels
