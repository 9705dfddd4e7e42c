#include "kernel_table.h"

#if defined(__aarch64__)
#include <arm_neon.h>
#include <math.h>

/* Compare-and-select rather than fmin/fminnm: a NaN, quiet or signalling, compares false and is never
 * picked, exactly as in the scalar path. */
void qf_range_f32_neon_path(const float *x, size_t n, float *low, float *high) {
    float32x4_t lo = vdupq_n_f32(0), hi = lo;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t v = vld1q_f32(x + i);
        lo = vbslq_f32(vcltq_f32(v, lo), v, lo);
        hi = vbslq_f32(vcgtq_f32(v, hi), v, hi);
    }
    float tail_low, tail_high;
    qf_range_f32_scalar_path(x + i, n - i, &tail_low, &tail_high);
    *low = fminf(vminvq_f32(lo), tail_low);
    *high = fmaxf(vmaxvq_f32(hi), tail_high);
}

/* frintn rounds half to even whatever the rounding mode; the clamp runs before NaN lanes are
 * replaced, so fmax/fmin propagating NaN does not matter. */
static inline uint16x4_t quantize4(float32x4_t v, float32x4_t divisor, float32x4_t zero) {
    float32x4_t q = vaddq_f32(vrndnq_f32(vdivq_f32(v, divisor)), zero);
    q = vminq_f32(vmaxq_f32(q, vdupq_n_f32(0)), vdupq_n_f32(255));
    q = vbslq_f32(vceqq_f32(v, v), q, zero);
    return vmovn_u32(vcvtq_u32_f32(q));
}

void qf_quantize_u8_neon_path(const float *x, size_t n, float scale, uint8_t zero_point, uint8_t *y) {
    const float32x4_t divisor = vdupq_n_f32(scale), zero = vdupq_n_f32((float)zero_point);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint16x8_t shorts = vcombine_u16(quantize4(vld1q_f32(x + i), divisor, zero),
                                         quantize4(vld1q_f32(x + i + 4), divisor, zero));
        vst1_u8(y + i, vmovn_u16(shorts));
    }
    qf_quantize_u8_scalar_path(x + i, n - i, scale, zero_point, y + i);
}

#endif
