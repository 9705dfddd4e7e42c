#include "CQuantKernels.h"

void qf_scale_accumulators(const int32_t *restrict acc, size_t rows, size_t columns, const float *restrict scales,
                           const float *restrict offsets, float *restrict y) {
    for (size_t r = 0; r < rows; r++) {
        const int32_t *restrict source = acc + r * columns;
        float *restrict target = y + r * columns;
        for (size_t n = 0; n < columns; n++) {
            target[n] = (float)source[n] * scales[n] + offsets[n];
        }
    }
}

enum { TRANSPOSED_ROW_BLOCK = 16 };

void qf_scale_accumulators_transposed(const int32_t *restrict acc, size_t rows, size_t columns,
                                      const float *restrict scales, const float *restrict offsets, float *restrict y,
                                      size_t y_stride) {
    for (size_t first = 0; first < rows; first += TRANSPOSED_ROW_BLOCK) {
        size_t last = rows - first < TRANSPOSED_ROW_BLOCK ? rows : first + TRANSPOSED_ROW_BLOCK;
        for (size_t n = 0; n < columns; n++) {
            float *restrict target = y + n * y_stride;
            for (size_t r = first; r < last; r++) {
                target[r] = (float)acc[r * columns + n] * scales[n] + offsets[n];
            }
        }
    }
}
