#include "CQuantKernels.h"

/* One portable implementation for every path (see CQuantKernels.h): the two levels of a byte are
 * decoded without branches (x ^ 8) - 8 sign-extends a nibble), so the byte loop vectorises. */
void qf_dequantize_4bit_strip(const uint8_t *levels, int is_signed, size_t k, size_t n, size_t block,
                              const float *scales, const float *zero_points, size_t first, size_t width,
                              float *panel, size_t row_stride) {
    const int sign = is_signed ? 8 : 0;
    for (size_t row = 0; row < k; row++) {
        const float *scale = scales + (row / block) * n + first;
        const float *zero = zero_points + (row / block) * n + first;
        float *out = panel + row * row_stride;
        size_t position = row * n + first, j = 0;
        if ((position & 1) != 0 && width > 0) {
            int high = ((levels[position >> 1] >> 4) ^ sign) - sign;
            out[0] = ((float)high - zero[0]) * scale[0];
            j = 1;
        }
        const uint8_t *bytes = levels + ((position + j) >> 1);
        for (; j + 1 < width; j += 2, bytes++) {
            int low = ((*bytes & 0x0F) ^ sign) - sign, high = ((*bytes >> 4) ^ sign) - sign;
            out[j] = ((float)low - zero[j]) * scale[j];
            out[j + 1] = ((float)high - zero[j + 1]) * scale[j + 1];
        }
        if (j < width) {
            int low = ((*bytes & 0x0F) ^ sign) - sign;
            out[j] = ((float)low - zero[j]) * scale[j];
        }
        for (size_t column = width; column < row_stride; column++) {
            out[column] = 0;
        }
    }
}
