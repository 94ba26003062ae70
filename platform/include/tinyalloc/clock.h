/* The allocator's clock: milliseconds from an arbitrary start, monotonic. It
 * decides when free memory has waited long enough to be purged. Tests replace
 * it, as they replace the mapper, so that purge tests do not depend on time. */
#ifndef TINYALLOC_CLOCK_H_
#define TINYALLOC_CLOCK_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A clock: returns milliseconds, never less than its previous answer. */
typedef uint64_t (*ta_clock_fn)(void *ctx);

/* The current time in milliseconds: the installed clock's, or the OS's
 * monotonic clock (a coarse one where the OS has it: a few ns per call,
 * a few ms of resolution, which is what a purge delay needs). Thread-safe. */
uint64_t ta_clock_ms(void);

/* Installs clock (NULL reinstalls the OS's) with its ctx. For tests; not to
 * be called concurrently with ta_clock_ms. */
void ta_clock_set(ta_clock_fn clock, void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_CLOCK_H_ */
