/* tinyalloc's malloc family, prefixed: the same calls as the C library's,
 * served by the calling thread's default heap. Depend on //alloc:tinyalloc
 * and include "tinyalloc/malloc.h". To make them *the* malloc of a program,
 * link //alloc:malloc, or run it with LD_PRELOAD=libtinyalloc.so (README).
 *
 * Semantics are glibc's: errno is ENOMEM when memory runs out and EINVAL
 * for a bad alignment; ta_malloc(0) gives a unique pointer; ta_realloc(p, 0)
 * frees p and returns NULL; ta_free keeps errno. A pointer tinyalloc did not
 * hand out, passed to ta_free, ta_realloc or ta_malloc_usable_size, is
 * refused without being read (ta_realloc returns NULL with EINVAL; the
 * others do nothing or return 0; TINYALLOC_VERBOSE=1 prints a warning).
 * Every call is thread-safe; a block may be freed by any thread. */
#ifndef TINYALLOC_MALLOC_H_
#define TINYALLOC_MALLOC_H_

#include <stddef.h>

#include "tinyalloc/tinyalloc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Blocks of ta_malloc, ta_calloc and ta_realloc are aligned to this. */
#define TA_MALLOC_ALIGN 16

void *ta_malloc(size_t size);
void *ta_calloc(size_t count, size_t size);
void *ta_realloc(void *ptr, size_t size);
void ta_free(void *ptr);
/* align: a power of two (else NULL, EINVAL); size need not be a multiple. */
void *ta_aligned_alloc(size_t align, size_t size);
/* align: a power of two and a multiple of sizeof(void *) (else EINVAL, errno
 * untouched). Returns 0, EINVAL or ENOMEM (errno then ENOMEM too, as with
 * glibc); *out is set only on success. */
int ta_posix_memalign(void **out, size_t align, size_t size);
/* Bytes usable at ptr (>= the size asked), 0 for NULL or a foreign pointer. */
size_t ta_malloc_usable_size(const void *ptr);

/* The calling thread's default heap, made on first use (NULL only when no
 * memory can be had): usable with the ta_heap_* calls, but refused by
 * ta_heap_destroy. When the thread exits the heap is not destroyed, since
 * its blocks may live on: it is handed to the next thread that needs one,
 * with the blocks freed to it meanwhile. */
ta_heap_t *ta_thread_heap(void);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_MALLOC_H_ */
