/* The arena: regions of segment slots, claimed and returned through atomic
 * bitmaps, purged after a delay, released when no heap lives.
 *
 * Region i always has region_slots(i) slots, and its `taken` bits are all set
 * whenever it is not LIVE. So a thread that claims slots and then still sees
 * the region LIVE owns them, whatever happened to the region in between. */
#include "alloc/arena.h"

#include <stdint.h>

#include "alloc/atomic.h"
#include "alloc/bitmap.h"
#include "alloc/fixed_array.h"
#include "alloc/options.h"
#include "alloc/os_memory.h"
#include "alloc/segment.h"
#include "alloc/segment_map.h"
#include "alloc/test_hook.h"
#include "tinyalloc/clock.h"
#include "tinyalloc/os_thread.h"

#define TA_ARENA_MAX_REGIONS 32
#define TA_REGION_MIN_SLOTS ((size_t)16) /* 64 MiB */
#define TA_REGION_MAX_SLOTS ((size_t)1024) /* 4 GiB */

enum { REGION_EMPTY = 0, REGION_SETUP = 1, REGION_LIVE = 2, REGION_RELEASING = 3 };

typedef struct ta_region {
  TA_ATOMIC(int) state;
  TA_ATOMIC(uintptr_t) base;
  ta_bitmap_word_t taken[TA_BITMAP_WORDS(TA_REGION_MAX_SLOTS)];
  ta_bitmap_word_t committed[TA_BITMAP_WORDS(TA_REGION_MAX_SLOTS)];
  /* Free slots purged but still committed (mapper.h): reused with no commit,
   * never purged twice. A subset of committed. */
  ta_bitmap_word_t purged[TA_BITMAP_WORDS(TA_REGION_MAX_SLOTS)];
  TA_ATOMIC(uint64_t) given_at[TA_REGION_MAX_SLOTS]; /* ta_clock_ms() when a free slot came back */
} ta_region_t;

static ta_region_t regions[TA_ARENA_MAX_REGIONS];
static TA_ATOMIC(int) region_limit; /* regions at or above this were never set up */
/* Free slots still committed, kept for reuse: bounded by
 * TA_OPTION_RETAIN_BYTES, purged once TA_OPTION_PURGE_DELAY_MS old. */
static TA_ATOMIC(size_t) retained_slots;
/* Free slots purged but still committed: while there are none, a take need
 * not look at the purged bits. */
static TA_ATOMIC(size_t) purged_slots;
/* When the oldest retained slot is due for purging (UINT64_MAX: none is
 * retained), so that checking costs one load until then. */
static TA_ATOMIC(uint64_t) next_purge_due = UINT64_MAX;
/* A region is added by one thread at a time: the others wait for it and take
 * from it, rather than each add one of their own. */
static TA_ATOMIC(int) growing;
/* Free slots a purge holds claimed for a moment: a take that finds nothing
 * free waits for them rather than adding a region. */
static TA_ATOMIC(size_t) purging;

static size_t region_slots(int index) {
  size_t slots = TA_REGION_MIN_SLOTS << (index < 6 ? index : 6);
  return slots < TA_REGION_MAX_SLOTS ? slots : TA_REGION_MAX_SLOTS;
}

static size_t region_bytes(int index) { return region_slots(index) * TA_SEGMENT_SIZE; }

/* Reserves region `index` (which this thread moved to SETUP) and publishes it. */
static ta_error_t region_setup(int index) {
  ta_region_t *r = &regions[index];
  size_t slots = region_slots(index);
  ta_bitmap_set(r->taken, 0, slots); /* closed until published */
  ta_test_hook_run(TA_TEST_REGION_SETUP);
  void *base = NULL;
  ta_error_t err = ta_segment_map_reserve(region_bytes(index), TA_SEGMENT_SIZE, &base);
  if (err != TA_OK) {
    atomic_store_explicit(&r->state, REGION_EMPTY, memory_order_release);
    return err;
  }
  ta_bitmap_clear(r->committed, 0, slots);
  ta_bitmap_clear(r->purged, 0, slots);
  atomic_store_explicit(&r->base, (uintptr_t)base, memory_order_release);
  int limit = atomic_load_explicit(&region_limit, memory_order_relaxed);
  while (limit < index + 1 &&
         !atomic_compare_exchange_weak_explicit(&region_limit, &limit, index + 1,
                                                memory_order_acq_rel, memory_order_relaxed)) {
  }
  atomic_store_explicit(&r->state, REGION_LIVE, memory_order_release);
  ta_bitmap_release(r->taken, 0, slots);
  return TA_OK;
}

