/* Statistics computed on demand: process-wide figures from the books of
 * os_memory, the arena and segment_alloc; per-heap figures, ta_heap_contains
 * and ta_heap_visit_blocks from the page descriptors and free lists. */
#include "alloc/stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/arena.h"
#include "alloc/atomic.h"
#include "alloc/heap.h"
#include "alloc/options.h"
#include "alloc/os_memory.h"
#include "alloc/page.h"
#include "alloc/report.h"
#include "alloc/segment_alloc.h"
#include "tinyalloc/os_env.h"

ta_error_t ta_stats_get(ta_stats_t *out) {
  if (out == NULL) return TA_ERR_INVALID_ARGUMENT;
  ta_mem_counts_t mem;
  ta_mem_counts(&mem);
  ta_arena_stats_t arena;
  ta_arena_stats(&arena);
  memset(out, 0, sizeof(*out));
  out->reserved_bytes = mem.reserved;
  out->committed_bytes = mem.committed;
  out->peak_committed_bytes = mem.peak_committed;
  out->purged_bytes = mem.purged;
  out->retained_bytes = arena.slots_retained * TA_SEGMENT_SIZE;
  out->segment_bytes = ta_segment_bytes_held();
  out->small_segments = ta_segments_held(TA_PAGE_SMALL);
  out->medium_segments = ta_segments_held(TA_PAGE_MEDIUM);
  out->large_segments = ta_segments_held(TA_PAGE_LARGE);
  out->huge_segments = ta_segments_held(TA_PAGE_HUGE);
  return TA_OK;
}

/* ---- walking a heap's live blocks ---- */

/* The page's free blocks: on its own lists (the remote one read as it stands:
 * other threads only push above the head we read). */
static void free_set_fill(ta_block_set_t *set, const ta_page_t *page) {
  memset(set, 0, sizeof(*set));
  ta_block_set_add_list(set, page, page->free);
  ta_block_set_add_list(set, page, page->local_free);
  ta_block_set_add_list(set, page,
                        ta_remote_list(atomic_load_explicit(&page->remote_free, memory_order_acquire)));
}

/* Blocks in holes are free and not read: their memory was given back. */
static bool block_is_free(ta_page_t *page, const ta_block_set_t *set, size_t index,
                          const ta_block_t *block) {
  if (ta_page_block_in_hole(page, block)) return true;
  if (block->free_mark != ta_block_free_mark(block)) return false; /* cleared when handed out */
  if (index < TA_PAGE_MAX_BLOCKS) return ta_block_set_has(set, index);
  return ta_page_holds_free(page, block);
}

/* Calls visit for each live block of the page; false once visit said stop. */
static bool visit_page(ta_heap_t *heap, ta_segment_t *segment, ta_page_t *page,
                       ta_block_visitor_t visit, void *arg) {
  if (segment->kind == TA_PAGE_HUGE) {
    const ta_block_t *block = (const ta_block_t *)(const void *)page->area;
    if (block->free_mark == ta_block_free_mark(block)) return true; /* being freed elsewhere */
    return visit(heap, page->area, page->block_size, arg);
  }
  ta_block_set_t set;
  free_set_fill(&set, page);
  size_t count = ta_page_carved_bytes(page) / page->block_size;
  for (size_t i = 0; i < count; i++) {
    uint8_t *block = page->area + i * page->block_size;
    if (block_is_free(page, &set, i, (const ta_block_t *)(void *)block)) continue;
    if (!visit(heap, block, page->block_size, arg)) return false;
  }
  return true;
}

/* Calls fn for every page in use of every segment of heap, until fn returns
 * false. */
typedef bool (*page_fn_t)(ta_heap_t *heap, ta_segment_t *segment, ta_page_t *page, void *arg);

static void for_each_page(ta_heap_t *heap, page_fn_t fn, void *arg) {
  for (ta_list_node_t *node = heap->segments.head; node != NULL; node = node->next) {
    ta_segment_t *segment = TA_CONTAINER_OF(node, ta_segment_t, heap_node);
    for (uint32_t i = 0; i < segment->page_count; i++) {
      ta_page_t *page = &segment->pages[i];
      if (page->in_use && !fn(heap, segment, page, arg)) return;
    }
  }
}

typedef struct visit_args {
  ta_block_visitor_t visit;
  void *arg;
} visit_args_t;

static bool visit_page_fn(ta_heap_t *heap, ta_segment_t *segment, ta_page_t *page, void *arg) {
  visit_args_t *v = (visit_args_t *)arg;
  return visit_page(heap, segment, page, v->visit, v->arg);
}

ta_error_t ta_heap_visit_blocks(ta_heap_t *heap, ta_block_visitor_t visit, void *arg) {
  if (heap == NULL || visit == NULL) {
    ta_report(heap, "ta_heap_visit_blocks", TA_ERR_INVALID_ARGUMENT, NULL);
    return TA_ERR_INVALID_ARGUMENT;
  }
  ta_heap_take_remote(heap);
  ta_heap_spill_flush(heap); /* its blocks are free, though their pages count them */
  visit_args_t v = {visit, arg};
  for_each_page(heap, visit_page_fn, &v);
  return TA_OK;
}

/* Live blocks of one page and their bytes. */
typedef struct tally {
  size_t blocks;
  size_t bytes;
} tally_t;

static bool tally_block(const ta_heap_t *heap, void *block, size_t usable_size, void *arg) {
  (void)heap;
  (void)block;
  tally_t *t = (tally_t *)arg;
  t->blocks++;
  t->bytes += usable_size;
  return true;
}

/* Counts per page, which knows its class and kind: a block's address alone
 * does not (a huge block aligned to 4 MiB or more starts a chunk of its own,
 * its header in the chunk below). */
