#include "kernel_table.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

/* The activation quantizers on 16 lanes: the loops are in quantize_x86.h. */
#include "simd_avx512.h"
#define QF_PATH(function) qf_##function##_avx512_path

#include "quantize_x86.h"

#endif