/* Adds a region with at least `slots` slots; the caller holds `growing`. */
static ta_error_t arena_grow(size_t slots) {
  for (int i = 0; i < TA_ARENA_MAX_REGIONS; i++) {
    if (region_slots(i) < slots) continue;
    int expected = REGION_EMPTY;
    if (atomic_compare_exchange_strong_explicit(&regions[i].state, &expected, REGION_SETUP,
                                                memory_order_acq_rel, memory_order_relaxed)) {
      return region_setup(i);
    }
  }
  return TA_ARENA_FULL;
}

static bool try_take(size_t slots, void **out, ta_arena_span_t *span) {
  int limit = atomic_load_explicit(&region_limit, memory_order_acquire);
  for (int i = 0; i < limit; i++) {
    ta_region_t *r = &regions[i];
    size_t nslots = region_slots(i);
    if (nslots < slots || atomic_load_explicit(&r->state, memory_order_acquire) != REGION_LIVE) {
      continue;
    }
    size_t slot;
    if (!ta_bitmap_claim_run(r->taken, nslots, slots, 0, &slot)) continue;
    if (atomic_load_explicit(&r->state, memory_order_acquire) != REGION_LIVE) {
      ta_bitmap_release(r->taken, slot, slots);
      continue;
    }
    uintptr_t base = atomic_load_explicit(&r->base, memory_order_acquire);
    *out = (void *)(base + slot * TA_SEGMENT_SIZE);
    span->region = i;
    span->slot = slot;
    span->slots = slots;
    return true;
  }
  return false;
}

/* The slots just taken are in use: the purged ones among them (none while
 * purged_slots is 0) are counted committed again, not purged; returns how
 * many. */
static size_t taken_purged(const ta_arena_span_t *span) {
  if (atomic_load_explicit(&purged_slots, memory_order_relaxed) == 0) return 0;
  size_t purged = ta_bitmap_clear(regions[span->region].purged, span->slot, span->slots);
  if (purged != 0) {
    atomic_fetch_sub_explicit(&purged_slots, purged, memory_order_relaxed);
    ta_mem_reuse_purged(purged * TA_SEGMENT_SIZE);
  }
  return purged;
}

static void due_at_most(uint64_t due);

/* Commits the slots just taken where they are not committed yet. */
static ta_error_t commit_taken(void *mem, const ta_arena_span_t *span) {
  ta_region_t *r = &regions[span->region];
  size_t kept = 0;
  for (size_t s = span->slot; s < span->slot + span->slots; s++) {
    kept += ta_bitmap_is_set(r->committed, s);
  }
  if (kept == span->slots) {
    /* Retained slots were counted; purged ones were not. */
    atomic_fetch_sub_explicit(&retained_slots, kept - taken_purged(span), memory_order_relaxed);
    return TA_OK;
  }
  /* One call for fresh slots; slot by slot (each counted once) when some
   * were kept committed. */
  ta_error_t err = TA_OK;
  size_t fresh = 0; /* slots committed slot by slot here */
  uint64_t now = kept != 0 ? ta_clock_ms() : 0;
  if (kept == 0) {
    err = ta_mem_commit(mem, span->slots * TA_SEGMENT_SIZE);
    if (err == TA_OK) ta_bitmap_set(r->committed, span->slot, span->slots);
  } else {
    for (size_t s = span->slot; s < span->slot + span->slots && err == TA_OK; s++) {
      if (ta_bitmap_is_set(r->committed, s)) continue;
      err = ta_mem_commit((uint8_t *)mem + (s - span->slot) * TA_SEGMENT_SIZE, TA_SEGMENT_SIZE);
      if (err == TA_OK) {
        ta_bitmap_set(r->committed, s, 1);
        atomic_store_explicit(&r->given_at[s], now, memory_order_relaxed); /* if err follows */
        fresh++;
      }
    }
  }
  if (err != TA_OK) {
    /* Free again: those committed before stay retained (or purged), and
     * those committed here before the failure are retained from now on, so
     * that the next take or purge of them finds them counted. */
    if (fresh != 0) {
      atomic_fetch_add_explicit(&retained_slots, fresh, memory_order_relaxed);
      due_at_most(now + (uint64_t)ta_options_value(TA_OPTION_PURGE_DELAY_MS));
    }
    ta_bitmap_release(r->taken, span->slot, span->slots);
    return err;
  }
  if (kept != 0) {
    atomic_fetch_sub_explicit(&retained_slots, kept - taken_purged(span), memory_order_relaxed);
  }
  return TA_OK;
}

