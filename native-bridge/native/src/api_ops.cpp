// The C ABI for compute ops: check every operand now, run the kernel later on the stream.
#include <cmath>

#include "kernels.hpp"
#include "ops_common.hpp"

using namespace pm;

namespace {

void need_finite(float v, const char* what) {
  if (!std::isfinite(v)) fail(PM_ERR_ARG, strf("%s is %g but must be finite", what, (double)v));
}

// GEMM operand (rank 2 or 3): rows must not overlap, since BLAS needs ld >= cols.
void need_matrix(const TensorRef& t, const char* what) {
  int r = t->ndim();
  const int64_t* sh = t->shape();
  if (sh[r - 2] > INT_MAX || sh[r - 1] > INT_MAX)
    fail(PM_ERR_ARG, strf("%s is %s: matrix dimensions must fit in 32 bits", what, shape_str(*t).c_str()));
  if (sh[r - 2] > 1 && t->view.strides[r - 2] < sh[r - 1])
    fail(PM_ERR_ARG, strf("%s has row stride %lld < %lld columns: rows must not overlap", what,
                          (long long)t->view.strides[r - 2], (long long)sh[r - 1]));
}

std::string mat_str(int64_t r, int64_t c) { return strf("[%lld,%lld]", (long long)r, (long long)c); }

}  // namespace

extern "C" {

pm_status pm_fill(pm_stream_t s, pm_tensor_t t, float value) {
  static const char* fn = "pm_fill";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto T = operand(*st, t, "t");
    enqueue(*st, PM_OP_FILL, fn, [T, value](OpResult&) { kernels::fill(T->view, value); });
  });
}

pm_status pm_random(pm_stream_t s, pm_tensor_t t, uint64_t seed, int32_t dist, float a, float b) {
  static const char* fn = "pm_random";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto T = operand(*st, t, "t");
    if (T->dtype() == PM_I32) fail(PM_ERR_ARG, strf("t is I32 %s but must be F32 or BF16", shape_str(*T).c_str()));
    need_finite(a, "a");
    need_finite(b, "b");
    if (dist == PM_UNIFORM && !(a <= b)) fail(PM_ERR_ARG, strf("UNIFORM needs a <= b, got [%g, %g)", a, b));
    else if (dist == PM_NORMAL && !(b >= 0)) fail(PM_ERR_ARG, strf("NORMAL needs std b >= 0, got %g", b));
    else if (dist != PM_UNIFORM && dist != PM_NORMAL)
      fail(PM_ERR_ARG, strf("dist is %d but must be PM_UNIFORM or PM_NORMAL", dist));
    enqueue(*st, PM_OP_RANDOM, fn, [=](OpResult&) { kernels::random(T->view, seed, dist, a, b); });
  });
}

pm_status pm_copy(pm_stream_t s, pm_tensor_t src, pm_tensor_t dst) {
  static const char* fn = "pm_copy";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto S = operand(*st, src, "src"), D = operand(*st, dst, "dst");
    need_same_shape(S, "src", D, "dst");
    bool floats = S->dtype() != PM_I32 && D->dtype() != PM_I32;
    if (S->dtype() != D->dtype() && !floats)
      fail(PM_ERR_ARG, strf("src is %s but dst is %s: only F32 <-> BF16 casts exist", dtype_name(S->dtype()),
                            dtype_name(D->dtype())));
    enqueue(*st, PM_OP_COPY, fn, [S, D](OpResult&) { copy_cast(S->view, D->view); });
  });
}

