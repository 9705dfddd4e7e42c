#include "CQuantKernels.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

void qf_keep_freed_memory(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 << 20); /* glibc's ceiling; setting it also stops it adapting */
    mallopt(M_TRIM_THRESHOLD, 0x7fffffff);
#endif
}
