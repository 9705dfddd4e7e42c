#ifndef QF_KERNEL_TABLE_H
#define QF_KERNEL_TABLE_H

#include "CQuantKernels.h"

/* Raw product of every kernel path: C[m][n] = sum_k A[m][k] * B[k][n], no zero points. */
typedef void (*qf_gemm_u8s8_raw_fn)(const uint8_t *a, size_t lda, size_t m,
                                    const qf_packed_s8 *b, int32_t *c, size_t ldc);

typedef struct {
    const char *name;
    qf_gemm_u8s8_raw_fn gemm_u8s8_raw;
} qf_kernel_table;

extern const qf_kernel_table qf_scalar_kernels;
extern const qf_kernel_table qf_avx2_kernels;

#endif
