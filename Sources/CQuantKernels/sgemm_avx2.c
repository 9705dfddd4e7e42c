#include "kernel_table.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define QF_AVX2_FMA __attribute__((target("avx2,fma")))

/*
 * Float GEMM, C = A x B, all row-major: B packed once in 24-column strips (weights), or unpacked
 * (activations, im2col columns), its strips then copied one at a time as the product reaches them,
 * so both run the same strip kernel. The register tile of a full strip is 3 rows x 24 columns: 9
 * accumulators, 3 weight vectors and one broadcast; each loaded weight vector feeds three FMAs. (4 x 24
 * would fill all 16 ymm registers exactly, and clang then spills an accumulator in the inner loop: 20
 * GMAC/s against 46 at MiniLM's shapes.) The last strip of a matrix is often narrow (a 7x7 image has 49
 * columns: two strips and one column), and computing it 24 wide wasted a third of such a product; it
 * takes a narrower, taller tile instead: 6 rows x 16 columns, or 8 rows x 8 columns.
 */
enum { TILE_ROWS = 3, TILE_VECTORS = 3, TILE_COLUMNS = QF_FLOAT_STRIP_COLUMNS, MAX_TILE_ROWS = 8 };
_Static_assert(TILE_COLUMNS == 8 * TILE_VECTORS, "a tile is as wide as a packed strip: three 8-float vectors");

/* `rows` x `vectors` * 8 columns (rows <= MAX_TILE_ROWS, vectors <= 3); inlined with constants, so the
 * accumulators stay in registers. */
static inline __attribute__((always_inline)) QF_AVX2_FMA void sgemm_tile(
    const float *a, size_t lda, const float *b, size_t ldb, float *c, size_t ldc, size_t k, const size_t rows,
    const size_t vectors) {
    __m256 acc[MAX_TILE_ROWS][TILE_VECTORS];
    QF_UNROLL for (size_t r = 0; r < rows; r++) {
        QF_UNROLL for (size_t v = 0; v < vectors; v++) acc[r][v] = _mm256_setzero_ps();
    }
    for (size_t p = 0; p < k; p++) {
        const float *b_row = b + p * ldb;
        __m256 weights[TILE_VECTORS];
        QF_UNROLL for (size_t v = 0; v < vectors; v++) weights[v] = _mm256_loadu_ps(b_row + 8 * v);
        QF_UNROLL for (size_t r = 0; r < rows; r++) {
            __m256 a_value = _mm256_broadcast_ss(a + r * lda + p);
            QF_UNROLL for (size_t v = 0; v < vectors; v++) acc[r][v] = _mm256_fmadd_ps(a_value, weights[v], acc[r][v]);
        }
    }
    QF_UNROLL for (size_t r = 0; r < rows; r++) {
        QF_UNROLL for (size_t v = 0; v < vectors; v++) _mm256_storeu_ps(c + r * ldc + 8 * v, acc[r][v]);
    }
}

/* A strip's tile of `rows` rows (1 to the tile height of its width), `vectors` * 8 columns wide. */
static QF_AVX2_FMA void sgemm_full_width(const float *a, size_t lda, const float *b, size_t ldb,
                                         float *c, size_t ldc, size_t k, size_t rows) {
    switch (rows) {
    case 3: sgemm_tile(a, lda, b, ldb, c, ldc, k, 3, 3); break;
    case 2: sgemm_tile(a, lda, b, ldb, c, ldc, k, 2, 3); break;
    default: sgemm_tile(a, lda, b, ldb, c, ldc, k, 1, 3); break;
    }
}

/* A narrow strip's tile: `rows` rows (1 to 8) x `vectors` * 8 columns. */
static inline __attribute__((always_inline)) QF_AVX2_FMA void sgemm_narrow(
    const float *a, size_t lda, const float *b, size_t ldb, float *c, size_t ldc, size_t k, size_t rows, const size_t vectors) {
    switch (rows) {
    case 8: sgemm_tile(a, lda, b, ldb, c, ldc, k, 8, vectors); break;
    case 7: sgemm_tile(a, lda, b, ldb, c, ldc, k, 7, vectors); break;
    case 6: sgemm_tile(a, lda, b, ldb, c, ldc, k, 6, vectors); break;
    case 5: sgemm_tile(a, lda, b, ldb, c, ldc, k, 5, vectors); break;
    case 4: sgemm_tile(a, lda, b, ldb, c, ldc, k, 4, vectors); break;
    case 3: sgemm_tile(a, lda, b, ldb, c, ldc, k, 3, vectors); break;
    case 2: sgemm_tile(a, lda, b, ldb, c, ldc, k, 2, vectors); break;
    default: sgemm_tile(a, lda, b, ldb, c, ldc, k, 1, vectors); break;
    }
}

