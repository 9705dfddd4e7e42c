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
static const char *const path_names[] = {"avx2", "neon-dotprod", "neon", "scalar"};
enum { PATHS = sizeof path_names / sizeof path_names[0] };

enum { GEMM, SGEMM, SGEMM_PACKED, RANGE, QUANTIZE, KERNELS };
static const char *const kernel_names[KERNELS] = {"gemm_u8s8", "sgemm", "sgemm_packed", "range_f32", "quantize_u8"};

typedef struct {
    int cases, failures;
    char first_failure[256];
} tally;

static tally tallies[PATHS][KERNELS];
static int supported[PATHS];
static int dispatch_failures;

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

/* `variant` picks strides, zero points and whether the data are the extreme values. */
static void check_gemm(size_t m, size_t k, size_t n, unsigned variant) {
    size_t lda = k + variant % 3, ldb = n + variant % 2, ldc = n + (variant % 2) * 3;
    int extremes = variant % 5 == 4;
    uint8_t *a = guarded(m * lda);
    int8_t *b = allocate(k * ldb);
    for (size_t i = 0; i < m * lda; i++) a[i] = extremes ? (next_random() % 4 ? 255 : 0) : (uint8_t)next_random();
    for (size_t i = 0; i < k * ldb; i++) b[i] = extremes ? (next_random() % 2 ? 127 : -128) : (int8_t)next_random();

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
    qf_pack_s8(b, ldb, k, n, packed, column_sums);
    qf_packed_s8 weights = {packed, column_sums, k, n};

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
    };
    unsigned variant = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (unsigned repeat = 0; repeat < 5; repeat++) check_gemm(shapes[s][0], shapes[s][1], shapes[s][2], variant++);
    }
    for (int i = 0; i < 80; i++) check_gemm(uniform(1, 13), uniform(1, 700), uniform(1, 70), variant++);
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
    check_sgemms();
    check_activations();

    int failures = 0;
    for (int path = 0; path < PATHS; path++) {
        if (!supported[path]) {
            printf("SKIP %s: this CPU cannot run it\n", path_names[path]);
            continue;
        }
        for (int kernel = 0; kernel < KERNELS; kernel++) {
            const tally *t = &tallies[path][kernel];
            printf("%s %s %s (%d cases)\n", t->failures ? "FAIL" : "PASS", path_names[path], kernel_names[kernel], t->cases);
            if (t->failures) printf("    %d failed; first: %s\n", t->failures, t->first_failure);
            failures += t->failures;
        }
    }
    check_dispatch();
    failures += dispatch_failures;

    printf("tested paths:");
    for (int path = 0; path < PATHS; path++) {
        if (supported[path]) printf(" %s", path_names[path]);
    }
    printf("\n%s\n", failures ? "FAILED" : "ALL PASSED");
    return failures ? 1 : 0;
}
