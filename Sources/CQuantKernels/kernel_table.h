#ifndef QF_KERNEL_TABLE_H
#define QF_KERNEL_TABLE_H

#include "CQuantKernels.h"

/* Every kernel path's int8 GEMM, with qf_gemm_u8s8's contract. The zero points are applied as each
 * register block is stored, so C is written once and never read back:
 *   (A - za)(B - zb)[r][n] = AB[r][n] - za * column_sums[n] - zb[n] * (rowsum(A[r]) - K * za). */
typedef void (*qf_gemm_u8s8_fn)(const uint8_t *a, size_t lda, size_t m, uint8_t a_zero,
                                const qf_packed_s8 *b, const int8_t *b_zero, int32_t *c, size_t ldc);

typedef void (*qf_sgemm_fn)(const float *a, size_t lda, const float *b, size_t ldb,
                            float *c, size_t ldc, size_t m, size_t k, size_t n);

typedef void (*qf_sgemm_packed_fn)(const float *a, size_t lda, const float *packed, size_t k, size_t n,
                                   float *c, size_t ldc, size_t m);
typedef void (*qf_range_f32_fn)(const float *x, size_t n, float *low, float *high);
typedef void (*qf_quantize_u8_fn)(const float *x, size_t n, float scale, uint8_t zero_point, uint8_t *y);
typedef void (*qf_depthwise_conv2d_f32_fn)(const qf_conv2d_geometry *geometry, const float *input,
                                           const float *weights, const float *bias, float *output);
typedef void (*qf_unary_f32_fn)(const float *x, float *y, size_t n);
typedef void (*qf_softmax_rows_f32_fn)(float *x, size_t rows, size_t length);

typedef struct {
    const char *name;
    qf_gemm_u8s8_fn gemm_u8s8;
    qf_sgemm_fn sgemm;
    qf_sgemm_packed_fn sgemm_packed;
    qf_range_f32_fn range_f32;
    qf_quantize_u8_fn quantize_u8;
    qf_depthwise_conv2d_f32_fn depthwise_conv2d_f32;
    qf_unary_f32_fn exp_f32, erf_f32, tanh_f32, sigmoid_f32, gelu_erf_f32;
    qf_softmax_rows_f32_fn softmax_rows_f32;
} qf_kernel_table;

/* Put before the constant-count row, panel and vector loops of a register tile: unrolled, its
 * accumulators live in registers with GCC too (clang unrolls them unasked, GCC -O2 does not). */
#define QF_UNROLL _Pragma("GCC unroll 8")

/* The calling thread's scratch buffer, at least `bytes` large, kept for the thread's next call: a
 * kernel uses it for its packed panel or row block and must not call another kernel meanwhile.
 * Aborts when memory runs out. */
void *qf_thread_scratch(size_t bytes);

/* Each architecture's tables exist only in its own builds; dispatch.c lists the ones compiled in. */
extern const qf_kernel_table qf_scalar_kernels;
#if defined(__x86_64__) || defined(__i386__)
extern const qf_kernel_table qf_avx2_kernels;
extern const qf_kernel_table qf_avx512_vnni_kernels; /* GEMMs on AVX512 (int8 on vpdpbusd), the rest avx2 */
#endif
#if defined(__aarch64__)
extern const qf_kernel_table qf_neon_kernels;
extern const qf_kernel_table qf_neon_dotprod_kernels; /* neon with the int8 GEMM on sdot */
#endif

/* A chunk of activation rows for the x86 kernels that broadcast four bytes at a time: row r's bytes
 * of quad q in x[r * quads + q] (one int32), zero past K, where the (zero) padding weights must not
 * meet stale bytes. */
void qf_quad_rows(const uint8_t *a, size_t lda, size_t rows, size_t k, size_t quads, int32_t *x);

/* rowsum(A[r]) - K * a_zero for each of `rows` rows: the factor of b_zero[n] in row r's zero-point
 * term, which the kernels need only when b_zero is not NULL. */
void qf_row_zero_terms(const uint8_t *a, size_t lda, size_t rows, size_t k, uint8_t a_zero, int32_t *terms);

/* A GEMM's zero points as the kernels' stores take them (the formula above). */
typedef struct {
    int32_t a_zero;
    const int32_t *column_sums; /* B's, from qf_pack_s8 */
    const int8_t *b_zero;       /* per column, or NULL for zeros */
} qf_zero_points;

/* Column `col` of a row's product with its zero-point terms subtracted (the formula above), for
 * columns a vector store does not cover; `row_term` is the row's from qf_row_zero_terms (unread
 * when B has no zero points). */
