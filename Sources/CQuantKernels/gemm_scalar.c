#include "kernel_table.h"

/* Portable reference path: walks the packed layout exactly as the SIMD paths do. */
static void gemm_u8s8_scalar(const uint8_t *a, size_t lda, size_t m, uint8_t a_zero,
                             const qf_packed_s8 *b, const int8_t *b_zero, int32_t *c, size_t ldc) {
    const qf_zero_points zeros = {a_zero, b->column_sums, b_zero};
    size_t tiles = (b->n + QF_TILE_COLUMNS - 1) / QF_TILE_COLUMNS;
    size_t quads = (b->k + 3) / 4;
    for (size_t row = 0; row < m; row++) {
        const uint8_t *a_row = a + row * lda;
        int32_t row_term = 0;
        if (b_zero != NULL) qf_row_zero_terms(a_row, lda, 1, b->k, a_zero, &row_term);
        for (size_t tile = 0; tile < tiles; tile++) {
            int32_t sums[QF_TILE_COLUMNS] = {0};
            const int8_t *block = b->data + tile * quads * QF_TILE_QUAD_BYTES;
            for (size_t quad = 0; quad < quads; quad++, block += QF_TILE_QUAD_BYTES) {
                for (size_t j = 0; j < 4 && 4 * quad + j < b->k; j++) {
                    int32_t activation = a_row[4 * quad + j];
                    for (size_t lane = 0; lane < QF_TILE_COLUMNS; lane++) {
                        sums[lane] += activation * block[4 * lane + j];
                    }
                }
            }
            for (size_t lane = 0; lane < QF_TILE_COLUMNS; lane++) {
                size_t col = tile * QF_TILE_COLUMNS + lane;
                if (col < b->n) {
                    c[row * ldc + col] = qf_zero_corrected(&zeros, sums[lane], col, row_term);
                }
            }
        }
    }
}

const qf_kernel_table qf_scalar_kernels = {
    .name = "scalar",
    .gemm_u8s8 = gemm_u8s8_scalar,
    .sgemm = qf_sgemm_scalar_path,
    .sgemm_packed = qf_sgemm_packed_scalar_path,
    .range_f32 = qf_range_f32_scalar_path,
    .quantize_u8 = qf_quantize_u8_scalar_path,
    .depthwise_conv2d_f32 = qf_depthwise_conv2d_f32_scalar_path,
    .exp_f32 = qf_exp_f32_scalar_path,
    .erf_f32 = qf_erf_f32_scalar_path,
    .tanh_f32 = qf_tanh_f32_scalar_path,
    .sigmoid_f32 = qf_sigmoid_f32_scalar_path,
    .gelu_erf_f32 = qf_gelu_erf_f32_scalar_path,
    .softmax_rows_f32 = qf_softmax_rows_f32_scalar_path,
};