pm_status pm_gemm(pm_stream_t s, int32_t trans_a, int32_t trans_b, float alpha, pm_tensor_t a,
                  pm_tensor_t b, float beta, pm_tensor_t c) {
  static const char* fn = "pm_gemm";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto A = f32_operand(*st, a, "a"), B = f32_operand(*st, b, "b"), C = f32_operand(*st, c, "c");
    int r = C->ndim();
    if (r != 2 && r != 3) fail(PM_ERR_ARG, strf("c is %s but must be rank 2 or 3", shape_str(*C).c_str()));
    need_rank(A, "a", r);
    need_rank(B, "b", r);
    if (r == 3) {
      need_dim(A, "a", 0, C->shape()[0], "c's batch count");
      need_dim(B, "b", 0, C->shape()[0], "c's batch count");
      if (C->shape()[0] > 1 && C->view.strides[0] == 0)
        fail(PM_ERR_ARG, "c has batch stride 0: batches would overwrite each other");
    }
    need_matrix(A, "a");
    need_matrix(B, "b");
    need_matrix(C, "c");
    const int64_t *sa = A->shape() + r - 2, *sb = B->shape() + r - 2, *sc = C->shape() + r - 2;
    int64_t m = trans_a ? sa[1] : sa[0], ka = trans_a ? sa[0] : sa[1];
    int64_t kb = trans_b ? sb[1] : sb[0], n = trans_b ? sb[0] : sb[1];
    if (ka != kb)
      fail(PM_ERR_ARG, strf("op(a) is %s but op(b) is %s: inner dimensions differ", mat_str(m, ka).c_str(),
                            mat_str(kb, n).c_str()));
    if (sc[0] != m || sc[1] != n)
      fail(PM_ERR_ARG, strf("op(a) op(b) is %s but c is %s", mat_str(m, n).c_str(), mat_str(sc[0], sc[1]).c_str()));
    bool ta = trans_a != 0, tb = trans_b != 0;
    enqueue(*st, PM_OP_GEMM, fn, [=](OpResult&) { kernels::gemm(ta, tb, alpha, A->view, B->view, beta, C->view); });
  });
}

pm_status pm_add(pm_stream_t s, pm_tensor_t x, pm_tensor_t y, pm_tensor_t out) {
  static const char* fn = "pm_add";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto X = f32_operand(*st, x, "x"), Y = f32_operand(*st, y, "y"), O = f32_operand(*st, out, "out");
    need_same_shape(X, "x", Y, "y");
    need_same_shape(X, "x", O, "out");
    enqueue(*st, PM_OP_ADD, fn, [=](OpResult&) { kernels::add(X->view, Y->view, O->view); });
  });
}

pm_status pm_axpy(pm_stream_t s, float alpha, pm_tensor_t x, pm_tensor_t y) {
  static const char* fn = "pm_axpy";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto X = f32_operand(*st, x, "x"), Y = f32_operand(*st, y, "y");
    need_same_shape(X, "x", Y, "y");
    enqueue(*st, PM_OP_AXPY, fn, [=](OpResult&) { kernels::axpy(alpha, X->view, Y->view); });
  });
}

pm_status pm_scale(pm_stream_t s, float alpha, pm_tensor_t x) {
  static const char* fn = "pm_scale";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto X = f32_operand(*st, x, "x");
    enqueue(*st, PM_OP_SCALE, fn, [=](OpResult&) { kernels::scale(alpha, X->view); });
  });
}

pm_status pm_gelu(pm_stream_t s, pm_tensor_t x, pm_tensor_t y) {
  static const char* fn = "pm_gelu";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto X = f32_operand(*st, x, "x"), Y = f32_operand(*st, y, "y");
    need_same_shape(X, "x", Y, "y");
    enqueue(*st, PM_OP_GELU, fn, [=](OpResult&) { kernels::gelu(X->view, Y->view); });
  });
}

pm_status pm_gelu_backward(pm_stream_t s, pm_tensor_t x, pm_tensor_t dy, pm_tensor_t dx) {
  static const char* fn = "pm_gelu_backward";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto X = f32_operand(*st, x, "x"), DY = f32_operand(*st, dy, "dy"), DX = f32_operand(*st, dx, "dx");
    need_same_shape(X, "x", DY, "dy");
    need_same_shape(X, "x", DX, "dx");
    enqueue(*st, PM_OP_GELU_BWD, fn, [=](OpResult&) { kernels::gelu_backward(X->view, DY->view, DX->view); });
  });
}

