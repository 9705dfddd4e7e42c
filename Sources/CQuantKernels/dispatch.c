#include "kernel_table.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20) /* the kernel's bit; older C libraries lack the name */
#endif
#elif defined(__aarch64__) && defined(__APPLE__)
#include <sys/sysctl.h>
#endif

/* Every path compiled into this build, fastest first: the default is the first one the CPU runs. */
static const qf_kernel_table *const compiled_tables[] = {
#if defined(__x86_64__) || defined(__i386__)
    &qf_avx512_vnni_kernels,
    &qf_avx2_kernels,
#endif
#if defined(__aarch64__)
    &qf_neon_dotprod_kernels,
    &qf_neon_kernels,
#endif
    &qf_scalar_kernels,
};
enum { COMPILED_TABLES = sizeof compiled_tables / sizeof compiled_tables[0] };

static const qf_kernel_table *chosen_kernels;
static pthread_once_t choose_once = PTHREAD_ONCE_INIT;

#if defined(__aarch64__)
static int cpu_has_dot_product(void) {
#if defined(__linux__)
    return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#elif defined(__APPLE__)
    int present = 0;
    size_t size = sizeof present;
    return sysctlbyname("hw.optional.arm.FEAT_DotProd", &present, &size, NULL, 0) == 0 && present;
#else
    return 0;
#endif
}
#endif

static int cpu_runs(const qf_kernel_table *table) {
#if defined(__x86_64__) || defined(__i386__)
    if (table == &qf_avx2_kernels) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    if (table == &qf_avx512_vnni_kernels) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx512f") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni");
    }
#endif
#if defined(__aarch64__)
    if (table == &qf_neon_dotprod_kernels) {
        return cpu_has_dot_product();
    }
#endif
    return 1; /* scalar, and plain neon: Advanced SIMD is part of every AArch64 CPU */
}

static const qf_kernel_table *table_named(const char *name) {
    for (size_t i = 0; name != NULL && i < COMPILED_TABLES; i++) {
        if (strcmp(name, compiled_tables[i]->name) == 0) {
            return compiled_tables[i];
        }
    }
    return NULL;
}

/* The table a caller asked for by name, or NULL if it is unknown or cannot run here. */
static const qf_kernel_table *runnable_table(const char *name) {
    const qf_kernel_table *table = table_named(name);
    return table != NULL && cpu_runs(table) ? table : NULL;
}

static void choose_kernels(void) {
    chosen_kernels = runnable_table(getenv("QUANTFLEET_KERNELS"));
    for (size_t i = 0; i < COMPILED_TABLES && chosen_kernels == NULL; i++) {
        if (cpu_runs(compiled_tables[i])) {
            chosen_kernels = compiled_tables[i];
        }
    }
}

static const qf_kernel_table *kernels(void) {
    pthread_once(&choose_once, choose_kernels);
    return chosen_kernels;
}

const char *qf_kernel_path_name(void) {
    return kernels()->name;
}

int qf_kernel_path_is_supported(const char *name) {
    return runnable_table(name) != NULL;
}

void qf_gemm_u8s8(const uint8_t *a, size_t lda, size_t m, uint8_t a_zero,
                  const qf_packed_s8 *b, const int8_t *b_zero, int32_t *c, size_t ldc) {
    kernels()->gemm_u8s8(a, lda, m, a_zero, b, b_zero, c, ldc);
}

int qf_gemm_u8s8_on_path(const char *name,
                         const uint8_t *a, size_t lda, size_t m, uint8_t a_zero,
                         const qf_packed_s8 *b, const int8_t *b_zero, int32_t *c, size_t ldc) {
    const qf_kernel_table *table = runnable_table(name);
    if (table == NULL) {
        return 0;
    }
    table->gemm_u8s8(a, lda, m, a_zero, b, b_zero, c, ldc);
    return 1;
}

void qf_sgemm(const float *a, size_t lda, const float *b, size_t ldb, float *c, size_t ldc,
              size_t m, size_t k, size_t n) {
    kernels()->sgemm(a, lda, b, ldb, c, ldc, m, k, n);
}

