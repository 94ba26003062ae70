/* Free lists of a page. Blocks are carved out a few OS pages at a time, so a
 * fresh page touches (and so commits) only what it serves; OS pages that
 * come to hold only free blocks while the page stays in use can be purged
 * (holes) and are carved again once the page runs dry. */
#include "alloc/page.h"

#include "alloc/bitmap.h"
#include "alloc/options.h"
#include "alloc/os_memory.h"
#include "tinyalloc/clock.h"
#include "tinyalloc/mapper.h"
#include "tinyalloc/sysinfo.h"

void ta_block_set_add_list(ta_block_set_t *set, const ta_page_t *page, const ta_block_t *list) {
  for (; list != NULL; list = list->next) {
    size_t index = (size_t)((const uint8_t *)list - page->area) / page->block_size;
    if (index < TA_PAGE_MAX_BLOCKS) set->bits[index / 64] |= UINT64_C(1) << (index % 64);
  }
}

/* The granule shift for holes in pages of the segment: OS pages, at least
 * 1/64 of a page (one bit each in ta_page_t.holes). 0, no holes: where the
 * mapper cannot purge (a decommit would need a commit before each block's
 * reuse), one-page segments (a few big blocks: the page goes back whole
 * soon enough), or granules as big as the page. */
static uint8_t hole_shift_for(const ta_segment_t *segment) {
  if (segment->page_count <= 1 || !ta_os_can_purge()) return 0;
  unsigned shift = (unsigned)__builtin_ctzll(ta_sysinfo()->page_size);
  if (shift + 6 < segment->page_shift) shift = segment->page_shift - 6;
  return shift < segment->page_shift ? (uint8_t)shift : 0;
}

_Static_assert(TA_CLASS_MAX_SIZE < ((size_t)1 << TA_BLOCK_INDEX_ROTATION),
               "every class size's power of two is within the block index's rotation");

void ta_page_set_block_size(ta_page_t *page, uint32_t block_size) {
  page->block_size = block_size;
  unsigned shift = (unsigned)__builtin_ctz(block_size);
  uint64_t odd = block_size >> shift;
  /* Newton's iteration: odd is its own inverse modulo 8, and each step
   * doubles the bits that are right (3, 6, 12, 24, 48, 96). */
  uint64_t inverse = odd;
  for (int i = 0; i < 5; i++) inverse *= 2 - odd * inverse;
  page->block_multiplier = inverse << (TA_BLOCK_INDEX_ROTATION - shift);
}

void ta_page_init(ta_segment_t *segment, ta_page_t *page, unsigned cls) {
  page->free_flags = 0;
  page->holes_looked = false;
  page->quiet_used = UINT32_MAX;
  ta_page_set_used(page, 0);
  atomic_store_explicit(&page->remote_free, 0, memory_order_relaxed);
  atomic_store_explicit(&page->holes, 0, memory_order_relaxed);
  uint32_t kept = page->kept_bytes;
  page->kept_bytes = 0;
  if (kept != 0 && page->size_class == cls) {
    /* Its last use was this class: its blocks are carved and free already,
     * no need to carve them again (a program that fills and empties pages
     * in turn would otherwise carve each page every time). */
    ta_page_set_carved_bytes(page, kept);
    return;
  }
  size_t block_size = ta_class_size(cls);
  page->size_class = (uint8_t)cls;
  ta_page_set_block_size(page, (uint32_t)block_size);
  page->carve_limit = (uint32_t)(ta_page_area_size(segment, page) / block_size * block_size);
  ta_page_set_carved_bytes(page, 0);
  page->free = NULL;
  page->local_free = NULL;
  page->hole_shift = hole_shift_for(segment);
}

/* Blocks carved at least per extension: for classes of a page and more, one
 * at a time would send every allocation to the slow path until the page is
 * carved. Carving writes a block's first two words, so each costs one OS page
 * committed at most. */
#define TA_MIN_CARVE 4

/* Carves the next blocks, enough to fill about one OS page (at least
 * TA_MIN_CARVE). */
static void page_extend(ta_page_t *page) {
  size_t bsize = page->block_size;
  size_t count = ta_sysinfo()->page_size / bsize;
  if (count < TA_MIN_CARVE) count = TA_MIN_CARVE;
  uint32_t carved = ta_page_carved_bytes(page);
  size_t left = (page->carve_limit - carved) / bsize;
  if (count > left) count = left;
  uint8_t *first = page->area + carved;
  ta_block_t *prev = NULL;
  for (size_t i = count; i-- > 0;) {
    ta_block_t *block = (ta_block_t *)(void *)(first + i * bsize);
    block->next = prev;
    block->free_mark = ta_block_free_mark(block);
    prev = block;
  }
  page->free = prev;
  ta_page_set_carved_bytes(page, carved + (uint32_t)(count * bsize));
}

