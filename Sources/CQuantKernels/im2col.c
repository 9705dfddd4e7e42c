#include "kernel_table.h"

#include <string.h>

/*
 * im2col, one portable implementation for every path (see CQuantKernels.h for the layout), for the
 * output positions [first, first + count): each output row (one channel and tap) is filled one
 * image row of positions at a time: the padding columns on either side get the pad value, the
 * columns in between copy the image row (a memcpy at stride 1, a strided loop the compiler
 * vectorises otherwise).
 */
#define QF_IM2COL(name, type)                                                                                  \
    static void name(const qf_conv2d_geometry *g, const type *input, type pad, size_t first, size_t count,     \
                     type *columns) {                                                                          \
        for (size_t c = 0; c < g->channels; c++) {                                                             \
            const type *image = input + c * g->height * g->width;                                              \
            for (size_t kh = 0; kh < g->kernel_h; kh++) {                                                      \
                for (size_t kw = 0; kw < g->kernel_w; kw++) {                                                  \
                    type *out = columns + ((c * g->kernel_h + kh) * g->kernel_w + kw) * count;                 \
                    ptrdiff_t left = (ptrdiff_t)(kw * g->dilation_w) - (ptrdiff_t)g->pad_left;                 \
                    size_t lo, hi;                                                                             \
                    qf_valid_range(left, g->stride_w, (ptrdiff_t)g->width - 1, g->out_w, &lo, &hi);            \
                    for (size_t p = first; p < first + count;) {                                               \
                        size_t oy = p / g->out_w, begin = p % g->out_w;                                        \
                        size_t end = begin + (first + count - p) < g->out_w ? begin + (first + count - p) : g->out_w; \
                        type *segment = out + (p - first); /* segment[ox - begin]: position (oy, ox) */        \
                        p += end - begin;                                                                      \
                        ptrdiff_t iy = (ptrdiff_t)(oy * g->stride_h + kh * g->dilation_h) - (ptrdiff_t)g->pad_top; \
                        if (iy < 0 || iy >= (ptrdiff_t)g->height) {                                            \
                            for (size_t ox = begin; ox < end; ox++) segment[ox - begin] = pad;                 \
                            continue;                                                                          \
                        }                                                                                      \
                        const type *row = image + (size_t)iy * g->width;                                       \
                        size_t valid_lo = lo < begin ? begin : lo > end ? end : lo;                            \
                        size_t valid_hi = hi < valid_lo ? valid_lo : hi > end ? end : hi;                      \
                        for (size_t ox = begin; ox < valid_lo; ox++) segment[ox - begin] = pad;                \
                        if (g->stride_w == 1) {                                                                \
                            if (valid_hi > valid_lo)                                                           \
                                memcpy(segment + (valid_lo - begin), row + ((ptrdiff_t)valid_lo + left), (valid_hi - valid_lo) * sizeof(type)); \
                        } else {                                                                               \
                            const type *from = row + ((ptrdiff_t)(valid_lo * g->stride_w) + left);             \
                            for (size_t ox = valid_lo; ox < valid_hi; ox++) segment[ox - begin] = from[(ox - valid_lo) * g->stride_w]; \
                        }                                                                                      \
                        for (size_t ox = valid_hi; ox < end; ox++) segment[ox - begin] = pad;                  \
                    }                                                                                          \
                }                                                                                              \
            }                                                                                                  \
        }                                                                                                      \
    }

QF_IM2COL(im2col_f32, float)
QF_IM2COL(im2col_u8, uint8_t)

void qf_im2col_f32(const qf_conv2d_geometry *geometry, const float *input, size_t first, size_t count, float *columns) {
    im2col_f32(geometry, input, 0.0f, first, count, columns);
}

/*
 * 16 x 16 blocks in registers: four rounds of interleaving register i with register i + 8 (low
 * halves into register 2i, high halves into 2i + 1) transpose a block, since each round rotates
 * the 8 bits (row, column) of every byte's position left by one. SSE2 and NEON are the baselines of
 * x86-64 and AArch64, so this needs no dispatch (other CPUs go byte by byte).
 */
