#include "kernel_table.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <string.h>

#define QF_AVX2 __attribute__((target("avx2")))

/*
 * int8 GEMM on AVX2. A register tile is up to 4 activation rows x one 16-column weight tile: eight
 * accumulators, each 32-byte weight vector feeding four rows. Rows go in chunks whose activations
 * stay in L2 while every weight tile passes over them, so a weight tile is read from memory once per
 * chunk, not once per four rows.
 *
 * Pair-safe weights (see qf_pack_s8) run `vpmaddubsw` on raw bytes, then `vpmaddwd` by ones: two
 * multiplies per 32 MACs, this CPU's int8 peak without VNNI. Other weights would saturate the 16-bit
 * pair sums of `vpmaddubsw`; they are sign-extended in registers into 16-bit pairs for `vpmaddwd`
 * alone: exact for any values, about 1.45x slower (61 against 88 GMAC/s at 1024^3).
 */
enum { ROWS_PER_BLOCK = 4, CHUNK_ACTIVATION_BYTES = 128 * 1024 };

/* Eight columns of a row, less their zero-point terms (see qf_gemm_u8s8_fn). */
static inline QF_AVX2 void store_columns(int32_t *c_row, size_t first_col, size_t n, const qf_zero_points *zeros,
                                         int32_t row_term, __m256i sums) {
    if (first_col + 8 <= n) {
        __m256i column_sums = _mm256_loadu_si256((const __m256i *)(zeros->column_sums + first_col));
        sums = _mm256_sub_epi32(sums, _mm256_mullo_epi32(_mm256_set1_epi32(zeros->a_zero), column_sums));
        if (zeros->b_zero != NULL) {
            __m256i b_zero = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(zeros->b_zero + first_col)));
            sums = _mm256_sub_epi32(sums, _mm256_mullo_epi32(b_zero, _mm256_set1_epi32(row_term)));
        }
        _mm256_storeu_si256((__m256i *)(c_row + first_col), sums);
        return;
    }
    int32_t lanes[8];
    _mm256_storeu_si256((__m256i *)lanes, sums);
    for (size_t col = first_col; col < n; col++) {
        c_row[col] = qf_zero_corrected(zeros, lanes[col - first_col], col, row_term);
    }
}

/* For the widening kernel: per quad, rows (4q, 4q+2) as two int16 in one int32, then rows (4q+1, 4q+3):
 * the even and odd bytes of 16 activations zero-extended and interleaved quad by quad, a row's tail
 * through a zero-padded copy. (Byte by byte, this took as long as the product for a 24-filter convolution.) */
static QF_AVX2 void pair_rows(const uint8_t *a, size_t lda, size_t rows, size_t k, size_t quads, int32_t *x) {
    const __m128i low_bytes = _mm_set1_epi16(0x00FF);
    for (size_t r = 0; r < rows; r++) {
        const uint8_t *row = a + r * lda;
        __m128i *pairs = (__m128i *)(x + r * 2 * quads);
        for (size_t i = 0; i < 4 * quads; i += 16) {
            __m128i bytes;
            if (i + 16 <= k) {
                bytes = _mm_loadu_si128((const __m128i *)(row + i));
            } else {
                uint8_t tail[16] = {0};
                if (k > i) memcpy(tail, row + i, k - i);
                bytes = _mm_loadu_si128((const __m128i *)tail);
            }
            __m128i even = _mm_and_si128(bytes, low_bytes), odd = _mm_srli_epi16(bytes, 8);
            __m128i first = _mm_unpacklo_epi32(even, odd), second = _mm_unpackhi_epi32(even, odd);
            /* The row's last 16 bytes may hold 1-3 quads: 8 bytes of pairs each, and no more are stored. */
            size_t quads_here = 4 * quads - i >= 16 ? 4 : (4 * quads - i) / 4;
            if (quads_here >= 2) _mm_storeu_si128(pairs, first);
            else _mm_storel_epi64(pairs, first);
            if (quads_here == 4) _mm_storeu_si128(pairs + 1, second);
            else if (quads_here == 3) _mm_storel_epi64(pairs + 1, second);
            pairs += 2;
        }
    }
}

