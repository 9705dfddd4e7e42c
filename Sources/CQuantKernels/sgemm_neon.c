#include "kernel_table.h"

#if defined(__aarch64__)
#include <arm_neon.h>
#include <math.h>

/*
 * Float GEMM, C = A x B, the same loop structure as the AVX2 path: a register tile of 4 rows x 24
 * columns, 24 accumulators and 6 weight vectors of the 32 registers, each loaded weight vector
 * feeding four fused multiply-adds. Every column, full tile or edge, is one fused multiply-add per
 * k in order, so a result does not depend on where its column falls.
 */
enum { TILE_ROWS = 4, TILE_VECTORS = 6, TILE_COLUMNS = QF_FLOAT_STRIP_COLUMNS };
_Static_assert(TILE_COLUMNS == 4 * TILE_VECTORS, "a tile is as wide as a packed strip: six 4-float vectors");

/* `rows` (1 to 4) rows x 24 columns; inlined with a constant `rows`, so the accumulators stay in registers. */
static inline __attribute__((always_inline)) void sgemm_tile(const float *a, size_t lda, const float *b, size_t ldb,
                                                             float *c, size_t ldc, size_t k, const size_t rows) {
    float32x4_t acc[TILE_ROWS][TILE_VECTORS];
    QF_UNROLL for (size_t r = 0; r < rows; r++) {
        QF_UNROLL for (size_t v = 0; v < TILE_VECTORS; v++) acc[r][v] = vdupq_n_f32(0);
    }
    for (size_t p = 0; p < k; p++) {
        float32x4_t w[TILE_VECTORS];
        QF_UNROLL for (size_t v = 0; v < TILE_VECTORS; v++) w[v] = vld1q_f32(b + p * ldb + 4 * v);
        QF_UNROLL for (size_t r = 0; r < rows; r++) {
            float a_value = a[r * lda + p];
            QF_UNROLL for (size_t v = 0; v < TILE_VECTORS; v++) acc[r][v] = vfmaq_n_f32(acc[r][v], w[v], a_value);
        }
    }
    QF_UNROLL for (size_t r = 0; r < rows; r++) {
        QF_UNROLL for (size_t v = 0; v < TILE_VECTORS; v++) vst1q_f32(c + r * ldc + 4 * v, acc[r][v]);
    }
}

static void sgemm_full_width(const float *a, size_t lda, const float *b, size_t ldb,
                             float *c, size_t ldc, size_t k, size_t rows) {
    switch (rows) {
    case 4: sgemm_tile(a, lda, b, ldb, c, ldc, k, 4); break;
    case 3: sgemm_tile(a, lda, b, ldb, c, ldc, k, 3); break;
    case 2: sgemm_tile(a, lda, b, ldb, c, ldc, k, 2); break;
    default: sgemm_tile(a, lda, b, ldb, c, ldc, k, 1); break;
    }
}

/* A partial tile at the right edge of unpacked B: 4-column vectors, then the last 1-3 columns one by one. */
static void sgemm_edge_tile(const float *a, size_t lda, const float *b, size_t ldb,
                            float *c, size_t ldc, size_t rows, size_t columns, size_t k) {
    size_t first = 0;
    for (; first + 4 <= columns; first += 4) {
        float32x4_t acc[TILE_ROWS] = {vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0)};
        for (size_t p = 0; p < k; p++) {
            float32x4_t w = vld1q_f32(b + p * ldb + first);
            for (size_t r = 0; r < rows; r++) acc[r] = vfmaq_n_f32(acc[r], w, a[r * lda + p]);
        }
        for (size_t r = 0; r < rows; r++) vst1q_f32(c + r * ldc + first, acc[r]);
    }
    for (; first < columns; first++) {
        for (size_t r = 0; r < rows; r++) {
            float sum = 0;
            for (size_t p = 0; p < k; p++) sum = fmaf(a[r * lda + p], b[p * ldb + first], sum);
            c[r * ldc + first] = sum;
        }
    }
}

void qf_sgemm_neon_path(const float *a, size_t lda, const float *b, size_t ldb,
                        float *c, size_t ldc, size_t m, size_t k, size_t n) {
    /* Column strips outside, row tiles inside: a strip of B (K x 24) stays in cache for every row tile. */
    for (size_t col = 0; col < n; col += TILE_COLUMNS) {
        size_t columns = n - col < TILE_COLUMNS ? n - col : TILE_COLUMNS;
        for (size_t row = 0; row < m; row += TILE_ROWS) {
            size_t rows = m - row < TILE_ROWS ? m - row : TILE_ROWS;
            if (columns == TILE_COLUMNS) {
                sgemm_full_width(a + row * lda, lda, b + col, ldb, c + row * ldc + col, ldc, k, rows);
            } else {
                sgemm_edge_tile(a + row * lda, lda, b + col, ldb, c + row * ldc + col, ldc, rows, columns, k);
            }
        }
    }
}

/* Packed B: every strip is a full tile; the last strip's padding columns are computed into a
 * scratch tile and only the real ones copied out. */
void qf_sgemm_packed_neon_path(const float *a, size_t lda, const float *packed, size_t k, size_t n,
                               float *c, size_t ldc, size_t m) {
    for (size_t col = 0; col < n; col += TILE_COLUMNS) {
        const float *strip = packed + col / TILE_COLUMNS * k * TILE_COLUMNS;
        size_t columns = n - col < TILE_COLUMNS ? n - col : TILE_COLUMNS;
        for (size_t row = 0; row < m; row += TILE_ROWS) {
            size_t rows = m - row < TILE_ROWS ? m - row : TILE_ROWS;
            if (columns == TILE_COLUMNS) {
                sgemm_full_width(a + row * lda, lda, strip, TILE_COLUMNS, c + row * ldc + col, ldc, k, rows);
            } else {
                float scratch[TILE_ROWS * TILE_COLUMNS];
                sgemm_full_width(a + row * lda, lda, strip, TILE_COLUMNS, scratch, TILE_COLUMNS, k, rows);
                for (size_t r = 0; r < rows; r++) {
                    for (size_t lane = 0; lane < columns; lane++) c[(row + r) * ldc + col + lane] = scratch[r * TILE_COLUMNS + lane];
                }
            }
        }
    }
}

#endif
