#include "CQuantKernels.h"

/* acc + acc_offsets wraps as onnxruntime's int32 Add does (through uint32: no signed overflow). */
static inline int32_t offset_accumulator(int32_t acc, int32_t offset) { return (int32_t)((uint32_t)acc + (uint32_t)offset); }

void qf_scale_accumulators(const int32_t *restrict acc, size_t rows, size_t columns, const int32_t *restrict acc_offsets,
                           const float *restrict scales, const float *restrict offsets, float *restrict y) {
    for (size_t r = 0; r < rows; r++) {
        const int32_t *restrict source = acc + r * columns;
        float *restrict target = y + r * columns;
        for (size_t n = 0; n < columns; n++) {
            target[n] = (float)offset_accumulator(source[n], acc_offsets[n]) * scales[n] + offsets[n];
        }
    }
}

/*
 * Transposed: 4 x 4 blocks in registers (SSE2 and NEON are the baselines of x86-64 and AArch64, so
 * this needs no dispatch): four rows of four columns read contiguously, scaled, transposed, and
 * written as four runs of four positions. Reading a column at a time strided by the filter count
 * took 10 % of an int8 detector run. Edges, and other CPUs, go element by element.
 */
#if defined(__x86_64__)
#include <emmintrin.h>
typedef __m128 qf_floats4;
#define QF_SCALED4(acc, acc_offset, scale, offset) \
    _mm_add_ps(_mm_mul_ps(_mm_cvtepi32_ps(_mm_add_epi32(_mm_loadu_si128((const __m128i *)(acc)), (acc_offset))), (scale)), (offset))
typedef __m128i qf_ints4;
#define QF_LOADI4(p) _mm_loadu_si128((const __m128i *)(p))
#define QF_LOADF4(p) _mm_loadu_ps(p)
#define QF_STOREF4(p, v) _mm_storeu_ps((p), (v))
#define QF_TRANSPOSE4(a, b, c, d) _MM_TRANSPOSE4_PS((a), (b), (c), (d))
#elif defined(__aarch64__)
#include <arm_neon.h>
typedef float32x4_t qf_floats4;
/* The offset is added as uint32 (GCC's vaddq_s32 is a signed C addition, undefined on overflow). */
#define QF_SCALED4(acc, acc_offset, scale, offset)                                                                    \
    vaddq_f32(vmulq_f32(vcvtq_f32_s32(vreinterpretq_s32_u32(vaddq_u32(vreinterpretq_u32_s32(vld1q_s32(acc)),            \
                                                                       vreinterpretq_u32_s32(acc_offset)))),          \
                        (scale)),                                                                                      \
              (offset))
typedef int32x4_t qf_ints4;
#define QF_LOADI4(p) vld1q_s32(p)
#define QF_LOADF4(p) vld1q_f32(p)
#define QF_STOREF4(p, v) vst1q_f32((p), (v))
#define QF_TRANSPOSE4(a, b, c, d)                                                                                      \
    do {                                                                                                               \
        float32x4_t ab_low = vzip1q_f32((a), (b)), ab_high = vzip2q_f32((a), (b));                                    \
        float32x4_t cd_low = vzip1q_f32((c), (d)), cd_high = vzip2q_f32((c), (d));                                    \
        (a) = vreinterpretq_f32_f64(vzip1q_f64(vreinterpretq_f64_f32(ab_low), vreinterpretq_f64_f32(cd_low)));      \
        (b) = vreinterpretq_f32_f64(vzip2q_f64(vreinterpretq_f64_f32(ab_low), vreinterpretq_f64_f32(cd_low)));      \
        (c) = vreinterpretq_f32_f64(vzip1q_f64(vreinterpretq_f64_f32(ab_high), vreinterpretq_f64_f32(cd_high)));    \
        (d) = vreinterpretq_f32_f64(vzip2q_f64(vreinterpretq_f64_f32(ab_high), vreinterpretq_f64_f32(cd_high)));    \
    } while (0)
#endif

static inline void scale_transposed_element(const int32_t *restrict acc, size_t columns, const int32_t *restrict acc_offsets,
                                            const float *restrict scales, const float *restrict offsets, float *restrict y,
                                            size_t y_stride, size_t r, size_t n) {
    y[n * y_stride + r] = (float)offset_accumulator(acc[r * columns + n], acc_offsets[n]) * scales[n] + offsets[n];
}

void qf_scale_accumulators_transposed(const int32_t *restrict acc, size_t rows, size_t columns,
                                      const int32_t *restrict acc_offsets, const float *restrict scales,
                                      const float *restrict offsets, float *restrict y, size_t y_stride) {
    size_t r = 0;
#if defined(QF_TRANSPOSE4)
    for (; r + 4 <= rows; r += 4) {
        size_t n = 0;
        for (; n + 4 <= columns; n += 4) {
            qf_ints4 acc_offset = QF_LOADI4(acc_offsets + n);
            qf_floats4 scale = QF_LOADF4(scales + n), offset = QF_LOADF4(offsets + n);
            qf_floats4 a = QF_SCALED4(acc + r * columns + n, acc_offset, scale, offset);
            qf_floats4 b = QF_SCALED4(acc + (r + 1) * columns + n, acc_offset, scale, offset);
            qf_floats4 c = QF_SCALED4(acc + (r + 2) * columns + n, acc_offset, scale, offset);
            qf_floats4 d = QF_SCALED4(acc + (r + 3) * columns + n, acc_offset, scale, offset);
            QF_TRANSPOSE4(a, b, c, d);
            QF_STOREF4(y + n * y_stride + r, a);
            QF_STOREF4(y + (n + 1) * y_stride + r, b);
            QF_STOREF4(y + (n + 2) * y_stride + r, c);
            QF_STOREF4(y + (n + 3) * y_stride + r, d);
        }
        for (; n < columns; n++) {
            for (size_t i = r; i < r + 4; i++) scale_transposed_element(acc, columns, acc_offsets, scales, offsets, y, y_stride, i, n);
        }
    }
#endif
    for (; r < rows; r++) {
        for (size_t n = 0; n < columns; n++) scale_transposed_element(acc, columns, acc_offsets, scales, offsets, y, y_stride, r, n);
    }
}