static bool count_page(ta_heap_t *heap, ta_segment_t *segment, ta_page_t *page, void *arg) {
  ta_heap_stats_t *out = (ta_heap_stats_t *)arg;
  tally_t t = {0, 0};
  visit_page(heap, segment, page, tally_block, &t);
  if (segment->kind == TA_PAGE_HUGE) {
    out->huge_blocks += t.blocks;
    out->huge_bytes += t.bytes;
  } else {
    out->classes[page->size_class].live_blocks += t.blocks;
    out->classes[page->size_class].pages++;
  }
  out->live_blocks += t.blocks;
  out->live_bytes += t.bytes;
  return true;
}

ta_error_t ta_heap_stats(ta_heap_t *heap, ta_heap_stats_t *out) {
  if (heap == NULL || out == NULL) {
    ta_report(heap, "ta_heap_stats", TA_ERR_INVALID_ARGUMENT, NULL);
    return TA_ERR_INVALID_ARGUMENT;
  }
  memset(out, 0, sizeof(*out));
  for (unsigned c = 0; c < TA_STATS_CLASSES; c++) out->classes[c].block_size = ta_class_size(c);
  ta_heap_take_remote(heap);
  ta_heap_spill_flush(heap);
  for_each_page(heap, count_page, out);
  return TA_OK;
}

bool ta_heap_contains(ta_heap_t *heap, const void *ptr) {
  if (heap == NULL || ptr == NULL) return false;
  uintptr_t addr = (uintptr_t)ptr;
  ta_segment_t *segment = ta_segment_lookup(ptr);
  if (segment != NULL && segment->kind != TA_PAGE_HUGE) {
    if (segment->heap != heap) return false;
    ta_page_t *page = ta_segment_page_of(segment, ptr);
    size_t off = addr - (uintptr_t)page->area;
    if (!page->in_use || addr < (uintptr_t)page->area || off >= ta_page_carved_bytes(page)) {
      return false;
    }
    size_t index = off / page->block_size;
    const ta_block_t *block =
        (const ta_block_t *)(const void *)(page->area + index * page->block_size);
    if (ta_page_block_in_hole(page, block)) return false;
    return block->free_mark != ta_block_free_mark(block) ||
           !ta_heap_block_is_free(heap, page, block);
  }
  /* A huge block spans several 4 MiB chunks and the segment map marks only
   * its first two: look through the heap's huge segments. */
  for (ta_list_node_t *node = heap->segments.head; node != NULL; node = node->next) {
    ta_segment_t *s = TA_CONTAINER_OF(node, ta_segment_t, heap_node);
    if (s->kind != TA_PAGE_HUGE) continue;
    uintptr_t start = (uintptr_t)s->pages[0].area;
    if (addr >= start && addr - start < s->huge_size) {
      const ta_block_t *block = (const ta_block_t *)start;
      return block->free_mark != ta_block_free_mark(block);
    }
  }
  return false;
}

/* ---- the report ---- */

static void write_stderr(const char *line, void *arg) {
  (void)arg;
  ta_os_write_stderr(line, strlen(line));
}

/* snprintf into a line buffer, then out. */
#define EMIT(write, arg, ...)                     \
  do {                                            \
    char line_[160];                              \
    snprintf(line_, sizeof line_, __VA_ARGS__);   \
    (write)(line_, (arg));                        \
  } while (0)

static double mib(size_t bytes) { return (double)bytes / (1024.0 * 1024.0); }

void ta_stats_print(ta_heap_t *heap, ta_stats_writer_t write, void *arg) {
  if (write == NULL) write = write_stderr;
  ta_stats_t s;
  ta_stats_get(&s);
  EMIT(write, arg, "tinyalloc: reserved %.1f MiB, committed %.1f MiB (peak %.1f MiB), "
                   "retained %.1f MiB, purged %.1f MiB so far\n",
       mib(s.reserved_bytes), mib(s.committed_bytes), mib(s.peak_committed_bytes),
       mib(s.retained_bytes), mib(s.purged_bytes));
  EMIT(write, arg, "tinyalloc: segments held %.1f MiB: %zu small, %zu medium, %zu large, %zu huge\n",
       mib(s.segment_bytes), s.small_segments, s.medium_segments, s.large_segments,
       s.huge_segments);
  if (heap == NULL) return;
  ta_heap_stats_t h;
  if (ta_heap_stats(heap, &h) != TA_OK) return;
  EMIT(write, arg, "tinyalloc: heap %p: %zu live blocks, %.1f MiB\n", (void *)heap,
       h.live_blocks, mib(h.live_bytes));
  for (unsigned c = 0; c < TA_STATS_CLASSES; c++) {
    const ta_class_stats_t *k = &h.classes[c];
    if (k->live_blocks == 0 && k->pages == 0) continue;
    EMIT(write, arg, "tinyalloc:   class %2u (%7zu B): %zu live blocks in %zu pages\n", c,
         k->block_size, k->live_blocks, k->pages);
  }
  if (h.huge_blocks != 0) {
    EMIT(write, arg, "tinyalloc:   huge: %zu blocks, %.1f MiB\n", h.huge_blocks, mib(h.huge_bytes));
  }
}

static void print_at_exit(void) { ta_stats_print(NULL, NULL, NULL); }

void ta_stats_print_at_exit_if_asked(void) {
  static TA_ATOMIC(int) registered;
  if (ta_options_value(TA_OPTION_SHOW_STATS) == 0) return;
  int expected = 0;
  if (atomic_compare_exchange_strong_explicit(&registered, &expected, 1, memory_order_relaxed,
                                              memory_order_relaxed)) {
    (void)atexit(print_at_exit);
  }
}
