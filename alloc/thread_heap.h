/* The thread's default heap, for the malloc layer (malloc.h has the rest). */
#ifndef TINYALLOC_ALLOC_THREAD_HEAP_H_
#define TINYALLOC_ALLOC_THREAD_HEAP_H_

#include "tinyalloc/tinyalloc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The calling thread's heap, or NULL if it has none (never made, or handed
 * back at thread exit); never makes one: for frees. */
ta_heap_t *ta_thread_heap_if_any(void);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_THREAD_HEAP_H_ */
