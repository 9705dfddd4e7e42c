#include "kernel_table.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define QF_AVX2_FMA __attribute__((target("avx2,fma")))

/*
 * Float GEMM, C = A x B, all row-major and unpacked (B is read row by row, so weights need no
 * packing and activations x weights and im2col x filters share one kernel). The register tile is
 * 4 rows x 24 columns: 12 accumulators, 3 weight vectors and one broadcast fill the 16 ymm
 * registers, and each loaded weight vector feeds four FMAs.
 */
enum { TILE_ROWS = 4, TILE_VECTORS = 3, TILE_COLUMNS = 8 * TILE_VECTORS };

static QF_AVX2_FMA void sgemm_full_tile(const float *a, size_t lda, const float *b, size_t ldb,
                                        float *c, size_t ldc, size_t k) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
    __m256 c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
    for (size_t p = 0; p < k; p++) {
        const float *b_row = b + p * ldb;
        __m256 b0 = _mm256_loadu_ps(b_row), b1 = _mm256_loadu_ps(b_row + 8), b2 = _mm256_loadu_ps(b_row + 16);
        __m256 a0 = _mm256_broadcast_ss(a + p);
        c00 = _mm256_fmadd_ps(a0, b0, c00); c01 = _mm256_fmadd_ps(a0, b1, c01); c02 = _mm256_fmadd_ps(a0, b2, c02);
        __m256 a1 = _mm256_broadcast_ss(a + lda + p);
        c10 = _mm256_fmadd_ps(a1, b0, c10); c11 = _mm256_fmadd_ps(a1, b1, c11); c12 = _mm256_fmadd_ps(a1, b2, c12);
        __m256 a2 = _mm256_broadcast_ss(a + 2 * lda + p);
        c20 = _mm256_fmadd_ps(a2, b0, c20); c21 = _mm256_fmadd_ps(a2, b1, c21); c22 = _mm256_fmadd_ps(a2, b2, c22);
        __m256 a3 = _mm256_broadcast_ss(a + 3 * lda + p);
        c30 = _mm256_fmadd_ps(a3, b0, c30); c31 = _mm256_fmadd_ps(a3, b1, c31); c32 = _mm256_fmadd_ps(a3, b2, c32);
    }
    _mm256_storeu_ps(c, c00); _mm256_storeu_ps(c + 8, c01); _mm256_storeu_ps(c + 16, c02);
    _mm256_storeu_ps(c + ldc, c10); _mm256_storeu_ps(c + ldc + 8, c11); _mm256_storeu_ps(c + ldc + 16, c12);
    _mm256_storeu_ps(c + 2 * ldc, c20); _mm256_storeu_ps(c + 2 * ldc + 8, c21); _mm256_storeu_ps(c + 2 * ldc + 16, c22);
    _mm256_storeu_ps(c + 3 * ldc, c30); _mm256_storeu_ps(c + 3 * ldc + 8, c31); _mm256_storeu_ps(c + 3 * ldc + 16, c32);
}

/* Lanes [0, count) of a vector, for the columns past the last full vector. */
static inline QF_AVX2_FMA __m256i lanes_below(size_t count) {
    const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)count), index);
}

/* A partial tile at the edges: up to 4 rows and up to 24 columns, one 8-column vector at a time. */
static QF_AVX2_FMA void sgemm_edge_tile(const float *a, size_t lda, const float *b, size_t ldb,
                                        float *c, size_t ldc, size_t rows, size_t columns, size_t k) {
    for (size_t first = 0; first < columns; first += 8) {
        __m256i mask = lanes_below(columns - first < 8 ? columns - first : 8);
        __m256 acc[TILE_ROWS] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
        for (size_t p = 0; p < k; p++) {
            __m256 weights = _mm256_maskload_ps(b + p * ldb + first, mask);
            for (size_t r = 0; r < rows; r++) {
                acc[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(a + r * lda + p), weights, acc[r]);
            }
        }
        for (size_t r = 0; r < rows; r++) {
            _mm256_maskstore_ps(c + r * ldc + first, mask, acc[r]);
        }
    }
}

QF_AVX2_FMA void qf_sgemm_avx2_path(const float *a, size_t lda, const float *b, size_t ldb,
                                    float *c, size_t ldc, size_t m, size_t k, size_t n) {
    for (size_t row = 0; row < m; row += TILE_ROWS) {
        size_t rows = m - row < TILE_ROWS ? m - row : TILE_ROWS;
        for (size_t col = 0; col < n; col += TILE_COLUMNS) {
            size_t columns = n - col < TILE_COLUMNS ? n - col : TILE_COLUMNS;
            const float *a_tile = a + row * lda;
            float *c_tile = c + row * ldc + col;
            if (rows == TILE_ROWS && columns == TILE_COLUMNS) {
                sgemm_full_tile(a_tile, lda, b + col, ldb, c_tile, ldc, k);
            } else {
                sgemm_edge_tile(a_tile, lda, b + col, ldb, c_tile, ldc, rows, columns, k);
            }
        }
    }
}

#endif
