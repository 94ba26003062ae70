/* Test support: the counting mapper (tinyalloc/testing/counting_mapper.h). */
#include "tinyalloc/testing/counting_mapper.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "platform/os_error.h"
#include "tinyalloc/os_thread.h"
#include "tinyalloc/sysinfo.h"

typedef struct {
  uintptr_t start;
  size_t size;
  uint64_t *committed; /* bit i set: page i of the reservation is committed */
  uint64_t *purged;    /* bit i set: page i was purged, and not committed since */
} cm_reservation_t;

struct ta_counting_mapper {
  ta_mapper_t table; /* ctx points back to this object */
  const ta_mapper_t *base;
  /* A spinlock rather than a mutex: pthreads do not exist on Windows, and
   * waits are as short as one system call. Guards everything below. */
  atomic_flag lock;
  cm_reservation_t *reservations; /* live ones, in no order */
  size_t count;
  size_t capacity;
  ta_counting_stats_t stats;
};

static void cm_lock(ta_counting_mapper_t *cm) {
  while (atomic_flag_test_and_set_explicit(&cm->lock, memory_order_acquire)) ta_os_yield();
}

static void cm_unlock(ta_counting_mapper_t *cm) {
  atomic_flag_clear_explicit(&cm->lock, memory_order_release);
}

static size_t cm_page(void) { return ta_sysinfo()->page_size; }

static bool cm_range_ok(uintptr_t addr, size_t size) {
  size_t mask = cm_page() - 1;
  return size != 0 && (addr & mask) == 0 && (size & mask) == 0 && size <= UINTPTR_MAX - addr;
}

/* The live reservation holding all of [addr, addr + size), or NULL. */
static cm_reservation_t *cm_find(ta_counting_mapper_t *cm, uintptr_t addr, size_t size) {
  for (size_t i = 0; i < cm->count; ++i) {
    cm_reservation_t *r = &cm->reservations[i];
    if (addr >= r->start && addr - r->start <= r->size && size <= r->size - (addr - r->start)) {
      return r;
    }
  }
  return NULL;
}

static bool cm_bit(const uint64_t *bits, size_t page) { return (bits[page / 64] >> (page % 64)) & 1u; }

/* Sets or clears the bits of the pages of [addr, addr + size) in one of r's
 * bitmaps; returns how many changed, so that bytes are counted once however
 * often a page is committed or purged. */
static size_t cm_mark_bits(uint64_t *bits, const cm_reservation_t *r, uintptr_t addr, size_t size,
                           bool set) {
  size_t first = (addr - r->start) / cm_page();
  size_t end = first + size / cm_page();
  size_t changed = 0;
  for (size_t page = first; page < end; ++page) {
    if (cm_bit(bits, page) == set) continue;
    bits[page / 64] ^= (uint64_t)1 << (page % 64);
    ++changed;
  }
  return changed;
}

/* Marks the pages committed or not, and not purged either way. */
static void cm_mark(ta_counting_mapper_t *cm, cm_reservation_t *r, uintptr_t addr, size_t size,
                    bool committed) {
  size_t changed = cm_mark_bits(r->committed, r, addr, size, committed);
  if (committed) {
    cm->stats.committed_bytes += changed * cm_page();
  } else {
    cm->stats.committed_bytes -= changed * cm_page();
  }
  cm->stats.purged_bytes -= cm_mark_bits(r->purged, r, addr, size, false) * cm_page();
}

static bool cm_all_committed(const cm_reservation_t *r, uintptr_t addr, size_t size) {
  size_t first = (addr - r->start) / cm_page();
  size_t end = first + size / cm_page();
  for (size_t page = first; page < end; ++page) {
    if (!cm_bit(r->committed, page)) return false;
  }
  return true;
}

/* Records a new reservation; false if the books cannot grow. */
static bool cm_add(ta_counting_mapper_t *cm, uintptr_t start, size_t size) {
  if (cm->count == cm->capacity) {
    size_t capacity = cm->capacity != 0 ? 2 * cm->capacity : 16;
    cm_reservation_t *grown = realloc(cm->reservations, capacity * sizeof *grown);
    if (grown == NULL) return false;
    cm->reservations = grown;
    cm->capacity = capacity;
  }
  size_t words = (size / cm_page() + 63) / 64;
  uint64_t *bits = calloc(2 * words, sizeof *bits); /* committed, then purged */
  if (bits == NULL) return false;
  cm->reservations[cm->count++] = (cm_reservation_t){start, size, bits, bits + words};
  return true;
}

/* Counts a broken contract; the call is refused with the OS's own code. */
static int cm_violation(ta_counting_mapper_t *cm) {
  ++cm->stats.violations;
  return ta_os_error_invalid_code();
}

static int cm_reserve(void *ctx, size_t size, size_t align, void **out) {
  ta_counting_mapper_t *cm = ctx;
  cm_lock(cm);
  ++cm->stats.calls[TA_MAPPER_RESERVE];
  int rc;
  if (!cm_range_ok(0, size) || align == 0 || (align & (align - 1)) != 0) {
    rc = cm_violation(cm);
  } else {
    rc = cm->base->reserve(cm->base->ctx, size, align, out);
    if (rc == 0 && !cm_add(cm, (uintptr_t)*out, size)) {
      /* Untracked memory would make every later check wrong: give it back
       * and report what happened, exhaustion. */
      (void)cm->base->release(cm->base->ctx, *out, size);
      *out = NULL;
      rc = ta_os_error_oom_code();
    }
    if (rc == 0) {
      cm->stats.reserved_bytes += size;
      if (cm->stats.reserved_bytes > cm->stats.peak_reserved_bytes) {
        cm->stats.peak_reserved_bytes = cm->stats.reserved_bytes;
      }
      ++cm->stats.live_reservations;
    }
  }
  cm_unlock(cm);
  return rc;
}

