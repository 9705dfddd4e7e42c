#include "kernel_table.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

/* Vector math on 8 lanes: the algorithms are in vmath_x86.h. */
#include "simd_avx2.h"
#define QF_PATH(function) qf_##function##_avx2_path

#include "vmath_x86.h"

#endif
