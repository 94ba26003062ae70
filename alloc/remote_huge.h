/* Huge blocks freed through another heap, waiting for their owner to take
 * them (ta_heap_take_remote). Their memory goes back to the OS once the purge
 * delay has passed, by whichever thread's upkeep gets there first, so an idle
 * owner holds none of it; an owner that takes them in time gives the slots
 * to the arena as they are, with no system call, as a local free does. */
#ifndef TINYALLOC_ALLOC_REMOTE_HUGE_H_
#define TINYALLOC_ALLOC_REMOTE_HUGE_H_

#include <stdbool.h>
#include <stdint.h>

#include "alloc/segment.h"

#ifdef __cplusplus
extern "C" {
#endif

/* By the freeing thread, after it won the block and before it hands the
 * block to the owner. */
void ta_remote_huge_add(ta_segment_t *segment, uint64_t now);

/* By the owner, before it frees the segment: takes it off the list if it is
 * still there. One atomic load when it is not. */
void ta_remote_huge_unlist(ta_segment_t *segment);
static inline void ta_remote_huge_remove(ta_segment_t *segment) {
  if (atomic_load_explicit(&segment->remote_listed, memory_order_acquire)) {
    ta_remote_huge_unlist(segment);
  }
}

/* Gives back the memory of the blocks waiting since `delay` ms before now
 * (of all of them if `everything`). One atomic load when none is due. */
void ta_remote_huge_purge_due(uint64_t now, bool everything);

/* The list's lock, held across fork() (fork.c). */
void ta_remote_huge_lock(void);
void ta_remote_huge_unlock(void);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_REMOTE_HUGE_H_ */