pm_status pm_swiglu(pm_stream_t s, pm_tensor_t a, pm_tensor_t b, pm_tensor_t y) {
  static const char* fn = "pm_swiglu";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto A = f32_operand(*st, a, "a"), B = f32_operand(*st, b, "b"), Y = f32_operand(*st, y, "y");
    need_same_shape(A, "a", B, "b");
    need_same_shape(A, "a", Y, "y");
    enqueue(*st, PM_OP_SWIGLU, fn, [=](OpResult&) { kernels::swiglu(A->view, B->view, Y->view); });
  });
}

pm_status pm_swiglu_backward(pm_stream_t s, pm_tensor_t a, pm_tensor_t b, pm_tensor_t dy, pm_tensor_t da,
                             pm_tensor_t db) {
  static const char* fn = "pm_swiglu_backward";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto A = f32_operand(*st, a, "a"), B = f32_operand(*st, b, "b"), DY = f32_operand(*st, dy, "dy");
    auto DA = f32_operand(*st, da, "da"), DB = f32_operand(*st, db, "db");
    need_same_shape(A, "a", B, "b");
    need_same_shape(A, "a", DY, "dy");
    need_same_shape(A, "a", DA, "da");
    need_same_shape(A, "a", DB, "db");
    enqueue(*st, PM_OP_SWIGLU_BWD, fn,
            [=](OpResult&) { kernels::swiglu_backward(A->view, B->view, DY->view, DA->view, DB->view); });
  });
}

pm_status pm_softmax(pm_stream_t s, pm_tensor_t x, pm_tensor_t y) {
  static const char* fn = "pm_softmax";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto X = f32_operand(*st, x, "x", 2), Y = f32_operand(*st, y, "y", 2);
    need_same_shape(X, "x", Y, "y");
    enqueue(*st, PM_OP_SOFTMAX, fn, [=](OpResult&) { kernels::softmax(X->view, Y->view); });
  });
}

pm_status pm_softmax_backward(pm_stream_t s, pm_tensor_t y, pm_tensor_t dy, pm_tensor_t dx) {
  static const char* fn = "pm_softmax_backward";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto Y = f32_operand(*st, y, "y", 2), DY = f32_operand(*st, dy, "dy", 2), DX = f32_operand(*st, dx, "dx", 2);
    need_same_shape(Y, "y", DY, "dy");
    need_same_shape(Y, "y", DX, "dx");
    enqueue(*st, PM_OP_SOFTMAX_BWD, fn, [=](OpResult&) { kernels::softmax_backward(Y->view, DY->view, DX->view); });
  });
}

pm_status pm_topk(pm_stream_t s, pm_tensor_t x, int32_t k, pm_tensor_t values, pm_tensor_t indices) {
  static const char* fn = "pm_topk";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto X = f32_operand(*st, x, "x", 2);
    auto V = f32_operand(*st, values, "values", 2);
    auto I = i32_operand(*st, indices, "indices", 2);
    if (k < 1 || k > X->shape()[1])
      fail(PM_ERR_ARG, strf("k is %d but x is %s: k must be in 1..%lld", k, shape_str(*X).c_str(),
                            (long long)X->shape()[1]));
    need_dim(V, "values", 0, X->shape()[0], "x's rows");
    need_dim(V, "values", 1, k, "k");
    need_same_shape(V, "values", I, "indices");
    enqueue(*st, PM_OP_TOPK, fn, [=](OpResult&) { kernels::topk(X->view, k, V->view, I->view); });
  });
}

pm_status pm_topk_backward(pm_stream_t s, pm_tensor_t dvalues, pm_tensor_t indices, pm_tensor_t dx) {
  static const char* fn = "pm_topk_backward";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto DV = f32_operand(*st, dvalues, "dvalues", 2);
    auto I = i32_operand(*st, indices, "indices", 2);
    auto DX = f32_operand(*st, dx, "dx", 2);
    need_same_shape(DV, "dvalues", I, "indices");
    need_dim(DX, "dx", 0, DV->shape()[0], "dvalues' rows");
    enqueue(*st, PM_OP_TOPK_BWD, fn, [=](OpResult&) { kernels::topk_backward(DV->view, I->view, DX->view); });
  });
}

