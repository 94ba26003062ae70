/* The pool of abandoned heaps: default heaps of threads that exited with
 * blocks still alive, waiting for a new thread to adopt them. */
#ifndef TINYALLOC_ALLOC_ABANDONED_H_
#define TINYALLOC_ALLOC_ABANDONED_H_

#include "alloc/heap.h"

#ifdef __cplusplus
extern "C" {
#endif

void ta_abandoned_push(ta_heap_t *heap);
/* The most recently abandoned heap, or NULL. */
ta_heap_t *ta_abandoned_pop(void);
/* Collects up to max abandoned heaps, releases those left empty (other
 * threads freed all their blocks meanwhile) and puts the others back at the
 * tail: memory a thread left behind need not wait for a new thread. Their
 * memory is purged once it has waited the purge delay (ta_heap_collect_idle)
 * or, if `now` (ta_trim), at once (ta_heap_collect). */
void ta_abandoned_reclaim(size_t max, bool now);

/* The pool's lock, held across fork() (fork.c). */
void ta_abandoned_lock(void);
void ta_abandoned_unlock(void);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_ABANDONED_H_ */
