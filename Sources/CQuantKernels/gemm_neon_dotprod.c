#include "kernel_table.h"

#if defined(__aarch64__)
#include "gemm_neon_store.h"

#define QF_DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))

/*
 * int8 GEMM on the dot-product extension. sdot multiplies signed by signed bytes, and activations
 * are unsigned, so the kernel runs on A - 128 (which fits int8), whose zero point is then
 * a_zero - 128: the store subtracts (a_zero - 128) * column_sums[n], which adds back the 128 * sum b
 * the shift took away. Every partial sum stays within K * 128 * 128.
 * A register tile is up to 4 rows x one 16-column weight tile, 16 accumulators; each 16-byte
 * weight load (four columns' quads, sdot's operand order as packed) feeds four rows.
 */
enum { ROWS_PER_BLOCK = 4, ACTIVATION_SHIFT = 128 };

/* A block's activations minus 128, a quad's four bytes per int32 so one `ld1r` broadcasts them;
 * past K the bytes multiply zero weights and are left 0. */
static void shift_rows(const uint8_t *a, size_t lda, size_t rows, size_t k, size_t quads, int32_t *x) {
    for (size_t r = 0; r < rows; r++) {
        uint8_t *x_row = (uint8_t *)(x + r * quads);
        for (size_t i = 0; i < 4 * quads; i++) {
            x_row[i] = i < k ? a[r * lda + i] ^ ACTIVATION_SHIFT : 0;
        }
    }
}

/* `rows` x 16 columns; inlined with a constant count, so the accumulators stay in registers. */
static inline __attribute__((always_inline)) QF_DOTPROD void tile(
    const int32_t *x_block, size_t quads, const int8_t *weights, const qf_zero_points *zeros, const int32_t *row_terms,
    int32_t *c, size_t ldc, size_t first_col, size_t n, const size_t rows) {
    int32x4_t acc[ROWS_PER_BLOCK][4];
    QF_UNROLL for (size_t r = 0; r < rows; r++) {
        QF_UNROLL for (size_t v = 0; v < 4; v++) acc[r][v] = vdupq_n_s32(0);
    }
    for (size_t quad = 0; quad < quads; quad++) {
        int8x16_t w[4];
        QF_UNROLL for (size_t v = 0; v < 4; v++) w[v] = vld1q_s8(weights + quad * QF_TILE_QUAD_BYTES + 16 * v);
        QF_UNROLL for (size_t r = 0; r < rows; r++) {
            int8x16_t x = vreinterpretq_s8_s32(vld1q_dup_s32(x_block + r * quads + quad));
            QF_UNROLL for (size_t v = 0; v < 4; v++) acc[r][v] = vdotq_s32(acc[r][v], w[v], x);
        }
    }
    QF_UNROLL for (size_t r = 0; r < rows; r++) qf_neon_store_tile(c + r * ldc, first_col, n, zeros, row_terms[r], acc[r]);
}

#define QF_TILE_CASE(r) \
    case r: tile(x_block, quads, weights, zeros, row_terms, c, ldc, first_col, n, r); break;

static QF_DOTPROD void tile_of(size_t rows, const int32_t *x_block, size_t quads, const int8_t *weights,
                               const qf_zero_points *zeros, const int32_t *row_terms, int32_t *c, size_t ldc,
                               size_t first_col, size_t n) {
    switch (rows) {
        QF_TILE_CASE(4)
        QF_TILE_CASE(3)
        QF_TILE_CASE(2)
        QF_TILE_CASE(1)
    }
}

static void gemm_u8s8_neon_dotprod(const uint8_t *a, size_t lda, size_t m, uint8_t a_zero, const qf_packed_s8 *b,
                                   const int8_t *b_zero, int32_t *c, size_t ldc) {
    const qf_zero_points zeros = {(int32_t)a_zero - ACTIVATION_SHIFT, b->column_sums, b_zero};
    size_t tiles = (b->n + QF_TILE_COLUMNS - 1) / QF_TILE_COLUMNS;
    size_t quads = (b->k + 3) / 4;
    int32_t *x_block = qf_thread_scratch(ROWS_PER_BLOCK * (quads > 0 ? quads : 1) * sizeof(int32_t));
    for (size_t row = 0; row < m; row += ROWS_PER_BLOCK) {
        size_t rows = m - row < ROWS_PER_BLOCK ? m - row : ROWS_PER_BLOCK;
        shift_rows(a + row * lda, lda, rows, b->k, quads, x_block);
        int32_t row_terms[ROWS_PER_BLOCK] = {0}; /* the same for A and A - 128: both zero points moved */
        if (b_zero != NULL) qf_row_zero_terms(a + row * lda, lda, rows, b->k, a_zero, row_terms);
        for (size_t t = 0; t < tiles; t++) {
            tile_of(rows, x_block, quads, b->data + t * quads * QF_TILE_QUAD_BYTES, &zeros, row_terms,
                    c + row * ldc, ldc, t * QF_TILE_COLUMNS, b->n);
        }
    }
}

/* The float kernels are the plain NEON ones: only the int8 GEMM uses the dot product. */
const qf_kernel_table qf_neon_dotprod_kernels = {
    .name = "neon-dotprod",
    .gemm_u8s8 = gemm_u8s8_neon_dotprod,
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