/* 6 rows x 16 columns (12 accumulators), and 8 rows x 8 columns. */
static QF_AVX2_FMA void sgemm_16_wide(const float *a, size_t lda, const float *b, size_t ldb,
                                      float *c, size_t ldc, size_t k, size_t rows) {
    sgemm_narrow(a, lda, b, ldb, c, ldc, k, rows, 2);
}

static QF_AVX2_FMA void sgemm_8_wide(const float *a, size_t lda, const float *b, size_t ldb,
                                     float *c, size_t ldc, size_t k, size_t rows) {
    sgemm_narrow(a, lda, b, ldb, c, ldc, k, rows, 1);
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
        __m256 acc[TILE_ROWS] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
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

/* One packed strip (K rows of 24 consecutive floats) times every row of A, into the strip's
 * `columns` columns of C at `c`; columns computed past them (to the tile's width) go to a scratch
 * tile and are dropped. */
static QF_AVX2_FMA void strip_times_rows(const float *a, size_t lda, const float *strip, size_t k, size_t columns,
                                         float *c, size_t ldc, size_t m) {
    typedef void (*tile_fn)(const float *, size_t, const float *, size_t, float *, size_t, size_t, size_t);
    const size_t width = columns > 16 ? TILE_COLUMNS : columns > 8 ? 16 : 8;
    const size_t height = width == TILE_COLUMNS ? TILE_ROWS : width == 16 ? 6 : MAX_TILE_ROWS;
    const tile_fn tile = width == TILE_COLUMNS ? sgemm_full_width : width == 16 ? sgemm_16_wide : sgemm_8_wide;
    for (size_t row = 0; row < m; row += height) {
        size_t rows = m - row < height ? m - row : height;
        if (columns == width) {
            tile(a + row * lda, lda, strip, TILE_COLUMNS, c + row * ldc, ldc, k, rows);
        } else {
            float scratch[MAX_TILE_ROWS * TILE_COLUMNS];
            tile(a + row * lda, lda, strip, TILE_COLUMNS, scratch, TILE_COLUMNS, k, rows);
            for (size_t r = 0; r < rows; r++) {
                for (size_t lane = 0; lane < columns; lane++) c[(row + r) * ldc + lane] = scratch[r * TILE_COLUMNS + lane];
            }
        }
    }
}

/* qf_pack_f32 of a panel of B with whole-vector copies: its memcpy of 96 bytes per row and strip
 * cost half as much as the product itself in convolutions with few filters. */
static QF_AVX2_FMA void pack_panel(const float *b, size_t ldb, size_t k, size_t width, float *panel) {
    size_t strips = (width + TILE_COLUMNS - 1) / TILE_COLUMNS;
    for (size_t p = 0; p < k; p++) {
        const float *row = b + p * ldb;
        for (size_t strip = 0; strip < strips; strip++) {
            const float *source = row + strip * TILE_COLUMNS;
            float *target = panel + (strip * k + p) * TILE_COLUMNS;
            size_t lanes = width - strip * TILE_COLUMNS;
            for (size_t v = 0; v < TILE_VECTORS; v++) {
                size_t present = lanes > 8 * v ? lanes - 8 * v : 0;
                __m256 values = present >= 8 ? _mm256_loadu_ps(source + 8 * v)
                                             : _mm256_maskload_ps(source + 8 * v, lanes_below(present));
                _mm256_storeu_ps(target + 8 * v, values);
            }
        }
    }
}

/* The sum of a vector's eight lanes. */
static inline QF_AVX2_FMA float lane_sum(__m256 v) {
    __m128 quad = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    quad = _mm_add_ps(quad, _mm_movehl_ps(quad, quad));
    return _mm_cvtss_f32(_mm_add_ss(quad, _mm_movehdup_ps(quad)));
}

/* One column (n = 1: a convolution over a 1x1 image, a squeeze-excitation block): each output is a
 * dot product along a row of A, 8 lanes of K at a time and four rows at once, with B's column
 * gathered into a contiguous vector first. A strip would compute 8 or 24 columns to keep one. */
static QF_AVX2_FMA void sgemv(const float *a, size_t lda, const float *b, size_t ldb, float *c, size_t ldc, size_t m, size_t k) {
    float *x = qf_thread_scratch(k * sizeof(float));
    for (size_t p = 0; p < k; p++) x[p] = b[p * ldb];
    const __m256i tail = lanes_below(k % 8);
    const size_t whole = k - k % 8;
    for (size_t row = 0; row < m; row += 4) {
        const size_t rows = m - row < 4 ? m - row : 4;
        __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
        for (size_t p = 0; p < whole; p += 8) {
            const __m256 column = _mm256_loadu_ps(x + p);
            for (size_t r = 0; r < rows; r++) acc[r] = _mm256_fmadd_ps(_mm256_loadu_ps(a + (row + r) * lda + p), column, acc[r]);
        }
        if (whole < k) {
            const __m256 column = _mm256_maskload_ps(x + whole, tail);
            for (size_t r = 0; r < rows; r++) acc[r] = _mm256_fmadd_ps(_mm256_maskload_ps(a + (row + r) * lda + whole, tail), column, acc[r]);
        }
        for (size_t r = 0; r < rows; r++) c[(row + r) * ldc] = lane_sum(acc[r]);
    }
}

/* From this many rows of A on, an unpacked B is first copied into strips at consecutive addresses,
 * a panel of them at a time (about PANEL_FLOATS, to stay in L2): read in place, every row of a strip
 * costs its own cache lines, for every row tile (2.2x slower at MiniLM's shapes). Below it, the copy
 * would cost as much as the product. */
enum { PACK_B_FROM_ROWS = 4, PANEL_FLOATS = 32 * 1024 };

QF_AVX2_FMA void qf_sgemm_avx2_path(const float *a, size_t lda, const float *b, size_t ldb,
                                    float *c, size_t ldc, size_t m, size_t k, size_t n) {
    if (n == 1 && k > 0) {
        sgemv(a, lda, b, ldb, c, ldc, m, k);
        return;
    }
    if (m >= PACK_B_FROM_ROWS && k > 0) {
        size_t panel_strips = PANEL_FLOATS / (k * TILE_COLUMNS) > 0 ? PANEL_FLOATS / (k * TILE_COLUMNS) : 1;
        float *panel = qf_thread_scratch(panel_strips * k * TILE_COLUMNS * sizeof(float));
        for (size_t first = 0; first < n; first += panel_strips * TILE_COLUMNS) {
            size_t width = n - first < panel_strips * TILE_COLUMNS ? n - first : panel_strips * TILE_COLUMNS;
            pack_panel(b + first, ldb, k, width, panel);
            for (size_t col = 0; col < width; col += TILE_COLUMNS) {
                size_t columns = width - col < TILE_COLUMNS ? width - col : TILE_COLUMNS;
                strip_times_rows(a, lda, panel + col / TILE_COLUMNS * k * TILE_COLUMNS, k, columns, c + first + col, ldc, m);
            }
        }
        return;
    }
    for (size_t col = 0; col < n; col += TILE_COLUMNS) {
        size_t columns = n - col < TILE_COLUMNS ? n - col : TILE_COLUMNS;
        for (size_t row = 0; row < m; row += TILE_ROWS) {
            size_t rows = m - row < TILE_ROWS ? m - row : TILE_ROWS;
            const float *a_tile = a + row * lda;
            float *c_tile = c + row * ldc + col;
            if (columns == TILE_COLUMNS) {
                sgemm_full_width(a_tile, lda, b + col, ldb, c_tile, ldc, k, rows);
            } else {
                sgemm_edge_tile(a_tile, lda, b + col, ldb, c_tile, ldc, rows, columns, k);
            }
        }
    }
}

/* Packed B: every strip is a full 24-column tile read from consecutive addresses. */
QF_AVX2_FMA void qf_sgemm_packed_avx2_path(const float *a, size_t lda, const float *packed, size_t k, size_t n,
                                           float *c, size_t ldc, size_t m) {
    for (size_t col = 0; col < n; col += TILE_COLUMNS) {
        size_t columns = n - col < TILE_COLUMNS ? n - col : TILE_COLUMNS;
        strip_times_rows(a, lda, packed + col / TILE_COLUMNS * k * TILE_COLUMNS, k, columns, c + col, ldc, m);
    }
}

#endif
