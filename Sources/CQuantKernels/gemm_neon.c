#include "kernel_table.h"

#if defined(__aarch64__)
#include <arm_neon.h>
#include <stdlib.h>

/*
 * int8 GEMM on baseline Advanced SIMD, exact on every AArch64 CPU: weights and activations widened
 * to int16 and multiplied into int32 with smlal by element. A tile is up to 4 rows x 2 panels:
 * 16 accumulators, 4 activation vectors and 4 widened weight vectors stay in the 32 registers, and
 * each widened weight vector feeds four rows.
 */
enum { ROWS_PER_BLOCK = 4, PANELS_PER_TILE = 2, PAIRS_PER_LOAD = 4 };

/* A block's activations as int16, built once and read by every panel; an odd K gets a trailing 0,
 * so each row holds 2 * k_pairs values. */
static void widen_rows(const uint8_t *a, size_t lda, size_t rows, size_t k, size_t k_pairs, int16_t *x) {
    for (size_t r = 0; r < rows; r++) {
        int16_t *x_row = x + r * 2 * k_pairs;
        for (size_t i = 0; i < 2 * k_pairs; i++) {
            x_row[i] = i < k ? a[r * lda + i] : 0;
        }
    }
}

/* One row pair of a panel: `ld2` splits it into the even row's and the odd row's 8 weights. */
typedef struct {
    int16x8_t even, odd;
} pair_weights;

static inline pair_weights load_pair(const int8_t *block) {
    int8x8x2_t rows = vld2_s8(block);
    return (pair_weights){vmovl_s8(rows.val[0]), vmovl_s8(rows.val[1])};
}

/* acc[0] gathers columns 0-3 of the panel, acc[1] columns 4-7. */
#define QF_MLAL_LANE(acc, w, x, lane)                                      \
    do {                                                                   \
        (acc)[0] = vmlal_laneq_s16((acc)[0], vget_low_s16(w), (x), (lane)); \
        (acc)[1] = vmlal_high_laneq_s16((acc)[1], (w), (x), (lane));        \
    } while (0)

/* Pair `pair + j` of every panel of the tile, its activations in lanes 2j and 2j + 1 of x[r]. */
#define QF_PAIR_STEP(j)                                                                        \
    QF_UNROLL for (size_t p = 0; p < panels; p++) {                                                      \
        pair_weights w = load_pair(panel0 + p * panel_bytes + (pair + (j)) * 2 * QF_PANEL_COLUMNS); \
        QF_UNROLL for (size_t r = 0; r < rows; r++) {                                                    \
            QF_MLAL_LANE(acc[r][p], w.even, x[r], 2 * (j));                                    \
            QF_MLAL_LANE(acc[r][p], w.odd, x[r], 2 * (j) + 1);                                 \
        }                                                                                      \
    }

static inline void store_panel(int32_t *c_row, size_t first_col, size_t n, const int32x4_t sums[2]) {
    if (first_col + QF_PANEL_COLUMNS <= n) {
        vst1q_s32(c_row + first_col, sums[0]);
        vst1q_s32(c_row + first_col + 4, sums[1]);
        return;
    }
    int32_t lanes[QF_PANEL_COLUMNS];
    vst1q_s32(lanes, sums[0]);
    vst1q_s32(lanes + 4, sums[1]);
    for (size_t col = first_col; col < n; col++) {
        c_row[col] = lanes[col - first_col];
    }
}

