#include "kernel_table.h"

#include <string.h>

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

size_t qf_packed_f32_size(size_t k, size_t n) {
    return (n + QF_FLOAT_STRIP_COLUMNS - 1) / QF_FLOAT_STRIP_COLUMNS * k * QF_FLOAT_STRIP_COLUMNS;
}

/* Row by row of B, so each row is read as one contiguous run however many strips it feeds (read
 * strip by strip, a wide B costs a page walk per 96 bytes). */
void qf_pack_f32(const float *b, size_t ldb, size_t k, size_t n, float *packed) {
    size_t strips = (n + QF_FLOAT_STRIP_COLUMNS - 1) / QF_FLOAT_STRIP_COLUMNS;
    for (size_t p = 0; p < k; p++) {
        const float *row = b + p * ldb;
        for (size_t strip = 0; strip < strips; strip++) {
            float *target = packed + (strip * k + p) * QF_FLOAT_STRIP_COLUMNS;
            size_t first = strip * QF_FLOAT_STRIP_COLUMNS;
            size_t lanes = n - first < QF_FLOAT_STRIP_COLUMNS ? n - first : QF_FLOAT_STRIP_COLUMNS;
            memcpy(target, row + first, lanes * sizeof(float));
            memset(target + lanes, 0, (QF_FLOAT_STRIP_COLUMNS - lanes) * sizeof(float));
        }
    }
}

void qf_sgemm_packed_scalar_path(const float *a, size_t lda, const float *packed, size_t k, size_t n,
                                 float *c, size_t ldc, size_t m) {
    for (size_t first = 0; first < n; first += QF_FLOAT_STRIP_COLUMNS) {
        const float *strip = packed + first / QF_FLOAT_STRIP_COLUMNS * k * QF_FLOAT_STRIP_COLUMNS;
        size_t lanes = n - first < QF_FLOAT_STRIP_COLUMNS ? n - first : QF_FLOAT_STRIP_COLUMNS;
        for (size_t row = 0; row < m; row++) {
            float sums[QF_FLOAT_STRIP_COLUMNS] = {0};
            for (size_t p = 0; p < k; p++) {
                float scale = a[row * lda + p];
                for (size_t lane = 0; lane < QF_FLOAT_STRIP_COLUMNS; lane++) {
                    sums[lane] += scale * strip[p * QF_FLOAT_STRIP_COLUMNS + lane];
                }
            }
            for (size_t lane = 0; lane < lanes; lane++) {
                c[row * ldc + first + lane] = sums[lane];
            }
        }
    }
}
