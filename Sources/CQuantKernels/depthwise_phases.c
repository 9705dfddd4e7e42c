#include "kernel_table.h"

#include <string.h>

/* The padded, phase-split layout of one depthwise channel (see kernel_table.h): portable, since it
 * is a copy; the SIMD paths only multiply. */

qf_depthwise_phases qf_depthwise_phases_for(const qf_conv2d_geometry *g, size_t lanes) {
    qf_depthwise_phases layout;
    layout.vectors = (g->out_w + lanes - 1) / lanes;
    layout.phase_length = layout.vectors * lanes + (g->kernel_w - 1) * g->dilation_w / g->stride_w;
    layout.row_pitch = g->stride_w * layout.phase_length;
    layout.rows = (g->out_h - 1) * g->stride_h + (g->kernel_h - 1) * g->dilation_h + 1;
    return layout;
}

void qf_depthwise_clear_phases(const qf_depthwise_phases *layout, float *phases) {
    memset(phases, 0, layout->rows * layout->row_pitch * sizeof(float));
}

void qf_depthwise_copy_plane(const qf_conv2d_geometry *g, const qf_depthwise_phases *layout, const float *plane,
                             float *phases) {
    const size_t stride = g->stride_w, padded_width = layout->row_pitch;
    /* the image's rows and columns that the padded layout holds: rows [pad_top, pad_top + height) and
     * columns [pad_left, pad_left + width), both cut to the layout */
    const size_t top = g->pad_top < layout->rows ? g->pad_top : layout->rows;
    const size_t bottom = g->pad_top + g->height < layout->rows ? g->pad_top + g->height : layout->rows;
    const size_t first = g->pad_left < padded_width ? g->pad_left : padded_width;
    const size_t end = g->pad_left + g->width < padded_width ? g->pad_left + g->width : padded_width;
    for (size_t r = top; r < bottom; r++) {
        const float *source = plane + (r - g->pad_top) * g->width - g->pad_left;
        float *row = phases + r * padded_width;
        /* loops, not memcpy: the rows of small planes are shorter than a library call's overhead */
        if (stride == 1) {
            for (size_t column = first; column < end; column++) row[column] = source[column];
        } else if (stride == 2) {
            /* the common strided case, as one loop of constant stride that the compiler vectorises:
             * columns first + 2i and first + 2i + 1 go to the two phases at first / 2 + i and
             * (first + 1) / 2 + i, which phase is which depending on first's parity */
            float *from_first = row + first % 2 * layout->phase_length + first / 2;
            float *from_second = row + (1 - first % 2) * layout->phase_length + (first + 1) / 2;
            const size_t pairs = (end - first) / 2;
            for (size_t i = 0; i < pairs; i++) {
                from_first[i] = source[first + 2 * i];
                from_second[i] = source[first + 2 * i + 1];
            }
            if ((end - first) % 2 != 0) from_first[pairs] = source[end - 1];
        } else {
            /* phase by phase: phase q takes columns q, q + stride, ... (no division per element) */
            for (size_t q = 0; q < stride; q++) {
                float *phase = row + q * layout->phase_length;
                /* phase[i] holds column i * stride + q, for the columns in [first, end) */
                for (size_t i = (first + stride - 1 - q) / stride; i * stride + q < end; i++) phase[i] = source[i * stride + q];
            }
        }
    }
}

void qf_depthwise_tap_offsets(const qf_conv2d_geometry *g, const qf_depthwise_phases *layout, size_t *offsets) {
    for (size_t kh = 0; kh < g->kernel_h; kh++) {
        for (size_t kw = 0; kw < g->kernel_w; kw++) {
            const size_t column = kw * g->dilation_w;
            offsets[kh * g->kernel_w + kw] = kh * g->dilation_h * layout->row_pitch +
                                             column % g->stride_w * layout->phase_length + column / g->stride_w;
        }
    }
}
