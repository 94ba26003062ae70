/* A page's free lists: carving blocks out lazily, gathering the blocks freed
 * locally and remotely, and checking a suspected double free. */
#ifndef TINYALLOC_ALLOC_PAGE_H_
#define TINYALLOC_ALLOC_PAGE_H_

#include <stdbool.h>

#include "alloc/segment.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Blocks of a page that a bitmap can mark: a small page of the smallest
 * class. Pages of other kinds hold fewer blocks. */
#define TA_PAGE_MAX_BLOCKS ((size_t)1 << (TA_SMALL_PAGE_SHIFT - 4))

/* A set of a page's blocks, by index from its area. */
typedef struct ta_block_set {
  uint64_t bits[TA_PAGE_MAX_BLOCKS / 64];
} ta_block_set_t;

/* Adds the blocks of list (blocks of page) to set. */
void ta_block_set_add_list(ta_block_set_t *set, const ta_page_t *page, const ta_block_t *list);

static inline bool ta_block_set_has(const ta_block_set_t *set, size_t index) {
  return index < TA_PAGE_MAX_BLOCKS && ((set->bits[index / 64] >> (index % 64)) & 1);
}

/* Prepares a page just taken from its segment to serve class cls. */
void ta_page_init(ta_segment_t *segment, ta_page_t *page, unsigned cls);

/* Refills page->free (which must be empty) from the local and remote free
 * lists or, when both are empty, from the page's holes or by carving more
 * blocks. Returns whether page->free has a block. */
bool ta_page_refill(ta_page_t *page);

/* A block freed by the page's owner, already marked free. It goes onto
 * local_free, not free: so even a program that frees and allocates one size
 * forever runs `free` dry now and then and reaches the slow path, where
 * purging and the collection of remote frees happen, without a counter on
 * the fast paths (mimalloc's design). */
static inline void ta_page_push_free(ta_page_t *page, ta_block_t *block) {
  block->next = page->local_free;
  page->local_free = block;
}

/* A block of the page, already marked free, freed by its owner off the
 * fast path: onto local_free, one fewer in use. */
static inline void ta_page_free_local(ta_page_t *page, ta_block_t *block) {
  ta_page_push_free(page, block);
  page->used_word--;
}

/* Undoes ta_page_free_local for the block on top of local_free (the one just
 * freed), which it returns: counted in use again, on no list. */
static inline ta_block_t *ta_page_unfree_local(ta_page_t *page) {
  ta_block_t *block = page->local_free;
  page->local_free = block->next;
  page->used_word++;
  return block;
}

/* When free has run dry, makes local_free the free list: no walk, and no
 * look at remote_free, which sits on another cache line. Whether free now
 * has a block. */
static inline bool ta_page_take_local(ta_page_t *page) {
  if (page->free == NULL) {
    page->free = page->local_free;
    page->local_free = NULL;
  }
  return page->free != NULL;
}

/* Moves the page's local and remote frees onto free (empty or not), and
 * returns whether the page has no block in use left. */
bool ta_page_collect(ta_page_t *page);

/* Moves the remote frees of the page onto its free list. Returns how many. */
uint32_t ta_page_collect_remote(ta_page_t *page);

/* For a page about to be taken off its queue as full: refills it as ta_page_refill does,
 * or, when that finds nothing, watches its remote list (TA_REMOTE_WATCHED), so
 * that the next remote free hands its block to the owner heap instead, which
 * then knows the page has a block again without looking at every full page.
 * Returns whether page->free has a block (then the page is not watched). */
bool ta_page_refill_or_watch(ta_page_t *page);

/* For a page with no free and no local block, whose owner is about to take
 * it off its queue as full in favour of another page: when nothing is left
 * to carve and it has no holes, watches its remote list as
 * ta_page_refill_or_watch does and returns true. False, the page left as it
 * is: it has blocks to refill (carving, holes, remote frees), which the
 * allocation slow path takes. The cheap half of ta_page_refill_or_watch, for
 * the free path. */
bool ta_page_watch_if_spent(ta_page_t *page);

/* Takes the watch off a full page that its owner brings back to its queue
 * (a no-op on a page not watched): later remote frees go onto its list
 * again, not to the owner's remote_blocks. Owner only. */
void ta_page_unwatch(ta_page_t *page);

/* Whether the page has nothing to hand out without its owner's slow path:
 * no block to take, carve or collect, no holes. Reads only, for a guess:
 * blocks freed through other heaps may arrive at any time. */
bool ta_page_is_spent(const ta_page_t *page);

/* Where the page's granule 0 (see ta_page_t.holes) starts: its area rounded
 * down to a granule. */
static inline uintptr_t ta_page_hole_base(const ta_page_t *page) {
  return (uintptr_t)page->area & ~(((uintptr_t)1 << page->hole_shift) - 1);
}

/* The granules of the page that the block at addr overlaps. */
static inline uint64_t ta_page_granules_of(const ta_page_t *page, uintptr_t addr) {
  uintptr_t base = ta_page_hole_base(page);
  unsigned first = (unsigned)((addr - base) >> page->hole_shift);
  unsigned last = (unsigned)((addr + page->block_size - 1 - base) >> page->hole_shift);
  return (UINT64_MAX >> (63 - last)) & (UINT64_MAX << first);
}

/* Whether the block at addr lies in a hole, and so is free: a free of it
 * is a double free. Any thread. */
static inline bool ta_page_block_in_hole(const ta_page_t *page, const void *block) {
  uint64_t holes = atomic_load_explicit(&page->holes, memory_order_acquire);
  return holes != 0 && (holes & ta_page_granules_of(page, (uintptr_t)block)) != 0;
}

/* Purges the granules of the page that hold only free blocks (after
 * ta_page_collect, so that every free block is on page->free), leaving the
 * page in use: the owner's upkeep does this for pages that have been quiet.
 * Only pages that have no holes yet. `now`: ta_clock_ms, for the backoff of
 * a page whose holes are refilled soon (page_fill_holes). */
void ta_page_purge_holes(ta_page_t *page, uint64_t now);

/* Whether block sits on any of the page's free lists, or in a hole. Slow:
 * for the rare block whose free mark says it may already be free. */
bool ta_page_holds_free(ta_page_t *page, const ta_block_t *block);

/* Whether block is on the list that starts at list. */
bool ta_block_list_holds(const ta_block_t *list, const ta_block_t *block);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_PAGE_H_ */
