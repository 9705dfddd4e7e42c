/*
 * Vector math for the x86 paths, written once over the small vocabulary of simd_avx2.h (8 lanes,
 * AVX2 + FMA) or simd_avx512.h (16 lanes, AVX512F), which vmath_avx2.c and vmath_avx512.c include
 * first. The algorithms (shared with vmath_neon.c):
 *
 * exp   Cephes-style: n = round(x log2 e), r = x - n ln 2 with ln 2 split in two (0.693359375, exact
 *       in a product with n, and -2.12194440e-4), exp(r) = 1 + r + r^2 P(r) with Cephes expf's degree-5
 *       P, then times 2^n built in the exponent field as two halves (so n = 128 and n = -126 both
 *       work). x is clamped to [-88, 89] first: above 88.72 the product overflows to +inf by itself,
 *       below ln FLT_MIN the result is flushed to 0, NaN is put back at the end. (Here the lanes to be
 *       flushed compute exp(0) instead: from -88 the product is subnormal, and subnormal results
 *       cost a microcode assist each on x86, which made softmax over the masked logits of padded
 *       attention rows, -10000 and below, 2.2x slower.)
 * tanh  |x| < 0.625: Cephes tanhf's odd polynomial x + x^3 Q(x^2); otherwise 1 - 2 / (exp(2|x|) + 1),
 *       which has no cancellation there; the sign of x is put back last.
 * sigmoid  1 / (1 + exp(-x)).
 * erf   |x| < 1: x P(x^2), P of degree 6 fitted (minimax, weighted least squares) to erf(x)/x, error
 *       1.2e-9 before rounding; 1 <= |x| < 4: erfc(|x|) = exp(-x^2) Q(1/|x|), Q of degree 8 fitted
 *       to erfc(x) exp(x^2) in relative error (6.5e-8), erf = 1 - erfc; |x| >= 4 clamps to 4, whose
 *       1 - erfc(4) rounds to 1.
 * gelu  0.5 x (1 + erf(z)), z = x / sqrt 2, as 0.5 x (1 + erf|z|) for x >= 0 and 0.5 x erfc|z| for
 *       x < 0 (from the same two pieces), so the small negative tail keeps its relative accuracy.
 *
 * The vocabulary: QF_V (float vector), QF_VI (int32 vector), QF_M (lane mask), QF_LANES, QF_TARGET
 * (the function attribute) and the operations V_* / VI_*, each one instruction or two on both
 * widths; the including file names the exported functions with QF_PATH(function).
 */
#include <math.h>
#include <string.h>

#define QF_INLINE static inline __attribute__((always_inline))

static const float erf_small[] = {1.128379166e+00f, -3.761262715e-01f, 1.128360029e-01f, -2.685444856e-02f,
                                  5.189542003e-03f, -8.020894933e-04f, 7.889285471e-05f};
static const float erfc_large[] = {2.530946297e-04f, 5.593158011e-01f, 4.015972510e-02f, -4.646672392e-01f,
                                   4.809397040e-01f, -2.190696297e-01f, 4.027100507e-03f, 3.799977641e-02f,
                                   -1.137478460e-02f};

/* c[0] + c[1] t + ... + c[degree] t^degree */
QF_INLINE QF_TARGET QF_V polynomial(const float *c, int degree, QF_V t) {
    QF_V p = V_SET1(c[degree]);
    for (int i = degree - 1; i >= 0; i--) p = V_FMADD(p, t, V_SET1(c[i]));
    return p;
}

QF_INLINE QF_TARGET QF_V exp_lanes(QF_V x) {
    QF_M flushed = V_LT(x, V_SET1(QF_EXP_FLUSH_BELOW));
    QF_V v = V_MIN(V_SELECT(flushed, V_SET1(0.0f), x), V_SET1(89.0f));
    QF_V n = V_ROUND(V_MUL(v, V_SET1(1.44269504088896341f)));
    QF_V r = V_FNMADD(n, V_SET1(0.693359375f), v);
    r = V_FNMADD(n, V_SET1(-2.12194440e-4f), r);
    QF_V p = V_SET1(1.9875691500e-4f);
    p = V_FMADD(p, r, V_SET1(1.3981999507e-3f));
    p = V_FMADD(p, r, V_SET1(8.3334519073e-3f));
    p = V_FMADD(p, r, V_SET1(4.1665795894e-2f));
    p = V_FMADD(p, r, V_SET1(1.6666665459e-1f));
    p = V_FMADD(p, r, V_SET1(5.0000001201e-1f));
    QF_V y = V_FMADD(p, V_MUL(r, r), V_ADD(r, V_SET1(1.0f)));
    QF_VI k = VI_FROM_V(n), half = VI_SRAI(k, 1), bias = VI_SET1(127);
    QF_V scale1 = V_FROM_BITS(VI_SLLI(VI_ADD(half, bias), 23));
    QF_V scale2 = V_FROM_BITS(VI_SLLI(VI_ADD(VI_SUB(k, half), bias), 23));
    y = V_MUL(V_MUL(y, scale1), scale2);
    y = V_SELECT(flushed, V_SET1(0.0f), y);
    return V_SELECT(V_ISNAN(x), x, y);
}

QF_INLINE QF_TARGET QF_V tanh_lanes(QF_V x) {
    QF_V ax = V_ABS(x);
    QF_V z = V_MUL(ax, ax);
    QF_V q = V_SET1(-5.70498872745e-3f);
    q = V_FMADD(q, z, V_SET1(2.06390887954e-2f));
    q = V_FMADD(q, z, V_SET1(-5.37397155531e-2f));
    q = V_FMADD(q, z, V_SET1(1.33314422036e-1f));
    q = V_FMADD(q, z, V_SET1(-3.33332819422e-1f));
    QF_V small = V_FMADD(V_MUL(q, z), ax, ax);
    const QF_V one = V_SET1(1.0f);
    QF_V e = exp_lanes(V_ADD(ax, ax));
    QF_V large = V_SUB(one, V_DIV(V_SET1(2.0f), V_ADD(e, one)));
    return V_WITH_SIGN_OF(V_SELECT(V_LT(ax, V_SET1(0.625f)), small, large), x);
}

