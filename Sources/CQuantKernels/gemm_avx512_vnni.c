#include "kernel_table.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define QF_AVX512_VNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))

/*
 * int8 GEMM on AVX512-VNNI. One packed quad of a weight tile (16 columns x 4 rows, 64 bytes) is one
 * zmm register, the signed operand of `vpdpbusd`; a row's four activation bytes, broadcast, are the
 * unsigned one. vpdpbusd sums its four products into int32 without an int16 step, so it is exact for
 * any weights: the pair-safe flag does not matter here.
 *
 * A register block is up to 6 rows x 4 tiles (64 columns): 24 accumulators, and per quad 4 weight
 * loads and 6 broadcasts feed 24 vpdpbusd, so the loads stay well below the multipliers' rate (on
 * Zen 5 at M = N = K = 1024, clang: 6 x 4 reaches 85-88 % of the vpdpbusd peak, 8 x 2 and 4 x 4
 * 75-83 %, 7 x 4 and 12 x 2 spill). Rows go in chunks whose activations stay in L2 while every
 * block of tiles passes over them, as on avx2. GCC copies each accumulator around every vpdpbusd
 * (twice the instructions, under half the speed); SwiftPM builds this with clang.
 */
enum { ROWS_PER_BLOCK = 6, TILES_PER_BLOCK = 4, CHUNK_ACTIVATION_BYTES = 256 * 1024 };

static inline __attribute__((always_inline)) QF_AVX512_VNNI void dot_block(
    const int32_t *x, size_t quads, const int8_t *tiles, const qf_zero_points *zeros, const int32_t *row_terms,
    int32_t *c, size_t ldc, size_t first_col, size_t n, const size_t rows, const size_t tile_count) {
    __m512i acc[ROWS_PER_BLOCK][TILES_PER_BLOCK];
    QF_UNROLL for (size_t r = 0; r < rows; r++) {
        QF_UNROLL for (size_t t = 0; t < tile_count; t++) acc[r][t] = _mm512_setzero_si512();
    }
    const size_t tile_bytes = quads * QF_TILE_QUAD_BYTES;
    for (size_t quad = 0; quad < quads; quad++) {
        __m512i w[TILES_PER_BLOCK];
        QF_UNROLL for (size_t t = 0; t < tile_count; t++) {
            w[t] = _mm512_loadu_si512((const void *)(tiles + t * tile_bytes + quad * QF_TILE_QUAD_BYTES));
        }
        QF_UNROLL for (size_t r = 0; r < rows; r++) {
            __m512i activations = _mm512_set1_epi32(x[r * quads + quad]);
            QF_UNROLL for (size_t t = 0; t < tile_count; t++) acc[r][t] = _mm512_dpbusd_epi32(acc[r][t], activations, w[t]);
        }
    }
    /* Masked loads leave the columns past n alone, so a partial tile reads nothing beyond its sums. */
    QF_UNROLL for (size_t t = 0; t < tile_count; t++) {
        size_t col = first_col + t * QF_TILE_COLUMNS;
        __mmask16 columns = n - col >= QF_TILE_COLUMNS ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - col)) - 1);
        __m512i column_term = _mm512_mullo_epi32(_mm512_set1_epi32(zeros->a_zero),
                                                 _mm512_maskz_loadu_epi32(columns, zeros->column_sums + col));
        __m512i b_zero = zeros->b_zero == NULL ? _mm512_setzero_si512()
                                               : _mm512_cvtepi8_epi32(_mm512_castsi512_si128(
                                                     _mm512_maskz_loadu_epi8(columns, zeros->b_zero + col)));
        QF_UNROLL for (size_t r = 0; r < rows; r++) {
            __m512i value = _mm512_sub_epi32(acc[r][t], column_term);
            if (zeros->b_zero != NULL) value = _mm512_sub_epi32(value, _mm512_mullo_epi32(b_zero, _mm512_set1_epi32(row_terms[r])));
            _mm512_mask_storeu_epi32(c + r * ldc + col, columns, value);
        }
    }
}

/* The register block for `rows` (1-6) x `tile_count` (1-4), inlined with constant counts so its
 * accumulators stay in registers. */
