/* windows_bench: tinyalloc beside the Win32 heap and the CRT's malloc, on
 * Windows: a subset of the micro workloads of bench/alloc_bench.cc with its
 * own timing loop, since Google Benchmark is not cross-built with mingw-w64.
 * tools/windows_bench.sh builds it with mingw-w64 and runs it under Wine.
 *
 *   UNDER WINE (how the script runs it) THE HeapAlloc AND CRT malloc COLUMNS
 *   MEASURE WINE'S IMPLEMENTATIONS (ntdll's heap; msvcrt.dll as Wine writes
 *   it), NOT WINDOWS'. They say how tinyalloc compares with those on this
 *   machine, nothing about how it compares with Windows' own heap.
 *
 * The columns, behind one table of functions (struct allocator):
 *   tinyalloc   single-thread rows: ta_heap_alloc / ta_heap_free on one heap
 *               of ta_heap_new (plain blocks ask for alignment 8, as in
 *               alloc_bench), destroyed at the end of the run; the threaded
 *               rows: ta_malloc / ta_free (each thread's default heap; a
 *               block freed by another thread goes back to its owner)
 *   HeapAlloc   HeapAlloc / HeapFree on a private heap, HeapCreate(0, 0, 0)
 *               (serialised, growable), made for the run and destroyed after
 *               it; the threaded rows share one such heap. Win32 has no
 *               aligned HeapAlloc: aligned rows over-allocate by the
 *               alignment and align by hand
 *   CRT malloc  malloc / free of the C runtime the program links (msvcrt.dll
 *               with Debian's mingw-w64), _aligned_malloc / _aligned_free
 * Every call goes through the table, so each column pays the same indirect
 * call (in alloc_bench, tinyalloc is called directly).
 *
 * The rows (an op is one allocation and its free unless said otherwise):
 *   pair_SIZE       allocate, mark, check, free; a ballast block of the size
 *                   stays live throughout
 *   churn           free a random one of 10,000 live blocks and allocate one
 *                   of a random size in its place (alloc_bench's sequences:
 *                   70% 8..128 B, 20% ..1 KiB, 8% ..8 KiB, 2% ..32 KiB;
 *                   30,000 warm-up steps untimed)
 *   aligned_ALIGN   64 blocks of 1/2, 1, 3/2, 2 x ALIGN aligned to ALIGN, then
 *                   their frees: per block
 *   large_NM        allocate N MiB, mark its first and last bytes, free
 *   bulk_alloc      10,000 churn-sized blocks from a fresh heap: per block
 *   bulk_each       those 10,000 freed one by one, then the empty heap
 *                   destroyed (the CRT has none): per block
 *   threads2_churn  churn on two threads at once: wall time per op of both
 *   prodcons        this thread allocates 16..256 B blocks and passes them
 *                   through a 1024-slot ring to a second thread, which
 *                   checks and frees them: wall time per block
 *
 * Every block is marked (a byte pattern in its first and last 8 bytes,
 * different for each block) when allocated and checked before it is freed;
 * a mismatch or a failed allocation prints the row and column and exits 1.
 *
 * Timing: QueryPerformanceCounter. A cell is the median of 3 runs of a loop
 * sized, from calibration runs, to take about 100 ms; ns/op = time / ops.
 * Ratios are peer ns/op / tinyalloc ns/op: above 1, tinyalloc is faster.
 *
 *   windows_bench [--smoke] [--json FILE] [--workload NAME]
 *     --smoke          tiny fixed iteration counts (checks that it works)
 *     --json FILE      also writes the numbers to FILE
 *     --workload NAME  runs that row only
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <malloc.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tinyalloc/malloc.h"
#include "tinyalloc/tinyalloc.h"

/* ---- the columns ---- */

typedef struct allocator {
  const char *name;      /* column heading */
  const char *json_name; /* key in the JSON output */
  /* Single-thread rows: a context made for the run (a heap, or nothing). */
  void *(*open)(void);
  void (*close)(void *ctx);
  void *(*alloc)(void *ctx, size_t size);
  void (*release)(void *ctx, void *block, size_t size);
  void *(*alloc_aligned)(void *ctx, size_t size, size_t align);
  void (*release_aligned)(void *ctx, void *block, size_t size, size_t align);
  /* Threaded rows: one context shared by every thread, and calls that any
   * thread may make on any block. */
  void *(*mt_open)(void);
  void (*mt_close)(void *shared);
  void *(*mt_alloc)(void *shared, size_t size);
  void (*mt_release)(void *shared, void *block);
} allocator;

#define PLAIN_ALIGN 8 /* what tinyalloc is told for a plain block */

static void die(const char *fmt, ...) __attribute__((format(gnu_printf, 1, 2), noreturn));

