/* tinyalloc: a memory allocator with explicit heaps.
 *
 * Depend on //alloc:tinyalloc (or @tinyalloc//alloc:tinyalloc) and include
 * "tinyalloc/tinyalloc.h"; no other header is needed. C11, usable from C++.
 *
 * Threads: a heap is used by one thread at a time (the user decides which);
 * different heaps may be used at the same time from different threads, since
 * they share the process-wide arenas safely. Per function below: "any thread"
 * means it may run concurrently with any other call; "heap's thread" means only
 * the thread currently holding that heap may call it.
 */
#ifndef TINYALLOC_TINYALLOC_H_
#define TINYALLOC_TINYALLOC_H_

#include <stdbool.h>
#include <stddef.h>

#include "tinyalloc/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ta_heap ta_heap_t; /* opaque */

typedef struct ta_layout {
  size_t size;
  size_t align;
} ta_layout_t;

/* The largest alignment a layout may ask for (1 GiB). */
#define TA_LAYOUT_MAX_ALIGN ((size_t)1 << 30)

/* Validates a layout: align must be a power of two >= 1 and at most
 * TA_LAYOUT_MAX_ALIGN; size + align must not overflow and size must be
 * <= PTRDIFF_MAX. Returns TA_OK and fills *out, or TA_ERR_INVALID_LAYOUT
 * (TA_ERR_INVALID_ARGUMENT if out is NULL) and leaves *out alone.
 * Any thread. */
ta_error_t ta_layout_make(size_t size, size_t align, ta_layout_t *out);

/* A new, empty heap, or NULL when the OS refuses memory for it (the reason is
 * then in ta_last_os_error()). Any thread; the caller holds the new heap. */
ta_heap_t *ta_heap_new(void);

/* Frees every block the heap still holds and returns its memory: segments go
 * back to the process-wide arena, which keeps recently freed ones committed
 * for reuse and purges them after a delay (TA_OPTION_PURGE_DELAY_MS); blocks mapped on their own
 * (over 32 MiB, or aligned to 4 MiB or more) are released to the OS at once.
 * NULL is a no-op. A heap destroyed already (or a pointer no ta_heap_new
 * returned) is refused without being read: nothing happens, and debug builds
 * print a message. Heap's thread; afterwards no thread may use the heap or any
 * block it owned, nor free such a block through another heap. */
void ta_heap_destroy(ta_heap_t *heap);

/* Returns to the OS all memory no heap is using: every free segment is
 * purged, and every arena region with no segment in use is released
 * (address space included). Default heaps that exited threads left behind
 * are collected first, and released once other threads freed all their
 * blocks. After the last heap is destroyed, ta_trim leaves
 * nothing reserved, and a new mapper may be installed. Any thread. */
void ta_trim(void);

/* A block of at least layout.size bytes aligned to layout.align, or NULL with
 * the reason in ta_heap_last_error(heap): TA_ERR_INVALID_LAYOUT,
 * TA_ERR_OUT_OF_MEMORY, TA_ERR_PLATFORM, or TA_ERR_INVALID_ARGUMENT for a NULL
 * heap. Size 0 gives a unique, freeable pointer. Every alignment that
 * ta_layout_make accepts works, including alignments larger than a page.
 * Heap's thread. */
void *ta_heap_alloc(ta_heap_t *heap, ta_layout_t layout);