namespace {
// index I32 [R,K] and optional weights F32 [R,K] of the row movers.
void row_index_operands(const Stream& st, pm_tensor_t index, pm_tensor_t weights, int64_t rows,
                        const char* rows_of, TensorRef* I, TensorRef* W) {
  *I = i32_operand(st, index, "index", 2);
  need_dim(*I, "index", 0, rows, rows_of);
  if (weights) {
    *W = f32_operand(st, weights, "weights", 2);
    need_same_shape(*W, "weights", *I, "index");
  }
}
}  // namespace

pm_status pm_gather_rows(pm_stream_t s, pm_tensor_t src, pm_tensor_t index, pm_tensor_t weights, float beta,
                         pm_tensor_t dst) {
  static const char* fn = "pm_gather_rows";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto S = f32_operand(*st, src, "src", 2), D = f32_operand(*st, dst, "dst", 2);
    TensorRef I, W;
    row_index_operands(*st, index, weights, D->shape()[0], "dst's rows", &I, &W);
    need_dim(D, "dst", 1, S->shape()[1], "src's columns");
    enqueue(*st, PM_OP_GATHER_ROWS, fn, [=](OpResult&) {
      kernels::gather_rows(S->view, I->view, W ? &W->view : nullptr, beta, D->view);
    });
  });
}

pm_status pm_scatter_add_rows(pm_stream_t s, pm_tensor_t src, pm_tensor_t index, pm_tensor_t weights,
                              pm_tensor_t dst) {
  static const char* fn = "pm_scatter_add_rows";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto S = f32_operand(*st, src, "src", 2), D = f32_operand(*st, dst, "dst", 2);
    TensorRef I, W;
    row_index_operands(*st, index, weights, S->shape()[0], "src's rows", &I, &W);
    need_dim(D, "dst", 1, S->shape()[1], "src's columns");
    enqueue(*st, PM_OP_SCATTER_ADD_ROWS, fn, [=](OpResult&) {
      kernels::scatter_add_rows(S->view, I->view, W ? &W->view : nullptr, D->view);
    });
  });
}

pm_status pm_gather_dot(pm_stream_t s, pm_tensor_t a, pm_tensor_t src, pm_tensor_t index, pm_tensor_t out) {
  static const char* fn = "pm_gather_dot";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto A = f32_operand(*st, a, "a", 2), S = f32_operand(*st, src, "src", 2), O = f32_operand(*st, out, "out", 2);
    TensorRef I, W;
    row_index_operands(*st, index, 0, A->shape()[0], "a's rows", &I, &W);
    need_dim(S, "src", 1, A->shape()[1], "a's columns");
    need_same_shape(O, "out", I, "index");
    enqueue(*st, PM_OP_GATHER_DOT, fn, [=](OpResult&) { kernels::gather_dot(A->view, S->view, I->view, O->view); });
  });
}

pm_status pm_moe_route(pm_stream_t s, pm_tensor_t indices, pm_tensor_t expert_row, int32_t capacity,
                       pm_tensor_t slots, pm_tensor_t slot_token, pm_tensor_t dropped) {
  static const char* fn = "pm_moe_route";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto I = i32_operand(*st, indices, "indices", 2), ER = i32_operand(*st, expert_row, "expert_row", 1);
    auto SL = i32_operand(*st, slots, "slots", 2), ST = i32_operand(*st, slot_token, "slot_token", 1);
    auto DR = i32_operand(*st, dropped, "dropped", 1);
    if (capacity < 0) fail(PM_ERR_ARG, strf("capacity is %d but must be >= 0", capacity));
    need_same_shape(SL, "slots", I, "indices");
    need_dim(ST, "slot_token", 0, ER->shape()[0] * (int64_t)capacity, "experts * capacity");
    need_dim(DR, "dropped", 0, 1, "one counter");
    if (ER->shape()[0] * (int64_t)capacity > INT32_MAX) fail(PM_ERR_ARG, "experts * capacity exceeds int32");
    enqueue(*st, PM_OP_MOE_ROUTE, fn, [=](OpResult&) {
      kernels::moe_route(I->view, ER->view, capacity, SL->view, ST->view, DR->view);
    });
  });
}