QF_INLINE QF_TARGET QF_V sigmoid_lanes(QF_V x) {
    const QF_V one = V_SET1(1.0f);
    return V_DIV(one, V_ADD(one, exp_lanes(V_SUB(V_SET1(0.0f), x))));
}

/* erf(a) and erfc(a) for a = |z| >= 0 (NaN not handled: callers put it back). */
QF_INLINE QF_TARGET void erf_parts(QF_V a, QF_V *erf_a, QF_V *erfc_a) {
    const QF_V one = V_SET1(1.0f);
    QF_V small = V_MUL(polynomial(erf_small, 6, V_MUL(a, a)), a);
    QF_V b = V_MIN(V_MAX(a, one), V_SET1(4.0f));
    QF_V q = polynomial(erfc_large, 8, V_DIV(one, b));
    QF_V large = V_MUL(exp_lanes(V_MUL(V_SUB(V_SET1(0.0f), b), b)), q);
    QF_M is_small = V_LT(a, one);
    *erf_a = V_SELECT(is_small, small, V_SUB(one, large));
    *erfc_a = V_SELECT(is_small, V_SUB(one, small), large);
}

QF_INLINE QF_TARGET QF_V erf_lanes(QF_V x) {
    QF_V erf_a, erfc_a;
    erf_parts(V_ABS(x), &erf_a, &erfc_a);
    return V_SELECT(V_ISNAN(x), x, V_WITH_SIGN_OF(erf_a, x));
}

QF_INLINE QF_TARGET QF_V gelu_lanes(QF_V x) {
    QF_V erf_a, erfc_a;
    erf_parts(V_ABS(V_MUL(x, V_SET1(0.70710678118654752f))), &erf_a, &erfc_a);
    QF_V factor = V_SELECT(V_LT(x, V_SET1(0.0f)), erfc_a, V_ADD(V_SET1(1.0f), erf_a));
    QF_V y = V_MUL(V_MUL(x, V_SET1(0.5f)), factor);
    return V_SELECT(V_LT(x, V_SET1(QF_GELU_ZERO_BELOW)), V_SET1(-0.0f), y);
}

/* Whole vectors, then the last values through a zero-padded vector. */
#define QF_ELEMENTWISE(name, function)                                                   \
    QF_TARGET void QF_PATH(name)(const float *x, float *y, size_t n) {                  \
        size_t i = 0;                                                                    \
        for (; i + QF_LANES <= n; i += QF_LANES) V_STORE(y + i, function(V_LOAD(x + i))); \
        if (i < n) {                                                                     \
            float lanes[QF_LANES] = {0};                                                 \
            memcpy(lanes, x + i, (n - i) * sizeof(float));                               \
            V_STORE(lanes, function(V_LOAD(lanes)));                                     \
            memcpy(y + i, lanes, (n - i) * sizeof(float));                               \
        }                                                                                \
    }

QF_ELEMENTWISE(exp_f32, exp_lanes)
QF_ELEMENTWISE(erf_f32, erf_lanes)
QF_ELEMENTWISE(tanh_f32, tanh_lanes)
QF_ELEMENTWISE(sigmoid_f32, sigmoid_lanes)
QF_ELEMENTWISE(gelu_erf_f32, gelu_lanes)

/* max (maxps keeps the accumulator when a value is NaN: a NaN poisons the sum below anyway), then
 * exp(x - max) stored and summed lane-wise, then one multiply by 1 / sum. */
QF_TARGET void QF_PATH(softmax_rows_f32)(float *x, size_t rows, size_t length) {
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * length;
        size_t whole = length / QF_LANES * QF_LANES, rest = length - whole;
        QF_V m = V_SET1(-INFINITY);
        for (size_t i = 0; i < whole; i += QF_LANES) m = V_MAX(V_LOAD(row + i), m);
        float max = -INFINITY;
        float lanes[QF_LANES];
        V_STORE(lanes, m);
        for (int l = 0; l < QF_LANES; l++) max = lanes[l] > max ? lanes[l] : max;
        for (size_t i = whole; i < length; i++) max = row[i] > max ? row[i] : max;

        const QF_V shift = V_SET1(max);
        QF_V sum = V_SET1(0.0f);
        for (size_t i = 0; i < whole; i += QF_LANES) {
            QF_V e = exp_lanes(V_SUB(V_LOAD(row + i), shift));
            V_STORE(row + i, e);
            sum = V_ADD(sum, e);
        }
        if (rest > 0) {
            float tail[QF_LANES] = {0};
            memcpy(tail, row + whole, rest * sizeof(float));
            QF_V e = exp_lanes(V_SUB(V_LOAD(tail), shift));
            sum = V_ADD(sum, V_SELECT(V_LANES_BELOW(rest), e, V_SET1(0.0f)));
            V_STORE(tail, e);
            memcpy(row + whole, tail, rest * sizeof(float));
        }
        V_STORE(lanes, sum);
        float total = 0;
        for (int l = 0; l < QF_LANES; l++) total += lanes[l];
        const float scale = 1.0f / total;
        const QF_V scales = V_SET1(scale);
        for (size_t i = 0; i < whole; i += QF_LANES) V_STORE(row + i, V_MUL(V_LOAD(row + i), scales));
        for (size_t i = whole; i < length; i++) row[i] *= scale;
    }
}