#define QF_VNNI_CASE(r)                                                                                                \
    case r:                                                                                                            \
        switch (tile_count) {                                                                                          \
        case 4: dot_block(x, quads, tiles, zeros, row_terms, c, ldc, first_col, n, r, 4); break;                       \
        case 3: dot_block(x, quads, tiles, zeros, row_terms, c, ldc, first_col, n, r, 3); break;                       \
        case 2: dot_block(x, quads, tiles, zeros, row_terms, c, ldc, first_col, n, r, 2); break;                       \
        default: dot_block(x, quads, tiles, zeros, row_terms, c, ldc, first_col, n, r, 1); break;                      \
        }                                                                                                              \
        break;

static QF_AVX512_VNNI void block_of(size_t rows, size_t tile_count, const int32_t *x, size_t quads, const int8_t *tiles,
                                    const qf_zero_points *zeros, const int32_t *row_terms, int32_t *c, size_t ldc,
                                    size_t first_col, size_t n) {
    switch (rows) {
        QF_VNNI_CASE(6) QF_VNNI_CASE(5) QF_VNNI_CASE(4) QF_VNNI_CASE(3) QF_VNNI_CASE(2)
        QF_VNNI_CASE(1)
    }
}

static QF_AVX512_VNNI void gemm_u8s8_avx512_vnni(const uint8_t *a, size_t lda, size_t m, uint8_t a_zero,
                                                 const qf_packed_s8 *b, const int8_t *b_zero, int32_t *c, size_t ldc) {
    const qf_zero_points zeros = {a_zero, b->column_sums, b_zero};
    size_t tiles = (b->n + QF_TILE_COLUMNS - 1) / QF_TILE_COLUMNS;
    size_t quads = (b->k + 3) / 4;
    size_t row_entries = quads > 0 ? quads : 1; /* K = 0 still sizes a (zero) chunk */
    size_t chunk_rows = CHUNK_ACTIVATION_BYTES / (row_entries * sizeof(int32_t)) / ROWS_PER_BLOCK * ROWS_PER_BLOCK;
    if (chunk_rows < ROWS_PER_BLOCK) chunk_rows = ROWS_PER_BLOCK;
    if (chunk_rows > m) chunk_rows = m;
    size_t scratch_rows = chunk_rows > 0 ? chunk_rows : 1;
    int32_t *x = qf_thread_scratch(scratch_rows * (row_entries + 1) * sizeof(int32_t));
    int32_t *row_terms = x + scratch_rows * row_entries; /* one per row of the chunk, read only with b_zero */
    for (size_t chunk = 0; chunk < m; chunk += chunk_rows) {
        size_t chunk_end = m - chunk < chunk_rows ? m : chunk + chunk_rows;
        qf_quad_rows(a + chunk * lda, lda, chunk_end - chunk, b->k, quads, x);
        if (b_zero != NULL) qf_row_zero_terms(a + chunk * lda, lda, chunk_end - chunk, b->k, a_zero, row_terms);
        for (size_t tile = 0; tile < tiles; tile += TILES_PER_BLOCK) {
            size_t tile_count = tiles - tile < TILES_PER_BLOCK ? tiles - tile : TILES_PER_BLOCK;
            for (size_t row = chunk; row < chunk_end; row += ROWS_PER_BLOCK) {
                size_t rows = chunk_end - row < ROWS_PER_BLOCK ? chunk_end - row : ROWS_PER_BLOCK;
                block_of(rows, tile_count, x + (row - chunk) * row_entries, quads, b->data + tile * quads * QF_TILE_QUAD_BYTES,
                         &zeros, row_terms + (row - chunk), c + row * ldc, ldc, tile * QF_TILE_COLUMNS, b->n);
            }
        }
    }
}

/* Every kernel on AVX512 (sgemm_, depthwise_, vmath_, quantize_avx512.c). */
const qf_kernel_table qf_avx512_vnni_kernels = {
    .name = "avx512-vnni",
    .gemm_u8s8 = gemm_u8s8_avx512_vnni,
    .sgemm = qf_sgemm_avx512_path,
    .sgemm_packed = qf_sgemm_packed_avx512_path,
    .range_f32 = qf_range_f32_avx512_path,
    .quantize_u8 = qf_quantize_u8_avx512_path,
    .depthwise_conv2d_f32 = qf_depthwise_conv2d_f32_avx512_path,
    .exp_f32 = qf_exp_f32_avx512_path,
    .erf_f32 = qf_erf_f32_avx512_path,
    .tanh_f32 = qf_tanh_f32_avx512_path,
    .sigmoid_f32 = qf_sigmoid_f32_avx512_path,
    .gelu_erf_f32 = qf_gelu_erf_f32_avx512_path,
    .softmax_rows_f32 = qf_softmax_rows_f32_avx512_path,
};

#endif
