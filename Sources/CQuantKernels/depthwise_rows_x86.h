/*
 * The row walk of the x86 depthwise convolutions, shared by depthwise_avx2.c (8 lanes) and
 * depthwise_avx512.c (16 lanes). The including file defines QF_LANES, QF_TARGET (the function
 * attribute), QF_PATH (the exported name) and, for its registers:
 *   interior(r, ox, out, vectors, stride)  `vectors` (1 or 4) vectors of interior columns from ox,
 *                                          stride 1 or 2;
 *   border(r, ox, lanes, out)              outputs [ox, ox + lanes), any column and stride.
 * Interior columns are those whose taps all lie inside the row; the row's last interior vector is
 * placed to end at the last interior column, overlapping the previous one rather than leaving a
 * remainder.
 */

/* One output row at stride 1 or 2 (a constant after inlining). */
static inline __attribute__((always_inline)) QF_TARGET void output_row(const qf_depthwise_row *r, float *out, const size_t stride) {
    const qf_conv2d_geometry *g = r->g;
    /* vector columns: every load in the row, the stride-2 read past the last even element included */
    size_t lo, hi;
    ptrdiff_t reach = (ptrdiff_t)((g->kernel_w - 1) * g->dilation_w + (stride - 1));
    qf_valid_range(-(ptrdiff_t)g->pad_left, stride, (ptrdiff_t)g->width - 1 - reach, g->out_w, &lo, &hi);
    if (hi - lo < QF_LANES) {
        for (size_t ox = 0; ox < g->out_w; ox += QF_LANES) border(r, ox, g->out_w - ox < QF_LANES ? g->out_w - ox : QF_LANES, out);
        return;
    }
    for (size_t ox = 0; ox < lo; ox += QF_LANES) border(r, ox, lo - ox < QF_LANES ? lo - ox : QF_LANES, out);
    size_t ox = lo;
    for (; ox + 4 * QF_LANES <= hi; ox += 4 * QF_LANES) interior(r, ox, out, 4, stride);
    for (; ox + QF_LANES <= hi; ox += QF_LANES) interior(r, ox, out, 1, stride);
    if (ox < hi) interior(r, hi - QF_LANES, out, 1, stride); /* overlaps columns already written, with the same values */
    for (ox = hi; ox < g->out_w; ox += QF_LANES) border(r, ox, g->out_w - ox < QF_LANES ? g->out_w - ox : QF_LANES, out);
}

QF_TARGET void QF_PATH(const qf_conv2d_geometry *g, const float *input, const float *weights, const float *bias, float *output) {
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
                for (size_t ox = 0; ox < g->out_w; ox += QF_LANES) border(&r, ox, g->out_w - ox < QF_LANES ? g->out_w - ox : QF_LANES, out);
            }
        }
    }
}
