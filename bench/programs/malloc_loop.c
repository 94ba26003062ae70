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

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_ITERATIONS 8000000.0
enum {
  WORKING_SET = 1024,
  MIN_SIZE = 16,
  MAX_SIZE = 65536,
  MAX_THREADS = 1024
};

/* ---- PRNG (splitmix64) ---- */
static uint64_t rng_next(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static uint32_t rng_below(uint64_t *s, uint32_t n) {
  return (uint32_t)(((rng_next(s) >> 32) * (uint64_t)n) >> 32);
}

static void die(const char *what) {
  fprintf(stderr, "malloc_loop: %s\n", what);
  exit(1);
}

static double now_sec(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- self-describing block: [size][tag] ... tag+k at k*stride ... [~tag] ---- */
static void put64(unsigned char *p, uint64_t v) { memcpy(p, &v, sizeof v); }
static uint64_t get64(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, sizeof v);
  return v;
}
static size_t stride_of(size_t size) { return size <= 4096 ? 64 : 4096; }
static void fill_block(void *blk, size_t size, uint64_t tag) {
  unsigned char *p = blk;
  size_t st = stride_of(size);
  put64(p, size);
  put64(p + 8, tag);
  for (size_t k = 1; k * st + 16 <= size; k++) put64(p + k * st, tag + k);
  if (size >= 24) put64(p + size - 8, ~tag);
}
static uint64_t check_block(const void *blk) {
  const unsigned char *p = blk;
  uint64_t size = get64(p);
  uint64_t tag = get64(p + 8);
  int bad = size < MIN_SIZE || size > MAX_SIZE;
  if (!bad) {
    size_t st = stride_of(size);
    for (size_t k = 1; k * st + 16 <= size; k++) bad |= get64(p + k * st) != tag + k;
    if (size >= 24) bad |= get64(p + size - 8) != ~tag;
  }
  if (bad) {
    fprintf(stderr, "malloc_loop: corrupted block %p (size word %" PRIu64 ")\n", blk, size);
    exit(1);
  }
  return tag;
}

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
      free_sum += check_block(slot[j]);
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
      free_sum += check_block(slot[j]);
      free(slot[j]);
    }
  }
  free(slot);
  w->alloc_sum = alloc_sum;
  w->free_sum = free_sum;
  return NULL;
}

/* ---- arguments ---- */
static void usage(FILE *to, int status) {
  fprintf(to,
          "usage: malloc_loop [--seed=N] THREADS SCALE\n"
          "  THREADS  number of threads, >= 1 (each does the full work)\n"
          "  SCALE    work multiplier, > 0 (1 = 8,000,000 iterations per thread)\n"
          "prints: result: ok checksum=N ops=N seconds=S\n");
  exit(status);
}

static int parse_threads(const char *s) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < 1 || v > MAX_THREADS) return -1;
  return (int)v;
}

static double parse_scale(const char *s) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v <= 0 || v > 1e6) return -1;
  return v;
}

int main(int argc, char **argv) {
  uint64_t seed = 42;
  const char *pos[2];
  int npos = 0;
  int opts_done = 0;
  for (int a = 1; a < argc; a++) {
    const char *s = argv[a];
    if (!opts_done && strcmp(s, "--") == 0) {
      opts_done = 1;
    } else if (!opts_done && (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0)) {
      usage(stdout, 0);
    } else if (!opts_done && strncmp(s, "--seed=", 7) == 0) {
      char *end;
      errno = 0;
      seed = strtoull(s + 7, &end, 0);
      if (errno != 0 || end == s + 7 || *end != '\0') usage(stderr, 2);
    } else if (!opts_done && s[0] == '-' && s[1] != '\0') {
      usage(stderr, 2);
    } else {
      if (npos == 2) usage(stderr, 2);
      pos[npos++] = s;
    }
  }
  if (npos != 2) usage(stderr, 2);
  int threads = parse_threads(pos[0]);
  double scale = parse_scale(pos[1]);
  if (threads < 0 || scale < 0) usage(stderr, 2);

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
