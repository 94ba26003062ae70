/* Segment headers: initialising them, handing out and taking back their pages,
 * and finding the segment of any pointer safely. */
#include "alloc/segment.h"

#include <string.h>

#include "alloc/bitmap.h"
#include "alloc/os_memory.h"
#include "alloc/segment_map.h"
#include "tinyalloc/sysinfo.h"

_Static_assert(TA_SMALL_PAGE_SHIFT <= TA_PAGE_INDEX_SHIFT &&
                   TA_MEDIUM_PAGE_SHIFT <= TA_PAGE_INDEX_SHIFT,
               "ta_segment_page_at scales page offsets up, never down");

static size_t header_size_for(void) {
  size_t align = ta_sysinfo()->page_size;
  if (align < TA_SEGMENT_HEADER_ALIGN) align = TA_SEGMENT_HEADER_ALIGN;
  return (sizeof(ta_segment_t) + align - 1) & ~(align - 1);
}

size_t ta_page_area_size(const ta_segment_t *segment, const ta_page_t *page) {
  size_t index = (size_t)(page - segment->pages);
  size_t end = segment->page_count == 1 ? segment->size : (index + 1) << segment->page_shift;
  return (size_t)((uintptr_t)segment + end - (uintptr_t)page->area);
}

void ta_segment_init(ta_segment_t *segment, struct ta_heap *heap, ta_page_kind_t kind,
                     size_t size) {
  /* Only the fields before the page table need clearing: pages are set below. */
  memset(segment, 0, offsetof(ta_segment_t, pages));
  segment->cookie = ta_segment_cookie(segment);
  segment->heap = heap;
  segment->kind = kind;
  segment->size = size;
  segment->header_size = header_size_for();
  switch (kind) {
    case TA_PAGE_SMALL:
      segment->page_shift = TA_SMALL_PAGE_SHIFT;
      break;
    case TA_PAGE_MEDIUM:
      segment->page_shift = TA_MEDIUM_PAGE_SHIFT;
      break;
    default:
      segment->page_shift = TA_ONE_PAGE_SHIFT;
      break;
  }
  /* One page: every address finds pages[0] (mask 0, as cleared). */
  if (segment->page_shift < TA_ONE_PAGE_SHIFT) {
    segment->page_index_mask =
        (uint32_t)(TA_SEGMENT_MASK & ~(((size_t)1 << segment->page_shift) - 1));
    segment->page_index_scale = (uint64_t)sizeof(ta_page_t)
                                << (TA_PAGE_INDEX_SHIFT - segment->page_shift);
  }
  segment->page_count = (kind == TA_PAGE_SMALL || kind == TA_PAGE_MEDIUM)
                            ? (uint32_t)(TA_SEGMENT_SIZE >> segment->page_shift)
                            : 1u;
  segment->free_pages = (segment->page_count == 64) ? ~UINT64_C(0)
                                                    : ((UINT64_C(1) << segment->page_count) - 1);
  for (uint32_t i = 0; i < segment->page_count; i++) {
    ta_page_t *page = &segment->pages[i];
    memset(page, 0, sizeof(*page));
    atomic_init(&page->remote_free, 0);
    size_t start = segment->page_count == 1 ? 0 : (size_t)i << segment->page_shift;
    size_t end = segment->page_count == 1 ? size : (size_t)(i + 1) << segment->page_shift;
    /* The header takes the start of the segment: with large OS pages (a
     * 64 KiB header) it fills whole small pages, which are never handed out. */
    if (end <= segment->header_size) segment->free_pages &= ~(UINT64_C(1) << i);
    page->area = (uint8_t *)segment + (start > segment->header_size ? start : segment->header_size);
  }
  ta_segment_map_set((uintptr_t)segment, TA_CHUNK_SEGMENT);
}

static inline ta_page_t *take_page_at(ta_segment_t *segment, unsigned index) {
  uint64_t bit = UINT64_C(1) << index;
  segment->free_pages &= ~bit;
  segment->resident_free_pages &= ~bit;
  segment->pages_in_use++;
  ta_page_t *page = &segment->pages[index];
  page->in_use = true;
  return page;
}

/* Takes a purged free page: the segment has no other free page. Apart, so
 * that the usual take saves no register. */
