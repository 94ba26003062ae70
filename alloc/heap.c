/* The heap API: creating and destroying heaps, and the allocation and free
 * paths. The fast paths pop or push a page's free list and take no lock and
 * make no system call; everything else is in the *_slow functions below. */
#include "alloc/heap.h"

#include <stdint.h>
#include <string.h>

#include "alloc/abandoned.h"
#include "alloc/arena.h"
#include "alloc/fixed_array.h"
#include "alloc/fork.h"
#include "alloc/heap_fast.h"
#include "alloc/heap_registry.h"
#include "alloc/huge_cache.h"
#include "alloc/layout.h"
#include "alloc/options.h"
#include "alloc/os_memory.h"
#include "alloc/page.h"
#include "alloc/remote_huge.h"
#include "alloc/report.h"
#include "alloc/segment_alloc.h"
#include "alloc/segment_map.h"
#include "alloc/stats.h"
#include "alloc/test_hook.h"
#include "tinyalloc/clock.h"
#include "tinyalloc/mapper.h"
#include "tinyalloc/os_thread.h"
#include "tinyalloc/sysinfo.h"

/* Stands in for the first page of an empty class queue: no free blocks. */
static ta_page_t empty_page;

#define EMPTY_PAGES_4 &empty_page, &empty_page, &empty_page, &empty_page
#define EMPTY_PAGES_32                                                                      \
  EMPTY_PAGES_4, EMPTY_PAGES_4, EMPTY_PAGES_4, EMPTY_PAGES_4, EMPTY_PAGES_4, EMPTY_PAGES_4, \
      EMPTY_PAGES_4, EMPTY_PAGES_4
_Static_assert(TA_CLASS_COUNT == 32 && TA_CLASS16_SLOTS == 65 && TA_CLASS8_SLOTS == 65,
               "ta_no_heap lists one empty page per class and per size slot");
#define NO_SEGMENT_8                                                              \
  TA_HEAP_NO_SEGMENT, TA_HEAP_NO_SEGMENT, TA_HEAP_NO_SEGMENT, TA_HEAP_NO_SEGMENT, \
      TA_HEAP_NO_SEGMENT, TA_HEAP_NO_SEGMENT, TA_HEAP_NO_SEGMENT, TA_HEAP_NO_SEGMENT
_Static_assert(TA_HEAP_SEGMENT_HINTS == 64, "ta_no_heap lists no segment in each hint slot");
ta_heap_t ta_no_heap = {.own_segments = {NO_SEGMENT_8, NO_SEGMENT_8, NO_SEGMENT_8, NO_SEGMENT_8,
                                         NO_SEGMENT_8, NO_SEGMENT_8, NO_SEGMENT_8, NO_SEGMENT_8},
                        .direct = {EMPTY_PAGES_32},
                        .direct16 = {EMPTY_PAGES_32, EMPTY_PAGES_32, &empty_page},
                        .direct8 = {EMPTY_PAGES_32, EMPTY_PAGES_32, &empty_page}};

/* ---- page queues ---- */

static ta_page_t *page_of_node(ta_list_node_t *node) {
  return TA_CONTAINER_OF(node, ta_page_t, queue_node);
}

/* Every write of direct goes here, which keeps direct8 and direct16 the
 * same. */
static void set_direct(ta_heap_t *heap, unsigned cls, ta_page_t *page) {
  heap->direct[cls] = page;
  for (unsigned s = ta_class8_slot_start[cls]; s < ta_class8_slot_start[cls + 1]; s++) {
    heap->direct8[s] = page;
  }
  for (unsigned s = ta_class16_slot_start[cls]; s < ta_class16_slot_start[cls + 1]; s++) {
    heap->direct16[s] = page;
  }
}

static void queue_update_direct(ta_heap_t *heap, unsigned cls) {
  ta_list_node_t *head = heap->queues[cls].head;
  set_direct(heap, cls, head != NULL ? page_of_node(head) : &empty_page);
}

static void queue_push_front(ta_heap_t *heap, ta_page_t *page) {
  ta_list_push_front(&heap->queues[page->size_class], &page->queue_node);
  set_direct(heap, page->size_class, page);
}

/* Takes the page off its class queue; a full page is on no list. */
static void queue_remove(ta_heap_t *heap, ta_page_t *page) {
  if (page->free_flags & TA_PAGE_FULL) {
    ta_page_flags_clear(page, TA_PAGE_FULL);
  } else {
    ta_list_remove(&heap->queues[page->size_class], &page->queue_node);
    queue_update_direct(heap, page->size_class);
  }
}

/* Full pages are flagged, not listed: nothing walks them (a free into one
 * brings it back, ta_page_refill_or_watch has other heaps' frees say so),
 * and a list would touch two other pages' descriptors, cold in a big heap,
 * at every move in and out. */
static void page_to_full(ta_heap_t *heap, ta_page_t *page) {
  queue_remove(heap, page);
  ta_page_flags_set(page, TA_PAGE_FULL);
}

/* A full page that got a block back goes to the back of its queue while the
 * head still has blocks: the head keeps serving until it runs dry, and by the
 * time this page is reached it has gathered more frees. Once the head is
 * spent (nothing to take, carve or collect) it goes full and this page,
 * whose freed block is still in cache, takes its place: where frees land one
 * per page all over a big heap, each allocation is then a pop on the fast
 * path instead of a slow-path walk. */
static void page_unfull(ta_heap_t *heap, ta_page_t *page) {
  unsigned cls = page->size_class;
  ta_list_t *queue = &heap->queues[cls];
  ta_page_flags_clear(page, TA_PAGE_FULL);
  ta_page_unwatch(page);
  page->quiet_used = UINT32_MAX; /* back in use: quiet only from the next upkeep */
  /* The queue's head, not the direct page, which may be the class's spill. */
  ta_page_t *head = queue->head != NULL ? page_of_node(queue->head) : NULL;
  if (head == NULL) {
    ta_page_take_local(page); /* for the fast path, which looks at free only */
    queue_push_front(heap, page);
  } else if (head->free == NULL && head->local_free == NULL && ta_page_watch_if_spent(head)) {
    ta_list_replace(queue, &head->queue_node, &page->queue_node);
    ta_page_flags_set(head, TA_PAGE_FULL);
    ta_page_take_local(page);
    set_direct(heap, cls, page);
  } else {
    ta_list_push_back(queue, &page->queue_node);
  }
}

