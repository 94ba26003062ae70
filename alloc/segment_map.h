/* Which 4 MiB chunks of the address space hold tinyalloc segments. Lets any
 * pointer be checked before anything it points to is read, so that freeing a
 * pointer tinyalloc never handed out is an error, not a crash. */
#ifndef TINYALLOC_ALLOC_SEGMENT_MAP_H_
#define TINYALLOC_ALLOC_SEGMENT_MAP_H_

#include <stdbool.h>
#include <stdint.h>

#include "alloc/atomic.h"
#include "alloc/segment.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ta_chunk_state {
  TA_CHUNK_NONE = 0,         /* not ours */
  TA_CHUNK_SEGMENT = 1,      /* a segment header starts at the chunk's base */
  TA_CHUNK_AFTER_HEADER = 2, /* a huge block with an alignment of a chunk or more
                                starts here; its header is one chunk below */
} ta_chunk_state_t;

#define TA_MAP_ADDRESS_BITS 48
#define TA_MAP_CHUNKS ((uint64_t)1 << (TA_MAP_ADDRESS_BITS - TA_SEGMENT_SHIFT))

/* One bit per chunk in each map, rather than a two-bit state in one: the free
 * path asks only "is this a segment?", and a single bit answers that with one
 * load and one bit test. */
extern TA_ATOMIC(uint64_t) ta_chunk_is_segment[];
extern TA_ATOMIC(uint64_t) ta_chunk_is_after_header[];

/* Whether addr lies below the highest address the map covers (2^48). */
static inline bool ta_segment_map_covers(uintptr_t addr) {
  return ((uint64_t)addr >> TA_MAP_ADDRESS_BITS) == 0;
}

/* The bit of addr's chunk; addr is covered. */
static inline bool ta_segment_map_bit(TA_ATOMIC(uint64_t) *map, uintptr_t addr) {
  uint64_t chunk = (uint64_t)addr >> TA_SEGMENT_SHIFT;
  uint64_t word = atomic_load_explicit(&map[chunk / 64], memory_order_acquire);
  return (word >> (chunk % 64)) & 1u;
}

/* Whether a segment header starts at the base of addr's chunk. */
static inline bool ta_segment_map_is_segment(uintptr_t addr) {
  return ta_segment_map_covers(addr) && ta_segment_map_bit(ta_chunk_is_segment, addr);
}

static inline ta_chunk_state_t ta_segment_map_get(uintptr_t addr) {
  if (!ta_segment_map_covers(addr)) return TA_CHUNK_NONE;
  if (ta_segment_map_bit(ta_chunk_is_segment, addr)) return TA_CHUNK_SEGMENT;
  if (ta_segment_map_bit(ta_chunk_is_after_header, addr)) return TA_CHUNK_AFTER_HEADER;
  return TA_CHUNK_NONE;
}

/* Reserves size bytes aligned to align (ta_mem_reserve) where the map covers
 * them, and refuses memory above (a 57-bit address space, a custom mapper)
 * with TA_ERR_PLATFORM: blocks there could not be told from foreign memory. */
ta_error_t ta_segment_map_reserve(size_t size, size_t align, void **out);

/* Marks the chunk holding addr; addr must be covered. */
void ta_segment_map_set(uintptr_t addr, ta_chunk_state_t state);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_SEGMENT_MAP_H_ */