namespace {
void gate_operands(const Stream& st, pm_tensor_t values, pm_tensor_t slots, TensorRef* V, TensorRef* SL) {
  *V = f32_operand(st, values, "values", 2);
  *SL = i32_operand(st, slots, "slots", 2);
  need_same_shape(*V, "values", *SL, "slots");
  int64_t k = (*V)->shape()[1];
  if (k != 1 && k != 2) fail(PM_ERR_ARG, strf("values is %s but k must be 1 or 2", shape_str(**V).c_str()));
}
}  // namespace

pm_status pm_moe_gate_weights(pm_stream_t s, pm_tensor_t values, pm_tensor_t slots, pm_tensor_t weights) {
  static const char* fn = "pm_moe_gate_weights";
  return guard(fn, [&] {
    auto st = stream_of(s);
    TensorRef V, SL;
    gate_operands(*st, values, slots, &V, &SL);
    auto W = f32_operand(*st, weights, "weights", 2);
    need_same_shape(W, "weights", V, "values");
    enqueue(*st, PM_OP_MOE_GATE_WEIGHTS, fn, [=](OpResult&) { kernels::moe_gate_weights(V->view, SL->view, W->view); });
  });
}

pm_status pm_moe_gate_weights_backward(pm_stream_t s, pm_tensor_t values, pm_tensor_t slots,
                                       pm_tensor_t dweights, pm_tensor_t dvalues) {
  static const char* fn = "pm_moe_gate_weights_backward";
  return guard(fn, [&] {
    auto st = stream_of(s);
    TensorRef V, SL;
    gate_operands(*st, values, slots, &V, &SL);
    auto DW = f32_operand(*st, dweights, "dweights", 2), DV = f32_operand(*st, dvalues, "dvalues", 2);
    need_same_shape(DW, "dweights", V, "values");
    need_same_shape(DV, "dvalues", V, "values");
    enqueue(*st, PM_OP_MOE_GATE_WEIGHTS_BWD, fn, [=](OpResult&) {
      kernels::moe_gate_weights_backward(V->view, SL->view, DW->view, DV->view);
    });
  });
}

pm_status pm_moe_aux_loss(pm_stream_t s, pm_tensor_t probs, pm_tensor_t indices, float coeff, pm_tensor_t loss,
                          pm_tensor_t dprobs) {
  static const char* fn = "pm_moe_aux_loss";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto P = f32_operand(*st, probs, "probs", 2), I = i32_operand(*st, indices, "indices", 2);
    auto L = f32_operand(*st, loss, "loss", 1), DP = f32_operand(*st, dprobs, "dprobs", 2);
    need_dim(I, "indices", 0, P->shape()[0], "probs' rows");
    if (I->shape()[1] < 1) fail(PM_ERR_ARG, strf("indices is %s but needs k >= 1", shape_str(*I).c_str()));
    need_dim(L, "loss", 0, 1, "one value");
    need_same_shape(DP, "dprobs", P, "probs");
    enqueue(*st, PM_OP_MOE_AUX_LOSS, fn,
            [=](OpResult&) { kernels::moe_aux_loss(P->view, I->view, coeff, L->view, DP->view); });
  });
}

