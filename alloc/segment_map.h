/* Which 4 MiB chunks of the address space hold tinyalloc segments. Lets any
 * pointer be checked before anything it points to is read, so that freeing a
 * pointer tinyalloc never handed out is an error, not a crash. */
#ifndef TINYALLOC_ALLOC_SEGMENT_MAP_H_
#define TINYALLOC_ALLOC_SEGMENT_MAP_H_

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ta_chunk_state {
  TA_CHUNK_NONE = 0,         /* not ours */
  TA_CHUNK_SEGMENT = 1,      /* a segment header starts at the chunk's base */
  TA_CHUNK_AFTER_HEADER = 2, /* a huge block with an alignment of a chunk or more
                                starts here; its header is one chunk below */
} ta_chunk_state_t;

/* Whether addr lies below the highest address the map covers (2^48). */
bool ta_segment_map_covers(uintptr_t addr);

ta_chunk_state_t ta_segment_map_get(uintptr_t addr);

/* Marks the chunk holding addr; addr must be covered. */
void ta_segment_map_set(uintptr_t addr, ta_chunk_state_t state);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_SEGMENT_MAP_H_ */