uint32_t ta_page_collect_remote(ta_page_t *page) {
  if (atomic_load_explicit(&page->remote_free, memory_order_relaxed) <= TA_REMOTE_WATCHED) {
    return 0;
  }
  /* Leaves remote_free empty: a page being refilled is in its class queue,
   * so not watched. */
  ta_block_t *list =
      ta_remote_list(atomic_exchange_explicit(&page->remote_free, 0, memory_order_acquire));
  uint32_t count = 0;
  while (list != NULL) {
    ta_block_t *next = list->next;
    list->next = page->free;
    page->free = list;
    list = next;
    count++;
  }
  page->used_word -= (int32_t)count;
  return count;
}

/* Appends list to the front of page->free. */
static void page_prepend_free(ta_page_t *page, ta_block_t *list) {
  if (page->free == NULL) {
    page->free = list;
    return;
  }
  ta_block_t *tail = list;
  while (tail->next != NULL) tail = tail->next;
  tail->next = page->free;
  page->free = list;
}

bool ta_page_collect(ta_page_t *page) {
  if (page->local_free != NULL) {
    page_prepend_free(page, page->local_free);
    page->local_free = NULL;
  }
  ta_page_collect_remote(page);
  return ta_page_used(page) == 0;
}

/* ---- holes ---- */

/* Pushes onto page->free, in address order, the blocks that overlap
 * `granules` and no granule of `keep_out`. Each is claimed with a
 * compare-and-swap of its free mark from 0, as a free through another heap
 * claims a block: such a free of a block in a hole (a double free) that
 * raced the purge, and so claimed it, wins it; the block then counts as in
 * use, so that the push that free makes, if it makes one, balances. */
