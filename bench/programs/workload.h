/* What the classic workloads share: their command line, a seeded PRNG
 * (splitmix64), the clock, dying with a message, and the self-describing
 * block pattern most of them write and check. */
#ifndef TINYALLOC_BENCH_PROGRAMS_WORKLOAD_H_
#define TINYALLOC_BENCH_PROGRAMS_WORKLOAD_H_

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WORKLOAD_MAX_THREADS 1024

typedef struct workload_args {
  uint64_t seed;    /* --seed=N; 42 by default */
  const char *mode; /* the first positional argument, for programs that take one */
  int threads;      /* 1..WORKLOAD_MAX_THREADS */
  double scale;     /* finite, > 0, <= 1e6 */
} workload_args_t;

/* Parses `NAME [--seed=N] [--] [MODE] THREADS SCALE` (MODE if with_mode).
 * -h or --help prints usage to stdout and exits 0; anything malformed prints
 * it to stderr and exits 2. Also names the program for die(). */
void workload_parse(int argc, char **argv, const char *name, const char *usage, int with_mode,
                    workload_args_t *out);
/* Prints the usage to stderr and exits 2 (a MODE the program does not know). */
void workload_usage_error(void);

/* Prints "NAME: what" to stderr and exits 1. */
void die(const char *what);
/* Seconds on the monotonic clock. */
double now_sec(void);

static inline uint64_t rng_next(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
/* Uniform in [0, n) for n < 2^32. */
static inline uint32_t rng_below(uint64_t *s, uint32_t n) {
  return (uint32_t)(((rng_next(s) >> 32) * (uint64_t)n) >> 32);
}

static inline void put64(unsigned char *p, uint64_t v) { memcpy(p, &v, sizeof v); }
static inline uint64_t get64(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

/* The self-describing block: [size][tag], then tag+k at k*stride (stride 64,
 * or 4096 in blocks over 4 KiB), then ~tag in the last 8 bytes (blocks of 24
 * bytes or more). size >= 16. */
void fill_block(void *blk, size_t size, uint64_t tag);
/* Whether the pattern words of a block of `size` bytes tagged `tag` that lie
 * in its first `limit` bytes are intact (limit >= size: all of them). The
 * caller checks the size and tag words themselves. */
int pattern_intact(const void *blk, uint64_t size, uint64_t tag, size_t limit);
/* Checks a whole block whose size word must lie in [min_size, max_size]:
 * dies with "NAME: corrupted block ..." if anything is off; returns its tag. */
uint64_t check_block(const void *blk, uint64_t min_size, uint64_t max_size);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_BENCH_PROGRAMS_WORKLOAD_H_ */
