/* Allocation wrappers that end the test when memory runs out. */
#ifndef TA_GLIBC_SHIM_SUPPORT_H
#define TA_GLIBC_SHIM_SUPPORT_H
#include <stdlib.h>
#include <string.h>
#include "support/check.h"

static inline void *xmalloc(size_t n) {
  void *p = malloc(n);
  if (p == NULL) FAIL_EXIT1("xmalloc(%zu) failed", n);
  return p;
}
static inline void *xcalloc(size_t count, size_t n) {
  void *p = calloc(count, n);
  if (p == NULL) FAIL_EXIT1("xcalloc(%zu, %zu) failed", count, n);
  return p;
}
static inline void *xrealloc(void *old, size_t n) {
  void *p = realloc(old, n);
  if (p == NULL && n != 0) FAIL_EXIT1("xrealloc(%zu) failed", n);
  return p;
}
static inline char *xstrdup(const char *s) {
  char *p = strdup(s);
  if (p == NULL) FAIL_EXIT1("xstrdup failed");
  return p;
}
#endif
