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

/* Moves the remote frees of the page into local_free. Returns how many. */
uint32_t ta_page_collect_remote(ta_page_t *page);

/* Whether block sits on any of the page's free lists. Slow: for the rare
 * block whose free mark says it may already be free. */
bool ta_page_holds_free(ta_page_t *page, const ta_block_t *block);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_PAGE_H_ */