pm_status pm_mse_loss(pm_stream_t s, pm_tensor_t y, pm_tensor_t target, float grad_scale, pm_tensor_t loss,
                      pm_tensor_t dy) {
  static const char* fn = "pm_mse_loss";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto Y = f32_operand(*st, y, "y"), T = f32_operand(*st, target, "target");
    auto L = f32_operand(*st, loss, "loss", 1), DY = f32_operand(*st, dy, "dy");
    need_same_shape(Y, "y", T, "target");
    need_same_shape(Y, "y", DY, "dy");
    need_dim(L, "loss", 0, 1, "one value");
    enqueue(*st, PM_OP_MSE_LOSS, fn,
            [=](OpResult&) { kernels::mse_loss(Y->view, T->view, grad_scale, L->view, DY->view); });
  });
}

pm_status pm_adam(pm_stream_t s, pm_tensor_t param, pm_tensor_t grad, pm_tensor_t m, pm_tensor_t v, float lr,
                  float beta1, float beta2, float eps, float weight_decay, int32_t step) {
  static const char* fn = "pm_adam";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto P = f32_operand(*st, param, "param"), G = f32_operand(*st, grad, "grad");
    auto M = f32_operand(*st, m, "m"), V = f32_operand(*st, v, "v");
    need_same_shape(P, "param", G, "grad");
    need_same_shape(P, "param", M, "m");
    need_same_shape(P, "param", V, "v");
    if (step < 1) fail(PM_ERR_ARG, strf("step is %d but counts from 1", step));
    if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1))
      fail(PM_ERR_ARG, strf("beta1 %g and beta2 %g must be in [0, 1)", beta1, beta2));
    if (!(eps > 0) || !(lr >= 0) || !(weight_decay >= 0))
      fail(PM_ERR_ARG, strf("need eps > 0, lr >= 0, weight_decay >= 0; got %g, %g, %g", eps, lr, weight_decay));
    enqueue(*st, PM_OP_ADAM, fn, [=](OpResult&) {
      kernels::adam(P->view, G->view, M->view, V->view, lr, beta1, beta2, eps, weight_decay, step);
    });
  });
}

// ---- the transformer's row ops ----------------------------------------------------------------

pm_status pm_rms_norm(pm_stream_t s, pm_tensor_t x, pm_tensor_t gamma, float eps, pm_tensor_t y, pm_tensor_t rstd) {
  static const char* fn = "pm_rms_norm";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto X = f32_operand(*st, x, "x", 2), G = f32_operand(*st, gamma, "gamma", 1);
    auto Y = f32_operand(*st, y, "y", 2), RS = f32_operand(*st, rstd, "rstd", 1);
    need_dim(G, "gamma", 0, X->shape()[1], "x's columns");
    need_same_shape(X, "x", Y, "y");
    need_dim(RS, "rstd", 0, X->shape()[0], "x's rows");
    if (!(eps > 0) || !std::isfinite(eps)) fail(PM_ERR_ARG, strf("eps is %g but must be finite and > 0", eps));
    enqueue(*st, PM_OP_RMS_NORM, fn, [=](OpResult&) { kernels::rms_norm(X->view, G->view, eps, Y->view, RS->view); });
  });
}

pm_status pm_rms_norm_backward(pm_stream_t s, pm_tensor_t x, pm_tensor_t gamma, pm_tensor_t rstd, pm_tensor_t dy,
                               pm_tensor_t dx, pm_tensor_t dgamma) {
  static const char* fn = "pm_rms_norm_backward";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto X = f32_operand(*st, x, "x", 2), G = f32_operand(*st, gamma, "gamma", 1);
    auto RS = f32_operand(*st, rstd, "rstd", 1), DY = f32_operand(*st, dy, "dy", 2);
    auto DX = f32_operand(*st, dx, "dx", 2), DG = f32_operand(*st, dgamma, "dgamma", 1);
    need_dim(G, "gamma", 0, X->shape()[1], "x's columns");
    need_dim(RS, "rstd", 0, X->shape()[0], "x's rows");
    need_same_shape(X, "x", DY, "dy");
    need_same_shape(X, "x", DX, "dx");
    need_same_shape(G, "gamma", DG, "dgamma");
    enqueue(*st, PM_OP_RMS_NORM_BWD, fn, [=](OpResult&) {
      kernels::rms_norm_backward(X->view, G->view, RS->view, DY->view, DX->view, DG->view);
    });
  });
}

