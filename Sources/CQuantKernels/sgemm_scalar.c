#include "kernel_table.h"

/* Portable float GEMM: a row of A times the rows of B, so the inner loop runs over contiguous B and C. */
void qf_sgemm_scalar_path(const float *a, size_t lda, const float *b, size_t ldb,
                          float *c, size_t ldc, size_t m, size_t k, size_t n) {
    for (size_t row = 0; row < m; row++) {
        float *c_row = c + row * ldc;
        for (size_t col = 0; col < n; col++) {
            c_row[col] = 0;
        }
        for (size_t p = 0; p < k; p++) {
            float scale = a[row * lda + p];
            const float *b_row = b + p * ldb;
            for (size_t col = 0; col < n; col++) {
                c_row[col] += scale * b_row[col];
            }
        }
    }
}