/* Gives an empty page back to its segment, and the segment to the arena once
 * it is empty too. */
static void page_retire(ta_heap_t *heap, ta_segment_t *segment, ta_page_t *page) {
  queue_remove(heap, page);
  if (ta_segment_return_page(segment, page, ta_clock_ms())) {
    ta_segment_free(heap, segment);
  } else if (segment->kind < TA_PAGE_LARGE) {
    /* To the front: heap_new_page takes the first segment's pages, and the
     * page just retired is still resident, while older free pages may have
     * been purged (taking one faults it back in and leaves this one to be
     * purged: frag 1 1 peaked 4% higher that way). */
    ta_list_t *list = &heap->free_segments[segment->kind];
    if (segment->in_free_list) ta_list_remove(list, &segment->free_node);
    ta_list_push_front(list, &segment->free_node);
    segment->in_free_list = true;
  }
}

/* After a local free (the block on top of local_free) left the page empty,
 * or freed into a full page (brought back to its queue). */
static void page_after_free(ta_heap_t *heap, ta_segment_t *segment, ta_page_t *page) {
  if (ta_page_used(page) == 0) {
    /* The first page of its queue stays, ready to serve, also while the
     * class's spill serves in its place (a full page is never first). */
    if (heap->queues[page->size_class].head != &page->queue_node) {
      page_retire(heap, segment, page);
    }
  } else if (page->free_flags & TA_PAGE_FULL) {
    page_unfull(heap, page);
  }
}

/* ---- spills (ta_heap_t.spill) ---- */

/* What a spill of class cls may still take, less one, when it holds
 * nothing: its used_word then. -1 (no spill) for a class with room for
 * fewer than TA_SPILL_MIN_BLOCKS: a spill of one or two big blocks
 * overflows at almost every free and gives back what it just took. */
#define TA_SPILL_MIN_BLOCKS 4
static int32_t spill_room(unsigned cls) {
  size_t blocks = TA_SPILL_BYTES / ta_class_size(cls);
  return blocks >= TA_SPILL_MIN_BLOCKS ? (int32_t)blocks - 1 : -1;
}

/* Whether class cls's spill takes a block freed into a full page: it has
 * room, and it serves or will (the queue's first page is spent). Otherwise
 * blocks a program frees in bulk go straight back to their pages. */
static bool spill_takes(ta_heap_t *heap, unsigned cls) {
  ta_page_t *spill = &heap->spill[cls];
  if (spill->used_word < 0) return false;
  if (heap->direct[cls] == spill) return true;
  ta_list_node_t *first = heap->queues[cls].head;
  return first != NULL && ta_page_is_spent(page_of_node(first));
}

/* Puts a block freed into a full page in the spill, where it stays counted
 * in use on the page, which stays full and watched (every full page is), so
 * that frees through other heaps still bring it back. */
static void spill_add(ta_page_t *spill, ta_block_t *block) {
  block->next = spill->free;
  spill->free = block;
  spill->used_word--;
}

/* Moves the block just freed onto a full page (the top of its local_free)
 * to the spill. */
static void spill_push(ta_page_t *spill, ta_page_t *page) {
  spill_add(spill, ta_page_unfree_local(page));
}

/* The spill that takes a block freed into the page at once, or NULL: the
 * page is full (and nothing else), the class's spill serves and has room,
 * and the block is not the page's last in use, which its count then is
 * not at last_used (0 once the block is off the count, 1 before). The
 * common case of a free into a cold full page, for the local and the remote
 * free alike; page_after_free_or_spill handles the rest. */
static inline ta_page_t *spill_serving(ta_heap_t *heap, const ta_page_t *page, uint32_t last_used) {
  ta_page_t *spill = &heap->spill[page->size_class];
  if (page->free_flags == TA_PAGE_FULL && heap->direct[page->size_class] == spill &&
      spill->used_word >= 0 && ta_page_used(page) != last_used) {
    return spill;
  }
  return NULL;
}

/* Gives the blocks of class cls's spill back to their pages. */
static void spill_flush_class(ta_heap_t *heap, unsigned cls) {
  ta_page_t *spill = &heap->spill[cls];
  if (heap->direct[cls] == spill) queue_update_direct(heap, cls);
  ta_block_t *block = spill->free;
  spill->free = NULL;
  spill->used_word = spill_room(cls);
  while (block != NULL) {
    ta_block_t *next = block->next;
    ta_segment_t *segment = ta_segment_of(block);
    ta_page_t *page = ta_segment_page_of(segment, block);
    ta_page_free_local(page, block); /* still marked free */
    page_after_free(heap, segment, page);
    block = next;
  }
}

void ta_heap_spill_flush(ta_heap_t *heap) {
  for (unsigned cls = 0; cls < TA_CLASS_COUNT; cls++) spill_flush_class(heap, cls);
}

/* After a free (its block on top of local_free) on any path but the fast
 * one's spill push: a full page that stays in use gives the block to its
 * class's spill if that takes it (the page is watched: every full page is).
 * If not, the spill will not serve soon (it is full, or the queue has a
 * page to serve), so the pages its blocks hold go back to their queues
 * now, else a program that then frees everything would keep them. The
 * block is held out meanwhile, so that its page stays in use. */
static void page_after_free_or_spill(ta_heap_t *heap, ta_segment_t *segment, ta_page_t *page) {
  if (page->free_flags == TA_PAGE_FULL && ta_page_used(page) != 0) {
    unsigned cls = page->size_class;
    ta_page_t *spill = &heap->spill[cls];
    if (spill_takes(heap, cls)) {
      spill_push(spill, page);
      return;
    }
    if (spill->free != NULL) {
      ta_block_t *block = ta_page_unfree_local(page);
      spill_flush_class(heap, cls);
      ta_page_free_local(page, block);
    }
  }
  page_after_free(heap, segment, page);
}