/* A region is added only when no slot run fits, none is held by a purge and
 * no other thread is adding one; then by one thread, which looks once more
 * before it reserves. So threads that start together share the regions, and
 * out-of-memory means that the mapper refused. */
ta_error_t ta_arena_take(size_t slots, void **out, ta_arena_span_t *span) {
  *out = NULL;
  void *mem;
  for (;;) {
    if (try_take(slots, &mem, span)) break;
    if (atomic_load_explicit(&purging, memory_order_acquire) != 0 ||
        atomic_load_explicit(&growing, memory_order_acquire) != 0) {
      ta_test_hook_run(TA_TEST_TAKE_WAITS);
      ta_os_yield();
      continue;
    }
    int idle = 0;
    if (!atomic_compare_exchange_strong_explicit(&growing, &idle, 1, memory_order_acq_rel,
                                                 memory_order_relaxed)) {
      continue;
    }
    bool found = try_take(slots, &mem, span);
    ta_error_t err = found ? TA_OK : arena_grow(slots);
    atomic_store_explicit(&growing, 0, memory_order_release);
    if (found) break;
    if (err != TA_OK) return err;
  }
  ta_error_t err = commit_taken(mem, span);
  if (err == TA_OK) *out = mem;
  return err;
}

/* Books slots just given back to the OS: still committed (purged), or not. */
static void book_purged(ta_region_t *r, ta_arena_span_t span, bool still_committed) {
  if (still_committed) {
    atomic_fetch_add_explicit(&purged_slots, ta_bitmap_set(r->purged, span.slot, span.slots),
                              memory_order_relaxed);
  } else {
    ta_bitmap_clear(r->committed, span.slot, span.slots);
  }
}

/* Slots of the region committed and not purged: those counted committed. */
static size_t committed_unpurged(const ta_region_t *r, size_t nslots) {
  return ta_bitmap_count(r->committed, nslots) - ta_bitmap_count(r->purged, nslots);
}

/* Runs of slots claimed for purging, purged one system call per run. */
TA_FIXED_ARRAY(ta_purge_batch, ta_arena_span_t, 16)

static void purge_flush(ta_purge_batch_t *batch) {
  for (size_t i = 0; i < batch->len; i++) {
    ta_arena_span_t span = batch->items[i];
    ta_region_t *r = &regions[span.region];
    uintptr_t base = atomic_load_explicit(&r->base, memory_order_acquire);
    bool still_committed;
    if (ta_mem_purge((void *)(base + span.slot * TA_SEGMENT_SIZE), span.slots * TA_SEGMENT_SIZE,
                     &still_committed) == TA_OK) {
      book_purged(r, span, still_committed);
      atomic_fetch_sub_explicit(&retained_slots, span.slots, memory_order_relaxed);
    } else {
      /* Still committed: due again at the next look. */
      atomic_store_explicit(&next_purge_due, 0, memory_order_relaxed);
    }
    ta_bitmap_release(r->taken, span.slot, span.slots);
    atomic_fetch_sub_explicit(&purging, span.slots, memory_order_release);
  }
  ta_purge_batch_clear(batch);
}

static void due_at_most(uint64_t due) {
  uint64_t seen = atomic_load_explicit(&next_purge_due, memory_order_relaxed);
  while (due < seen && !atomic_compare_exchange_weak_explicit(&next_purge_due, &seen, due,
                                                             memory_order_relaxed,
                                                             memory_order_relaxed)) {
  }
}

/* Claims free slot s of region i for purging and adds it to the batch. */
static void purge_claim(ta_purge_batch_t *batch, int i, size_t s) {
  atomic_fetch_add_explicit(&purging, 1, memory_order_acq_rel);
  if (!ta_bitmap_try_claim(regions[i].taken, s, 1)) {
    atomic_fetch_sub_explicit(&purging, 1, memory_order_release);
    return;
  }
  ta_arena_span_t *last = batch->len > 0 ? &batch->items[batch->len - 1] : NULL;
  if (last != NULL && last->region == i && last->slot + last->slots == s) {
    last->slots++;
    return;
  }
  if (ta_purge_batch_is_full(batch)) purge_flush(batch);
  ta_purge_batch_push(batch, (ta_arena_span_t){i, s, 1});
}

/* Purges the free slots given back `delay` ms or more before now (every
 * free slot if `everything`), looking at retained slots a bitmap word at a
 * time, and records when the next of the others is due. A slot being
 * purged is claimed first, so no heap can take it half-purged; no lock is
 * held at all. */
