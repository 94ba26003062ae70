/*
 * malloc_loop.c - a malloc/free loop over a random working set (in the style
 * of glibc's benchtests/bench-malloc-thread).
 *
 * Each of THREADS threads owns WORKING_SET slots (all empty at the start)
 * and runs a fixed number of iterations; an iteration picks a random slot,
 * verifies and frees the block there (if any) and allocates a new block of a
 * random size, writing a pattern into it (a word every 64 bytes, or every
 * 4 KiB in blocks over 4 KiB, and the last 8 bytes). Sizes: 85% in
 * 16..256 bytes, 14% in 257..4096, 1% in 4097..65536. At the end every
 * remaining block is verified and freed.
 *
 * Work per thread: SCALE * 8,000,000 iterations (each thread does the full
 * amount, as in bench-malloc-thread; THREADS multiplies the total work).
 * The sum of the tags of all blocks allocated must equal the sum of the tags
 * of all blocks freed; it is printed as the checksum. Time is measured
 * externally (the program also reports it).
 *
 * Usage: malloc_loop [--seed=N] THREADS SCALE
 * Prints: result: ok checksum=<sum of tags> ops=<total iterations> seconds=<s>
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench/programs/workload.h"

#define DEFAULT_ITERATIONS 8000000.0
enum {
  WORKING_SET = 1024,
  MIN_SIZE = 16,
  MAX_SIZE = 65536
};

struct worker {
  pthread_t th;
  uint64_t rng;
  uint64_t iterations;
  uint64_t alloc_sum, free_sum;
};

static uint32_t random_size(uint64_t *rng) {
  uint32_t r = rng_below(rng, 100);
  if (r < 85) return MIN_SIZE + rng_below(rng, 256 - MIN_SIZE + 1);
  if (r < 99) return 257 + rng_below(rng, 4096 - 257 + 1);
  return 4097 + rng_below(rng, MAX_SIZE - 4097 + 1);
}

static void *worker_run(void *arg) {
  struct worker *w = arg;
  void **slot = calloc(WORKING_SET, sizeof *slot);
  if (slot == NULL) die("calloc failed");
  uint64_t rng = w->rng, alloc_sum = 0, free_sum = 0;
  for (uint64_t i = 0; i < w->iterations; i++) {
    uint32_t j = rng_below(&rng, WORKING_SET);
    if (slot[j]) {
      free_sum += check_block(slot[j], MIN_SIZE, MAX_SIZE);
      free(slot[j]);
    }
    uint32_t sz = random_size(&rng);
    uint64_t tag = rng_next(&rng);
    void *p = malloc(sz);
    if (p == NULL) die("malloc failed");
    fill_block(p, sz, tag);
    alloc_sum += tag;
    slot[j] = p;
  }
  for (uint32_t j = 0; j < WORKING_SET; j++) {
    if (slot[j]) {
      free_sum += check_block(slot[j], MIN_SIZE, MAX_SIZE);
      free(slot[j]);
    }
  }
  free(slot);
  w->alloc_sum = alloc_sum;
  w->free_sum = free_sum;
  return NULL;
}

/* ---- arguments ---- */
static const char usage_text[] =
    "usage: malloc_loop [--seed=N] THREADS SCALE\n"
    "  THREADS  number of threads, >= 1 (each does the full work)\n"
    "  SCALE    work multiplier, > 0 (1 = 8,000,000 iterations per thread)\n"
    "prints: result: ok checksum=N ops=N seconds=S\n";

int main(int argc, char **argv) {
  workload_args_t args;
  workload_parse(argc, argv, "malloc_loop", usage_text, 0, &args);
  uint64_t seed = args.seed;
  int threads = args.threads;
  double scale = args.scale;

  uint64_t per_thread = (uint64_t)(DEFAULT_ITERATIONS * scale + 0.5);
  if (per_thread == 0) per_thread = 1;
  struct worker *w = calloc((size_t)threads, sizeof *w);
  if (w == NULL) die("calloc failed");
  uint64_t seeder = seed;
  for (int t = 0; t < threads; t++) {
    w[t].rng = rng_next(&seeder);
    w[t].iterations = per_thread;
  }
  double t0 = now_sec();
  for (int t = 0; t < threads; t++)
    if (pthread_create(&w[t].th, NULL, worker_run, &w[t]) != 0) die("pthread_create failed");
  uint64_t alloc_sum = 0, free_sum = 0, ops = 0;
  for (int t = 0; t < threads; t++) {
    if (pthread_join(w[t].th, NULL) != 0) die("pthread_join failed");
    alloc_sum += w[t].alloc_sum;
    free_sum += w[t].free_sum;
    ops += w[t].iterations;
  }
  double elapsed = now_sec() - t0;
  free(w);
  if (alloc_sum != free_sum) {
    fprintf(stderr, "malloc_loop: tags allocated %" PRIu64 " but freed %" PRIu64 "\n", alloc_sum,
            free_sum);
    return 1;
  }
  printf("result: ok checksum=%" PRIu64 " ops=%" PRIu64 " seconds=%.3f\n", alloc_sum, ops, elapsed);
  return 0;
}
