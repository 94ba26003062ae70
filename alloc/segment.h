/* Segments and pages: the layout of the memory that blocks live in.
 *
 * A segment is TA_SEGMENT_SIZE bytes (a multiple of it for huge blocks),
 * aligned to TA_SEGMENT_SIZE, so that masking a block pointer finds its header.
 * The header holds the page descriptors; the rest is carved into pages of one
 * kind (see size_class.h). Each page serves one size class from three free
 * lists: `free`, which the owner allocates from, `local_free`, which the
 * owner frees onto, and `remote_free`, which other heaps push onto with
 * atomics. */
#ifndef TINYALLOC_ALLOC_SEGMENT_H_
#define TINYALLOC_ALLOC_SEGMENT_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/arena.h"
#include "alloc/atomic.h"
#include "alloc/list.h"
#include "alloc/secret.h"
#include "alloc/size_class.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TA_SEGMENT_SHIFT 22
#define TA_SEGMENT_SIZE ((size_t)1 << TA_SEGMENT_SHIFT) /* 4 MiB */
#define TA_SEGMENT_MASK (TA_SEGMENT_SIZE - 1)
#define TA_SEGMENT_MAX_PAGES (TA_SEGMENT_SIZE >> TA_SMALL_PAGE_SHIFT)
/* The page shift of a one-page (huge) segment: shifting any offset from the
 * segment start by it, however far into the block, gives page 0. */
#define TA_ONE_PAGE_SHIFT ((uint32_t)(8 * sizeof(uintptr_t) - 1))
/* The header is rounded up to this (or the OS page, if larger), which bounds
 * the alignment the first page's blocks get for free. */
#define TA_SEGMENT_HEADER_ALIGN ((size_t)16384)

struct ta_heap;

/* Where a segment's memory came from, and so where it goes back: slots of an
 * arena region, or a reservation of its own from the mapper. */
typedef struct ta_segment_source {
  bool direct;
  union {
    ta_arena_span_t span;
    struct {
      void *base;
      size_t size;
      size_t committed; /* bytes of it committed, for the statistics */
    } mapping;
  } u;
} ta_segment_source_t;

/* A free block: its first word links the free list, its second marks it free
 * (see ta_block_free_mark), so that a double free is cheap to suspect. */
typedef struct ta_block {
  struct ta_block *next;
  uintptr_t free_mark;
} ta_block_t;

#ifdef __cplusplus
#define TA_ALIGNAS(n) alignas(n)
#else
#define TA_ALIGNAS(n) _Alignas(n)
#endif
/* What false sharing is kept apart by: a constant, as alignas needs one.
 * Cores of these targets fetch 128 bytes at a time (lines of 128, or pairs
 * of 64); heap_test checks it against ta_sysinfo()'s line on every run. */
#if defined(__aarch64__) || defined(__powerpc64__) || defined(_M_ARM64)
#define TA_CACHE_LINE 128
#else
#define TA_CACHE_LINE 64
#endif

/* The first cache line holds what the owner's fast paths touch; remote_free,
 * which other threads write, sits on the second, so that a stream of remote
 * frees does not pull the owner's line away on every push. */