/* Frees a block allocated by any live heap (not only this one); layout is the
 * one it was allocated with (its size may be anything between the requested
 * size and ta_usable_size). NULL is a no-op. A block owned by another heap goes
 * back to that heap safely, even while its owner is in use on another thread.
 * Misuse is detected and leaves the allocator intact: a pointer tinyalloc did
 * not hand out, a pointer into the middle of a block, a double free, or a
 * layout that does not match the block record TA_ERR_INVALID_POINTER (or
 * TA_ERR_INVALID_LAYOUT) in ta_heap_last_error(heap) and free nothing; debug
 * builds (-c dbg) also print a message naming the function to stderr.
 * Double frees racing on several threads: of two or more frees of one block
 * through heaps other than its owner, exactly one succeeds and the others
 * record TA_ERR_INVALID_POINTER (the block is claimed atomically). A free
 * through the owner racing a free through another heap is caught only as
 * well as the timing allows: the owner's own path takes no atomic.
 * A stale pointer (its block freed, and its segment given up by its owner)
 * is refused through the segment map without being read. One window
 * remains: a free that found the segment in the map while the owner, on
 * another thread, is giving the segment up reads its header after the owner
 * cleared the map; if the memory is unmapped in between (segments mapped on
 * their own are released at once, arena segments only after a purge delay)
 * that read faults. Freeing a block while its owner may be freeing the same
 * memory is a use after free by the program.
 * Heap's thread (of `heap`, not of the block's owner). */
void ta_heap_free(ta_heap_t *heap, void *ptr, ta_layout_t layout);

/* The number of bytes usable at ptr (>= the size it was allocated with), or 0
 * if ptr is NULL or not a live block start handed out by tinyalloc: a block
 * already freed (through any heap, waiting for its owner or not) gives 0.
 * Any thread, for a block no thread is freeing at the same time. */
size_t ta_usable_size(const void *ptr);

/* The error of the last failed call on heap (TA_OK if none failed yet), or
 * TA_ERR_INVALID_ARGUMENT for a NULL heap. Heap's thread. */
ta_error_t ta_heap_last_error(const ta_heap_t *heap);

/* Upkeep on demand: takes back the blocks other heaps freed, returns every
 * page of the heap left empty to its segment and every empty segment to the
 * arena, and purges the free memory whose purge delay has passed and, on
 * Linux, the OS pages inside the heap's pages in use that hold only free
 * blocks. The same happens on its own over time; this is for a program
 * about to go idle.
 * NULL is refused (TA_ERR_INVALID_ARGUMENT; debug builds print a message).
 * Heap's thread. */
void ta_heap_collect(ta_heap_t *heap);

/* ---- statistics and introspection ----
 * Computed when asked, from the arena's books and the page descriptors:
 * nothing is counted on the allocation and free paths. */

/* The whole process. */
typedef struct ta_stats_s {
  size_t reserved_bytes;       /* address space reserved from the OS */
  size_t committed_bytes;      /* of it, committed now (not counting purged free pages;
                                * holes purged inside pages in use stay counted) */
  size_t peak_committed_bytes; /* the most committed_bytes has been */
  size_t purged_bytes;         /* purged because free, so far */
  size_t retained_bytes;       /* free, kept committed for reuse */
  size_t segment_bytes;        /* 4 MiB segments that heaps hold, as bytes */
  size_t small_segments;       /* those segments, by the pages they carve */
  size_t medium_segments;
  size_t large_segments;
  size_t huge_segments;        /* one huge block each */
} ta_stats_t;

/* Fills *out (TA_ERR_INVALID_ARGUMENT if out is NULL). Any thread; the
 * fields are read one by one while other threads go on, so they are exact
 * only when nothing else runs. */
ta_error_t ta_stats_get(ta_stats_t *out);

/* One size class of a heap. */
#define TA_STATS_CLASSES 32
typedef struct ta_class_stats_s {
  size_t block_size;  /* bytes of each block of the class */
  size_t live_blocks; /* handed out and not freed */
  size_t pages;       /* pages serving the class */
} ta_class_stats_t;

typedef struct ta_heap_stats_s {
  ta_class_stats_t classes[TA_STATS_CLASSES];
  size_t huge_blocks;  /* live blocks above the largest class */
  size_t huge_bytes;   /* their usable bytes */
  size_t live_blocks;  /* all live blocks */
  size_t live_bytes;   /* their usable bytes */
} ta_heap_stats_t;

/* Fills *out for heap, having first taken back the blocks other heaps freed
 * to it. TA_ERR_INVALID_ARGUMENT for a NULL argument. Heap's thread. */
