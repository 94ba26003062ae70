/* A first look at tinyalloc: a heap, blocks of a few layouts, a huge aligned
 * block, a misuse caught, and the heap destroyed with blocks still live. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tinyalloc/tinyalloc.h"

int main(void) {
  ta_heap_t *heap = ta_heap_new();
  if (heap == NULL) {
    fprintf(stderr, "demo: ta_heap_new failed (os error %d)\n", ta_last_os_error());
    return 1;
  }
  static const size_t sizes[] = {8, 64, 512, 4096, 32768, 300000};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    ta_layout_t layout;
    if (ta_layout_make(sizes[i], 16, &layout) != TA_OK) return 1;
    char *p = ta_heap_alloc(heap, layout);
    if (p == NULL) {
      fprintf(stderr, "demo: alloc of %zu failed: %s\n", sizes[i],
              ta_error_str(ta_heap_last_error(heap)));
      return 1;
    }
    memset(p, 'x', sizes[i]);
    printf("alloc %7zu bytes (align 16): usable %7zu at %p\n", sizes[i], ta_usable_size(p),
           (void *)p);
    ta_heap_free(heap, p, layout);
  }

  ta_layout_t big;
  if (ta_layout_make((size_t)8 << 20, (size_t)2 << 20, &big) != TA_OK) return 1;
  void *b = ta_heap_alloc(heap, big);
  if (b == NULL) return 1;
  printf("alloc 8 MiB aligned to 2 MiB: %p (aligned: %s)\n", b,
         ((uintptr_t)b % big.align) == 0 ? "yes" : "no");
  ta_heap_free(heap, b, big);

  ta_layout_t small;
  if (ta_layout_make(100, 8, &small) != TA_OK) return 1;
  char *s = ta_heap_alloc(heap, small);
  if (s == NULL) return 1;
  ta_heap_free(heap, s, small);
  ta_heap_free(heap, s, small);
  printf("double free reported: %s\n", ta_error_str(ta_heap_last_error(heap)));
  char local[16];
  ta_heap_free(heap, local, small);
  printf("foreign pointer reported: %s\n", ta_error_str(ta_heap_last_error(heap)));

  for (int i = 0; i < 10000; i++) {
    if (ta_heap_alloc(heap, small) == NULL) return 1;
  }
  ta_heap_destroy(heap);
  printf("destroyed a heap holding 10000 live blocks\n");
  return 0;
}
