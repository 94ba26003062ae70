/* The C library's allocation functions, replaced by tinyalloc's: linked into
 * a program (//alloc:malloc) or preloaded (libtinyalloc.so), these are the
 * program's malloc, and the C library's own calls (strdup, fopen, ...) reach
 * them too. glibc's extensions follow its rules: memalign rounds a
 * non-power-of-two alignment up, valloc and pvalloc align to the page. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>

#include "tinyalloc/malloc.h"
#include "tinyalloc/sysinfo.h"

#define TA_EXPORT __attribute__((visibility("default")))

TA_EXPORT void *malloc(size_t size) { return ta_malloc(size); }
TA_EXPORT void free(void *ptr) { ta_free(ptr); }
TA_EXPORT void *calloc(size_t count, size_t size) { return ta_calloc(count, size); }
TA_EXPORT void *realloc(void *ptr, size_t size) { return ta_realloc(ptr, size); }

TA_EXPORT void *reallocarray(void *ptr, size_t count, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(count, size, &total)) {
    errno = ENOMEM;
    return NULL;
  }
  return ta_realloc(ptr, total);
}

TA_EXPORT void *aligned_alloc(size_t align, size_t size) { return ta_aligned_alloc(align, size); }

TA_EXPORT int posix_memalign(void **out, size_t align, size_t size) {
  return ta_posix_memalign(out, align, size);
}

TA_EXPORT void *memalign(size_t align, size_t size) {
  /* glibc: any alignment, a non-power of two rounded up to one. */
  size_t pow2 = TA_MALLOC_ALIGN;
  while (pow2 < align && pow2 <= SIZE_MAX / 2) pow2 *= 2;
  if (pow2 < align) {
    errno = EINVAL;
    return NULL;
  }
  return ta_aligned_alloc(pow2, size);
}

TA_EXPORT void *valloc(size_t size) { return ta_aligned_alloc(ta_sysinfo()->page_size, size); }

TA_EXPORT void *pvalloc(size_t size) {
  size_t page = ta_sysinfo()->page_size;
  if (size > SIZE_MAX - (page - 1)) {
    errno = ENOMEM;
    return NULL;
  }
  /* Zero rounds up to one page, as glibc's does. */
  size_t rounded = size == 0 ? page : (size + page - 1) & ~(page - 1);
  return ta_aligned_alloc(page, rounded);
}

TA_EXPORT size_t malloc_usable_size(void *ptr) { return ta_malloc_usable_size(ptr); }
