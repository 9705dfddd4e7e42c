/*
 * The C kernels' own tests, built from Sources/CQuantKernels by Tools/test-c-kernels.sh for this
 * machine and for arm64 under qemu-user (the Swift tests only ever see the host's paths).
 *
 * Every kernel of every path this CPU runs is checked against a reference computed here from the
 * unpacked operands: the int8 GEMM exactly, the float GEMM within the rounding bound of a K-term
 * sum, range and quantization exactly. Data come from a fixed seed. Prints one PASS/FAIL line per
 * path and kernel, then the dispatch checks; exits 1 on any failure.
 */
#include "CQuantKernels.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* In dispatch preference order: the default must be the first one supported. */
static const char *const path_names[] = {"avx512-vnni", "avx2", "neon-dotprod", "neon", "scalar"};
enum { PATHS = sizeof path_names / sizeof path_names[0] };

enum { GEMM, SGEMM, SGEMM_PACKED, RANGE, QUANTIZE, DEPTHWISE, EXP, ERF, TANH, SIGMOID, GELU, SOFTMAX, KERNELS };
static const char *const kernel_names[KERNELS] = {"gemm_u8s8", "sgemm", "sgemm_packed", "range_f32", "quantize_u8",
                                                  "depthwise_conv2d_f32", "exp_f32", "erf_f32", "tanh_f32",
                                                  "sigmoid_f32", "gelu_erf_f32", "softmax_rows_f32"};

typedef struct {
    int cases, failures;
    char first_failure[256];
    double worst; /* largest error seen, for the kernels that report one (in the unit they are checked in) */
} tally;

static tally tallies[PATHS][KERNELS];
/* Kernels with one implementation for every path. */
enum { PACK_S8, IM2COL_F32, POOL2D_F32, CONV_ROWS_U8, SCALE_TRANSPOSED, DEQUANTIZE_4BIT, TRANSPOSE_F32, SHARED_KERNELS };
static const char *const shared_kernel_names[SHARED_KERNELS] = {"pack_s8", "im2col_f32", "pool2d_f32", "conv_rows_u8", "scale_accumulators_transposed",
                                                                "dequantize_4bit_strip", "transpose_f32"};
static tally shared_tallies[SHARED_KERNELS];
static int supported[PATHS];
static int dispatch_failures;

static void record_shared(int kernel, int passed, const char *format, ...) {
    tally *t = &shared_tallies[kernel];
    t->cases++;
    if (!passed && t->failures++ == 0) {
        va_list arguments;
        va_start(arguments, format);
        vsnprintf(t->first_failure, sizeof t->first_failure, format, arguments);
        va_end(arguments);
    }
}

static void record(int path, int kernel, int passed, const char *format, ...) {
    tally *t = &tallies[path][kernel];
    t->cases++;
    if (!passed && t->failures++ == 0) {
        va_list arguments;
        va_start(arguments, format);
        vsnprintf(t->first_failure, sizeof t->first_failure, format, arguments);
        va_end(arguments);
    }
}

static void *allocate(size_t bytes) {
    void *memory = malloc(bytes > 0 ? bytes : 1);
    if (memory == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return memory;
}

/* What a kernel reads or writes ends at an inaccessible page, so touching one byte past it faults,
 * under emulation as well as natively (the native build adds AddressSanitizer on top). */
static size_t guarded_span(size_t bytes) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (bytes + page - 1) / page * page + page;
}

static void *guarded(size_t bytes) {
    size_t span = guarded_span(bytes), page = (size_t)sysconf(_SC_PAGESIZE);
    uint8_t *mapping = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapping == MAP_FAILED || mprotect(mapping + span - page, page, PROT_NONE) != 0) {
        fprintf(stderr, "cannot map a guarded buffer\n");
        exit(2);
    }
    return mapping + span - page - bytes;
}

static void release(void *memory, size_t bytes) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    munmap((uint8_t *)memory + bytes + page - guarded_span(bytes), guarded_span(bytes));
}

/* xorshift64*: the same data on every machine and under emulation. */
static uint64_t random_state = 0x9E3779B97F4A7C15u;

static uint64_t next_random(void) {
    random_state ^= random_state >> 12;
    random_state ^= random_state << 25;
    random_state ^= random_state >> 27;
    return random_state * 2685821657736338717u;
}

static size_t uniform(size_t low, size_t high) {
    return low + (size_t)(next_random() % (high - low + 1));
}

static float unit_float(void) {
    return (float)((double)(next_random() >> 40) / (double)(1u << 23) - 1.0);
}

static float float_from_bits(uint32_t bits) {
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

/* ---- int8 GEMM ---------------------------------------------------------------------------- */

/* Row pairs of B whose magnitudes add up to exactly 128 (127 where +128 would not fit): the largest
 * weights that qf_pack_s8 calls pair-safe, so avx2 runs its raw-byte kernel on them. */
static void fill_pair_safe(int8_t *b, size_t ldb, size_t k, size_t n) {
    for (size_t row = 0; row < k; row += 2) {
        for (size_t col = 0; col < n; col++) {
            int first = (int)(next_random() % 129), second = 128 - first;
            if (next_random() % 2) first = -first;
            if (next_random() % 2) second = -second;
            b[row * ldb + col] = (int8_t)(first > 127 ? 127 : first);
            if (row + 1 < k) b[(row + 1) * ldb + col] = (int8_t)(second > 127 ? 127 : second);
        }
    }
}

/* `variant` picks strides, zero points, pair-safe weights and whether the data are extreme values. */
static void check_gemm(size_t m, size_t k, size_t n, unsigned variant) {
    size_t lda = k + variant % 3, ldb = n + variant % 2, ldc = n + (variant % 2) * 3;
    int extremes = variant % 5 >= 3, pair_safe = variant % 5 == 2 || variant % 5 == 3;
    uint8_t *a = guarded(m * lda);
    int8_t *b = allocate(k * ldb);
    for (size_t i = 0; i < m * lda; i++) a[i] = extremes ? (next_random() % 4 ? 255 : 0) : (uint8_t)next_random();
    for (size_t i = 0; i < k * ldb; i++) b[i] = extremes ? (next_random() % 2 ? 127 : -128) : (int8_t)next_random();
    if (pair_safe) fill_pair_safe(b, ldb, k, n);

    uint8_t a_zero = 0;
    int8_t *b_zero = NULL;
    switch (variant % 4) {
    case 0: break;
    case 1: a_zero = (uint8_t)next_random(); break;
    case 2:
        a_zero = (uint8_t)next_random();
        b_zero = guarded(n);
        for (size_t j = 0; j < n; j++) b_zero[j] = (int8_t)next_random();
        break;
    default:
        a_zero = 255;
        b_zero = guarded(n);
        for (size_t j = 0; j < n; j++) b_zero[j] = j % 2 ? 127 : -128;
        break;
    }

    int8_t *packed = guarded(qf_packed_s8_size(k, n));
    int32_t *column_sums = guarded(n * sizeof(int32_t));
    int pairs_fit_int16 = qf_pack_s8(b, ldb, k, n, packed, column_sums);
    int pairs_fit = 1;
    for (size_t row = 0; row < k; row += 2) {
        for (size_t col = 0; col < n; col++) {
            int second = row + 1 < k ? b[(row + 1) * ldb + col] : 0;
            pairs_fit &= abs(b[row * ldb + col]) + abs(second) <= 128;
        }
    }
    record_shared(PACK_S8, pairs_fit_int16 == pairs_fit && (pairs_fit || !pair_safe),
                  "k=%zu n=%zu variant=%u: pair-safe reported as %d", k, n, variant, pairs_fit_int16);
    qf_packed_s8 weights = {packed, column_sums, k, n, pairs_fit_int16};

    int64_t *expected = allocate(m * n * sizeof(int64_t));
    for (size_t row = 0; row < m; row++) {
        for (size_t col = 0; col < n; col++) {
            int64_t zb = b_zero != NULL ? b_zero[col] : 0, sum = 0;
            for (size_t i = 0; i < k; i++) sum += ((int64_t)a[row * lda + i] - a_zero) * ((int64_t)b[i * ldb + col] - zb);
            expected[row * n + col] = sum;
        }
    }

    const int32_t sentinel = 0x5A5A5A5A;
    int32_t *c = guarded(m * ldc * sizeof(int32_t));
    for (int path = 0; path < PATHS; path++) {
        if (!supported[path]) continue;
        for (size_t i = 0; i < m * ldc; i++) c[i] = sentinel;
        qf_gemm_u8s8_on_path(path_names[path], a, lda, m, a_zero, &weights, b_zero, c, ldc);
        size_t bad = m * ldc;
        for (size_t i = 0; i < m * ldc && bad == m * ldc; i++) {
            size_t row = i / ldc, col = i % ldc;
            int64_t want = col < n ? expected[row * n + col] : sentinel;
            if (c[i] != want) bad = i;
        }
        record(path, GEMM, bad == m * ldc, "m=%zu k=%zu n=%zu variant=%u: C[%zu][%zu] = %d, expected %lld", m, k, n,
               variant, bad / ldc, bad % ldc, bad < m * ldc ? c[bad] : 0,
               bad < m * ldc ? (long long)(bad % ldc < n ? expected[bad / ldc * n + bad % ldc] : sentinel) : 0LL);
    }
    release(a, m * lda);
    free(b);
    if (b_zero != NULL) release(b_zero, n);
    release(packed, qf_packed_s8_size(k, n));
    release(column_sums, n * sizeof(int32_t));
    free(expected);
    release(c, m * ldc * sizeof(int32_t));
}

static void check_gemms(void) {
    static const size_t shapes[][3] = {
        {1, 1, 1},    {1, 2, 1},    {1, 3, 8},     {2, 4, 9},     {3, 5, 7},     {4, 8, 8},    {4, 16, 16},
        {5, 17, 9},   {7, 33, 10},  {8, 64, 24},   {9, 127, 23},  {13, 2, 16},   {17, 31, 33}, {6, 7, 48},
        {4, 1, 17},   {1, 784, 256}, {4, 1023, 25}, {5, 2049, 17}, {3, 4096, 40}, {1, 3001, 7}, {12, 300, 64},
        {8, 64, 32},  {16, 100, 64}, {9, 37, 47},  {23, 260, 33}, {67, 48, 80},
        {3, 0, 20}, /* K = 0: every output is 0 (no weight bytes are stored to read) */
    };
    unsigned variant = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (unsigned repeat = 0; repeat < 5; repeat++) check_gemm(shapes[s][0], shapes[s][1], shapes[s][2], variant++);
    }
    for (int i = 0; i < 80; i++) check_gemm(uniform(1, 13), uniform(1, 700), uniform(1, 70), variant++);
}

