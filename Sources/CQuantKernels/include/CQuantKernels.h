#ifndef CQUANTKERNELS_H
#define CQUANTKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Integer GEMM: C[m][n] = sum_k (A[m][k] - a_zero) * (B[k][n] - b_zero[n]), exact in int32.
 * A is uint8 activations (row-major, leading dimension lda); B is int8 weights packed once.
 *
 * Packed B layout (shared by every kernel path, so weights are packed once whatever path runs):
 *   columns are grouped in tiles of QF_TILE_COLUMNS (16); rows are grouped in quads of four.
 *   tile t, row quad q occupies 64 bytes at offset (t * quads + q) * 64, each column's four rows
 *   together:
 *     [B[4q][16t], B[4q+1][16t], B[4q+2][16t], B[4q+3][16t], B[4q][16t+1], ..., B[4q+3][16t+15]]
 *   quads = ceil(K / 4); a missing row (K not a multiple of 4) or column (N not a multiple of 16) is
 *   stored as 0. Each tile is one contiguous stream, read once per block of activation rows.
 *   This is the operand order of avx2's `vpmaddubsw` + `vpmaddwd` on a broadcast of four activation
 *   bytes (two 32-byte loads per quad and tile), of `sdot` (four 16-byte loads), of `vpdpbusd`, and
 *   of NEON's `ld4`, which splits a quad into its four rows of 16 columns. Weights that are not
 *   pair-safe (see qf_pack_s8) make avx2 regroup each quad into 16-bit pairs for `vpmaddwd`.
 * column_sums[n] = sum_k B[k][n], used to fold the activation zero point out of the inner loop
 * (and, on neon-dotprod, the 128 its signed activations were shifted by).
 *
 * Range: every raw partial sum is at most K * 255 * 128, so K up to 65,793 is exact in int32.
 * With weight zero points a difference (B - b_zero) reaches 255 and the zero-point terms add up
 * before they cancel, so K stays within 2^31 / (2 * 255 * 128): 32,896. Past either limit the int32
 * sums overflow, which C leaves undefined; callers must refuse such a K (the engine does at load).
 */

enum {
    QF_TILE_COLUMNS = 16,
    QF_TILE_QUAD_BYTES = 4 * QF_TILE_COLUMNS,
    /** The largest K (depth) qf_gemm_u8s8 is exact for without weight zero points... */
    QF_MAX_DEPTH = 65793,
    /** ...and with them. */
    QF_MAX_DEPTH_WITH_ZERO_POINTS = 32896,
};

/** Bytes needed for a packed K x N int8 matrix. */
size_t qf_packed_s8_size(size_t k, size_t n);

/**
 * Packs row-major int8 B (K x N, leading dimension ldb) into `packed` and writes column sums.
 * Returns 1 when every row pair fits a 16-bit pair sum: |B[2r][n]| + |B[2r+1][n]| <= 128 in every
 * column, so 255 x 128 bounds any u8 x s8 pair sum (QuantFleet's pair-safe weight range makes this
 * true); 0 otherwise.
 */
int qf_pack_s8(const int8_t *b, size_t ldb, size_t k, size_t n,
               int8_t *packed, int32_t *column_sums);

/** A packed weight matrix as the kernels read it. */
typedef struct {
    const int8_t *data;         /* qf_packed_s8_size(k, n) bytes in the layout above */
    const int32_t *column_sums; /* n entries */
    size_t k;
    size_t n;
    /* qf_pack_s8's answer. When 1, avx2 multiplies raw bytes with `vpmaddubsw`, whose 16-bit pair
     * sums then cannot saturate; when 0 it widens to int16 first (exact for any weights, slower). */
    int pairs_fit_int16;
} qf_packed_s8;

/**
 * C (M x N int32, leading dimension ldc) = (A - a_zero) x (B - b_zero).
 * b_zero has n entries (per column) or is NULL for all zeros.
 * Runs the kernel path chosen at first use.
 */