static void *ta_open(void) {
  ta_heap_t *heap = ta_heap_new();
  if (heap == NULL) die("ta_heap_new returned NULL");
  return heap;
}
static void ta_close(void *ctx) { ta_heap_destroy(ctx); }
static void *ta_alloc(void *ctx, size_t size) {
  return ta_heap_alloc(ctx, (ta_layout_t){size, PLAIN_ALIGN});
}
static void ta_release(void *ctx, void *block, size_t size) {
  ta_heap_free(ctx, block, (ta_layout_t){size, PLAIN_ALIGN});
}
static void *ta_alloc_aligned(void *ctx, size_t size, size_t align) {
  return ta_heap_alloc(ctx, (ta_layout_t){size, align});
}
static void ta_release_aligned(void *ctx, void *block, size_t size, size_t align) {
  ta_heap_free(ctx, block, (ta_layout_t){size, align});
}
static void *ta_mt_open(void) { return NULL; }
static void ta_mt_close(void *shared) { (void)shared; }
static void *ta_mt_alloc(void *shared, size_t size) {
  (void)shared;
  return ta_malloc(size);
}
static void ta_mt_release(void *shared, void *block) {
  (void)shared;
  ta_free(block);
}

static void *win_open(void) {
  HANDLE heap = HeapCreate(0, 0, 0);
  if (heap == NULL) die("HeapCreate failed (error %lu)", (unsigned long)GetLastError());
  return heap;
}
static void win_close(void *ctx) {
  if (!HeapDestroy(ctx)) die("HeapDestroy failed (error %lu)", (unsigned long)GetLastError());
}
static void *win_alloc(void *ctx, size_t size) { return HeapAlloc(ctx, 0, size); }
static void win_release(void *ctx, void *block, size_t size) {
  (void)size;
  if (!HeapFree(ctx, 0, block)) die("HeapFree failed (error %lu)", (unsigned long)GetLastError());
}
/* Over-allocates by align plus a pointer, keeps the raw block's address just
 * before the aligned one. */
static void *win_alloc_aligned(void *ctx, size_t size, size_t align) {
  char *raw = HeapAlloc(ctx, 0, size + align + sizeof(void *));
  if (raw == NULL) return NULL;
  uintptr_t at = ((uintptr_t)raw + sizeof(void *) + align - 1) & ~(uintptr_t)(align - 1);
  ((void **)at)[-1] = raw;
  return (void *)at;
}
static void win_release_aligned(void *ctx, void *block, size_t size, size_t align) {
  (void)align;
  win_release(ctx, ((void **)block)[-1], size);
}
static void *win_mt_alloc(void *shared, size_t size) { return HeapAlloc(shared, 0, size); }
static void win_mt_release(void *shared, void *block) { win_release(shared, block, 0); }

static void *crt_open(void) { return NULL; }
static void crt_close(void *ctx) { (void)ctx; }
static void *crt_alloc(void *ctx, size_t size) {
  (void)ctx;
  return malloc(size);
}
static void crt_release(void *ctx, void *block, size_t size) {
  (void)ctx;
  (void)size;
  free(block);
}
static void *crt_alloc_aligned(void *ctx, size_t size, size_t align) {
  (void)ctx;
  return _aligned_malloc(size, align);
}
static void crt_release_aligned(void *ctx, void *block, size_t size, size_t align) {
  (void)ctx;
  (void)size;
  (void)align;
  _aligned_free(block);
}
static void *crt_mt_alloc(void *shared, size_t size) { return crt_alloc(shared, size); }
static void crt_mt_release(void *shared, void *block) { crt_release(shared, block, 0); }

#define N_ALLOCATORS 3
static const allocator kAllocators[N_ALLOCATORS] = {
    {"tinyalloc", "tinyalloc", ta_open, ta_close, ta_alloc, ta_release, ta_alloc_aligned,
     ta_release_aligned, ta_mt_open, ta_mt_close, ta_mt_alloc, ta_mt_release},
    {"HeapAlloc", "heapalloc", win_open, win_close, win_alloc, win_release, win_alloc_aligned,
     win_release_aligned, win_open, win_close, win_mt_alloc, win_mt_release},
    {"CRT malloc", "crt_malloc", crt_open, crt_close, crt_alloc, crt_release, crt_alloc_aligned,
     crt_release_aligned, crt_open, crt_close, crt_mt_alloc, crt_mt_release},
};

/* ---- failures, marks, the clock ---- */

static char g_cell[64] = "setup"; /* "row/column" being run, for messages */

static void die(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  fflush(stdout);
  fprintf(stderr, "windows_bench: %s: ", g_cell);
  vfprintf(stderr, fmt, args);
  fputc('\n', stderr);
  va_end(args);
  exit(1);
}

