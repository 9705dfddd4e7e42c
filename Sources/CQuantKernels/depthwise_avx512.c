#include "kernel_table.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <stdint.h>

#define QF_AVX512 __attribute__((target("avx512f")))
#define QF_INLINE static inline __attribute__((always_inline))

/*
 * Depthwise convolution on 16 lanes: depthwise_avx2.c's scheme (see there) with zmm registers.
 * Interior columns load their inputs directly (stride 2 through one two-register permute), four
 * vectors at a time (64 outputs); border columns and larger strides use masked loads and gathers,
 * which AVX-512 suppresses for masked-off lanes, so the addresses of those lanes may lie outside the row.
 */

/* Sixteen inputs stride apart from p: stride 1 or 2 (reads p[0..31] at stride 2). */
QF_INLINE QF_AVX512 __m512 load_inputs(const float *p, size_t stride) {
    if (stride == 1) return _mm512_loadu_ps(p);
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(_mm512_loadu_ps(p), even, _mm512_loadu_ps(p + 16));
}

/* `vectors` (1 or 4) interior vectors from output column ox; stride is 1 or 2. */
QF_INLINE QF_AVX512 void interior(const qf_depthwise_row *r, size_t ox, float *out, const int vectors, const size_t stride) {
    const qf_conv2d_geometry *g = r->g;
    __m512 acc[4];
    QF_UNROLL for (int v = 0; v < vectors; v++) acc[v] = _mm512_set1_ps(r->bias);
    const size_t first = ox * stride - g->pad_left; /* >= 0 for an interior column */
    for (size_t kh = r->kh_lo; kh < r->kh_hi; kh++) {
        const float *row = r->plane + (size_t)(r->top + (ptrdiff_t)(kh * g->dilation_h)) * g->width + first;
        const float *w = r->filter + kh * g->kernel_w;
        for (size_t kw = 0; kw < g->kernel_w; kw++) {
            const __m512 weight = _mm512_set1_ps(w[kw]);
            const float *p = row + kw * g->dilation_w;
            QF_UNROLL for (int v = 0; v < vectors; v++) acc[v] = _mm512_fmadd_ps(weight, load_inputs(p + 16 * v * stride, stride), acc[v]);
        }
    }
    QF_UNROLL for (int v = 0; v < vectors; v++) _mm512_storeu_ps(out + ox + 16 * v, acc[v]);
}

/* Outputs [ox, ox + lanes), lanes 1 to 16, any column and stride; taps in (kw, kh) order. */
static QF_AVX512 void border(const qf_depthwise_row *r, size_t ox, size_t lanes, float *out) {
    const qf_conv2d_geometry *g = r->g;
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i width = _mm512_set1_epi32((int)g->width);
    const int left = (int)(ox * g->stride_w) - (int)g->pad_left;
    /* input column of each lane at kw = 0 */
    const __m512i columns = _mm512_add_epi32(_mm512_set1_epi32(left), _mm512_mullo_epi32(lane, _mm512_set1_epi32((int)g->stride_w)));
    const __mmask16 used = (__mmask16)((1u << lanes) - 1);
    __m512 acc = _mm512_set1_ps(r->bias);
    for (size_t kw = 0; kw < g->kernel_w; kw++) {
        const int shift = (int)(kw * g->dilation_w);
        const __m512i index = _mm512_add_epi32(columns, _mm512_set1_epi32(shift));
        const __mmask16 inside = _mm512_cmpge_epi32_mask(index, _mm512_setzero_si512()) & _mm512_cmplt_epi32_mask(index, width) & used;
        if (inside == 0) continue; /* this kernel column is all padding */
        for (size_t kh = r->kh_lo; kh < r->kh_hi; kh++) {
            const float *row = r->plane + (size_t)(r->top + (ptrdiff_t)(kh * g->dilation_h)) * g->width;
            /* the address may start left of the row (uintptr_t arithmetic: no out-of-range pointer) */
            const float *start = (const float *)((uintptr_t)row + (uintptr_t)(intptr_t)(left + shift) * sizeof(float));
            __m512 inputs = g->stride_w == 1 ? _mm512_maskz_loadu_ps(inside, start)
                                             : _mm512_mask_i32gather_ps(_mm512_setzero_ps(), inside, index, row, 4);
            acc = _mm512_fmadd_ps(_mm512_set1_ps(r->filter[kh * g->kernel_w + kw]), inputs, acc);
        }
    }
    _mm512_mask_storeu_ps(out + ox, used, acc);
}

#define QF_LANES 16
#define QF_TARGET QF_AVX512
#define QF_PATH qf_depthwise_conv2d_f32_avx512_path
#include "depthwise_rows_x86.h"

#endif