/* The register tiles below cover one 16-column weight tile as two halves of 8 columns, or only the
 * first half when the tile holds 8 columns or fewer (a 24-filter convolution's second tile): packed
 * columns 0-7 of a quad are its first 32 bytes. */

/* Raw bytes: per quad, one weight load per half and per row one broadcast, then per half a
 * vpmaddubsw, a vpmaddwd and an add. */
static inline __attribute__((always_inline)) QF_AVX2 void byte_tile(
    const int32_t *x, size_t quads, const int8_t *tile, const qf_zero_points *zeros, const int32_t *row_terms, int32_t *c,
    size_t ldc, size_t first_col, size_t n, const size_t rows, const size_t halves) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc[ROWS_PER_BLOCK][2];
    QF_UNROLL for (size_t r = 0; r < rows; r++) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
    for (size_t quad = 0; quad < quads; quad++) {
        __m256i w[2];
        QF_UNROLL for (size_t half = 0; half < halves; half++) {
            w[half] = _mm256_loadu_si256((const __m256i *)(tile + quad * QF_TILE_QUAD_BYTES + 32 * half));
        }
        QF_UNROLL for (size_t r = 0; r < rows; r++) {
            __m256i activations = _mm256_set1_epi32(x[r * quads + quad]);
            QF_UNROLL for (size_t half = 0; half < halves; half++) {
                acc[r][half] = _mm256_add_epi32(acc[r][half], _mm256_madd_epi16(_mm256_maddubs_epi16(activations, w[half]), ones));
            }
        }
    }
    QF_UNROLL for (size_t r = 0; r < rows; r++) {
        QF_UNROLL for (size_t half = 0; half < halves; half++) {
            store_columns(c + r * ldc, first_col + 8 * half, n, zeros, row_terms[r], acc[r][half]);
        }
    }
}

/* Any weights: each 32-bit lane (one column's quad) sign-extended into its even rows (4q, 4q+2) and
 * its odd rows (4q+1, 4q+3) as 16-bit pairs, by shifts; per row, one vpmaddwd with each. */
static inline __attribute__((always_inline)) QF_AVX2 void widened_tile(
    const int32_t *x, size_t quads, const int8_t *tile, const qf_zero_points *zeros, const int32_t *row_terms, int32_t *c,
    size_t ldc, size_t first_col, size_t n, const size_t rows, const size_t halves) {
    __m256i acc[ROWS_PER_BLOCK][2];
    QF_UNROLL for (size_t r = 0; r < rows; r++) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
    for (size_t quad = 0; quad < quads; quad++) {
        __m256i even[2], odd[2];
        QF_UNROLL for (size_t half = 0; half < halves; half++) {
            __m256i w = _mm256_loadu_si256((const __m256i *)(tile + quad * QF_TILE_QUAD_BYTES + 32 * half));
            even[half] = _mm256_srai_epi16(_mm256_slli_epi16(w, 8), 8);
            odd[half] = _mm256_srai_epi16(w, 8);
        }
        QF_UNROLL for (size_t r = 0; r < rows; r++) {
            __m256i a_even = _mm256_set1_epi32(x[r * 2 * quads + 2 * quad]);
            __m256i a_odd = _mm256_set1_epi32(x[r * 2 * quads + 2 * quad + 1]);
            QF_UNROLL for (size_t half = 0; half < halves; half++) {
                acc[r][half] = _mm256_add_epi32(acc[r][half], _mm256_add_epi32(_mm256_madd_epi16(a_even, even[half]),
                                                                               _mm256_madd_epi16(a_odd, odd[half])));
            }
        }
    }
    QF_UNROLL for (size_t r = 0; r < rows; r++) {
        QF_UNROLL for (size_t half = 0; half < halves; half++) {
            store_columns(c + r * ldc, first_col + 8 * half, n, zeros, row_terms[r], acc[r][half]);
        }
    }
}