typedef struct ta_page {
  ta_block_t *free;       /* the owner allocates from it */
  ta_block_t *local_free; /* the owner frees onto it (see ta_page_push_free) */
  uint8_t *area;          /* first block */
  /* What ta_page_block_index multiplies an offset by. */
  uint64_t block_multiplier;
  /* Blocks handed out and not yet collected back, less one, and less
   * TA_PAGE_NOTICE_OFFSET while free_flags is not 0 (ta_page_used undoes
   * both): the local free's decrement alone then says, by going negative,
   * that the page needs a look after it (emptied, full, holes), with one
   * test and no second load. */
  int32_t used_word;
  /* Bytes of the area carved into blocks so far (see carved_blocks). */
  TA_ATOMIC(uint32_t) carved_bytes;
  /* Blocks carved so far (lazily), the bound of a valid block index:
   * carved_bytes in blocks. Frees through other heaps read it (with
   * __atomic_load_n) while the owner may be carving more (__atomic_store_n);
   * the owner's free fast path reads it plainly, which no write of another
   * thread can race: a plain field, not _Atomic, so that the compiler folds
   * that read into the comparison (GCC does not fold an atomic load), and
   * 64-bit, as block_size is, so that no load widens it first. */
  uint64_t carved_blocks;
  /* 64-bit: the free fast path compares it with the layout's size straight
   * from memory, with no load to widen it first. */
  uint64_t block_size;
  uint8_t size_class;
  bool in_use; /* serving a class (or a huge block) */
  /* TA_PAGE_* bits: any of them sends a local free to the slow path after
   * its push (one test on the fast path for all of them). */
  uint8_t free_flags;
  /* The granule size of holes (below) is 1 << hole_shift bytes; 0: the page
   * gets none. */
  uint8_t hole_shift;
  /* What the heap's upkeep saw of the page last time: its blocks in use,
   * and whether it has looked for holes since they last changed. */
  bool holes_looked;
  /* Blocks freed through other heaps, a stack of ta_block_t; exactly
   * TA_REMOTE_WATCHED (an empty stack) while the page is full and off its
   * queue: remote frees then go to the owner's remote_blocks, and only the
   * owner writes this until it takes the watch off (ta_page_unwatch). */
  TA_ALIGNAS(TA_CACHE_LINE) TA_ATOMIC(uintptr_t) remote_free;
  uint32_t carve_limit; /* bytes of the whole blocks that fit the page */
  uint32_t quiet_used;  /* see holes_looked */
  /* A free page: the carved bytes of its last use, whose blocks are still
   * on its lists for the next take by the same class; 0 if none. Owner
   * only, but rare: off the first line. */
  uint32_t kept_bytes;
  /* How many times the quiet upkeeps a page needs before its holes are
   * purged double (ta_purge_backoff_on_reuse, from page_fill_holes); the
   * upkeeps the page has been quiet for (see holes_looked); and when its
   * holes were last purged (ta_clock_ms). */
  uint8_t hole_backoff;
  uint8_t quiet_upkeeps;
  uint64_t holes_purged_ms;
  ta_list_node_t queue_node; /* in the heap's class queue (a full page is on none) */
  /* Holes: granules (OS pages) of the area that held only free blocks and
   * were purged while the page stayed in use (page.c); bit i is the granule
   * at i granules from the area's start rounded down. Their blocks are on no
   * free list until the page runs dry. Atomic: frees through other heaps
   * check them. */
  TA_ATOMIC(uint64_t) holes;
} ta_page_t;

/* Bits of ta_page_t.free_flags. */
#define TA_PAGE_FULL ((uint8_t)1)  /* full: off its class queue, on no list */
#define TA_PAGE_HOLES ((uint8_t)2) /* holes is not 0 */

/* Counts stay far below it (a 4 MiB segment of 16-byte blocks holds 2^18),
 * so a flagged page's used_word is negative at any count, also one below 0
 * (a double free into a hole must still reach the check). */
#define TA_PAGE_NOTICE_OFFSET INT32_C(0x40000000)

static inline uint32_t ta_page_used(const ta_page_t *page) {
  return (uint32_t)(page->used_word + 1 + (page->free_flags != 0 ? TA_PAGE_NOTICE_OFFSET : 0));
}

/* With free_flags 0. */
static inline void ta_page_set_used(ta_page_t *page, uint32_t used) {
  page->used_word = (int32_t)used - 1;
}

static inline void ta_page_flags_set(ta_page_t *page, uint8_t flags) {
  if (page->free_flags == 0) page->used_word -= TA_PAGE_NOTICE_OFFSET;
  page->free_flags |= flags;
}

static inline void ta_page_flags_clear(ta_page_t *page, uint8_t flags) {
  if (page->free_flags == 0) return;
  page->free_flags &= (uint8_t)~flags;
  if (page->free_flags == 0) page->used_word += TA_PAGE_NOTICE_OFFSET;
}

