/* measure: runs a program and reports its wall time and peak RSS, for
 * tools/bench_programs.py.
 *
 *   measure --out FILE [--preload LIB] -- PROG [ARGS...]
 *
 * Starts PROG (with LD_PRELOAD=LIB if given; this process itself is never
 * preloaded), waits for it and writes one line to FILE:
 *   status=N seconds=S maxrss_kib=K
 * where N is PROG's exit status (128 + the signal if a signal ended it), S
 * the wall time from just before fork to its end, and K the peak RSS of PROG
 * or of its largest descendant. Exits with N.
 *
 * Why a program of its own: a child's peak RSS counts the memory of the
 * process it was forked from (Linux records the old image's peak at exec),
 * so a child of the Python runner would never show less than the runner's
 * own ~20 MiB. This one is small. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void usage(void) {
  fprintf(stderr, "usage: measure --out FILE [--preload LIB] -- PROG [ARGS...]\n");
  exit(2);
}

int main(int argc, char **argv) {
  const char *out = NULL;
  const char *preload = NULL;
  int i = 1;
  for (; i < argc; i++) {
    if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
      out = argv[++i];
    } else if (strcmp(argv[i], "--preload") == 0 && i + 1 < argc) {
      preload = argv[++i];
    } else if (strcmp(argv[i], "--") == 0) {
      i++;
      break;
    } else {
      usage();
    }
  }
  if (out == NULL || i >= argc) usage();
  FILE *report = fopen(out, "w");
  if (report == NULL) {
    fprintf(stderr, "measure: %s: %s\n", out, strerror(errno));
    return 2;
  }
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "measure: fork: %s\n", strerror(errno));
    return 2;
  }
  if (pid == 0) {
    fclose(report);
    if (preload != NULL && setenv("LD_PRELOAD", preload, 1) != 0) _exit(127);
    execvp(argv[i], argv + i);
    fprintf(stderr, "measure: %s: %s\n", argv[i], strerror(errno));
    _exit(127);
  }
  int wstatus = 0;
  struct rusage usage_of_child;
  while (wait4(pid, &wstatus, 0, &usage_of_child) < 0) {
    if (errno != EINTR) {
      fprintf(stderr, "measure: wait4: %s\n", strerror(errno));
      return 2;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &end);
  int status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
  fprintf(report, "status=%d seconds=%.6f maxrss_kib=%ld\n", status, seconds,
          usage_of_child.ru_maxrss);
  if (fclose(report) != 0) return 2;
  return status;
}
