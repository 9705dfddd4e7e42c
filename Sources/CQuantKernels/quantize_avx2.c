#include "kernel_table.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <math.h>

#define QF_AVX2 __attribute__((target("avx2")))

static inline QF_AVX2 float horizontal(__m256 v, int maximum) {
    __m128 half = maximum ? _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1))
                          : _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    float lanes[4];
    _mm_storeu_ps(lanes, half);
    float result = lanes[0];
    for (int i = 1; i < 4; i++) result = maximum ? fmaxf(result, lanes[i]) : fminf(result, lanes[i]);
    return result;
}

/* The accumulator is the second operand: minps/maxps return it when x is NaN, so NaN is skipped. */
QF_AVX2 void qf_range_f32_avx2_path(const float *x, size_t n, float *low, float *high) {
    __m256 lo = _mm256_setzero_ps(), hi = lo;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        lo = _mm256_min_ps(v, lo);
        hi = _mm256_max_ps(v, hi);
    }
    float tail_low, tail_high;
    qf_range_f32_scalar_path(x + i, n - i, &tail_low, &tail_high);
    *low = fminf(horizontal(lo, 0), tail_low);
    *high = fmaxf(horizontal(hi, 1), tail_high);
}

QF_AVX2 void qf_quantize_u8_avx2_path(const float *x, size_t n, float scale, uint8_t zero_point, uint8_t *y) {
    const __m256 divisor = _mm256_set1_ps(scale), zero = _mm256_set1_ps((float)zero_point);
    const __m256 floor = _mm256_setzero_ps(), ceiling = _mm256_set1_ps(255);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 q = _mm256_add_ps(_mm256_round_ps(_mm256_div_ps(v, divisor), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zero);
        q = _mm256_min_ps(_mm256_max_ps(q, floor), ceiling);
        q = _mm256_blendv_ps(q, zero, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        __m256i words = _mm256_cvtps_epi32(q);
        __m128i shorts = _mm_packus_epi32(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1));
        _mm_storel_epi64((__m128i *)(y + i), _mm_packus_epi16(shorts, shorts));
    }
    qf_quantize_u8_scalar_path(x + i, n - i, scale, zero_point, y + i);
}

#endif
