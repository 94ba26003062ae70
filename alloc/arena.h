/* Arenas: the process-wide supply of segments, shared by every heap.
 *
 * Address space is reserved in regions that grow exponentially; a region is a
 * run of segment-sized slots tracked by atomic bitmaps, so heaps on different
 * threads take and return slots without a lock. One thread at a time adds a
 * region (the others wait for it: off every per-block path), and a region
 * is added only when no free run of slots fits. Returned slots stay committed
 * for TA_OPTION_PURGE_DELAY_MS (so that churn, and a heap destroyed and made
 * again, do not thrash the OS), up to TA_OPTION_RETAIN_BYTES of them, and
 * are purged by the next ta_arena_purge_due after that (decommitted where
 * the mapper cannot purge). Regions stay
 * reserved (address space only, once purged) until ta_arena_trim releases
 * those no heap uses. */
#ifndef TINYALLOC_ALLOC_ARENA_H_
#define TINYALLOC_ALLOC_ARENA_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tinyalloc/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where a run of slots lives, to give it back. */
typedef struct ta_arena_span {
  int region;
  size_t slot;
  size_t slots;
} ta_arena_span_t;

/* What ta_arena_take returns when every region is in use (and the OS was not
 * asked): the caller maps the memory directly instead, so the arena's size is
 * no cap on the heap's. Never leaves the core. */
#define TA_ARENA_FULL ((ta_error_t)(TA_ERR_INVALID_ARGUMENT + 100))

/* Takes `slots` contiguous segment slots, committed and aligned to the segment
 * size. On failure returns the error, or TA_ARENA_FULL (and *out is NULL).
 * Thread-safe. */
ta_error_t ta_arena_take(size_t slots, void **out, ta_arena_span_t *span);

/* How slots come back (ta_arena_give). */
typedef enum ta_give {
  TA_GIVE_KEEP,   /* kept committed for the purge delay, if the budget allows */
  TA_GIVE_PURGE,  /* free for the whole purge delay already: purged at once */
  TA_GIVE_PARTLY_DECOMMITTED, /* the caller decommitted part: decommitted */
} ta_give_t;

/* Gives slots back. Kept ones stay committed for the purge delay, unless the
 * delay is zero or the retention budget is full: then their memory goes back
 * to the OS at once. Then purges what is due. Memory goes back purged where
 * the mapper can (still committed: the next take needs no commit), else
 * decommitted. Slots partly decommitted are decommitted and never kept as
 * committed, even if the OS refuses the decommit. */
void ta_arena_give(ta_arena_span_t span, ta_give_t how);

/* TA_GIVE_KEEP for slots that were free already, kept elsewhere since
 * `since` (ta_clock_ms; the huge cache): their purge delay counts from then,
 * not from now. */
void ta_arena_give_free_since(ta_arena_span_t span, uint64_t since);

/* Counts `slots` kept committed outside the arena (the huge cache) against
 * the retention budget: false, and nothing counted, if they do not fit. */
bool ta_arena_retain_reserve(size_t slots);
/* Whether `slots` would fit the budget if nothing else were retained. */
bool ta_arena_retain_fits(size_t slots);
void ta_arena_retain_unreserve(size_t slots);

/* Purges the free slots whose purge delay has passed at `now` (a
 * ta_clock_ms() time). One atomic load when none is due. Thread-safe. */
void ta_arena_purge_due(uint64_t now);

/* Whether any free slot is retained (committed and not purged): whether ta_arena_purge_due may
 * have work, now or later. One atomic load. */
bool ta_arena_purge_pending(void);

/* Around fork() (fork.c): no region is being added at the fork, and the
 * child does not wait for purges of threads it does not have. */
void ta_arena_fork_prepare(void);
void ta_arena_fork_parent(void);
void ta_arena_fork_child(void);

/* Purges every retained slot and releases every region with no slot taken. */
void ta_arena_trim(void);

/* Statistics: slots retained, taken and committed now, regions reserved. */
typedef struct ta_arena_stats_s {
  size_t slots_retained; /* free, committed and not purged */
  size_t slots_taken;
  size_t slots_committed; /* not counting those purged but still committed */
  size_t regions;
  size_t bytes_reserved;
} ta_arena_stats_t;
void ta_arena_stats(ta_arena_stats_t *out);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_ARENA_H_ */