/* ---- heap lifecycle ---- */

/* Memory of destroyed heaps, kept for the next ta_heap_new: mapping and
 * unmapping it costs more than filling a heap with thousands of blocks. The
 * lock is held for a few loads and stores, never across a system call. */
#define TA_HEAP_CACHE_SIZE 16
TA_FIXED_ARRAY(ta_heap_cache, ta_heap_t *, TA_HEAP_CACHE_SIZE)
static ta_heap_cache_t heap_cache;
static atomic_flag heap_cache_lock = ATOMIC_FLAG_INIT;

static void heap_cache_lock_acquire(void) {
  while (atomic_flag_test_and_set_explicit(&heap_cache_lock, memory_order_acquire)) {
    ta_os_yield();
  }
}

static void heap_cache_lock_release(void) {
  atomic_flag_clear_explicit(&heap_cache_lock, memory_order_release);
}

void ta_heap_cache_lock(void) { heap_cache_lock_acquire(); }
void ta_heap_cache_unlock(void) { heap_cache_lock_release(); }

static ta_heap_t *heap_cache_take(void) {
  heap_cache_lock_acquire();
  ta_heap_t *heap = heap_cache.len > 0 ? heap_cache.items[--heap_cache.len] : NULL;
  heap_cache_lock_release();
  return heap;
}

/* False when the cache is full. */
static bool heap_cache_put(ta_heap_t *heap) {
  heap_cache_lock_acquire();
  bool kept = ta_heap_cache_push(&heap_cache, heap);
  heap_cache_lock_release();
  return kept;
}

static size_t heap_bytes(void) { return ta_align_up(sizeof(ta_heap_t), ta_sysinfo()->page_size); }

static ta_heap_t *heap_map(void) {
  ta_heap_t *heap = heap_cache_take();
  if (heap != NULL) return heap;
  void *mem = NULL;
  (void)ta_mem_map(heap_bytes(), ta_sysinfo()->alloc_granularity, &mem);
  return (ta_heap_t *)mem;
}

/* A fresh heap; registered (so that ta_heap_destroy accepts it) unless it is
 * a thread's default heap. */
static ta_heap_t *heap_create(bool registered) {
  ta_stats_print_at_exit_if_asked();
  ta_fork_handlers_ensure();
  ta_heap_t *heap = heap_map();
  if (heap == NULL) return NULL;
  if (registered && ta_heap_registry_add(heap) != TA_OK) {
    if (!heap_cache_put(heap)) ta_mem_unmap(heap, heap_bytes());
    return NULL;
  }
  memset(heap, 0, sizeof(*heap));
  for (unsigned c = 0; c < TA_CLASS_COUNT; c++) {
    ta_list_init(&heap->queues[c]);
    set_direct(heap, c, &empty_page);
    heap->spill[c].used_word = spill_room(c);
  }
  ta_list_init(&heap->free_segments[0]);
  ta_list_init(&heap->free_segments[1]);
  ta_list_init(&heap->segments);
  atomic_init(&heap->remote_blocks, 0);
  atomic_init(&heap->remote_since_sweep, 0);
  heap->last_error = TA_OK;
  for (unsigned i = 0; i < TA_HEAP_SEGMENT_HINTS; i++) heap->own_segments[i] = TA_HEAP_NO_SEGMENT;
  heap->free_mark_secret = ta_block_free_mark(NULL);
  return heap;
}

ta_heap_t *ta_heap_new(void) { return heap_create(true); }

ta_heap_t *ta_heap_new_unregistered(void) { return heap_create(false); }

/* Frees every segment of the heap, whose memory then serves another heap or
 * goes back to the OS. */
static void heap_release(ta_heap_t *heap) {
  ta_list_node_t *node;
  while ((node = heap->segments.head) != NULL) {
    ta_segment_free(heap, TA_CONTAINER_OF(node, ta_segment_t, heap_node));
  }
  ta_huge_cache_release_front(&heap->huge_front);
  if (!heap_cache_put(heap)) ta_mem_unmap(heap, heap_bytes());
}

void ta_heap_release_unregistered(ta_heap_t *heap) { heap_release(heap); }

bool ta_heap_is_empty(const ta_heap_t *heap) { return heap->segments.head == NULL; }

void ta_heap_destroy(ta_heap_t *heap) {
  if (heap == NULL) return;
  /* A heap destroyed already (or never made) is refused before anything in
   * it is read: its memory may be unmapped, or serving a newer heap. */
  if (!ta_heap_registry_remove(heap)) {
    ta_report(NULL, "ta_heap_destroy", TA_ERR_INVALID_ARGUMENT, heap);
    return;
  }
  heap_release(heap);
}

void ta_trim(void) {
  ta_abandoned_reclaim(SIZE_MAX, true);
  ta_heap_t *heap;
  while ((heap = heap_cache_take()) != NULL) ta_mem_unmap(heap, heap_bytes());
  ta_heap_registry_trim();
  uint64_t now = ta_clock_ms();
  ta_remote_huge_purge_due(now, true);
  ta_huge_cache_purge_due(now, true);
  ta_arena_trim();
}

ta_error_t ta_heap_last_error(const ta_heap_t *heap) {
  return heap != NULL ? heap->last_error : TA_ERR_INVALID_ARGUMENT;
}

/* ---- allocation ---- */

/* Takes the blocks that other heaps freed into watched pages (see
 * ta_page_refill_or_watch) and frees them here: each goes to its class's
 * spill or brings its full page back to its queue, or frees its huge
 * block. The cost is in the blocks that came back, not in the number of
 * full pages. */