/* The documented depth limits with every product at its extreme, so each int32 sum (raw products,
 * zero-point terms, their combination) is as large as it can get: exact on every path, and with no
 * signed overflow for UBSan to report. */
static void check_gemm_depth_limits(void) {
    static const struct { size_t k; uint8_t a, a_zero; int8_t b, b_zero; int zero_points; } cases[] = {
        {QF_MAX_DEPTH, 255, 0, -128, 0, 0},
        {QF_MAX_DEPTH, 255, 0, 127, 0, 0},
        {QF_MAX_DEPTH, 0, 255, -128, 0, 0},
        {QF_MAX_DEPTH_WITH_ZERO_POINTS, 255, 0, 127, -128, 1},
        {QF_MAX_DEPTH_WITH_ZERO_POINTS, 0, 255, -128, 127, 1},
        {QF_MAX_DEPTH_WITH_ZERO_POINTS, 255, 0, -128, 127, 1},
    };
    const size_t m = 2, n = QF_TILE_COLUMNS;
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        size_t k = cases[index].k;
        uint8_t *a = allocate(m * k);
        int8_t *b = allocate(k * n), b_zero[QF_TILE_COLUMNS];
        memset(a, cases[index].a, m * k);
        memset(b, (uint8_t)cases[index].b, k * n);
        for (size_t j = 0; j < n; j++) b_zero[j] = cases[index].b_zero;
        int8_t *packed = allocate(qf_packed_s8_size(k, n));
        int32_t column_sums[QF_TILE_COLUMNS], c[2 * QF_TILE_COLUMNS];
        qf_packed_s8 weights = {packed, column_sums, k, n, qf_pack_s8(b, n, k, n, packed, column_sums)};
        int64_t expected = (int64_t)k * ((int64_t)cases[index].a - cases[index].a_zero) * ((int64_t)cases[index].b - cases[index].b_zero);
        for (int path = 0; path < PATHS; path++) {
            if (!supported[path]) continue;
            qf_gemm_u8s8_on_path(path_names[path], a, k, m, cases[index].a_zero, &weights,
                                 cases[index].zero_points ? b_zero : NULL, c, n);
            int exact = 1;
            for (size_t i = 0; i < m * n; i++) exact &= c[i] == expected;
            record(path, GEMM, exact, "depth limit k=%zu a=%d a_zero=%d b=%d b_zero=%d: C = %d, expected %lld", k, cases[index].a,
                   cases[index].a_zero, cases[index].b, cases[index].b_zero, c[0], (long long)expected);
        }
        free(a);
        free(b);
        free(packed);
    }
}

/* ---- float GEMM --------------------------------------------------------------------------- */

/* Recursive summation of K products in float, in any order, with or without fused multiply-adds,
 * is within K * 2^-24 * sum |a b| of the exact sum (plus a little for the bound's own slack). */
static int close_enough(float actual, double exact, double magnitude, size_t k) {
    return fabs((double)actual - exact) <= 1.01 * (double)k * 0x1p-24 * magnitude + 1e-30;
}

static void check_sgemm(size_t m, size_t k, size_t n, unsigned variant) {
    size_t lda = k + variant % 3, ldb = n + variant % 2, ldc = n + (variant % 2) * 5;
    float *a = guarded(m * lda * sizeof(float)), *b = guarded(k * ldb * sizeof(float));
    for (size_t i = 0; i < m * lda; i++) a[i] = unit_float();
    for (size_t i = 0; i < k * ldb; i++) b[i] = unit_float();
    double *exact = allocate(m * n * sizeof(double)), *magnitude = allocate(m * n * sizeof(double));
    for (size_t row = 0; row < m; row++) {
        for (size_t col = 0; col < n; col++) {
            double sum = 0, size = 0;
            for (size_t i = 0; i < k; i++) {
                double product = (double)a[row * lda + i] * b[i * ldb + col];
                sum += product;
                size += fabs(product);
            }
            exact[row * n + col] = sum;
            magnitude[row * n + col] = size;
        }
    }
    float *packed = guarded(qf_packed_f32_size(k, n) * sizeof(float));
    qf_pack_f32(b, ldb, k, n, packed);
    float *c = guarded(m * ldc * sizeof(float));
    for (int path = 0; path < PATHS; path++) {
        if (!supported[path]) continue;
        for (int kernel = SGEMM; kernel <= SGEMM_PACKED; kernel++) {
            for (size_t i = 0; i < m * ldc; i++) c[i] = NAN;
            if (kernel == SGEMM) qf_sgemm_on_path(path_names[path], a, lda, b, ldb, c, ldc, m, k, n);
            else qf_sgemm_packed_on_path(path_names[path], a, lda, packed, k, n, c, ldc, m);
            size_t bad = m * ldc;
            for (size_t i = 0; i < m * ldc && bad == m * ldc; i++) {
                size_t row = i / ldc, col = i % ldc;
                int passed = col < n ? close_enough(c[i], exact[row * n + col], magnitude[row * n + col], k) : isnan(c[i]);
                if (!passed) bad = i;
            }
            record(path, kernel, bad == m * ldc, "m=%zu k=%zu n=%zu: C[%zu][%zu] = %.9g, exact %.9g", m, k, n, bad / ldc,
                   bad % ldc, bad < m * ldc ? c[bad] : 0.0,
                   bad < m * ldc && bad % ldc < n ? exact[bad / ldc * n + bad % ldc] : 0.0);
        }
    }
    release(a, m * lda * sizeof(float));
    release(b, k * ldb * sizeof(float));
    free(exact);
    free(magnitude);
    release(packed, qf_packed_f32_size(k, n) * sizeof(float));
    release(c, m * ldc * sizeof(float));
}

