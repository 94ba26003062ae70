/* Getting segments for a heap and giving them back: from the arena for the
 * page kinds and small huge blocks, from the mapper for the rest. */
#ifndef TINYALLOC_ALLOC_SEGMENT_ALLOC_H_
#define TINYALLOC_ALLOC_SEGMENT_ALLOC_H_

#include "alloc/heap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A new segment of a page kind (small, medium or large) owned by heap, listed
 * in heap->segments. NULL with *err set when memory could not be had. */
ta_segment_t *ta_segment_alloc(ta_heap_t *heap, ta_page_kind_t kind, ta_error_t *err);

/* A huge block of size bytes aligned to align in a segment of its own, whose
 * page 0 is flagged full (on no queue). NULL with *err set on failure. */
void *ta_huge_alloc(ta_heap_t *heap, size_t size, size_t align, ta_error_t *err);

/* For a huge block freed through another heap, by the freeing thread:
 * gives the block's memory from `from` (page-aligned, inside it) to its end
 * back to the OS (purged, or decommitted where the mapper cannot purge), now
 * rather than when the owner collects it. */
void ta_segment_purge_huge(ta_segment_t *segment, uint8_t *from);

/* Segments of a kind that heaps hold now, in the whole process. */
size_t ta_segments_held(ta_page_kind_t kind);
/* Their bytes (segment sizes, huge ones included). */
size_t ta_segment_bytes_held(void);

/* Stops counting a segment that a heap's front in the huge cache kept as
 * held: another thread takes it out of the front. */
void ta_segment_unhold(ta_segment_t *segment);

/* Unlists the segment from heap and returns its memory: a huge one whole to
 * the huge cache if it takes it, else to the arena or the OS. */
void ta_segment_free(ta_heap_t *heap, ta_segment_t *segment);

/* Sets what ta_usable_size says of a huge segment's block of `size` bytes,
 * its page's block_size (at most huge_size). */
void ta_huge_set_usable(ta_segment_t *segment, size_t size);

/* Returns the memory of a segment no heap lists to the arena or the OS. It
 * has been free since `free_since` (ta_clock_ms; a segment the huge cache
 * kept a while): the arena keeps it committed for the rest of its purge
 * delay only, and purges it at once if the delay has passed. */
void ta_segment_release(ta_segment_t *segment, uint64_t free_since);

/* The process-wide purges due at `now`: huge blocks freed through other
 * heaps, the huge cache, the arena. */
void ta_purge_due(uint64_t now);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_SEGMENT_ALLOC_H_ */