static void *must(void *block, size_t size) {
  if (block == NULL) die("allocating %zu bytes returned NULL", size);
  return block;
}

/* A block's mark: a word at its start and, from 16 bytes on, one at its end
 * (every block here is at least 8 bytes), each a pattern of the block's tag
 * and the offset. Cheap, so that it adds little to each op, the same for
 * every column. */
static inline uint64_t mark_word(uint32_t tag, size_t offset) {
  return ((uint64_t)tag + 1) * 0x9e3779b97f4a7c15ull ^ (uint64_t)offset * 0xff51afd7ed558ccdull;
}

/* Not inlined, so that check really reads what is in memory. */
__attribute__((noinline)) static void mark(void *block, size_t size, uint32_t tag) {
  uint64_t word = mark_word(tag, 0);
  memcpy(block, &word, sizeof(word));
  if (size >= 16) {
    word = mark_word(tag, size - 8);
    memcpy((char *)block + size - 8, &word, sizeof(word));
  }
}

static void check_word(const void *block, size_t size, uint32_t tag, size_t offset) {
  uint64_t word;
  memcpy(&word, (const char *)block + offset, sizeof(word));
  if (word != mark_word(tag, offset)) {
    die("block %p of %zu bytes corrupted: the 8 bytes at offset %zu are 0x%016llx, expected "
        "0x%016llx",
        block, size, offset, (unsigned long long)word,
        (unsigned long long)mark_word(tag, offset));
  }
}

__attribute__((noinline)) static void check(const void *block, size_t size, uint32_t tag) {
  check_word(block, size, tag, 0);
  if (size >= 16) check_word(block, size, tag, size - 8);
}

static double g_seconds_per_tick;

static int64_t ticks(void) {
  LARGE_INTEGER t;
  QueryPerformanceCounter(&t);
  return t.QuadPart;
}

static double seconds(int64_t t) { return (double)t * g_seconds_per_tick; }

/* ---- the sequences of alloc_bench (bench/sizes.cc, bench/workloads.cc) ---- */

#define TABLE_SIZE (1u << 16)
#define TABLE_MASK (TABLE_SIZE - 1)
#define CHURN_LIVE 10000
#define WARMUP_STEPS (3 * CHURN_LIVE)

typedef struct rng {
  uint64_t state;
} rng;

