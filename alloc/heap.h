/* The heap: per-class page queues over segments it owns. Used by one thread
 * at a time; other heaps reach it only through the atomics of its pages
 * (remote frees) and remote_blocks. */
#ifndef TINYALLOC_ALLOC_HEAP_H_
#define TINYALLOC_ALLOC_HEAP_H_

#include "alloc/atomic.h"
#include "alloc/list.h"
#include "alloc/segment.h"
#include "tinyalloc/tinyalloc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* As many as a heap of 256 MiB in small and medium segments has. */
#define TA_HEAP_SEGMENT_HINTS 64
/* No segment starts at an odd address. */
#define TA_HEAP_NO_SEGMENT ((uintptr_t)1)

struct ta_heap {
  /* The first page of each class queue, or an empty stand-in: the fast path
   * pops page->free without checking for NULL pages. */
  ta_page_t *direct[TA_CLASS_COUNT];
  /* direct by malloc's size up to 1 KiB in 16-byte steps (the class of
   * slot s is ta_small_class16_lookup[s]): ta_malloc loads its page with
   * no class lookup in between. */
  ta_page_t *direct16[TA_CLASS16_SLOTS];
  /* direct by size up to TA_CLASS8_MAX in 8-byte steps (the class of slot
   * s is ta_small_class_lookup[s]): the same for ta_heap_alloc with an
   * alignment every class has. Not up to 1 KiB: the bigger classes span
   * many slots, and keeping those up to date cost more than it saved. */
  ta_page_t *direct8[TA_CLASS8_SLOTS];
  ta_list_t queues[TA_CLASS_COUNT]; /* pages that may have free blocks */
  ta_list_t free_segments[2];       /* small and medium segments with free pages */
  ta_list_t segments;               /* every segment of the heap */
  /* Per class, blocks freed into full pages, which stay full and count
   * them in use: a stand-in page (not in any segment) of which only free
   * and used_word are used. The fast path pops its free list once it is the
   * class's direct page; used_word is how many more blocks it may take,
   * less one (each pop gives one back). A free that lands on a cold full
   * page then moves no page in or out of its queue (see
   * ta_heap_page_after_free). It fills only while it serves or the queue's
   * first page is spent, at most TA_SPILL_BYTES; its blocks go back to
   * their pages at the first free into a full page it does not take, and
   * at every upkeep, collect and walk of the heap. */
  ta_page_t spill[TA_CLASS_COUNT];
  ta_error_t last_error;
  /* Segments of this heap that its frees found lately, each at the slot of
   * its chunk (ta_heap_hint_slot), or TA_HEAP_NO_SEGMENT: a free into one
   * needs no segment map lookup and no owner test. Only the heap writes
   * them (the segment map path of a local free sets one, ta_segment_free
   * clears it), and a segment leaves its heap only through ta_segment_free,
   * so a hinted segment is live and the heap's own. Slots of chunks 256 MiB
   * apart are shared: frees alternating between two such segments take
   * the map path (a cost, not a risk). */
  TA_ALIGNAS(TA_CACHE_LINE) uintptr_t own_segments[TA_HEAP_SEGMENT_HINTS];
  uintptr_t free_mark_secret; /* ta_block_free_mark(NULL): saves the free path a multiply */
  /* Blocks ta_heap_take_remote has taken from remote_blocks so far: the work
   * remote frees cost the owner, for tests (slow path only). */
  uint64_t remote_blocks_taken;
  /* When the next sweep of the pages is due (ta_clock_ms time). */
  uint64_t next_sweep_ms;
  uint32_t slow_allocs; /* counts class slow paths, to look at the clock now and then */
  /* The largest purge backoff (ta_purge_backoff_on_reuse) among the pages
   * of the class queues and the segments with free pages that still waited
   * for a purge at the last upkeep: each of them waits at least that long,
   * so that a program that reuses purged memory soon teaches the whole heap
   * at once rather than page by page. Memory already purged counts no more,
   * so once a program leaves its memory alone the value falls back. */
  uint8_t purge_backoff;
  uint32_t huge_front;            /* its front in the huge cache (ta_huge_cache_put_front) */
  struct ta_heap *next_abandoned; /* in the pool of abandoned thread heaps */
  /* Blocks freed through other heaps into watched (full) pages, a stack of
   * ta_block_t, so the owner finds the pages that have room again without
   * looking at every full page. On a cache line of its own: other threads
   * write it. */
  TA_ALIGNAS(TA_CACHE_LINE) TA_ATOMIC(uintptr_t) remote_blocks;
  /* Set by a free through another heap onto a page that is not watched:
   * some page may have been emptied by remote frees, so the next sweep
   * looks. Cleared by the sweep. */
  TA_ATOMIC(int) remote_since_sweep;
};

