#include "kernel_table.h"

#include <string.h>

/*
 * im2col, one portable implementation for every path (see CQuantKernels.h for the layout). Each
 * output row (one channel and tap) is filled a row of the image at a time: the padding columns on
 * either side get the pad value, the columns in between copy the image row (a memcpy at stride 1, a
 * strided loop the compiler vectorises otherwise).
 */
#define QF_IM2COL(name, type)                                                                                  \
    static void name(const qf_conv2d_geometry *g, const type *input, type pad, type *columns) {             \
        const size_t plane = g->out_h * g->out_w;                                                            \
        for (size_t c = 0; c < g->channels; c++) {                                                           \
            const type *image = input + c * g->height * g->width;                                            \
            for (size_t kh = 0; kh < g->kernel_h; kh++) {                                                    \
                for (size_t kw = 0; kw < g->kernel_w; kw++) {                                                \
                    type *out = columns + ((c * g->kernel_h + kh) * g->kernel_w + kw) * plane;               \
                    ptrdiff_t left = (ptrdiff_t)(kw * g->dilation_w) - (ptrdiff_t)g->pad_left;               \
                    size_t lo, hi;                                                                           \
                    qf_valid_range(left, g->stride_w, (ptrdiff_t)g->width - 1, g->out_w, &lo, &hi);          \
                    for (size_t oy = 0; oy < g->out_h; oy++, out += g->out_w) {                              \
                        ptrdiff_t iy = (ptrdiff_t)(oy * g->stride_h + kh * g->dilation_h) - (ptrdiff_t)g->pad_top; \
                        if (iy < 0 || iy >= (ptrdiff_t)g->height) {                                          \
                            for (size_t ox = 0; ox < g->out_w; ox++) out[ox] = pad;                          \
                            continue;                                                                        \
                        }                                                                                    \
                        const type *row = image + (size_t)iy * g->width;                                     \
                        for (size_t ox = 0; ox < lo; ox++) out[ox] = pad;                                    \
                        if (g->stride_w == 1) {                                                              \
                            if (hi > lo) memcpy(out + lo, row + ((ptrdiff_t)lo + left), (hi - lo) * sizeof(type)); \
                        } else {                                                                             \
                            const type *first = row + ((ptrdiff_t)(lo * g->stride_w) + left);                \
                            for (size_t ox = lo; ox < hi; ox++) out[ox] = first[(ox - lo) * g->stride_w];    \
                        }                                                                                    \
                        for (size_t ox = hi; ox < g->out_w; ox++) out[ox] = pad;                             \
                    }                                                                                        \
                }                                                                                            \
            }                                                                                                \
        }                                                                                                    \
    }

QF_IM2COL(im2col_f32, float)
QF_IM2COL(im2col_u8, uint8_t)

void qf_im2col_f32(const qf_conv2d_geometry *geometry, const float *input, float *columns) {
    im2col_f32(geometry, input, 0.0f, columns);
}

void qf_im2col_u8(const qf_conv2d_geometry *geometry, const uint8_t *input, uint8_t pad_value, uint8_t *columns) {
    im2col_u8(geometry, input, pad_value, columns);
}
