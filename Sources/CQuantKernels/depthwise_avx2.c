#include "kernel_table.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <string.h>

#define QF_AVX2_FMA __attribute__((target("avx2,fma")))

/*
 * Depthwise convolution on the padded, phase-split channel of depthwise_phases.c: every vector of 8
 * consecutive outputs in a row reads each tap with one unaligned load, at any stride, in the border
 * columns as in the interior, so small planes (7x7, 14x14) cost what large ones do per output. The
 * vectors of all output rows form one sequence, taken JOBS at a time with an accumulator each: enough
 * independent chains to hide the FMA latency even when a row holds one or two vectors. Each output is
 * bias + its taps in (kh, kw) order; taps in the padding add weight * 0.
 *
 * At stride 1 vertically with the common 3 and 5 rows of taps, blocks of BLOCK_ROWS output rows go
 * first: there each input vector, loaded once per kernel column, feeds every output row whose window
 * covers it, instead of one load per tap and output (about 0.5 loads per FMA instead of 1.1, and on
 * this path the loads, not the FMAs, were the limit). These sum the taps in (kw, kh) order.
 */
enum { LANES = 8, JOBS = 8, BLOCK_ROWS = 8 };

/* `count` (1 to JOBS) vectors: vector j reads its taps from input[j] + offsets[t] and is stored at
 * output[j]. A vector's lanes past out_w are stored into the next row's first columns, which that
 * row's own vector overwrites later; only where that would pass `limit` (the end of the output) are
 * the lanes kept in a scratch vector instead. */
static inline __attribute__((always_inline)) QF_AVX2_FMA void vector_group(
    const float *const *input, float *const *output, const int count, const float *filter, const size_t *offsets,
    size_t taps, float bias, const float *limit) {
    __m256 acc[JOBS];
    for (int j = 0; j < count; j++) acc[j] = _mm256_set1_ps(bias);
    for (size_t t = 0; t < taps; t++) {
        const __m256 weight = _mm256_broadcast_ss(filter + t);
        for (int j = 0; j < count; j++) acc[j] = _mm256_fmadd_ps(weight, _mm256_loadu_ps(input[j] + offsets[t]), acc[j]);
    }
    for (int j = 0; j < count; j++) {
        if (output[j] + LANES <= limit) {
            _mm256_storeu_ps(output[j], acc[j]);
        } else {
            float lanes[LANES];
            _mm256_storeu_ps(lanes, acc[j]);
            memcpy(output[j], lanes, (size_t)(limit - output[j]) * sizeof(float));
        }
    }
}

/* BLOCK_ROWS output rows of one vector column at stride 1 and dilation 1 vertically, a kernel of
 * `kernel_h` rows (a constant after inlining). `input` is where the block's first row reads kernel
 * row 0, column offsets[kw] further for kernel column kw; rows are `pitch` floats apart. Stores as
 * vector_group does: lanes past out_w go into the next row's first columns, so a row's vectors must
 * be stored last to first. */
static inline __attribute__((always_inline)) QF_AVX2_FMA void row_block(
    const float *input, size_t pitch, const size_t *offsets, const float *filter, size_t kernel_w, const size_t kernel_h,
    float bias, float *output, size_t out_w, const float *limit) {
    __m256 acc[BLOCK_ROWS];
    QF_UNROLL for (size_t r = 0; r < BLOCK_ROWS; r++) acc[r] = _mm256_set1_ps(bias);
    for (size_t kw = 0; kw < kernel_w; kw++) {
        __m256 weight[5];
        QF_UNROLL for (size_t kh = 0; kh < kernel_h; kh++) weight[kh] = _mm256_broadcast_ss(filter + kh * kernel_w + kw);
        const float *column = input + offsets[kw];
        /* fully unrolled (12 rows at most), so that every accumulator index is a constant */
        _Pragma("GCC unroll 16") for (size_t row = 0; row < BLOCK_ROWS + kernel_h - 1; row++) {
            const __m256 x = _mm256_loadu_ps(column + row * pitch);
            /* input row `row` is kernel row row - r of output row r */
            QF_UNROLL for (size_t r = 0; r < BLOCK_ROWS; r++) {
                if (row >= r && row - r < kernel_h) acc[r] = _mm256_fmadd_ps(weight[row - r], x, acc[r]);
            }
        }
    }
    QF_UNROLL for (size_t r = 0; r < BLOCK_ROWS; r++) {
        float *target = output + r * out_w;
        if (target + LANES <= limit) {
            _mm256_storeu_ps(target, acc[r]);
        } else {
            float lanes[LANES];
            _mm256_storeu_ps(lanes, acc[r]);
            memcpy(target, lanes, (size_t)(limit - target) * sizeof(float));
        }
    }
}

