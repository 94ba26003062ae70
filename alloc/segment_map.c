/* The segment map: two bits per 4 MiB chunk of a 48-bit address space, in a
 * zero-initialised static array (16 MiB of address space, of which only the
 * pages covering addresses in use are ever touched). */
#include "alloc/segment_map.h"

#define TA_MAP_CHUNKS ((uint64_t)1 << (TA_MAP_ADDRESS_BITS - TA_SEGMENT_SHIFT))

_Atomic(uint64_t) ta_chunk_states[TA_MAP_CHUNKS / TA_MAP_PER_WORD];

void ta_segment_map_set(uintptr_t addr, ta_chunk_state_t state) {
  uint64_t chunk = (uint64_t)addr >> TA_SEGMENT_SHIFT;
  unsigned shift = (unsigned)(2 * (chunk % TA_MAP_PER_WORD));
  _Atomic(uint64_t) *word = &ta_chunk_states[chunk / TA_MAP_PER_WORD];
  uint64_t old = atomic_load_explicit(word, memory_order_relaxed);
  uint64_t desired;
  do {
    desired = (old & ~(UINT64_C(3) << shift)) | ((uint64_t)state << shift);
  } while (!atomic_compare_exchange_weak_explicit(word, &old, desired, memory_order_acq_rel,
                                                  memory_order_relaxed));
}
