#include "kernel_table.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

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

/* Four rows share each loaded weight block; each row keeps one accumulator of 8 columns. */
static QF_AVX2 void gemm_u8s8_raw_avx2(const uint8_t *a, size_t lda, size_t m,
                                       const qf_packed_s8 *b, int32_t *c, size_t ldc) {
    size_t panels = (b->n + QF_PANEL_COLUMNS - 1) / QF_PANEL_COLUMNS;
    size_t k_pairs = (b->k + 1) / 2;
    size_t row = 0;
    for (; row + ROWS_PER_BLOCK <= m; row += ROWS_PER_BLOCK) {
        const uint8_t *a0 = a + row * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
        for (size_t panel = 0; panel < panels; panel++) {
            const int8_t *block = b->data + panel * k_pairs * 2 * QF_PANEL_COLUMNS;
            __m256i sum0 = _mm256_setzero_si256(), sum1 = sum0, sum2 = sum0, sum3 = sum0;
            for (size_t pair = 0; pair < k_pairs; pair++, block += 2 * QF_PANEL_COLUMNS) {
                __m256i weights = widened_block(block);
                sum0 = _mm256_add_epi32(sum0, _mm256_madd_epi16(_mm256_set1_epi32(activation_pair(a0, pair, b->k)), weights));
                sum1 = _mm256_add_epi32(sum1, _mm256_madd_epi16(_mm256_set1_epi32(activation_pair(a1, pair, b->k)), weights));
                sum2 = _mm256_add_epi32(sum2, _mm256_madd_epi16(_mm256_set1_epi32(activation_pair(a2, pair, b->k)), weights));
                sum3 = _mm256_add_epi32(sum3, _mm256_madd_epi16(_mm256_set1_epi32(activation_pair(a3, pair, b->k)), weights));
            }
            size_t first_col = panel * QF_PANEL_COLUMNS;
            store_panel(c + row * ldc, first_col, b->n, sum0);
            store_panel(c + (row + 1) * ldc, first_col, b->n, sum1);
            store_panel(c + (row + 2) * ldc, first_col, b->n, sum2);
            store_panel(c + (row + 3) * ldc, first_col, b->n, sum3);
        }
    }
    for (; row < m; row++) {
        const uint8_t *a_row = a + row * lda;
        for (size_t panel = 0; panel < panels; panel++) {
            const int8_t *block = b->data + panel * k_pairs * 2 * QF_PANEL_COLUMNS;
            __m256i sum = _mm256_setzero_si256();
            for (size_t pair = 0; pair < k_pairs; pair++, block += 2 * QF_PANEL_COLUMNS) {
                __m256i pair_vector = _mm256_set1_epi32(activation_pair(a_row, pair, b->k));
                sum = _mm256_add_epi32(sum, _mm256_madd_epi16(pair_vector, widened_block(block)));
            }
            store_panel(c + row * ldc, panel * QF_PANEL_COLUMNS, b->n, sum);
        }
    }
}

const qf_kernel_table qf_avx2_kernels = {"avx2", gemm_u8s8_raw_avx2, qf_sgemm_avx2_path};

#else

/* Not an x86 build: the table exists so dispatch links, but it is never chosen (see dispatch.c). */
const qf_kernel_table qf_avx2_kernels = {"avx2", 0, 0};

#endif