/* The register tile for `rows` (1-4) and `halves` (1-2), inlined with constant counts so its
 * accumulators stay in registers. */
#define QF_ROWS_CASE(kernel, r, halves) \
    case r: kernel(x, quads, tile, zeros, row_terms, c, ldc, first_col, n, r, halves); break;
#define QF_ROWS_SWITCH(kernel, halves) \
    switch (rows) { QF_ROWS_CASE(kernel, 4, halves) QF_ROWS_CASE(kernel, 3, halves) QF_ROWS_CASE(kernel, 2, halves) QF_ROWS_CASE(kernel, 1, halves) }

static QF_AVX2 void tile_of(int bytes, size_t rows, const int32_t *x, size_t quads, const int8_t *tile,
                            const qf_zero_points *zeros, const int32_t *row_terms, int32_t *c, size_t ldc,
                            size_t first_col, size_t n) {
    int whole = n - first_col > 8;
    if (bytes) {
        if (whole) QF_ROWS_SWITCH(byte_tile, 2) else QF_ROWS_SWITCH(byte_tile, 1)
    } else {
        if (whole) QF_ROWS_SWITCH(widened_tile, 2) else QF_ROWS_SWITCH(widened_tile, 1)
    }
}

static QF_AVX2 void gemm_u8s8_avx2(const uint8_t *a, size_t lda, size_t m, uint8_t a_zero,
                                   const qf_packed_s8 *b, const int8_t *b_zero, int32_t *c, size_t ldc) {
    const qf_zero_points zeros = {a_zero, b->column_sums, b_zero};
    int bytes = b->pairs_fit_int16;
    size_t tiles = (b->n + QF_TILE_COLUMNS - 1) / QF_TILE_COLUMNS;
    size_t quads = (b->k + 3) / 4;
    size_t row_entries = (bytes ? 1 : 2) * (quads > 0 ? quads : 1); /* K = 0 still sizes a (zero) chunk */
    size_t chunk_rows = CHUNK_ACTIVATION_BYTES / (row_entries * sizeof(int32_t)) / ROWS_PER_BLOCK * ROWS_PER_BLOCK;
    if (chunk_rows < ROWS_PER_BLOCK) chunk_rows = ROWS_PER_BLOCK;
    if (chunk_rows > m) chunk_rows = m;
    size_t scratch_rows = chunk_rows > 0 ? chunk_rows : 1;
    int32_t *x = qf_thread_scratch(scratch_rows * (row_entries + 1) * sizeof(int32_t));
    int32_t *row_terms = x + scratch_rows * row_entries; /* one per row of the chunk */
    for (size_t chunk = 0; chunk < m; chunk += chunk_rows) {
        size_t chunk_end = m - chunk < chunk_rows ? m : chunk + chunk_rows;
        (bytes ? qf_quad_rows : pair_rows)(a + chunk * lda, lda, chunk_end - chunk, b->k, quads, x);
        if (b_zero != NULL) qf_row_zero_terms(a + chunk * lda, lda, chunk_end - chunk, b->k, a_zero, row_terms);
        else memset(row_terms, 0, (chunk_end - chunk) * sizeof(int32_t));
        for (size_t tile = 0; tile < tiles; tile++) {
            for (size_t row = chunk; row < chunk_end; row += ROWS_PER_BLOCK) {
                size_t rows = chunk_end - row < ROWS_PER_BLOCK ? chunk_end - row : ROWS_PER_BLOCK;
                tile_of(bytes, rows, x + (row - chunk) * row_entries, quads, b->data + tile * quads * QF_TILE_QUAD_BYTES,
                        &zeros, row_terms + (row - chunk), c + row * ldc, ldc, tile * QF_TILE_COLUMNS, b->n);
            }
        }
    }
}

const qf_kernel_table qf_avx2_kernels = {
    .name = "avx2",
    .gemm_u8s8 = gemm_u8s8_avx2,
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
