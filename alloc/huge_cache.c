/* The huge segment cache (huge_cache.h): a few entries under a lock held for
 * a few loads and stores; segments leave it for the arena outside the lock. */
#include "alloc/huge_cache.h"

#include "alloc/arena.h"
#include "alloc/atomic.h"
#include "alloc/options.h"
#include "alloc/segment_alloc.h"
#include "tinyalloc/clock.h"
#include "tinyalloc/os_thread.h"

/* Enough for a few buffer sizes in flight at once; more would mostly hold
 * memory nobody asks for again. */
#define TA_HUGE_CACHE_ENTRIES 8

typedef struct {
  ta_segment_t *segment;
  uint64_t since;
} cache_entry_t;

static cache_entry_t entries[TA_HUGE_CACHE_ENTRIES];
static size_t count; /* entries[0, count) are used, oldest first */
static atomic_flag lock = ATOMIC_FLAG_INIT;
/* When the oldest entry is due (UINT64_MAX: the cache is empty). */
static TA_ATOMIC(uint64_t) next_due = UINT64_MAX;

void ta_huge_cache_lock(void) {
  while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire)) ta_os_yield();
}

void ta_huge_cache_unlock(void) { atomic_flag_clear_explicit(&lock, memory_order_release); }

static size_t slots_of(const ta_segment_t *segment) { return segment->size / TA_SEGMENT_SIZE; }

static uint64_t delay_ms(void) { return (uint64_t)ta_options_value(TA_OPTION_PURGE_DELAY_MS); }

/* Under the lock: removes entry i, keeping the order. */
static ta_segment_t *remove_at(size_t i) {
  ta_segment_t *segment = entries[i].segment;
  for (size_t j = i + 1; j < count; j++) entries[j - 1] = entries[j];
  count--;
  uint64_t due = count != 0 ? entries[0].since + delay_ms() : UINT64_MAX;
  atomic_store_explicit(&next_due, due, memory_order_relaxed);
  return segment;
}

/* A segment out of the cache, to the arena (or the OS); `expired`: it was
 * kept for the whole purge delay. */
static void give_back(ta_segment_t *segment, bool expired) {
  ta_arena_retain_unreserve(slots_of(segment));
  ta_segment_release(segment, expired);
}

bool ta_huge_cache_put(ta_segment_t *segment) {
  uint64_t delay = delay_ms();
  if (delay == 0 || !ta_arena_retain_fits(slots_of(segment))) return false;
  uint64_t now = ta_clock_ms();
  ta_segment_t *evicted = NULL;
  ta_huge_cache_lock();
  if (count == TA_HUGE_CACHE_ENTRIES) evicted = remove_at(0);
  /* Counted with the evicted entry still in: the budget holds at every
   * moment. */
  bool kept = ta_arena_retain_reserve(slots_of(segment));
  if (kept) {
    entries[count].segment = segment;
    entries[count].since = now;
    count++;
    if (count == 1) atomic_store_explicit(&next_due, now + delay, memory_order_relaxed);
  }
  ta_huge_cache_unlock();
  if (evicted != NULL) give_back(evicted, false);
  return kept;
}

ta_segment_t *ta_huge_cache_take(size_t size, size_t block_offset, size_t block_size) {
  if (atomic_load_explicit(&next_due, memory_order_relaxed) == UINT64_MAX) return NULL;
  ta_segment_t *found = NULL;
  ta_segment_t *others[TA_HUGE_CACHE_ENTRIES];
  size_t n_others = 0;
  ta_huge_cache_lock();
  /* Newest first: the likeliest to be in the caches of the CPU. */
  for (size_t i = count; i-- > 0;) {
    ta_segment_t *segment = entries[i].segment;
    if (segment->size == size &&
        (size_t)(segment->pages[0].area - (uint8_t *)segment) == block_offset &&
        segment->huge_size >= block_size) {
      found = remove_at(i);
      break;
    }
  }
  /* Sizes change: what is kept goes to the arena, where a block of any size
   * can use its slots, rather than sit beside new ones. */
  if (found == NULL) {
    while (count != 0) others[n_others++] = remove_at(count - 1);
  }
  ta_huge_cache_unlock();
  if (found != NULL) ta_arena_retain_unreserve(slots_of(found));
  for (size_t i = 0; i < n_others; i++) give_back(others[i], false);
  return found;
}

void ta_huge_cache_purge_due(uint64_t now, bool everything) {
  if (!everything && now < atomic_load_explicit(&next_due, memory_order_relaxed)) return;
  for (;;) {
    ta_segment_t *segment = NULL;
    ta_huge_cache_lock();
    if (count != 0 && (everything || entries[0].since + delay_ms() <= now)) segment = remove_at(0);
    ta_huge_cache_unlock();
    if (segment == NULL) return;
    give_back(segment, true);
  }
}
