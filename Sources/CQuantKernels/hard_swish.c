#include "CQuantKernels.h"

void qf_hard_swish_f32(const float *restrict x, float *restrict y, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float gate = x[i] * (1.0f / 6.0f) + 0.5f;
        gate = gate < 0.0f ? 0.0f : gate;
        y[i] = x[i] * (gate > 1.0f ? 1.0f : gate);
    }
}
