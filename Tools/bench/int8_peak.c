/*
 * How close the int8 GEMM comes to this CPU's int8 peak, single-threaded.
 *
 * The peak is measured, not taken from a data sheet: a loop of independent multiply-accumulate
 * chains on registers only, for each way an exact int8 kernel can be built (vpmaddwd on
 * int16-widened operands; vpmaddubsw on raw u8 x s8, its 16-bit pair sums widened by vpmaddwd with
 * ones; vpdpbusd where the CPU has VNNI). One MAC is one product summed into int32. This CPU's int8
 * peak is the best of them. Then qf_gemm_u8s8 at M = N = K = 1024 on every path this CPU runs, as a
 * fraction of that peak and of the peak of the instruction the path is built on: avx2 runs
 * vpmaddubsw on pair-safe weights (see qf_pack_s8; QuantFleet's quantizer writes them) and
 * vpmaddwd on any others, so it is measured on both.
 * Peak loops and GEMMs take turns over several rounds and each keeps its best, so a neighbour that
 * shares the machine for a while lowers neither alone and the ratio stays honest.
 * Built and run by Tools/bench-int8-peak.sh.
 */
#include "CQuantKernels.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

enum { ROUNDS = 12, SIZE = 1024 };
/* A path's turn in a round runs its GEMM back to back for this long (at least once): the first run
 * after another path's finds its weights out of L2, which a steady stream of products does not. */
static const double TURN_SECONDS = 0.1;

typedef void (*peak_loop)(uint64_t iterations);

typedef struct {
    const char *instruction, *operation;
    peak_loop loop;
    double macs_per_iteration;
    int present;
    double gmacs; /* best so far */
} peak;

#if defined(__x86_64__)

/* G per second of `per_iteration` units, one timed run. */
static double rate(peak_loop loop, uint64_t iterations, double per_iteration) {
    double start = seconds();
    loop(iterations);
    return (double)iterations * per_iteration / (seconds() - start) / 1e9;
}

/* One dependent add per cycle: the core clock, so the peaks can be read as MACs per cycle. */
static void add_chain(uint64_t iterations) {
    __asm__ volatile("1:\n\t"
                     ".rept 100\n\t"
                     "add $1, %%rax\n\t"
                     ".endr\n\t"
                     "dec %0\n\t"
                     "jnz 1b"
                     : "+r"(iterations)
                     :
                     : "rax", "cc");
}

/*
 * Seven independent products a round into seven accumulators, operands in ymm14/ymm15: enough
 * products in flight to cover the multiplier's latency on every x86 core, with the add that a
 * kernel needs after each product (vpmaddwd / vpmaddubsw leave the sum to a separate instruction).
 */
#define QF_MULTIPLY_ADD(multiply, add, t, acc) multiply " %%ymm15, %%ymm14, %%ymm" #t "\n\t" add " %%ymm" #t ", %%ymm" #acc ", %%ymm" #acc "\n\t"
#define QF_SEVEN_CHAINS(multiply, add)                                                                  \
    QF_MULTIPLY_ADD(multiply, add, 7, 0) QF_MULTIPLY_ADD(multiply, add, 8, 1) QF_MULTIPLY_ADD(multiply, add, 9, 2) \
    QF_MULTIPLY_ADD(multiply, add, 10, 3) QF_MULTIPLY_ADD(multiply, add, 11, 4) QF_MULTIPLY_ADD(multiply, add, 12, 5) \
    QF_MULTIPLY_ADD(multiply, add, 13, 6)
/* Compilers name the vector registers by their xmm halves in clobber lists. */
#define QF_YMM_CLOBBERS "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", \
                        "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"

__attribute__((target("avx2"))) static void vpmaddwd_chains(uint64_t iterations) {
    __asm__ volatile("vpcmpeqd %%ymm14, %%ymm14, %%ymm14\n\t"
                     "vpcmpeqd %%ymm15, %%ymm15, %%ymm15\n\t"
                     "1:\n\t" QF_SEVEN_CHAINS("vpmaddwd", "vpaddd") "dec %0\n\t"
                     "jnz 1b\n\t"
                     "vzeroupper"
                     : "+r"(iterations)
                     :
                     : QF_YMM_CLOBBERS, "cc");
}

