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

/* Refills page->free (which must be empty) from the remote free list or by
 * carving more blocks. Returns whether page->free has a block. */
bool ta_page_refill(ta_page_t *page);

/* A block freed by the page's owner, already marked free. One list, last in
 * first out: the next allocation of the class reuses the block while it is
 * still in cache. mimalloc keeps a separate local list to run its slow path
 * now and then; here remote frees are collected whenever `free` runs dry. */
static inline void ta_page_push_free(ta_page_t *page, ta_block_t *block) {
  block->next = page->free;
  page->free = block;
}

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
