#include <pthread.h>
#include <stdlib.h>

#include "kernel_table.h"

/* One buffer per thread, grown to the largest request and kept: after a thread's first products,
 * the kernels allocate nothing. A thread's buffer is freed when the thread exits (worker pools
 * retire idle threads, so a static thread-local buffer would leak). */
typedef struct {
    void *memory;
    size_t bytes;
} thread_scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_key_once = PTHREAD_ONCE_INIT;

static void release_scratch(void *scratch) {
    free(((thread_scratch *)scratch)->memory);
    free(scratch);
}

static void make_scratch_key(void) {
    if (pthread_key_create(&scratch_key, release_scratch) != 0) {
        abort();
    }
}

void *qf_thread_scratch(size_t bytes) {
    pthread_once(&scratch_key_once, make_scratch_key);
    thread_scratch *scratch = pthread_getspecific(scratch_key);
    if (scratch == NULL) {
        scratch = calloc(1, sizeof *scratch);
        if (scratch == NULL || pthread_setspecific(scratch_key, scratch) != 0) {
            abort();
        }
    }
    if (scratch->bytes < bytes) {
        free(scratch->memory);
        scratch->memory = malloc(bytes);
        if (scratch->memory == NULL) {
            abort(); /* a kernel's panel or row block, at most a few hundred KB: there is no going on without it */
        }
        scratch->bytes = bytes;
    }
    return scratch->memory;
}