#if defined(__x86_64__)
#include <emmintrin.h>
typedef __m128i qf_bytes16;
#define QF_LOAD16(p) _mm_loadu_si128((const __m128i *)(p))
#define QF_STORE16(p, v) _mm_storeu_si128((__m128i *)(p), (v))
#define QF_ZIP_LOW(a, b) _mm_unpacklo_epi8((a), (b))
#define QF_ZIP_HIGH(a, b) _mm_unpackhi_epi8((a), (b))
#elif defined(__aarch64__)
#include <arm_neon.h>
typedef uint8x16_t qf_bytes16;
#define QF_LOAD16(p) vld1q_u8(p)
#define QF_STORE16(p, v) vst1q_u8((p), (v))
#define QF_ZIP_LOW(a, b) vzip1q_u8((a), (b))
#define QF_ZIP_HIGH(a, b) vzip2q_u8((a), (b))
#endif

enum { BLOCK = 16 };

#if defined(QF_LOAD16)
static void transpose_block(const uint8_t *source, size_t source_stride, uint8_t *target, size_t target_stride) {
    qf_bytes16 a[BLOCK], b[BLOCK];
    for (size_t i = 0; i < BLOCK; i++) a[i] = QF_LOAD16(source + i * source_stride);
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < BLOCK / 2; i++) b[2 * i] = QF_ZIP_LOW(a[i], a[i + 8]), b[2 * i + 1] = QF_ZIP_HIGH(a[i], a[i + 8]);
        for (size_t i = 0; i < BLOCK / 2; i++) a[2 * i] = QF_ZIP_LOW(b[i], b[i + 8]), a[2 * i + 1] = QF_ZIP_HIGH(b[i], b[i + 8]);
    }
    for (size_t i = 0; i < BLOCK; i++) QF_STORE16(target + i * target_stride, a[i]);
}
#endif

/* An edge block of `rows` x `columns` (up to 16 each) through a zero-padded 16 x 16 copy, so the
 * edges run in registers too (channel counts such as 24, 40 or 56 leave 8 rows in every column). */
static void transpose_edge_block(const uint8_t *source, size_t source_stride, size_t rows, size_t columns,
                                 uint8_t *target, size_t target_stride) {
    uint8_t padded[BLOCK * BLOCK] = {0}, transposed[BLOCK * BLOCK];
    for (size_t r = 0; r < rows; r++) memcpy(padded + r * BLOCK, source + r * source_stride, columns);
#if defined(QF_LOAD16)
    transpose_block(padded, BLOCK, transposed, BLOCK);
#else
    for (size_t i = 0; i < BLOCK * BLOCK; i++) transposed[(i % BLOCK) * BLOCK + i / BLOCK] = padded[i];
#endif
    for (size_t c = 0; c < columns; c++) memcpy(target + c * target_stride, transposed + c * BLOCK, rows);
}

/* target [c][r] (rows target_stride apart) = source [r][c] (rows source_stride apart), 16 x 16
 * blocks at a time. */
static void transpose_u8(const uint8_t *source, size_t source_stride, size_t rows, size_t columns, uint8_t *target,
                         size_t target_stride) {
    for (size_t row = 0; row < rows; row += BLOCK) {
        size_t block_rows = rows - row < BLOCK ? rows - row : BLOCK;
        for (size_t col = 0; col < columns; col += BLOCK) {
            size_t block_columns = columns - col < BLOCK ? columns - col : BLOCK;
            const uint8_t *from = source + row * source_stride + col;
            uint8_t *to = target + col * target_stride + row;
#if defined(QF_LOAD16)
            if (block_rows == BLOCK && block_columns == BLOCK) {
                transpose_block(from, source_stride, to, target_stride);
                continue;
            }
#endif
            transpose_edge_block(from, source_stride, block_rows, block_columns, to, target_stride);
        }
    }
}

void qf_conv_rows_u8(const qf_conv2d_geometry *g, const uint8_t *input, uint8_t pad_value, size_t first, size_t count,
                     uint8_t *scratch, uint8_t *rows) {
    size_t plane = g->out_h * g->out_w, depth = g->channels * g->kernel_h * g->kernel_w;
    /* A 1x1 unpadded window as large as its input reads each output's own position (a stride above 1
     * leaves a larger input smaller): the input's channels already are the columns. */
    int identity = g->kernel_h == 1 && g->kernel_w == 1 && g->pad_top == 0 && g->pad_left == 0 && g->out_h == g->height &&
                   g->out_w == g->width;
    if (identity) {
        transpose_u8(input + first, plane, g->channels, count, rows, depth);
        return;
    }
    im2col_u8(g, input, pad_value, first, count, scratch);
    transpose_u8(scratch, count, depth, count, rows, depth);
}
