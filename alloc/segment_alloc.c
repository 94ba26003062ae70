/* Segment supply. Huge blocks of up to TA_HUGE_ARENA_MAX_SLOTS segments with
 * an alignment below a segment come from the arena, where freed ones stay
 * committed for reuse until the arena purges them; bigger or more aligned
 * ones are mapped directly, and freeing them returns them to the OS at once. */
#include "alloc/segment_alloc.h"

#include "alloc/arena.h"
#include "alloc/atomic.h"
#include "alloc/huge_cache.h"
#include "alloc/layout.h"
#include "alloc/os_memory.h"
#include "alloc/remote_huge.h"
#include "alloc/segment_map.h"
#include "tinyalloc/clock.h"
#include "tinyalloc/mapper.h"
#include "tinyalloc/sysinfo.h"

#define TA_HUGE_ARENA_MAX_SLOTS 8 /* 32 MiB */

/* Segments held by heaps, by kind, and their bytes, with those in the huge
 * cache's fronts: statistics. */
static TA_ATOMIC(size_t) held[TA_PAGE_KIND_COUNT];
static TA_ATOMIC(size_t) held_bytes;

static void segment_hold(const ta_segment_t *segment) {
  atomic_fetch_add_explicit(&held[segment->kind], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&held_bytes, segment->size, memory_order_relaxed);
}

static void segment_list(ta_heap_t *heap, ta_segment_t *segment) {
  ta_list_push_back(&heap->segments, &segment->heap_node);
  segment_hold(segment);
}

void ta_segment_unhold(ta_segment_t *segment) {
  atomic_fetch_sub_explicit(&held[segment->kind], 1, memory_order_relaxed);
  atomic_fetch_sub_explicit(&held_bytes, segment->size, memory_order_relaxed);
}

/* The counters count the huge cache's fronts too (see ta_segment_free):
 * those are left out here. */
size_t ta_segments_held(ta_page_kind_t kind) {
  size_t n = atomic_load_explicit(&held[kind], memory_order_relaxed);
  if (kind != TA_PAGE_HUGE) return n;
  size_t kept;
  size_t kept_bytes;
  ta_huge_cache_front_totals(&kept, &kept_bytes);
  return n >= kept ? n - kept : 0; /* read apart while others run */
}

size_t ta_segment_bytes_held(void) {
  size_t bytes = atomic_load_explicit(&held_bytes, memory_order_relaxed);
  size_t kept;
  size_t kept_bytes;
  ta_huge_cache_front_totals(&kept, &kept_bytes);
  return bytes >= kept_bytes ? bytes - kept_bytes : 0;
}

/* Reserves `total` bytes aligned to a segment and commits the first
 * `commit` of them. */
static ta_error_t direct_map(size_t total, size_t commit, uint8_t **out) {
  uint8_t *base = NULL;
  ta_error_t err = ta_segment_map_reserve(total, TA_SEGMENT_SIZE, (void **)&base);
  if (err != TA_OK) return err;
  err = ta_mem_commit(base, commit);
  if (err != TA_OK) {
    ta_mem_release(base, total, 0);
    return err;
  }
  *out = base;
  return TA_OK;
}

static ta_segment_source_t direct_source(void *base, size_t size, size_t committed) {
  ta_segment_source_t source = {.direct = true};
  source.u.mapping.base = base;
  source.u.mapping.size = size;
  source.u.mapping.committed = committed;
  return source;
}

static ta_segment_source_t arena_source(ta_arena_span_t span) {
  ta_segment_source_t source = {.direct = false};
  source.u.span = span;
  return source;
}