int qf_sgemm_on_path(const char *name, const float *a, size_t lda, const float *b, size_t ldb,
                     float *c, size_t ldc, size_t m, size_t k, size_t n) {
    const qf_kernel_table *table = runnable_table(name);
    if (table == NULL) {
        return 0;
    }
    table->sgemm(a, lda, b, ldb, c, ldc, m, k, n);
    return 1;
}

void qf_range_f32(const float *x, size_t n, float *low, float *high) {
    kernels()->range_f32(x, n, low, high);
}

void qf_quantize_u8(const float *x, size_t n, float scale, uint8_t zero_point, uint8_t *y) {
    kernels()->quantize_u8(x, n, scale, zero_point, y);
}

int qf_range_f32_on_path(const char *name, const float *x, size_t n, float *low, float *high) {
    const qf_kernel_table *table = runnable_table(name);
    if (table == NULL) {
        return 0;
    }
    table->range_f32(x, n, low, high);
    return 1;
}

int qf_quantize_u8_on_path(const char *name, const float *x, size_t n, float scale, uint8_t zero_point, uint8_t *y) {
    const qf_kernel_table *table = runnable_table(name);
    if (table == NULL) {
        return 0;
    }
    table->quantize_u8(x, n, scale, zero_point, y);
    return 1;
}

void qf_sgemm_packed(const float *a, size_t lda, const float *packed, size_t k, size_t n,
                     float *c, size_t ldc, size_t m) {
    kernels()->sgemm_packed(a, lda, packed, k, n, c, ldc, m);
}

int qf_sgemm_packed_on_path(const char *name, const float *a, size_t lda, const float *packed, size_t k, size_t n,
                            float *c, size_t ldc, size_t m) {
    const qf_kernel_table *table = runnable_table(name);
    if (table == NULL) {
        return 0;
    }
    table->sgemm_packed(a, lda, packed, k, n, c, ldc, m);
    return 1;
}

void qf_depthwise_conv2d_f32(const qf_conv2d_geometry *geometry, const float *input, const float *weights,
                             const float *bias, float *output) {
    kernels()->depthwise_conv2d_f32(geometry, input, weights, bias, output);
}

int qf_depthwise_conv2d_f32_on_path(const char *name, const qf_conv2d_geometry *geometry, const float *input,
                                    const float *weights, const float *bias, float *output) {
    const qf_kernel_table *table = runnable_table(name);
    if (table == NULL) {
        return 0;
    }
    table->depthwise_conv2d_f32(geometry, input, weights, bias, output);
    return 1;
}

/* The element-wise functions: the chosen path's, and a named path's. */
#define QF_ELEMENTWISE_ENTRY(function)                                                  \
    void qf_##function(const float *x, float *y, size_t n) {                            \
        kernels()->function(x, y, n);                                                   \
    }                                                                                   \
    int qf_##function##_on_path(const char *name, const float *x, float *y, size_t n) { \
        const qf_kernel_table *table = runnable_table(name);                            \
        if (table == NULL) {                                                            \
            return 0;                                                                   \
        }                                                                               \
        table->function(x, y, n);                                                       \
        return 1;                                                                       \
    }

QF_ELEMENTWISE_ENTRY(exp_f32)
QF_ELEMENTWISE_ENTRY(erf_f32)
QF_ELEMENTWISE_ENTRY(tanh_f32)
QF_ELEMENTWISE_ENTRY(sigmoid_f32)
QF_ELEMENTWISE_ENTRY(gelu_erf_f32)

void qf_softmax_rows_f32(float *x, size_t rows, size_t length) {
    kernels()->softmax_rows_f32(x, rows, length);
}

int qf_softmax_rows_f32_on_path(const char *name, float *x, size_t rows, size_t length) {
    const qf_kernel_table *table = runnable_table(name);
    if (table == NULL) {
        return 0;
    }
    table->softmax_rows_f32(x, rows, length);
    return 1;
}
