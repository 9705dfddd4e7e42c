#include "kernel_table.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define QF_AVX512 __attribute__((target("avx512f")))

/*
 * Float GEMM on AVX512F, C = A x B, all row-major. The register tile is 8 rows x 48 columns: 24
 * zmm accumulators, 3 weight vectors and the broadcasts; each weight vector feeds eight FMAs.
 *
 * Weights packed at load keep the layout every path shares (24-column strips, qf_pack_f32): two
 * neighbouring strips make one 48-column tile, the middle vector joined from the first strip's last
 * 8 columns and the second's first 8 (one insert per K step, against 24 FMAs). An odd last strip runs
 * as 32 columns, the upper 8 zero. An unpacked B (activations, im2col columns) is copied into
 * 48-column strips a panel at a time when there are enough rows to repay it, else read in place with
 * masked loads.
 */
enum { TILE_ROWS = 8, TILE_VECTORS = 3, TILE_COLUMNS = 16 * TILE_VECTORS, STRIP = QF_FLOAT_STRIP_COLUMNS };
_Static_assert(TILE_COLUMNS == 2 * STRIP, "a tile is two packed strips");

static inline QF_AVX512 __mmask16 lanes_below(size_t count) {
    return count >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << count) - 1);
}

/* Where a tile's weights come from, K step by K step. */
typedef enum { ROWS_OF_B, STRIP_PAIR, LAST_STRIP } weight_source;

/*
 * `rows` (1-8) rows of A times one tile of weights, into `columns` columns of C. ROWS_OF_B: row p of
 * the tile at b + p * ldb, `columns` of it present (masked loads, nothing read past them). STRIP_PAIR:
 * packed strips at b and b + k * STRIP. LAST_STRIP: one packed strip at b (32 columns, the upper 8 zero).
 * Inlined with constant `rows` and `source`, so the accumulators stay in registers.
 */
static inline __attribute__((always_inline)) QF_AVX512 void sgemm_tile(
    const float *a, size_t lda, const float *b, size_t ldb, size_t k, float *c, size_t ldc, size_t columns,
    const size_t rows, const weight_source source) {
    const size_t vectors = source == LAST_STRIP ? 2 : TILE_VECTORS;
    __mmask16 present[TILE_VECTORS];
    QF_UNROLL for (size_t v = 0; v < TILE_VECTORS; v++) present[v] = lanes_below(columns > 16 * v ? columns - 16 * v : 0);
    __m512 acc[TILE_ROWS][TILE_VECTORS];
    QF_UNROLL for (size_t r = 0; r < rows; r++) {
        QF_UNROLL for (size_t v = 0; v < vectors; v++) acc[r][v] = _mm512_setzero_ps();
    }
    const float *second = b + k * STRIP;
    for (size_t p = 0; p < k; p++) {
        __m512 w[TILE_VECTORS];
        if (source == ROWS_OF_B) {
            QF_UNROLL for (size_t v = 0; v < TILE_VECTORS; v++) w[v] = _mm512_maskz_loadu_ps(present[v], b + p * ldb + 16 * v);
        } else {
            const float *first_row = b + p * STRIP;
            w[0] = _mm512_loadu_ps(first_row);
            __m256 first_tail = _mm256_loadu_ps(first_row + 16);
            if (source == STRIP_PAIR) {
                const float *second_row = second + p * STRIP;
                __m512d joined = _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(first_tail)),
                                                    _mm256_castps_pd(_mm256_loadu_ps(second_row)), 1);
                w[1] = _mm512_castpd_ps(joined);
                w[2] = _mm512_loadu_ps(second_row + 8);
            } else {
                w[1] = _mm512_zextps256_ps512(first_tail);
            }
        }
        QF_UNROLL for (size_t r = 0; r < rows; r++) {
            __m512 a_value = _mm512_set1_ps(a[r * lda + p]);
            QF_UNROLL for (size_t v = 0; v < vectors; v++) acc[r][v] = _mm512_fmadd_ps(a_value, w[v], acc[r][v]);
        }
    }
    QF_UNROLL for (size_t r = 0; r < rows; r++) {
        QF_UNROLL for (size_t v = 0; v < vectors; v++) _mm512_mask_storeu_ps(c + r * ldc + 16 * v, present[v], acc[r][v]);
    }
}

#define QF_SGEMM_ROWS_CASE(r) \
    case r: sgemm_tile(a, lda, b, ldb, k, c, ldc, columns, r, source); break;