pm_status pm_causal_softmax(pm_stream_t s, pm_tensor_t x, float scale, int32_t offset, pm_tensor_t y) {
  static const char* fn = "pm_causal_softmax";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto X = f32_operand(*st, x, "x", 3), Y = f32_operand(*st, y, "y", 3);
    need_same_shape(X, "x", Y, "y");
    need_finite(scale, "scale");
    enqueue(*st, PM_OP_CAUSAL_SOFTMAX, fn, [=](OpResult&) { kernels::causal_softmax(X->view, scale, offset, Y->view); });
  });
}

pm_status pm_causal_softmax_backward(pm_stream_t s, pm_tensor_t y, pm_tensor_t dy, float scale, pm_tensor_t dx) {
  static const char* fn = "pm_causal_softmax_backward";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto Y = f32_operand(*st, y, "y", 3), DY = f32_operand(*st, dy, "dy", 3), DX = f32_operand(*st, dx, "dx", 3);
    need_same_shape(Y, "y", DY, "dy");
    need_same_shape(Y, "y", DX, "dx");
    need_finite(scale, "scale");
    enqueue(*st, PM_OP_CAUSAL_SOFTMAX_BWD, fn,
            [=](OpResult&) { kernels::causal_softmax_backward(Y->view, DY->view, scale, DX->view); });
  });
}

pm_status pm_log_sum_exp(pm_stream_t s, pm_tensor_t x, pm_tensor_t lse) {
  static const char* fn = "pm_log_sum_exp";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto X = operand(*st, x, "x", true);  // any strides: the transposed [R, TP] view of gathered shards
    need_dtype(X, "x", PM_F32);
    need_rank(X, "x", 2);
    auto L = f32_operand(*st, lse, "lse", 1);
    need_dim(L, "lse", 0, X->shape()[0], "x's rows");
    enqueue(*st, PM_OP_LOG_SUM_EXP, fn, [=](OpResult&) { kernels::log_sum_exp(X->view, L->view); });
  });
}

pm_status pm_pick_targets(pm_stream_t s, pm_tensor_t x, pm_tensor_t targets, int32_t first, pm_tensor_t out) {
  static const char* fn = "pm_pick_targets";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto X = f32_operand(*st, x, "x", 2), T = i32_operand(*st, targets, "targets", 1);
    auto O = f32_operand(*st, out, "out", 1);
    need_dim(T, "targets", 0, X->shape()[0], "x's rows");
    need_dim(O, "out", 0, X->shape()[0], "x's rows");
    enqueue(*st, PM_OP_PICK_TARGETS, fn, [=](OpResult&) { kernels::pick_targets(X->view, T->view, first, O->view); });
  });
}

pm_status pm_cross_entropy_backward(pm_stream_t s, pm_tensor_t x, pm_tensor_t lse, pm_tensor_t targets, int32_t first,
                                    float scale, pm_tensor_t dx) {
  static const char* fn = "pm_cross_entropy_backward";
  return guard(fn, [&] {
    auto st = stream_of(s);
    auto X = f32_operand(*st, x, "x", 2), L = f32_operand(*st, lse, "lse", 1);
    auto T = i32_operand(*st, targets, "targets", 1), DX = f32_operand(*st, dx, "dx", 2);
    need_dim(L, "lse", 0, X->shape()[0], "x's rows");
    need_dim(T, "targets", 0, X->shape()[0], "x's rows");
    need_same_shape(X, "x", DX, "dx");
    need_finite(scale, "scale");
    enqueue(*st, PM_OP_CROSS_ENTROPY_BWD, fn, [=](OpResult&) {
      kernels::cross_entropy_backward(X->view, L->view, T->view, first, scale, DX->view);
    });
  });
}

}  // extern "C"