static __attribute__((noinline)) ta_page_t *take_purged_page(ta_segment_t *segment) {
  unsigned index = (unsigned)__builtin_ctzll(segment->free_pages);
  segment->purged_free_pages &= ~(UINT64_C(1) << index);
  ta_mem_reuse_purged(ta_page_area_size(segment, &segment->pages[index]));
  return take_page_at(segment, index);
}

ta_page_t *ta_segment_take_page(ta_segment_t *segment) {
  if (__builtin_expect(ta_segment_next_take_is_purged(segment), 0)) {
    return take_purged_page(segment);
  }
  uint64_t warm = segment->free_pages & ~segment->purged_free_pages;
  return take_page_at(segment, (unsigned)__builtin_ctzll(warm));
}

void ta_segment_purge_free_pages(ta_segment_t *segment, uint64_t now) {
  uint64_t todo = segment->resident_free_pages & segment->free_pages;
  if (todo != 0) {
    segment->purged_at = now;
    segment->purge_answered = false;
  }
  while (todo != 0) {
    unsigned first;
    unsigned end;
    ta_word_lowest_run(todo, &first, &end);
    uint64_t run = ta_word_mask(first, end - first);
    ta_page_t *last = &segment->pages[end - 1];
    uint8_t *from = segment->pages[first].area;
    size_t bytes = (size_t)(last->area + ta_page_area_size(segment, last) - from);
    bool still_committed;
    if (ta_mem_purge(from, bytes, &still_committed) == TA_OK && still_committed) {
      segment->purged_free_pages |= run;
    }
    /* The kept free lists lived in that memory. */
    for (unsigned i = first; i < end; i++) segment->pages[i].kept_bytes = 0;
    todo &= ~run;
  }
  segment->resident_free_pages = 0;
}

size_t ta_segment_purged_free_bytes(const ta_segment_t *segment) {
  size_t bytes = 0;
  for (uint64_t bits = segment->purged_free_pages; bits != 0; bits &= bits - 1) {
    bytes += ta_page_area_size(segment, &segment->pages[__builtin_ctzll(bits)]);
  }
  return bytes;
}

bool ta_segment_return_page(ta_segment_t *segment, ta_page_t *page, uint64_t now) {
  unsigned index = (unsigned)(page - segment->pages);
  segment->pages_quiet_since = now;
  segment->resident_free_pages |= UINT64_C(1) << index;
  page->in_use = false;
  page->free_flags = 0;
  /* Its blocks, all free now, stay carved on its lists for the next take by
   * the same class (ta_page_init), unless holes broke the lists. Its carved
   * bytes read 0 meanwhile, so that no free finds a block start in it. */
  page->kept_bytes = atomic_load_explicit(&page->holes, memory_order_relaxed) == 0
                         ? ta_page_carved_bytes(page)
                         : 0;
  if (page->kept_bytes == 0) {
    page->free = NULL;
    page->local_free = NULL;
  }
  atomic_store_explicit(&page->holes, 0, memory_order_relaxed);
  ta_page_set_used(page, 0); /* free_flags is 0 since above */
  ta_page_set_carved_bytes(page, 0);
  atomic_store_explicit(&page->remote_free, 0, memory_order_relaxed);
  segment->free_pages |= UINT64_C(1) << index;
  segment->pages_in_use--;
  return segment->pages_in_use == 0;
}

void ta_segment_unmap(ta_segment_t *segment) {
  ta_segment_map_set((uintptr_t)segment, TA_CHUNK_NONE);
  if (segment->kind == TA_PAGE_HUGE) {
    uintptr_t block = (uintptr_t)segment->pages[0].area;
    if ((block & ~(uintptr_t)TA_SEGMENT_MASK) != (uintptr_t)segment) {
      ta_segment_map_set(block, TA_CHUNK_NONE);
    }
  }
}

ta_segment_t *ta_segment_lookup(const void *ptr) {
  uintptr_t addr = (uintptr_t)ptr;
  ta_segment_t *segment;
  switch (ta_segment_map_get(addr)) {
    case TA_CHUNK_SEGMENT:
      segment = ta_segment_of(ptr);
      break;
    case TA_CHUNK_AFTER_HEADER:
      segment = (ta_segment_t *)((addr & ~(uintptr_t)TA_SEGMENT_MASK) - TA_SEGMENT_SIZE);
      break;
    default:
      return NULL;
  }
  return segment->cookie == ta_segment_cookie(segment) ? segment : NULL;
}

/* The address ta_secret() mixes: any object of this library will do. */
const char ta_secret_anchor = 0;
