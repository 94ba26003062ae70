/* The fast paths of allocation and free, inline wherever the heap is at hand
 * (ta_heap_alloc and ta_heap_free in heap.c, ta_malloc and ta_free in
 * malloc.c), so that a call from the malloc layer is one function, not
 * three. Everything else is out of line in heap.c. */
#ifndef TINYALLOC_ALLOC_HEAP_FAST_H_
#define TINYALLOC_ALLOC_HEAP_FAST_H_

#include <stdint.h>

#include "alloc/heap.h"
#include "alloc/page.h"
#include "alloc/segment.h"
#include "alloc/segment_map.h"
#include "alloc/size_class.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define TA_LIKELY(x) __builtin_expect(!!(x), 1)
#define TA_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define TA_NOINLINE __attribute__((noinline))
#else
#define TA_LIKELY(x) (x)
#define TA_UNLIKELY(x) (x)
#define TA_NOINLINE
#endif

/* The slow paths (heap.c): a class whose first page has run dry; any other
 * request (over-aligned, huge, invalid); a free the fast path did not settle;
 * what a free that empties a page, or brings a full one back to its queue,
 * does next. heap is not NULL. */
void *ta_heap_alloc_class_slow(ta_heap_t *heap, unsigned cls);
void *ta_heap_alloc_slow(ta_heap_t *heap, ta_layout_t layout);
void ta_heap_free_slow(ta_heap_t *heap, void *ptr, ta_layout_t layout);
void ta_heap_page_after_free(ta_heap_t *heap, ta_segment_t *segment, ta_page_t *page);
/* A free through a heap (or NULL) that does not own the block, which has
 * passed the fast path's checks: the pointer is a block start of a live
 * small/medium/large page, the layout fits it. */
void ta_heap_free_remote(ta_heap_t *heap, ta_segment_t *segment, ta_block_t *block);

static inline void *ta_heap_page_pop(ta_page_t *page) {
  ta_block_t *block = page->free;
  page->free = block->next;
  block->free_mark = 0;
  page->used_word++;
  return block;
}

/* A block of class cls: the first page of its queue has one, or the slow path
 * finds one. */
static inline void *ta_heap_alloc_class(ta_heap_t *heap, unsigned cls) {
  ta_page_t *page = heap->direct[cls];
  if (TA_LIKELY(page->free != NULL)) return ta_heap_page_pop(page);
  return ta_heap_alloc_class_slow(heap, cls);
}

/* ta_heap_alloc on a heap that is not NULL. */
static inline void *ta_heap_alloc_inline(ta_heap_t *heap, ta_layout_t layout) {
  /* Small, with an alignment every class has: the page straight from the
   * size, no class lookup. */
  if (TA_LIKELY(layout.size <= TA_CLASS8_MAX && ta_align_is_basic(layout.align))) {
    size_t slot = (layout.size + 7) / 8;
    ta_page_t *page = heap->direct8[slot];
    if (TA_LIKELY(page->free != NULL)) return ta_heap_page_pop(page);
    return ta_heap_alloc_class_slow(heap, ta_small_class_lookup[slot]);
  }
  /* A class size whose blocks all have the alignment. */
  if (TA_LIKELY(layout.size <= TA_CLASS_MAX_SIZE)) {
    unsigned cls = ta_size_to_class(layout.size);
    if (TA_LIKELY(ta_align_is_basic(layout.align) || ta_class_has_align(cls, layout.align))) {
      return ta_heap_alloc_class(heap, cls);
    }
  }
  return ta_heap_alloc_slow(heap, layout);
}

/* ta_heap_free (a NULL heap takes the remote branch: a live segment always
 * has a heap, so the owner test fails before heap is read). The fast path: a
 * block freed at its start with a plausible layout; then, if this heap owns
 * it and its mark shows no sign of a double free, a push, and if another
 * heap owns it, the remote free, without checking all that again (a huge
 * block's push is undone by ta_heap_page_after_free, which frees its
 * segment). Anything else (NULL, foreign or interior pointers, blocks
 * aligned past a chunk, suspected double frees) goes to the slow path,
 * which checks everything. */
static inline void ta_heap_free_inline(ta_heap_t *heap, void *ptr, ta_layout_t layout) {
  uintptr_t addr = (uintptr_t)ptr;
  size_t align = layout.align;
  /* align is a power of two that addr has (align 0 fails: addr is not 0). */
  if (TA_LIKELY(ta_segment_map_is_segment_wrapped(addr) && ((align - 1) & (align | addr)) == 0)) {
    ta_segment_t *segment = ta_segment_of_wrapped(addr);
    ta_page_t *page = ta_segment_page_at(segment, addr);
    ta_block_t *block = (ta_block_t *)ptr;
    /* The map marks only live segments, whose header needs no cookie check
     * here. Free pages carve no bytes, so the block test also rules them
     * out; a huge block carves one while its owner holds it. */
    if (TA_LIKELY(ta_page_is_block_start(page, addr) && layout.size <= page->block_size)) {
      /* heap is read only once the owner test has passed (it may be NULL). */
      if (TA_LIKELY(segment->heap == heap && block->free_mark != (heap->free_mark_secret ^ addr))) {
        block->free_mark = heap->free_mark_secret ^ addr; /* ta_block_free_mark(block) */
        ta_page_push_free(page, block);
        if (TA_UNLIKELY(--page->used_word < 0)) { /* emptied, or flagged */
          ta_heap_page_after_free(heap, segment, page);
        }
        return;
      }
      if (segment->heap != heap) {
        /* Finds the page again: passing it would cost the local path three
         * instructions to keep its address in a register. */
        ta_heap_free_remote(heap, segment, block);
        return;
      }
    }
  }
  ta_heap_free_slow(heap, ptr, layout);
}

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_HEAP_FAST_H_ */
