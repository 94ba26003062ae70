/* The segment map: two bits per 4 MiB chunk of a 48-bit address space, in a
 * zero-initialised static array (16 MiB of address space, of which only the
 * pages covering addresses in use are ever touched). */
#include "alloc/segment_map.h"

#include <stdatomic.h>

#include "alloc/segment.h"

#define TA_MAP_ADDRESS_BITS 48
#define TA_MAP_CHUNKS ((uint64_t)1 << (TA_MAP_ADDRESS_BITS - TA_SEGMENT_SHIFT))
#define TA_MAP_PER_WORD 32 /* two bits each */

static _Atomic(uint64_t) chunk_states[TA_MAP_CHUNKS / TA_MAP_PER_WORD];

bool ta_segment_map_covers(uintptr_t addr) {
  return ((uint64_t)addr >> TA_MAP_ADDRESS_BITS) == 0;
}

ta_chunk_state_t ta_segment_map_get(uintptr_t addr) {
  if (!ta_segment_map_covers(addr)) return TA_CHUNK_NONE;
  uint64_t chunk = (uint64_t)addr >> TA_SEGMENT_SHIFT;
  uint64_t word = atomic_load_explicit(&chunk_states[chunk / TA_MAP_PER_WORD], memory_order_acquire);
  return (ta_chunk_state_t)((word >> (2 * (chunk % TA_MAP_PER_WORD))) & 3u);
}

void ta_segment_map_set(uintptr_t addr, ta_chunk_state_t state) {
  uint64_t chunk = (uint64_t)addr >> TA_SEGMENT_SHIFT;
  unsigned shift = (unsigned)(2 * (chunk % TA_MAP_PER_WORD));
  _Atomic(uint64_t) *word = &chunk_states[chunk / TA_MAP_PER_WORD];
  uint64_t old = atomic_load_explicit(word, memory_order_relaxed);
  uint64_t desired;
  do {
    desired = (old & ~(UINT64_C(3) << shift)) | ((uint64_t)state << shift);
  } while (!atomic_compare_exchange_weak_explicit(word, &old, desired, memory_order_acq_rel,
                                                  memory_order_relaxed));
}
