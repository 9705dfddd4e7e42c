#ifndef CHEAPRETENTION_H
#define CHEAPRETENTION_H

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Opt-in, process-wide: a program that links this target keeps freed memory in its heap for reuse
 * instead of returning it to the kernel (glibc: one arena for every thread, no block mapped on its
 * own, no heap trimming; a no-op elsewhere). It is set by a constructor when the program loads,
 * before any thread exists (the arena limit binds only threads that have not allocated yet). The
 * daemons and CLI that run inference link it; libraries never set malloc options for their hosts.
 *
 * Returns 1 when the options were applied (glibc), 0 otherwise. Calling it keeps the constructor's
 * object file in the link and reports the setting; it changes nothing.
 */
int qf_heap_retention_applied(void);

/**
 * Returns the heap's free pages to the kernel once (glibc's malloc_trim; a no-op elsewhere). For a
 * one-off peak that will not come again, such as loading a model: the next inference faults in what
 * it needs, and the heap keeps that from then on.
 */
void qf_release_freed_memory(void);

#ifdef __cplusplus
}
#endif

#endif
