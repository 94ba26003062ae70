/* Free lists of a page. Blocks are carved out a few OS pages at a time, so a
 * fresh page touches (and so commits) only what it serves. */
#include "alloc/page.h"

#include "tinyalloc/sysinfo.h"

void ta_page_init(ta_segment_t *segment, ta_page_t *page, unsigned cls) {
  size_t block_size = ta_class_size(cls);
  page->size_class = (uint8_t)cls;
  page->block_size = (uint32_t)block_size;
  page->divisor = UINT64_MAX / block_size + 1;
  page->carve_limit = (uint32_t)(ta_page_area_size(segment, page) / block_size * block_size);
  ta_page_set_carved_bytes(page, 0);
  page->used = 0;
  page->free = NULL;
  page->local_free = NULL;
  page->in_full = false;
  atomic_store_explicit(&page->remote_free, 0, memory_order_relaxed);
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
  /* Clears the watch too: a page being refilled is in its class queue. */
  ta_block_t *list = ta_remote_list(
      atomic_exchange_explicit(&page->remote_free, 0, memory_order_acquire));
  uint32_t count = 0;
  while (list != NULL) {
    ta_block_t *next = list->next;
    list->next = page->free;
    page->free = list;
    list = next;
    count++;
  }
  page->used -= count;
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
  return page->used == 0;
}

bool ta_page_refill(ta_page_t *page) {
  ta_page_take_local(page);
  ta_page_collect_remote(page);
  if (page->free != NULL) return true;
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

bool ta_page_refill_or_watch(ta_page_t *page) {
  for (;;) {
    if (ta_page_refill(page)) return true;
    uintptr_t seen = 0;
    if (atomic_compare_exchange_strong_explicit(&page->remote_free, &seen, TA_REMOTE_WATCHED,
                                                memory_order_acq_rel, memory_order_relaxed) ||
        seen == TA_REMOTE_WATCHED) {
      return false;
    }
    /* Blocks came in since the refill looked: take them. */
  }
}

bool ta_page_holds_free(ta_page_t *page, const ta_block_t *block) {
  const ta_block_t *remote =
      ta_remote_list(atomic_load_explicit(&page->remote_free, memory_order_acquire));
  return ta_block_list_holds(page->free, block) || ta_block_list_holds(page->local_free, block) ||
         ta_block_list_holds(remote, block);
}

