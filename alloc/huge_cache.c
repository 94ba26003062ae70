/* The huge segment cache (huge_cache.h): a few entries under a lock held for
 * a few loads and stores, and one front slot per heap that needs no lock;
 * segments leave it for the arena outside the lock. */
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

/* Fronts: the segment a heap freed last, kept where that heap takes it back
 * with one exchange and no lock (a loop of alloc/free pairs of one size then
 * costs no lock, no list and no search). Other threads take one only to
 * purge it when due, to reuse it when theirs and the list have none that
 * fits, or to hand it to the arena with the rest. A heap claims one at its
 * first huge free and keeps it until it is released; heaps past the last
 * one use the list alone. */
#define TA_HUGE_CACHE_FRONTS 64

typedef struct {
  TA_ALIGNAS(TA_CACHE_LINE) TA_ATOMIC(ta_segment_t *) segment;
  TA_ATOMIC(uint64_t) since;
  TA_ATOMIC(size_t) bytes; /* segment->size, for the statistics */
  TA_ATOMIC(int) claimed;
} front_t;

static front_t fronts[TA_HUGE_CACHE_FRONTS];
/* Fronts ever claimed: those past it are all empty. */
static TA_ATOMIC(uint32_t) fronts_used;
/* When the oldest front segment may be due (UINT64_MAX: none is kept). */
static TA_ATOMIC(uint64_t) fronts_due = UINT64_MAX;

void ta_huge_cache_lock(void) {
  while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire)) ta_os_yield();
}

void ta_huge_cache_unlock(void) { atomic_flag_clear_explicit(&lock, memory_order_release); }

static size_t slots_of(const ta_segment_t *segment) { return segment->size / TA_SEGMENT_SIZE; }

static uint64_t delay_ms(void) { return (uint64_t)ta_options_value(TA_OPTION_PURGE_DELAY_MS); }

/* Under the lock: removes entry i, keeping the order. */
static cache_entry_t remove_at(size_t i) {
  cache_entry_t entry = entries[i];
  for (size_t j = i + 1; j < count; j++) entries[j - 1] = entries[j];
  count--;
  uint64_t due = count != 0 ? entries[0].since + delay_ms() : UINT64_MAX;
  atomic_store_explicit(&next_due, due, memory_order_relaxed);
  return entry;
}

/* A segment out of the cache, kept there since `since`, to the arena (which
 * keeps it for the rest of its purge delay, not a whole new one) or the OS. */
static void give_back(ta_segment_t *segment, uint64_t since) {
  ta_arena_retain_unreserve(slots_of(segment));
  ta_segment_release(segment, since);
}

#define FRONT_NONE UINT32_MAX /* *front when every front was claimed already */

/* The heap's front, claimed now if it has none yet (*front 0, then the
 * front's index + 1); NULL if every front is claimed. */
static front_t *front_claim(uint32_t *front) {
  if (*front == 0) {
    *front = FRONT_NONE;
    for (uint32_t i = 0; i < TA_HUGE_CACHE_FRONTS; i++) {
      int unclaimed = 0;
      if (atomic_compare_exchange_strong_explicit(&fronts[i].claimed, &unclaimed, 1,
                                                  memory_order_relaxed, memory_order_relaxed)) {
        *front = i + 1;
        uint32_t used = atomic_load_explicit(&fronts_used, memory_order_relaxed);
        while (used < i + 1 &&
               !atomic_compare_exchange_weak_explicit(&fronts_used, &used, i + 1,
                                                      memory_order_relaxed, memory_order_relaxed)) {
        }
        break;
      }
    }
  }
  return *front != FRONT_NONE ? &fronts[*front - 1] : NULL;
}

/* The heap's front if it has claimed one, else NULL. */
static front_t *front_of(uint32_t front) {
  return front != 0 && front != FRONT_NONE ? &fronts[front - 1] : NULL;
}

static bool fits(const ta_segment_t *segment, size_t size, size_t block_offset, size_t block_size) {
  return segment->size == size &&
         (size_t)(segment->pages[0].area - (uint8_t *)segment) == block_offset &&
         segment->huge_size >= block_size;
}

/* Takes front f's segment, or NULL. */
static ta_segment_t *front_take(front_t *f) {
  if (atomic_load_explicit(&f->segment, memory_order_relaxed) == NULL) return NULL;
  return atomic_exchange_explicit(&f->segment, NULL, memory_order_acquire);
}

/* Takes front f's segment for anyone but its heap's next huge block: no
 * longer counted with the segments heaps hold. NULL if it has none. */