void ta_heap_take_remote(ta_heap_t *heap) {
  if (atomic_load_explicit(&heap->remote_blocks, memory_order_relaxed) == 0) return;
  ta_block_t *block =
      (ta_block_t *)atomic_exchange_explicit(&heap->remote_blocks, 0, memory_order_acquire);
  while (block != NULL) {
    ta_block_t *next = block->next;
    heap->remote_blocks_taken++;
    /* The block passed every check when it was freed: its chunk's map bit
     * alone finds its segment, but for a huge block aligned past a chunk. */
    ta_segment_t *segment = ta_segment_map_is_segment((uintptr_t)block) ? ta_segment_of(block)
                                                                        : ta_segment_lookup(block);
    if (segment->kind == TA_PAGE_HUGE) {
      ta_segment_free(heap, segment);
    } else {
      /* A full page stays watched until its owner takes the watch off, so
       * the block may go to the spill: straight there in the common case,
       * not pushed onto its page and taken off again. */
      ta_page_t *page = ta_segment_page_of(segment, block);
      ta_page_t *spill = spill_serving(heap, page, 1);
      if (spill != NULL) {
        spill_add(spill, block);
      } else {
        ta_page_free_local(page, block); /* already marked free by the remote claim */
        page_after_free_or_spill(heap, segment, page);
      }
    }
    block = next;
  }
}

/* Collects the local and remote frees of every page in the class queues and
 * retires the pages left empty, but the first of each queue (kept ready, as a
 * local free keeps it) unless `everything`. */
static void heap_sweep(ta_heap_t *heap, bool everything) {
  atomic_exchange_explicit(&heap->remote_since_sweep, 0, memory_order_acquire);
  for (unsigned cls = 0; cls < TA_CLASS_COUNT; cls++) {
    ta_list_node_t *node = heap->queues[cls].head;
    while (node != NULL) {
      ta_list_node_t *next = node->next;
      ta_page_t *page = page_of_node(node);
      if (ta_page_collect(page) && (everything || heap->direct[cls] != page)) {
        page_retire(heap, ta_segment_of(page), page);
      }
      node = next;
    }
  }
}

/* Upkeep that waits on time, run from the slow paths: the arena's purge once
 * it is due, and, once per purge delay, a sweep of this heap's pages if remote
 * frees came in since the last one, so that pages they emptied go back to
 * their segments (and the segments to the arena) even in a heap that only
 * frees and allocates again. */
#define TA_SLOW_ALLOCS_PER_UPKEEP 16
static inline uint8_t max_u8(uint8_t a, uint8_t b) { return a > b ? a : b; }

/* What an upkeep purges (heap_purge_in_use). */
typedef enum {
  PURGE_DUE,      /* what waited its delay and backoff: the heap's own upkeep */
  PURGE_DUE_IDLE, /* the same in a heap no thread allocates from (abandoned):
                   * the pages that served allocations wait like the rest */
  PURGE_NOW,      /* ta_heap_collect: holes now, free pages after the bare delay */
} purge_mode_t;

/* Purges the free pages of the heap's segments that have taken or given
 * back no page for the purge delay, doubled by the backoff (segment.h) but
 * for PURGE_NOW (ta_heap_collect: a program about to go idle). Where the mapper
 * cannot purge they stay as they are: a decommit would need a commit before
 * the page is used again. Returns the largest backoff of the segments whose
 * free pages still wait. */
static uint8_t heap_purge_free_pages(ta_heap_t *heap, purge_mode_t mode, uint64_t now) {
  if (!ta_os_can_purge()) return 0;
  uint64_t delay = (uint64_t)ta_options_value(TA_OPTION_PURGE_DELAY_MS);
  uint8_t most_backoff = 0;
  for (int kind = TA_PAGE_SMALL; kind <= TA_PAGE_MEDIUM; kind++) {
    for (ta_list_node_t *node = heap->free_segments[kind].head; node != NULL; node = node->next) {
      ta_segment_t *segment = TA_CONTAINER_OF(node, ta_segment_t, free_node);
      if (segment->resident_free_pages == 0) continue;
      uint8_t backoff = mode == PURGE_NOW ? 0 : max_u8(segment->purge_backoff, heap->purge_backoff);
      uint64_t quiet_since = segment->pages_quiet_since;
      if (quiet_since <= now && now - quiet_since >= ta_purge_wait(delay, backoff)) {
        ta_segment_purge_free_pages(segment, now);
      } else {
        most_backoff = max_u8(most_backoff, segment->purge_backoff);
      }
    }
  }
  return most_backoff;
}

/* Purges the holes (page.c) of the pages in the class queues that gave back
 * no block since the heap's last upkeep, a purge delay ago or more: pages a
 * program freed most of and then left alone, as after a burst; PURGE_NOW
 * (ta_heap_collect): every page now, the first of each queue too. A page is
 * looked at once until its count of blocks in use changes (a heap collected
 * again and again, as abandoned ones are, costs no new scan); the first of
 * a queue, which serves allocations, only when no thread allocates from the
 * heap (PURGE_DUE_IDLE, PURGE_NOW). A page whose holes
 * were refilled soon after their purge waits for more quiet upkeeps (its
 * backoff, or the heap's if longer). Returns the largest backoff of the
 * pages still waiting for a look. */
static uint8_t heap_purge_holes(ta_heap_t *heap, purge_mode_t mode, uint64_t now) {
  if (!ta_os_can_purge()) return 0;
  uint8_t most_backoff = 0;
  for (unsigned cls = 0; cls < TA_CLASS_COUNT; cls++) {
    ta_list_node_t *node = heap->queues[cls].head;
    while (node != NULL) {
      ta_page_t *page = page_of_node(node);
      node = node->next; /* before the page may be retired */
      bool serving = mode == PURGE_DUE && heap->direct[cls] == page;
      bool changed = ta_page_used(page) != page->quiet_used;
      if (changed) {
        page->holes_looked = false;
        page->quiet_upkeeps = 0;
      }
      if (page->hole_shift == 0) continue;
      if (!page->holes_looked) most_backoff = max_u8(most_backoff, page->hole_backoff);
      if (mode != PURGE_NOW && (serving || changed)) {
        page->quiet_used = ta_page_used(page);
        continue;
      }
      if (page->holes_looked) continue;
      /* Quiet for one upkeep, or for more where its holes were refilled
       * soon after a purge (page_fill_holes). */
      uint8_t backoff = max_u8(page->hole_backoff, heap->purge_backoff);
      if (mode != PURGE_NOW && ++page->quiet_upkeeps < (1u << backoff)) continue;
      page->holes_looked = true;
      if (ta_page_collect(page) && heap->direct[cls] != page) {
        page_retire(heap, ta_segment_of(page), page);
        continue;
      }
      ta_page_purge_holes(page, now);
      page->quiet_used = ta_page_used(page);
    }
  }
  return most_backoff;
}

