#include "kernel_table.h"

#if defined(__aarch64__)
#include <arm_neon.h>
#include <stdlib.h>

#define QF_DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))

/*
 * int8 GEMM on the dot-product extension. sdot multiplies signed by signed bytes, and activations
 * are unsigned, so the kernel runs on A - 128 (which fits int8) and adds 128 * column_sums[n] back:
 * sum a * b = sum (a - 128) * b + 128 * sum b. Every partial sum stays within K * 128 * 128.
 * A tile is up to 4 rows x 2 panels, 16 accumulators; each regrouped weight vector feeds four rows.
 */
enum { ROWS_PER_BLOCK = 4, PANELS_PER_TILE = 2, ACTIVATION_SHIFT = 128 };

/* A block's activations minus 128, four bytes (two row pairs) per int32 so one `ld1r` broadcasts
 * them; past K (odd K, odd pair count) the bytes multiply zero weights and are left 0. */
static void shift_rows(const uint8_t *a, size_t lda, size_t rows, size_t k, size_t quads, int32_t *x) {
    for (size_t r = 0; r < rows; r++) {
        uint8_t *x_row = (uint8_t *)(x + r * quads);
        for (size_t i = 0; i < 4 * quads; i++) {
            x_row[i] = i < k ? a[r * lda + i] ^ ACTIVATION_SHIFT : 0;
        }
    }
}

/* Two row pairs of a panel zipped so each 32-bit lane holds one column's four consecutive weights;
 * val[0] holds columns 0-3, val[1] columns 4-7. `second` is NULL past the panel's last pair. */
static inline QF_DOTPROD int8x16x2_t load_quad(const int8_t *first, const int8_t *second) {
    int16x8_t low = vreinterpretq_s16_s8(vld1q_s8(first));
    int16x8_t high = second != NULL ? vreinterpretq_s16_s8(vld1q_s8(second)) : vdupq_n_s16(0);
    int8x16x2_t quad = {{vreinterpretq_s8_s16(vzip1q_s16(low, high)), vreinterpretq_s8_s16(vzip2q_s16(low, high))}};
    return quad;
}

/* Adds the shift back while storing: 128 * column_sums, exact in int32 like the product itself. */
static inline QF_DOTPROD void store_panel(int32_t *c_row, const int32_t *column_sums, size_t first_col, size_t n,
                                          const int32x4_t sums[2]) {
    int32_t lanes[QF_PANEL_COLUMNS];
    vst1q_s32(lanes, sums[0]);
    vst1q_s32(lanes + 4, sums[1]);
    for (size_t col = first_col; col < n && col < first_col + QF_PANEL_COLUMNS; col++) {
        c_row[col] = lanes[col - first_col] + ACTIVATION_SHIFT * column_sums[col];
    }
}

/* One quad (two row pairs) of every panel of the tile into the accumulators; `second_pair` is 0
 * only for the last quad of an odd pair count. */
static inline __attribute__((always_inline)) QF_DOTPROD void quad_step(
    int32x4_t acc[ROWS_PER_BLOCK][PANELS_PER_TILE][2], const int32_t *x_block, size_t quads, size_t quad,
    const int8_t *panel0, size_t panel_bytes, int second_pair, const size_t rows, const size_t panels) {
    int8x16_t x[ROWS_PER_BLOCK];
    QF_UNROLL for (size_t r = 0; r < rows; r++) x[r] = vreinterpretq_s8_s32(vld1q_dup_s32(x_block + r * quads + quad));
    QF_UNROLL for (size_t p = 0; p < panels; p++) {
        const int8_t *block = panel0 + p * panel_bytes + quad * 4 * QF_PANEL_COLUMNS;
        int8x16x2_t w = load_quad(block, second_pair ? block + 2 * QF_PANEL_COLUMNS : NULL);
        QF_UNROLL for (size_t r = 0; r < rows; r++) {
            acc[r][p][0] = vdotq_s32(acc[r][p][0], w.val[0], x[r]);
            acc[r][p][1] = vdotq_s32(acc[r][p][1], w.val[1], x[r]);
        }
    }
}