static void check_sgemms(void) {
    static const size_t shapes[][3] = {
        {1, 1, 1},  {1, 3, 5},    {3, 5, 7},   {4, 8, 8},    {4, 16, 24},  {5, 17, 25},  {8, 64, 48},
        {6, 31, 50}, {9, 127, 23}, {4, 1, 47},  {2, 1000, 30}, {1, 784, 256}, {7, 2048, 3}, {13, 40, 73},
        {16, 32, 128}, {17, 64, 49}, {9, 100, 96}, {3, 50, 97}, {128, 32, 32}, {20, 1500, 40},
        {9, 300, 1}, {6, 13, 1},    {130, 512, 1}, /* one column: the matrix-vector product */
    };
    unsigned variant = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (unsigned repeat = 0; repeat < 2; repeat++) check_sgemm(shapes[s][0], shapes[s][1], shapes[s][2], variant++);
    }
    for (int i = 0; i < 40; i++) check_sgemm(uniform(1, 11), uniform(1, 300), uniform(1, 80), variant++);
}

/* ---- activation range and quantization ---------------------------------------------------- */

/* Values a quantizer must survive: NaNs of both kinds and signs, infinities, the largest and the
 * smallest floats, negative zero. */
static float special_value(void) {
    static const uint32_t bits[] = {
        0x7FC00000, /* quiet NaN */     0xFFC00000, /* negative quiet NaN */ 0x7FA00000, /* signalling NaN */
        0x7F800000, /* +infinity */     0xFF800000, /* -infinity */          0x7F7FFFFF, /* FLT_MAX */
        0xFF7FFFFF, /* -FLT_MAX */      0x00000001, /* smallest denormal */   0x80000000, /* -0 */
        0x7149F2CA, /* 1e30 */          0xF149F2CA, /* -1e30 */
    };
    return float_from_bits(bits[next_random() % (sizeof bits / sizeof bits[0])]);
}

static void reference_range(const float *x, size_t n, float *low, float *high) {
    *low = 0;
    *high = 0;
    for (size_t i = 0; i < n; i++) {
        if (x[i] < *low) *low = x[i];
        if (x[i] > *high) *high = x[i];
    }
}

static uint8_t reference_quantize(float x, float scale, uint8_t zero_point) {
    if (isnan(x)) return zero_point;
    float q = nearbyintf(x / scale) + (float)zero_point;
    return (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
}

/* `offset` shifts the start off vector alignment; `mix` is 0 (plain), 1 (specials sprinkled),
 * 2 (all positive), 3 (all negative) or 4 (all NaN). */
static void check_range(size_t n, size_t offset, int mix) {
    float *buffer = guarded((n + offset) * sizeof(float)), *x = buffer + offset;
    for (size_t i = 0; i < n; i++) {
        float value = unit_float() * 1000;
        switch (mix) {
        case 1: x[i] = next_random() % 7 == 0 ? special_value() : value; break;
        case 2: x[i] = fabsf(value); break;
        case 3: x[i] = -fabsf(value); break;
        case 4: x[i] = float_from_bits(next_random() % 2 ? 0x7FC00000 : 0x7FA00000); break;
        default: x[i] = value; break;
        }
    }
    float want_low, want_high;
    reference_range(x, n, &want_low, &want_high);
    for (int path = 0; path < PATHS; path++) {
        if (!supported[path]) continue;
        float low = NAN, high = NAN;
        qf_range_f32_on_path(path_names[path], x, n, &low, &high);
        record(path, RANGE, low == want_low && high == want_high, "n=%zu offset=%zu mix=%d: [%g, %g], expected [%g, %g]",
               n, offset, mix, low, high, want_low, want_high);
    }
    release(buffer, (n + offset) * sizeof(float));
}

static void check_quantize(const float *x, size_t n, float scale, uint8_t zero_point) {
    uint8_t *want = allocate(n), *y = guarded(n);
    for (size_t i = 0; i < n; i++) want[i] = reference_quantize(x[i], scale, zero_point);
    for (int path = 0; path < PATHS; path++) {
        if (!supported[path]) continue;
        memset(y, 0xA5, n);
        qf_quantize_u8_on_path(path_names[path], x, n, scale, zero_point, y);
        size_t bad = n;
        for (size_t i = 0; i < n && bad == n; i++) {
            if (y[i] != want[i]) bad = i;
        }
        record(path, QUANTIZE, bad == n, "n=%zu scale=%g zero=%u: y[%zu] = %u for x = %.9g, expected %u",
               n, scale, zero_point, bad, bad < n ? y[bad] : 0, bad < n ? x[bad] : 0.0, bad < n ? want[bad] : 0);
    }
    free(want);
    release(y, n);
}

/* Answers worked out by hand, so half-to-even and the clamps do not rest on the reference alone;
 * repeated to 24 values so vector bodies and tails both see them. */
static void check_quantize_known_answers(void) {
    static const float pattern[] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 127.5f, -128.5f, 126.5f, 1e30f, -1e30f, 3.0f, -0.0f};
    static const uint8_t answers[] = {128, 130, 130, 128, 126, 255, 0, 254, 255, 0, 131, 128};
    enum { COUNT = sizeof pattern / sizeof pattern[0], LENGTH = 2 * COUNT };
    float x[LENGTH + 1];
    for (size_t i = 0; i < LENGTH; i++) x[i] = pattern[i % COUNT];
    x[LENGTH] = NAN;
    for (int path = 0; path < PATHS; path++) {
        if (!supported[path]) continue;
        uint8_t y[LENGTH + 1];
        qf_quantize_u8_on_path(path_names[path], x, LENGTH + 1, 1.0f, 128, y);
        size_t bad = LENGTH + 1;
        for (size_t i = 0; i < LENGTH + 1 && bad > LENGTH; i++) {
            if (y[i] != (i < LENGTH ? answers[i % COUNT] : 128)) bad = i;
        }
        record(path, QUANTIZE, bad > LENGTH, "known answers: y[%zu] = %u for x = %g", bad, bad <= LENGTH ? y[bad] : 0,
               bad <= LENGTH ? x[bad] : 0.0);
    }
}

static void check_activations(void) {
    static const size_t lengths[] = {0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 1001, 4099};
    for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
        for (int mix = 0; mix < 5; mix++) check_range(lengths[l], l % 3, mix);
    }

    check_quantize_known_answers();
    static const float scales[] = {1.0f / 255, 0.5f, 0.0078125f, 3.7f, 1e-3f, 1e30f};
    static const uint8_t zero_points[] = {0, 1, 128, 255};
    for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
        size_t n = lengths[l], offset = l % 3;
        float *buffer = guarded((n + offset) * sizeof(float)), *x = buffer + offset;
        for (size_t s = 0; s < sizeof scales / sizeof scales[0]; s++) {
            float scale = scales[s];
            for (size_t i = 0; i < n; i++) {
                switch (next_random() % 6) {
                case 0: x[i] = special_value(); break;
                case 1: x[i] = ((float)uniform(0, 600) - 300.5f) * scale; break; /* ties, exact for power-of-two scales */
                default: x[i] = unit_float() * 300 * scale; break;
                }
            }
            for (size_t z = 0; z < sizeof zero_points / sizeof zero_points[0]; z++) check_quantize(x, n, scale, zero_points[z]);
        }
        release(buffer, (n + offset) * sizeof(float));
    }
}

/* ---- depthwise convolution and im2col ----------------------------------------------------- */

typedef struct {
    size_t channels, height, width, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w;
    size_t pad_top, pad_left, pad_bottom, pad_right;
} conv_case;

