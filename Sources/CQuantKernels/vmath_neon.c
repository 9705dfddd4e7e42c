#include "kernel_table.h"

#if defined(__aarch64__)
#include <arm_neon.h>
#include <math.h>
#include <string.h>

#define QF_INLINE static inline __attribute__((always_inline))

/* Vector math on 4 lanes: the algorithms and coefficients of vmath_x86.h (see there). */

static const float erf_small[] = {1.128379166e+00f, -3.761262715e-01f, 1.128360029e-01f, -2.685444856e-02f,
                                  5.189542003e-03f, -8.020894933e-04f, 7.889285471e-05f};
static const float erfc_large[] = {2.530946297e-04f, 5.593158011e-01f, 4.015972510e-02f, -4.646672392e-01f,
                                   4.809397040e-01f, -2.190696297e-01f, 4.027100507e-03f, 3.799977641e-02f,
                                   -1.137478460e-02f};

QF_INLINE float32x4_t polynomial(const float *c, int degree, float32x4_t t) {
    float32x4_t p = vdupq_n_f32(c[degree]);
    for (int i = degree - 1; i >= 0; i--) p = vfmaq_f32(vdupq_n_f32(c[i]), p, t);
    return p;
}

QF_INLINE uint32x4_t is_nan(float32x4_t x) {
    return vmvnq_u32(vceqq_f32(x, x));
}

QF_INLINE float32x4_t with_sign_of(float32x4_t magnitude, float32x4_t x) {
    const uint32x4_t sign_bit = vdupq_n_u32(0x80000000u);
    return vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(magnitude), vandq_u32(vreinterpretq_u32_f32(x), sign_bit)));
}

QF_INLINE float32x4_t exp4(float32x4_t x) {
    float32x4_t v = vminq_f32(vmaxq_f32(x, vdupq_n_f32(-88.0f)), vdupq_n_f32(89.0f));
    float32x4_t n = vrndnq_f32(vmulq_f32(v, vdupq_n_f32(1.44269504088896341f)));
    float32x4_t r = vfmsq_f32(v, n, vdupq_n_f32(0.693359375f));
    r = vfmsq_f32(r, n, vdupq_n_f32(-2.12194440e-4f));
    float32x4_t p = vdupq_n_f32(1.9875691500e-4f);
    p = vfmaq_f32(vdupq_n_f32(1.3981999507e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(8.3334519073e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(4.1665795894e-2f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.6666665459e-1f), p, r);
    p = vfmaq_f32(vdupq_n_f32(5.0000001201e-1f), p, r);
    float32x4_t y = vfmaq_f32(vaddq_f32(r, vdupq_n_f32(1.0f)), p, vmulq_f32(r, r));
    int32x4_t k = vcvtq_s32_f32(n), half = vshrq_n_s32(k, 1), bias = vdupq_n_s32(127);
    float32x4_t scale1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(half, bias), 23));
    float32x4_t scale2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vsubq_s32(k, half), bias), 23));
    y = vmulq_f32(vmulq_f32(y, scale1), scale2);
    y = vbslq_f32(vcltq_f32(x, vdupq_n_f32(QF_EXP_FLUSH_BELOW)), vdupq_n_f32(0.0f), y);
    return vbslq_f32(is_nan(x), x, y);
}

QF_INLINE float32x4_t tanh4(float32x4_t x) {
    float32x4_t ax = vabsq_f32(x);
    float32x4_t z = vmulq_f32(ax, ax);
    float32x4_t q = vdupq_n_f32(-5.70498872745e-3f);
    q = vfmaq_f32(vdupq_n_f32(2.06390887954e-2f), q, z);
    q = vfmaq_f32(vdupq_n_f32(-5.37397155531e-2f), q, z);
    q = vfmaq_f32(vdupq_n_f32(1.33314422036e-1f), q, z);
    q = vfmaq_f32(vdupq_n_f32(-3.33332819422e-1f), q, z);
    float32x4_t small = vfmaq_f32(ax, vmulq_f32(q, z), ax);
    const float32x4_t one = vdupq_n_f32(1.0f);
    float32x4_t e = exp4(vaddq_f32(ax, ax));
    float32x4_t large = vsubq_f32(one, vdivq_f32(vdupq_n_f32(2.0f), vaddq_f32(e, one)));
    return with_sign_of(vbslq_f32(vcltq_f32(ax, vdupq_n_f32(0.625f)), small, large), x);
}

QF_INLINE float32x4_t sigmoid4(float32x4_t x) {
    const float32x4_t one = vdupq_n_f32(1.0f);
    return vdivq_f32(one, vaddq_f32(one, exp4(vnegq_f32(x))));
}