QF_AVX2_FMA void qf_depthwise_conv2d_f32_avx2_path(const qf_conv2d_geometry *g, const float *input, const float *weights,
                                                   const float *bias, float *output) {
    const qf_depthwise_phases layout = qf_depthwise_phases_for(g, LANES);
    const size_t taps = g->kernel_h * g->kernel_w, plane_floats = layout.rows * layout.row_pitch;
    /* the tap offsets, then the channel's phases */
    size_t *offsets = qf_thread_scratch(taps * sizeof(size_t) + plane_floats * sizeof(float));
    float *phases = (float *)(offsets + taps);
    qf_depthwise_tap_offsets(g, &layout, offsets);
    const size_t row_step = g->stride_h * layout.row_pitch;
    const float *limit = output + g->channels * g->out_h * g->out_w;
    qf_depthwise_clear_phases(&layout, phases);
    for (size_t c = 0; c < g->channels; c++) {
        qf_depthwise_copy_plane(g, &layout, input + c * g->height * g->width, phases);
        const float *filter = weights + c * taps;
        const float start = bias != NULL ? bias[c] : 0.0f;
        float *out = output + c * g->out_h * g->out_w;
        size_t oy = 0, vector = 0;
        if (g->stride_h == 1 && g->dilation_h == 1 && (g->kernel_h == 3 || g->kernel_h == 5)) {
            for (; oy + BLOCK_ROWS <= g->out_h; oy += BLOCK_ROWS) {
                for (size_t v = layout.vectors; v-- > 0;) {
                    const float *first = phases + oy * layout.row_pitch + v * LANES;
                    float *target = out + oy * g->out_w + v * LANES;
                    if (g->kernel_h == 3) {
                        row_block(first, layout.row_pitch, offsets, filter, g->kernel_w, 3, start, target, g->out_w, limit);
                    } else {
                        row_block(first, layout.row_pitch, offsets, filter, g->kernel_w, 5, start, target, g->out_w, limit);
                    }
                }
            }
        }
        /* the remaining output vectors in row order, JOBS at a time */
        while (oy < g->out_h) {
            const float *reads[JOBS];
            float *writes[JOBS];
            int count = 0;
            for (; count < JOBS && oy < g->out_h; count++) {
                reads[count] = phases + oy * row_step + vector * LANES;
                writes[count] = out + oy * g->out_w + vector * LANES;
                if (++vector == layout.vectors) vector = 0, oy++;
            }
            switch (count) {
            case 8: vector_group(reads, writes, 8, filter, offsets, taps, start, limit); break;
            case 7: vector_group(reads, writes, 7, filter, offsets, taps, start, limit); break;
            case 6: vector_group(reads, writes, 6, filter, offsets, taps, start, limit); break;
            case 5: vector_group(reads, writes, 5, filter, offsets, taps, start, limit); break;
            case 4: vector_group(reads, writes, 4, filter, offsets, taps, start, limit); break;
            case 3: vector_group(reads, writes, 3, filter, offsets, taps, start, limit); break;
            case 2: vector_group(reads, writes, 2, filter, offsets, taps, start, limit); break;
            default: vector_group(reads, writes, 1, filter, offsets, taps, start, limit); break;
            }
        }
    }
}

#endif
