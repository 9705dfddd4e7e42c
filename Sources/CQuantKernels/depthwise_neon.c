#include "kernel_table.h"

#if defined(__aarch64__)
#include <arm_neon.h>

#define QF_INLINE static inline __attribute__((always_inline))

/*
 * Depthwise convolution, the AVX2 path's structure on 4-lane vectors: interior columns (no tap in
 * the padding) are vectorised along the output row, four vectors (16 outputs) at a time, loading
 * inputs directly (vld1q at stride 1, vld2q keeping the even elements at stride 2), bias first and
 * taps in (kh, kw) order with fused multiply-adds; the last interior vector is placed to end at the
 * last interior column. Border columns, and every column at larger strides, are computed one by one.
 */

/* Four inputs stride apart from p: stride 1 or 2 (reads p[0..7] at stride 2). */
QF_INLINE float32x4_t load_inputs(const float *p, size_t stride) {
    return stride == 1 ? vld1q_f32(p) : vld2q_f32(p).val[0];
}

/* `vectors` (1 or 4) interior vectors from output column ox; stride is 1 or 2. */
QF_INLINE void interior(const qf_depthwise_row *r, size_t ox, float *out, const int vectors, const size_t stride) {
    const qf_conv2d_geometry *g = r->g;
    float32x4_t acc[4];
    QF_UNROLL for (int v = 0; v < vectors; v++) acc[v] = vdupq_n_f32(r->bias);
    const size_t first = ox * stride - g->pad_left; /* >= 0 for an interior column */
    for (size_t kh = r->kh_lo; kh < r->kh_hi; kh++) {
        const float *row = r->plane + (size_t)(r->top + (ptrdiff_t)(kh * g->dilation_h)) * g->width + first;
        const float *w = r->filter + kh * g->kernel_w;
        for (size_t kw = 0; kw < g->kernel_w; kw++) {
            const float weight = w[kw];
            const float *p = row + kw * g->dilation_w;
            QF_UNROLL for (int v = 0; v < vectors; v++) acc[v] = vfmaq_n_f32(acc[v], load_inputs(p + 4 * v * stride, stride), weight);
        }
    }
    QF_UNROLL for (int v = 0; v < vectors; v++) vst1q_f32(out + ox + 4 * v, acc[v]);
}

static void border(const qf_depthwise_row *r, size_t from, size_t to, float *out) {
    for (size_t ox = from; ox < to; ox++) {
        out[ox] = qf_depthwise_point(r->g, r->plane, r->filter, r->bias, r->top, r->kh_lo, r->kh_hi, ox);
    }
}

/* One output row at stride 1 or 2 (a constant after inlining). */
QF_INLINE void output_row(const qf_depthwise_row *r, float *out, const size_t stride) {
    const qf_conv2d_geometry *g = r->g;
    size_t lo, hi;
    ptrdiff_t reach = (ptrdiff_t)((g->kernel_w - 1) * g->dilation_w + (stride - 1));
    qf_valid_range(-(ptrdiff_t)g->pad_left, stride, (ptrdiff_t)g->width - 1 - reach, g->out_w, &lo, &hi);
    if (hi - lo < 4) {
        border(r, 0, g->out_w, out);
        return;
    }
    border(r, 0, lo, out);
    size_t ox = lo;
    for (; ox + 16 <= hi; ox += 16) interior(r, ox, out, 4, stride);
    for (; ox + 4 <= hi; ox += 4) interior(r, ox, out, 1, stride);
    if (ox < hi) interior(r, hi - 4, out, 1, stride); /* overlaps columns already written, with the same values */
    border(r, hi, g->out_w, out);
}

void qf_depthwise_conv2d_f32_neon_path(const qf_conv2d_geometry *g, const float *input,
                                       const float *weights, const float *bias, float *output) {
    for (size_t c = 0; c < g->channels; c++) {
        qf_depthwise_row r = {g, input + c * g->height * g->width, weights + c * g->kernel_h * g->kernel_w,
                         bias != NULL ? bias[c] : 0.0f, 0, 0, 0};
        float *out = output + c * g->out_h * g->out_w;
        for (size_t oy = 0; oy < g->out_h; oy++, out += g->out_w) {
            r.top = (ptrdiff_t)(oy * g->stride_h) - (ptrdiff_t)g->pad_top;
            qf_valid_range(r.top, g->dilation_h, (ptrdiff_t)g->height - 1, g->kernel_h, &r.kh_lo, &r.kh_hi);
            if (g->stride_w == 1) {
                output_row(&r, out, 1);
            } else if (g->stride_w == 2) {
                output_row(&r, out, 2);
            } else {
                border(&r, 0, g->out_w, out);
            }
        }
    }
}

#endif