typedef struct ta_segment {
  uintptr_t cookie; /* ta_segment_cookie(self): catches a stale map entry */
  struct ta_heap *heap;
  ta_page_kind_t kind;
  uint32_t page_shift;
  /* The offset of a page's descriptor from pages[0] is
   * ((addr & page_index_mask) * page_index_scale) >> TA_PAGE_INDEX_SHIFT for
   * an address addr in the first chunk: no shift by a variable, which would
   * tie up the register the free fast path keeps the layout's alignment in
   * (see ta_segment_page_at). */
  uint32_t page_index_mask;
  uint64_t page_index_scale;
  uint32_t page_count;
  uint32_t pages_in_use;
  uint64_t free_pages; /* bit i: page i is free */
  size_t size;         /* bytes, a multiple of TA_SEGMENT_SIZE */
  size_t header_size;  /* bytes before the first page's area */
  /* Bytes the block may span, for huge segments. What ta_usable_size says
   * of the block is its page's block_size (ta_huge_set_usable): its size
   * rounded up to the OS page, which may be 3 MiB less for a 1 MiB block (a
   * program that sizes its own accounting by it, as RocksDB's arena does,
   * would count that); a realloc that grows the block in place raises it. */
  size_t huge_size;
  /* A huge block in arena slots freed through another heap and left to wait
   * past the purge delay: all of it but its first OS page was decommitted
   * (not purged), so the owner gives the slots back decommitted. */
  bool huge_decommitted;
  /* Any of a huge block's memory given back after a free through another
   * heap (purged or decommitted): not kept whole in the huge cache. */
  bool huge_given_back;
  /* A huge block freed through another heap, until its owner takes it: on
   * the list of remote_huge.c, since when, and whether it still is (read by
   * the owner without the list's lock). */
  ta_list_node_t remote_node;
  uint64_t remote_freed_at;
  TA_ATOMIC(bool) remote_listed;
  ta_segment_source_t source;
  ta_list_node_t heap_node; /* in the heap's list of all its segments */
  ta_list_node_t free_node; /* in the heap's list of segments with free pages */
  bool in_free_list;
  /* Free pages whose memory is still resident; when the segment last took or
   * gave back a page (its free pages are purged only once it has been quiet
   * for the purge delay: a program cycling through its pages would fault
   * them back in); and free pages purged (still committed), counted
   * committed again when taken. */
  uint64_t resident_free_pages;
  uint64_t pages_quiet_since;
  uint64_t purged_free_pages;
  /* When free pages were last purged; whether a take of a purged page has
   * answered that purge since (the first take after a purge counts, not each
   * of the pages it purged); and how many times the purge delay doubles for
   * this segment's free pages (ta_purge_backoff_on_reuse, on that take). */
  uint64_t purged_at;
  bool purge_answered;
  uint8_t purge_backoff;
  ta_page_t pages[TA_SEGMENT_MAX_PAGES];
} ta_segment_t;

/* In a page's remote_free: the owner wants the next remote free handed to
 * it (the heap's remote_blocks) rather than left on the page, where it would
 * not look for it. Blocks are 16-byte aligned, so the bit is free. */
#define TA_REMOTE_WATCHED ((uintptr_t)1)

static inline ta_block_t *ta_remote_list(uintptr_t remote_free) {
  return (ta_block_t *)(remote_free & ~TA_REMOTE_WATCHED);
}

/* What a live header holds in its cookie: a value tied to its address and to
 * a per-process secret, so that stale or forged memory is unlikely to pass
 * for it. */
static inline uintptr_t ta_segment_cookie(const ta_segment_t *segment) {
  return ta_secret(1) ^ (uintptr_t)segment;
}

/* The mark of a free block: a per-process secret xor the block's address.
 * Not one value for every block: a page taken again for another class keeps
 * old marks at what are now interior offsets of its blocks, where a program
 * may legally copy them (memmove of uninitialised bytes) to offset 8; with
 * the address in it, a mark moved anywhere else never matches. */
static inline uintptr_t ta_block_free_mark(const ta_block_t *block) {
  return ta_secret(2) ^ (uintptr_t)block;
}

static inline ta_segment_t *ta_segment_of(const void *ptr) {
  return (ta_segment_t *)((uintptr_t)ptr & ~(uintptr_t)TA_SEGMENT_MASK);
}

static inline ta_page_t *ta_segment_page_of(ta_segment_t *segment, const void *ptr) {
  size_t index = ((uintptr_t)ptr - (uintptr_t)segment) >> segment->page_shift;
  return &segment->pages[index];
}

/* The page of a pointer into the segment's first chunk, from the pointer's
 * low bits alone. */
#define TA_PAGE_INDEX_SHIFT TA_MEDIUM_PAGE_SHIFT
static inline ta_page_t *ta_segment_page_at(ta_segment_t *segment, uintptr_t addr) {
  uint64_t offset = ((uint64_t)(addr & segment->page_index_mask) * segment->page_index_scale) >>
                    TA_PAGE_INDEX_SHIFT;
  return (ta_page_t *)((uintptr_t)segment->pages + offset);
}