static void arena_purge(uint64_t now, uint64_t delay, bool everything) {
  /* Reset first: a slot given back during the scan lowers it again itself. */
  atomic_store_explicit(&next_purge_due, UINT64_MAX, memory_order_relaxed);
  uint64_t next_due = UINT64_MAX;
  ta_purge_batch_t batch;
  ta_purge_batch_clear(&batch);
  int limit = atomic_load_explicit(&region_limit, memory_order_acquire);
  for (int i = 0; i < limit; i++) {
    ta_region_t *r = &regions[i];
    if (atomic_load_explicit(&r->state, memory_order_acquire) != REGION_LIVE) continue;
    size_t words = TA_BITMAP_WORDS(region_slots(i));
    for (size_t w = 0; w < words; w++) {
      uint64_t idle = atomic_load_explicit(&r->committed[w], memory_order_acquire) &
                      ~atomic_load_explicit(&r->purged[w], memory_order_acquire) &
                      ~atomic_load_explicit(&r->taken[w], memory_order_acquire);
      while (idle != 0) {
        size_t s = w * 64 + (size_t)__builtin_ctzll(idle);
        idle &= idle - 1;
        uint64_t due = atomic_load_explicit(&r->given_at[s], memory_order_relaxed) + delay;
        if (everything || due <= now) {
          purge_claim(&batch, i, s);
        } else if (due < next_due) {
          next_due = due;
        }
      }
    }
  }
  if (batch.len > 0) ta_test_hook_run(TA_TEST_PURGE_CLAIMED);
  purge_flush(&batch);
  if (next_due != UINT64_MAX) due_at_most(next_due);
}

void ta_arena_purge_due(uint64_t now) {
  if (now < atomic_load_explicit(&next_purge_due, memory_order_relaxed)) return;
  arena_purge(now, (uint64_t)ta_options_value(TA_OPTION_PURGE_DELAY_MS), false);
}

bool ta_arena_purge_pending(void) {
  return atomic_load_explicit(&next_purge_due, memory_order_relaxed) != UINT64_MAX;
}

static size_t retain_cap_slots(void) {
  return (size_t)((uint64_t)ta_options_value(TA_OPTION_RETAIN_BYTES) / TA_SEGMENT_SIZE);
}

bool ta_arena_retain_reserve(size_t slots) {
  size_t cap = retain_cap_slots();
  size_t seen = atomic_load_explicit(&retained_slots, memory_order_relaxed);
  do {
    if (seen + slots > cap) return false;
  } while (!atomic_compare_exchange_weak_explicit(&retained_slots, &seen, seen + slots,
                                                  memory_order_relaxed, memory_order_relaxed));
  return true;
}

bool ta_arena_retain_fits(size_t slots) { return slots <= retain_cap_slots(); }

void ta_arena_retain_unreserve(size_t slots) {
  atomic_fetch_sub_explicit(&retained_slots, slots, memory_order_relaxed);
}

/* Gives slots back that have been free since `since` (<= now). */
static void arena_give(ta_arena_span_t span, ta_give_t how, uint64_t since, uint64_t now) {
  bool partly_decommitted = how == TA_GIVE_PARTLY_DECOMMITTED;
  ta_region_t *r = &regions[span.region];
  uintptr_t base = atomic_load_explicit(&r->base, memory_order_acquire);
  void *mem = (void *)(base + span.slot * TA_SEGMENT_SIZE);
  size_t bytes = span.slots * TA_SEGMENT_SIZE;
  uint64_t delay = (uint64_t)ta_options_value(TA_OPTION_PURGE_DELAY_MS);
  size_t cap = retain_cap_slots();
  bool keep = how == TA_GIVE_KEEP && delay != 0 && now - since < delay &&
              atomic_load_explicit(&retained_slots, memory_order_relaxed) + span.slots <= cap;
  if (partly_decommitted) {
    /* Never handed out as committed: booked decommitted even if the OS
     * refuses, and the next take commits it again. */
    if (ta_mem_decommit(mem, bytes, true) != TA_OK) ta_mem_forget_committed(bytes);
    ta_bitmap_clear(r->committed, span.slot, span.slots);
  } else if (!keep) {
    bool still_committed;
    if (ta_mem_purge(mem, bytes, &still_committed) != TA_OK) {
      keep = true; /* refused: retained, and purged again when due */
    } else {
      book_purged(r, span, still_committed);
    }
  }
  if (keep) {
    atomic_fetch_add_explicit(&retained_slots, span.slots, memory_order_relaxed);
    for (size_t s = span.slot; s < span.slot + span.slots; s++) {
      atomic_store_explicit(&r->given_at[s], since, memory_order_relaxed);
    }
  }
  ta_bitmap_release(r->taken, span.slot, span.slots);
  if (keep) due_at_most(since + delay);
  ta_arena_purge_due(now);
}

