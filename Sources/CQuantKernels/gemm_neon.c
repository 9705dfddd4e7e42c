#include "kernel_table.h"

#if defined(__aarch64__)
#include "gemm_neon_store.h"

/*
 * int8 GEMM on baseline Advanced SIMD, exact on every AArch64 CPU: weights and activations widened
 * to int16 and multiplied into int32 with smlal by element. A register tile is up to 4 rows x one
 * 16-column weight tile: 16 accumulators, 4 activation vectors and the quad's 4 weight rows stay in
 * the 32 registers, and each widened weight vector feeds four rows.
 */
enum { ROWS_PER_BLOCK = 4 };

/* A block's activations as int16, four per quad; zero past K. */
static void widen_rows(const uint8_t *a, size_t lda, size_t rows, size_t k, size_t quads, int16_t *x) {
    for (size_t r = 0; r < rows; r++) {
        for (size_t i = 0; i < 4 * quads; i++) {
            x[r * 4 * quads + i] = i < k ? a[r * lda + i] : 0;
        }
    }
}

/* Row j of the quad (`ld4` gave its 16 columns in w.val[j]) times lane j of each row's activations;
 * acc[r][v] gathers columns 4v to 4v + 3. */
#define QF_QUAD_ROW(j)                                                                    \
    do {                                                                                  \
        int16x8_t low = vmovl_s8(vget_low_s8(w.val[j])), high = vmovl_high_s8(w.val[j]);  \
        QF_UNROLL for (size_t r = 0; r < rows; r++) {                                     \
            acc[r][0] = vmlal_lane_s16(acc[r][0], vget_low_s16(low), x[r], j);            \
            acc[r][1] = vmlal_high_lane_s16(acc[r][1], low, x[r], j);                     \
            acc[r][2] = vmlal_lane_s16(acc[r][2], vget_low_s16(high), x[r], j);           \
            acc[r][3] = vmlal_high_lane_s16(acc[r][3], high, x[r], j);                    \
        }                                                                                 \
    } while (0)

/* `rows` x 16 columns; inlined with a constant count, so the accumulators stay in registers. */
static inline __attribute__((always_inline)) void tile(const int16_t *x_block, size_t quads, const int8_t *weights,
                                                       const qf_zero_points *zeros, const int32_t *row_terms, int32_t *c,
                                                       size_t ldc, size_t first_col, size_t n, const size_t rows) {
    int32x4_t acc[ROWS_PER_BLOCK][4];
    QF_UNROLL for (size_t r = 0; r < rows; r++) {
        QF_UNROLL for (size_t v = 0; v < 4; v++) acc[r][v] = vdupq_n_s32(0);
    }
    for (size_t quad = 0; quad < quads; quad++) {
        int8x16x4_t w = vld4q_s8(weights + quad * QF_TILE_QUAD_BYTES);
        int16x4_t x[ROWS_PER_BLOCK];
        QF_UNROLL for (size_t r = 0; r < rows; r++) x[r] = vld1_s16(x_block + r * 4 * quads + 4 * quad);
        QF_QUAD_ROW(0);
        QF_QUAD_ROW(1);
        QF_QUAD_ROW(2);
        QF_QUAD_ROW(3);
    }
    QF_UNROLL for (size_t r = 0; r < rows; r++) qf_neon_store_tile(c + r * ldc, first_col, n, zeros, row_terms[r], acc[r]);
}

#define QF_TILE_CASE(r) \
    case r: tile(x_block, quads, weights, zeros, row_terms, c, ldc, first_col, n, r); break;

static void tile_of(size_t rows, const int16_t *x_block, size_t quads, const int8_t *weights, const qf_zero_points *zeros,
                    const int32_t *row_terms, int32_t *c, size_t ldc, size_t first_col, size_t n) {
    switch (rows) {
        QF_TILE_CASE(4)
        QF_TILE_CASE(3)
        QF_TILE_CASE(2)
        QF_TILE_CASE(1)
    }
}

static void gemm_u8s8_neon(const uint8_t *a, size_t lda, size_t m, uint8_t a_zero, const qf_packed_s8 *b,
                           const int8_t *b_zero, int32_t *c, size_t ldc) {
    const qf_zero_points zeros = {a_zero, b->column_sums, b_zero};
    size_t tiles = (b->n + QF_TILE_COLUMNS - 1) / QF_TILE_COLUMNS;
    size_t quads = (b->k + 3) / 4;
    int16_t *x_block = qf_thread_scratch(ROWS_PER_BLOCK * 4 * (quads > 0 ? quads : 1) * sizeof(int16_t));
    for (size_t row = 0; row < m; row += ROWS_PER_BLOCK) {
        size_t rows = m - row < ROWS_PER_BLOCK ? m - row : ROWS_PER_BLOCK;
        widen_rows(a + row * lda, lda, rows, b->k, quads, x_block);
        int32_t row_terms[ROWS_PER_BLOCK] = {0};
        if (b_zero != NULL) qf_row_zero_terms(a + row * lda, lda, rows, b->k, a_zero, row_terms);
        for (size_t t = 0; t < tiles; t++) {
            tile_of(rows, x_block, quads, b->data + t * quads * QF_TILE_QUAD_BYTES, &zeros, row_terms, c + row * ldc, ldc,
                    t * QF_TILE_COLUMNS, b->n);
        }
    }
}

const qf_kernel_table qf_neon_kernels = {
    .name = "neon",
    .gemm_u8s8 = gemm_u8s8_neon,
    .sgemm = qf_sgemm_neon_path,
    .sgemm_packed = qf_sgemm_packed_neon_path,
    .range_f32 = qf_range_f32_neon_path,
    .quantize_u8 = qf_quantize_u8_neon_path,
    .depthwise_conv2d_f32 = qf_depthwise_conv2d_f32_neon_path,
    .exp_f32 = qf_exp_f32_neon_path,
    .erf_f32 = qf_erf_f32_neon_path,
    .tanh_f32 = qf_tanh_f32_neon_path,
    .sigmoid_f32 = qf_sigmoid_f32_neon_path,
    .gelu_erf_f32 = qf_gelu_erf_f32_neon_path,
    .softmax_rows_f32 = qf_softmax_rows_f32_neon_path,
};

#endif