/* The geometry of a case, the output size computed as ONNX does; 0 if the kernel does not fit. */
static int geometry_of(const conv_case *k, qf_conv2d_geometry *g) {
    size_t span_h = k->dilation_h * (k->kernel_h - 1) + 1, span_w = k->dilation_w * (k->kernel_w - 1) + 1;
    size_t padded_h = k->height + k->pad_top + k->pad_bottom, padded_w = k->width + k->pad_left + k->pad_right;
    if (padded_h < span_h || padded_w < span_w) return 0;
    *g = (qf_conv2d_geometry){k->channels, k->height, k->width, k->kernel_h, k->kernel_w, k->stride_h, k->stride_w,
                              k->dilation_h, k->dilation_w, k->pad_top, k->pad_left,
                              (padded_h - span_h) / k->stride_h + 1, (padded_w - span_w) / k->stride_w + 1};
    return 1;
}

/* The input position a tap reads, or 0 if it falls in the padding. */
static int tap_position(const qf_conv2d_geometry *g, size_t oy, size_t ox, size_t kh, size_t kw, size_t *iy, size_t *ix) {
    long y = (long)(oy * g->stride_h + kh * g->dilation_h) - (long)g->pad_top;
    long x = (long)(ox * g->stride_w + kw * g->dilation_w) - (long)g->pad_left;
    if (y < 0 || x < 0 || y >= (long)g->height || x >= (long)g->width) return 0;
    *iy = (size_t)y;
    *ix = (size_t)x;
    return 1;
}

static const char *describe(const qf_conv2d_geometry *g) {
    static char text[160];
    snprintf(text, sizeof text, "C=%zu H=%zu W=%zu k=%zux%zu s=%zu,%zu d=%zu,%zu pad=%zu,%zu out=%zux%zu", g->channels,
             g->height, g->width, g->kernel_h, g->kernel_w, g->stride_h, g->stride_w, g->dilation_h, g->dilation_w,
             g->pad_top, g->pad_left, g->out_h, g->out_w);
    return text;
}

enum { CANARY = 16 }; /* floats before an output that must stay untouched */

static void check_depthwise(const conv_case *k, int with_bias) {
    qf_conv2d_geometry g;
    if (!geometry_of(k, &g)) return;
    size_t in_count = g.channels * g.height * g.width, taps = g.kernel_h * g.kernel_w;
    size_t out_count = g.channels * g.out_h * g.out_w;
    float *input = guarded(in_count * sizeof(float)), *weights = guarded(g.channels * taps * sizeof(float));
    float *bias = with_bias ? guarded(g.channels * sizeof(float)) : NULL;
    for (size_t i = 0; i < in_count; i++) input[i] = unit_float() * 4;
    for (size_t i = 0; i < g.channels * taps; i++) weights[i] = unit_float();
    for (size_t i = 0; with_bias && i < g.channels; i++) bias[i] = unit_float() * 2;

    double *exact = allocate(out_count * sizeof(double)), *magnitude = allocate(out_count * sizeof(double));
    for (size_t c = 0; c < g.channels; c++) {
        for (size_t oy = 0; oy < g.out_h; oy++) {
            for (size_t ox = 0; ox < g.out_w; ox++) {
                double sum = with_bias ? bias[c] : 0, size = fabs(sum);
                for (size_t kh = 0; kh < g.kernel_h; kh++) {
                    for (size_t kw = 0; kw < g.kernel_w; kw++) {
                        size_t iy, ix;
                        if (!tap_position(&g, oy, ox, kh, kw, &iy, &ix)) continue;
                        double product = (double)weights[(c * g.kernel_h + kh) * g.kernel_w + kw] * input[(c * g.height + iy) * g.width + ix];
                        sum += product;
                        size += fabs(product);
                    }
                }
                exact[(c * g.out_h + oy) * g.out_w + ox] = sum;
                magnitude[(c * g.out_h + oy) * g.out_w + ox] = size;
            }
        }
    }
    float *buffer = guarded((CANARY + out_count) * sizeof(float)), *output = buffer + CANARY;
    for (int path = 0; path < PATHS; path++) {
        if (!supported[path]) continue;
        for (size_t i = 0; i < CANARY + out_count; i++) buffer[i] = NAN;
        qf_depthwise_conv2d_f32_on_path(path_names[path], &g, input, weights, bias, output);
        size_t bad = out_count;
        for (size_t i = 0; i < out_count && bad == out_count; i++) {
            if (!close_enough(output[i], exact[i], magnitude[i], taps + 1)) bad = i;
        }
        int canary_intact = 1;
        for (size_t i = 0; i < CANARY; i++) canary_intact = canary_intact && isnan(buffer[i]);
        record(path, DEPTHWISE, bad == out_count && canary_intact, "%s bias=%d: %s out[%zu] = %.9g, exact %.9g", describe(&g),
               with_bias, canary_intact ? "" : "wrote before the output;", bad, bad < out_count ? output[bad] : 0.0,
               bad < out_count ? exact[bad] : 0.0);
    }
    release(input, in_count * sizeof(float));
    release(weights, g.channels * taps * sizeof(float));
    if (bias != NULL) release(bias, g.channels * sizeof(float));
    release(buffer, (CANARY + out_count) * sizeof(float));
    free(exact);
    free(magnitude);
}

static conv_case random_conv_case(void) {
    conv_case k;
    k.channels = uniform(1, 4);
    k.kernel_h = uniform(1, 7);
    k.kernel_w = uniform(1, 7);
    k.stride_h = uniform(1, 3);
    k.stride_w = uniform(1, 4);
    k.dilation_h = next_random() % 4 ? 1 : uniform(2, 3);
    k.dilation_w = next_random() % 4 ? 1 : uniform(2, 3);
    k.height = uniform(1, 20);
    k.width = uniform(1, 80);
    k.pad_top = uniform(0, 4);
    k.pad_left = uniform(0, 4);
    k.pad_bottom = uniform(0, 4);
    k.pad_right = uniform(0, 4);
    return k;
}

