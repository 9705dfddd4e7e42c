#include "kernel_table.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <math.h>
#include <string.h>

#define QF_AVX2_FMA __attribute__((target("avx2,fma")))
#define QF_INLINE static inline __attribute__((always_inline))

/*
 * Vector math, 8 lanes with AVX2 + FMA; the algorithms (shared with vmath_neon.c):
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
 */

static const float erf_small[] = {1.128379166e+00f, -3.761262715e-01f, 1.128360029e-01f, -2.685444856e-02f,
                                  5.189542003e-03f, -8.020894933e-04f, 7.889285471e-05f};
static const float erfc_large[] = {2.530946297e-04f, 5.593158011e-01f, 4.015972510e-02f, -4.646672392e-01f,
                                   4.809397040e-01f, -2.190696297e-01f, 4.027100507e-03f, 3.799977641e-02f,
                                   -1.137478460e-02f};

/* c[0] + c[1] t + ... + c[degree] t^degree */
QF_INLINE QF_AVX2_FMA __m256 polynomial(const float *c, int degree, __m256 t) {
    __m256 p = _mm256_set1_ps(c[degree]);
    for (int i = degree - 1; i >= 0; i--) p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(c[i]));
    return p;
}

QF_INLINE QF_AVX2_FMA __m256 is_nan(__m256 x) {
    return _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
}

QF_INLINE QF_AVX2_FMA __m256 exp8(__m256 x) {
    __m256 flushed = _mm256_cmp_ps(x, _mm256_set1_ps(QF_EXP_FLUSH_BELOW), _CMP_LT_OQ);
    __m256 v = _mm256_min_ps(_mm256_andnot_ps(flushed, x), _mm256_set1_ps(89.0f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(v, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), v);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    __m256 y = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i k = _mm256_cvtps_epi32(n), half = _mm256_srai_epi32(k, 1), bias = _mm256_set1_epi32(127);
    __m256 scale1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, bias), 23));
    __m256 scale2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(k, half), bias), 23));
    y = _mm256_mul_ps(_mm256_mul_ps(y, scale1), scale2);
    y = _mm256_andnot_ps(flushed, y);
    return _mm256_blendv_ps(y, x, is_nan(x));
}

QF_INLINE QF_AVX2_FMA __m256 tanh8(__m256 x) {
    const __m256 sign_bit = _mm256_set1_ps(-0.0f);
    __m256 ax = _mm256_andnot_ps(sign_bit, x);
    __m256 z = _mm256_mul_ps(ax, ax);
    __m256 q = _mm256_set1_ps(-5.70498872745e-3f);
    q = _mm256_fmadd_ps(q, z, _mm256_set1_ps(2.06390887954e-2f));
    q = _mm256_fmadd_ps(q, z, _mm256_set1_ps(-5.37397155531e-2f));
    q = _mm256_fmadd_ps(q, z, _mm256_set1_ps(1.33314422036e-1f));
    q = _mm256_fmadd_ps(q, z, _mm256_set1_ps(-3.33332819422e-1f));
    __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(q, z), ax, ax);
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 e = exp8(_mm256_add_ps(ax, ax));
    __m256 large = _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one)));
    __m256 y = _mm256_blendv_ps(large, small, _mm256_cmp_ps(ax, _mm256_set1_ps(0.625f), _CMP_LT_OQ));
    return _mm256_or_ps(y, _mm256_and_ps(x, sign_bit));
}