/* The slot of own_segments that may hold the segment of addr's chunk. */
static inline size_t ta_heap_hint_slot(uintptr_t addr) {
  return (addr >> TA_SEGMENT_SHIFT) % TA_HEAP_SEGMENT_HINTS;
}

/* Takes the segment, which leaves the heap, out of own_segments. */
static inline void ta_heap_forget_segment(struct ta_heap *heap, const ta_segment_t *segment) {
  uintptr_t *hint = &heap->own_segments[ta_heap_hint_slot((uintptr_t)segment)];
  if (*hint == (uintptr_t)segment) *hint = TA_HEAP_NO_SEGMENT;
}

/* Not exported from the shared library (which exports ta_*). */
#if defined(__GNUC__) && !defined(_WIN32)
#define TA_HIDDEN __attribute__((visibility("hidden")))
#else
#define TA_HIDDEN
#endif

/* What a thread's heap pointer holds while the thread has no heap: a heap
 * that owns nothing and whose class queues are all empty, so that the malloc
 * layer's fast paths need no NULL test. Its allocations all reach the slow
 * path, which makes the thread's heap; its frees find another heap's block,
 * or fail a check, and take the paths of a thread without a heap. Never
 * written. Not hidden: the malloc layer may be a shared object of its own
 * (Bazel's test builds). */
extern ta_heap_t ta_no_heap;

/* The bytes of blocks a heap's spill (ta_heap_t.spill) holds per class, at
 * most. */
#define TA_SPILL_BYTES ((size_t)4 << 10)

/* Gives the blocks of every spill back to their pages. Heap's thread. */
void ta_heap_spill_flush(ta_heap_t *heap);

/* Whether a block of heap whose mark says free is on a free list: its page's,
 * its class's spill, or the heap's remote_blocks. Slow; for a suspected
 * double free. */
bool ta_heap_block_is_free(ta_heap_t *heap, ta_page_t *page, const ta_block_t *block);

/* A heap that ta_heap_destroy refuses (a thread's default heap), and how it
 * is released once abandoned and empty. */
ta_heap_t *ta_heap_new_unregistered(void);
void ta_heap_release_unregistered(ta_heap_t *heap);

/* The lock of the cache of destroyed heaps, held across fork() (fork.c). */
void ta_heap_cache_lock(void);
void ta_heap_cache_unlock(void);

/* ta_heap_collect for a heap no thread uses (abandoned, or its thread
 * exiting): its memory is purged only once it has waited the purge delay,
 * like that of heaps in use, so that a thread that adopts it soon (a pool of
 * short-lived workers) finds it committed, without a purge, a fault per OS
 * page and, in a process with threads, the TLB shootdowns of each purge. */
void ta_heap_collect_idle(ta_heap_t *heap);

/* Grows the live huge block at ptr to `size` bytes in place, where its
 * segment has room: what ta_usable_size says rises to match. False for any
 * other block or a size past the segment's end. Any thread, for a block no
 * other thread uses at the same time (ta_realloc). */
bool ta_grow_in_place(void *ptr, size_t size);

/* Whether the heap holds no segment at all. Heap's thread. */
bool ta_heap_is_empty(const ta_heap_t *heap);

/* Frees a block from a thread that has no heap (its default heap already
 * handed back at thread exit): as a free through another heap. */
void ta_free_without_heap(void *ptr);

/* Takes the blocks other heaps handed to heap->remote_blocks and frees them
 * locally (their pages come back to their queues). Heap's thread. */
void ta_heap_take_remote(ta_heap_t *heap);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_HEAP_H_ */