/* The purges of the heap's pages in use, holes and free pages of its
 * segments, and the heap's wait for the next ones: the longest of what
 * still waits. */
static void heap_purge_in_use(ta_heap_t *heap, purge_mode_t mode, uint64_t now) {
  uint8_t holes_backoff = heap_purge_holes(heap, mode, now);
  heap->purge_backoff = max_u8(holes_backoff, heap_purge_free_pages(heap, mode, now));
}

/* Whether the heap's pages are due for a look (once per purge delay, at
 * least 1 ms apart); if so, the next one is due a delay from now. */
static bool upkeep_due(ta_heap_t *heap, uint64_t now) {
  if (now < heap->next_sweep_ms) return false;
  uint64_t delay = (uint64_t)ta_options_value(TA_OPTION_PURGE_DELAY_MS);
  heap->next_sweep_ms = now + (delay > 0 ? delay : 1);
  return true;
}

static void heap_maintain(ta_heap_t *heap) {
  uint64_t now = ta_clock_ms();
  if (upkeep_due(heap, now)) {
    ta_heap_take_remote(heap); /* brings watched pages back to their queues */
    ta_heap_spill_flush(heap);
    if (atomic_load_explicit(&heap->remote_since_sweep, memory_order_relaxed) != 0) {
      heap_sweep(heap, false);
    }
    ta_abandoned_reclaim(1, false);
    heap_purge_in_use(heap, PURGE_DUE, now);
  }
  ta_purge_due(now);
}

static void heap_collect(ta_heap_t *heap, purge_mode_t mode) {
  ta_heap_take_remote(heap);
  ta_heap_spill_flush(heap);
  heap_sweep(heap, true);
  uint64_t now = ta_clock_ms();
  /* An abandoned heap is collected at each visit of another thread's
   * upkeep, many times per delay where many threads run: its holes count a
   * quiet upkeep once per delay, as its own upkeep would, not once per visit
   * (free pages go by their clock and wait the delay anyway). */
  if (mode != PURGE_DUE_IDLE || upkeep_due(heap, now)) {
    heap_purge_in_use(heap, mode, now);
  } else {
    heap_purge_free_pages(heap, mode, now);
  }
  ta_purge_due(now);
}

void ta_heap_collect(ta_heap_t *heap) {
  if (heap == NULL) {
    ta_report(NULL, "ta_heap_collect", TA_ERR_INVALID_ARGUMENT, NULL);
    return;
  }
  heap_collect(heap, PURGE_NOW);
}

void ta_heap_collect_idle(ta_heap_t *heap) { heap_collect(heap, PURGE_DUE_IDLE); }

static ta_page_t *heap_new_page(ta_heap_t *heap, unsigned cls) {
  ta_page_kind_t kind = ta_class_page_kind(cls);
  ta_segment_t *segment = NULL;
  ta_error_t err = TA_OK;
  if (kind < TA_PAGE_LARGE && heap->free_segments[kind].head != NULL) {
    segment = TA_CONTAINER_OF(heap->free_segments[kind].head, ta_segment_t, free_node);
  } else {
    segment = ta_segment_alloc(heap, kind, &err);
    if (segment == NULL) {
      ta_report(heap, "ta_heap_alloc", err, NULL);
      return NULL;
    }
    if (kind < TA_PAGE_LARGE) {
      ta_list_push_back(&heap->free_segments[kind], &segment->free_node);
      segment->in_free_list = true;
    }
  }
  uint64_t now = ta_clock_ms();
  if (!segment->purge_answered && ta_segment_next_take_is_purged(segment)) {
    segment->purge_answered = true;
    ta_purge_backoff_on_reuse(&segment->purge_backoff, now - segment->purged_at,
                              (uint64_t)ta_options_value(TA_OPTION_PURGE_DELAY_MS));
  }
  ta_page_t *page = ta_segment_take_page(segment);
  segment->pages_quiet_since = now;
  if (segment->free_pages == 0 && segment->in_free_list) {
    ta_list_remove(&heap->free_segments[kind], &segment->free_node);
    segment->in_free_list = false;
  }
  ta_page_init(segment, page, cls);
  return page;
}

/* The rest of ta_heap_alloc_class_slow; upkeep: its turn has come. */
static TA_NOINLINE void *alloc_class_from_queue(ta_heap_t *heap, unsigned cls, bool upkeep) {
  if (upkeep) heap_maintain(heap);
  /* Blocks freed through other heaps into full pages first: each brings its
   * page back to the head of its queue if the head is spent, so the walk
   * below finds it at once instead of first watching and flagging the head
   * (one relaxed load when there are none). */
  ta_heap_take_remote(heap);
  if (heap->direct[cls]->free != NULL) return ta_heap_page_pop(heap->direct[cls]);
  /* Blocks freed into full pages next, from the spill, which serves on the
   * fast path until it runs dry. */
  ta_page_t *spill = &heap->spill[cls];
  if (spill->free != NULL) {
    set_direct(heap, cls, spill);
    return ta_heap_page_pop(spill);
  }
  if (heap->direct[cls] == spill) queue_update_direct(heap, cls);
  for (int round = 0; round < 2; round++) {
    ta_list_node_t *node = heap->queues[cls].head;
    while (node != NULL) {
      ta_list_node_t *next = node->next;
      ta_page_t *page = page_of_node(node);
      if (ta_page_take_local(page) || ta_page_refill_or_watch(page)) {
        if (heap->direct[cls] != page) {
          ta_list_remove(&heap->queues[cls], &page->queue_node);
          queue_push_front(heap, page);
        }
        return ta_heap_page_pop(page);
      }
      page_to_full(heap, page);
      node = next;
    }
    if (round == 0) ta_heap_take_remote(heap);
  }
  ta_page_t *page = heap_new_page(heap, cls);
  if (page == NULL) return NULL;
  queue_push_front(heap, page);
  if (!ta_page_refill(page)) {
    /* A page too small for one block of its class: a geometry this machine's
     * page size was not planned for. Refuse rather than pop an empty list. */
    page_retire(heap, ta_segment_of(page), page);
    ta_report(heap, "ta_heap_alloc", TA_ERR_PLATFORM, NULL);
    return NULL;
  }
  return ta_heap_page_pop(page);
}

