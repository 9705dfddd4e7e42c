#ifndef QF_SIMD_AVX512_H
#define QF_SIMD_AVX512_H

/* The vector vocabulary of the x86 kernels written once for both widths (vmath_x86.h,
 * quantize_x86.h), on 16 lanes with AVX512F. AVX512F has no float and/or, so the sign operations go
 * through the integer ones. Include after <immintrin.h>. */
#define QF_V __m512
#define QF_VI __m512i
#define QF_M __mmask16
#define QF_LANES 16
#define QF_TARGET __attribute__((target("avx512f")))

#define V_SET1(x) _mm512_set1_ps(x)
#define V_LOAD(p) _mm512_loadu_ps(p)
#define V_STORE(p, v) _mm512_storeu_ps(p, v)
#define V_ADD(a, b) _mm512_add_ps(a, b)
#define V_SUB(a, b) _mm512_sub_ps(a, b)
#define V_MUL(a, b) _mm512_mul_ps(a, b)
#define V_DIV(a, b) _mm512_div_ps(a, b)
#define V_FMADD(a, b, c) _mm512_fmadd_ps(a, b, c)
#define V_FNMADD(a, b, c) _mm512_fnmadd_ps(a, b, c)
#define V_MIN(a, b) _mm512_min_ps(a, b)
#define V_MAX(a, b) _mm512_max_ps(a, b)
#define V_ROUND(a) _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define V_ABS(a) _mm512_abs_ps(a)
#define V_WITH_SIGN_OF(magnitude, x)                                                                    \
    _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(magnitude),                                  \
                                        _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(INT32_MIN))))
#define V_LT(a, b) _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ)
#define V_ISNAN(a) _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q)
#define V_SELECT(mask, if_set, otherwise) _mm512_mask_blend_ps(mask, otherwise, if_set)
#define V_LANES_BELOW(count) ((__mmask16)((1u << (count)) - 1))
#define V_FROM_BITS(a) _mm512_castsi512_ps(a)
#define VI_FROM_V(a) _mm512_cvtps_epi32(a)
#define VI_SET1(x) _mm512_set1_epi32(x)
#define VI_ADD(a, b) _mm512_add_epi32(a, b)
#define VI_SUB(a, b) _mm512_sub_epi32(a, b)
#define VI_SRAI(a, bits) _mm512_srai_epi32(a, bits)
#define VI_SLLI(a, bits) _mm512_slli_epi32(a, bits)
/* y[0, lanes) = v as bytes; every lane already within [0, 255]. */
#define V_STORE_BYTES(p, v) _mm_storeu_si128((__m128i *)(p), _mm512_cvtusepi32_epi8(_mm512_cvtps_epi32(v)))

#endif
