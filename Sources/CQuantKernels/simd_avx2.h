#ifndef QF_SIMD_AVX2_H
#define QF_SIMD_AVX2_H

/* The vector vocabulary of the x86 kernels written once for both widths (vmath_x86.h,
 * quantize_x86.h), on 8 lanes with AVX2 + FMA. Include after <immintrin.h>. */
#define QF_V __m256
#define QF_VI __m256i
#define QF_M __m256
#define QF_LANES 8
#define QF_TARGET __attribute__((target("avx2,fma")))

#define V_SET1(x) _mm256_set1_ps(x)
#define V_LOAD(p) _mm256_loadu_ps(p)
#define V_STORE(p, v) _mm256_storeu_ps(p, v)
#define V_ADD(a, b) _mm256_add_ps(a, b)
#define V_SUB(a, b) _mm256_sub_ps(a, b)
#define V_MUL(a, b) _mm256_mul_ps(a, b)
#define V_DIV(a, b) _mm256_div_ps(a, b)
#define V_FMADD(a, b, c) _mm256_fmadd_ps(a, b, c)
#define V_FNMADD(a, b, c) _mm256_fnmadd_ps(a, b, c)
#define V_MIN(a, b) _mm256_min_ps(a, b)
#define V_MAX(a, b) _mm256_max_ps(a, b)
#define V_ROUND(a) _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define V_ABS(a) _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a)
#define V_WITH_SIGN_OF(magnitude, x) _mm256_or_ps(magnitude, _mm256_and_ps(x, _mm256_set1_ps(-0.0f)))
#define V_LT(a, b) _mm256_cmp_ps(a, b, _CMP_LT_OQ)
#define V_ISNAN(a) _mm256_cmp_ps(a, a, _CMP_UNORD_Q)
#define V_SELECT(mask, if_set, otherwise) _mm256_blendv_ps(otherwise, if_set, mask)
#define V_LANES_BELOW(count) \
    _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32((int)(count)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)))
#define V_FROM_BITS(a) _mm256_castsi256_ps(a)
#define VI_FROM_V(a) _mm256_cvtps_epi32(a)
#define VI_SET1(x) _mm256_set1_epi32(x)
#define VI_ADD(a, b) _mm256_add_epi32(a, b)
#define VI_SUB(a, b) _mm256_sub_epi32(a, b)
#define VI_SRAI(a, bits) _mm256_srai_epi32(a, bits)
#define VI_SLLI(a, bits) _mm256_slli_epi32(a, bits)
/* y[0, lanes) = v as bytes; every lane already within [0, 255]. */
#define V_STORE_BYTES(p, v)                                                                      \
    do {                                                                                          \
        __m256i words_ = _mm256_cvtps_epi32(v);                                                   \
        __m128i shorts_ = _mm_packus_epi32(_mm256_castsi256_si128(words_), _mm256_extracti128_si256(words_, 1)); \
        _mm_storel_epi64((__m128i *)(p), _mm_packus_epi16(shorts_, shorts_));                      \
    } while (0)

#endif