ta_error_t ta_heap_stats(ta_heap_t *heap, ta_heap_stats_t *out);

/* Called for each live block: its address and usable size. Returns false to
 * stop the walk. Must not allocate from or free to the heap being walked. */
typedef bool (*ta_block_visitor_t)(const ta_heap_t *heap, void *block, size_t usable_size,
                                   void *arg);

/* Calls visit for every live block of heap (blocks freed through other heaps
 * are taken back first and not visited), in no particular order; stops when
 * visit returns false. TA_ERR_INVALID_ARGUMENT for a NULL heap or visit.
 * Heap's thread. */
ta_error_t ta_heap_visit_blocks(ta_heap_t *heap, ta_block_visitor_t visit, void *arg);

/* Whether ptr points into a live block of heap (at its start or inside).
 * False for NULL, for foreign memory (not read), and for a free block. Heap's
 * thread. */
bool ta_heap_contains(ta_heap_t *heap, const void *ptr);

/* Receives the report of ta_stats_print one line at a time (with its '\n'). */
typedef void (*ta_stats_writer_t)(const char *line, void *arg);

/* Writes a readable report: the process-wide figures and, if heap is not
 * NULL, that heap's live blocks per class. write NULL writes to stderr.
 * Heap's thread when heap is given, else any thread. */
void ta_stats_print(ta_heap_t *heap, ta_stats_writer_t write, void *arg);

/* ---- options ----
 * Settings of the whole process. Each is read once, at the first use of
 * tinyalloc, from its environment variable TINYALLOC_<NAME> (a decimal
 * number; a malformed one gets a message on stderr and the default), and may
 * be changed with ta_option_set at any time, from any thread: tinyalloc uses
 * the new value from its next consultation on. */
typedef enum ta_option {
  /* TINYALLOC_PURGE_DELAY_MS (default 10): how long free memory stays
   * committed for reuse before it is purged, in milliseconds; 0 purges it as
   * soon as it is free. A purge gives the pages' physical memory back to the
   * OS: on Linux with MADV_DONTNEED, the pages staying mapped so that reuse
   * needs no system call; elsewhere by decommitting them. On Linux the OS
   * pages of free blocks inside a page still in use go back too, once no
   * block has been freed into that page for the delay. Memory that a
   * program takes again soon after its purge waits longer before its next
   * one, up to 32 times the delay, and so does the rest of that heap's
   * memory while it waits (ta_heap_collect waits only the delay). It is
   * done by the next thread that takes a slow path of tinyalloc after the
   * delay (every thread that allocates does so regularly), or by
   * ta_heap_collect or ta_trim. */
  TA_OPTION_PURGE_DELAY_MS,
  /* TINYALLOC_RETAIN_BYTES (default 134217728, 128 MiB; suffixes K, M and G
   * multiply by 1024, 1024^2, 1024^3): the most free memory kept committed
   * for reuse (free segments, and huge blocks kept whole for the next one of
   * their size); memory freed beyond it is purged at once. 128 MiB holds a
   * 64 MiB buffer freed and allocated again, for at most the purge delay. */
  TA_OPTION_RETAIN_BYTES,
  /* TINYALLOC_SHOW_STATS (default 0): 1 prints ta_stats_print's process-wide
   * report to stderr at exit (registered when the first heap is made). */
  TA_OPTION_SHOW_STATS,
  /* TINYALLOC_VERBOSE (default 0): 1 prints a line on stderr for each misuse
   * found (foreign pointer, double free, invalid layout) in every build;
   * debug builds always do. */
  TA_OPTION_VERBOSE,
  TA_OPTION_COUNT /* not an option; more options may be added before it */
} ta_option_t;

/* Sets an option: TA_OK, or TA_ERR_INVALID_ARGUMENT (and nothing changes)
 * for an unknown option or a negative value. Any thread. */
ta_error_t ta_option_set(ta_option_t option, long long value);

/* The option's value, or -1 for an unknown option. Any thread. */
long long ta_option_get(ta_option_t option);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_TINYALLOC_H_ */