static inline int32_t qf_zero_corrected(const qf_zero_points *zeros, int32_t raw, size_t col, int32_t row_term) {
    int32_t corrected = raw - zeros->a_zero * zeros->column_sums[col];
    return zeros->b_zero != NULL ? corrected - zeros->b_zero[col] * row_term : corrected;
}


/* Each path's float GEMM, in its own file (sgemm_*.c), referenced by that path's table. */
void qf_sgemm_scalar_path(const float *a, size_t lda, const float *b, size_t ldb,
                          float *c, size_t ldc, size_t m, size_t k, size_t n);
void qf_sgemm_avx2_path(const float *a, size_t lda, const float *b, size_t ldb,
                        float *c, size_t ldc, size_t m, size_t k, size_t n);
void qf_sgemm_avx512_path(const float *a, size_t lda, const float *b, size_t ldb,
                          float *c, size_t ldc, size_t m, size_t k, size_t n);
void qf_sgemm_neon_path(const float *a, size_t lda, const float *b, size_t ldb,
                        float *c, size_t ldc, size_t m, size_t k, size_t n);

void qf_sgemm_packed_scalar_path(const float *a, size_t lda, const float *packed, size_t k, size_t n,
                                 float *c, size_t ldc, size_t m);
void qf_sgemm_packed_avx2_path(const float *a, size_t lda, const float *packed, size_t k, size_t n,
                               float *c, size_t ldc, size_t m);
void qf_sgemm_packed_avx512_path(const float *a, size_t lda, const float *packed, size_t k, size_t n,
                                 float *c, size_t ldc, size_t m);
void qf_sgemm_packed_neon_path(const float *a, size_t lda, const float *packed, size_t k, size_t n,
                               float *c, size_t ldc, size_t m);

/* And its activation quantizers (quantize_*.c). */
void qf_range_f32_scalar_path(const float *x, size_t n, float *low, float *high);
void qf_range_f32_avx2_path(const float *x, size_t n, float *low, float *high);
void qf_range_f32_avx512_path(const float *x, size_t n, float *low, float *high);
void qf_range_f32_neon_path(const float *x, size_t n, float *low, float *high);
void qf_quantize_u8_scalar_path(const float *x, size_t n, float scale, uint8_t zero_point, uint8_t *y);
void qf_quantize_u8_avx2_path(const float *x, size_t n, float scale, uint8_t zero_point, uint8_t *y);
void qf_quantize_u8_avx512_path(const float *x, size_t n, float scale, uint8_t zero_point, uint8_t *y);
void qf_quantize_u8_neon_path(const float *x, size_t n, float scale, uint8_t zero_point, uint8_t *y);


/* Depthwise convolution (depthwise_*.c). */
void qf_depthwise_conv2d_f32_scalar_path(const qf_conv2d_geometry *geometry, const float *input,
                                         const float *weights, const float *bias, float *output);
void qf_depthwise_conv2d_f32_avx2_path(const qf_conv2d_geometry *geometry, const float *input,
                                       const float *weights, const float *bias, float *output);
void qf_depthwise_conv2d_f32_avx512_path(const qf_conv2d_geometry *geometry, const float *input,
                                         const float *weights, const float *bias, float *output);
void qf_depthwise_conv2d_f32_neon_path(const qf_conv2d_geometry *geometry, const float *input,
                                       const float *weights, const float *bias, float *output);

/* Vector math (vmath_*.c): exp, erf, tanh, sigmoid, gelu and softmax of each path. */
#define QF_DECLARE_VMATH(path)                                                 \
    void qf_exp_f32_##path##_path(const float *x, float *y, size_t n);         \
    void qf_erf_f32_##path##_path(const float *x, float *y, size_t n);         \
    void qf_tanh_f32_##path##_path(const float *x, float *y, size_t n);        \
    void qf_sigmoid_f32_##path##_path(const float *x, float *y, size_t n);     \
    void qf_gelu_erf_f32_##path##_path(const float *x, float *y, size_t n);    \
    void qf_softmax_rows_f32_##path##_path(float *x, size_t rows, size_t length);
QF_DECLARE_VMATH(scalar)
QF_DECLARE_VMATH(avx2)
QF_DECLARE_VMATH(avx512)
QF_DECLARE_VMATH(neon)

/* Below this, exp flushes to 0 on every path: ln(FLT_MIN), the smallest normal result. */
#define QF_EXP_FLUSH_BELOW (-87.33654475f)
/* gelu(x) for x below -4 sqrt(2) is -0 on every path (its exact value is above -4.4e-8). */
#define QF_GELU_ZERO_BELOW (-5.65685425f)

