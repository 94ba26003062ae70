/* A page's free lists: carving blocks out lazily, gathering the blocks freed
 * locally and remotely, and checking a suspected double free. */
#ifndef TINYALLOC_ALLOC_PAGE_H_
#define TINYALLOC_ALLOC_PAGE_H_

#include <stdbool.h>

#include "alloc/segment.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Prepares a page just taken from its segment to serve class cls. */
void ta_page_init(ta_segment_t *segment, ta_page_t *page, unsigned cls);

/* Refills page->free (which must be empty) from the local and remote free
 * lists or, when both are empty, by carving more blocks. Returns whether
 * page->free has a block. */
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

/* For a page about to go on the full list: refills it as ta_page_refill does,
 * or, when that finds nothing, watches its remote list (TA_REMOTE_WATCHED), so
 * that the next remote free hands its block to the owner heap instead, which
 * then knows the page has a block again without scanning the full list.
 * Returns whether page->free has a block (then the page is not watched). */
bool ta_page_refill_or_watch(ta_page_t *page);

/* Whether block sits on any of the page's free lists. Slow: for the rare
 * block whose free mark says it may already be free. */
bool ta_page_holds_free(ta_page_t *page, const ta_block_t *block);

/* Whether block is on the list that starts at list. */
bool ta_block_list_holds(const ta_block_t *list, const ta_block_t *block);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_PAGE_H_ */
