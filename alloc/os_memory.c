/* Counting wrappers over the mapper (see os_memory.h). Relaxed atomics: the
 * counts are statistics, read whole by nobody but ta_stats. */
#include "alloc/os_memory.h"

#include "alloc/atomic.h"
#include "tinyalloc/mapper.h"

static TA_ATOMIC(size_t) reserved;
static TA_ATOMIC(size_t) committed;
static TA_ATOMIC(size_t) peak_committed;
static TA_ATOMIC(size_t) purged;

static void committed_add(size_t bytes) {
  size_t now = atomic_fetch_add_explicit(&committed, bytes, memory_order_relaxed) + bytes;
  size_t peak = atomic_load_explicit(&peak_committed, memory_order_relaxed);
  while (now > peak && !atomic_compare_exchange_weak_explicit(&peak_committed, &peak, now,
                                                             memory_order_relaxed,
                                                             memory_order_relaxed)) {
  }
}

ta_error_t ta_mem_reserve(size_t size, size_t align, void **out) {
  ta_error_t err = ta_os_reserve(size, align, out);
  if (err == TA_OK) atomic_fetch_add_explicit(&reserved, size, memory_order_relaxed);
  return err;
}

ta_error_t ta_mem_commit(void *addr, size_t size) {
  ta_error_t err = ta_os_commit(addr, size);
  if (err == TA_OK) committed_add(size);
  return err;
}

ta_error_t ta_mem_decommit(void *addr, size_t size, bool purge) {
  ta_error_t err = ta_os_decommit(addr, size);
  if (err != TA_OK) return err;
  atomic_fetch_sub_explicit(&committed, size, memory_order_relaxed);
  if (purge) atomic_fetch_add_explicit(&purged, size, memory_order_relaxed);
  return TA_OK;
}

ta_error_t ta_mem_purge(void *addr, size_t size, bool *still_committed) {
  *still_committed = ta_os_can_purge();
  if (*still_committed) {
    ta_error_t err = ta_os_purge(addr, size);
    if (err != TA_OK) return err;
    atomic_fetch_sub_explicit(&committed, size, memory_order_relaxed);
    atomic_fetch_add_explicit(&purged, size, memory_order_relaxed);
    return TA_OK;
  }
  return ta_mem_decommit(addr, size, true);
}

ta_error_t ta_mem_purge_in_use(void *addr, size_t size) {
  ta_error_t err = ta_os_purge(addr, size);
  if (err == TA_OK) atomic_fetch_add_explicit(&purged, size, memory_order_relaxed);
  return err;
}

void ta_mem_reuse_purged(size_t size) { committed_add(size); }

void ta_mem_forget_committed(size_t size) {
  atomic_fetch_sub_explicit(&committed, size, memory_order_relaxed);
}

ta_error_t ta_mem_release(void *addr, size_t size, size_t committed_bytes) {
  ta_error_t err = ta_os_release(addr, size);
  if (err != TA_OK) return err;
  atomic_fetch_sub_explicit(&reserved, size, memory_order_relaxed);
  atomic_fetch_sub_explicit(&committed, committed_bytes, memory_order_relaxed);
  return TA_OK;
}

ta_error_t ta_mem_map(size_t size, size_t align, void **out) {
  *out = NULL;
  void *mem = NULL;
  ta_error_t err = ta_mem_reserve(size, align, &mem);
  if (err != TA_OK) return err;
  err = ta_mem_commit(mem, size);
  if (err != TA_OK) {
    ta_mem_release(mem, size, 0);
    return err;
  }
  *out = mem;
  return TA_OK;
}

void ta_mem_unmap(void *addr, size_t size) { (void)ta_mem_release(addr, size, size); }

void ta_mem_counts(ta_mem_counts_t *out) {
  out->reserved = atomic_load_explicit(&reserved, memory_order_relaxed);
  out->committed = atomic_load_explicit(&committed, memory_order_relaxed);
  out->peak_committed = atomic_load_explicit(&peak_committed, memory_order_relaxed);
  out->purged = atomic_load_explicit(&purged, memory_order_relaxed);
}
