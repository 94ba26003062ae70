/* The segment map: two bitmaps of one bit per 4 MiB chunk of a 48-bit address
 * space, in zero-initialised static arrays (8 MiB of address space each, of
 * which only the pages covering addresses in use are ever touched); and the
 * reservation of memory it covers, for every segment. */
#include "alloc/segment_map.h"

#include "alloc/os_memory.h"

TA_ATOMIC(uint64_t) ta_chunk_is_segment[TA_MAP_CHUNKS / 64];
TA_ATOMIC(uint64_t) ta_chunk_is_after_header[TA_MAP_CHUNKS / 64];

static void map_assign(TA_ATOMIC(uint64_t) *map, uint64_t chunk, bool value) {
  uint64_t bit = UINT64_C(1) << (chunk % 64);
  if (value) {
    atomic_fetch_or_explicit(&map[chunk / 64], bit, memory_order_acq_rel);
  } else {
    atomic_fetch_and_explicit(&map[chunk / 64], ~bit, memory_order_acq_rel);
  }
}

/* A chunk has one owner at a time, so the two bits never race each other:
 * the owner sets them before handing out memory in the chunk and clears them
 * before giving the chunk away. */
void ta_segment_map_set(uintptr_t addr, ta_chunk_state_t state) {
  if (!ta_segment_map_covers(addr)) return; /* callers refuse such memory first */
  uint64_t chunk = (uint64_t)addr >> TA_SEGMENT_SHIFT;
  map_assign(ta_chunk_is_segment, chunk, state == TA_CHUNK_SEGMENT);
  map_assign(ta_chunk_is_after_header, chunk, state == TA_CHUNK_AFTER_HEADER);
}

ta_error_t ta_segment_map_reserve(size_t size, size_t align, void **out) {
  void *base = NULL;
  ta_error_t err = ta_mem_reserve(size, align, &base);
  if (err != TA_OK) return err;
  if (!ta_segment_map_covers((uintptr_t)base + size - 1)) {
    (void)ta_mem_release(base, size, 0);
    return TA_ERR_PLATFORM;
  }
  *out = base;
  return TA_OK;
}