/* Bytes of the page's area (page size less any header in it). */
size_t ta_page_area_size(const ta_segment_t *segment, const ta_page_t *page);

/* Whether every block of class cls has alignment align (0 or not a power of
 * two: false): align divides the block size, and is at most the header
 * alignment, which bounds how aligned a page area is. One mask test, for the
 * alloc fast path. */
static inline bool ta_class_has_align(unsigned cls, size_t align) {
  return ((align - 1) & (align | ta_class_size(cls) | TA_SEGMENT_HEADER_ALIGN)) == 0;
}

/* The classes whose blocks are all aligned to 64 bytes or more are the
 * powers of two from 64 bytes and the 45 * 2^j from 2880 bytes, each aligned
 * to its power-of-two factor (up to the header's alignment). A request
 * aligned to a power of two from 64 bytes to the header's alignment, of at
 * most 32 times that and 256 KiB, is thus served by the smallest power of two
 * that holds both: any 45 * 2^j with the alignment is larger. That is the
 * class a search with ta_class_has_align finds (size_class_test checks),
 * without the search. */
static inline bool ta_aligned_class_is_power_of_two(size_t align, size_t size) {
  return align - 64 <= TA_SEGMENT_HEADER_ALIGN - 64 && (align & (align - 1)) == 0 &&
         size <= 32 * align && size <= ((size_t)1 << 18);
}

/* The class of such a request: that of 2^k (k = 6..18), where 64 bytes is
 * class 5 and from 128 bytes the classes run two per doubling. */
static inline unsigned ta_aligned_power_of_two_class(size_t align, size_t size) {
  size_t n = size > align ? size : align;
  unsigned k = 64u - (unsigned)__builtin_clzll((unsigned long long)(n - 1));
  return k == 6 ? 5u : 2u * k - 6u;
}

/* The alignment every class's blocks have (every class size is a multiple of
 * it; size_class_test checks). */
#define TA_CLASS_MIN_ALIGN 8

/* Whether align is a power of two of at most TA_CLASS_MIN_ALIGN: then every
 * class has it, and the alloc fast path needs no look at the class table. */
static inline bool ta_align_is_basic(size_t align) {
  return ((align - 1) & (align | ~(size_t)(TA_CLASS_MIN_ALIGN - 1))) == 0;
}

/* Looks up the segment of ptr through the segment map, validating the header.
 * NULL when ptr is not inside memory tinyalloc manages. */
ta_segment_t *ta_segment_lookup(const void *ptr);

/* Initialises a fresh segment of `size` bytes at base for one kind, owned by
 * heap, and marks it in the segment map. */
void ta_segment_init(ta_segment_t *segment, struct ta_heap *heap, ta_page_kind_t kind, size_t size);

/* Takes a free page of the segment (which must have one), one still
 * resident if there is any. */
ta_page_t *ta_segment_take_page(ta_segment_t *segment);

/* Gives a page back to its segment at time `now` (ta_clock_ms). Returns true
 * if the segment is now empty. */
bool ta_segment_return_page(ta_segment_t *segment, ta_page_t *page, uint64_t now);

/* Purges the memory of the segment's free pages still resident, one call per
 * run of adjacent pages, at time `now`; they stay committed, so only where
 * the mapper can purge (ta_os_can_purge). */
void ta_segment_purge_free_pages(ta_segment_t *segment, uint64_t now);

/* The most a purge's wait doubles where the program undoes its purges:
 * 32 times, 320 ms at the default delay, the longest that memory a program
 * keeps cycling through waits before it goes back once the program stops. */
#define TA_PURGE_BACKOFF_MAX 5

/* The purge delay doubled `backoff` times, saturating: a delay set near
 * UINT64_MAX (never purge) must not wrap to a short one. */
static inline uint64_t ta_purge_wait(uint64_t delay, uint8_t backoff) {
  return delay > (UINT64_MAX >> backoff) ? UINT64_MAX : delay << backoff;
}

/* On reuse of purged memory, `since_purge` ms after the purge, which had
 * waited `delay` doubled *backoff times: a reuse within a few waits undid
 * the purge (the memory faults back in, after a system call that also
 * flushed every thread's TLB), so the wait doubles; a reuse long after
 * halves it again. Memory a program cycles through on a period of a few
 * waits is then kept, and memory it leaves still goes back. */