/* splitmix64, as tabench::Rng. */
static uint64_t rng_next(rng *r) {
  uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static size_t rng_between(rng *r, size_t lo, size_t hi) {
  return lo + (size_t)(rng_next(r) % (hi - lo + 1));
}

static size_t churn_size(rng *r) {
  uint64_t pick = rng_next(r) % 100;
  if (pick < 70) return rng_between(r, 8, 128);
  if (pick < 90) return rng_between(r, 129, 1024);
  if (pick < 98) return rng_between(r, 1025, 8192);
  return rng_between(r, 8193, 32768);
}

static size_t g_churn_sizes[TABLE_SIZE];   /* seed 0xc4, churn_size */
static uint32_t g_churn_slots[TABLE_SIZE]; /* seed 0x51, uniform below CHURN_LIVE */
static size_t g_message_sizes[TABLE_SIZE]; /* seed 0x3e5, 16..256 */

static void build_tables(void) {
  rng sizes = {0xc4u}, slots = {0x51u}, messages = {0x3e5u};
  for (size_t i = 0; i < TABLE_SIZE; i++) g_churn_sizes[i] = churn_size(&sizes);
  for (size_t i = 0; i < TABLE_SIZE; i++) {
    g_churn_slots[i] = (uint32_t)(rng_next(&slots) % CHURN_LIVE);
  }
  for (size_t i = 0; i < TABLE_SIZE; i++) g_message_sizes[i] = rng_between(&messages, 16, 256);
}

/* ---- the rows ---- */

typedef struct workload workload;
/* Runs iters iterations of the row on a; returns the seconds timed. */
typedef double (*workload_fn)(const workload *w, const allocator *a, int64_t iters);

struct workload {
  const char *name;
  workload_fn run;
  size_t param;        /* size, alignment, bytes or phase */
  double ops_per_iter; /* ns/op = seconds / (iters * ops_per_iter) */
  int64_t smoke_iters;
};

static double pair(const workload *w, const allocator *a, int64_t iters) {
  size_t size = w->param;
  void *ctx = a->open();
  void *ballast = must(a->alloc(ctx, size), size);
  mark(ballast, size, 0);
  int64_t start = ticks();
  for (int64_t i = 0; i < iters; i++) {
    uint32_t tag = (uint32_t)i + 1;
    void *block = must(a->alloc(ctx, size), size);
    mark(block, size, tag);
    check(block, size, tag);
    a->release(ctx, block, size);
  }
  int64_t end = ticks();
  check(ballast, size, 0);
  a->release(ctx, ballast, size);
  a->close(ctx);
  return seconds(end - start);
}

/* A live set of CHURN_LIVE blocks, as tabench::ChurnSet: each step frees the
 * block of a random slot and allocates one of a random size in its place. */
typedef struct churn_set {
  const allocator *a;
  void *ctx;
  bool shared; /* through the threaded calls */
  size_t pos;
  void *blocks[CHURN_LIVE];
  size_t sizes[CHURN_LIVE];
  uint32_t tags[CHURN_LIVE];
} churn_set;

static churn_set g_sets[2]; /* one per thread; static, off every heap measured */

static void churn_place(churn_set *set, size_t slot, size_t size) {
  void *block = must(set->shared ? set->a->mt_alloc(set->ctx, size) : set->a->alloc(set->ctx, size),
                     size);
  uint32_t tag = (uint32_t)set->pos * 2654435761u + (uint32_t)slot;
  mark(block, size, tag);
  set->blocks[slot] = block;
  set->sizes[slot] = size;
  set->tags[slot] = tag;
}

static void churn_free(churn_set *set, size_t slot) {
  check(set->blocks[slot], set->sizes[slot], set->tags[slot]);
  if (set->shared) {
    set->a->mt_release(set->ctx, set->blocks[slot]);
  } else {
    set->a->release(set->ctx, set->blocks[slot], set->sizes[slot]);
  }
}

static void churn_step(churn_set *set) {
  size_t slot = g_churn_slots[set->pos & TABLE_MASK];
  churn_free(set, slot);
  churn_place(set, slot, g_churn_sizes[set->pos & TABLE_MASK]);
  set->pos++;
}

/* Fills the set and runs the warm-up steps; start picks where in the
 * sequences it begins (the two threads use different ones). */
static void churn_init(churn_set *set, const allocator *a, void *ctx, bool shared, size_t start) {
  set->a = a;
  set->ctx = ctx;
  set->shared = shared;
  set->pos = start;
  for (size_t i = 0; i < CHURN_LIVE; i++) {
    churn_place(set, i, g_churn_sizes[(start + TABLE_SIZE / 2 + i) & TABLE_MASK]);
  }
  for (size_t i = 0; i < WARMUP_STEPS; i++) churn_step(set);
}

static void churn_fini(churn_set *set) {
  for (size_t i = 0; i < CHURN_LIVE; i++) churn_free(set, i);
}

static double churn(const workload *w, const allocator *a, int64_t iters) {
  (void)w;
  void *ctx = a->open();
  churn_init(&g_sets[0], a, ctx, false, 0);
  int64_t start = ticks();
  for (int64_t i = 0; i < iters; i++) churn_step(&g_sets[0]);
  int64_t end = ticks();
  churn_fini(&g_sets[0]);
  a->close(ctx);
  return seconds(end - start);
}

#define ALIGNED_BATCH 64

static double aligned(const workload *w, const allocator *a, int64_t iters) {
  size_t align = w->param;
  size_t sizes[ALIGNED_BATCH];
  void *blocks[ALIGNED_BATCH];
  for (int i = 0; i < ALIGNED_BATCH; i++) sizes[i] = align * (size_t)(1 + i % 4) / 2;
  void *ctx = a->open();
  void *ballast[4];
  for (int i = 0; i < 4; i++) {
    ballast[i] = must(a->alloc_aligned(ctx, sizes[i], align), sizes[i]);
    mark(ballast[i], sizes[i], (uint32_t)i);
  }
  int64_t start = ticks();
  for (int64_t n = 0; n < iters; n++) {
    for (int i = 0; i < ALIGNED_BATCH; i++) {
      blocks[i] = must(a->alloc_aligned(ctx, sizes[i], align), sizes[i]);
      if (((uintptr_t)blocks[i] & (align - 1)) != 0) {
        die("block %p of %zu bytes is not aligned to %zu", blocks[i], sizes[i], align);
      }
      mark(blocks[i], sizes[i], (uint32_t)(n * ALIGNED_BATCH + i + 4));
    }
    for (int i = 0; i < ALIGNED_BATCH; i++) {
      check(blocks[i], sizes[i], (uint32_t)(n * ALIGNED_BATCH + i + 4));
      a->release_aligned(ctx, blocks[i], sizes[i], align);
    }
  }
  int64_t end = ticks();
  for (int i = 0; i < 4; i++) {
    check(ballast[i], sizes[i], (uint32_t)i);
    a->release_aligned(ctx, ballast[i], sizes[i], align);
  }
  a->close(ctx);
  return seconds(end - start);
}

static double large(const workload *w, const allocator *a, int64_t iters) {
  size_t bytes = w->param;
  void *ctx = a->open();
  int64_t start = ticks();
  for (int64_t i = 0; i < iters; i++) {
    void *block = must(a->alloc(ctx, bytes), bytes);
    mark(block, bytes, (uint32_t)i);
    check(block, bytes, (uint32_t)i);
    a->release(ctx, block, bytes);
  }
  int64_t end = ticks();
  a->close(ctx);
  return seconds(end - start);
}

#define BULK_BLOCKS 10000
enum { BULK_ALLOC, BULK_EACH }; /* which phase bulk() times */
static void *g_bulk_blocks[BULK_BLOCKS];

static double bulk(const workload *w, const allocator *a, int64_t iters) {
  int64_t timed = 0;
  for (int64_t n = 0; n < iters; n++) {
    void *ctx = a->open();
    int64_t t0 = ticks();
    for (size_t i = 0; i < BULK_BLOCKS; i++) {
      g_bulk_blocks[i] = must(a->alloc(ctx, g_churn_sizes[i]), g_churn_sizes[i]);
      mark(g_bulk_blocks[i], g_churn_sizes[i], (uint32_t)i);
    }
    int64_t t1 = ticks();
    for (size_t i = 0; i < BULK_BLOCKS; i++) check(g_bulk_blocks[i], g_churn_sizes[i], (uint32_t)i);
    int64_t t2 = ticks();
    for (size_t i = 0; i < BULK_BLOCKS; i++) a->release(ctx, g_bulk_blocks[i], g_churn_sizes[i]);
    a->close(ctx);
    int64_t t3 = ticks();
    timed += w->param == BULK_ALLOC ? t1 - t0 : t3 - t2;
  }
  return seconds(timed);
}

/* threads2_churn: each thread fills its set (untimed), says it is ready,
 * waits for the start, runs its steps and notes when it finished. */
typedef struct churn_thread {
  churn_set *set;
  const allocator *a;
  void *shared;
  size_t start;
  int64_t iters;
  int64_t end; /* ticks when its steps were done */
} churn_thread;

static atomic_int g_ready;
static HANDLE g_go;

static DWORD WINAPI churn_thread_main(void *arg) {
  churn_thread *t = arg;
  churn_init(t->set, t->a, t->shared, true, t->start);
  atomic_fetch_add(&g_ready, 1);
  WaitForSingleObject(g_go, INFINITE);
  for (int64_t i = 0; i < t->iters; i++) churn_step(t->set);
  t->end = ticks();
  churn_fini(t->set);
  return 0;
}

static HANDLE start_thread(LPTHREAD_START_ROUTINE fn, void *arg) {
  HANDLE thread = CreateThread(NULL, 0, fn, arg, 0, NULL);
  if (thread == NULL) die("CreateThread failed (error %lu)", (unsigned long)GetLastError());
  return thread;
}

static void join_thread(HANDLE thread) {
  if (WaitForSingleObject(thread, INFINITE) != WAIT_OBJECT_0) die("WaitForSingleObject failed");
  DWORD code = 1;
  GetExitCodeThread(thread, &code);
  CloseHandle(thread);
  if (code != 0) die("a thread exited with %lu", (unsigned long)code);
}

static double threads_churn(const workload *w, const allocator *a, int64_t iters) {
  (void)w;
  void *shared = a->mt_open();
  churn_thread threads[2];
  HANDLE handles[2];
  atomic_store(&g_ready, 0);
  g_go = CreateEventA(NULL, TRUE, FALSE, NULL);
  if (g_go == NULL) die("CreateEvent failed");
  for (int k = 0; k < 2; k++) {
    threads[k] = (churn_thread){&g_sets[k], a, shared, (size_t)k * (TABLE_SIZE / 2), iters, 0};
    handles[k] = start_thread(churn_thread_main, &threads[k]);
  }
  while (atomic_load(&g_ready) < 2) Sleep(1);
  int64_t start = ticks();
  SetEvent(g_go);
  for (int k = 0; k < 2; k++) join_thread(handles[k]);
  CloseHandle(g_go);
  a->mt_close(shared);
  int64_t end = threads[0].end > threads[1].end ? threads[0].end : threads[1].end;
  return seconds(end - start);
}

/* prodcons: a single-producer single-consumer ring of 1024 blocks. */
typedef struct ring_item {
  void *block;
  size_t size;
  uint32_t tag;
} ring_item;

#define RING_CAPACITY 1024

typedef struct ring {
  ring_item items[RING_CAPACITY];
  _Alignas(64) atomic_size_t head;
  size_t tail_cache; /* the consumer's */
  _Alignas(64) atomic_size_t tail;
  size_t head_cache; /* the producer's */
  const allocator *a;
  void *shared;
} ring;

static ring g_ring;

static void backoff(unsigned spins) {
  if (spins < 256) {
    __builtin_ia32_pause();
  } else {
    SwitchToThread(); /* the other side may share our core */
  }
}

static void ring_push(ring *r, ring_item item) {
  size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
  for (unsigned spins = 0; tail - r->head_cache == RING_CAPACITY; spins++) {
    r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
    backoff(spins);
  }
  r->items[tail % RING_CAPACITY] = item;
  atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
}

static ring_item ring_pop(ring *r) {
  size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
  for (unsigned spins = 0; head == r->tail_cache; spins++) {
    r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
    backoff(spins);
  }
  ring_item item = r->items[head % RING_CAPACITY];
  atomic_store_explicit(&r->head, head + 1, memory_order_release);
  return item;
}

static DWORD WINAPI consumer_main(void *arg) {
  ring *r = arg;
  for (;;) {
    ring_item item = ring_pop(r);
    if (item.block == NULL) break;
    check(item.block, item.size, item.tag);
    r->a->mt_release(r->shared, item.block);
  }
  return 0;
}

static double prodcons(const workload *w, const allocator *a, int64_t iters) {
  (void)w;
  ring *r = &g_ring;
  atomic_store(&r->head, 0);
  atomic_store(&r->tail, 0);
  r->tail_cache = 0;
  r->head_cache = 0;
  r->a = a;
  r->shared = a->mt_open();
  HANDLE consumer = start_thread(consumer_main, r);
  int64_t start = ticks();
  for (int64_t i = 0; i < iters; i++) {
    size_t size = g_message_sizes[(size_t)i & TABLE_MASK];
    void *block = must(a->mt_alloc(r->shared, size), size);
    mark(block, size, (uint32_t)i);
    ring_push(r, (ring_item){block, size, (uint32_t)i});
  }
  ring_push(r, (ring_item){NULL, 0, 0});
  join_thread(consumer);
  int64_t end = ticks();
  a->mt_close(r->shared);
  return seconds(end - start);
}

#define MIB ((size_t)1 << 20)
static const workload kWorkloads[] = {
    {"pair_8", pair, 8, 1, 2000},
    {"pair_64", pair, 64, 1, 2000},
    {"pair_512", pair, 512, 1, 2000},
    {"pair_4096", pair, 4096, 1, 2000},
    {"pair_32768", pair, 32768, 1, 1000},
    {"churn", churn, 0, 1, 2000},
    {"aligned_64", aligned, 64, ALIGNED_BATCH, 20},
    {"aligned_4096", aligned, 4096, ALIGNED_BATCH, 20},
    {"large_1m", large, 1 * MIB, 1, 20},
    {"large_8m", large, 8 * MIB, 1, 5},
    {"bulk_alloc", bulk, BULK_ALLOC, BULK_BLOCKS, 2},
    {"bulk_each", bulk, BULK_EACH, BULK_BLOCKS, 2},
    {"threads2_churn", threads_churn, 0, 2, 2000},
    {"prodcons", prodcons, 0, 1, 5000},
};
#define N_WORKLOADS (sizeof(kWorkloads) / sizeof(kWorkloads[0]))

/* ---- measuring, and the table ---- */

#define REPS 3
#define TARGET_SECONDS 0.1
#define CALIBRATED_SECONDS 0.03 /* a calibration run at least this long sizes the loop */

typedef struct cell {
  bool done;
  int64_t iters;
  double runs[REPS]; /* ns/op of each run */
  double ns;         /* their median */
} cell;

static cell g_cells[N_WORKLOADS][N_ALLOCATORS];

static double run_ns(const workload *w, const allocator *a, int64_t iters) {
  return w->run(w, a, iters) * 1e9 / ((double)iters * w->ops_per_iter);
}

static void measure(const workload *w, const allocator *a, bool smoke, cell *out) {
  int64_t iters = 1;
  if (smoke) {
    iters = w->smoke_iters;
  } else {
    /* Grow the loop until a run takes CALIBRATED_SECONDS, then size it to
     * TARGET_SECONDS from that run. */
    for (;;) {
      double t = w->run(w, a, iters);
      if (t >= CALIBRATED_SECONDS) {
        double scaled = (double)iters * TARGET_SECONDS / t;
        iters = scaled < 1 ? 1 : (int64_t)scaled;
        break;
      }
      double grow = t > 0 ? TARGET_SECONDS / t : 100;
      if (grow > 100) grow = 100;
      if (grow < 2) grow = 2;
      iters = (int64_t)((double)iters * grow);
    }
  }
  out->iters = iters;
  for (int r = 0; r < REPS; r++) out->runs[r] = run_ns(w, a, iters);
  double s[REPS];
  memcpy(s, out->runs, sizeof(s));
  for (int i = 1; i < REPS; i++) {
    for (int j = i; j > 0 && s[j - 1] > s[j]; j--) {
      double tmp = s[j];
      s[j] = s[j - 1];
      s[j - 1] = tmp;
    }
  }
  out->ns = s[REPS / 2];
  out->done = true;
}

static void print_ns(double ns) {
  if (ns < 10) {
    printf(" %11.2f", ns);
  } else {
    printf(" %11.1f", ns);
  }
}

static void print_header(void) {
  printf("%-15s", "workload");
  for (int c = 0; c < N_ALLOCATORS; c++) printf(" %11s", kAllocators[c].name);
  for (int c = 1; c < N_ALLOCATORS; c++) {
    char heading[32];
    snprintf(heading, sizeof(heading), "%s/ta", kAllocators[c].name);
    printf(" %14s", heading);
  }
  printf("\n");
}

static void print_row(const char *name, const double ns[N_ALLOCATORS]) {
  printf("%-15s", name);
  for (int c = 0; c < N_ALLOCATORS; c++) print_ns(ns[c]);
  for (int c = 1; c < N_ALLOCATORS; c++) printf(" %14.2f", ns[c] / ns[0]);
  printf("\n");
  fflush(stdout);
}

/* Wine's version, or NULL when not under Wine (on Windows itself). */
static const char *wine_version(void) {
  HMODULE ntdll = GetModuleHandleA("ntdll.dll");
  if (ntdll == NULL) return NULL;
  FARPROC proc = GetProcAddress(ntdll, "wine_get_version");
  if (proc == NULL) return NULL;
  const char *(*get)(void) = (const char *(*)(void))(void (*)(void))proc;
  return get();
}

/* The file of the C runtime DLL loaded (mingw-w64 links msvcrt.dll or
 * ucrtbase.dll; the address of malloc here is the import thunk in the .exe,
 * so the DLL is found by name). */
static void crt_module(char *out, DWORD size) {
  static const char *const kNames[] = {"ucrtbase.dll", "msvcrt.dll"};
  snprintf(out, size, "the C runtime");
  for (size_t i = 0; i < sizeof(kNames) / sizeof(kNames[0]); i++) {
    HMODULE module = GetModuleHandleA(kNames[i]);
    if (module != NULL && GetModuleFileNameA(module, out, size) != 0) return;
  }
}

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s != '\0'; s++) {
    if (*s == '"' || *s == '\\') fputc('\\', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

static void write_json(const char *path, const char *wine, const char *crt, bool smoke,
                       const double geo[N_ALLOCATORS], int rows) {
  FILE *f = fopen(path, "w");
  if (f == NULL) die("cannot open %s for writing", path);
  fprintf(f, "{\n  \"note\": ");
  json_string(f, wine != NULL ? "HeapAlloc and CRT malloc are Wine's implementations, not Windows'"
                              : "run on Windows itself, not under Wine");
  fprintf(f, ",\n  \"wine_version\": ");
  if (wine != NULL) {
    json_string(f, wine);
  } else {
    fprintf(f, "null");
  }
  fprintf(f, ",\n  \"crt\": ");
  json_string(f, crt);
  fprintf(f, ",\n  \"smoke\": %s,\n  \"unit\": \"ns/op\",\n  \"repetitions\": %d,\n", smoke ? "true" : "false", REPS);
  fprintf(f, "  \"columns\": [");
  for (int c = 0; c < N_ALLOCATORS; c++) fprintf(f, "%s\"%s\"", c ? ", " : "", kAllocators[c].json_name);
  fprintf(f, "],\n  \"workloads\": [");
  bool first = true;
  for (size_t w = 0; w < N_WORKLOADS; w++) {
    if (!g_cells[w][0].done) continue;
    fprintf(f, "%s\n    {\"name\": \"%s\", \"ops_per_iter\": %g,\n", first ? "" : ",",
            kWorkloads[w].name, kWorkloads[w].ops_per_iter);
    first = false;
    fprintf(f, "     \"ns_per_op\": {");
    for (int c = 0; c < N_ALLOCATORS; c++) {
      fprintf(f, "%s\"%s\": %.4g", c ? ", " : "", kAllocators[c].json_name, g_cells[w][c].ns);
    }
    fprintf(f, "},\n     \"ratio_to_tinyalloc\": {");
    for (int c = 1; c < N_ALLOCATORS; c++) {
      fprintf(f, "%s\"%s\": %.4g", c > 1 ? ", " : "", kAllocators[c].json_name,
              g_cells[w][c].ns / g_cells[w][0].ns);
    }
    fprintf(f, "},\n     \"iterations\": {");
    for (int c = 0; c < N_ALLOCATORS; c++) {
      fprintf(f, "%s\"%s\": %lld", c ? ", " : "", kAllocators[c].json_name,
              (long long)g_cells[w][c].iters);
    }
    fprintf(f, "},\n     \"runs_ns_per_op\": {");
    for (int c = 0; c < N_ALLOCATORS; c++) {
      fprintf(f, "%s\"%s\": [", c ? ", " : "", kAllocators[c].json_name);
      for (int r = 0; r < REPS; r++) fprintf(f, "%s%.4g", r ? ", " : "", g_cells[w][c].runs[r]);
      fprintf(f, "]");
    }
    fprintf(f, "}}");
  }
  fprintf(f, "\n  ],\n  \"geomean\": {\"workloads\": %d, \"ns_per_op\": {", rows);
  for (int c = 0; c < N_ALLOCATORS; c++) {
    fprintf(f, "%s\"%s\": %.4g", c ? ", " : "", kAllocators[c].json_name, geo[c]);
  }
  fprintf(f, "}, \"ratio_to_tinyalloc\": {");
  for (int c = 1; c < N_ALLOCATORS; c++) {
    fprintf(f, "%s\"%s\": %.4g", c > 1 ? ", " : "", kAllocators[c].json_name, geo[c] / geo[0]);
  }
  fprintf(f, "}}\n}\n");
  if (fclose(f) != 0) die("cannot write %s", path);
}

static int usage(void) {
  fprintf(stderr, "usage: windows_bench [--smoke] [--json FILE] [--workload NAME]\n");
  return 2;
}

int main(int argc, char **argv) {
  bool smoke = false;
  const char *json = NULL;
  const char *only = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--smoke") == 0) {
      smoke = true;
    } else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
      json = argv[++i];
    } else if (strcmp(argv[i], "--workload") == 0 && i + 1 < argc) {
      only = argv[++i];
    } else {
      return usage();
    }
  }
  bool known = only == NULL;
  for (size_t w = 0; w < N_WORKLOADS && !known; w++) known = strcmp(kWorkloads[w].name, only) == 0;
  if (!known) {
    fprintf(stderr, "windows_bench: no workload named %s\n", only);
    return 2;
  }

  LARGE_INTEGER frequency;
  QueryPerformanceFrequency(&frequency);
  g_seconds_per_tick = 1.0 / (double)frequency.QuadPart;
  build_tables();

  const char *wine = wine_version();
  char crt[MAX_PATH];
  crt_module(crt, sizeof(crt));
  if (wine != NULL) {
    printf("Under Wine %s: the HeapAlloc and CRT malloc columns are Wine's implementations\n"
           "(its ntdll heap, and %s as Wine implements it), not Windows'.\n",
           wine, crt);
  } else {
    printf("Not under Wine: HeapAlloc and CRT malloc (%s) are this Windows' own.\n", crt);
  }
  printf("ns/op, median of %d runs%s; ratio = peer ns/op / tinyalloc ns/op (above 1: tinyalloc "
         "faster).\n\n",
         REPS, smoke ? " of a few iterations (--smoke: not a measurement)" : " of about 100 ms each");
  print_header();

  double log_sum[N_ALLOCATORS] = {0};
  int rows = 0;
  for (size_t w = 0; w < N_WORKLOADS; w++) {
    if (only != NULL && strcmp(kWorkloads[w].name, only) != 0) continue;
    double ns[N_ALLOCATORS];
    for (int c = 0; c < N_ALLOCATORS; c++) {
      snprintf(g_cell, sizeof(g_cell), "%s/%s", kWorkloads[w].name, kAllocators[c].name);
      measure(&kWorkloads[w], &kAllocators[c], smoke, &g_cells[w][c]);
      ns[c] = g_cells[w][c].ns;
    }
    print_row(kWorkloads[w].name, ns);
    for (int c = 0; c < N_ALLOCATORS; c++) log_sum[c] += log(ns[c]);
    rows++;
  }
  double geo[N_ALLOCATORS];
  for (int c = 0; c < N_ALLOCATORS; c++) geo[c] = exp(log_sum[c] / rows);
  printf("\n");
  print_row("geomean", geo);
  printf("\nHeapAlloc: a private heap (HeapCreate(0, 0, 0)); aligned rows over-allocate and align by "
         "hand.\nThreaded rows (threads2_churn, prodcons): tinyalloc through ta_malloc/ta_free, "
         "HeapAlloc on one\nprivate heap shared by both threads, the CRT's malloc/free.\n");
  snprintf(g_cell, sizeof(g_cell), "output");
  if (json != NULL) write_json(json, wine, crt, smoke, geo, rows);
  return 0;
}
