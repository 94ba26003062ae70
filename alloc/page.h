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
 * lists or by carving more blocks. Returns whether page->free has a block. */
bool ta_page_refill(ta_page_t *page);

/* A block freed by the page's owner, already marked free. It joins local_free,
 * or `free` when that is empty: then a page that frees about as often as it
 * allocates (a page of a few big blocks, or a pair of alloc and free) keeps
 * allocating on the fast path instead of swapping lists every time. Remote
 * frees still get collected, whenever `free` runs dry. */
static inline void ta_page_push_local(ta_page_t *page, ta_block_t *block) {
  if (page->free != NULL) {
    block->next = page->local_free;
    page->local_free = block;
  } else {
    block->next = NULL;
    page->free = block;
  }
}

/* Moves the remote frees of the page into local_free. Returns how many. */
uint32_t ta_page_collect_remote(ta_page_t *page);

/* Whether block sits on any of the page's free lists. Slow: for the rare
 * block whose free mark says it may already be free. */
bool ta_page_holds_free(ta_page_t *page, const ta_block_t *block);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_PAGE_H_ */