ta_segment_t *ta_segment_alloc(ta_heap_t *heap, ta_page_kind_t kind, ta_error_t *err) {
  void *mem;
  ta_arena_span_t span;
  ta_segment_source_t source;
  *err = ta_arena_take(1, &mem, &span);
  if (*err == TA_OK) {
    source = arena_source(span);
  } else if (*err == TA_ARENA_FULL) {
    /* Every region in use: a segment of its own, released when it is freed. */
    *err = direct_map(TA_SEGMENT_SIZE, TA_SEGMENT_SIZE, (uint8_t **)&mem);
    source = direct_source(mem, TA_SEGMENT_SIZE, TA_SEGMENT_SIZE);
  }
  if (*err != TA_OK) return NULL;
  ta_segment_t *segment = (ta_segment_t *)mem;
  ta_segment_init(segment, heap, kind, TA_SEGMENT_SIZE);
  segment->source = source;
  segment_list(heap, segment);
  return segment;
}

/* Where a huge block goes: its segment, where the block starts in it, how
 * many bytes from the segment start are committed, and where the memory
 * came from. */
typedef struct huge_placement {
  ta_segment_t *segment;
  uint8_t *block;
  size_t committed_end;
  ta_segment_source_t source;
} huge_placement_t;

/* Bytes a huge segment's header takes before the block (page: the OS page
 * size, as below). */
static size_t huge_header_size(size_t page) {
  return ta_align_up(sizeof(ta_segment_t),
                     TA_SEGMENT_HEADER_ALIGN > page ? TA_SEGMENT_HEADER_ALIGN : page);
}

/* The bytes a huge block of `size` takes: whole OS pages, one at least.
 * False if that overflows. */
static bool huge_block_size(size_t size, size_t page, size_t *out) {
  *out = size == 0 ? page : ta_align_up(size, page);
  return *out >= size;
}

/* For a huge block aligned below a segment: where it starts in its segment
 * (after the header) and the segment's bytes. False if that overflows. */
static bool huge_in_segment(size_t block_size, size_t align, size_t page, size_t *block_off,
                            size_t *total) {
  *block_off = ta_align_up(huge_header_size(page), align);
  *total = ta_align_up(*block_off + block_size, TA_SEGMENT_SIZE);
  return *total >= block_size;
}

static ta_error_t huge_map(size_t size, size_t align, huge_placement_t *out) {
  size_t page = ta_sysinfo()->page_size;
  size_t block_size;
  if (!huge_block_size(size, page, &block_size)) return TA_ERR_OUT_OF_MEMORY;
  uint8_t *base = NULL;
  if (align < TA_SEGMENT_SIZE) {
    size_t block_off;
    size_t total;
    if (!huge_in_segment(block_size, align, page, &block_off, &total)) {
      return TA_ERR_OUT_OF_MEMORY;
    }
    size_t slots = total / TA_SEGMENT_SIZE;
    ta_arena_span_t span;
    ta_error_t err = slots <= TA_HUGE_ARENA_MAX_SLOTS ? ta_arena_take(slots, (void **)&base, &span)
                                                      : TA_ARENA_FULL;
    if (err == TA_OK) {
      out->committed_end = total;
      out->source = arena_source(span);
    } else if (err == TA_ARENA_FULL) {
      out->committed_end = block_off + block_size;
      err = direct_map(total, out->committed_end, &base);
      if (err != TA_OK) return err;
      out->source = direct_source(base, total, out->committed_end);
    } else {
      return err;
    }
    out->segment = (ta_segment_t *)(void *)base;
    out->block = base + block_off;
    return TA_OK;
  }
  /* align >= a segment: the block starts on an align boundary and its header
   * takes the segment just below it. */
  size_t header = huge_header_size(page);
  size_t total = align + ta_align_up(block_size, TA_SEGMENT_SIZE);
  if (total < align) return TA_ERR_OUT_OF_MEMORY;
  ta_error_t err = ta_segment_map_reserve(total, align, (void **)&base);
  if (err != TA_OK) return err;
  uint8_t *segment = base + align - TA_SEGMENT_SIZE;
  err = ta_mem_commit(segment, header);
  if (err != TA_OK) {
    ta_mem_release(base, total, 0);
    return err;
  }
  err = ta_mem_commit(base + align, block_size);
  if (err != TA_OK) {
    ta_mem_release(base, total, header);
    return err;
  }
  out->source = direct_source(base, total, header + block_size);
  out->segment = (ta_segment_t *)(void *)segment;
  out->block = base + align;
  out->committed_end = TA_SEGMENT_SIZE + block_size;
  return TA_OK;
}

