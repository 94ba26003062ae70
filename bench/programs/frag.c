/*
 * frag.c - heap fragmentation at program scale: many small blocks, most of
 * them freed at random, the holes then offered to larger requests.
 *
 * A copy first allocates SCALE * 200,000 blocks of 16..512 bytes; their
 * total size is the target live byte count. Then, for ROUNDS = 24 rounds:
 * free 90% of the live blocks, chosen at random, and allocate new blocks
 * until the live byte count is back at the target. The new blocks of round
 * r are larger: a size drawn from 16..512 multiplied g = ((r-1) mod 4) + 1
 * times by a factor drawn from [1.5, 3] (so sizes grow for four rounds, up
 * to about 40 KiB, then start small again among the larger survivors).
 * Every block is written (a word every 64 bytes, every 4 KiB in blocks over
 * 4 KiB, and the last 8 bytes) and verified before it is freed; at the end
 * every block is freed.
 *
 * The interesting measure is peak RSS against the constant live byte count;
 * the program reports its own peak RSS (getrusage ru_maxrss, whole process)
 * next to the live bytes. THREADS: runs THREADS independent copies, one per
 * thread, each doing the full work (THREADS multiplies work and live bytes);
 * all copies use the same seed and must agree on the checksum, which
 * therefore does not depend on THREADS. Fixed work.
 *
 * Usage: frag [--seed=N] THREADS SCALE
 * Prints: result: ok checksum=<sum of tags> ops=<allocations>
 *         live_bytes=<target, all copies> peak_rss_kb=<n> seconds=<s>
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench/programs/workload.h"

#define DEFAULT_BLOCKS 200000.0
enum { ROUNDS = 24, MIN_SIZE = 16, MAX_BASE = 512 };
#define MAX_SIZE (512u * 81u) /* 512 * 3^4 */

/* ---- blocks (workload.h: the self-describing pattern) ---- */
static uint64_t check_sized_block(const void *blk, size_t expect_size) {
  const unsigned char *p = blk;
  uint64_t size = get64(p);
  uint64_t tag = get64(p + 8);
  if (size != expect_size || !pattern_intact(p, size, tag, size)) {
    fprintf(stderr, "frag: corrupted block %p (size word %" PRIu64 ", expected %zu)\n", blk, size,
            expect_size);
    exit(1);
  }
  return tag;
}

struct copy {
  pthread_t th;
  uint64_t seed, nblocks;
  uint64_t target, checksum, allocations;
};

struct live {
  void **blk;
  uint32_t *size;
  size_t n, cap;
  uint64_t bytes, alloc_sum, free_sum, allocations;
};

static void live_add(struct live *l, uint64_t *rng, uint32_t size) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 1024;
    void **b = realloc(l->blk, cap * sizeof *b);
    if (b == NULL) die("realloc failed");
    l->blk = b;
    uint32_t *s = realloc(l->size, cap * sizeof *s);
    if (s == NULL) die("realloc failed");
    l->size = s;
    l->cap = cap;
  }
  uint64_t tag = rng_next(rng);
  void *p = malloc(size);
  if (p == NULL) die("malloc failed");
  fill_block(p, size, tag);
  l->blk[l->n] = p;
  l->size[l->n] = size;
  l->n++;
  l->bytes += size;
  l->alloc_sum += tag;
  l->allocations++;
}

static void live_free(struct live *l, size_t i) {
  l->free_sum += check_sized_block(l->blk[i], l->size[i]);
  free(l->blk[i]);
  l->bytes -= l->size[i];
}