void qf_gemm_u8s8(const uint8_t *a, size_t lda, size_t m, uint8_t a_zero,
                  const qf_packed_s8 *b, const int8_t *b_zero, int32_t *c, size_t ldc);

/**
 * Name of the kernel path in use: "avx512-vnni" (x86 with AVX512-VNNI as well: the int8 GEMM on
 * vpdpbusd, everything else as avx2), "avx2" (x86 with AVX2 and FMA), "neon-dotprod" (AArch64 with the
 * dot-product extension), "neon" (any AArch64) or "scalar" (anywhere). Chosen once, at first use,
 * from the CPU's features; the environment variable QUANTFLEET_KERNELS=<one of these names>
 * overrides the choice (a request the CPU cannot run falls back to the detected path).
 */
const char *qf_kernel_path_name(void);

/** Kernel path names this CPU can run, for tests that exercise each one. */
int qf_kernel_path_is_supported(const char *name);

/** Runs one GEMM on a named path regardless of the dispatch choice (tests compare paths). Returns 0
 *  if the path is unknown or unsupported here, 1 otherwise. */
int qf_gemm_u8s8_on_path(const char *name,
                         const uint8_t *a, size_t lda, size_t m, uint8_t a_zero,
                         const qf_packed_s8 *b, const int8_t *b_zero, int32_t *c, size_t ldc);

/**
 * Float GEMM: C (M x N, leading dimension ldc) = A (M x K, lda) x B (K x N, ldb), all row-major,
 * C overwritten. Runs the kernel path chosen at first use (avx2 also needs FMA).
 */
void qf_sgemm(const float *a, size_t lda, const float *b, size_t ldb, float *c, size_t ldc,
              size_t m, size_t k, size_t n);

/*
 * Float weights packed once at load: columns in strips of QF_FLOAT_STRIP_COLUMNS (24), each strip
 * K rows of 24 contiguous floats (missing columns of the last strip are 0), so the kernel streams a
 * strip from consecutive addresses instead of one 96-byte piece per row of B.
 */
enum { QF_FLOAT_STRIP_COLUMNS = 24 };

/** Floats needed for a packed K x N matrix. */
size_t qf_packed_f32_size(size_t k, size_t n);

/** Packs row-major B (K x N, leading dimension ldb). */
void qf_pack_f32(const float *b, size_t ldb, size_t k, size_t n, float *packed);

/** C (M x N, ldc) = A (M x K, lda) x packed B, on the chosen kernel path. */
void qf_sgemm_packed(const float *a, size_t lda, const float *packed, size_t k, size_t n,
                     float *c, size_t ldc, size_t m);

/** qf_sgemm_packed on a named path; returns 0 if the path cannot run here. */
int qf_sgemm_packed_on_path(const char *name, const float *a, size_t lda, const float *packed, size_t k, size_t n,
                            float *c, size_t ldc, size_t m);

/** min(0, min x) and max(0, max x), NaN skipped: the range DynamicQuantizeLinear quantizes. */
void qf_range_f32(const float *x, size_t n, float *low, float *high);

/** y = clamp(round_half_even(x / scale) + zero_point, 0, 255), NaN -> zero_point (x divided, not
 *  multiplied by 1/scale, as ONNX and onnxruntime do). */
void qf_quantize_u8(const float *x, size_t n, float scale, uint8_t zero_point, uint8_t *y);

/** qf_range_f32 and qf_quantize_u8 on a named path; return 0 if the path cannot run here. */
int qf_range_f32_on_path(const char *name, const float *x, size_t n, float *low, float *high);
int qf_quantize_u8_on_path(const char *name, const float *x, size_t n, float scale, uint8_t zero_point, uint8_t *y);

