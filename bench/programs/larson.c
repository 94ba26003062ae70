/*
 * larson.c - Larson-style server simulation (after the workload described by
 * Larson and Krishnan, "Memory Allocation for Long-Running Server
 * Applications", ISMM 1998).
 *
 * T lanes, each owning a slot array of SLOTS blocks of random sizes in
 * [8, 1000] bytes. The main thread fills every slot before the clock starts,
 * so the first frees in each lane are frees of blocks another thread
 * allocated. A lane's thread then repeats: pick a random slot, verify and
 * free the block there, allocate a new block of random size and write to it.
 * After OPS_PER_GENERATION operations the thread hands its slot array to a
 * freshly created thread (the next "generation", which joins its
 * predecessor) and exits, so blocks allocated by one thread are freed by
 * another and thread caches are torn down and rebuilt all the time.
 *
 * Measures: throughput, malloc+free pairs per second summed over all lanes,
 * for a fixed run time of SCALE seconds (time-based, not fixed work).
 *
 * Usage: larson [--seed=N] THREADS SCALE
 * Prints: result: ok ops_per_sec=<n> ops=<n> seconds=<s> generations=<n>
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench/programs/workload.h"

enum {
  SLOTS = 1000,
  MIN_SIZE = 8,
  MAX_SIZE = 1000,
  OPS_PER_GENERATION = 20000,
  STOP_CHECK_MASK = 255
};

/* ---- block pattern: a word at every 64 bytes (not overlapping the last
 * 8 bytes), and the last 8 bytes ---- */
static void fill_lane_block(void *blk, size_t size, uint64_t tag) {
  unsigned char *p = blk;
  for (size_t off = 0; off + 16 <= size; off += 64) put64(p + off, tag + off);
  put64(p + size - 8, ~tag);
}
static void check_lane_block(const void *blk, size_t size, uint64_t tag) {
  const unsigned char *p = blk;
  int bad = 0;
  for (size_t off = 0; off + 16 <= size; off += 64)
    bad |= get64(p + off) != tag + off;
  bad |= get64(p + size - 8) != ~tag;
  if (bad) {
    fprintf(stderr, "larson: corrupted block %p (size %zu)\n", blk, size);
    exit(1);
  }
}

/* ---- lanes ---- */
struct lane {
  void **blk;
  uint32_t *size;
  uint64_t *tag;
  uint64_t rng;
  uint64_t ops;         /* summed over generations */
  uint64_t generations; /* threads that ran this lane */
  pthread_t prev;       /* the generation that created the current one */
  int has_prev;
  pthread_t last; /* the final generation, joined by main */
};

static atomic_int stop_flag;
static pthread_mutex_t done_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static int lanes_done;

/* Puts a new block of random size and tag in slot i. */
static void lane_fill_slot(struct lane *ln, uint64_t *rng, uint32_t i) {
  uint32_t sz = MIN_SIZE + rng_below(rng, MAX_SIZE - MIN_SIZE + 1);
  uint64_t tag = rng_next(rng);
  void *p = malloc(sz);
  if (p == NULL) die("malloc failed");
  fill_lane_block(p, sz, tag);
  ln->blk[i] = p;
  ln->size[i] = sz;
  ln->tag[i] = tag;
}

static void *lane_run(void *arg) {
  struct lane *ln = arg;
  if (ln->has_prev) {
    int e = pthread_join(ln->prev, NULL);
    if (e != 0) die("pthread_join of the previous generation failed");
  }
  uint64_t rng = ln->rng;
  uint64_t n = 0;
  int stopped = 0;
  for (;;) {
    if ((n & STOP_CHECK_MASK) == 0 &&
        atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
      stopped = 1;
      break;
    }
    if (n >= OPS_PER_GENERATION) break;
    uint32_t i = rng_below(&rng, SLOTS);
    check_lane_block(ln->blk[i], ln->size[i], ln->tag[i]);
    free(ln->blk[i]);
    lane_fill_slot(ln, &rng, i);
    n++;
  }
  ln->rng = rng;
  ln->ops += n;
  ln->generations++;
  if (!stopped) stopped = atomic_load_explicit(&stop_flag, memory_order_relaxed);
  if (!stopped) {
    pthread_t next;
    ln->prev = pthread_self();
    ln->has_prev = 1;
    int e = pthread_create(&next, NULL, lane_run, ln);
    if (e != 0) die("pthread_create of the next generation failed");
    return NULL;
  }
  pthread_mutex_lock(&done_mu);
  ln->last = pthread_self();
  lanes_done++;
  pthread_cond_signal(&done_cv);
  pthread_mutex_unlock(&done_mu);
  return NULL;
}

/* ---- arguments ---- */
static const char usage_text[] =
    "usage: larson [--seed=N] THREADS SCALE\n"
    "  THREADS  number of lanes (threads alive at once), >= 1\n"
    "  SCALE    run time in seconds (may be fractional), > 0\n"
    "prints: result: ok ops_per_sec=N ops=N seconds=S generations=N\n";

int main(int argc, char **argv) {
  workload_args_t args;
  workload_parse(argc, argv, "larson", usage_text, 0, &args);
  uint64_t seed = args.seed;
  int threads = args.threads;
  double seconds = args.scale;

  struct lane *lanes = calloc((size_t)threads, sizeof *lanes);
  if (lanes == NULL) die("calloc failed");
  uint64_t seeder = seed;
  /* The main thread allocates every lane's initial blocks. */
  for (int t = 0; t < threads; t++) {
    struct lane *ln = &lanes[t];
    ln->rng = rng_next(&seeder);
    ln->blk = malloc(SLOTS * sizeof *ln->blk);
    ln->size = malloc(SLOTS * sizeof *ln->size);
    ln->tag = malloc(SLOTS * sizeof *ln->tag);
    if (!ln->blk || !ln->size || !ln->tag) die("malloc failed");
    for (uint32_t i = 0; i < SLOTS; i++) lane_fill_slot(ln, &ln->rng, i);
  }

  double t0 = now_sec();
  for (int t = 0; t < threads; t++) {
    pthread_t th;
    /* Generation 0 is joined by generation 1, or by main below if it is the last. */
    if (pthread_create(&th, NULL, lane_run, &lanes[t]) != 0) die("pthread_create failed");
  }
  struct timespec ts;
  ts.tv_sec = (time_t)seconds;
  ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  atomic_store(&stop_flag, 1);
  pthread_mutex_lock(&done_mu);
  while (lanes_done < threads) pthread_cond_wait(&done_cv, &done_mu);
  pthread_mutex_unlock(&done_mu);
  double elapsed = now_sec() - t0;

  uint64_t ops = 0, gens = 0;
  for (int t = 0; t < threads; t++) {
    struct lane *ln = &lanes[t];
    if (pthread_join(ln->last, NULL) != 0) die("pthread_join failed");
    ops += ln->ops;
    gens += ln->generations;
    for (int i = 0; i < SLOTS; i++) {
      check_lane_block(ln->blk[i], ln->size[i], ln->tag[i]);
      free(ln->blk[i]);
    }
    free(ln->blk);
    free(ln->size);
    free(ln->tag);
  }
  free(lanes);
  printf("result: ok ops_per_sec=%.0f ops=%" PRIu64 " seconds=%.3f generations=%" PRIu64 "\n",
         (double)ops / elapsed, ops, elapsed, gens);
  return 0;
}
