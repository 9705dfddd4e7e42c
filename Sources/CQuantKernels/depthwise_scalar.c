#include "kernel_table.h"

/*
 * Portable depthwise convolution, the reference the SIMD paths are tested against: every output is
 * bias + its taps in (kh, kw) order, taps in the padding skipped, as the SIMD paths sum them.
 */
void qf_depthwise_conv2d_f32_scalar_path(const qf_conv2d_geometry *g, const float *input,
                                         const float *weights, const float *bias, float *output) {
    for (size_t c = 0; c < g->channels; c++) {
        const float *plane = input + c * g->height * g->width, *filter = weights + c * g->kernel_h * g->kernel_w;
        float *out = output + c * g->out_h * g->out_w;
        const float start = bias != NULL ? bias[c] : 0.0f;
        for (size_t oy = 0; oy < g->out_h; oy++) {
            ptrdiff_t top = (ptrdiff_t)(oy * g->stride_h) - (ptrdiff_t)g->pad_top;
            size_t kh_lo, kh_hi;
            qf_valid_range(top, g->dilation_h, (ptrdiff_t)g->height - 1, g->kernel_h, &kh_lo, &kh_hi);
            for (size_t ox = 0; ox < g->out_w; ox++) {
                out[oy * g->out_w + ox] = qf_depthwise_point(g, plane, filter, start, top, kh_lo, kh_hi, ox);
            }
        }
    }
}
