/* Huge segments freed a moment ago, kept whole (set up, in the segment map,
 * committed) for the next huge block of the same size from any heap: a
 * program that allocates and frees big buffers in a loop then pays no arena
 * search, no segment set-up and no system call. What the cache holds counts
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

/* Keeps a huge segment its heap no longer lists (its block freed). False,
 * and nothing kept, when the purge delay is 0 or the retention budget is
 * full. */
bool ta_huge_cache_put(ta_segment_t *segment);

/* Takes a kept segment of `size` bytes whose block starts `block_offset`
 * bytes in and holds at least `block_size` bytes. If there is none, gives
 * every kept segment to the arena (whose slots blocks of any size can use)
 * and returns NULL. */
ta_segment_t *ta_huge_cache_take(size_t size, size_t block_offset, size_t block_size);

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
