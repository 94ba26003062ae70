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

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_STEPS 9600000.0
enum {
  ROUNDS = 10,
  LOCAL_SLOTS = 1000,
  TRANSFER_SLOTS = 1000,
  MIN_SIZE = 16,
  MAX_SIZE = 1 << 20,
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
  fprintf(stderr, "mstress: %s\n", what);
  exit(1);
}

static double now_sec(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- self-describing block ----
 * [size][tag], then tag+k at k*stride (stride 64, or 4096 for blocks over
 * 4 KiB), then ~tag in the last 8 bytes (blocks of 24 bytes or more). */
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
  size_t st = stride_of(size);
  int bad = 0;
  for (size_t k = 1; k * st + 16 <= size && k * st + 8 <= limit; k++)
    bad |= get64(p + k * st) != tag + k;
  if (size >= 24 && size <= limit) bad |= get64(p + size - 8) != ~tag;
  if (bad) corrupt(blk, size, what);
  return tag;
}
static uint64_t check_block(const void *blk) { return check_prefix(blk, MAX_SIZE, "before free"); }
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
  w->free_sum += check_block(p);
  free(p);
}

/* realloc to a new random size: the common prefix must survive. The block
 * keeps its tag (so the tag sums stay balanced). */
static void *realloc_block(void *p, uint32_t sz) {
  size_t old = block_size(p);
  uint64_t tag = check_block(p);
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
static void usage(FILE *to, int status) {
  fprintf(to,
          "usage: mstress [--seed=N] THREADS SCALE\n"
          "  THREADS  threads per round, >= 1\n"
          "  SCALE    work multiplier, > 0 (1 = 9,600,000 steps in 10 rounds)\n"
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
      free_sum += check_block(p);
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
