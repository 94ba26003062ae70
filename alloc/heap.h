/* The heap: per-class page queues over segments it owns. Used by one thread
 * at a time; other heaps reach it only through the atomics of its pages
 * (remote frees) and remote_pending. */
#ifndef TINYALLOC_ALLOC_HEAP_H_
#define TINYALLOC_ALLOC_HEAP_H_

#include "alloc/atomic.h"

#include "alloc/list.h"
#include "alloc/segment.h"
#include "tinyalloc/tinyalloc.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ta_heap {
  /* The first page of each class queue, or an empty stand-in: the fast path
   * pops page->free without checking for NULL pages. */
  ta_page_t *direct[TA_CLASS_COUNT];
  ta_list_t queues[TA_CLASS_COUNT]; /* pages that may have free blocks */
  ta_list_t full;                   /* pages with none, and huge blocks */
  ta_list_t free_segments[2];       /* small and medium segments with free pages */
  ta_list_t segments;               /* every segment of the heap */
  _Atomic(size_t) remote_pending;   /* remote frees not yet looked for */
  ta_error_t last_error;
  uintptr_t free_mark_secret; /* ta_block_free_mark(NULL): saves the free path a multiply */
};

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_HEAP_H_ */
