#ifndef QF_GEMM_NEON_STORE_H
#define QF_GEMM_NEON_STORE_H

#include "kernel_table.h"

#include <arm_neon.h>

/* A row's 16-column tile of sums, less its zero-point terms (see qf_gemm_u8s8_fn), as both NEON
 * kernels store it: sums[v] holds columns first_col + 4v to first_col + 4v + 3. */
static inline void qf_neon_store_tile(int32_t *c_row, size_t first_col, size_t n, const qf_zero_points *zeros,
                                      int32_t row_term, int32x4_t sums[4]) {
    if (first_col + QF_TILE_COLUMNS <= n) {
        int8x16_t b_zero = zeros->b_zero != NULL ? vld1q_s8(zeros->b_zero + first_col) : vdupq_n_s8(0);
        int16x8_t b_zero_low = vmovl_s8(vget_low_s8(b_zero)), b_zero_high = vmovl_high_s8(b_zero);
        int32x4_t b_zero_lanes[4] = {vmovl_s16(vget_low_s16(b_zero_low)), vmovl_high_s16(b_zero_low),
                                     vmovl_s16(vget_low_s16(b_zero_high)), vmovl_high_s16(b_zero_high)};
        for (size_t v = 0; v < 4; v++) {
            int32x4_t value = vmlsq_n_s32(sums[v], vld1q_s32(zeros->column_sums + first_col + 4 * v), zeros->a_zero);
            vst1q_s32(c_row + first_col + 4 * v, vmlsq_n_s32(value, b_zero_lanes[v], row_term));
        }
        return;
    }
    int32_t lanes[QF_TILE_COLUMNS];
    for (size_t v = 0; v < 4; v++) vst1q_s32(lanes + 4 * v, sums[v]);
    for (size_t col = first_col; col < n; col++) {
        c_row[col] = qf_zero_corrected(zeros, lanes[col - first_col], col, row_term);
    }
}

#endif