static inline void ta_purge_backoff_on_reuse(uint8_t *backoff, uint64_t since_purge,
                                             uint64_t delay) {
  uint64_t waited = ta_purge_wait(delay, *backoff);
  if (since_purge / 8 < waited) {
    if (*backoff < TA_PURGE_BACKOFF_MAX) ++*backoff;
  } else if (since_purge / 64 >= waited && *backoff > 0) {
    --*backoff;
  }
}

/* Whether the segment's next take (ta_segment_take_page) is of a purged
 * page: it has no other free page. */
static inline bool ta_segment_next_take_is_purged(const ta_segment_t *segment) {
  return (segment->free_pages & ~segment->purged_free_pages) == 0;
}

/* Bytes of the segment's free pages that were purged: committed again, for
 * the books, when the segment goes back whole. */
size_t ta_segment_purged_free_bytes(const ta_segment_t *segment);

/* Clears the segment's marks in the segment map, before its memory goes away. */
void ta_segment_unmap(ta_segment_t *segment);

/* ta_page_block_index rotates by it: at least the power of two in any block
 * size (the classes', below 2^22, and a huge page's 1). */
#define TA_BLOCK_INDEX_ROTATION 22

/* With d the block size = d0 * 2^s (d0 odd): the offset n of addr from the
 * area times the inverse of d0 modulo 2^64 times 2^(22 - s), rotated right
 * by 22. Block k's offset k * d becomes k * 2^22, then k. An index j comes
 * only from offsets congruent to j * d modulo 2^(42 + s) (the multiply by an
 * odd number and the rotate are bijections), so for offsets within 2^41 of
 * the area either way, an index below the carved block count (whose bytes
 * fit 32 bits) comes only from that carved block's start: every other such
 * offset, inside a block or before the area, fails the bound (the test of
 * exact division by an invariant integer). A subtract, a multiply and a
 * rotate by a constant: no division, no register tied up by a variable
 * shift, and one comparison for both the offset and the bound. addr: in
 * the chunk of the page's segment header or of a huge block's area, as
 * every caller's is, so within 2^41 of the area. */
static inline uint64_t ta_page_block_index(const ta_page_t *page, uintptr_t addr) {
  uint64_t t = (uint64_t)(addr - (uintptr_t)page->area) * page->block_multiplier;
  return (t >> TA_BLOCK_INDEX_ROTATION) | (t << (64 - TA_BLOCK_INDEX_ROTATION));
}

/* A huge page carves 1 byte while its owner holds it (live, or freed
 * through another heap and waiting for the owner, when the free mark rules
 * out a second free), so that a free of the block start passes the fast
 * path's block test (any other offset fails), and none once its owner frees
 * it. Every other use checks the segment's kind first. */
static inline uint32_t ta_page_carved_bytes(const ta_page_t *page) {
  return atomic_load_explicit(&page->carved_bytes, memory_order_relaxed);
}

/* bytes: whole blocks of the page's class (or 0, before it has one); a huge
 * page's block size counts as 1 here (see ta_huge_alloc). */
static inline void ta_page_set_carved_bytes(ta_page_t *page, uint32_t bytes) {
  atomic_store_explicit(&page->carved_bytes, bytes, memory_order_relaxed);
  __atomic_store_n(&page->carved_blocks, ta_page_block_index(page, (uintptr_t)page->area + bytes),
                   __ATOMIC_RELAXED);
}

/* Sets block_size and block_multiplier; block_size > 0, and its power of
 * two at most 2^TA_BLOCK_INDEX_ROTATION. */
void ta_page_set_block_size(ta_page_t *page, uint32_t block_size);

/* Whether addr, an address in the page's segment, is the start of a block
 * carved in the page: the one test of a block pointer, for both free paths
 * and ta_usable_size. Free pages carve
 * nothing, so every test on them fails (a huge page: see
 * ta_page_carved_bytes). */
static inline bool ta_page_is_block_start(const ta_page_t *page, uintptr_t addr) {
  return ta_page_block_index(page, addr) < __atomic_load_n(&page->carved_blocks, __ATOMIC_RELAXED);
}

/* ta_page_is_block_start for the page's owner, the only thread that writes
 * carved_blocks: a plain read, one instruction fewer on the fast path. */
static inline bool ta_page_is_owned_block_start(const ta_page_t *page, uintptr_t addr) {
  return ta_page_block_index(page, addr) < page->carved_blocks;
}

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_SEGMENT_H_ */