void ta_arena_give(ta_arena_span_t span, ta_give_t how) {
  uint64_t now = ta_clock_ms();
  arena_give(span, how, now, now);
}

void ta_arena_give_free_since(ta_arena_span_t span, uint64_t since) {
  uint64_t now = ta_clock_ms();
  arena_give(span, TA_GIVE_KEEP, since < now ? since : now, now);
}

/* Releases region i if none of its slots is taken. */
static void region_release_if_unused(int i) {
  ta_region_t *r = &regions[i];
  size_t nslots = region_slots(i);
  if (!ta_bitmap_try_claim(r->taken, 0, nslots)) return;
  int expected = REGION_LIVE;
  if (!atomic_compare_exchange_strong_explicit(&r->state, &expected, REGION_RELEASING,
                                               memory_order_acq_rel, memory_order_relaxed)) {
    ta_bitmap_release(r->taken, 0, nslots);
    return;
  }
  uintptr_t base = atomic_load_explicit(&r->base, memory_order_acquire);
  size_t committed_slots = committed_unpurged(r, nslots);
  if (ta_mem_release((void *)base, region_bytes(i), committed_slots * TA_SEGMENT_SIZE) != TA_OK) {
    /* The OS kept the region: keep using it rather than lose track of it. */
    atomic_store_explicit(&r->state, REGION_LIVE, memory_order_release);
    ta_bitmap_release(r->taken, 0, nslots);
    return;
  }
  /* Every slot is free here, so the committed ones were all retained. */
  ta_bitmap_clear(r->committed, 0, nslots);
  atomic_fetch_sub_explicit(&purged_slots, ta_bitmap_clear(r->purged, 0, nslots),
                            memory_order_relaxed);
  atomic_fetch_sub_explicit(&retained_slots, committed_slots, memory_order_relaxed);
  atomic_store_explicit(&r->base, 0, memory_order_release);
  atomic_store_explicit(&r->state, REGION_EMPTY, memory_order_release); /* taken stays set */
}

/* Releases every region none of whose slots is taken. */
static void arena_release_unused(void) {
  int limit = atomic_load_explicit(&region_limit, memory_order_acquire);
  for (int i = 0; i < limit; i++) {
    if (atomic_load_explicit(&regions[i].state, memory_order_acquire) != REGION_LIVE) continue;
    /* Counted as purging while its slots may be claimed: a take that finds
     * nothing free waits to see how this ends. */
    size_t nslots = region_slots(i);
    atomic_fetch_add_explicit(&purging, nslots, memory_order_acq_rel);
    region_release_if_unused(i);
    atomic_fetch_sub_explicit(&purging, nslots, memory_order_release);
  }
}

void ta_arena_fork_prepare(void) {
  /* No region half set up in the child: wait out any grower, and keep others
   * from starting. */
  int idle = 0;
  while (!atomic_compare_exchange_weak_explicit(&growing, &idle, 1, memory_order_acq_rel,
                                                memory_order_relaxed)) {
    idle = 0;
    ta_os_yield();
  }
}

void ta_arena_fork_parent(void) { atomic_store_explicit(&growing, 0, memory_order_release); }

void ta_arena_fork_child(void) {
  atomic_store_explicit(&growing, 0, memory_order_release);
  /* A purge by a thread the child does not have never ends there: its slots
   * stay claimed (lost to the child, not corrupted), and takes must not wait
   * for it. */
  atomic_store_explicit(&purging, 0, memory_order_release);
}

void ta_arena_trim(void) {
  arena_purge(ta_clock_ms(), 0, true);
  arena_release_unused();
}

void ta_arena_stats(ta_arena_stats_t *out) {
  out->slots_retained = atomic_load_explicit(&retained_slots, memory_order_relaxed);
  out->slots_taken = 0;
  out->slots_committed = 0;
  out->regions = 0;
  out->bytes_reserved = 0;
  int limit = atomic_load_explicit(&region_limit, memory_order_acquire);
  for (int i = 0; i < limit; i++) {
    ta_region_t *r = &regions[i];
    if (atomic_load_explicit(&r->state, memory_order_acquire) != REGION_LIVE) continue;
    out->regions++;
    out->bytes_reserved += region_bytes(i);
    out->slots_taken += ta_bitmap_count(r->taken, region_slots(i));
    out->slots_committed += committed_unpurged(r, region_slots(i));
  }
}
