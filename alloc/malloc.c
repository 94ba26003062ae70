/* The prefixed malloc family on the thread's default heap, with glibc's
 * rules for errno, zero sizes, overflow and alignment. */
#include "tinyalloc/malloc.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "alloc/heap.h"
#include "alloc/thread_heap.h"

static void *alloc_aligned(size_t size, size_t align) {
  ta_heap_t *heap = ta_thread_heap();
  if (heap == NULL) {
    errno = ENOMEM;
    return NULL;
  }
  /* ta_heap_alloc's layout rules: an oversized request is out of memory, as
   * glibc says (ENOMEM), not an invalid layout. */
  if (size > PTRDIFF_MAX - align) {
    errno = ENOMEM;
    return NULL;
  }
  void *p = ta_heap_alloc(heap, (ta_layout_t){size, align});
  if (p == NULL) errno = ENOMEM;
  return p;
}

void *ta_malloc(size_t size) { return alloc_aligned(size, TA_MALLOC_ALIGN); }

void *ta_calloc(size_t count, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(count, size, &total)) {
    errno = ENOMEM;
    return NULL;
  }
  void *p = ta_malloc(total);
  if (p != NULL) memset(p, 0, total);
  return p;
}

void ta_free(void *ptr) {
  if (ptr == NULL) return;
  int saved = errno; /* releasing a huge block may set it */
  ta_heap_t *heap = ta_thread_heap_if_any();
  if (heap != NULL) {
    ta_heap_free(heap, ptr, (ta_layout_t){0, 1});
  } else {
    ta_free_without_heap(ptr);
  }
  errno = saved;
}

void *ta_realloc(void *ptr, size_t size) {
  if (ptr == NULL) return ta_malloc(size);
  if (size == 0) {
    ta_free(ptr);
    return NULL;
  }
  size_t usable = ta_usable_size(ptr);
  if (usable == 0) {
    ta_free(ptr); /* refuses it, and warns with TINYALLOC_VERBOSE */
    errno = EINVAL;
    return NULL;
  }
  /* In place while the block fits and is not more than twice what is asked:
   * a shrink by half or more moves, so that small data does not pin a big
   * block. */
  if (size <= usable && size >= usable / 2) return ptr;
  void *fresh = ta_malloc(size);
  if (fresh == NULL) return NULL; /* the old block stays, as glibc leaves it */
  memcpy(fresh, ptr, size < usable ? size : usable);
  ta_free(ptr);
  return fresh;
}

/* A power-of-two alignment beyond what a layout may ask is memory that
 * cannot be had (glibc too fails such requests with ENOMEM). */
static void *alloc_power_of_two_aligned(size_t align, size_t size) {
  if (align > TA_LAYOUT_MAX_ALIGN) {
    errno = ENOMEM;
    return NULL;
  }
  return alloc_aligned(size, align < TA_MALLOC_ALIGN ? TA_MALLOC_ALIGN : align);
}

void *ta_aligned_alloc(size_t align, size_t size) {
  if (align == 0 || (align & (align - 1)) != 0) {
    errno = EINVAL;
    return NULL;
  }
  return alloc_power_of_two_aligned(align, size);
}

int ta_posix_memalign(void **out, size_t align, size_t size) {
  if (out == NULL || align == 0 || align % sizeof(void *) != 0 || (align & (align - 1)) != 0) {
    return EINVAL;
  }
  /* Out of memory also leaves errno at ENOMEM, as glibc's does (its own
   * tst-malloc-thread-fail checks errno); EINVAL leaves errno alone. */
  void *p = alloc_power_of_two_aligned(align, size);
  if (p == NULL) return ENOMEM;
  *out = p;
  return 0;
}

size_t ta_malloc_usable_size(const void *ptr) { return ta_usable_size(ptr); }
