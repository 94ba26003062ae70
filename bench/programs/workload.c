/* What the classic workloads share (workload.h). */
#define _POSIX_C_SOURCE 200809L
#include "bench/programs/workload.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char *program_name = "workload";
static const char *usage_text = "";

static void usage(FILE *to, int status) {
  fputs(usage_text, to);
  exit(status);
}

void workload_usage_error(void) { usage(stderr, 2); }

static int parse_threads(const char *s) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < 1 || v > WORKLOAD_MAX_THREADS) return -1;
  return (int)v;
}

static double parse_scale(const char *s) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v <= 0 || v > 1e6) return -1;
  return v;
}

void workload_parse(int argc, char **argv, const char *name, const char *usage_message,
                    int with_mode, workload_args_t *out) {
  program_name = name;
  usage_text = usage_message;
  out->seed = 42;
  out->mode = NULL;
  const char *pos[3];
  int want = with_mode ? 3 : 2;
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
      out->seed = strtoull(s + 7, &end, 0);
      if (errno != 0 || end == s + 7 || *end != '\0') usage(stderr, 2);
    } else if (!opts_done && s[0] == '-' && s[1] != '\0') {
      usage(stderr, 2);
    } else {
      if (npos == want) usage(stderr, 2);
      pos[npos++] = s;
    }
  }
  if (npos != want) usage(stderr, 2);
  if (with_mode) out->mode = pos[0];
  out->threads = parse_threads(pos[want - 2]);
  out->scale = parse_scale(pos[want - 1]);
  if (out->threads < 0 || out->scale < 0) usage(stderr, 2);
}

void die(const char *what) {
  fprintf(stderr, "%s: %s\n", program_name, what);
  exit(1);
}

double now_sec(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static size_t stride_of(size_t size) { return size <= 4096 ? 64 : 4096; }

void fill_block(void *blk, size_t size, uint64_t tag) {
  unsigned char *p = blk;
  size_t st = stride_of(size);
  put64(p, size);
  put64(p + 8, tag);
  for (size_t k = 1; k * st + 16 <= size; k++) put64(p + k * st, tag + k);
  if (size >= 24) put64(p + size - 8, ~tag);
}

int pattern_intact(const void *blk, uint64_t size, uint64_t tag, size_t limit) {
  const unsigned char *p = blk;
  size_t st = stride_of(size);
  int bad = 0;
  for (size_t k = 1; k * st + 16 <= size && k * st + 8 <= limit; k++) {
    bad |= get64(p + k * st) != tag + k;
  }
  if (size >= 24 && size <= limit) bad |= get64(p + size - 8) != ~tag;
  return !bad;
}

uint64_t check_block(const void *blk, uint64_t min_size, uint64_t max_size) {
  const unsigned char *p = blk;
  uint64_t size = get64(p);
  uint64_t tag = get64(p + 8);
  if (size < min_size || size > max_size || !pattern_intact(p, size, tag, size)) {
    fprintf(stderr, "%s: corrupted block %p (size word %" PRIu64 ")\n", program_name, blk, size);
    exit(1);
  }
  return tag;
}
