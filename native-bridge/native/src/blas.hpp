// The one place that includes cblas.h: row-major SGEMM and the BLAS thread policy.
#pragma once

namespace pm {

// Sets one BLAS thread per call, once per process: rank threads give the parallelism, and an
// OpenBLAS pool per call on top of them would oversubscribe the cores.
void blas_init();
void blas_set_threads(int n);

// C = alpha op(A) op(B) + beta C, row-major, leading dimensions in elements.
void sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
           const float* b, int ldb, float beta, float* c, int ldc);

}  // namespace pm