static void *copy_run(void *arg) {
  struct copy *c = arg;
  uint64_t rng = c->seed;
  struct live l = {0};
  for (uint64_t i = 0; i < c->nblocks; i++)
    live_add(&l, &rng, MIN_SIZE + rng_below(&rng, MAX_BASE - MIN_SIZE + 1));
  const uint64_t target = l.bytes;
  for (int r = 1; r <= ROUNDS; r++) {
    /* Free 90% of the live blocks: a random selection moved to the front. */
    size_t nfree = l.n - l.n / 10;
    for (size_t i = 0; i < nfree; i++) {
      size_t j = i + rng_below(&rng, (uint32_t)(l.n - i));
      void *tb = l.blk[i];
      uint32_t ts = l.size[i];
      l.blk[i] = l.blk[j];
      l.size[i] = l.size[j];
      l.blk[j] = tb;
      l.size[j] = ts;
      live_free(&l, i);
    }
    memmove(l.blk, l.blk + nfree, (l.n - nfree) * sizeof *l.blk);
    memmove(l.size, l.size + nfree, (l.n - nfree) * sizeof *l.size);
    l.n -= nfree;
    /* Refill with larger blocks. */
    int g = (r - 1) % 4 + 1;
    while (l.bytes < target) {
      uint64_t size = MIN_SIZE + rng_below(&rng, MAX_BASE - MIN_SIZE + 1);
      for (int k = 0; k < g; k++) size = size * (1500 + rng_below(&rng, 1501)) / 1000;
      live_add(&l, &rng, (uint32_t)size);
    }
  }
  for (size_t i = 0; i < l.n; i++) live_free(&l, i);
  free(l.blk);
  free(l.size);
  if (l.alloc_sum != l.free_sum) {
    fprintf(stderr, "frag: tags allocated %" PRIu64 " but freed %" PRIu64 "\n", l.alloc_sum,
            l.free_sum);
    exit(1);
  }
  c->target = target;
  c->checksum = l.alloc_sum;
  c->allocations = l.allocations;
  return NULL;
}

/* ---- arguments ---- */
static const char usage_text[] =
    "usage: frag [--seed=N] THREADS SCALE\n"
    "  THREADS  independent copies run in parallel threads, >= 1 (each does the full work)\n"
    "  SCALE    work multiplier, > 0 (1 = 200,000 initial blocks per copy)\n"
    "prints: result: ok checksum=N ops=N live_bytes=N peak_rss_kb=N seconds=S\n";

int main(int argc, char **argv) {
  workload_args_t args;
  workload_parse(argc, argv, "frag", usage_text, 0, &args);
  uint64_t seed = args.seed;
  int threads = args.threads;
  double scale = args.scale;

  uint64_t nblocks = (uint64_t)(DEFAULT_BLOCKS * scale + 0.5);
  if (nblocks < 10) nblocks = 10;
  struct copy *c = calloc((size_t)threads, sizeof *c);
  if (c == NULL) die("calloc failed");
  double t0 = now_sec();
  for (int t = 0; t < threads; t++) {
    c[t].seed = seed;
    c[t].nblocks = nblocks;
    if (pthread_create(&c[t].th, NULL, copy_run, &c[t]) != 0) die("pthread_create failed");
  }
  uint64_t ops = 0, live = 0;
  for (int t = 0; t < threads; t++) {
    if (pthread_join(c[t].th, NULL) != 0) die("pthread_join failed");
    ops += c[t].allocations;
    live += c[t].target;
  }
  double elapsed = now_sec() - t0;
  for (int t = 1; t < threads; t++) {
    if (c[t].checksum != c[0].checksum || c[t].allocations != c[0].allocations) {
      fprintf(stderr, "frag: copies disagree: copy 0 checksum %" PRIu64 ", copy %d checksum %" PRIu64 "\n",
              c[0].checksum, t, c[t].checksum);
      return 1;
    }
  }
  uint64_t checksum = c[0].checksum;
  free(c);
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) die("getrusage failed");
  printf("result: ok checksum=%" PRIu64 " ops=%" PRIu64 " live_bytes=%" PRIu64
         " peak_rss_kb=%ld seconds=%.3f\n",
         checksum, ops, live, (long)ru.ru_maxrss, elapsed);
  return 0;
}