/** qf_sgemm on a named path (tests compare paths); returns 0 if the path cannot run here. */
int qf_sgemm_on_path(const char *name, const float *a, size_t lda, const float *b, size_t ldb,
                     float *c, size_t ldc, size_t m, size_t k, size_t n);

/* ---- Block-quantized 4-bit weights ------------------------------------------------------------- */

/*
 * One strip of a 4-bit weight matrix B [K, N] quantized in blocks of `block` rows: `levels` holds B
 * row-major, two levels a byte, the first in the low nibble (ONNX's INT4/UINT4 layout), signed
 * (-8..7) or not (0..15); `scales` and `zero_points` are [ceil(K / block), N].
 * Writes panel[r * row_stride + j] = (level(r, first + j) - zero point) x scale for j < width (the
 * difference is exact, so each value is rounded once, as DequantizeLinear and onnxruntime's
 * MatMulNBits round it), and zeros
 * from width to row_stride: the layout of one strip of qf_sgemm_packed's B when row_stride is
 * QF_FLOAT_STRIP_COLUMNS. Portable C the compiler vectorises.
 */
void qf_dequantize_4bit_strip(const uint8_t *levels, int is_signed, size_t k, size_t n, size_t block,
                              const float *scales, const float *zero_points, size_t first, size_t width,
                              float *panel, size_t row_stride);

/*
 * y[r][n] = float(acc[r][n] + acc_offsets[n]) x scales[n] + offsets[n] for `rows` rows of `columns`:
 * an integer product's int32 accumulators to floats (per-column scale = activation scale x weight
 * scale, offset = bias; acc_offsets = an int32 bias added before the conversion, as quantize_dynamic's
 * graphs add one to a ConvInteger's output, wrapping like their int32 Add). Portable C the compiler
 * vectorises (the same loop in Swift did not: 3x slower).
 */
void qf_scale_accumulators(const int32_t *acc, size_t rows, size_t columns, const int32_t *acc_offsets,
                           const float *scales, const float *offsets, float *y);

/** The same written transposed, y[n * y_stride + r] (a convolution's filters x positions from its
 *  positions x filters product; y_stride is the output's positions, of which these rows are some), a
 *  block of rows at a time so that reads and writes both stay in cache. */
void qf_scale_accumulators_transposed(const int32_t *acc, size_t rows, size_t columns, const int32_t *acc_offsets,
                                      const float *scales, const float *offsets, float *y, size_t y_stride);

/** y (columns x rows) = the transpose of x (rows x columns), both row-major, in tiles that keep reads
 *  and writes in cache: a Gemm's transB weights (CNN classifier heads of 100M floats) at load. */
void qf_transpose_f32(const float *x, size_t rows, size_t columns, float *y);

/* ---- Convolution helpers ---------------------------------------------------------------------- */

/*
 * Geometry of a 2-D convolution on ONE image in NCHW layout (every count in elements):
 *   input   [channels, height, width], contiguous
 *   kernel  kernel_h x kernel_w taps, tap (kh, kw) reads input row oy * stride_h - pad_top + kh * dilation_h
 *           and column ox * stride_w - pad_left + kw * dilation_w; a position outside the image reads the
 *           padding value (0 for float). Strides and dilations must be at least 1.
 *   output  [channels or columns..., out_h, out_w]. The caller passes out_h and out_w (for ONNX,
 *           floor((height + pad_top + pad_bottom - dilation_h * (kernel_h - 1) - 1) / stride_h) + 1), so the
 *           bottom and right padding are implied: any output position whose taps fall below or right of
 *           the image reads padding there.
 * Counts must fit in int32 (rows and columns are indexed with 32-bit lanes).
 */
typedef struct {
    size_t channels, height, width;
    size_t kernel_h, kernel_w;
    size_t stride_h, stride_w;
    size_t dilation_h, dilation_w;
    size_t pad_top, pad_left;
    size_t out_h, out_w;
} qf_conv2d_geometry;