/* A segment of the huge cache that fits the block, or NULL; *from_front: it
 * comes from the heap's front, still counted as held. */
static ta_segment_t *huge_cached(ta_heap_t *heap, size_t size, size_t align, bool *from_front) {
  size_t block_size;
  size_t block_off;
  size_t total;
  *from_front = false;
  size_t page = ta_sysinfo()->page_size;
  if (align >= TA_SEGMENT_SIZE || !huge_block_size(size, page, &block_size) ||
      !huge_in_segment(block_size, align, page, &block_off, &total)) {
    return NULL;
  }
  ta_segment_t *segment = ta_huge_cache_take_front(heap->huge_front, total, block_off, block_size);
  if (segment != NULL) {
    *from_front = true;
    return segment;
  }
  return ta_huge_cache_take(heap->huge_front, total, block_off, block_size);
}

/* A new segment for a huge block the cache has none for, its page 0 taken
 * and its block placed. Out of line: a block from the cache pays for none
 * of this. */
static __attribute__((noinline)) ta_segment_t *huge_fresh(ta_heap_t *heap, size_t size,
                                                          size_t align, ta_error_t *err) {
  huge_placement_t at;
  *err = huge_map(size, align, &at);
  if (*err != TA_OK) return NULL;
  ta_segment_t *segment = at.segment;
  ta_segment_init(segment, heap, TA_PAGE_HUGE, ta_align_up(at.committed_end, TA_SEGMENT_SIZE));
  segment->source = at.source;
  segment->huge_size = (size_t)(((uint8_t *)segment + at.committed_end) - at.block);
  ta_page_t *page = ta_segment_take_page(segment);
  page->area = at.block;
  /* The one block passes the fast free path's block test while it is live
   * (one block of size 1 carved: only offset 0 is a block start), and the
   * layout's size is checked against its usable size (ta_huge_set_usable
   * sets block_size to it). */
  ta_page_set_block_size(page, 1);
  if (((uintptr_t)at.block & ~(uintptr_t)TA_SEGMENT_MASK) != (uintptr_t)segment) {
    ta_segment_map_set((uintptr_t)at.block, TA_CHUNK_AFTER_HEADER);
  }
  return segment;
}

void *ta_huge_alloc(ta_heap_t *heap, size_t size, size_t align, ta_error_t *err) {
  bool from_front;
  ta_segment_t *segment = huge_cached(heap, size, align, &from_front);
  if (segment != NULL) {
    segment->heap = heap;
    segment->pages[0].in_use = true;
  } else {
    segment = huge_fresh(heap, size, align, err);
    if (segment == NULL) return NULL;
  }
  ta_page_t *page = &segment->pages[0]; /* a huge segment's only page */
  ta_huge_set_usable(segment, size);
  page->free_flags = 0;
  ta_page_set_used(page, 1);
  ta_page_flags_set(page, TA_PAGE_FULL);
  /* A remote free of the block goes to the heap's remote_blocks. */
  atomic_store_explicit(&page->remote_free, TA_REMOTE_WATCHED, memory_order_relaxed);
  ((ta_block_t *)(void *)page->area)->free_mark = 0; /* the slot may hold an old mark */
  ta_page_set_carved_bytes(page, 1);
  if (from_front) {
    ta_list_push_back(&heap->segments, &segment->heap_node); /* still counted as held */
  } else {
    segment_list(heap, segment);
  }
  return page->area;
}

void ta_huge_set_usable(ta_segment_t *segment, size_t size) {
  /* Never 0, which says "not a live block" (a size-0 request with an
   * alignment past every class's comes here). */
  size_t usable = ta_align_up(size != 0 ? size : 1, ta_sysinfo()->page_size);
  /* Also what the free paths check a layout's size against
   * (ta_page_block_fits). */
  segment->pages[0].block_size = usable < segment->huge_size ? usable : segment->huge_size;
}

