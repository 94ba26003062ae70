/* Fixed-capacity arrays: storage inside the owning struct, no allocation, and
 * a push that reports "full" instead of growing. Declared per element type:
 *   TA_FIXED_ARRAY(ta_span_array, ta_span_t, 64);
 * gives struct ta_span_array with len/items and inline functions
 * ta_span_array_clear, ta_span_array_push (false when full) and
 * ta_span_array_is_full. */
#ifndef TINYALLOC_ALLOC_FIXED_ARRAY_H_
#define TINYALLOC_ALLOC_FIXED_ARRAY_H_

#include <stdbool.h>
#include <stddef.h>

/* A file uses only some of the functions it declares; clang would warn. */
#if defined(__GNUC__)
#define TA_FIXED_ARRAY_FN static inline __attribute__((unused))
#else
#define TA_FIXED_ARRAY_FN static inline
#endif

#define TA_FIXED_ARRAY(name, type, capacity)                                    \
  typedef struct name {                                                        \
    size_t len;                                                                \
    type items[capacity];                                                      \
  } name##_t;                                                                  \
  enum { name##_capacity = (capacity) };                                       \
  TA_FIXED_ARRAY_FN void name##_clear(name##_t *a) { a->len = 0; }            \
  TA_FIXED_ARRAY_FN bool name##_is_full(const name##_t *a) {                  \
    return a->len == (size_t)(capacity);                                       \
  }                                                                            \
  TA_FIXED_ARRAY_FN bool name##_push(name##_t *a, type value) {               \
    if (name##_is_full(a)) return false;                                       \
    a->items[a->len++] = value;                                                \
    return true;                                                               \
  }

#endif /* TINYALLOC_ALLOC_FIXED_ARRAY_H_ */
