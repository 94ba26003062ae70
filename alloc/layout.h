/* Layout rules shared by ta_layout_make and every call that takes a layout. */
#ifndef TINYALLOC_ALLOC_LAYOUT_H_
#define TINYALLOC_ALLOC_LAYOUT_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tinyalloc/tinyalloc.h"

#ifdef __cplusplus
extern "C" {
#endif

static inline bool ta_layout_is_valid(size_t size, size_t align) {
  return align != 0 && (align & (align - 1)) == 0 && align <= TA_LAYOUT_MAX_ALIGN &&
         size <= (size_t)PTRDIFF_MAX && size <= SIZE_MAX - align;
}

static inline uintptr_t ta_align_up(uintptr_t value, size_t align) {
  return (value + align - 1) & ~(uintptr_t)(align - 1);
}

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_LAYOUT_H_ */