/**
 * Depthwise convolution (one filter per channel, channel multiplier 1), float, zero padding:
 *   output[c][oy][ox] = bias[c] + sum_{kh, kw} weights[c][kh][kw] * input[c][iy][ix]   (taps in the
 *   padding skipped), with iy, ix as in qf_conv2d_geometry.
 * weights [channels, kernel_h, kernel_w]; bias [channels] or NULL for none; output
 * [channels, out_h, out_w], overwritten; input and output must not overlap. Runs the chosen path: the SIMD
 * paths vectorise along the output row (fast for stride 1 and 2, any kernel size and dilation; other
 * strides run a slower gathering loop) and compute border columns separately. Results of different
 * paths agree to the rounding of a (kernel_h * kernel_w + 1)-term sum (fused multiply-adds or not).
 */
void qf_depthwise_conv2d_f32(const qf_conv2d_geometry *geometry, const float *input, const float *weights,
                             const float *bias, float *output);

/** qf_depthwise_conv2d_f32 on a named path; returns 0 if the path cannot run here. */
int qf_depthwise_conv2d_f32_on_path(const char *name, const qf_conv2d_geometry *geometry, const float *input,
                                    const float *weights, const float *bias, float *output);

/**
 * im2col for one image and one group, for the output positions [first, first + count): `input`
 * points at the group's first channel, `geometry->channels` is the group's channel count. Writes
 * `columns`, a row-major matrix of [channels * kernel_h * kernel_w] rows x [count] columns:
 *   columns[((c * kernel_h + kh) * kernel_w + kw) * count + p - first] = input[c][iy][ix]
 * for position p = oy * out_w + ox (iy, ix as in qf_conv2d_geometry), 0 where the tap falls in the
 * padding. One portable implementation serves every path (the interior of a stride-1 row is a
 * memcpy), so there is no _on_path variant. Called a tile of positions at a time, so that the
 * columns stay in cache for the product that reads them.
 */
void qf_im2col_f32(const qf_conv2d_geometry *geometry, const float *input, size_t first, size_t count, float *columns);

/** What qf_pool2d_f32 takes of each window. */
typedef enum { QF_POOL_MAX, QF_POOL_AVERAGE } qf_pool_kind;

/**
 * 2-D max or average pooling of `geometry->channels` planes (float, NCHW), for MaxPool and AveragePool:
 *   output[c][oy][ox] = the maximum, or the sum divided by row_counts[oy] * column_counts[ox], of
 *   input[c][iy][ix] over the window's taps inside the image (iy, ix as in qf_conv2d_geometry).
 * Taps in the padding are left out of both; what an average counts is the caller's (ONNX's
 * count_include_pad counts the pads, not the taps past them), and it factors into a row count and a
 * column count. row_counts [out_h] and column_counts [out_w] are read for QF_POOL_AVERAGE only (pass
 * NULL for max); a count of 0 gives 0, a max window with no tap inside gives -inf. A sum is taken
 * along each kernel row first, then over the rows. One portable implementation serves every path.
 */
void qf_pool2d_f32(const qf_conv2d_geometry *geometry, qf_pool_kind kind, const float *input, const float *row_counts,
                   const float *column_counts, float *output);

/**
 * The rows an integer convolution multiplies, for the output positions [first, first + count) of one
 * image and group (`input` and `geometry->channels` as for qf_im2col_f32):
 *   rows[p - first][(c * kernel_h + kh) * kernel_w + kw] = input[c][iy][ix]
 * and `pad_value` where the tap falls in the padding (pass the activation zero point, so that it
 * contributes zero once the zero point is subtracted): im2col's columns for those positions,
 * transposed. A 1x1 unpadded window whose output is as large as its input transposes the input
 * itself; any other goes through `scratch` (channels * kernel_h * kernel_w * count bytes, unused
 * otherwise: it may then be NULL). Called a tile of positions at a time, so that both stay in cache.
 */
