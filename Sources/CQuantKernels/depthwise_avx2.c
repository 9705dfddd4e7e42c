#include "kernel_table.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <stdint.h>

#define QF_AVX2_FMA __attribute__((target("avx2,fma")))
#define QF_INLINE static inline __attribute__((always_inline))

/*
 * Depthwise convolution, vectorised along the output row: 8 consecutive outputs of one row are one
 * vector, and each tap is a broadcast weight times the 8 inputs it meets, fused into the accumulator,
 * bias first and taps in (kh, kw) order as in the scalar path.
 *
 * Interior columns (no tap in the padding) load their inputs directly: one unaligned load at stride 1,
 * two loads de-interleaved to the even elements at stride 2, four vectors at a time (32 outputs) so
 * four independent accumulator chains hide the FMA latency. The row's last interior vector is placed
 * to end at the last interior column, overlapping the previous one rather than leaving a remainder.
 * Border columns, and every column at larger strides, go through a masked vector: each tap loads only
 * the lanes whose input lies inside the row (masked load at stride 1, masked gather otherwise), the
 * others read 0; these sum the taps in (kw, kh) order, so one mask serves a whole kernel column. Rows
 * whose taps leave the image above or below simply skip those kernel rows.
 */

/* Eight inputs stride apart from p: stride 1 or 2 (reads p[0..15] at stride 2). */
QF_INLINE QF_AVX2_FMA __m256 load_inputs(const float *p, size_t stride) {
    if (stride == 1) return _mm256_loadu_ps(p);
    __m256 even = _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), _MM_SHUFFLE(2, 0, 2, 0));
    /* [a0 a2 b0 b2 | a4 a6 b4 b6] -> [a0 a2 a4 a6 b0 b2 b4 b6] */
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(even), _MM_SHUFFLE(3, 1, 2, 0)));
}

/* `vectors` (1 or 4) interior vectors from output column ox; stride is 1 or 2. */
QF_INLINE QF_AVX2_FMA void interior(const qf_depthwise_row *r, size_t ox, float *out, const int vectors, const size_t stride) {
    const qf_conv2d_geometry *g = r->g;
    __m256 acc[4];
    QF_UNROLL for (int v = 0; v < vectors; v++) acc[v] = _mm256_set1_ps(r->bias);
    const size_t first = ox * stride - g->pad_left; /* >= 0 for an interior column */
    for (size_t kh = r->kh_lo; kh < r->kh_hi; kh++) {
        const float *row = r->plane + (size_t)(r->top + (ptrdiff_t)(kh * g->dilation_h)) * g->width + first;
        const float *w = r->filter + kh * g->kernel_w;
        for (size_t kw = 0; kw < g->kernel_w; kw++) {
            const __m256 weight = _mm256_broadcast_ss(w + kw);
            const float *p = row + kw * g->dilation_w;
            QF_UNROLL for (int v = 0; v < vectors; v++) acc[v] = _mm256_fmadd_ps(weight, load_inputs(p + 8 * v * stride, stride), acc[v]);
        }
    }
    QF_UNROLL for (int v = 0; v < vectors; v++) _mm256_storeu_ps(out + ox + 8 * v, acc[v]);
}

/* Outputs [ox, ox + lanes), lanes 1 to 8, any column and stride. */
static QF_AVX2_FMA void border(const qf_depthwise_row *r, size_t ox, size_t lanes, float *out) {
    const qf_conv2d_geometry *g = r->g;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i width = _mm256_set1_epi32((int)g->width), minus_one = _mm256_set1_epi32(-1);
    const int left = (int)(ox * g->stride_w) - (int)g->pad_left;
    /* input column of each lane at kw = 0 */
    const __m256i columns = _mm256_add_epi32(_mm256_set1_epi32(left), _mm256_mullo_epi32(lane, _mm256_set1_epi32((int)g->stride_w)));
    __m256 acc = _mm256_set1_ps(r->bias);
    /* kernel columns outside, so each column's mask is worked out once for all kernel rows */
    for (size_t kw = 0; kw < g->kernel_w; kw++) {
        const int shift = (int)(kw * g->dilation_w);
        const __m256i index = _mm256_add_epi32(columns, _mm256_set1_epi32(shift));
        const __m256i inside = _mm256_and_si256(_mm256_cmpgt_epi32(index, minus_one), _mm256_cmpgt_epi32(width, index));
        if (_mm256_testz_si256(inside, inside)) continue; /* this kernel column is all padding */
        const uintptr_t offset = (uintptr_t)(intptr_t)(left + shift) * sizeof(float);
        for (size_t kh = r->kh_lo; kh < r->kh_hi; kh++) {
            const float *row = r->plane + (size_t)(r->top + (ptrdiff_t)(kh * g->dilation_h)) * g->width;
            __m256 inputs;
            if (g->stride_w == 1) {
                /* masked-off lanes are never touched, so the address may start left of the row */
                inputs = _mm256_maskload_ps((const float *)((uintptr_t)row + offset), inside);
            } else {
                inputs = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), row, index, _mm256_castsi256_ps(inside), 4);
            }
            acc = _mm256_fmadd_ps(_mm256_broadcast_ss(r->filter + kh * g->kernel_w + kw), inputs, acc);
        }
    }
    _mm256_maskstore_ps(out + ox, _mm256_cmpgt_epi32(_mm256_set1_epi32((int)lanes), lane), acc);
}

#define QF_LANES 8
#define QF_TARGET QF_AVX2_FMA
#define QF_PATH qf_depthwise_conv2d_f32_avx2_path
#include "depthwise_rows_x86.h"

#endif
