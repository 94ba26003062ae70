/*
 * xmalloc.c - xmalloc-style producer/consumer test (after the workload of
 * Lever and Boreham's xmalloc-test: memory allocated by one thread and freed
 * by another).
 *
 * Producer threads allocate blocks of random small sizes (16..256 bytes),
 * write a pattern into each and push them in batches of BATCH blocks onto a
 * shared bounded queue (mutex + condition variables). Consumer threads pop
 * batches, verify every block and free it. So nearly every free is a
 * cross-thread free. With THREADS >= 2 there are ceil(THREADS/2) producers
 * and floor(THREADS/2) consumers; with THREADS = 1 the single thread
 * alternates between producing a batch and consuming one.
 *
 * Fixed total work: SCALE * 24,000,000 blocks, divided among the producers.
 * Time is measured externally (the program also reports it).
 *
 * Usage: xmalloc [--seed=N] THREADS SCALE
 * Prints: result: ok checksum=<sum of block tags> ops=<blocks> seconds=<s>
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench/programs/workload.h"

#define DEFAULT_BLOCKS 24000000.0
enum {
  BATCH = 64,
  MAX_QUEUED = 64, /* batches waiting in the queue at most */
  MIN_SIZE = 16,
  MAX_SIZE = 256
};

/* ---- the shared queue ---- */
struct batch {
  struct batch *next;
  uint32_t count;
  void *blk[BATCH];
};

static struct {
  pthread_mutex_t mu;
  pthread_cond_t not_empty, not_full;
  struct batch *head, *tail;
  int queued;
  int closed;
} q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0, 0};

static void push(struct batch *b) {
  b->next = NULL;
  pthread_mutex_lock(&q.mu);
  while (q.queued >= MAX_QUEUED) pthread_cond_wait(&q.not_full, &q.mu);
  if (q.tail) q.tail->next = b;
  else q.head = b;
  q.tail = b;
  q.queued++;
  pthread_cond_signal(&q.not_empty);
  pthread_mutex_unlock(&q.mu);
}

/* NULL once the queue is closed and empty. */
static struct batch *pop(void) {
  pthread_mutex_lock(&q.mu);
  while (q.head == NULL && !q.closed) pthread_cond_wait(&q.not_empty, &q.mu);
  struct batch *b = q.head;
  if (b) {
    q.head = b->next;
    if (q.head == NULL) q.tail = NULL;
    q.queued--;
    pthread_cond_signal(&q.not_full);
  }
  pthread_mutex_unlock(&q.mu);
  return b;
}

/* ---- workers ---- */
struct worker {
  pthread_t th;
  int produce, consume;
  uint64_t rng;
  uint64_t to_produce;
  uint64_t produced, produced_sum; /* by this producer */
  uint64_t freed, freed_sum;       /* by this consumer */
};

static struct batch *make_batch(struct worker *w, uint32_t n) {
  struct batch *b = malloc(sizeof *b);
  if (b == NULL) die("malloc failed");
  b->count = n;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t sz = MIN_SIZE + rng_below(&w->rng, MAX_SIZE - MIN_SIZE + 1);
    uint64_t tag = rng_next(&w->rng);
    void *p = malloc(sz);
    if (p == NULL) die("malloc failed");
    fill_block(p, sz, tag);
    b->blk[i] = p;
    w->produced_sum += tag;
  }
  w->produced += n;
  return b;
}

static void consume_batch(struct worker *w, struct batch *b) {
  for (uint32_t i = 0; i < b->count; i++) {
    w->freed_sum += check_block(b->blk[i], MIN_SIZE, MAX_SIZE);
    free(b->blk[i]);
  }
  w->freed += b->count;
  free(b);
}

static void *worker_run(void *arg) {
  struct worker *w = arg;
  if (w->produce && w->consume) { /* THREADS = 1: alternate */
    while (w->produced < w->to_produce) {
      uint64_t left = w->to_produce - w->produced;
      push(make_batch(w, left < BATCH ? (uint32_t)left : BATCH));
      consume_batch(w, pop());
    }
  } else if (w->produce) {
    while (w->produced < w->to_produce) {
      uint64_t left = w->to_produce - w->produced;
      push(make_batch(w, left < BATCH ? (uint32_t)left : BATCH));
    }
  } else {
    struct batch *b;
    while ((b = pop()) != NULL) consume_batch(w, b);
  }
  return NULL;
}

/* ---- arguments ---- */
static const char usage_text[] =
    "usage: xmalloc [--seed=N] THREADS SCALE\n"
    "  THREADS  total threads, >= 1: ceil(T/2) producers, floor(T/2) consumers\n"
    "           (T = 1: one thread alternately produces and consumes)\n"
    "  SCALE    work multiplier, > 0 (1 = 24,000,000 blocks)\n"
    "prints: result: ok checksum=N ops=N seconds=S\n";

int main(int argc, char **argv) {
  workload_args_t args;
  workload_parse(argc, argv, "xmalloc", usage_text, 0, &args);
  uint64_t seed = args.seed;
  int threads = args.threads;
  double scale = args.scale;

  uint64_t total = (uint64_t)(DEFAULT_BLOCKS * scale + 0.5);
  if (total == 0) total = 1;
  int producers = threads == 1 ? 1 : (threads + 1) / 2;
  struct worker *w = calloc((size_t)threads, sizeof *w);
  if (w == NULL) die("calloc failed");
  uint64_t seeder = seed;
  for (int t = 0; t < threads; t++) {
    w[t].rng = rng_next(&seeder);
    if (threads == 1) {
      w[t].produce = w[t].consume = 1;
    } else if (t < producers) {
      w[t].produce = 1;
    } else {
      w[t].consume = 1;
    }
    if (w[t].produce)
      w[t].to_produce = total / (uint64_t)producers + ((uint64_t)t < total % (uint64_t)producers);
  }

  double t0 = now_sec();
  for (int t = 0; t < threads; t++)
    if (pthread_create(&w[t].th, NULL, worker_run, &w[t]) != 0) die("pthread_create failed");
  for (int t = 0; t < producers; t++)
    if (pthread_join(w[t].th, NULL) != 0) die("pthread_join failed");
  pthread_mutex_lock(&q.mu);
  q.closed = 1;
  pthread_cond_broadcast(&q.not_empty);
  pthread_mutex_unlock(&q.mu);
  for (int t = producers; t < threads; t++)
    if (pthread_join(w[t].th, NULL) != 0) die("pthread_join failed");
  double elapsed = now_sec() - t0;

  uint64_t produced = 0, produced_sum = 0, freed = 0, freed_sum = 0;
  for (int t = 0; t < threads; t++) {
    produced += w[t].produced;
    produced_sum += w[t].produced_sum;
    freed += w[t].freed;
    freed_sum += w[t].freed_sum;
  }
  free(w);
  if (q.head != NULL || produced != total || freed != total || produced_sum != freed_sum) {
    fprintf(stderr,
            "xmalloc: mismatch: total %" PRIu64 ", produced %" PRIu64 ", freed %" PRIu64
            ", produced sum %" PRIu64 ", freed sum %" PRIu64 "\n",
            total, produced, freed, produced_sum, freed_sum);
    return 1;
  }
  printf("result: ok checksum=%" PRIu64 " ops=%" PRIu64 " seconds=%.3f\n", produced_sum, total,
         elapsed);
  return 0;
}
