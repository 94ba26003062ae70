/* Atomic bitmap: claim, release and scan runs of bits with CAS on words. */
#include "alloc/bitmap.h"

/* Runs body once per word that [start, start + n) touches, with idx the word's
 * index and mask the run's bits in it; bit_ and take_ are the piece's first bit
 * and length. A break in body ends the walk. */
#define TA_FOR_EACH_PIECE(start, n, idx, mask, body)                     \
  do {                                                                  \
    size_t bit_ = (start), left_ = (n);                                 \
    while (left_ > 0) {                                                 \
      size_t lo_ = bit_ % TA_BITMAP_WORD_BITS;                          \
      size_t take_ = TA_BITMAP_WORD_BITS - lo_;                         \
      if (take_ > left_) take_ = left_;                                 \
      size_t idx = bit_ / TA_BITMAP_WORD_BITS;                          \
      uint64_t mask = ta_word_mask(lo_, take_);                         \
      body;                                                             \
      bit_ += take_;                                                    \
      left_ -= take_;                                                   \
    }                                                                   \
  } while (0)

bool ta_bitmap_try_claim(ta_bitmap_word_t *words, size_t start, size_t n) {
  size_t claimed_end = start; /* bits [start, claimed_end) are ours so far */
  bool ok = true;
  TA_FOR_EACH_PIECE(start, n, idx, mask, {
    if (!ok) break;
    uint64_t old = atomic_load_explicit(&words[idx], memory_order_relaxed);
    for (;;) {
      if ((old & mask) != 0) {
        ok = false;
        break;
      }
      if (atomic_compare_exchange_weak_explicit(&words[idx], &old, old | mask,
                                                memory_order_acquire, memory_order_relaxed)) {
        break;
      }
    }
    if (ok) claimed_end = bit_ + take_;
  });
  if (!ok && claimed_end > start) ta_bitmap_release(words, start, claimed_end - start);
  return ok;
}

/* Length of the run of clear bits starting at bit, not looking past limit. */
static size_t clear_run(const ta_bitmap_word_t *words, size_t bit, size_t limit) {
  size_t run = 0;
  while (bit < limit) {
    size_t lo = bit % TA_BITMAP_WORD_BITS;
    uint64_t w = atomic_load_explicit(&words[bit / TA_BITMAP_WORD_BITS], memory_order_relaxed) >> lo;
    size_t avail = TA_BITMAP_WORD_BITS - lo;
    size_t zeros = (w == 0) ? avail : (size_t)__builtin_ctzll(w);
    if (zeros > avail) zeros = avail;
    if (bit + zeros > limit) zeros = limit - bit;
    run += zeros;
    bit += zeros;
    if (zeros < avail) break;
  }
  return run;
}

/* First clear bit at or after bit and below limit, or limit. */
static size_t next_clear(const ta_bitmap_word_t *words, size_t bit, size_t limit) {
  while (bit < limit) {
    size_t lo = bit % TA_BITMAP_WORD_BITS;
    uint64_t inv = ~atomic_load_explicit(&words[bit / TA_BITMAP_WORD_BITS], memory_order_relaxed) >> lo;
    if (inv != 0) {
      size_t found = bit + (size_t)__builtin_ctzll(inv);
      return found < limit ? found : limit;
    }
    bit += TA_BITMAP_WORD_BITS - lo;
  }
  return limit;
}

static bool claim_in(ta_bitmap_word_t *words, size_t from, size_t limit, size_t n,
                     size_t *out_start) {
  size_t bit = next_clear(words, from, limit);
  while (bit + n <= limit) {
    size_t run = clear_run(words, bit, limit);
    if (run >= n) {
      if (ta_bitmap_try_claim(words, bit, n)) {
        *out_start = bit;
        return true;
      }
      bit++; /* lost a race for part of the run: look again just after */
    } else {
      bit += run;
    }
    bit = next_clear(words, bit, limit);
  }
  return false;
}

bool ta_bitmap_claim_run(ta_bitmap_word_t *words, size_t nbits, size_t n, size_t hint,
                         size_t *out_start) {
  if (n == 0 || n > nbits) return false;
  if (hint >= nbits) hint = 0;
  if (claim_in(words, hint, nbits, n, out_start)) return true;
  /* Wrap around: a run may also straddle hint, so search up to hint + n - 1. */
  size_t limit = hint + n - 1;
  if (limit > nbits) limit = nbits;
  return hint > 0 && claim_in(words, 0, limit, n, out_start);
}

bool ta_bitmap_release(ta_bitmap_word_t *words, size_t start, size_t n) {
  bool all_were_set = true;
  TA_FOR_EACH_PIECE(start, n, idx, mask, {
    uint64_t old = atomic_fetch_and_explicit(&words[idx], ~mask, memory_order_release);
    if ((old & mask) != mask) all_were_set = false;
  });
  return all_were_set;
}

size_t ta_bitmap_set(ta_bitmap_word_t *words, size_t start, size_t n) {
  size_t newly = 0;
  TA_FOR_EACH_PIECE(start, n, idx, mask, {
    uint64_t old = atomic_fetch_or_explicit(&words[idx], mask, memory_order_acq_rel);
    newly += (size_t)__builtin_popcountll(~old & mask);
  });
  return newly;
}

size_t ta_bitmap_clear(ta_bitmap_word_t *words, size_t start, size_t n) {
  size_t were = 0;
  TA_FOR_EACH_PIECE(start, n, idx, mask, {
    uint64_t old = atomic_fetch_and_explicit(&words[idx], ~mask, memory_order_acq_rel);
    were += (size_t)__builtin_popcountll(old & mask);
  });
  return were;
}

bool ta_bitmap_is_set(const ta_bitmap_word_t *words, size_t bit) {
  uint64_t w = atomic_load_explicit(&words[bit / TA_BITMAP_WORD_BITS], memory_order_acquire);
  return (w >> (bit % TA_BITMAP_WORD_BITS)) & 1;
}

bool ta_bitmap_all(const ta_bitmap_word_t *words, size_t start, size_t n, bool all_set) {
  bool result = true;
  TA_FOR_EACH_PIECE(start, n, idx, mask, {
    uint64_t w = atomic_load_explicit(&words[idx], memory_order_acquire) & mask;
    if (w != (all_set ? mask : 0)) result = false;
  });
  return result;
}

size_t ta_bitmap_count(const ta_bitmap_word_t *words, size_t nbits) {
  size_t count = 0;
  TA_FOR_EACH_PIECE(0, nbits, idx, mask, {
    count += (size_t)__builtin_popcountll(
        atomic_load_explicit(&words[idx], memory_order_acquire) & mask);
  });
  return count;
}
