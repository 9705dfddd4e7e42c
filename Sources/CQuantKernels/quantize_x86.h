/*
 * The activation quantizers of the x86 paths, written once over the vocabulary of simd_avx2.h or
 * simd_avx512.h (QF_PATH names the exported functions); see CQuantKernels.h for the semantics.
 * Whole vectors, then the scalar path for the rest.
 */
#include <math.h>

/* The accumulator is the second operand: min/max return it when x is NaN, so NaN is skipped. */
QF_TARGET void QF_PATH(range_f32)(const float *x, size_t n, float *low, float *high) {
    QF_V lo = V_SET1(0.0f), hi = lo;
    size_t i = 0;
    for (; i + QF_LANES <= n; i += QF_LANES) {
        QF_V v = V_LOAD(x + i);
        lo = V_MIN(v, lo);
        hi = V_MAX(v, hi);
    }
    float tail_low, tail_high, lows[QF_LANES], highs[QF_LANES];
    qf_range_f32_scalar_path(x + i, n - i, &tail_low, &tail_high);
    V_STORE(lows, lo);
    V_STORE(highs, hi);
    for (int lane = 0; lane < QF_LANES; lane++) {
        tail_low = fminf(tail_low, lows[lane]);
        tail_high = fmaxf(tail_high, highs[lane]);
    }
    *low = tail_low;
    *high = tail_high;
}

/* x / scale rounded half to even (divided, as ONNX and onnxruntime do), plus the zero point, clamped;
 * NaN becomes the zero point. */
QF_TARGET void QF_PATH(quantize_u8)(const float *x, size_t n, float scale, uint8_t zero_point, uint8_t *y) {
    const QF_V divisor = V_SET1(scale), zero = V_SET1((float)zero_point), ceiling = V_SET1(255.0f);
    size_t i = 0;
    for (; i + QF_LANES <= n; i += QF_LANES) {
        QF_V v = V_LOAD(x + i);
        QF_V q = V_ADD(V_ROUND(V_DIV(v, divisor)), zero);
        q = V_MIN(V_MAX(q, V_SET1(0.0f)), ceiling);
        V_STORE_BYTES(y + i, V_SELECT(V_ISNAN(v), zero, q));
    }
    qf_quantize_u8_scalar_path(x + i, n - i, scale, zero_point, y + i);
}
