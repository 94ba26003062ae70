/*
 * mstress.c - multi-threaded allocation stress (in the spirit of the
 * "mstress" / test-stress workload of the mimalloc benchmark suite).
 *
 * ROUNDS rounds; in each round THREADS threads are created and joined. A
 * thread keeps blocks in a private slot array (LOCAL_SLOTS slots) and
 * repeatedly picks a random slot and either frees its block, replaces it
 * with a new block, reallocs it, or exchanges it with a random entry of a
 * shared transfer array (TRANSFER_SLOTS atomic pointers); a block taken from
 * the transfer array was allocated by another (possibly finished) thread and
 * is later freed, realloc'd or passed on by this one. Block lifetimes are thus
 * random. Sizes are mostly small (16..256 bytes), sometimes medium
 * (up to 16 KiB) and rarely large (up to 1 MiB); one allocation in eight is
 * a calloc, checked to be zeroed. At the end of its round a thread frees
 * three quarters of its blocks and pushes the rest into the transfer array
 * (freeing what it displaces), so blocks outlive the thread that made them.
 *
 * Fixed total work: SCALE * 9,600,000 steps over ROUNDS = 10 rounds, divided
 * among the threads. Every block is verified before it is freed or
 * realloc'd; the sum of the tags of all blocks allocated must equal the sum
 * of the tags of all blocks freed. That sum is the printed checksum; it
 * depends on THREADS, SCALE and the seed but not on timing or the allocator.
 * Time is measured externally (the program also reports it).
 *
 * Usage: mstress [--seed=N] THREADS SCALE
 * Prints: result: ok checksum=<sum of tags> ops=<steps> seconds=<s>
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/programs/workload.h"

#define DEFAULT_STEPS 9600000.0
enum {
  ROUNDS = 10,
  LOCAL_SLOTS = 1000,
  TRANSFER_SLOTS = 1000,
  MIN_SIZE = 16,
  MAX_SIZE = 1 << 20
};

/* ---- blocks (workload.h: the self-describing pattern) ---- */
static void corrupt(const void *blk, uint64_t size, const char *what) {
  fprintf(stderr, "mstress: corrupted block %p (size word %" PRIu64 "): %s\n", blk, size, what);
  exit(1);
}
/* Checks the words of the block's pattern that lie in its first `limit`
 * bytes (limit >= 16); returns the tag. */
static uint64_t check_prefix(const void *blk, size_t limit, const char *what) {
  const unsigned char *p = blk;
  uint64_t size = get64(p);
  uint64_t tag = get64(p + 8);
  if (size < MIN_SIZE || size > MAX_SIZE) corrupt(blk, size, what);
  if (!pattern_intact(p, size, tag, limit)) corrupt(blk, size, what);
  return tag;
}
static uint64_t check_before_free(const void *blk) {
  return check_prefix(blk, MAX_SIZE, "before free");
}
static size_t block_size(const void *blk) { return (size_t)get64(blk); }

/* ---- shared state ---- */
static _Atomic(void *) transfer[TRANSFER_SLOTS];

struct worker {
  pthread_t th;
  uint64_t rng;
  uint64_t steps;
  uint64_t alloc_sum, free_sum; /* sums of tags */
  void *local[LOCAL_SLOTS];
};

static uint32_t random_size(uint64_t *rng) {
  uint32_t r = rng_below(rng, 1000);
  if (r < 900) return MIN_SIZE + rng_below(rng, 256 - MIN_SIZE + 1);
  if (r < 998) return 257 + rng_below(rng, 16384 - 257 + 1);
  return 16385 + rng_below(rng, MAX_SIZE - 16385 + 1);
}

static void *new_block(struct worker *w, uint32_t sz) {
  uint64_t tag = rng_next(&w->rng);
  unsigned char *p;
  if (rng_below(&w->rng, 8) == 0) {
    p = calloc(1, sz);
    if (p == NULL) die("calloc failed");
    size_t st = sz <= 4096 ? 1 : 4096; /* every byte of small blocks, a byte per page of large */
    for (size_t i = 0; i < sz; i += st)
      if (p[i] != 0) die("calloc returned a block that is not zeroed");
    if (p[sz - 1] != 0) die("calloc returned a block that is not zeroed");
  } else {
    p = malloc(sz);
    if (p == NULL) die("malloc failed");
  }
  fill_block(p, sz, tag);
  w->alloc_sum += tag;
  return p;
}

static void free_block(struct worker *w, void *p) {
  w->free_sum += check_before_free(p);
  free(p);
}

/* realloc to a new random size: the common prefix must survive. The block
 * keeps its tag (so the tag sums stay balanced). */