/* `rows` x `panels`; inlined with constant counts, so the accumulators stay in registers. */
static inline __attribute__((always_inline)) QF_DOTPROD void tile(
    const int32_t *x_block, size_t quads, size_t k_pairs, const int8_t *panel0, size_t panel_bytes,
    const int32_t *column_sums, int32_t *c, size_t ldc, size_t first_col, size_t n, const size_t rows, const size_t panels) {
    int32x4_t acc[ROWS_PER_BLOCK][PANELS_PER_TILE][2];
    QF_UNROLL for (size_t r = 0; r < rows; r++) {
        QF_UNROLL for (size_t p = 0; p < panels; p++) acc[r][p][0] = acc[r][p][1] = vdupq_n_s32(0);
    }
    size_t full_quads = k_pairs / 2;
    for (size_t quad = 0; quad < full_quads; quad++) {
        quad_step(acc, x_block, quads, quad, panel0, panel_bytes, 1, rows, panels);
    }
    if (full_quads < quads) {
        quad_step(acc, x_block, quads, full_quads, panel0, panel_bytes, 0, rows, panels);
    }
    QF_UNROLL for (size_t r = 0; r < rows; r++) {
        QF_UNROLL for (size_t p = 0; p < panels; p++) {
            store_panel(c + r * ldc, column_sums, first_col + p * QF_PANEL_COLUMNS, n, acc[r][p]);
        }
    }
}

#define QF_TILE_CASE(r)                                                                                          \
    case r:                                                                                                     \
        if (panels == 2) tile(x_block, quads, k_pairs, panel0, panel_bytes, column_sums, c, ldc, first_col, n, r, 2); \
        else tile(x_block, quads, k_pairs, panel0, panel_bytes, column_sums, c, ldc, first_col, n, r, 1);          \
        break;

static QF_DOTPROD void tile_of(size_t rows, size_t panels, const int32_t *x_block, size_t quads, size_t k_pairs,
                               const int8_t *panel0, size_t panel_bytes, const int32_t *column_sums,
                               int32_t *c, size_t ldc, size_t first_col, size_t n) {
    switch (rows) {
        QF_TILE_CASE(4)
        QF_TILE_CASE(3)
        QF_TILE_CASE(2)
        QF_TILE_CASE(1)
    }
}

static void gemm_u8s8_raw_neon_dotprod(const uint8_t *a, size_t lda, size_t m, const qf_packed_s8 *b,
                                       int32_t *c, size_t ldc) {
    size_t panels = (b->n + QF_PANEL_COLUMNS - 1) / QF_PANEL_COLUMNS;
    size_t k_pairs = (b->k + 1) / 2;
    size_t quads = (k_pairs + 1) / 2;
    size_t panel_bytes = k_pairs * 2 * QF_PANEL_COLUMNS;
    int32_t *x_block = malloc(ROWS_PER_BLOCK * (quads > 0 ? quads : 1) * sizeof(int32_t));
    if (x_block == NULL) {
        abort(); /* a few KB per call; there is no sensible way to go on without them */
    }
    for (size_t row = 0; row < m; row += ROWS_PER_BLOCK) {
        size_t rows = m - row < ROWS_PER_BLOCK ? m - row : ROWS_PER_BLOCK;
        shift_rows(a + row * lda, lda, rows, b->k, quads, x_block);
        for (size_t panel = 0; panel < panels; panel += PANELS_PER_TILE) {
            size_t tile_panels = panels - panel < PANELS_PER_TILE ? panels - panel : PANELS_PER_TILE;
            tile_of(rows, tile_panels, x_block, quads, k_pairs, b->data + panel * panel_bytes, panel_bytes,
                    b->column_sums, c + row * ldc, ldc, panel * QF_PANEL_COLUMNS, b->n);
        }
    }
    free(x_block);
}

/* The float kernels are the plain NEON ones: only the int8 GEMM uses the dot product. */
const qf_kernel_table qf_neon_dotprod_kernels = {
    .name = "neon-dotprod",
    .gemm_u8s8_raw = gemm_u8s8_raw_neon_dotprod,
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
