/*
 * How close the int8 GEMM comes to this CPU's int8 peak, single-threaded.
 *
 * The peak is measured, not taken from a data sheet: a loop of independent multiply-accumulate
 * chains on registers only, for each instruction an int8 kernel can be built on (vpmaddwd on
 * int16-widened operands, which the avx2 path uses; vpmaddubsw on raw u8 x s8; vpdpbusd where the
 * CPU has VNNI). One MAC is one product summed. Then qf_gemm_u8s8 at M = N = K = 1024 on every path
 * this CPU runs, as a fraction of the peak of the instruction that path is built on.
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

__attribute__((target("avx2"))) static void vpmaddubsw_chains(uint64_t iterations) {
    __asm__ volatile("vpcmpeqd %%ymm14, %%ymm14, %%ymm14\n\t"
                     "vpcmpeqd %%ymm15, %%ymm15, %%ymm15\n\t"
                     "1:\n\t" QF_SEVEN_CHAINS("vpmaddubsw", "vpaddw") "dec %0\n\t"
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

static peak peaks[] = {
    {"vpmaddwd", "vpmaddwd + vpaddd, 16 s16 x s16 MACs", vpmaddwd_chains, 7 * 16, 0, 0},
    {"vpmaddubsw", "vpmaddubsw + vpaddw, 32 u8 x s8 MACs (saturating)", vpmaddubsw_chains, 7 * 32, 0, 0},
    {"vpdpbusd", "vpdpbusd ymm, 32 u8 x s8 MACs", vpdpbusd_chains, 14 * 32, 0, 0},
};

static double clock_ghz;

static void detect_peaks(void) {
    __builtin_cpu_init();
    peaks[0].present = peaks[1].present = __builtin_cpu_supports("avx2");
    peaks[2].present = has_vex_vnni() || (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl"));
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
    printf("%-10s  %-52s  %8s  %9s\n", "peak", "loop", "GMAC/s", "MAC/cycle");
    for (size_t i = 0; i < sizeof peaks / sizeof peaks[0]; i++) {
        if (peaks[i].present) {
            printf("%-10s  %-52s  %8.1f  %9.1f\n", peaks[i].instruction, peaks[i].operation, peaks[i].gmacs, peaks[i].gmacs / clock_ghz);
        } else {
            printf("%-10s  %-52s  %8s  %9s\n", peaks[i].instruction, peaks[i].operation, "-", "not on this CPU");
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

/* The instruction each path's GEMM is built on, and the path's best time so far. */
static struct {
    const char *path, *instruction;
    double best_seconds, spent_seconds;
} gemm_runs[] = {
    {"avx2", "vpmaddwd", 1e30, 0}, {"neon-dotprod", "sdot", 1e30, 0}, {"neon", "smlal", 1e30, 0}, {"scalar", NULL, 1e30, 0},
};
enum { GEMM_PATHS = sizeof gemm_runs / sizeof gemm_runs[0] };

static double peak_of(const char *instruction) {
    for (size_t i = 0; instruction != NULL && i < sizeof peaks / sizeof peaks[0]; i++) {
        if (strcmp(peaks[i].instruction, instruction) == 0 && peaks[i].present) return peaks[i].gmacs;
    }
    return 0;
}

int main(void) {
    uint8_t *a = malloc(SIZE * SIZE);
    int8_t *b = malloc(SIZE * SIZE), *packed = malloc(qf_packed_s8_size(SIZE, SIZE));
    int32_t *sums = malloc(SIZE * sizeof(int32_t)), *c = malloc(SIZE * SIZE * sizeof(int32_t));
    int32_t *first_result = malloc(SIZE * SIZE * sizeof(int32_t));
    if (a == NULL || b == NULL || packed == NULL || sums == NULL || c == NULL || first_result == NULL) return 2;
    uint64_t state = 0x2545F4914F6CDD1Du;
    for (size_t i = 0; i < SIZE * SIZE; i++) {
        state ^= state << 13, state ^= state >> 7, state ^= state << 17;
        a[i] = (uint8_t)state;
        b[i] = (int8_t)(state >> 8);
    }
    qf_pack_s8(b, SIZE, SIZE, SIZE, packed, sums);
    qf_packed_s8 weights = {packed, sums, SIZE, SIZE};

    detect_peaks();
    int have_first = 0, identical = 1;
    for (int round = 0; round < ROUNDS; round++) {
        measure_peaks();
        for (size_t p = 0; p < GEMM_PATHS; p++) {
            /* a slow path gets fewer rounds: a few seconds is enough to know it is slow */
            if (!qf_kernel_path_is_supported(gemm_runs[p].path) || gemm_runs[p].spent_seconds > 3) continue;
            double start = seconds();
            qf_gemm_u8s8_on_path(gemm_runs[p].path, a, SIZE, SIZE, 128, &weights, NULL, c, SIZE);
            double elapsed = seconds() - start;
            gemm_runs[p].spent_seconds += elapsed;
            if (elapsed < gemm_runs[p].best_seconds) gemm_runs[p].best_seconds = elapsed;
            if (round > 0) continue;
            if (have_first) identical = identical && memcmp(c, first_result, SIZE * SIZE * sizeof(int32_t)) == 0;
            else memcpy(first_result, c, SIZE * SIZE * sizeof(int32_t)), have_first = 1;
        }
    }

    print_peaks();
    printf("\nqf_gemm_u8s8, M = N = K = %d, one thread, a_zero = 128 (best of up to %d runs)\n", SIZE, ROUNDS);
    printf("%-13s  %9s  %8s  %-10s  %s\n", "path", "ms", "GMAC/s", "built on", "of that instruction's peak");
    for (size_t p = 0; p < GEMM_PATHS; p++) {
        if (!qf_kernel_path_is_supported(gemm_runs[p].path)) continue;
        const char *instruction = gemm_runs[p].instruction;
        double gmacs = (double)SIZE * SIZE * SIZE / gemm_runs[p].best_seconds / 1e9, peak_rate = peak_of(instruction);
        printf("%-13s  %9.1f  %8.1f  %-10s  ", gemm_runs[p].path, gemm_runs[p].best_seconds * 1e3, gmacs,
               instruction != NULL ? instruction : "-");
        if (peak_rate > 0) printf("%.0f %%\n", 100 * gmacs / peak_rate);
        else printf("-\n");
    }
    printf("results identical across paths: %s\n", identical ? "yes" : "NO");
    free(a), free(b), free(packed), free(sums), free(c), free(first_result);
    return identical ? 0 : 1;
}