/* One tile of weights times every row of A, 8 rows at a time. */
#define QF_TILE_TIMES_ROWS(name, constant_source)                                                                     \
    static QF_AVX512 void name(const float *a, size_t lda, size_t m, const float *b, size_t ldb, size_t k, float *c,  \
                               size_t ldc, size_t columns) {                                                          \
        const weight_source source = constant_source;                                                                 \
        for (size_t row = 0; row < m; row += TILE_ROWS, a += TILE_ROWS * lda, c += TILE_ROWS * ldc) {                 \
            switch (m - row < TILE_ROWS ? m - row : TILE_ROWS) {                                                      \
                QF_SGEMM_ROWS_CASE(8) QF_SGEMM_ROWS_CASE(7) QF_SGEMM_ROWS_CASE(6) QF_SGEMM_ROWS_CASE(5)               \
                QF_SGEMM_ROWS_CASE(4) QF_SGEMM_ROWS_CASE(3) QF_SGEMM_ROWS_CASE(2) QF_SGEMM_ROWS_CASE(1)               \
            }                                                                                                         \
        }                                                                                                             \
    }
QF_TILE_TIMES_ROWS(rows_of_b_times_rows, ROWS_OF_B)
QF_TILE_TIMES_ROWS(strip_pair_times_rows, STRIP_PAIR)
QF_TILE_TIMES_ROWS(last_strip_times_rows, LAST_STRIP)

/* Columns [first, first + width) of B into 48-column strips (K rows of 48 floats each), zero past width. */
static QF_AVX512 void pack_panel(const float *b, size_t ldb, size_t k, size_t width, float *panel) {
    size_t strips = (width + TILE_COLUMNS - 1) / TILE_COLUMNS;
    for (size_t p = 0; p < k; p++) {
        const float *row = b + p * ldb;
        for (size_t strip = 0; strip < strips; strip++) {
            size_t lanes = width - strip * TILE_COLUMNS;
            float *target = panel + (strip * k + p) * TILE_COLUMNS;
            for (size_t v = 0; v < TILE_VECTORS; v++) {
                __mmask16 present = lanes_below(lanes > 16 * v ? lanes - 16 * v : 0);
                _mm512_storeu_ps(target + 16 * v, _mm512_maskz_loadu_ps(present, row + strip * TILE_COLUMNS + 16 * v));
            }
        }
    }
}

/* As on avx2: from this many rows of A on, an unpacked B is copied into strips, about PANEL_FLOATS
 * (L2-sized) at a time; below it the copy would cost as much as the product. */
enum { PACK_B_FROM_ROWS = 4, PANEL_FLOATS = 32 * 1024 };

QF_AVX512 void qf_sgemm_avx512_path(const float *a, size_t lda, const float *b, size_t ldb,
                                    float *c, size_t ldc, size_t m, size_t k, size_t n) {
    if (m < PACK_B_FROM_ROWS || k == 0) {
        for (size_t col = 0; col < n; col += TILE_COLUMNS) {
            rows_of_b_times_rows(a, lda, m, b + col, ldb, k, c + col, ldc, n - col < TILE_COLUMNS ? n - col : TILE_COLUMNS);
        }
        return;
    }
    size_t panel_strips = PANEL_FLOATS / (k * TILE_COLUMNS) > 0 ? PANEL_FLOATS / (k * TILE_COLUMNS) : 1;
    float *panel = qf_thread_scratch(panel_strips * k * TILE_COLUMNS * sizeof(float));
    for (size_t first = 0; first < n; first += panel_strips * TILE_COLUMNS) {
        size_t width = n - first < panel_strips * TILE_COLUMNS ? n - first : panel_strips * TILE_COLUMNS;
        pack_panel(b + first, ldb, k, width, panel);
        for (size_t col = 0; col < width; col += TILE_COLUMNS) {
            rows_of_b_times_rows(a, lda, m, panel + col / TILE_COLUMNS * k * TILE_COLUMNS, TILE_COLUMNS, k,
                                 c + first + col, ldc, width - col < TILE_COLUMNS ? width - col : TILE_COLUMNS);
        }
    }
}

QF_AVX512 void qf_sgemm_packed_avx512_path(const float *a, size_t lda, const float *packed, size_t k, size_t n,
                                           float *c, size_t ldc, size_t m) {
    for (size_t col = 0; col < n; col += TILE_COLUMNS) {
        size_t columns = n - col < TILE_COLUMNS ? n - col : TILE_COLUMNS;
        const float *strips = packed + col / STRIP * k * STRIP;
        if (columns > STRIP) strip_pair_times_rows(a, lda, m, strips, STRIP, k, c + col, ldc, columns);
        else last_strip_times_rows(a, lda, m, strips, STRIP, k, c + col, ldc, columns);
    }
}

#endif
