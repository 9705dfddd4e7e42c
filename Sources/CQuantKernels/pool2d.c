#include "kernel_table.h"

/*
 * 2-D max and average pooling, one portable implementation for every path (see CQuantKernels.h),
 * separably: a window's maximum (or sum) is the maximum (sum) over its kernel rows of each row's
 * maximum (sum) over the kernel columns. So each input row is first reduced along the row into a
 * scratch row of out_w values, then each output row reduces kernel_h scratch rows element by element,
 * a contiguous loop the compiler vectorises. A 3x3 window costs 3 + 3 reads per output, not 9 through
 * a table of positions, and each input row is reduced once, not once per output row that covers it.
 */

/* The taps of output column ox that lie inside the row, reduced; for the border columns. */
static float reduce_border_column(const qf_conv2d_geometry *g, qf_pool_kind kind, const float *row, size_t ox) {
    const ptrdiff_t start = (ptrdiff_t)(ox * g->stride_w) - (ptrdiff_t)g->pad_left;
    size_t kw_lo, kw_hi;
    qf_valid_range(start, g->dilation_w, (ptrdiff_t)g->width - 1, g->kernel_w, &kw_lo, &kw_hi);
    float value = kind == QF_POOL_MAX ? -__builtin_inff() : 0.0f;
    for (size_t kw = kw_lo; kw < kw_hi; kw++) {
        const float tap = row[start + (ptrdiff_t)(kw * g->dilation_w)];
        value = kind == QF_POOL_MAX ? (tap > value ? tap : value) : value + tap;
    }
    return value;
}

/* The column reduction of one input row into out_w values; taps in the padding are left out. */
static void reduce_row(const qf_conv2d_geometry *g, qf_pool_kind kind, const float *restrict row, float *restrict reduced) {
    /* interior columns [lo, hi): every tap inside the row */
    size_t lo, hi;
    const ptrdiff_t reach = (ptrdiff_t)((g->kernel_w - 1) * g->dilation_w);
    qf_valid_range(-(ptrdiff_t)g->pad_left, g->stride_w, (ptrdiff_t)g->width - 1 - reach, g->out_w, &lo, &hi);
    for (size_t ox = 0; ox < lo; ox++) reduced[ox] = reduce_border_column(g, kind, row, ox);
    /* one kernel column at a time over all interior outputs: a loop the compiler vectorises */
    if (hi > lo) {
        const float *taps = row + (lo * g->stride_w - g->pad_left);
        for (size_t ox = lo; ox < hi; ox++) reduced[ox] = taps[(ox - lo) * g->stride_w];
        for (size_t kw = 1; kw < g->kernel_w; kw++) {
            const float *tap = taps + kw * g->dilation_w;
            if (kind == QF_POOL_MAX) {
                for (size_t ox = lo; ox < hi; ox++) reduced[ox] = tap[(ox - lo) * g->stride_w] > reduced[ox] ? tap[(ox - lo) * g->stride_w] : reduced[ox];
            } else {
                for (size_t ox = lo; ox < hi; ox++) reduced[ox] += tap[(ox - lo) * g->stride_w];
            }
        }
    }
    for (size_t ox = hi; ox < g->out_w; ox++) reduced[ox] = reduce_border_column(g, kind, row, ox);
}

void qf_pool2d_f32(const qf_conv2d_geometry *g, qf_pool_kind kind, const float *input, const float *row_counts,
                   const float *column_counts, float *output) {
    const size_t out_w = g->out_w;
    /* every input row's reduction of one plane: height * out_w floats */
    float *reduced = qf_thread_scratch(g->height * out_w * sizeof(float));
    for (size_t c = 0; c < g->channels; c++) {
        const float *plane = input + c * g->height * g->width;
        for (size_t y = 0; y < g->height; y++) reduce_row(g, kind, plane + y * g->width, reduced + y * out_w);
        for (size_t oy = 0; oy < g->out_h; oy++) {
            float *out = output + (c * g->out_h + oy) * out_w;
            ptrdiff_t top = (ptrdiff_t)(oy * g->stride_h) - (ptrdiff_t)g->pad_top;
            size_t kh_lo, kh_hi;
            qf_valid_range(top, g->dilation_h, (ptrdiff_t)g->height - 1, g->kernel_h, &kh_lo, &kh_hi);
            if (kh_lo == kh_hi) { /* a window wholly in the padding (only with ceil_mode's last row) */
                for (size_t ox = 0; ox < out_w; ox++) out[ox] = kind == QF_POOL_MAX ? -__builtin_inff() : 0.0f;
                continue;
            }
            const float *first = reduced + (size_t)(top + (ptrdiff_t)(kh_lo * g->dilation_h)) * out_w;
            for (size_t ox = 0; ox < out_w; ox++) out[ox] = first[ox];
            for (size_t kh = kh_lo + 1; kh < kh_hi; kh++) {
                const float *next = reduced + (size_t)(top + (ptrdiff_t)(kh * g->dilation_h)) * out_w;
                if (kind == QF_POOL_MAX) {
                    for (size_t ox = 0; ox < out_w; ox++) out[ox] = next[ox] > out[ox] ? next[ox] : out[ox];
                } else {
                    for (size_t ox = 0; ox < out_w; ox++) out[ox] += next[ox];
                }
            }
            if (kind == QF_POOL_AVERAGE) {
                const float rows = row_counts[oy];
                for (size_t ox = 0; ox < out_w; ox++) {
                    const float count = rows * column_counts[ox];
                    out[ox] = count > 0 ? out[ox] / count : 0.0f;
                }
            }
        }
    }
}
