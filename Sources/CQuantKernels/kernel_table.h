#ifndef QF_KERNEL_TABLE_H
#define QF_KERNEL_TABLE_H

#include "CQuantKernels.h"

/* Raw product of every kernel path: C[m][n] = sum_k A[m][k] * B[k][n], no zero points. */
typedef void (*qf_gemm_u8s8_raw_fn)(const uint8_t *a, size_t lda, size_t m,
                                    const qf_packed_s8 *b, int32_t *c, size_t ldc);

typedef void (*qf_sgemm_fn)(const float *a, size_t lda, const float *b, size_t ldb,
                            float *c, size_t ldc, size_t m, size_t k, size_t n);

typedef void (*qf_sgemm_packed_fn)(const float *a, size_t lda, const float *packed, size_t k, size_t n,
                                   float *c, size_t ldc, size_t m);
typedef void (*qf_range_f32_fn)(const float *x, size_t n, float *low, float *high);
typedef void (*qf_quantize_u8_fn)(const float *x, size_t n, float scale, uint8_t zero_point, uint8_t *y);

typedef struct {
    const char *name;
    qf_gemm_u8s8_raw_fn gemm_u8s8_raw;
    qf_sgemm_fn sgemm;
    qf_sgemm_packed_fn sgemm_packed;
    qf_range_f32_fn range_f32;
    qf_quantize_u8_fn quantize_u8;
} qf_kernel_table;

/* Put before the constant-count row, panel and vector loops of a register tile: unrolled, its
 * accumulators live in registers with GCC too (clang unrolls them unasked, GCC -O2 does not). */
#define QF_UNROLL _Pragma("GCC unroll 8")

/* Each architecture's tables exist only in its own builds; dispatch.c lists the ones compiled in. */
extern const qf_kernel_table qf_scalar_kernels;
#if defined(__x86_64__) || defined(__i386__)
extern const qf_kernel_table qf_avx2_kernels;
#endif
#if defined(__aarch64__)
extern const qf_kernel_table qf_neon_kernels;
extern const qf_kernel_table qf_neon_dotprod_kernels; /* neon with the int8 GEMM on sdot */
#endif

/* Each path's float GEMM, in its own file (sgemm_*.c), referenced by that path's table. */
void qf_sgemm_scalar_path(const float *a, size_t lda, const float *b, size_t ldb,
                          float *c, size_t ldc, size_t m, size_t k, size_t n);
void qf_sgemm_avx2_path(const float *a, size_t lda, const float *b, size_t ldb,
                        float *c, size_t ldc, size_t m, size_t k, size_t n);
void qf_sgemm_neon_path(const float *a, size_t lda, const float *b, size_t ldb,
                        float *c, size_t ldc, size_t m, size_t k, size_t n);

void qf_sgemm_packed_scalar_path(const float *a, size_t lda, const float *packed, size_t k, size_t n,
                                 float *c, size_t ldc, size_t m);
void qf_sgemm_packed_avx2_path(const float *a, size_t lda, const float *packed, size_t k, size_t n,
                               float *c, size_t ldc, size_t m);
void qf_sgemm_packed_neon_path(const float *a, size_t lda, const float *packed, size_t k, size_t n,
                               float *c, size_t ldc, size_t m);

/* And its activation quantizers (quantize_*.c). */
void qf_range_f32_scalar_path(const float *x, size_t n, float *low, float *high);
void qf_range_f32_avx2_path(const float *x, size_t n, float *low, float *high);
void qf_range_f32_neon_path(const float *x, size_t n, float *low, float *high);
void qf_quantize_u8_scalar_path(const float *x, size_t n, float scale, uint8_t zero_point, uint8_t *y);
void qf_quantize_u8_avx2_path(const float *x, size_t n, float scale, uint8_t zero_point, uint8_t *y);
void qf_quantize_u8_neon_path(const float *x, size_t n, float scale, uint8_t zero_point, uint8_t *y);

#endif