QF_INLINE void erf_parts(float32x4_t a, float32x4_t *erf_a, float32x4_t *erfc_a) {
    const float32x4_t one = vdupq_n_f32(1.0f);
    float32x4_t small = vmulq_f32(polynomial(erf_small, 6, vmulq_f32(a, a)), a);
    /* vmaxq/vminq return NaN for a NaN lane: fine, callers put NaN back anyway */
    float32x4_t b = vminq_f32(vmaxq_f32(a, one), vdupq_n_f32(4.0f));
    float32x4_t q = polynomial(erfc_large, 8, vdivq_f32(one, b));
    float32x4_t large = vmulq_f32(exp4(vnegq_f32(vmulq_f32(b, b))), q);
    uint32x4_t is_small = vcltq_f32(a, one);
    *erf_a = vbslq_f32(is_small, small, vsubq_f32(one, large));
    *erfc_a = vbslq_f32(is_small, vsubq_f32(one, small), large);
}

QF_INLINE float32x4_t erf4(float32x4_t x) {
    float32x4_t erf_a, erfc_a;
    erf_parts(vabsq_f32(x), &erf_a, &erfc_a);
    return vbslq_f32(is_nan(x), x, with_sign_of(erf_a, x));
}

QF_INLINE float32x4_t gelu4(float32x4_t x) {
    float32x4_t z = vmulq_f32(x, vdupq_n_f32(0.70710678118654752f));
    float32x4_t erf_a, erfc_a;
    erf_parts(vabsq_f32(z), &erf_a, &erfc_a);
    float32x4_t factor = vbslq_f32(vcltq_f32(x, vdupq_n_f32(0.0f)), erfc_a, vaddq_f32(vdupq_n_f32(1.0f), erf_a));
    float32x4_t y = vmulq_f32(vmulq_f32(x, vdupq_n_f32(0.5f)), factor);
    y = vbslq_f32(vcltq_f32(x, vdupq_n_f32(QF_GELU_ZERO_BELOW)), vdupq_n_f32(-0.0f), y);
    return vbslq_f32(is_nan(x), x, y);
}

/* Whole vectors, then the last 1-3 values through a zero-padded vector. */
#define QF_ELEMENTWISE(name, function)                                      \
    void name(const float *x, float *y, size_t n) {                         \
        size_t i = 0;                                                       \
        for (; i + 4 <= n; i += 4) vst1q_f32(y + i, function(vld1q_f32(x + i))); \
        if (i < n) {                                                        \
            float lanes[4] = {0};                                           \
            memcpy(lanes, x + i, (n - i) * sizeof(float));                  \
            vst1q_f32(lanes, function(vld1q_f32(lanes)));                   \
            memcpy(y + i, lanes, (n - i) * sizeof(float));                  \
        }                                                                   \
    }

QF_ELEMENTWISE(qf_exp_f32_neon_path, exp4)
QF_ELEMENTWISE(qf_erf_f32_neon_path, erf4)
QF_ELEMENTWISE(qf_tanh_f32_neon_path, tanh4)
QF_ELEMENTWISE(qf_sigmoid_f32_neon_path, sigmoid4)
QF_ELEMENTWISE(qf_gelu_erf_f32_neon_path, gelu4)

/* max by compare-and-select (NaN never picked; a NaN poisons the sum below anyway), then
 * exp(x - max) stored and summed in 4 lanes, then one multiply by 1 / sum. */
void qf_softmax_rows_f32_neon_path(float *x, size_t rows, size_t length) {
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * length;
        size_t whole = length / 4 * 4, rest = length - whole;
        float32x4_t m = vdupq_n_f32(-INFINITY);
        for (size_t i = 0; i < whole; i += 4) {
            float32x4_t v = vld1q_f32(row + i);
            m = vbslq_f32(vcgtq_f32(v, m), v, m);
        }
        float max = vmaxvq_f32(m);
        for (size_t i = whole; i < length; i++) max = row[i] > max ? row[i] : max;

        const float32x4_t shift = vdupq_n_f32(max);
        float32x4_t sum = vdupq_n_f32(0.0f);
        for (size_t i = 0; i < whole; i += 4) {
            float32x4_t e = exp4(vsubq_f32(vld1q_f32(row + i), shift));
            vst1q_f32(row + i, e);
            sum = vaddq_f32(sum, e);
        }
        if (rest > 0) {
            float tail[4] = {0};
            memcpy(tail, row + whole, rest * sizeof(float));
            float32x4_t e = exp4(vsubq_f32(vld1q_f32(tail), shift));
            const uint32x4_t lane = {0, 1, 2, 3};
            sum = vaddq_f32(sum, vbslq_f32(vcltq_u32(lane, vdupq_n_u32((uint32_t)rest)), e, vdupq_n_f32(0.0f)));
            vst1q_f32(tail, e);
            memcpy(row + whole, tail, rest * sizeof(float));
        }
        const float scale = 1.0f / vaddvq_f32(sum);
        for (size_t i = 0; i < whole; i += 4) vst1q_f32(row + i, vmulq_n_f32(vld1q_f32(row + i), scale));
        for (size_t i = whole; i < length; i++) row[i] *= scale;
    }
}

#endif
