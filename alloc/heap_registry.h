/* The set of live heaps, kept apart from the heaps themselves, so that
 * ta_heap_destroy can tell a live heap from one already destroyed without
 * reading it (a destroyed heap's memory may be unmapped, or reused by a new
 * heap). Off every per-block path: only ta_heap_new, ta_heap_destroy and
 * ta_trim use it, under a lock held for a few loads and stores. */
#ifndef TINYALLOC_ALLOC_HEAP_REGISTRY_H_
#define TINYALLOC_ALLOC_HEAP_REGISTRY_H_

#include <stdbool.h>

#include "tinyalloc/error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ta_heap;

/* Records a new heap. TA_ERR_OUT_OF_MEMORY (or the mapper's error) if the
 * table could not grow. */
ta_error_t ta_heap_registry_add(const struct ta_heap *heap);

/* Forgets a live heap. False, and nothing changes, if heap is not live. */
bool ta_heap_registry_remove(const struct ta_heap *heap);

/* Held across fork() (fork.c), so that the child finds the table whole. */
void ta_heap_registry_lock(void);
void ta_heap_registry_unlock(void);

/* Releases the table once no heap is live (for ta_trim: afterwards nothing
 * stays reserved). */
void ta_heap_registry_trim(void);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_HEAP_REGISTRY_H_ */