static ta_segment_t *front_take_away(front_t *f) {
  ta_segment_t *segment = front_take(f);
  if (segment != NULL) ta_segment_unhold(segment);
  return segment;
}

/* Under the lock, with room: enters a segment kept since `since` in its
 * place by age (a front's segment may be older than the list's newest), so
 * that the purge, which looks at the oldest entry only, finds each on time. */
static void list_insert(ta_segment_t *segment, uint64_t since) {
  size_t at = count;
  while (at > 0 && entries[at - 1].since > since) at--;
  for (size_t j = count; j > at; j--) entries[j] = entries[j - 1];
  entries[at].segment = segment;
  entries[at].since = since;
  count++;
  atomic_store_explicit(&next_due, entries[0].since + delay_ms(), memory_order_relaxed);
}

/* A segment kept since `since`, its retention reserved, into the list. A
 * full list gives back its oldest entry, which may be this one. */
static void list_put_reserved(ta_segment_t *segment, uint64_t since) {
  cache_entry_t evicted = {NULL, 0};
  ta_huge_cache_lock();
  if (count == TA_HUGE_CACHE_ENTRIES && since < entries[0].since) {
    evicted = (cache_entry_t){segment, since};
  } else {
    if (count == TA_HUGE_CACHE_ENTRIES) evicted = remove_at(0);
    list_insert(segment, since);
  }
  ta_huge_cache_unlock();
  if (evicted.segment != NULL) give_back(evicted.segment, evicted.since);
}

bool ta_huge_cache_put_front(uint32_t *front, ta_segment_t *segment) {
  uint64_t delay = delay_ms();
  if (delay == 0) return false;
  front_t *f = front_claim(front);
  /* Only its heap fills a front: empty now, it stays so until the store. */
  if (f == NULL || atomic_load_explicit(&f->segment, memory_order_relaxed) != NULL) return false;
  if (!ta_arena_retain_reserve(slots_of(segment))) return false;
  uint64_t now = ta_clock_ms();
  atomic_store_explicit(&f->since, now, memory_order_relaxed);
  atomic_store_explicit(&f->bytes, segment->size, memory_order_relaxed);
  atomic_store_explicit(&f->segment, segment, memory_order_release);
  uint64_t due = now + delay;
  uint64_t seen = atomic_load_explicit(&fronts_due, memory_order_relaxed);
  while (due < seen && !atomic_compare_exchange_weak_explicit(
                           &fronts_due, &seen, due, memory_order_relaxed, memory_order_relaxed)) {
  }
  return true;
}

bool ta_huge_cache_put(ta_segment_t *segment) {
  uint64_t delay = delay_ms();
  if (delay == 0 || !ta_arena_retain_fits(slots_of(segment))) return false;
  uint64_t now = ta_clock_ms();
  cache_entry_t evicted = {NULL, 0};
  ta_huge_cache_lock();
  if (count == TA_HUGE_CACHE_ENTRIES) evicted = remove_at(0);
  /* Counted with the evicted entry still in: the budget holds at every
   * moment. */
  bool kept = ta_arena_retain_reserve(slots_of(segment));
  if (kept) list_insert(segment, now);
  ta_huge_cache_unlock();
  if (evicted.segment != NULL) give_back(evicted.segment, evicted.since);
  return kept;
}

ta_segment_t *ta_huge_cache_take_front(uint32_t front, size_t size, size_t block_offset,
                                       size_t block_size) {
  front_t *f = front_of(front);
  if (f == NULL) return NULL;
  ta_segment_t *segment = front_take(f);
  if (segment == NULL) return NULL;
  if (!fits(segment, size, block_offset, block_size)) {
    /* Kept for a block of its own size, from any heap. */
    ta_segment_unhold(segment);
    list_put_reserved(segment, atomic_load_explicit(&f->since, memory_order_relaxed));
    return NULL;
  }
  ta_arena_retain_unreserve(slots_of(segment));
  return segment;
}

/* The list's newest segment that fits, or NULL. */
static ta_segment_t *list_take(size_t size, size_t block_offset, size_t block_size) {
  if (atomic_load_explicit(&next_due, memory_order_relaxed) == UINT64_MAX) return NULL;
  ta_segment_t *found = NULL;
  ta_huge_cache_lock();
  /* Newest first: the likeliest to be in the caches of the CPU. */
  for (size_t i = count; i-- > 0;) {
    if (fits(entries[i].segment, size, block_offset, block_size)) {
      found = remove_at(i).segment;
      break;
    }
  }
  ta_huge_cache_unlock();
  return found;
}

