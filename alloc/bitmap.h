/* A bitmap over machine words that many threads may change at once. A set bit
 * means "taken". Runs are claimed all-or-nothing: a claim that finds any bit of
 * the run taken undoes what it set and reports failure, so two threads never
 * both own a bit. */
#ifndef TINYALLOC_ALLOC_BITMAP_H_
#define TINYALLOC_ALLOC_BITMAP_H_

#include "alloc/atomic.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TA_BITMAP_WORD_BITS 64
#define TA_BITMAP_WORDS(bits) (((bits) + TA_BITMAP_WORD_BITS - 1) / TA_BITMAP_WORD_BITS)

typedef TA_ATOMIC(uint64_t) ta_bitmap_word_t;

/* Mask of bits [lo, lo + n) within one word; lo + n <= 64, n >= 1. */
static inline uint64_t ta_word_mask(size_t lo, size_t n) {
  uint64_t m = (n == TA_BITMAP_WORD_BITS) ? ~UINT64_C(0) : ((UINT64_C(1) << n) - 1);
  return m << lo;
}

/* The lowest run of set bits of word (not 0): bits [*first, *end). */
static inline void ta_word_lowest_run(uint64_t word, unsigned *first, unsigned *end) {
  *first = (unsigned)__builtin_ctzll(word);
  uint64_t above = ~(word >> *first); /* clear where the run is */
  *end = above == 0 ? TA_BITMAP_WORD_BITS : *first + (unsigned)__builtin_ctzll(above);
}

/* Sets bits [start, start + n) if all of them were clear; otherwise leaves the
 * bitmap as it was and returns false. n >= 1. */
bool ta_bitmap_try_claim(ta_bitmap_word_t *words, size_t start, size_t n);

/* Finds a run of n clear bits below nbits and claims it, starting the search at
 * bit `hint` and wrapping around. Returns false when no run could be claimed. */
bool ta_bitmap_claim_run(ta_bitmap_word_t *words, size_t nbits, size_t n, size_t hint,
                         size_t *out_start);

/* Clears bits [start, start + n). Returns false if any of them was already
 * clear (the caller released something it did not own). */
bool ta_bitmap_release(ta_bitmap_word_t *words, size_t start, size_t n);

/* Sets bits [start, start + n) whatever they were. Returns how many of them
 * were clear before. For bookkeeping bitmaps (committed, dirty). */
size_t ta_bitmap_set(ta_bitmap_word_t *words, size_t start, size_t n);

/* Clears bits [start, start + n) whatever they were. Returns how many were set. */
size_t ta_bitmap_clear(ta_bitmap_word_t *words, size_t start, size_t n);

bool ta_bitmap_is_set(const ta_bitmap_word_t *words, size_t bit);

/* Whether every bit of [start, start + n) is set (all_set) or clear. */
bool ta_bitmap_all(const ta_bitmap_word_t *words, size_t start, size_t n, bool all_set);

/* Number of set bits below nbits. */
size_t ta_bitmap_count(const ta_bitmap_word_t *words, size_t nbits);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_BITMAP_H_ */