TA_NOINLINE void *ta_heap_alloc_class_slow(ta_heap_t *heap, unsigned cls) {
  /* Upkeep not at every class slow path: where each allocation finds its
   * page dry (frees scattered over many pages), the clock would cost on
   * every one. */
  bool upkeep = ++heap->slow_allocs % TA_SLOW_ALLOCS_PER_UPKEEP == 0;
  /* Most often the direct page's free has run dry while its local_free has
   * blocks: a page of big blocks, freed and allocated in turn, gets here
   * every few allocations (its carving stops once local_free always has a
   * block). Then, with no upkeep due and nothing from other heaps, taking
   * local_free is all there is to do. */
  ta_page_t *page = heap->direct[cls];
  if (TA_LIKELY(!upkeep && page->local_free != NULL &&
                atomic_load_explicit(&heap->remote_blocks, memory_order_relaxed) == 0)) {
    ta_page_take_local(page);
    return ta_heap_page_pop(page);
  }
  return alloc_class_from_queue(heap, cls, upkeep);
}

/* The smallest class from cls on whose blocks all have alignment align, or
 * TA_CLASS_COUNT: an over-aligned request takes it rather than a padded
 * block, so that every block starts at its slot and a pointer into a slot
 * is never mistaken for a block. */
static unsigned class_with_align(unsigned cls, size_t align) {
  while (cls < TA_CLASS_COUNT && !ta_class_has_align(cls, align)) cls++;
  return cls;
}

/* Without ta_heap_alloc_slow's checks and frame: a class size with a power
 * of two alignment that some class has (any invalid alignment has none). */
TA_NOINLINE void *ta_heap_alloc_class_aligned(ta_heap_t *heap, unsigned cls, ta_layout_t layout) {
  cls = ta_aligned_class_is_power_of_two(layout.align, layout.size)
            ? ta_aligned_power_of_two_class(layout.align, layout.size)
            : class_with_align(cls, layout.align);
  if (TA_LIKELY(cls < TA_CLASS_COUNT)) return ta_heap_alloc_class(heap, cls);
  return ta_heap_alloc_slow(heap, layout);
}

TA_NOINLINE void *ta_heap_alloc_slow(ta_heap_t *heap, ta_layout_t layout) {
  size_t size = layout.size;
  size_t align = layout.align;
  if (!ta_layout_is_valid(size, align)) {
    ta_report(heap, "ta_heap_alloc", TA_ERR_INVALID_LAYOUT, NULL);
    return NULL;
  }
  if (size <= TA_CLASS_MAX_SIZE) {
    unsigned cls = class_with_align(ta_size_to_class(size), align);
    if (cls < TA_CLASS_COUNT) return ta_heap_alloc_class(heap, cls);
  }
  ta_heap_take_remote(heap); /* huge blocks freed elsewhere go back first */
  ta_error_t err;
  void *block = ta_huge_alloc(heap, size, align, &err);
  if (block == NULL) ta_report(heap, "ta_heap_alloc", err, NULL);
  return block;
}

void *ta_heap_alloc(ta_heap_t *heap, ta_layout_t layout) {
  if (TA_UNLIKELY(heap == NULL)) {
    ta_report(NULL, "ta_heap_alloc", TA_ERR_INVALID_ARGUMENT, NULL);
    return NULL;
  }
  return ta_heap_alloc_inline(heap, layout);
}

/* ---- free ---- */

static void free_invalid(ta_heap_t *heap, ta_error_t err, const void *ptr) {
  ta_report(heap, "ta_heap_free", err, ptr);
}

/* Hands a block to its owner heap: a lock-free push onto the page's remote
 * list, or, when the page is watched (full, its owner waiting for a block to
 * come back), onto the owner's remote_blocks, leaving the watch for the
 * owner to take off when it brings the page back to its queue (one atomic
 * here, and none for the owner when it keeps the page full and the block in
 * its spill). */
static void free_remote(ta_segment_t *segment, ta_page_t *page, ta_block_t *block) {
  /* Once the block is pushed, its owner may collect it and give the segment
   * away, so nothing in it may be read after the push. The owner heap itself
   * lives on: destroying it while its blocks are being freed is a user error. */
  ta_heap_t *owner = segment->heap;
  uintptr_t head = atomic_load_explicit(&page->remote_free, memory_order_relaxed);
  for (;;) {
    if (head & TA_REMOTE_WATCHED) {
      /* The block keeps the page in use until the owner takes it. */
      uintptr_t top = atomic_load_explicit(&owner->remote_blocks, memory_order_relaxed);
      do {
        block->next = (ta_block_t *)top;
      } while (!atomic_compare_exchange_weak_explicit(&owner->remote_blocks, &top, (uintptr_t)block,
                                                      memory_order_release, memory_order_relaxed));
      return;
    }
    block->next = (ta_block_t *)head;
    if (atomic_compare_exchange_weak_explicit(&page->remote_free, &head, (uintptr_t)block,
                                              memory_order_release, memory_order_relaxed)) {
      /* After the push: a sweep that clears the flag and reads it set then
       * sees the block. Skipped while set, not to pull the line for nothing. */
      if (atomic_load_explicit(&owner->remote_since_sweep, memory_order_relaxed) == 0) {
        atomic_store_explicit(&owner->remote_since_sweep, 1, memory_order_release);
      }
      return;
    }
  }
}