/* Six chains of vpmaddubsw -> vpmaddwd by ones (ymm12) -> vpaddd: the u8 x s8 products summed
 * exactly into int32, as a kernel on raw bytes must. */
#define QF_BYTE_CHAIN(t, acc)                                                                  \
    "vpmaddubsw %%ymm15, %%ymm14, %%ymm" #t "\n\t"                                             \
    "vpmaddwd %%ymm12, %%ymm" #t ", %%ymm" #t "\n\t"                                           \
    "vpaddd %%ymm" #t ", %%ymm" #acc ", %%ymm" #acc "\n\t"

__attribute__((target("avx2"))) static void vpmaddubsw_chains(uint64_t iterations) {
    __asm__ volatile("vpcmpeqd %%ymm14, %%ymm14, %%ymm14\n\t"
                     "vpcmpeqd %%ymm15, %%ymm15, %%ymm15\n\t"
                     "vpcmpeqw %%ymm12, %%ymm12, %%ymm12\n\t"
                     "1:\n\t" QF_BYTE_CHAIN(6, 0) QF_BYTE_CHAIN(7, 1) QF_BYTE_CHAIN(8, 2) QF_BYTE_CHAIN(9, 3)
                     QF_BYTE_CHAIN(10, 4) QF_BYTE_CHAIN(11, 5) "dec %0\n\t"
                     "jnz 1b\n\t"
                     "vzeroupper"
                     : "+r"(iterations)
                     :
                     : QF_YMM_CLOBBERS, "cc");
}

/* vpdpbusd accumulates itself, so fourteen chains of it, covering its longer latency. The encoding
 * prefix ({vex} or {evex}; braces escaped for asm dialects) picks the extension. */
#define QF_FOURTEEN_DOTS(prefix)                                                                                        \
    prefix "vpdpbusd %%ymm15, %%ymm14, %%ymm0\n\t" prefix "vpdpbusd %%ymm15, %%ymm14, %%ymm1\n\t" prefix               \
    "vpdpbusd %%ymm15, %%ymm14, %%ymm2\n\t" prefix "vpdpbusd %%ymm15, %%ymm14, %%ymm3\n\t" prefix                     \
    "vpdpbusd %%ymm15, %%ymm14, %%ymm4\n\t" prefix "vpdpbusd %%ymm15, %%ymm14, %%ymm5\n\t" prefix                     \
    "vpdpbusd %%ymm15, %%ymm14, %%ymm6\n\t" prefix "vpdpbusd %%ymm15, %%ymm14, %%ymm7\n\t" prefix                     \
    "vpdpbusd %%ymm15, %%ymm14, %%ymm8\n\t" prefix "vpdpbusd %%ymm15, %%ymm14, %%ymm9\n\t" prefix                     \
    "vpdpbusd %%ymm15, %%ymm14, %%ymm10\n\t" prefix "vpdpbusd %%ymm15, %%ymm14, %%ymm11\n\t" prefix                   \
    "vpdpbusd %%ymm15, %%ymm14, %%ymm12\n\t" prefix "vpdpbusd %%ymm15, %%ymm14, %%ymm13\n\t"

/* AVX-VNNI (VEX) where present, else the AVX512-VNNI encoding of the same 256-bit instruction. */
static int has_vex_vnni(void) {
    return __builtin_cpu_supports("avxvnni");
}

