/* The 32 size classes of small and medium blocks, and which kind of page
 * serves each. Requests above TA_CLASS_MAX_SIZE are huge blocks with a segment
 * of their own. */
#ifndef TINYALLOC_ALLOC_SIZE_CLASS_H_
#define TINYALLOC_ALLOC_SIZE_CLASS_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TA_CLASS_COUNT 32
#define TA_CLASS_MIN_SIZE ((size_t)16)      /* holds a free-list link and a free mark */
#define TA_CLASS_MAX_SIZE ((size_t)368640)  /* 360 KiB */

#define TA_SMALL_PAGE_SHIFT 16  /* 64 KiB */
#define TA_MEDIUM_PAGE_SHIFT 19 /* 512 KiB */
/* A class is served by the smallest page kind that holds TA_MIN_BLOCKS_PER_PAGE
 * of its blocks (so a page wastes at most an eighth of itself on the last
 * block), or TA_FEW_BLOCKS_PER_PAGE that waste at most a sixteenth: 16 KiB
 * blocks on 64 KiB pages, 128 KiB ones on 512 KiB pages. */
#define TA_MIN_BLOCKS_PER_PAGE 8
#define TA_FEW_BLOCKS_PER_PAGE 4

/* Page kinds, by the page size they use within a segment. */
typedef enum ta_page_kind {
  TA_PAGE_SMALL = 0,  /* 64 KiB pages, 64 per segment */
  TA_PAGE_MEDIUM = 1, /* 512 KiB pages, 8 per segment */
  TA_PAGE_LARGE = 2,  /* the whole segment is one page */
  TA_PAGE_HUGE = 3,   /* one block in a segment sized for it */
  TA_PAGE_KIND_COUNT = 4
} ta_page_kind_t;

#define TA_SMALL_CLASS_LOOKUP_MAX 1024

extern const uint32_t ta_class_size_table[TA_CLASS_COUNT];
extern const uint8_t ta_small_class_lookup[TA_SMALL_CLASS_LOOKUP_MAX / 8 + 1];
/* The first TA_CLASS8_SLOTS slots of ta_small_class_lookup (sizes up to
 * TA_CLASS8_MAX), and the slots among them that hold class c:
 * [ta_class8_slot_start[c], ta_class8_slot_start[c + 1]) (TA_CLASS8_SLOTS
 * past them). */
#define TA_CLASS8_MAX 512
#define TA_CLASS8_SLOTS (TA_CLASS8_MAX / 8 + 1)
extern const uint8_t ta_class8_slot_start[TA_CLASS_COUNT + 1];

/* For sizes above TA_SMALL_CLASS_LOOKUP_MAX: a leading-zero count and one
 * comparison. Above 1 KiB the classes are 2^k and the one below it (about
 * 2^k / 1.41), so a size in (2^(k-1), 2^k] is in one of two; the class of 2^k
 * is 14 + 2 (k - 10). */
static inline unsigned ta_size_to_class_large(size_t size) {
  unsigned k = 64u - (unsigned)__builtin_clzll((unsigned long long)(size - 1));
  unsigned upper = 14u + 2u * (k - 10u);
  return (size <= ta_class_size_table[upper - 1]) ? upper - 1 : upper;
}

/* The class of the smallest block that holds size bytes; size <= TA_CLASS_MAX_SIZE.
 * Constant time: a table lookup by size / 8 up to 1 KiB (laid out as the
 * likely case: the alloc fast path calls this). */
static inline unsigned ta_size_to_class(size_t size) {
  if (__builtin_expect(size <= TA_SMALL_CLASS_LOOKUP_MAX, 1)) {
    return ta_small_class_lookup[(size + 7) / 8];
  }
  return ta_size_to_class_large(size);
}

/* The class of the smallest block that holds size bytes and whose size is a
 * multiple of 16, so that every block of it is 16-aligned (malloc's
 * alignment); size <= TA_CLASS_MAX_SIZE. Above 1 KiB every class is such a
 * multiple. */
extern const uint8_t ta_small_class16_lookup[TA_SMALL_CLASS_LOOKUP_MAX / 16 + 1];
/* The slots of ta_small_class16_lookup that hold class c are
 * [ta_class16_slot_start[c], ta_class16_slot_start[c + 1]): the first slot
 * whose class is c or above (TA_SMALL_CLASS_LOOKUP_MAX / 16 + 1 past the
 * table's classes). Empty for a class that is not a multiple of 16. */
#define TA_CLASS16_SLOTS (TA_SMALL_CLASS_LOOKUP_MAX / 16 + 1)
extern const uint8_t ta_class16_slot_start[TA_CLASS_COUNT + 1];
static inline unsigned ta_size_to_class16(size_t size) {
  if (__builtin_expect(size <= TA_SMALL_CLASS_LOOKUP_MAX, 1)) {
    return ta_small_class16_lookup[(size + 15) / 16];
  }
  return ta_size_to_class_large(size);
}

static inline size_t ta_class_size(unsigned cls) { return ta_class_size_table[cls]; }

/* The page kind that serves blocks of class cls. */
ta_page_kind_t ta_class_page_kind(unsigned cls);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_SIZE_CLASS_H_ */