void ta_segment_free(ta_heap_t *heap, ta_segment_t *segment) {
  ta_heap_forget_segment(heap, segment);
  bool cacheable = false;
  if (segment->kind == TA_PAGE_HUGE) {
    ta_page_set_carved_bytes(&segment->pages[0], 0); /* a free of the block now is refused */
    ta_remote_huge_remove(segment);
    /* Whole and laid out as a fresh one would be: not given back in part
     * by a remote free, block in the first chunk. */
    cacheable = !segment->huge_given_back && ((uintptr_t)segment->pages[0].area &
                                              ~(uintptr_t)TA_SEGMENT_MASK) == (uintptr_t)segment;
  }
  ta_list_remove(&heap->segments, &segment->heap_node);
  if (cacheable) {
    segment->pages[0].in_use = false; /* a free of the block now is refused */
    /* Stays in the held counters there (the statistics leave fronts out),
     * so the heap's next huge block of its size takes it back with no
     * atomic but the front's exchange and the retention count. */
    if (ta_huge_cache_put_front(&heap->huge_front, segment)) return;
    /* Refused, maybe for the retention cap, held by free memory whose delay
     * has passed but that no slow path has purged yet (a program that only
     * allocates and frees huge blocks takes none): every huge block was
     * then unmapped and mapped again, 20 us a pair after a big heap's
     * destroy. Purge what is due and try once more: a clock read on a path
     * that otherwise unmaps. */
    ta_purge_due(ta_clock_ms());
    if (ta_huge_cache_put_front(&heap->huge_front, segment)) return;
  }
  ta_segment_unhold(segment);
  if (segment->in_free_list) {
    ta_list_remove(&heap->free_segments[segment->kind], &segment->free_node);
    segment->in_free_list = false;
  }
  if (cacheable && ta_huge_cache_put(segment)) return;
  ta_segment_release(segment, ta_clock_ms());
}

void ta_purge_due(uint64_t now) {
  ta_remote_huge_purge_due(now, false);
  ta_huge_cache_purge_due(now, false);
  ta_arena_purge_due(now);
}

void ta_segment_release(ta_segment_t *segment, uint64_t free_since) {
  /* Whole again for the books: the arena purges or releases it whole. */
  if (segment->purged_free_pages != 0) ta_mem_reuse_purged(ta_segment_purged_free_bytes(segment));
  ta_segment_source_t source = segment->source;
  bool decommitted = segment->huge_decommitted;
  ta_segment_unmap(segment);
  segment->cookie = 0;
  if (source.direct) {
    ta_mem_release(source.u.mapping.base, source.u.mapping.size, source.u.mapping.committed);
  } else if (decommitted) {
    ta_arena_give(source.u.span, TA_GIVE_PARTLY_DECOMMITTED);
  } else {
    ta_arena_give_free_since(source.u.span, free_since);
  }
}

void ta_segment_purge_huge(ta_segment_t *segment, uint8_t *from) {
  size_t bytes = (size_t)(segment->pages[0].area + segment->huge_size - from);
  segment->huge_given_back = true;
  if (segment->source.direct) {
    bool still_committed;
    /* Counted purged either way: no longer in the mapping's committed bytes. */
    if (ta_mem_purge(from, bytes, &still_committed) == TA_OK) {
      segment->source.u.mapping.committed -= bytes;
    }
    return;
  }
  /* Arena slots: the arena counts them committed until they come back and
   * are purged whole. Purged pages stay usable; decommitted ones make the
   * arena decommit the whole run again (huge_decommitted). */
  if (ta_os_can_purge()) {
    (void)ta_os_purge(from, bytes);
  } else if (ta_os_decommit(from, bytes) == TA_OK) {
    segment->huge_decommitted = true;
  }
}