/* Outputs o in [0, count) whose position o * stride + offset lies in [0, last], as [*lo, *hi) (empty:
 * *lo == *hi). The taps of a row, the columns of a row that read no padding, and so on. */
static inline void qf_valid_range(ptrdiff_t offset, size_t stride, ptrdiff_t last, size_t count,
                                  size_t *lo, size_t *hi) {
    ptrdiff_t step = (ptrdiff_t)stride, first, end;
    if (step == 1) { /* the common case, without the divisions that would dominate a short row */
        first = offset >= 0 ? 0 : -offset;
        end = last < offset ? 0 : last - offset + 1;
    } else {
        first = offset >= 0 ? 0 : (-offset + step - 1) / step;
        end = last < offset ? 0 : (last - offset) / step + 1;
    }
    if (end > (ptrdiff_t)count) end = (ptrdiff_t)count;
    if (first > end) first = end;
    *lo = (size_t)first;
    *hi = (size_t)end;
}


/*
 * A depthwise channel laid out so that a SIMD path reads every tap of a vector of outputs with one
 * unaligned load, without masks or gathers (depthwise_phases.c). The channel's plane is copied with
 * its padding made explicit as zeros, and each padded row is split by column into `stride_w` phases:
 * phase q holds padded columns q, q + stride_w, q + 2 stride_w, ... So output column ox's tap at
 * padded column ox * stride_w + c lies in phase c % stride_w at ox + c / stride_w, and a vector of
 * consecutive outputs reads consecutive floats at any stride. Phases are long enough for whole
 * vectors: the lanes past out_w read zeros and are never kept.
 */
typedef struct {
    size_t vectors;      /* vectors of `lanes` outputs per output row */
    size_t phase_length; /* floats per phase of a padded row */
    size_t row_pitch;    /* floats per padded row: stride_w phases */
    size_t rows;         /* padded rows: (out_h - 1) * stride_h + (kernel_h - 1) * dilation_h + 1 */
} qf_depthwise_phases;

qf_depthwise_phases qf_depthwise_phases_for(const qf_conv2d_geometry *g, size_t lanes);

/* Zeroes `phases` (layout->rows * layout->row_pitch floats): the padding, which every channel shares. */
void qf_depthwise_clear_phases(const qf_depthwise_phases *layout, float *phases);

/* Copies one channel's plane [height, width] into its places in cleared `phases`. */
void qf_depthwise_copy_plane(const qf_conv2d_geometry *g, const qf_depthwise_phases *layout, const float *plane,
                             float *phases);

/* The offset of each tap (kh, kw), in (kh, kw) order, from the float that output (0, 0) reads first:
 * kh * dilation_h rows down, in phase (kw * dilation_w) % stride_w at (kw * dilation_w) / stride_w. */
void qf_depthwise_tap_offsets(const qf_conv2d_geometry *g, const qf_depthwise_phases *layout, size_t *offsets);

/* One output row of a depthwise convolution, as the SIMD paths walk it. */
typedef struct {
    const qf_conv2d_geometry *g;
    const float *plane, *filter;
    float bias;
    ptrdiff_t top;       /* oy * stride_h - pad_top */
    size_t kh_lo, kh_hi; /* kernel rows inside the image */
} qf_depthwise_row;

/* One depthwise output: bias + the taps of rows [kh_lo, kh_hi) in (kh, kw) order, padding skipped.
 * `plane` and `filter` are the channel's; `top` = oy * stride_h - pad_top. The scalar path and the
 * NEON border columns. */
static inline float qf_depthwise_point(const qf_conv2d_geometry *g, const float *plane, const float *filter,
                                       float bias, ptrdiff_t top, size_t kh_lo, size_t kh_hi, size_t ox) {
    ptrdiff_t left = (ptrdiff_t)(ox * g->stride_w) - (ptrdiff_t)g->pad_left;
    size_t kw_lo, kw_hi;
    qf_valid_range(left, g->dilation_w, (ptrdiff_t)g->width - 1, g->kernel_w, &kw_lo, &kw_hi);
    float sum = bias;
    for (size_t kh = kh_lo; kh < kh_hi; kh++) {
        const float *row = plane + (size_t)(top + (ptrdiff_t)(kh * g->dilation_h)) * g->width;
        for (size_t kw = kw_lo; kw < kw_hi; kw++) {
            sum += filter[kh * g->kernel_w + kw] * row[left + (ptrdiff_t)(kw * g->dilation_w)];
        }
    }
    return sum;
}

#endif