QF_INLINE QF_AVX2_FMA __m256 sigmoid8(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

/* erf(a) and erfc(a) for a = |z| >= 0 (NaN not handled: callers put it back). */
QF_INLINE QF_AVX2_FMA void erf_parts(__m256 a, __m256 *erf_a, __m256 *erfc_a) {
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 small = _mm256_mul_ps(polynomial(erf_small, 6, _mm256_mul_ps(a, a)), a);
    __m256 b = _mm256_min_ps(_mm256_max_ps(a, one), _mm256_set1_ps(4.0f));
    __m256 q = polynomial(erfc_large, 8, _mm256_div_ps(one, b));
    __m256 large = _mm256_mul_ps(exp8(_mm256_mul_ps(_mm256_sub_ps(_mm256_setzero_ps(), b), b)), q);
    __m256 is_small = _mm256_cmp_ps(a, one, _CMP_LT_OQ);
    *erf_a = _mm256_blendv_ps(_mm256_sub_ps(one, large), small, is_small);
    *erfc_a = _mm256_blendv_ps(large, _mm256_sub_ps(one, small), is_small);
}

QF_INLINE QF_AVX2_FMA __m256 erf8(__m256 x) {
    const __m256 sign_bit = _mm256_set1_ps(-0.0f);
    __m256 erf_a, erfc_a;
    erf_parts(_mm256_andnot_ps(sign_bit, x), &erf_a, &erfc_a);
    __m256 y = _mm256_or_ps(erf_a, _mm256_and_ps(x, sign_bit));
    return _mm256_blendv_ps(y, x, is_nan(x));
}

QF_INLINE QF_AVX2_FMA __m256 gelu8(__m256 x) {
    const __m256 sign_bit = _mm256_set1_ps(-0.0f);
    __m256 z = _mm256_mul_ps(x, _mm256_set1_ps(0.70710678118654752f));
    __m256 erf_a, erfc_a;
    erf_parts(_mm256_andnot_ps(sign_bit, z), &erf_a, &erfc_a);
    __m256 factor = _mm256_blendv_ps(_mm256_add_ps(_mm256_set1_ps(1.0f), erf_a), erfc_a,
                                     _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ));
    __m256 y = _mm256_mul_ps(_mm256_mul_ps(x, _mm256_set1_ps(0.5f)), factor);
    return _mm256_blendv_ps(y, sign_bit, _mm256_cmp_ps(x, _mm256_set1_ps(QF_GELU_ZERO_BELOW), _CMP_LT_OQ));
}

/* Whole vectors, then the last 1-7 values through a zero-padded vector. */
#define QF_ELEMENTWISE(name, function)                                                \
    QF_AVX2_FMA void name(const float *x, float *y, size_t n) {                       \
        size_t i = 0;                                                                 \
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, function(_mm256_loadu_ps(x + i))); \
        if (i < n) {                                                                  \
            float lanes[8] = {0};                                                     \
            memcpy(lanes, x + i, (n - i) * sizeof(float));                            \
            _mm256_storeu_ps(lanes, function(_mm256_loadu_ps(lanes)));                \
            memcpy(y + i, lanes, (n - i) * sizeof(float));                            \
        }                                                                             \
    }

QF_ELEMENTWISE(qf_exp_f32_avx2_path, exp8)
QF_ELEMENTWISE(qf_erf_f32_avx2_path, erf8)
QF_ELEMENTWISE(qf_tanh_f32_avx2_path, tanh8)
QF_ELEMENTWISE(qf_sigmoid_f32_avx2_path, sigmoid8)
QF_ELEMENTWISE(qf_gelu_erf_f32_avx2_path, gelu8)

QF_INLINE QF_AVX2_FMA float horizontal_sum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* max (maxps keeps the accumulator when a value is NaN: a NaN poisons the sum below anyway), then
 * exp(x - max) stored and summed in 8 lanes, then one multiply by 1 / sum. */
QF_AVX2_FMA void qf_softmax_rows_f32_avx2_path(float *x, size_t rows, size_t length) {
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * length;
        size_t whole = length / 8 * 8, rest = length - whole;
        __m256 m = _mm256_set1_ps(-INFINITY);
        for (size_t i = 0; i < whole; i += 8) m = _mm256_max_ps(_mm256_loadu_ps(row + i), m);
        float max = -INFINITY;
        float lanes[8];
        _mm256_storeu_ps(lanes, m);
        for (int l = 0; l < 8; l++) max = lanes[l] > max ? lanes[l] : max;
        for (size_t i = whole; i < length; i++) max = row[i] > max ? row[i] : max;

        const __m256 shift = _mm256_set1_ps(max);
        __m256 sum = _mm256_setzero_ps();
        for (size_t i = 0; i < whole; i += 8) {
            __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(row + i), shift));
            _mm256_storeu_ps(row + i, e);
            sum = _mm256_add_ps(sum, e);
        }
        if (rest > 0) {
            float tail[8] = {0};
            memcpy(tail, row + whole, rest * sizeof(float));
            __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(tail), shift));
            __m256 used = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32((int)rest), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
            sum = _mm256_add_ps(sum, _mm256_and_ps(e, used));
            _mm256_storeu_ps(tail, e);
            memcpy(row + whole, tail, rest * sizeof(float));
        }
        const __m256 scale = _mm256_set1_ps(1.0f / horizontal_sum(sum));
        for (size_t i = 0; i < whole; i += 8) _mm256_storeu_ps(row + i, _mm256_mul_ps(_mm256_loadu_ps(row + i), scale));
        for (size_t i = whole; i < length; i++) row[i] *= _mm256_cvtss_f32(scale);
    }
}

#endif
