/* The core's way to the mapper: the ta_os_* calls, counting what the
 * process holds (reserved, committed, its peak, purged) for ta_stats.
 * Free memory purged but left committed by the mapper (mapper.h) is not
 * counted committed until it is reused; holes in pages in use are. */
#ifndef TINYALLOC_ALLOC_OS_MEMORY_H_
#define TINYALLOC_ALLOC_OS_MEMORY_H_

#include <stdbool.h>
#include <stddef.h>

#include "tinyalloc/error.h"

#ifdef __cplusplus
extern "C" {
#endif

ta_error_t ta_mem_reserve(size_t size, size_t align, void **out);
ta_error_t ta_mem_commit(void *addr, size_t size);
/* purge: the memory was free (counted in purged bytes), not given up on a
 * failed setup. */
ta_error_t ta_mem_decommit(void *addr, size_t size, bool purge);
/* Gives free memory's pages back to the OS: purged where the mapper can
 * (*still_committed: usable again with no commit, after
 * ta_mem_reuse_purged), else decommitted. */
ta_error_t ta_mem_purge(void *addr, size_t size, bool *still_committed);
/* Purges memory inside a page in use (its free blocks' OS pages) where the
 * mapper can purge: counted purged, and still committed (the page's memory
 * is booked committed as a whole, until the page goes back). */
ta_error_t ta_mem_purge_in_use(void *addr, size_t size);
/* Counts size purged bytes, still committed, committed again as they are
 * taken for use. */
void ta_mem_reuse_purged(size_t size);
/* Books size bytes as decommitted after the OS refused to decommit them:
 * memory left partly committed, which is committed again before any use. */
void ta_mem_forget_committed(size_t size);
/* Releases a reservation of which `committed` bytes are committed. */
ta_error_t ta_mem_release(void *addr, size_t size, size_t committed);

/* Reserves and commits size bytes: *out is NULL on failure. */
ta_error_t ta_mem_map(size_t size, size_t align, void **out);
/* Releases what ta_mem_map gave. */
void ta_mem_unmap(void *addr, size_t size);

typedef struct ta_mem_counts {
  size_t reserved;
  size_t committed;
  size_t peak_committed;
  size_t purged;
} ta_mem_counts_t;
void ta_mem_counts(ta_mem_counts_t *out);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_OS_MEMORY_H_ */
