/* Test support: a mapper that keeps the books. It wraps a base mapper (the
 * OS's by default), passes every call through, and tracks each live
 * reservation with one bit per page saying whether it is committed, so that a
 * test can prove every byte reserved was released and every page committed
 * was decommitted or released, to the byte.
 *
 * Purged pages stay committed in the books (they are, to the OS) and are
 * counted apart until they are committed, decommitted or released. The
 * allocator reuses purged pages with no call, so committed less purged bytes
 * is what it holds only until it reuses any: a test measures it after frees.
 * It purges only where its base mapper can.
 *
 * A call that breaks the contract of mapper.h (release of anything but a
 * whole live reservation; commit, decommit, protect or purge outside one;
 * protect or purge of pages not committed; a size 0 or unaligned range) is counted as a violation
 * and refused, without reaching the base: the OS would otherwise act on memory
 * that is not the caller's. The refusal returns the OS's invalid-argument code
 * (EINVAL, ERROR_INVALID_PARAMETER).
 *
 * Thread-safe: a spinlock guards the books, held across each base call so
 * that the books and the OS agree at every moment. */
#ifndef TINYALLOC_TESTING_COUNTING_MAPPER_H_
#define TINYALLOC_TESTING_COUNTING_MAPPER_H_

#include <stdbool.h>
#include <stddef.h>

#include "tinyalloc/mapper.h"
#include "tinyalloc/testing/mapper_op.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ta_counting_mapper ta_counting_mapper_t;

typedef struct ta_counting_stats {
  size_t calls[TA_MAPPER_OP_COUNT]; /* every call, by kind, whatever its outcome */
  size_t live_reservations;         /* reserved and not yet released */
  size_t reserved_bytes;            /* in live reservations */
  size_t peak_reserved_bytes;       /* the most reserved_bytes has been */
  size_t committed_bytes;           /* pages committed now, each counted once */
  size_t purged_bytes;              /* committed pages purged since their last commit */
  size_t violations;                /* calls that broke the contract */
} ta_counting_stats_t;

/* A counting mapper over base (NULL: ta_mapper_default()). NULL if out of
 * memory. */
ta_counting_mapper_t *ta_counting_mapper_new(const ta_mapper_t *base);

/* Frees cm's books, which must not be installed. Reservations still live are
 * not released (the test has already failed if it cares). */
void ta_counting_mapper_free(ta_counting_mapper_t *cm);

/* The table to install with ta_mapper_set; valid until cm is freed. */
const ta_mapper_t *ta_counting_mapper_table(ta_counting_mapper_t *cm);

/* A consistent snapshot of the books. */
ta_counting_stats_t ta_counting_mapper_stats(ta_counting_mapper_t *cm);

/* True when nothing is reserved, hence nothing committed: every reservation
 * was released. */
bool ta_counting_mapper_all_released(ta_counting_mapper_t *cm);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_TESTING_COUNTING_MAPPER_H_ */