/* `rows` x `panels`; inlined with constant counts, so the accumulators stay in registers. */
static inline __attribute__((always_inline)) void tile(const int16_t *x_block, size_t k_pairs,
                                                       const int8_t *panel0, size_t panel_bytes,
                                                       int32_t *c, size_t ldc, size_t first_col, size_t n,
                                                       const size_t rows, const size_t panels) {
    int32x4_t acc[ROWS_PER_BLOCK][PANELS_PER_TILE][2];
    QF_UNROLL for (size_t r = 0; r < rows; r++) {
        QF_UNROLL for (size_t p = 0; p < panels; p++) acc[r][p][0] = acc[r][p][1] = vdupq_n_s32(0);
    }
    size_t pair = 0;
    for (; pair + PAIRS_PER_LOAD <= k_pairs; pair += PAIRS_PER_LOAD) {
        int16x8_t x[ROWS_PER_BLOCK];
        QF_UNROLL for (size_t r = 0; r < rows; r++) x[r] = vld1q_s16(x_block + r * 2 * k_pairs + 2 * pair);
        QF_PAIR_STEP(0)
        QF_PAIR_STEP(1)
        QF_PAIR_STEP(2)
        QF_PAIR_STEP(3)
    }
    for (; pair < k_pairs; pair++) {
        QF_UNROLL for (size_t p = 0; p < panels; p++) {
            pair_weights w = load_pair(panel0 + p * panel_bytes + pair * 2 * QF_PANEL_COLUMNS);
            QF_UNROLL for (size_t r = 0; r < rows; r++) {
                const int16_t *x = x_block + r * 2 * k_pairs + 2 * pair;
                acc[r][p][0] = vmlal_n_s16(acc[r][p][0], vget_low_s16(w.even), x[0]);
                acc[r][p][1] = vmlal_high_n_s16(acc[r][p][1], w.even, x[0]);
                acc[r][p][0] = vmlal_n_s16(acc[r][p][0], vget_low_s16(w.odd), x[1]);
                acc[r][p][1] = vmlal_high_n_s16(acc[r][p][1], w.odd, x[1]);
            }
        }
    }
    QF_UNROLL for (size_t r = 0; r < rows; r++) {
        QF_UNROLL for (size_t p = 0; p < panels; p++) store_panel(c + r * ldc, first_col + p * QF_PANEL_COLUMNS, n, acc[r][p]);
    }
}

#define QF_TILE_CASE(r)                                                                         \
    case r:                                                                                    \
        if (panels == 2) tile(x_block, k_pairs, panel0, panel_bytes, c, ldc, first_col, n, r, 2); \
        else tile(x_block, k_pairs, panel0, panel_bytes, c, ldc, first_col, n, r, 1);          \
        break;

static void tile_of(size_t rows, size_t panels, const int16_t *x_block, size_t k_pairs, const int8_t *panel0,
                    size_t panel_bytes, int32_t *c, size_t ldc, size_t first_col, size_t n) {
    switch (rows) {
        QF_TILE_CASE(4)
        QF_TILE_CASE(3)
        QF_TILE_CASE(2)
        QF_TILE_CASE(1)
    }
}

static void gemm_u8s8_raw_neon(const uint8_t *a, size_t lda, size_t m, const qf_packed_s8 *b, int32_t *c, size_t ldc) {
    size_t panels = (b->n + QF_PANEL_COLUMNS - 1) / QF_PANEL_COLUMNS;
    size_t k_pairs = (b->k + 1) / 2;
    size_t panel_bytes = k_pairs * 2 * QF_PANEL_COLUMNS;
    int16_t *x_block = malloc(ROWS_PER_BLOCK * 2 * (k_pairs > 0 ? k_pairs : 1) * sizeof(int16_t));
    if (x_block == NULL) {
        abort(); /* a few KB per call; there is no sensible way to go on without them */
    }
    for (size_t row = 0; row < m; row += ROWS_PER_BLOCK) {
        size_t rows = m - row < ROWS_PER_BLOCK ? m - row : ROWS_PER_BLOCK;
        widen_rows(a + row * lda, lda, rows, b->k, k_pairs, x_block);
        for (size_t panel = 0; panel < panels; panel += PANELS_PER_TILE) {
            size_t tile_panels = panels - panel < PANELS_PER_TILE ? panels - panel : PANELS_PER_TILE;
            tile_of(rows, tile_panels, x_block, k_pairs, b->data + panel * panel_bytes, panel_bytes,
                    c + row * ldc, ldc, panel * QF_PANEL_COLUMNS, b->n);
        }
    }
    free(x_block);
}

const qf_kernel_table qf_neon_kernels = {
    .name = "neon",
    .gemm_u8s8_raw = gemm_u8s8_raw_neon,
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