/* Claims a block for a free through a heap other than its owner: sets its
 * free mark with a compare-and-swap from the live value just read, so that of
 * two threads freeing the block at once exactly one succeeds (the other sees
 * the mark, or fails the swap). False: the block is already free. */
static bool block_claim_remote(ta_block_t *block) {
  uintptr_t mark = ta_block_free_mark(block);
  uintptr_t seen = __atomic_load_n(&block->free_mark, __ATOMIC_RELAXED);
  if (seen == mark) return false;
  ta_test_hook_run(TA_TEST_REMOTE_FREE_CHECKED);
  return __atomic_compare_exchange_n(&block->free_mark, &seen, mark, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_RELAXED);
}

static void free_huge(ta_heap_t *heap, ta_segment_t *segment, void *ptr, ta_layout_t layout) {
  ta_page_t *page = &segment->pages[0];
  if ((uint8_t *)ptr != page->area || !page->in_use || layout.size > page->block_size) {
    free_invalid(heap, TA_ERR_INVALID_POINTER, ptr);
    return;
  }
  /* A block already freed through another heap waits, marked, for its owner
   * to collect it: a second free of either kind finds the mark. */
  ta_block_t *block = (ta_block_t *)ptr;
  if (segment->heap == heap) {
    if (block->free_mark == ta_block_free_mark(block)) {
      free_invalid(heap, TA_ERR_INVALID_POINTER, ptr);
      return;
    }
    ta_segment_free(heap, segment);
    return;
  }
  /* Owned by another heap: its owner unlists and frees it (ta_heap_take_remote)
   * at its next upkeep; if that takes longer than the purge delay, any
   * thread's upkeep gives its memory back meanwhile (remote_huge.c). */
  if (!block_claim_remote(block)) {
    free_invalid(heap, TA_ERR_INVALID_POINTER, ptr);
    return;
  }
  uint64_t now = ta_clock_ms();
  ta_remote_huge_add(segment, now);
  free_remote(segment, page, block);
  ta_remote_huge_purge_due(now, false);
}

bool ta_heap_block_is_free(ta_heap_t *heap, ta_page_t *page, const ta_block_t *block) {
  const ta_block_t *handed =
      (const ta_block_t *)atomic_load_explicit(&heap->remote_blocks, memory_order_acquire);
  return ta_page_holds_free(page, block) ||
         ta_block_list_holds(heap->spill[page->size_class].free, block) ||
         ta_block_list_holds(handed, block);
}

/* The rest of ta_heap_page_after_free. */
static TA_NOINLINE void page_after_free_checked(ta_heap_t *heap, ta_segment_t *segment,
                                                ta_page_t *page) {
  if (TA_UNLIKELY(segment->kind == TA_PAGE_HUGE)) {
    /* Its one block, freed on the fast path: marked free, off local_free
     * again, and the segment goes. */
    ta_page_unfree_local(page);
    ta_segment_free(heap, segment);
    return;
  }
  if (TA_UNLIKELY(page->free_flags & TA_PAGE_HOLES) &&
      ta_page_block_in_hole(page, page->local_free)) {
    /* A block purged while free carries no free mark: freed again, it got
     * this far. Undone before anything else sees it. */
    ta_block_t *block = ta_page_unfree_local(page);
    block->free_mark = 0; /* as the purge left it: the hole's refill claims it from 0 */
    free_invalid(heap, TA_ERR_INVALID_POINTER, block);
    return;
  }
  page_after_free_or_spill(heap, segment, page);
}

/* After a local free (the block on top of local_free) left the page empty,
 * or freed into a page that is full or has holes. A page that stays full
 * gives the block to its class's spill while that serves and has room:
 * where frees land one per page all over a big heap, no page then moves in
 * or out of its queue, and the next allocation pops the block on the fast
 * path. */
TA_NOINLINE void ta_heap_page_after_free(ta_heap_t *heap, ta_segment_t *segment, ta_page_t *page) {
  ta_page_t *spill = spill_serving(heap, page, 0);
  if (TA_LIKELY(spill != NULL)) {
    spill_push(spill, page);
    return;
  }
  page_after_free_checked(heap, segment, page);
}

static void free_checked(ta_heap_t *heap, void *ptr, ta_layout_t layout);
static void free_other_heaps_block(ta_heap_t *heap, ta_segment_t *segment, ta_page_t *page,
                                   ta_block_t *block);

/* Scalars, not a ta_layout_t: a layout passed on by value from the fast
 * path makes the compiler keep it in memory there. */
TA_NOINLINE void ta_heap_free_slow(ta_heap_t *heap, void *ptr, size_t size, size_t align) {
  if (heap == &ta_no_heap) {
    ta_free_without_heap(ptr);
    return;
  }
  if (ptr == NULL) return;
  if (TA_UNLIKELY(heap == NULL)) {
    ta_report(NULL, "ta_heap_free", TA_ERR_INVALID_ARGUMENT, ptr);
    return;
  }
  free_checked(heap, ptr, (ta_layout_t){size, align});
}

void ta_free_without_heap(void *ptr) {
  if (ptr != NULL) free_checked(NULL, ptr, (ta_layout_t){0, 1});
}

/* Every check, for whatever the fast path of ta_heap_free did not settle.
 * heap NULL: a caller with no heap, for whom every block is another heap's;
 * errors are then reported but recorded nowhere. */
