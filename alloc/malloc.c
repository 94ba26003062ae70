/* The prefixed malloc family on the thread's default heap, with glibc's
 * rules for errno, zero sizes, overflow and alignment. */
#include "tinyalloc/malloc.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "alloc/heap.h"
#include "alloc/thread_heap.h"

/* Out of memory, or the thread has no heap and cannot make one. */
TA_NOINLINE static void *alloc_failed(void) {
  errno = ENOMEM;
  return NULL;
}

static void *alloc_aligned(size_t size, size_t align) {
  ta_heap_t *heap = ta_thread_heap_get();
  /* ta_heap_alloc's layout rules: an oversized request is out of memory, as
   * glibc says (ENOMEM), not an invalid layout. */
  if (heap == NULL || size > PTRDIFF_MAX - align) return alloc_failed();
  void *p = ta_heap_alloc_inline(heap, (ta_layout_t){size, align});
  return p != NULL ? p : alloc_failed();
}

/* What the fast path of ta_malloc leaves: no heap yet, a size above 1 KiB,
 * a dry page. */
TA_NOINLINE static void *malloc_slow(size_t size) {
  ta_heap_t *heap = ta_thread_heap_get();
  if (heap == NULL) return alloc_failed();
  if (size > TA_CLASS_MAX_SIZE) return alloc_aligned(size, TA_MALLOC_ALIGN);
  void *p = ta_heap_alloc_class(heap, ta_size_to_class16(size));
  return p != NULL ? p : alloc_failed();
}

/* The fast path, a leaf: the thread's heap (ta_no_heap, whose pages are all
 * empty, before it has one), the page of a small size's class whose blocks
 * are all 16-aligned (no alignment test), straight from the size (direct16),
 * a pop. */
void *ta_malloc(size_t size) {
  ta_heap_t *heap = ta_thread_heap_or_none();
  if (TA_LIKELY(size <= TA_SMALL_CLASS_LOOKUP_MAX)) {
    ta_page_t *page = heap->direct16[(size + 15) / 16];
    if (TA_LIKELY(page->free != NULL)) return ta_heap_page_pop(page);
  }
  return malloc_slow(size);
}

void *ta_calloc(size_t count, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(count, size, &total)) return alloc_failed();
  void *p = ta_malloc(total);
  if (p != NULL) memset(p, 0, total);
  return p;
}

/* What the fast path of ta_free leaves: the segment map path. The pointer
 * alone, so that ta_free keeps it where it came in. */
TA_NOINLINE static void free_mapped(void *ptr) {
  ta_heap_free_mapped(ta_thread_heap_or_none(), ptr, 0, 1);
}

/* Keeps errno without saving it: the OS calls a free may make (returning
 * memory) keep it themselves (the platform layer). */
void ta_free(void *ptr) {
  /* ta_no_heap owns no block: a thread without a heap takes the remote or
   * the slow path, which know it. */
  if (TA_LIKELY(ta_heap_free_hinted(ta_thread_heap_or_none(), ptr, (ta_layout_t){0, 1}))) return;
  free_mapped(ptr);
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
  /* A huge block (the only kind past the largest class) grows within its
   * segment while the segment has room. */
  if (size > usable && usable > TA_CLASS_MAX_SIZE && ta_grow_in_place(ptr, size)) return ptr;
  void *fresh = ta_malloc(size);
  if (fresh == NULL) return NULL; /* the old block stays, as glibc leaves it */
  memcpy(fresh, ptr, size < usable ? size : usable);
  ta_free(ptr);
  return fresh;
}

/* A power-of-two alignment beyond what a layout may ask is memory that
 * cannot be had (glibc too fails such requests with ENOMEM). */
static void *alloc_power_of_two_aligned(size_t align, size_t size) {
  /* The class from a formula, no search (ta_heap_alloc_class_aligned's too). */
  if (TA_LIKELY(ta_aligned_class_is_power_of_two(align, size))) {
    /* ta_no_heap's pages are all empty: a thread without a heap goes on. */
    ta_page_t *page = ta_thread_heap_or_none()->direct[ta_aligned_power_of_two_class(align, size)];
    if (TA_LIKELY(page->free != NULL)) return ta_heap_page_pop(page);
  }
  if (align > TA_LAYOUT_MAX_ALIGN) return alloc_failed();
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
