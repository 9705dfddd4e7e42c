#include "kernel_table.h"

#include <math.h>

/*
 * Portable vector math: each value computed in double with libm and rounded once, with the edge
 * conventions every path shares (see CQuantKernels.h): exp flushes results below FLT_MIN to 0 and
 * gelu is -0 below -4 sqrt 2.
 */
static float exp_one(float x) {
    return x < QF_EXP_FLUSH_BELOW ? 0.0f : (float)exp((double)x);
}

void qf_exp_f32_scalar_path(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = exp_one(x[i]);
}

void qf_erf_f32_scalar_path(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = (float)erf((double)x[i]);
}

void qf_tanh_f32_scalar_path(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = (float)tanh((double)x[i]);
}

void qf_sigmoid_f32_scalar_path(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = (float)(1.0 / (1.0 + exp(-(double)x[i])));
}

/* 0.5 x (1 + erf(x / sqrt 2)) = 0.5 x erfc(-x / sqrt 2), which keeps its relative accuracy for x < 0. */
void qf_gelu_erf_f32_scalar_path(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) {
        double v = x[i];
        y[i] = x[i] < QF_GELU_ZERO_BELOW ? -0.0f : (float)(0.5 * v * erfc(-v * 0.70710678118654752440));
    }
}

void qf_softmax_rows_f32_scalar_path(float *x, size_t rows, size_t length) {
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * length;
        float max = -INFINITY;
        for (size_t i = 0; i < length; i++) max = row[i] > max ? row[i] : max;
        double sum = 0;
        for (size_t i = 0; i < length; i++) {
            row[i] = exp_one(row[i] - max);
            sum += row[i];
        }
        float scale = (float)(1.0 / sum);
        for (size_t i = 0; i < length; i++) row[i] *= scale;
    }
}