__attribute__((target("avx2"))) static void vpdpbusd_chains(uint64_t iterations) {
    if (has_vex_vnni()) {
        __asm__ volatile("vpcmpeqd %%ymm14, %%ymm14, %%ymm14\n\t"
                         "vpcmpeqd %%ymm15, %%ymm15, %%ymm15\n\t"
                         "1:\n\t" QF_FOURTEEN_DOTS("%{vex%} ") "dec %0\n\t"
                         "jnz 1b\n\t"
                         "vzeroupper"
                         : "+r"(iterations)
                         :
                         : QF_YMM_CLOBBERS, "cc");
    } else {
        __asm__ volatile("vpcmpeqd %%ymm14, %%ymm14, %%ymm14\n\t"
                         "vpcmpeqd %%ymm15, %%ymm15, %%ymm15\n\t"
                         "1:\n\t" QF_FOURTEEN_DOTS("%{evex%} ") "dec %0\n\t"
                         "jnz 1b\n\t"
                         "vzeroupper"
                         : "+r"(iterations)
                         :
                         : QF_YMM_CLOBBERS, "cc");
    }
}

/* The same fourteen chains on 512-bit registers: 64 MACs an instruction. */
#define QF_FOURTEEN_WIDE_DOTS                                                                          \
    "vpdpbusd %%zmm15, %%zmm14, %%zmm0\n\t" "vpdpbusd %%zmm15, %%zmm14, %%zmm1\n\t"                \
    "vpdpbusd %%zmm15, %%zmm14, %%zmm2\n\t" "vpdpbusd %%zmm15, %%zmm14, %%zmm3\n\t"                \
    "vpdpbusd %%zmm15, %%zmm14, %%zmm4\n\t" "vpdpbusd %%zmm15, %%zmm14, %%zmm5\n\t"                \
    "vpdpbusd %%zmm15, %%zmm14, %%zmm6\n\t" "vpdpbusd %%zmm15, %%zmm14, %%zmm7\n\t"                \
    "vpdpbusd %%zmm15, %%zmm14, %%zmm8\n\t" "vpdpbusd %%zmm15, %%zmm14, %%zmm9\n\t"                \
    "vpdpbusd %%zmm15, %%zmm14, %%zmm10\n\t" "vpdpbusd %%zmm15, %%zmm14, %%zmm11\n\t"              \
    "vpdpbusd %%zmm15, %%zmm14, %%zmm12\n\t" "vpdpbusd %%zmm15, %%zmm14, %%zmm13\n\t"

__attribute__((target("avx512f,avx512vnni"))) static void vpdpbusd_wide_chains(uint64_t iterations) {
    __asm__ volatile("vpternlogd $0xff, %%zmm14, %%zmm14, %%zmm14\n\t"
                     "vpternlogd $0xff, %%zmm15, %%zmm15, %%zmm15\n\t"
                     "1:\n\t" QF_FOURTEEN_WIDE_DOTS "dec %0\n\t"
                     "jnz 1b\n\t"
                     "vzeroupper"
                     : "+r"(iterations)
                     :
                     : QF_YMM_CLOBBERS, "cc");
}

static peak peaks[] = {
    {"vpmaddwd", "vpmaddwd + vpaddd, 16 s16 x s16 MACs", vpmaddwd_chains, 7 * 16, 0, 0},
    {"vpmaddubsw", "vpmaddubsw + vpmaddwd + vpaddd, 32 u8 x s8 MACs", vpmaddubsw_chains, 6 * 32, 0, 0},
    {"vpdpbusd", "vpdpbusd ymm, 32 u8 x s8 MACs", vpdpbusd_chains, 14 * 32, 0, 0},
    {"vpdpbusd-zmm", "vpdpbusd zmm, 64 u8 x s8 MACs", vpdpbusd_wide_chains, 14 * 64, 0, 0},
};

static double clock_ghz;

