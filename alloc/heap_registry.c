/* The live-heap set of heap_registry.h: an open-addressing hash table of heap
 * addresses (linear probing, tombstones), mapped through the mapper, doubled
 * when it is half used, released when empty at a trim. */
#include "alloc/heap_registry.h"

#include <stdint.h>

#include "alloc/atomic.h"
#include "alloc/layout.h"
#include "alloc/os_memory.h"
#include "tinyalloc/os_thread.h"
#include "tinyalloc/sysinfo.h"

#define TOMBSTONE ((uintptr_t)1) /* a removed entry: probing goes on past it */

static atomic_flag registry_lock = ATOMIC_FLAG_INIT;
static uintptr_t *table;   /* NULL until the first heap */
static size_t capacity;    /* a power of two */
static size_t live;        /* heaps in the table */
static size_t used;        /* live entries and tombstones */

/* Bytes of a table of cap entries: whole OS pages (so a table's capacity,
 * set from its bytes, always fills them). */
static size_t table_bytes(size_t cap) {
  return ta_align_up(cap * sizeof(uintptr_t), ta_sysinfo()->page_size);
}

static void lock(void) {
  while (atomic_flag_test_and_set_explicit(&registry_lock, memory_order_acquire)) ta_os_yield();
}

static void unlock(void) { atomic_flag_clear_explicit(&registry_lock, memory_order_release); }

void ta_heap_registry_lock(void) { lock(); }
void ta_heap_registry_unlock(void) { unlock(); }

static size_t slot_of(uintptr_t key, size_t cap) {
  /* Heaps are page-aligned: mix the bits above the page offset. */
  uint64_t h = (uint64_t)key * UINT64_C(0x9e3779b97f4a7c15);
  return (size_t)(h >> 32) & (cap - 1);
}

static void insert(uintptr_t *into, size_t cap, uintptr_t key) {
  size_t i = slot_of(key, cap);
  while (into[i] != 0 && into[i] != TOMBSTONE) i = (i + 1) & (cap - 1);
  into[i] = key;
}

/* Moves every live entry into a table of new_cap entries (dropping the
 * tombstones). */
static ta_error_t rebuild(size_t new_cap) {
  size_t bytes = table_bytes(new_cap);
  void *mem = NULL;
  ta_error_t err = ta_mem_map(bytes, ta_sysinfo()->alloc_granularity, &mem);
  if (err != TA_OK) return err;
  uintptr_t *fresh = (uintptr_t *)mem; /* committed memory reads as zero */
  size_t fresh_cap = bytes / sizeof(uintptr_t);
  for (size_t i = 0; i < capacity; i++) {
    if (table[i] > TOMBSTONE) insert(fresh, fresh_cap, table[i]);
  }
  if (table != NULL) ta_mem_unmap(table, table_bytes(capacity));
  table = fresh;
  capacity = fresh_cap;
  used = live;
  return TA_OK;
}

ta_error_t ta_heap_registry_add(const struct ta_heap *heap) {
  lock();
  ta_error_t err = TA_OK;
  if (2 * (used + 1) > capacity) {
    /* Half full: double (or only sweep the tombstones, if they are most of it). */
    size_t want = 2 * (live + 1) > capacity / 2 ? 2 * capacity : capacity;
    err = rebuild(want > 0 ? want : 1); /* the first table: one page */
  }
  if (err == TA_OK) {
    insert(table, capacity, (uintptr_t)heap);
    live++;
    used++;
  }
  unlock();
  return err;
}

bool ta_heap_registry_remove(const struct ta_heap *heap) {
  uintptr_t key = (uintptr_t)heap;
  bool found = false;
  lock();
  if (table != NULL && key > TOMBSTONE) {
    for (size_t i = slot_of(key, capacity); table[i] != 0; i = (i + 1) & (capacity - 1)) {
      if (table[i] == key) {
        table[i] = TOMBSTONE;
        live--;
        found = true;
        break;
      }
    }
  }
  unlock();
  return found;
}

void ta_heap_registry_trim(void) {
  lock();
  if (table != NULL && live == 0) {
    ta_mem_unmap(table, table_bytes(capacity));
    table = NULL;
    capacity = 0;
    used = 0;
  }
  unlock();
}
