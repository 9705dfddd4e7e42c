#include "kernel_table.h"

#include <math.h>

/* The portable path of the activation quantizers; see CQuantKernels.h for the semantics. */
void qf_range_f32_scalar_path(const float *x, size_t n, float *low, float *high) {
    float lo = 0, hi = 0;
    for (size_t i = 0; i < n; i++) {
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
    }
    *low = lo;
    *high = hi;
}

void qf_quantize_u8_scalar_path(const float *x, size_t n, float scale, uint8_t zero_point, uint8_t *y) {
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i])) {
            y[i] = zero_point;
            continue;
        }
        float q = nearbyintf(x[i] / scale) + (float)zero_point;  /* default rounding: half to even */
        y[i] = (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
    }
}
