/* Size classes: 11 fine classes up to 128 bytes, then two per doubling (a power
 * of two and about 1.41 times it), so that any request uses at least 69% of its
 * block (tests/size_class_test checks every class). Every class from 128 bytes
 * up is a multiple of 16, malloc's alignment: a class that is not serves no
 * malloc request, which then takes the next one at half its size. Between 128
 * and 512 bytes no multiple of 16 keeps 70% on both sides: 176 and 368 keep
 * 69.1% and 69.8%. */
#include "alloc/size_class.h"

#include <stdbool.h>

const uint32_t ta_class_size_table[TA_CLASS_COUNT] = {
    16,    24,    32,    40,    48,    64,     80,     96,     128,    176,    256,
    368,   512,   720,   1024,  1440,  2048,   2880,   4096,   5760,   8192,   11520,
    16384, 23040, 32768, 46080, 65536, 92160, 131072, 184320, 262144, 368640,
};

/* The class of sizes 8i-7..8i is ta_small_class_lookup[i]; size_class_test
 * checks it against a search of the class table. */
const uint8_t ta_small_class_lookup[TA_SMALL_CLASS_LOOKUP_MAX / 8 + 1] = {
    0, 0, 0, 1, 2, 3, 4, 5, 5, 6, 6, 7, 7, 8, 8, 8,
    8, 9, 9, 9, 9, 9, 9, 10, 10, 10, 10, 10, 10, 10, 10, 10,
    10, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 12,
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    12, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13,
    13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 14, 14, 14, 14, 14,
    14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14,
    14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14,
    14,
};

const uint8_t ta_class8_slot_start[TA_CLASS_COUNT + 1] = {
    0,  3,  4,  5,  6,  7,  9,  11, 13, 17, 23, 33, 47, 65, 65, 65, 65,
    65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65,
};

/* The class of sizes 16i-15..16i among those whose size is a multiple of 16
 * (malloc's alignment) is ta_small_class16_lookup[i]; size_class_test checks
 * it against a search too. */
const uint8_t ta_small_class16_lookup[TA_SMALL_CLASS_LOOKUP_MAX / 16 + 1] = {
    0, 0, 2, 4, 5, 6, 7, 8, 8, 9, 9, 9, 10, 10, 10, 10,
    10, 11, 11, 11, 11, 11, 11, 11, 12, 12, 12, 12, 12, 12, 12, 12,
    12, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 14, 14,
    14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14,
    14,
};

const uint8_t ta_class16_slot_start[TA_CLASS_COUNT + 1] = {
    0,  2,  2,  3,  3,  4,  5,  6,  7,  9,  12, 17, 24, 33, 46, 65, 65,
    65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65,
};

/* Whether a page of page_bytes serves blocks of size: it holds
 * TA_MIN_BLOCKS_PER_PAGE of them, or TA_FEW_BLOCKS_PER_PAGE that leave at
 * most a sixteenth of it over. The smaller the page, the sooner all of its
 * blocks are free and it serves any class again: where a program frees most
 * blocks at random, a 512 KiB page of 16 KiB blocks keeps a survivor for
 * good, a 64 KiB one often none. */
static bool page_fits(size_t size, size_t page_bytes) {
  size_t blocks = page_bytes / size;
  return blocks >= TA_MIN_BLOCKS_PER_PAGE ||
         (blocks >= TA_FEW_BLOCKS_PER_PAGE && page_bytes - blocks * size <= page_bytes / 16);
}

ta_page_kind_t ta_class_page_kind(unsigned cls) {
  size_t size = ta_class_size(cls);
  if (page_fits(size, (size_t)1 << TA_SMALL_PAGE_SHIFT)) return TA_PAGE_SMALL;
  if (page_fits(size, (size_t)1 << TA_MEDIUM_PAGE_SHIFT)) return TA_PAGE_MEDIUM;
  return TA_PAGE_LARGE;
}
