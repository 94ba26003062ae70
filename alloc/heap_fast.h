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
 * request (over-aligned, huge, invalid); a free the fast path did not settle
 * (heap may be NULL there: it is refused); what a free that empties a page,
 * or brings a full one back to its queue, does next. heap is not NULL but
 * where said. */
void *ta_heap_alloc_class_slow(ta_heap_t *heap, unsigned cls);
void *ta_heap_alloc_slow(ta_heap_t *heap, ta_layout_t layout);
/* A request of a class size whose class (cls) lacks the alignment: the next
 * class that has it, or ta_heap_alloc_slow. */
void *ta_heap_alloc_class_aligned(ta_heap_t *heap, unsigned cls, ta_layout_t layout);
void ta_heap_free_slow(ta_heap_t *heap, void *ptr, size_t size, size_t align);
void ta_heap_page_after_free(ta_heap_t *heap, ta_segment_t *segment, ta_page_t *page);
/* A free through a heap (or NULL) that does not own the block, which has
 * passed the map path's checks: the pointer is the start of a block of a
 * live page (a huge block's too), the layout fits it. */
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
    return ta_heap_alloc_class_aligned(heap, cls, layout);
  }
  return ta_heap_alloc_slow(heap, layout);
}

/* Whether align is a power of two that addr has (align 0 fails: addr is
 * not 0), as the layout of a block freed at addr must say. */
static inline bool ta_free_align_fits(uintptr_t addr, size_t align) {
  return ((align - 1) & (align | addr)) == 0;
}

/* Whether addr starts a block of the page that a layout of size fits: the
 * block test of every free path (the owner's fast path makes it with
 * ta_page_owned_block_fits, which reads the carved count plainly). Free
 * pages carve nothing, so it also rules them out; a huge block carves one
 * while its owner holds it. */
static inline bool ta_page_block_fits(const ta_page_t *page, uintptr_t addr, size_t size) {
  return ta_page_is_block_start(page, addr) && size <= page->block_size;
}

/* ta_page_block_fits for a page of the calling thread's heap. */
static inline bool ta_page_owned_block_fits(const ta_page_t *page, uintptr_t addr, size_t size) {
  return ta_page_is_owned_block_start(page, addr) && size <= page->block_size;
}

/* The rest of a free of a block start of the heap's own segment, with a
 * layout its page and alignment allow: if the mark shows no sign of a
 * double free, a push (a huge block's is undone by ta_heap_page_after_free,
 * which frees its segment); else the slow path, which checks everything. */
static inline void ta_heap_free_owned(ta_heap_t *heap, ta_segment_t *segment, ta_page_t *page,
                                      ta_block_t *block, size_t size, size_t align) {
  uintptr_t mark = heap->free_mark_secret ^ (uintptr_t)block; /* ta_block_free_mark(block) */
  if (TA_LIKELY(block->free_mark != mark)) {
    block->free_mark = mark;
    ta_page_push_free(page, block);
    if (TA_UNLIKELY(--page->used_word < 0)) { /* emptied, or flagged */
      ta_heap_page_after_free(heap, segment, page);
    }
    return;
  }
  ta_heap_free_slow(heap, block, size, align);
}

/* Frees on a path that finds the segment in the segment map (heap may be
 * NULL): the block start of a live page with a plausible layout goes to
 * ta_heap_free_owned if heap owns it (which hints the segment for the next
 * free) or to ta_heap_free_remote; anything else (NULL, foreign or
 * interior pointers, blocks aligned past a chunk) to the slow path. */
void ta_heap_free_mapped(ta_heap_t *heap, void *ptr, size_t size, size_t align);

/* The fast path of ta_heap_free on a heap that is not NULL: a block of one
 * of the heap's hinted segments (no map lookup, no owner test), freed at its
 * start with a plausible layout. Returns false, having done nothing, for
 * everything else, which the caller hands to the segment map path: its own
 * call (ta_free's takes the pointer alone), so that no argument is moved
 * into place for it before the fast path's tests. */
static inline bool ta_heap_free_hinted(ta_heap_t *heap, void *ptr, ta_layout_t layout) {
  uintptr_t addr = (uintptr_t)ptr;
  size_t size = layout.size;
  size_t align = layout.align;
  uintptr_t base = addr & ~(uintptr_t)TA_SEGMENT_MASK;
  if (TA_LIKELY(heap->own_segments[ta_heap_hint_slot(addr)] == base &&
                ta_free_align_fits(addr, align))) {
    ta_segment_t *segment = (ta_segment_t *)base;
    ta_page_t *page = ta_segment_page_at(segment, addr);
    if (TA_LIKELY(ta_page_owned_block_fits(page, addr, size))) {
      ta_heap_free_owned(heap, segment, page, (ta_block_t *)ptr, size, align);
      return true;
    }
  }
  return false;
}

/* ta_heap_free on a heap that is not NULL. */
static inline void ta_heap_free_inline(ta_heap_t *heap, void *ptr, ta_layout_t layout) {
  if (TA_LIKELY(ta_heap_free_hinted(heap, ptr, layout))) return;
  ta_heap_free_mapped(heap, ptr, layout.size, layout.align);
}

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_HEAP_FAST_H_ */
