#include "kernel_table.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <stdlib.h>

#define QF_AVX2 __attribute__((target("avx2")))

enum { ROWS_PER_BLOCK = 4 };

/* (A[row][2r], A[row][2r+1]) as two int16 in one int32 lane, ready to broadcast for vpmaddwd. */
static inline int32_t activation_pair(const uint8_t *a_row, size_t pair, size_t k) {
    uint32_t low = a_row[2 * pair];
    uint32_t high = 2 * pair + 1 < k ? a_row[2 * pair + 1] : 0;
    return (int32_t)(low | (high << 16));
}

static inline QF_AVX2 __m256i widened_block(const int8_t *block) {
    return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)block));
}

static inline QF_AVX2 void store_panel(int32_t *c_row, size_t first_col, size_t n, __m256i sums) {
    if (first_col + QF_PANEL_COLUMNS <= n) {
        _mm256_storeu_si256((__m256i *)(c_row + first_col), sums);
        return;
    }
    int32_t lanes[QF_PANEL_COLUMNS];
    _mm256_storeu_si256((__m256i *)lanes, sums);
    for (size_t col = first_col; col < n; col++) {
        c_row[col] = lanes[col - first_col];
    }
}

/* A block's activation pairs, built once and read by every panel (building them per panel cost
 * more than the multiplies). */
static void pair_rows(const uint8_t *a, size_t lda, size_t rows, size_t k, int32_t *pairs) {
    size_t k_pairs = (k + 1) / 2;
    for (size_t r = 0; r < rows; r++) {
        for (size_t pair = 0; pair < k_pairs; pair++) {
            pairs[r * k_pairs + pair] = activation_pair(a + r * lda, pair, k);
        }
    }
}

#define QF_MADD(sum, pairs, weights) \
    sum = _mm256_add_epi32(sum, _mm256_madd_epi16(_mm256_set1_epi32(pairs), weights))

/* Four rows x two panels (16 columns): eight accumulators, each loaded weight block feeds four rows. */
static QF_AVX2 void four_rows_two_panels(const int32_t *pairs, size_t k_pairs, const int8_t *block0, const int8_t *block1,
                                         int32_t *c, size_t ldc, size_t first_col, size_t n) {
    const int32_t *p0 = pairs, *p1 = p0 + k_pairs, *p2 = p1 + k_pairs, *p3 = p2 + k_pairs;
    __m256i s00 = _mm256_setzero_si256(), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
    for (size_t pair = 0; pair < k_pairs; pair++) {
        __m256i w0 = widened_block(block0 + pair * 2 * QF_PANEL_COLUMNS);
        __m256i w1 = widened_block(block1 + pair * 2 * QF_PANEL_COLUMNS);
        QF_MADD(s00, p0[pair], w0); QF_MADD(s01, p0[pair], w1);
        QF_MADD(s10, p1[pair], w0); QF_MADD(s11, p1[pair], w1);
        QF_MADD(s20, p2[pair], w0); QF_MADD(s21, p2[pair], w1);
        QF_MADD(s30, p3[pair], w0); QF_MADD(s31, p3[pair], w1);
    }
    store_panel(c, first_col, n, s00); store_panel(c, first_col + QF_PANEL_COLUMNS, n, s01);
    store_panel(c + ldc, first_col, n, s10); store_panel(c + ldc, first_col + QF_PANEL_COLUMNS, n, s11);
    store_panel(c + 2 * ldc, first_col, n, s20); store_panel(c + 2 * ldc, first_col + QF_PANEL_COLUMNS, n, s21);
    store_panel(c + 3 * ldc, first_col, n, s30); store_panel(c + 3 * ldc, first_col + QF_PANEL_COLUMNS, n, s31);
}

/* Any rows (up to four) x one panel: the edges. */
static QF_AVX2 void rows_one_panel(const int32_t *pairs, size_t rows, size_t k_pairs, const int8_t *block,
                                   int32_t *c, size_t ldc, size_t first_col, size_t n) {
    for (size_t r = 0; r < rows; r++) {
        const int32_t *p = pairs + r * k_pairs;
        __m256i sum0 = _mm256_setzero_si256(), sum1 = sum0;
        size_t pair = 0;
        for (; pair + 2 <= k_pairs; pair += 2) {  /* two chains, so the adds overlap */
            QF_MADD(sum0, p[pair], widened_block(block + pair * 2 * QF_PANEL_COLUMNS));
            QF_MADD(sum1, p[pair + 1], widened_block(block + (pair + 1) * 2 * QF_PANEL_COLUMNS));
        }
        if (pair < k_pairs) QF_MADD(sum0, p[pair], widened_block(block + pair * 2 * QF_PANEL_COLUMNS));
        store_panel(c + r * ldc, first_col, n, _mm256_add_epi32(sum0, sum1));
    }
}

static QF_AVX2 void gemm_u8s8_raw_avx2(const uint8_t *a, size_t lda, size_t m,
                                       const qf_packed_s8 *b, int32_t *c, size_t ldc) {
    size_t panels = (b->n + QF_PANEL_COLUMNS - 1) / QF_PANEL_COLUMNS;
    size_t k_pairs = (b->k + 1) / 2;
    size_t panel_bytes = k_pairs * 2 * QF_PANEL_COLUMNS;
    int32_t *pairs = malloc(ROWS_PER_BLOCK * (k_pairs > 0 ? k_pairs : 1) * sizeof(int32_t));
    if (pairs == NULL) {
        abort();  /* a few KB per call; there is no sensible way to go on without them */
    }
    for (size_t row = 0; row < m; row += ROWS_PER_BLOCK) {
        size_t rows = m - row < ROWS_PER_BLOCK ? m - row : ROWS_PER_BLOCK;
        pair_rows(a + row * lda, lda, rows, b->k, pairs);
        size_t panel = 0;
        if (rows == ROWS_PER_BLOCK) {
            for (; panel + 2 <= panels; panel += 2) {
                four_rows_two_panels(pairs, k_pairs, b->data + panel * panel_bytes, b->data + (panel + 1) * panel_bytes,
                                     c + row * ldc, ldc, panel * QF_PANEL_COLUMNS, b->n);
            }
        }
        for (; panel < panels; panel++) {
            rows_one_panel(pairs, rows, k_pairs, b->data + panel * panel_bytes, c + row * ldc, ldc,
                           panel * QF_PANEL_COLUMNS, b->n);
        }
    }
    free(pairs);
}

const qf_kernel_table qf_avx2_kernels = {
    .name = "avx2",
    .gemm_u8s8_raw = gemm_u8s8_raw_avx2,
    .sgemm = qf_sgemm_avx2_path,
    .sgemm_packed = qf_sgemm_packed_avx2_path,
    .range_f32 = qf_range_f32_avx2_path,
    .quantize_u8 = qf_quantize_u8_avx2_path,
    .depthwise_conv2d_f32 = qf_depthwise_conv2d_f32_avx2_path,
    .exp_f32 = qf_exp_f32_avx2_path,
    .erf_f32 = qf_erf_f32_avx2_path,
    .tanh_f32 = qf_tanh_f32_avx2_path,
    .sigmoid_f32 = qf_sigmoid_f32_avx2_path,
    .gelu_erf_f32 = qf_gelu_erf_f32_avx2_path,
    .softmax_rows_f32 = qf_softmax_rows_f32_avx2_path,
};

#endif