/* The first segment of another heap's front that fits, or NULL. Those that
 * do not fit, taken on the way, go to the arena: no block wants their size
 * now. */
static ta_segment_t *fronts_take(const front_t *own, size_t size, size_t block_offset,
                                 size_t block_size) {
  uint32_t used = atomic_load_explicit(&fronts_used, memory_order_relaxed);
  for (uint32_t i = 0; i < used; i++) {
    if (&fronts[i] == own) continue;
    ta_segment_t *segment = front_take_away(&fronts[i]);
    if (segment == NULL) continue;
    if (fits(segment, size, block_offset, block_size)) return segment;
    give_back(segment, atomic_load_explicit(&fronts[i].since, memory_order_relaxed));
  }
  return NULL;
}

ta_segment_t *ta_huge_cache_take(uint32_t front, size_t size, size_t block_offset,
                                 size_t block_size) {
  ta_segment_t *found = list_take(size, block_offset, block_size);
  if (found == NULL) found = fronts_take(front_of(front), size, block_offset, block_size);
  if (found != NULL) {
    ta_arena_retain_unreserve(slots_of(found));
    return found;
  }
  /* Sizes change: what is kept goes to the arena, where a block of any size
   * can use its slots, rather than sit beside new ones. */
  cache_entry_t others[TA_HUGE_CACHE_ENTRIES];
  size_t n_others = 0;
  ta_huge_cache_lock();
  while (count != 0) others[n_others++] = remove_at(count - 1);
  ta_huge_cache_unlock();
  for (size_t i = 0; i < n_others; i++) give_back(others[i].segment, others[i].since);
  return NULL;
}

void ta_huge_cache_release_front(uint32_t *front) {
  front_t *f = front_of(*front);
  if (f != NULL) {
    ta_segment_t *segment = front_take_away(f);
    if (segment != NULL) {
      list_put_reserved(segment, atomic_load_explicit(&f->since, memory_order_relaxed));
    }
    atomic_store_explicit(&f->claimed, 0, memory_order_release);
  }
  *front = 0;
}

void ta_huge_cache_front_totals(size_t *segments, size_t *bytes) {
  *segments = 0;
  *bytes = 0;
  uint32_t used = atomic_load_explicit(&fronts_used, memory_order_relaxed);
  for (uint32_t i = 0; i < used; i++) {
    if (atomic_load_explicit(&fronts[i].segment, memory_order_acquire) == NULL) continue;
    (*segments)++;
    *bytes += atomic_load_explicit(&fronts[i].bytes, memory_order_relaxed);
  }
}

/* The fronts' part of ta_huge_cache_purge_due. */
static void fronts_purge_due(uint64_t now, bool everything) {
  uint64_t seen = atomic_load_explicit(&fronts_due, memory_order_relaxed);
  if (!everything && now < seen) return;
  uint32_t used = atomic_load_explicit(&fronts_used, memory_order_relaxed);
  uint64_t delay = delay_ms();
  /* No later than a delay from now (a millisecond if the delay is 0): a
   * segment put while this runs, or a front claimed since fronts_used was
   * read, may be missed here, and its put saw fronts_due early enough to
   * leave it. */
  uint64_t next = now + (delay != 0 ? delay : 1);
  for (uint32_t i = 0; i < used; i++) {
    front_t *f = &fronts[i];
    if (atomic_load_explicit(&f->segment, memory_order_acquire) == NULL) continue;
    uint64_t due = atomic_load_explicit(&f->since, memory_order_relaxed) + delay;
    if (everything || due <= now) {
      /* Its heap may have put a newer one meanwhile: taken early, no harm. */
      ta_segment_t *segment = front_take_away(f);
      if (segment != NULL) {
        give_back(segment, atomic_load_explicit(&f->since, memory_order_relaxed));
      }
    } else if (due < next) {
      next = due;
    }
  }
  /* A put that lowered it meanwhile wins. */
  atomic_compare_exchange_strong_explicit(&fronts_due, &seen, next, memory_order_relaxed,
                                          memory_order_relaxed);
}

void ta_huge_cache_purge_due(uint64_t now, bool everything) {
  fronts_purge_due(now, everything);
  if (!everything && now < atomic_load_explicit(&next_due, memory_order_relaxed)) return;
  for (;;) {
    cache_entry_t entry = {NULL, 0};
    ta_huge_cache_lock();
    if (count != 0 && (everything || entries[0].since + delay_ms() <= now)) entry = remove_at(0);
    ta_huge_cache_unlock();
    if (entry.segment == NULL) return;
    give_back(entry.segment, entry.since);
  }
}