/* Under the lock: counts a call of kind op on [a, a + size) and returns the
 * live reservation holding the range, or NULL if the call breaks the
 * contract (outside one, malformed, or, with need_committed, on pages not
 * all committed). */
static cm_reservation_t *cm_checked(ta_counting_mapper_t *cm, ta_mapper_op_t op, uintptr_t a,
                                    size_t size, bool need_committed) {
  ++cm->stats.calls[op];
  cm_reservation_t *r = cm_range_ok(a, size) ? cm_find(cm, a, size) : NULL;
  if (r != NULL && need_committed && !cm_all_committed(r, a, size)) r = NULL;
  return r;
}

static int cm_commit(void *ctx, void *addr, size_t size) {
  ta_counting_mapper_t *cm = ctx;
  cm_lock(cm);
  cm_reservation_t *r = cm_checked(cm, TA_MAPPER_COMMIT, (uintptr_t)addr, size, false);
  int rc = r == NULL ? cm_violation(cm) : cm->base->commit(cm->base->ctx, addr, size);
  if (r != NULL && rc == 0) cm_mark(cm, r, (uintptr_t)addr, size, true);
  cm_unlock(cm);
  return rc;
}

static int cm_decommit(void *ctx, void *addr, size_t size) {
  ta_counting_mapper_t *cm = ctx;
  cm_lock(cm);
  cm_reservation_t *r = cm_checked(cm, TA_MAPPER_DECOMMIT, (uintptr_t)addr, size, false);
  int rc = r == NULL ? cm_violation(cm) : cm->base->decommit(cm->base->ctx, addr, size);
  if (r != NULL && rc == 0) cm_mark(cm, r, (uintptr_t)addr, size, false);
  cm_unlock(cm);
  return rc;
}

static int cm_protect(void *ctx, void *addr, size_t size, bool read_write) {
  ta_counting_mapper_t *cm = ctx;
  cm_lock(cm);
  /* On POSIX, making reserved pages read-write would commit them behind the
   * books' back. */
  cm_reservation_t *r = cm_checked(cm, TA_MAPPER_PROTECT, (uintptr_t)addr, size, true);
  int rc = r == NULL ? cm_violation(cm) : cm->base->protect(cm->base->ctx, addr, size, read_write);
  cm_unlock(cm);
  return rc;
}

static int cm_purge(void *ctx, void *addr, size_t size) {
  ta_counting_mapper_t *cm = ctx;
  cm_lock(cm);
  /* Purged pages stay committed: purging reserved ones would be a commit. */
  cm_reservation_t *r = cm_checked(cm, TA_MAPPER_PURGE, (uintptr_t)addr, size, true);
  int rc = r == NULL ? cm_violation(cm) : cm->base->purge(cm->base->ctx, addr, size);
  if (r != NULL && rc == 0) {
    cm->stats.purged_bytes += cm_mark_bits(r->purged, r, (uintptr_t)addr, size, true) * cm_page();
  }
  cm_unlock(cm);
  return rc;
}

static int cm_release(void *ctx, void *addr, size_t size) {
  ta_counting_mapper_t *cm = ctx;
  uintptr_t a = (uintptr_t)addr;
  cm_lock(cm);
  ++cm->stats.calls[TA_MAPPER_RELEASE];
  cm_reservation_t *r = cm_range_ok(a, size) ? cm_find(cm, a, size) : NULL;
  int rc;
  if (r == NULL || r->start != a || r->size != size) {
    rc = cm_violation(cm);
  } else {
    rc = cm->base->release(cm->base->ctx, addr, size);
    if (rc == 0) {
      cm_mark(cm, r, a, size, false);
      cm->stats.reserved_bytes -= size;
      --cm->stats.live_reservations;
      free(r->committed);
      *r = cm->reservations[--cm->count];
    }
  }
  cm_unlock(cm);
  return rc;
}

ta_counting_mapper_t *ta_counting_mapper_new(const ta_mapper_t *base) {
  ta_counting_mapper_t *cm = calloc(1, sizeof *cm);
  if (cm == NULL) return NULL;
  cm->table = (ta_mapper_t){
      .name = "counting",
      .reserve = cm_reserve,
      .commit = cm_commit,
      .decommit = cm_decommit,
      .protect = cm_protect,
      .release = cm_release,
      .ctx = cm,
  };
  cm->base = base != NULL ? base : ta_mapper_default();
  /* It purges where its base can, so the allocator takes the same paths. */
  cm->table.purge = cm->base->purge != NULL ? cm_purge : NULL;
  atomic_flag_clear(&cm->lock);
  return cm;
}

void ta_counting_mapper_free(ta_counting_mapper_t *cm) {
  if (cm == NULL) return;
  for (size_t i = 0; i < cm->count; ++i) free(cm->reservations[i].committed);
  free(cm->reservations);
  free(cm);
}

const ta_mapper_t *ta_counting_mapper_table(ta_counting_mapper_t *cm) { return &cm->table; }

ta_counting_stats_t ta_counting_mapper_stats(ta_counting_mapper_t *cm) {
  cm_lock(cm);
  ta_counting_stats_t stats = cm->stats;
  cm_unlock(cm);
  return stats;
}

bool ta_counting_mapper_all_released(ta_counting_mapper_t *cm) {
  cm_lock(cm);
  bool clean = cm->stats.live_reservations == 0 && cm->stats.committed_bytes == 0;
  cm_unlock(cm);
  return clean;
}