void qf_conv_rows_u8(const qf_conv2d_geometry *geometry, const uint8_t *input, uint8_t pad_value, size_t first,
                     size_t count, uint8_t *scratch, uint8_t *rows);

/* ---- Vector math ------------------------------------------------------------------------------ */

/*
 * Element-wise functions over n floats, y[i] = f(x[i]); y may equal x (in place) but must not
 * otherwise overlap it. The SIMD paths evaluate polynomial approximations 8 (AVX2 + FMA) or 4 (NEON)
 * lanes at a time, the last partial vector through a zero-padded copy, so an element's result does not
 * depend on its position; the scalar path computes in double with libm. Accuracy against the exact value:
 *   qf_exp_f32      relative 2e-6 (measured 1.2e-7) for x >= -87.3365 (= ln FLT_MIN); below that
 *                   the result is 0 (never a denormal); above 88.7228 (= ln FLT_MAX) +inf; exp(-inf) = 0,
 *                   exp(+inf) = +inf.
 *   qf_erf_f32      absolute 2e-7; odd (erf(-0) = -0); |x| >= 4 gives +-1 (to within 1.6e-8 of exact).
 *   qf_tanh_f32     relative 2e-6; odd; +-inf -> +-1.
 *   qf_sigmoid_f32  1 / (1 + exp(-x)): relative 2e-6 for x >= -87; below, within 2e-38 absolute (tiny
 *                   or 0); -inf -> 0, +inf -> 1.
 *   qf_gelu_erf_f32 0.5 x (1 + erf(x / sqrt 2)), within 1e-6 relative + 1e-7 absolute (negative x use
 *                   erfc, so there is no cancellation); x < -4 sqrt 2 gives -0 (exact value above
 *                   -4.4e-8), so gelu(-inf) = -0 (the limit, where the formula would give NaN); +inf -> +inf.
 * Every function returns NaN for a NaN input.
 */
void qf_exp_f32(const float *x, float *y, size_t n);
void qf_erf_f32(const float *x, float *y, size_t n);
void qf_tanh_f32(const float *x, float *y, size_t n);
void qf_sigmoid_f32(const float *x, float *y, size_t n);
void qf_gelu_erf_f32(const float *x, float *y, size_t n);

/** The element-wise functions on a named path; return 0 if the path cannot run here. */
int qf_exp_f32_on_path(const char *name, const float *x, float *y, size_t n);
int qf_erf_f32_on_path(const char *name, const float *x, float *y, size_t n);
int qf_tanh_f32_on_path(const char *name, const float *x, float *y, size_t n);
int qf_sigmoid_f32_on_path(const char *name, const float *x, float *y, size_t n);
int qf_gelu_erf_f32_on_path(const char *name, const float *x, float *y, size_t n);

/**
 * In-place softmax of each of `rows` contiguous rows of `length` floats:
 *   x[i] = exp(x[i] - max) / sum_j exp(x[j] - max), max over the row,
 * with the exp of qf_exp_f32, so a masked position (-10000, -inf, anything more than 87.3 below the
 * row's maximum) becomes exactly 0. Special rows follow the formula as libm would: a row that is all
 * -inf, or holds +inf or NaN, becomes all NaN (inf - inf and NaN poison the sum). Relative error within
 * 3e-6 + length * 1.2e-7 (the bound the tests hold; the float sum of the SIMD paths is the length term).
 */
void qf_softmax_rows_f32(float *x, size_t rows, size_t length);

/** qf_softmax_rows_f32 on a named path; returns 0 if the path cannot run here. */
int qf_softmax_rows_f32_on_path(const char *name, float *x, size_t rows, size_t length);

/** y = x * max(0, min(1, x / 6 + 1 / 2)) (ONNX HardSwish), portable C the compiler vectorises. */
void qf_hard_swish_f32(const float *x, float *y, size_t n);


#ifdef __cplusplus
}
#endif

#endif