static void *realloc_block(void *p, uint32_t sz) {
  size_t old = block_size(p);
  uint64_t tag = check_before_free(p);
  unsigned char *q = realloc(p, sz);
  if (q == NULL) die("realloc failed");
  size_t keep = old < sz ? old : sz;
  if (keep >= 16) {
    if (check_prefix(q, keep, "after realloc") != tag) corrupt(q, old, "tag lost in realloc");
  }
  fill_block(q, sz, tag);
  return q;
}

static void *worker_run(void *arg) {
  struct worker *w = arg;
  memset(w->local, 0, sizeof w->local);
  for (uint64_t s = 0; s < w->steps; s++) {
    /* The random stream never depends on what the slots hold (which, with
     * the transfer array, depends on timing), so the tags allocated are the
     * same on every run. */
    uint32_t j = rng_below(&w->rng, LOCAL_SLOTS);
    uint32_t op = rng_below(&w->rng, 100);
    uint32_t t = rng_below(&w->rng, TRANSFER_SLOTS);
    uint32_t sz = random_size(&w->rng);
    void *p = w->local[j];
    if (op < 10) { /* exchange with the transfer array */
      w->local[j] = atomic_exchange(&transfer[t], p);
    } else if (op < 50) { /* free */
      if (p) free_block(w, p);
      w->local[j] = NULL;
    } else if (op < 55) { /* realloc */
      if (p) w->local[j] = realloc_block(p, sz);
    } else { /* replace */
      if (p) free_block(w, p);
      w->local[j] = new_block(w, sz);
    }
  }
  for (uint32_t j = 0; j < LOCAL_SLOTS; j++) {
    uint32_t coin = rng_below(&w->rng, 4);
    uint32_t t = rng_below(&w->rng, TRANSFER_SLOTS);
    void *p = w->local[j];
    if (p == NULL) continue;
    w->local[j] = NULL;
    if (coin == 0) {
      p = atomic_exchange(&transfer[t], p);
      if (p == NULL) continue;
    }
    free_block(w, p);
  }
  return NULL;
}

/* ---- arguments ---- */
static const char usage_text[] =
    "usage: mstress [--seed=N] THREADS SCALE\n"
    "  THREADS  threads per round, >= 1\n"
    "  SCALE    work multiplier, > 0 (1 = 9,600,000 steps in 10 rounds)\n"
    "prints: result: ok checksum=N ops=N seconds=S\n";

int main(int argc, char **argv) {
  workload_args_t args;
  workload_parse(argc, argv, "mstress", usage_text, 0, &args);
  uint64_t seed = args.seed;
  int threads = args.threads;
  double scale = args.scale;

  uint64_t total = (uint64_t)(DEFAULT_STEPS * scale + 0.5);
  if (total == 0) total = 1;
  uint64_t nt = (uint64_t)threads;
  uint64_t slices = (uint64_t)ROUNDS * nt;
  struct worker *w = calloc((size_t)threads, sizeof *w);
  if (w == NULL) die("calloc failed");
  for (int t = 0; t < TRANSFER_SLOTS; t++) atomic_init(&transfer[t], NULL);

  uint64_t alloc_sum = 0, free_sum = 0, steps = 0;
  uint64_t seeder = seed;
  double t0 = now_sec();
  for (uint64_t r = 0; r < ROUNDS; r++) {
    for (uint64_t t = 0; t < nt; t++) {
      uint64_t slice = r * nt + t;
      w[t].rng = rng_next(&seeder);
      w[t].steps = total / slices + (slice < total % slices);
      w[t].alloc_sum = w[t].free_sum = 0;
      if (pthread_create(&w[t].th, NULL, worker_run, &w[t]) != 0) die("pthread_create failed");
    }
    for (uint64_t t = 0; t < nt; t++) {
      if (pthread_join(w[t].th, NULL) != 0) die("pthread_join failed");
      alloc_sum += w[t].alloc_sum;
      free_sum += w[t].free_sum;
      steps += w[t].steps;
    }
  }
  for (int t = 0; t < TRANSFER_SLOTS; t++) {
    void *p = atomic_exchange(&transfer[t], NULL);
    if (p) {
      free_sum += check_before_free(p);
      free(p);
    }
  }
  double elapsed = now_sec() - t0;
  free(w);
  if (alloc_sum != free_sum || steps != total) {
    fprintf(stderr,
            "mstress: mismatch: tags allocated %" PRIu64 ", freed %" PRIu64 "; steps %" PRIu64
            " of %" PRIu64 "\n",
            alloc_sum, free_sum, steps, total);
    return 1;
  }
  printf("result: ok checksum=%" PRIu64 " ops=%" PRIu64 " seconds=%.3f\n", alloc_sum, total,
         elapsed);
  return 0;
}