static void free_checked(ta_heap_t *heap, void *ptr, ta_layout_t layout) {
  if (TA_UNLIKELY(!ta_layout_is_valid(layout.size, layout.align))) {
    free_invalid(heap, TA_ERR_INVALID_LAYOUT, ptr);
    return;
  }
  ta_segment_t *segment = ta_segment_lookup(ptr);
  /* Every block honours its layout's alignment, so a pointer without it
   * cannot be one allocated with this layout. */
  if (TA_UNLIKELY(segment == NULL || ((uintptr_t)ptr & (layout.align - 1)) != 0)) {
    free_invalid(heap, TA_ERR_INVALID_POINTER, ptr);
    return;
  }
  if (TA_UNLIKELY(segment->kind == TA_PAGE_HUGE)) {
    free_huge(heap, segment, ptr, layout);
    return;
  }
  ta_page_t *page = ta_segment_page_of(segment, ptr);
  ta_block_t *block = (ta_block_t *)ptr;
  /* Blocks start at their slots (ta_heap_alloc_slow never pads): anything else points
   * into the middle of a block, or outside what was carved. */
  if (TA_UNLIKELY(!page->in_use || !ta_page_block_fits(page, (uintptr_t)ptr, layout.size))) {
    free_invalid(heap, TA_ERR_INVALID_POINTER, ptr);
    return;
  }
  if (TA_LIKELY(segment->heap == heap)) {
    /* A live block's mark is cleared when it is handed out, so a matching mark
     * means a double free unless the program wrote that very value: the free
     * lists tell for sure. A block in a hole is free, its mark purged (and
     * not read: that would fault the hole back in). */
    if (TA_UNLIKELY(ta_page_block_in_hole(page, block)) ||
        (TA_UNLIKELY(block->free_mark == ta_block_free_mark(block)) &&
         ta_heap_block_is_free(heap, page, block))) {
      free_invalid(heap, TA_ERR_INVALID_POINTER, ptr);
      return;
    }
    block->free_mark = ta_block_free_mark(block);
    ta_page_push_free(page, block);
    if (--page->used_word < 0) ta_heap_page_after_free(heap, segment, page);
    return;
  }
  free_other_heaps_block(heap, segment, page, block);
}

TA_NOINLINE void ta_heap_free_remote(ta_heap_t *heap, ta_segment_t *segment, ta_block_t *block) {
  if (heap == &ta_no_heap) {
    heap = NULL; /* a thread without a heap: see ta_free_without_heap */
  } else if (TA_UNLIKELY(heap == NULL)) {
    ta_report(NULL, "ta_heap_free", TA_ERR_INVALID_ARGUMENT, block);
    return;
  }
  if (TA_UNLIKELY(segment->kind == TA_PAGE_HUGE)) {
    free_huge(heap, segment, block, (ta_layout_t){0, 1});
    return;
  }
  free_other_heaps_block(heap, segment, ta_segment_page_of(segment, block), block);
}

/* A checked block start of a live page that another heap owns (heap: the
 * caller's, or NULL for a thread without one). */
static void free_other_heaps_block(ta_heap_t *heap, ta_segment_t *segment, ta_page_t *page,
                                   ta_block_t *block) {
  /* The owner's free lists may change under us: trust the mark alone, and
   * the page's holes, where free blocks carry no mark. Looked at again after
   * the claim: the owner may have purged the block in between. Then the
   * claim stands, and the hole's refill counts the block in use (page.c): a
   * double free that races a purge leaks its page rather than corrupt it. */
  if (TA_UNLIKELY(ta_page_block_in_hole(page, block) || !block_claim_remote(block) ||
                  ta_page_block_in_hole(page, block))) {
    free_invalid(heap, TA_ERR_INVALID_POINTER, block);
    return;
  }
  free_remote(segment, page, block);
}

TA_NOINLINE void ta_heap_free_mapped(ta_heap_t *heap, void *ptr, size_t size, size_t align) {
  uintptr_t addr = (uintptr_t)ptr;
  if (TA_LIKELY(ta_segment_map_is_segment(addr) && ta_free_align_fits(addr, align))) {
    ta_segment_t *segment = ta_segment_of(ptr);
    ta_page_t *page = ta_segment_page_at(segment, addr);
    /* The map marks only live segments, whose header needs no cookie check
     * here. */
    if (TA_LIKELY(ta_page_block_fits(page, addr, size))) {
      /* heap is read only once the owner test has passed (it may be NULL). */
      if (segment->heap == heap) {
        heap->own_segments[ta_heap_hint_slot(addr)] = (uintptr_t)segment;
        ta_heap_free_owned(heap, segment, page, (ta_block_t *)ptr, size, align);
        return;
      }
      ta_heap_free_remote(heap, segment, (ta_block_t *)ptr);
      return;
    }
  }
  ta_heap_free_slow(heap, ptr, size, align);
}

void ta_heap_free(ta_heap_t *heap, void *ptr, ta_layout_t layout) {
  /* The segment map path reads heap only after an owner test, which a
   * NULL heap fails: a live segment always has one. */
  if (TA_UNLIKELY(heap == NULL)) {
    ta_heap_free_mapped(heap, ptr, layout.size, layout.align);
    return;
  }
  ta_heap_free_inline(heap, ptr, layout);
}

/* The page of the live block start ptr, or NULL (ta_usable_size). */
static ta_page_t *live_block_page(const void *ptr) {
  if (ptr == NULL) return NULL;
  ta_segment_t *segment = ta_segment_lookup(ptr);
  if (segment == NULL) return NULL;
  ta_page_t *page = ta_segment_page_of(segment, ptr);
  if (!page->in_use) return NULL;
  if (segment->kind == TA_PAGE_HUGE) {
    if ((const uint8_t *)ptr != page->area) return NULL;
  } else if (!ta_page_is_block_start(page, (uintptr_t)ptr)) {
    return NULL;
  }
  /* A freed block carries its free mark (a live one only if the program wrote
   * that secret-derived value into its second word). */
  const ta_block_t *block = (const ta_block_t *)ptr;
  if (ta_page_block_in_hole(page, block)) return NULL;
  uintptr_t mark = __atomic_load_n(&block->free_mark, __ATOMIC_RELAXED);
  return mark == ta_block_free_mark(block) ? NULL : page;
}

size_t ta_usable_size(const void *ptr) {
  const ta_page_t *page = live_block_page(ptr);
  return page != NULL ? page->block_size : 0; /* a huge block's: ta_huge_set_usable */
}

bool ta_grow_in_place(void *ptr, size_t size) {
  ta_page_t *page = live_block_page(ptr);
  if (page == NULL) return false;
  ta_segment_t *segment = ta_segment_of(page); /* the header holds the page */
  if (segment->kind != TA_PAGE_HUGE || size > segment->huge_size) return false;
  if (size > page->block_size) ta_huge_set_usable(segment, size);
  return true;
}
