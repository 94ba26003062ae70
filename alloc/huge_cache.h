/* Huge segments freed a moment ago, kept whole (set up, in the segment map,
 * committed) for the next huge block of the same size from any heap: a
 * program that allocates and frees big buffers in a loop then pays no arena
 * search, no segment set-up and no system call, and no lock while its heap
 * takes back the one it freed last (its front). What the cache holds counts
 * against TA_OPTION_RETAIN_BYTES with the arena's retained slots, and goes to
 * the arena once TA_OPTION_PURGE_DELAY_MS old, by whichever thread's upkeep
 * comes first (or ta_trim). */
#ifndef TINYALLOC_ALLOC_HUGE_CACHE_H_
#define TINYALLOC_ALLOC_HUGE_CACHE_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/segment.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Keeps a huge segment its heap no longer lists (its block freed, its page
 * not in use) in the heap's front (*front, a field of the heap, 0 in a new
 * one; claimed at the first call), where it stays counted with the segments
 * heaps hold. False if the heap has no front (all are claimed) or its front
 * is not empty, the purge delay is 0 or the retention budget is full.
 * Heap's thread. */
bool ta_huge_cache_put_front(uint32_t *front, ta_segment_t *segment);

/* Keeps a huge segment that no heap holds in the list. False, and nothing
 * kept, when the purge delay is 0 or the retention budget is full. */
bool ta_huge_cache_put(ta_segment_t *segment);

/* The segment of the heap's front (the heap's `front` field) if it has
 * `size` bytes, its block starts `block_offset` bytes in and holds at least
 * `block_size` bytes, else NULL (one that does not fit goes to the list).
 * Still counted as held. Heap's thread. */
ta_segment_t *ta_huge_cache_take_front(uint32_t front, size_t size, size_t block_offset,
                                       size_t block_size);

/* The same from the list, else from another heap's front, not counted as
 * held. If none fits, gives every kept segment to the arena (whose slots
 * blocks of any size can use) and returns NULL. */
ta_segment_t *ta_huge_cache_take(uint32_t front, size_t size, size_t block_offset,
                                 size_t block_size);

/* A heap that goes away gives up its front: its segment goes to the list. */
void ta_huge_cache_release_front(uint32_t *front);

/* The segments the fronts keep, and their bytes: counted with the segments
 * heaps hold, which the statistics leave them out of. Exact only while no
 * other thread frees or allocates huge blocks. */
void ta_huge_cache_front_totals(size_t *segments, size_t *bytes);

/* Gives the segments kept since `delay` ms before now (all if `everything`)
 * to the arena. One atomic load when none is due. */
void ta_huge_cache_purge_due(uint64_t now, bool everything);

/* The cache's lock, held across fork() (fork.c). */
void ta_huge_cache_lock(void);
void ta_huge_cache_unlock(void);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_HUGE_CACHE_H_ */
