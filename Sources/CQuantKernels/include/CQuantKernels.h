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
 *   columns are grouped in panels of QF_PANEL_COLUMNS (8); rows are grouped in pairs.
 *   panel p, row pair r occupies 16 bytes at offset (p * k_pairs + r) * 16:
 *     [B[2r][8p+0], B[2r+1][8p+0], B[2r][8p+1], B[2r+1][8p+1], ..., B[2r][8p+7], B[2r+1][8p+7]]
 *   k_pairs = ceil(K / 2); a missing row (odd K) or column (N not a multiple of 8) is stored as 0.
 *   This is the operand order of `vpmaddwd` after sign-extending to int16: one instruction
 *   multiplies a broadcast pair (A[m][2r], A[m][2r+1]) by the pair of every column of the panel.
 *   (`vpmaddubsw` on raw u8 x s8 would saturate its int16 pair sums, hence the widening.)
 *   NEON de-interleaves a row pair with one `ld2` into the even and the odd row of the panel; the
 *   dot-product path zips two row pairs (16-bit elements) into four consecutive rows per column,
 *   the operand order of `sdot`, and runs it on A - 128 (see column_sums below).
 * column_sums[n] = sum_k B[k][n], used to fold the activation zero point out of the inner loop
 * (and, on neon-dotprod, the 128 its signed activations were shifted by).
 *
 * Range: every raw partial sum is at most K * 255 * 128, so K up to 65,793 is exact in int32.
 */

enum { QF_PANEL_COLUMNS = 8 };

/** Bytes needed for a packed K x N int8 matrix. */
size_t qf_packed_s8_size(size_t k, size_t n);

/** Packs row-major int8 B (K x N, leading dimension ldb) into `packed` and writes column sums. */
void qf_pack_s8(const int8_t *b, size_t ldb, size_t k, size_t n,
                int8_t *packed, int32_t *column_sums);

/** A packed weight matrix as the kernels read it. */
typedef struct {
    const int8_t *data;         /* qf_packed_s8_size(k, n) bytes in the layout above */
    const int32_t *column_sums; /* n entries */
    size_t k;
    size_t n;
} qf_packed_s8;

/**
 * C (M x N int32, leading dimension ldc) = (A - a_zero) x (B - b_zero).
 * b_zero has n entries (per column) or is NULL for all zeros.
 * Runs the kernel path chosen at first use.
 */
void qf_gemm_u8s8(const uint8_t *a, size_t lda, size_t m, uint8_t a_zero,
                  const qf_packed_s8 *b, const int8_t *b_zero, int32_t *c, size_t ldc);

/**
 * Name of the kernel path in use: "avx2" (x86 with AVX2 and FMA), "neon-dotprod" (AArch64 with the
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

#ifdef __cplusplus
}
#endif

#endif