static void check_depthwise_convolutions(void) {
    static const conv_case cases[] = {
        /* C, H, W, KH, KW, sh, sw, dh, dw, top, left, bottom, right */
        {3, 12, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},    {3, 12, 40, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
        {2, 11, 41, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},    {2, 13, 67, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2},
        {2, 13, 67, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2},    {16, 80, 112, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
        {8, 56, 56, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},    {8, 28, 28, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2},
        {4, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},      {4, 7, 7, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2},
        {3, 14, 14, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1},    {2, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},
        {2, 1, 9, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},      {2, 9, 33, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2},
        {2, 9, 50, 3, 3, 1, 2, 1, 3, 1, 3, 1, 3},     {2, 5, 30, 1, 7, 1, 1, 1, 1, 0, 3, 0, 3},
        {2, 20, 5, 7, 1, 1, 1, 1, 1, 3, 0, 3, 0},     {2, 6, 24, 3, 3, 1, 1, 1, 1, 4, 4, 4, 4}, /* pads beyond the kernel */
        {2, 6, 24, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1},     {2, 6, 31, 3, 3, 1, 4, 1, 1, 1, 1, 1, 1},
        {1, 3, 9, 3, 9, 1, 1, 1, 1, 0, 0, 0, 0},      {1, 4, 16, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0}, /* no padding, one vector */
        {2, 9, 230, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},    {2, 5, 150, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2}, /* four 16-lane vectors */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_depthwise(&cases[i], 1);
        check_depthwise(&cases[i], 0);
    }
    for (int i = 0; i < 250; i++) {
        conv_case k = random_conv_case();
        check_depthwise(&k, i % 3 != 0);
    }
}

/* The columns of output positions [first, first + count) exactly, against the tap formula; a
 * canary before them and a guard page after. */
static void check_im2col_positions(const qf_conv2d_geometry *g, const float *input, size_t first, size_t count) {
    size_t out_count = g->channels * g->kernel_h * g->kernel_w * count;
    float *buffer = guarded((CANARY + out_count) * sizeof(float)), *columns = buffer + CANARY;
    for (size_t i = 0; i < CANARY + out_count; i++) buffer[i] = NAN;
    qf_im2col_f32(g, input, first, count, columns);
    size_t bad = out_count;
    for (size_t c = 0, row = 0; c < g->channels; c++) {
        for (size_t kh = 0; kh < g->kernel_h; kh++) {
            for (size_t kw = 0; kw < g->kernel_w; kw++, row++) {
                for (size_t p = first; p < first + count; p++) {
                    size_t iy, ix, at = row * count + p - first;
                    int inside = tap_position(g, p / g->out_w, p % g->out_w, kh, kw, &iy, &ix);
                    float want = inside ? input[(c * g->height + iy) * g->width + ix] : 0.0f;
                    if (memcmp(&columns[at], &want, sizeof want) != 0 && bad == out_count) bad = at;
                }
            }
        }
    }
    int canary = 1;
    for (size_t i = 0; i < CANARY; i++) canary = canary && isnan(buffer[i]);
    record_shared(IM2COL_F32, bad == out_count && canary, "%s positions [%zu, %zu): column entry %zu wrong%s", describe(g),
                  first, first + count, bad, canary ? "" : " (or wrote before the output)");
    release(buffer, (CANARY + out_count) * sizeof(float));
}

/* A case's whole image, and a random tile of it (one that starts and ends mid image row). */
static void check_im2col(const conv_case *k) {
    qf_conv2d_geometry g;
    if (!geometry_of(k, &g)) return;
    size_t in_count = g.channels * g.height * g.width, plane = g.out_h * g.out_w, first = uniform(0, plane - 1);
    float *input = guarded(in_count * sizeof(float));
    for (size_t i = 0; i < in_count; i++) input[i] = unit_float();
    check_im2col_positions(&g, input, 0, plane);
    check_im2col_positions(&g, input, first, uniform(1, plane - first));
    release(input, in_count * sizeof(float));
}

static void check_im2cols(void) {
    static const conv_case cases[] = {
        {3, 12, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, {3, 12, 40, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
        {2, 13, 67, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2}, {2, 9, 33, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2},
        {2, 6, 24, 3, 3, 1, 1, 1, 1, 4, 4, 4, 4},  {2, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},
        {4, 7, 7, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0},   {1, 5, 8, 2, 3, 3, 1, 1, 2, 0, 1, 2, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_im2col(&cases[i]);
    for (int i = 0; i < 200; i++) {
        conv_case k = random_conv_case();
        check_im2col(&k);
    }
}

/* ---- pooling -------------------------------------------------------------------------------- */

/* For each of `outputs` windows along one axis, how many taps an average counts: those inside the
 * axis's `size`, and with `counts_padding` those in its pads too. */
static void axis_counts(size_t outputs, size_t kernel, size_t stride, size_t dilation, size_t pad_begin, size_t pad_end,
                        size_t size, int counts_padding, float *counts) {
    long low = counts_padding ? -(long)pad_begin : 0, high = (long)(size + (counts_padding ? pad_end : 0));
    for (size_t o = 0; o < outputs; o++) {
        counts[o] = 0;
        for (size_t t = 0; t < kernel; t++) {
            long at = (long)(o * stride + t * dilation) - (long)pad_begin;
            counts[o] += at >= low && at < high;
        }
    }
}

/* Max and average pooling of a case against the window formula. The average's counts are the taps
 * inside the image, or with the pads counted the taps inside the padded image, per axis, as ONNX's
 * count_include_pad: the kernel takes them from the caller. */
static void check_pool(const conv_case *k, qf_pool_kind kind, int counts_padding) {
    qf_conv2d_geometry g;
    if (!geometry_of(k, &g)) return;
    size_t in_count = g.channels * g.height * g.width, out_count = g.channels * g.out_h * g.out_w;
    float *input = guarded(in_count * sizeof(float));
    for (size_t i = 0; i < in_count; i++) input[i] = unit_float() * 4 - 2;
    float *row_counts = allocate(g.out_h * sizeof(float)), *column_counts = allocate(g.out_w * sizeof(float));
    axis_counts(g.out_h, g.kernel_h, g.stride_h, g.dilation_h, k->pad_top, k->pad_bottom, k->height, counts_padding, row_counts);
    axis_counts(g.out_w, g.kernel_w, g.stride_w, g.dilation_w, k->pad_left, k->pad_right, k->width, counts_padding, column_counts);
    float *buffer = guarded((CANARY + out_count) * sizeof(float)), *output = buffer + CANARY;
    for (size_t i = 0; i < CANARY + out_count; i++) buffer[i] = NAN;
    qf_pool2d_f32(&g, kind, input, row_counts, column_counts, output);
    size_t bad = out_count;
    double expected = 0;
    for (size_t c = 0; c < g.channels && bad == out_count; c++) {
        for (size_t oy = 0; oy < g.out_h && bad == out_count; oy++) {
            for (size_t ox = 0; ox < g.out_w && bad == out_count; ox++) {
                double best = -INFINITY, sum = 0, size = 0;
                for (size_t kh = 0; kh < g.kernel_h; kh++) {
                    for (size_t kw = 0; kw < g.kernel_w; kw++) {
                        size_t iy, ix;
                        if (!tap_position(&g, oy, ox, kh, kw, &iy, &ix)) continue;
                        double value = input[(c * g.height + iy) * g.width + ix];
                        best = value > best ? value : best;
                        sum += value;
                        size += fabs(value);
                    }
                }
                size_t at = (c * g.out_h + oy) * g.out_w + ox;
                double count = (double)row_counts[oy] * column_counts[ox];
                expected = kind == QF_POOL_MAX ? best : count > 0 ? sum / count : 0;
                int good = kind == QF_POOL_MAX ? output[at] == (float)best
                                               : fabs(output[at] - expected) <= 1e-6 * (size / (count > 0 ? count : 1)) + 1e-30;
                if (!good) bad = at;
            }
        }
    }
    int canary = 1;
    for (size_t i = 0; i < CANARY; i++) canary = canary && isnan(buffer[i]);
    record_shared(POOL2D_F32, bad == out_count && canary, "%s %s%s: out[%zu] = %.9g, expected %.9g%s", describe(&g),
                  kind == QF_POOL_MAX ? "max" : "average", counts_padding ? " counting pads" : "", bad,
                  bad < out_count ? output[bad] : 0.0, expected, canary ? "" : " (or wrote before the output)");
    release(input, in_count * sizeof(float));
    release(buffer, (CANARY + out_count) * sizeof(float));
    free(row_counts);
    free(column_counts);
}

static void check_pools(void) {
    static const conv_case cases[] = {
        /* C, H, W, KH, KW, sh, sw, dh, dw, top, left, bottom, right */
        {3, 112, 112, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1}, {2, 55, 55, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1}, /* ceil_mode's extra row */
        {2, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},   {2, 7, 7, 7, 7, 1, 1, 1, 1, 0, 0, 0, 0},
        {2, 14, 14, 5, 5, 3, 3, 1, 1, 2, 2, 2, 2},   {1, 9, 20, 3, 2, 1, 2, 2, 3, 2, 1, 2, 3},
        {2, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},     {1, 4, 9, 3, 3, 2, 2, 1, 1, 2, 2, 2, 2}, /* pads as wide as the window */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_pool(&cases[i], QF_POOL_MAX, 0);
        check_pool(&cases[i], QF_POOL_AVERAGE, 0);
        check_pool(&cases[i], QF_POOL_AVERAGE, 1);
    }
    for (int i = 0; i < 200; i++) {
        conv_case k = random_conv_case();
        check_pool(&k, i % 3 == 0 ? QF_POOL_MAX : QF_POOL_AVERAGE, i % 2);
    }
}

/* ---- 4-bit strips --------------------------------------------------------------------------- */

/* Random 4-bit B [k, n] in blocks, one strip [first, first + width) against the level-by-level
 * formula; the padding up to row_stride must be zero and nothing past the panel written. */
/* The rows of output positions [first, first + count) exactly, against the tap formula, into a
 * guarded buffer (an overrun faults); scratch is guarded too. */
static void check_conv_rows(const qf_conv2d_geometry *g, size_t first, size_t count) {
    size_t in_count = g->channels * g->height * g->width, depth = g->channels * g->kernel_h * g->kernel_w;
    uint8_t *input = guarded(in_count), *scratch = guarded(depth * count), *rows = guarded(depth * count);
    for (size_t i = 0; i < in_count; i++) input[i] = (uint8_t)next_random();
    uint8_t pad = (uint8_t)next_random();
    qf_conv_rows_u8(g, input, pad, first, count, scratch, rows);
    size_t bad = depth * count;
    for (size_t p = 0; p < count && bad == depth * count; p++) {
        size_t oy = (first + p) / g->out_w, ox = (first + p) % g->out_w;
        for (size_t c = 0, entry = 0; c < g->channels; c++) {
            for (size_t kh = 0; kh < g->kernel_h; kh++) {
                for (size_t kw = 0; kw < g->kernel_w; kw++, entry++) {
                    size_t iy, ix;
                    uint8_t want = tap_position(g, oy, ox, kh, kw, &iy, &ix) ? input[(c * g->height + iy) * g->width + ix] : pad;
                    if (rows[p * depth + entry] != want && bad == depth * count) bad = p * depth + entry;
                }
            }
        }
    }
    record_shared(CONV_ROWS_U8, bad == depth * count, "%s positions [%zu, %zu): row entry %zu wrong", describe(g), first,
                  first + count, bad);
    release(input, in_count);
    release(scratch, depth * count);
    release(rows, depth * count);
}

/* Every window of the im2col cases, whole and in random tiles (rows that start and end mid image
 * row); then 1x1 windows, which transpose the input itself, on shapes around the 16 x 16 blocks. */
static void check_conv_rows_cases(void) {
    for (int i = 0; i < 120; i++) {
        conv_case k = random_conv_case();
        qf_conv2d_geometry g;
        if (!geometry_of(&k, &g)) continue;
        size_t plane = g.out_h * g.out_w, first = uniform(0, plane - 1);
        check_conv_rows(&g, 0, plane);
        check_conv_rows(&g, first, uniform(1, plane - first));
    }
    static const size_t shapes[][2] = {{1, 1}, {1, 40}, {40, 1}, {15, 17}, {16, 16}, {17, 15}, {32, 48}, {33, 49}, {144, 35}, {7, 300}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0] + 20; i++) {
        size_t channels = i < sizeof shapes / sizeof shapes[0] ? shapes[i][0] : uniform(1, 100);
        size_t width = i < sizeof shapes / sizeof shapes[0] ? shapes[i][1] : uniform(1, 100);
        qf_conv2d_geometry g = {.channels = channels, .height = 1, .width = width, .kernel_h = 1, .kernel_w = 1,
                                .stride_h = 1, .stride_w = 1, .dilation_h = 1, .dilation_w = 1, .out_h = 1, .out_w = width};
        size_t first = uniform(0, width - 1);
        check_conv_rows(&g, 0, width);
        check_conv_rows(&g, first, uniform(1, width - first));
    }
}

/* Accumulators rows x columns, each column's int32 offset added, scaled into columns of y (y_stride
 * apart, past `rows`: the gaps must stay untouched), against the formula (to an ulp: a fused
 * multiply-add may round once). Some accumulators sit near INT32_MAX, where the offset wraps. */
static void check_scale_transposed(size_t rows, size_t columns, size_t y_stride) {
    int32_t *acc = guarded(rows * columns * sizeof(int32_t)), *acc_offsets = guarded(columns * sizeof(int32_t));
    float *scales = guarded(columns * sizeof(float)), *offsets = guarded(columns * sizeof(float));
    float *y = guarded(columns * y_stride * sizeof(float));
    for (size_t i = 0; i < rows * columns; i++) {
        acc[i] = next_random() % 7 ? (int32_t)(next_random() % 2000001) - 1000000 : INT32_MAX - (int32_t)(next_random() % 1000);
    }
    for (size_t n = 0; n < columns; n++) {
        scales[n] = unit_float() * 1e-3f, offsets[n] = unit_float() * 4 - 2;
        acc_offsets[n] = (int32_t)(next_random() % 20001) - 10000;
    }
    for (size_t i = 0; i < columns * y_stride; i++) y[i] = NAN;
    qf_scale_accumulators_transposed(acc, rows, columns, acc_offsets, scales, offsets, y, y_stride);
    size_t bad = columns * y_stride;
    for (size_t n = 0; n < columns; n++) {
        for (size_t r = 0; r < y_stride; r++) {
            size_t at = n * y_stride + r;
            int ok = isnan(y[at]); /* past `rows` */
            if (r < rows) {
                int32_t sum = (int32_t)((uint32_t)acc[r * columns + n] + (uint32_t)acc_offsets[n]);
                ok = fabsf(y[at] - ((float)sum * scales[n] + offsets[n])) <= 1e-6f * (1 + fabsf(y[at]));
            }
            if (!ok && bad == columns * y_stride) bad = at;
        }
    }
    record_shared(SCALE_TRANSPOSED, bad == columns * y_stride, "%zu x %zu into stride %zu: output %zu wrong", rows, columns,
                  y_stride, bad);
    release(acc, rows * columns * sizeof(int32_t));
    release(acc_offsets, columns * sizeof(int32_t));
    release(scales, columns * sizeof(float));
    release(offsets, columns * sizeof(float));
    release(y, columns * y_stride * sizeof(float));
}

static void check_scale_transposed_cases(void) {
    static const size_t shapes[][3] = {{1, 1, 1}, {4, 4, 4}, {4, 4, 9}, {5, 7, 5}, {16, 24, 40}, {3, 17, 3}, {33, 64, 100}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) check_scale_transposed(shapes[i][0], shapes[i][1], shapes[i][2]);
    for (int i = 0; i < 30; i++) {
        size_t rows = uniform(1, 70);
        check_scale_transposed(rows, uniform(1, 70), rows + uniform(0, 9));
    }
}

/* Every element lands at its transposed place; the output ends at a guard page, so a write past
 * it faults. Shapes straddle the 32-float tiles. */
static void check_transpose(size_t rows, size_t columns) {
    float *x = allocate(rows * columns * sizeof(float)), *y = guarded(rows * columns * sizeof(float));
    for (size_t i = 0; i < rows * columns; i++) x[i] = (float)i;
    qf_transpose_f32(x, rows, columns, y);
    int passed = 1;
    for (size_t r = 0; r < rows && passed; r++) {
        for (size_t c = 0; c < columns && passed; c++) passed = y[c * rows + r] == x[r * columns + c];
    }
    record_shared(TRANSPOSE_F32, passed, "%zu x %zu", rows, columns);
    free(x);
    release(y, rows * columns * sizeof(float));
}

static void check_transposes(void) {
    static const size_t shapes[][2] = {{1, 1}, {1, 100}, {100, 1}, {32, 32}, {33, 31}, {64, 65}, {4096, 3}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) check_transpose(shapes[i][0], shapes[i][1]);
    for (int i = 0; i < 20; i++) check_transpose(uniform(1, 200), uniform(1, 200));
}

static void check_dequantize_4bit(size_t k, size_t n, size_t block, size_t first, size_t width, int is_signed) {
    size_t blocks = (k + block - 1) / block, row_stride = width + 3;
    uint8_t *levels = allocate((k * n + 1) / 2);
    float *scales = allocate(blocks * n * sizeof(float)), *zeros = allocate(blocks * n * sizeof(float));
    float *panel = guarded(k * row_stride * sizeof(float));
    for (size_t i = 0; i < (k * n + 1) / 2; i++) levels[i] = (uint8_t)next_random();
    for (size_t i = 0; i < blocks * n; i++) {
        scales[i] = 0.01f + unit_float();
        zeros[i] = is_signed ? 0.0f : (float)uniform(0, 15);
    }
    for (size_t i = 0; i < k * row_stride; i++) panel[i] = NAN;
    qf_dequantize_4bit_strip(levels, is_signed, k, n, block, scales, zeros, first, width, panel, row_stride);
    int passed = 1;
    for (size_t r = 0; r < k && passed; r++) {
        for (size_t j = 0; j < row_stride; j++) {
            float expected = 0.0f;
            if (j < width) {
                size_t position = r * n + first + j, parameter = (r / block) * n + first + j;
                int level = (position & 1) ? levels[position / 2] >> 4 : levels[position / 2] & 0x0F;
                if (is_signed && level >= 8) level -= 16;
                expected = ((float)level - zeros[parameter]) * scales[parameter];
            }
            if (!(fabsf(panel[r * row_stride + j] - expected) <= 1e-6f * (1.0f + fabsf(expected)))) passed = 0;
        }
    }
    record_shared(DEQUANTIZE_4BIT, passed, "k=%zu n=%zu block=%zu first=%zu width=%zu signed=%d", k, n, block, first, width, is_signed);
    free(levels);
    free(scales);
    free(zeros);
    release(panel, k * row_stride * sizeof(float));
}

static void check_dequantize_4bits(void) {
    check_dequantize_4bit(64, 48, 32, 24, 24, 1);
    check_dequantize_4bit(70, 41, 32, 23, 18, 0); /* odd n and first: strips start mid-byte */
    for (int i = 0; i < 100; i++) {
        size_t k = uniform(1, 80), n = uniform(1, 60), first = uniform(0, n - 1);
        check_dequantize_4bit(k, n, (size_t)32 << uniform(0, 2), first, uniform(1, n - first), (int)uniform(0, 1));
    }
}

/* ---- vector math -------------------------------------------------------------------------- */

typedef int (*unary_on_path)(const char *name, const float *x, float *y, size_t n);

static double reference_gelu(double x) {
    return 0.5 * x * erfc(-x * 0.70710678118654752440);
}

/* Whether y is close enough to f(x); *error gets the error in the unit the function is checked in
 * (relative, absolute, or a fraction of the tolerance). Specials follow CQuantKernels.h. */
static int math_close(int kernel, float x, float y, double *error) {
    *error = 0;
    if (isnan(x)) return isnan(y);
    if (isnan(y)) return 0;
    double v = x, want, tolerance;
    switch (kernel) {
    case EXP:
        if (x < -87.33654475f) return y == 0;
        want = exp(v);
        if (want > 3.4028234e38 * (1 - 2e-6) && isinf(y)) return 1;
        *error = fabs(y - want) / want;
        return *error <= 2e-6;
    case ERF:
        want = erf(v);
        if (x == 0) return y == 0 && signbit(y) == signbit(x);
        *error = fabs(y - want);
        return *error <= 2e-7;
    case TANH:
        want = tanh(v);
        if (x == 0) return y == 0 && signbit(y) == signbit(x);
        *error = fabs(y - want) / fabs(want);
        return *error <= 2e-6;
    case SIGMOID:
        want = 1 / (1 + exp(-v));
        if (x < -87) return fabs(y - want) <= 2e-38;
        *error = fabs(y - want) / want;
        return *error <= 2e-6;
    default: /* GELU */
        if (x < -5.65685425f) return y == 0 && signbit(y);
        want = reference_gelu(v);
        if (isinf(x)) return y == want;
        if (x == 0) return y == 0 && signbit(y) == signbit(x);
        tolerance = 1e-6 * fabs(want) + 1e-7;
        *error = fabs(y - want) / tolerance;
        return *error <= 1;
    }
}

static const unary_on_path unary_functions[] = {qf_exp_f32_on_path, qf_erf_f32_on_path, qf_tanh_f32_on_path,
                                                qf_sigmoid_f32_on_path, qf_gelu_erf_f32_on_path};

/* Every function on every path: a dense sweep with the special values, in place and out of place, then
 * short unaligned pieces of it that must give exactly what the whole run gave (tails included). */
static void check_vector_math(void) {
    static const uint32_t special_bits[] = {
        0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7FA00000, 0x7F7FFFFF, 0xFF7FFFFF,
        0x00000001, 0x80000001, 0x00800000, 0x80800000, 0x7149F2CA, 0xF149F2CA, 0x3F800000, 0xBF800000,
    };
    static const float edges[] = {-87.33654475f, -87.3365f, -87.33655f, -87.0f, -88.0f, -88.72283f, -88.8f, -89.0f, -100.0f,
                                  -103.97f, -104.0f, -200.0f, 88.72283f, 88.722839f, 88.7229f, 89.0f, 100.0f,
                                  0.625f, -0.625f, 0.62499994f, 4.0f, -4.0f, 3.9999998f, 5.65685f, -5.65685f,
                                  -5.656854f, -5.6568546f, 1.0f, 0.99999994f, -0.99999994f, 1e-20f, -1e-20f, 1e-38f, 9.0f, -9.0f,
                                  44.0f, -44.0f, 45.0f, 1e30f, -1e30f};
    const size_t sweep = 20001, wide = 20001;
    size_t specials = sizeof special_bits / sizeof special_bits[0], edge_count = sizeof edges / sizeof edges[0];
    size_t n = sweep + wide + specials + edge_count + 3000;
    float *x = guarded(n * sizeof(float)), *y = guarded(n * sizeof(float)), *z = guarded(n * sizeof(float));
    size_t at = 0;
    for (size_t i = 0; i < sweep; i++) x[at++] = (float)(-10.0 + 1e-3 * (double)i); /* every 1e-3 in [-10, 10] */
    for (size_t i = 0; i < wide; i++) x[at++] = (float)(-100.0 + 1e-2 * (double)i);  /* every 1e-2 in [-100, 100] */
    for (size_t i = 0; i < specials; i++) x[at++] = float_from_bits(special_bits[i]);
    for (size_t i = 0; i < edge_count; i++) x[at++] = edges[i];
    while (at < n) x[at++] = ldexpf(unit_float(), (int)uniform(0, 60) - 50); /* small and large magnitudes */

    for (int path = 0; path < PATHS; path++) {
        if (!supported[path]) continue;
        for (int f = 0; f < 5; f++) {
            int kernel = EXP + f;
            tally *t = &tallies[path][kernel];
            unary_functions[f](path_names[path], x, y, n);
            for (size_t i = 0; i < n; i++) {
                double error;
                int passed = math_close(kernel, x[i], y[i], &error);
                if (error > t->worst) t->worst = error;
                record(path, kernel, passed, "x = %.9g: y = %.9g", x[i], y[i]);
            }
            memcpy(z, x, n * sizeof(float)); /* in place */
            unary_functions[f](path_names[path], z, z, n);
            record(path, kernel, memcmp(z, y, n * sizeof(float)) == 0, "in place differs from out of place");
            for (int piece = 0; piece < 60; piece++) {
                size_t start = uniform(0, n - 40), length = uniform(0, 37);
                float *out = z + n - length; /* ends at the guard page */
                unary_functions[f](path_names[path], x + start, out, length);
                record(path, kernel, memcmp(out, y + start, length * sizeof(float)) == 0,
                       "x[%zu..+%zu] alone differs from the whole run", start, length);
            }
        }
    }
    release(x, n * sizeof(float));
    release(y, n * sizeof(float));
    release(z, n * sizeof(float));
}

/* `mix`: 0 plain, 1 with masked (-10000 and -inf) positions, 2 all -inf, 3 one NaN, 4 one +inf. */
static void check_softmax(size_t rows, size_t length, int mix) {
    size_t count = rows * length;
    float *x = guarded(count * sizeof(float)), *y = guarded(count * sizeof(float));
    for (size_t i = 0; i < count; i++) {
        x[i] = unit_float() * 20;
        if (mix == 1 && next_random() % 3 == 0) x[i] = next_random() % 2 ? -10000.0f : -INFINITY;
        if (mix == 2) x[i] = -INFINITY;
    }
    if ((mix == 3 || mix == 4) && count > 0) x[uniform(0, length - 1)] = mix == 3 ? NAN : INFINITY; /* in row 0 */
    double *want = allocate(count * sizeof(double) + 1);
    for (size_t r = 0; r < rows; r++) {
        const float *row = x + r * length;
        double max = -INFINITY, sum = 0;
        for (size_t i = 0; i < length; i++) max = row[i] > max ? row[i] : max;
        for (size_t i = 0; i < length; i++) sum += exp((double)row[i] - max);
        for (size_t i = 0; i < length; i++) want[r * length + i] = exp((double)row[i] - max) / sum;
    }
    double tolerance = 3e-6 + (double)length * 1.2e-7;
    for (int path = 0; path < PATHS; path++) {
        if (!supported[path]) continue;
        memcpy(y, x, count * sizeof(float));
        qf_softmax_rows_f32_on_path(path_names[path], y, rows, length);
        size_t bad = count;
        for (size_t i = 0; i < count && bad == count; i++) {
            double w = want[i];
            int passed = isnan(w) ? isnan(y[i])
                         /* masked next to ordinary scores: exactly 0 (a row of masks alone is uniform) */
                         : (isinf(x[i]) || x[i] == -10000.0f) && w < 1e-30 ? y[i] == 0
                         : fabs(y[i] - w) <= tolerance * w + 1e-37;
            if (!passed) bad = i;
        }
        record(path, SOFTMAX, bad == count, "rows=%zu length=%zu mix=%d: y[%zu] = %.9g for x = %.9g, expected %.9g", rows,
               length, mix, bad, bad < count ? y[bad] : 0.0, bad < count ? x[bad] : 0.0, bad < count ? want[bad] : 0.0);
    }
    release(x, count * sizeof(float));
    release(y, count * sizeof(float));
    free(want);
}

static void check_softmaxes(void) {
    static const size_t lengths[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 1000, 1001, 4099};
    for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
        for (int mix = 0; mix < 5; mix++) check_softmax(1 + l % 4, lengths[l], mix);
    }
    check_softmax(0, 5, 0);
    check_softmax(3, 0, 0);
}

/* The public entry points run the chosen path: the same results as that path by name. Runs after the
 * dispatch checks (asking for the chosen path fixes it for the process and the children it forks). */
static void check_public_entries(void) {
    const char *chosen = qf_kernel_path_name();
    float x[37], y[37], z[37];
    for (int i = 0; i < 37; i++) x[i] = unit_float() * 6;
    void (*const chosen_functions[])(const float *, float *, size_t) = {qf_exp_f32, qf_erf_f32, qf_tanh_f32, qf_sigmoid_f32,
                                                                        qf_gelu_erf_f32};
    int same = 1;
    for (int f = 0; f < 5; f++) {
        chosen_functions[f](x, y, 37);
        unary_functions[f](chosen, x, z, 37);
        same = same && memcmp(y, z, sizeof y) == 0;
    }
    memcpy(y, x, sizeof x);
    memcpy(z, x, sizeof x);
    qf_softmax_rows_f32(y, 1, 37);
    qf_softmax_rows_f32_on_path(chosen, z, 1, 37);
    same = same && memcmp(y, z, sizeof y) == 0;
    qf_conv2d_geometry g = {2, 5, 11, 3, 3, 1, 1, 1, 1, 1, 1, 5, 11};
    float input[2 * 5 * 11], weights[18], bias[2] = {0.5f, -0.25f}, a[2 * 5 * 11], b[2 * 5 * 11];
    for (int i = 0; i < 110; i++) input[i] = unit_float();
    for (int i = 0; i < 18; i++) weights[i] = unit_float();
    qf_depthwise_conv2d_f32(&g, input, weights, bias, a);
    qf_depthwise_conv2d_f32_on_path(chosen, &g, input, weights, bias, b);
    same = same && memcmp(a, b, sizeof a) == 0;
    printf("%s dispatch: depthwise, vector math and softmax entry points run the chosen path (%s)\n", same ? "PASS" : "FAIL", chosen);
    dispatch_failures += !same;
}

/* ---- dispatch ----------------------------------------------------------------------------- */

/* The choice is made once per process, so each request runs in a child forked before this process
 * ever asks for the chosen path. */
static void check_dispatch_choice(const char *request, const char *expected) {
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        if (request != NULL) setenv("QUANTFLEET_KERNELS", request, 1);
        else unsetenv("QUANTFLEET_KERNELS");
        const char *chosen = qf_kernel_path_name();
        printf("%s dispatch QUANTFLEET_KERNELS=%s -> %s%s%s\n", strcmp(chosen, expected) == 0 ? "PASS" : "FAIL",
               request != NULL ? request : "(unset)", chosen, strcmp(chosen, expected) == 0 ? "" : ", expected ",
               strcmp(chosen, expected) == 0 ? "" : expected);
        fflush(stdout);
        _exit(strcmp(chosen, expected) == 0 ? 0 : 1);
    }
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (child < 0 || !WIFEXITED(status)) {
            printf("FAIL dispatch QUANTFLEET_KERNELS=%s: the child did not finish\n", request != NULL ? request : "(unset)");
        }
        dispatch_failures++;
    }
}

static void check_dispatch(void) {
    const char *best = NULL;
    for (int path = 0; path < PATHS; path++) {
        if (supported[path] && best == NULL) best = path_names[path];
    }
    check_dispatch_choice(NULL, best);
    for (int path = 0; path < PATHS; path++) check_dispatch_choice(path_names[path], supported[path] ? path_names[path] : best);
    check_dispatch_choice("no-such-path", best);

    float x = 1, low, high;
    uint8_t y;
    int refused = !qf_range_f32_on_path("no-such-path", &x, 1, &low, &high) && !qf_quantize_u8_on_path("no-such-path", &x, 1, 1, 0, &y);
    for (int path = 0; path < PATHS; path++) {
        if (!supported[path]) refused = refused && !qf_quantize_u8_on_path(path_names[path], &x, 1, 1, 0, &y);
    }
    printf("%s dispatch: unknown and unsupported paths are refused\n", refused ? "PASS" : "FAIL");
    dispatch_failures += !refused;
}

int main(void) {
    for (int path = 0; path < PATHS; path++) supported[path] = qf_kernel_path_is_supported(path_names[path]);
    if (!supported[PATHS - 1]) {
        printf("FAIL scalar: the portable path must run everywhere\n");
        return 1;
    }

    check_gemms();
    check_gemm_depth_limits();
    check_sgemms();
    check_activations();
    check_depthwise_convolutions();
    check_im2cols();
    check_pools();
    check_conv_rows_cases();
    check_scale_transposed_cases();
    check_dequantize_4bits();
    check_transposes();
    check_vector_math();
    check_softmaxes();

    int failures = 0;
    for (int path = 0; path < PATHS; path++) {
        if (!supported[path]) {
            printf("SKIP %s: this CPU cannot run it\n", path_names[path]);
            continue;
        }
        for (int kernel = 0; kernel < KERNELS; kernel++) {
            const tally *t = &tallies[path][kernel];
            printf("%s %s %s (%d cases", t->failures ? "FAIL" : "PASS", path_names[path], kernel_names[kernel], t->cases);
            if (kernel >= EXP && kernel <= GELU) {
                printf(", worst %s %.3g", kernel == ERF ? "absolute error" : kernel == GELU ? "error / tolerance" : "relative error", t->worst);
            }
            printf(")\n");
            if (t->failures) printf("    %d failed; first: %s\n", t->failures, t->first_failure);
            failures += t->failures;
        }
    }
    for (int kernel = 0; kernel < SHARED_KERNELS; kernel++) {
        const tally *t = &shared_tallies[kernel];
        printf("%s all-paths %s (%d cases)\n", t->failures ? "FAIL" : "PASS", shared_kernel_names[kernel], t->cases);
        if (t->failures) printf("    %d failed; first: %s\n", t->failures, t->first_failure);
        failures += t->failures;
    }
    check_dispatch();
    check_public_entries();
    failures += dispatch_failures;

    printf("tested paths:");
    for (int path = 0; path < PATHS; path++) {
        if (supported[path]) printf(" %s", path_names[path]);
    }
    printf("\n%s\n", failures ? "FAILED" : "ALL PASSED");
    return failures ? 1 : 0;
}