static void push_blocks_of(ta_page_t *page, uint64_t granules, uint64_t keep_out) {
  size_t bsize = page->block_size;
  uintptr_t area = (uintptr_t)page->area;
  uintptr_t base = ta_page_hole_base(page);
  uintptr_t lo = base + ((uintptr_t)__builtin_ctzll(granules) << page->hole_shift);
  uintptr_t hi = base + ((uintptr_t)(64 - __builtin_clzll(granules)) << page->hole_shift);
  size_t first = lo > area ? (lo - area) / bsize : 0;
  size_t end = (hi - area + bsize - 1) / bsize;
  size_t carved = ta_page_carved_bytes(page) / bsize;
  if (end > carved) end = carved;
  for (size_t i = end; i-- > first;) {
    uintptr_t addr = area + i * bsize;
    uint64_t mine = ta_page_granules_of(page, addr);
    if ((mine & granules) == 0 || (mine & keep_out) != 0) continue;
    ta_block_t *block = (ta_block_t *)addr;
    uintptr_t zero = 0;
    if (!__atomic_compare_exchange_n(&block->free_mark, &zero, ta_block_free_mark(block), false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
      page->used_word++;
      continue;
    }
    block->next = page->free;
    page->free = block;
  }
}

/* Makes the page's hole blocks free blocks again (their memory faults back
 * in as they are written). Whether page->free has a block (none only if
 * double frees claimed them all). */
static bool page_fill_holes(ta_page_t *page) {
  uint64_t since_purge = ta_clock_ms() - page->holes_purged_ms;
  ta_purge_backoff_on_reuse(&page->hole_backoff, since_purge,
                            (uint64_t)ta_options_value(TA_OPTION_PURGE_DELAY_MS));
  uint64_t holes = atomic_load_explicit(&page->holes, memory_order_relaxed);
  push_blocks_of(page, holes, 0);
  atomic_store_explicit(&page->holes, 0, memory_order_release);
  ta_page_flags_clear(page, TA_PAGE_HOLES);
  return page->free != NULL;
}

void ta_page_purge_holes(ta_page_t *page, uint64_t now) {
  if (page->hole_shift == 0 || atomic_load_explicit(&page->holes, memory_order_relaxed) != 0) {
    return;
  }
  size_t granule = (size_t)1 << page->hole_shift;
  size_t bsize = page->block_size;
  uintptr_t area = (uintptr_t)page->area;
  uintptr_t base = ta_page_hole_base(page);
  uint32_t carved = ta_page_carved_bytes(page);
  if ((carved / bsize - ta_page_used(page)) * bsize < granule) return; /* no granule can be free */
  ta_block_set_t free_set = {{0}};
  ta_block_set_add_list(&free_set, page, page->free);
  /* Granules wholly inside the carved blocks whose every block is free. */
  uint64_t holes = 0;
  uintptr_t carved_end = (area + carved) & ~(uintptr_t)(granule - 1);
  for (uintptr_t g = (area + granule - 1) & ~(uintptr_t)(granule - 1); g < carved_end;
       g += granule) {
    size_t last = (g + granule - 1 - area) / bsize;
    size_t i = (g - area) / bsize;
    while (i <= last && ta_block_set_has(&free_set, i)) i++;
    if (i > last) holes |= UINT64_C(1) << ((g - base) >> page->hole_shift);
  }
  if (holes == 0) return;
  /* Off the free list first: the links live in the memory to be purged.
   * Their marks are cleared, as a purge would (a mapper need not zero
   * memory it fails to purge): the refill claims each block from 0. */
  for (ta_block_t **link = &page->free; *link != NULL;) {
    ta_block_t *block = *link;
    if (ta_page_granules_of(page, (uintptr_t)block) & holes) {
      *link = block->next;
      __atomic_store_n(&block->free_mark, 0, __ATOMIC_RELAXED);
    } else {
      link = &(*link)->next;
    }
  }
  /* Published before the purge zeroes the blocks' free marks: a free through
   * another heap that reads a zero mark then sees the hole. */
  atomic_store_explicit(&page->holes, holes, memory_order_release);
  page->holes_purged_ms = now;
  uint64_t failed = 0;
  for (uint64_t todo = holes; todo != 0;) {
    unsigned first;
    unsigned end;
    ta_word_lowest_run(todo, &first, &end);
    uint64_t run = ta_word_mask(first, end - first);
    size_t bytes = (size_t)(end - first) << page->hole_shift;
    if (ta_mem_purge_in_use((void *)(base + ((uintptr_t)first << page->hole_shift)), bytes) !=
        TA_OK) {
      failed |= run;
    }
    todo &= ~run;
  }
  if (failed != 0) {
    /* Memory the mapper left as it was: its blocks go back on the list. */
    holes &= ~failed;
    push_blocks_of(page, failed, holes);
    atomic_store_explicit(&page->holes, holes, memory_order_release);
  }
  if (holes != 0) ta_page_flags_set(page, TA_PAGE_HOLES);
}

bool ta_page_refill(ta_page_t *page) {
  ta_page_take_local(page);
  ta_page_collect_remote(page);
  if (page->free != NULL) return true;
  if ((page->free_flags & TA_PAGE_HOLES) && page_fill_holes(page)) return true;
  if (ta_page_carved_bytes(page) < page->carve_limit) {
    page_extend(page);
    return true;
  }
  return false;
}

bool ta_block_list_holds(const ta_block_t *list, const ta_block_t *block) {
  for (; list != NULL; list = list->next) {
    if (list == block) return true;
  }
  return false;
}

/* Sets the watch on an empty remote list; true also if it is already set.
 * False: remote frees came in. */
static bool page_watch(ta_page_t *page) {
  /* A load first: a watched page has no other writer than its owner, the
   * caller, so a failed swap below saw a remote free, never the watch. */
  uintptr_t seen = atomic_load_explicit(&page->remote_free, memory_order_relaxed);
  if (seen == TA_REMOTE_WATCHED) return true;
  if (seen != 0) return false;
  return atomic_compare_exchange_strong_explicit(&page->remote_free, &seen, TA_REMOTE_WATCHED,
                                                 memory_order_acq_rel, memory_order_relaxed);
}

bool ta_page_refill_or_watch(ta_page_t *page) {
  for (;;) {
    if (ta_page_refill(page)) return true;
    if (page_watch(page)) return false;
    /* Blocks came in since the refill looked: take them. */
  }
}

void ta_page_unwatch(ta_page_t *page) {
  /* While the watch is set, remote frees go to the owner's remote_blocks and
   * leave remote_free alone: a store suffices. */
  if (atomic_load_explicit(&page->remote_free, memory_order_relaxed) == TA_REMOTE_WATCHED) {
    atomic_store_explicit(&page->remote_free, 0, memory_order_release);
  }
}

bool ta_page_is_spent(const ta_page_t *page) {
  return page->free == NULL && page->local_free == NULL && !(page->free_flags & TA_PAGE_HOLES) &&
         ta_page_carved_bytes(page) >= page->carve_limit &&
         ta_remote_list(atomic_load_explicit(&page->remote_free, memory_order_relaxed)) == NULL;
}

bool ta_page_watch_if_spent(ta_page_t *page) {
  if ((page->free_flags & TA_PAGE_HOLES) || ta_page_carved_bytes(page) < page->carve_limit) {
    return false;
  }
  return page_watch(page);
}

bool ta_page_holds_free(ta_page_t *page, const ta_block_t *block) {
  const ta_block_t *remote =
      ta_remote_list(atomic_load_explicit(&page->remote_free, memory_order_acquire));
  return ta_page_block_in_hole(page, block) || ta_block_list_holds(page->free, block) ||
         ta_block_list_holds(page->local_free, block) || ta_block_list_holds(remote, block);
}