static void detect_peaks(void) {
    __builtin_cpu_init();
    peaks[0].present = peaks[1].present = __builtin_cpu_supports("avx2");
    peaks[2].present = has_vex_vnni() || (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl"));
    peaks[3].present = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vnni");
}

/* One round: about 50 ms per loop. */
static void measure_peaks(void) {
    double clock = rate(add_chain, 500000, 100);
    if (clock > clock_ghz) clock_ghz = clock;
    for (size_t i = 0; i < sizeof peaks / sizeof peaks[0]; i++) {
        if (!peaks[i].present) continue;
        double gmacs = rate(peaks[i].loop, 4000000, peaks[i].macs_per_iteration);
        if (gmacs > peaks[i].gmacs) peaks[i].gmacs = gmacs;
    }
}

static void print_peaks(void) {
    printf("core clock: %.2f GHz (a dependent add chain, one add per cycle)\n\n", clock_ghz);
    printf("%-12s  %-52s  %8s  %9s\n", "peak", "loop", "GMAC/s", "MAC/cycle");
    for (size_t i = 0; i < sizeof peaks / sizeof peaks[0]; i++) {
        if (peaks[i].present) {
            printf("%-12s  %-52s  %8.1f  %9.1f\n", peaks[i].instruction, peaks[i].operation, peaks[i].gmacs, peaks[i].gmacs / clock_ghz);
        } else {
            printf("%-12s  %-52s  %8s  %9s\n", peaks[i].instruction, peaks[i].operation, "-", "not on this CPU");
        }
    }
}

#else

static peak peaks[] = {{"none", "", NULL, 0, 0, 0}};

static void detect_peaks(void) {}
static void measure_peaks(void) {}

static void print_peaks(void) {
    printf("no peak loops for this architecture: GEMM rates only\n");
}

#endif

/* Each path's GEMM, the weights it runs on and the instruction it is then built on, with its best
 * time so far. Pair-safe weights: every |B[2r][n]| + |B[2r+1][n]| <= 128 (values in [-64, 64]). */
enum { PAIR_SAFE, ANY_WEIGHTS };
static struct {
    const char *path;
    int weights;
    const char *instruction;
    double best_seconds, spent_seconds;
} gemm_runs[] = {
    {"avx512-vnni", PAIR_SAFE, "vpdpbusd-zmm", 1e30, 0}, {"avx512-vnni", ANY_WEIGHTS, "vpdpbusd-zmm", 1e30, 0},
    {"avx2", PAIR_SAFE, "vpmaddubsw", 1e30, 0}, {"avx2", ANY_WEIGHTS, "vpmaddwd", 1e30, 0},
    {"neon-dotprod", PAIR_SAFE, "sdot", 1e30, 0}, {"neon", PAIR_SAFE, "smlal", 1e30, 0}, {"scalar", PAIR_SAFE, NULL, 1e30, 0},
};
enum { GEMM_PATHS = sizeof gemm_runs / sizeof gemm_runs[0] };

static double peak_of(const char *instruction) {
    for (size_t i = 0; instruction != NULL && i < sizeof peaks / sizeof peaks[0]; i++) {
        if (strcmp(peaks[i].instruction, instruction) == 0 && peaks[i].present) return peaks[i].gmacs;
    }
    return 0;
}

static double best_peak(void) {
    double best = 0;
    for (size_t i = 0; i < sizeof peaks / sizeof peaks[0]; i++) {
        if (peaks[i].present && peaks[i].gmacs > best) best = peaks[i].gmacs;
    }
    return best;
}

static void print_percent(double part, double whole) {
    if (whole > 0) printf("  %10.0f %%", 100 * part / whole);
    else printf("  %12s", "-");
}

int main(void) {
    uint8_t *a = malloc(SIZE * SIZE);
    int8_t *b[2] = {malloc(SIZE * SIZE), malloc(SIZE * SIZE)};
    int8_t *packed[2] = {malloc(qf_packed_s8_size(SIZE, SIZE)), malloc(qf_packed_s8_size(SIZE, SIZE))};
    int32_t *sums[2] = {malloc(SIZE * sizeof(int32_t)), malloc(SIZE * sizeof(int32_t))};
    int32_t *c = malloc(SIZE * SIZE * sizeof(int32_t)), *first_result = malloc(SIZE * SIZE * sizeof(int32_t));
    if (a == NULL || b[0] == NULL || b[1] == NULL || packed[0] == NULL || packed[1] == NULL || sums[0] == NULL ||
        sums[1] == NULL || c == NULL || first_result == NULL) return 2;
    uint64_t state = 0x2545F4914F6CDD1Du;
    for (size_t i = 0; i < SIZE * SIZE; i++) {
        state ^= state << 13, state ^= state >> 7, state ^= state << 17;
        a[i] = (uint8_t)state;
        b[ANY_WEIGHTS][i] = (int8_t)(state >> 8);
        b[PAIR_SAFE][i] = (int8_t)((int)((state >> 16) % 129) - 64);
    }
    qf_packed_s8 weights[2];
    for (int w = 0; w < 2; w++) {
        int fits = qf_pack_s8(b[w], SIZE, SIZE, SIZE, packed[w], sums[w]);
        weights[w] = (qf_packed_s8){packed[w], sums[w], SIZE, SIZE, fits};
    }
    if (!weights[PAIR_SAFE].pairs_fit_int16 || weights[ANY_WEIGHTS].pairs_fit_int16) return 2;

    detect_peaks();
    int have_first = 0, identical = 1;
    for (int round = 0; round < ROUNDS; round++) {
        measure_peaks();
        for (size_t p = 0; p < GEMM_PATHS; p++) {
            /* a slow path gets fewer rounds: a few seconds is enough to know it is slow */
            if (!qf_kernel_path_is_supported(gemm_runs[p].path) || gemm_runs[p].spent_seconds > 3) continue;
            for (double turn_start = seconds(); seconds() - turn_start < TURN_SECONDS;) {
                double start = seconds();
                qf_gemm_u8s8_on_path(gemm_runs[p].path, a, SIZE, SIZE, 128, &weights[gemm_runs[p].weights], NULL, c, SIZE);
                double elapsed = seconds() - start;
                gemm_runs[p].spent_seconds += elapsed;
                if (elapsed < gemm_runs[p].best_seconds) gemm_runs[p].best_seconds = elapsed;
            }
            if (round > 0 || gemm_runs[p].weights != PAIR_SAFE) continue;
            if (have_first) identical = identical && memcmp(c, first_result, SIZE * SIZE * sizeof(int32_t)) == 0;
            else memcpy(first_result, c, SIZE * SIZE * sizeof(int32_t)), have_first = 1;
        }
    }

    print_peaks();
    printf("\nthis CPU's int8 peak: %.1f GMAC/s (the best loop above)\n", best_peak());
    printf("\nqf_gemm_u8s8, M = N = K = %d, one thread, a_zero = 128 (best run of %d turns of %.1f s)\n", SIZE, ROUNDS,
           TURN_SECONDS);
    printf("%-13s  %-9s  %9s  %8s  %-12s  %12s  %12s\n", "path", "weights", "ms", "GMAC/s", "built on", "of its peak",
           "of int8 peak");
    for (size_t p = 0; p < GEMM_PATHS; p++) {
        if (!qf_kernel_path_is_supported(gemm_runs[p].path)) continue;
        const char *instruction = gemm_runs[p].instruction;
        double gmacs = (double)SIZE * SIZE * SIZE / gemm_runs[p].best_seconds / 1e9;
        printf("%-13s  %-9s  %9.1f  %8.1f  %-12s", gemm_runs[p].path, gemm_runs[p].weights == PAIR_SAFE ? "pair-safe" : "any",
               gemm_runs[p].best_seconds * 1e3, gmacs, instruction != NULL ? instruction : "-");
        print_percent(gmacs, peak_of(instruction));
        print_percent(gmacs, best_peak());
        printf("\n");
    }
    printf("results identical across paths (pair-safe weights): %s\n", identical ? "yes" : "NO");
    free(a), free(c), free(first_result);
    for (int w = 0; w < 2; w++) free(b[w]), free(packed[w]), free(sums[w]);
    return identical ? 0 : 1;
}
