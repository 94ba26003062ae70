/* The platform contract: how tinyalloc reserves, commits, decommits, protects
 * and releases memory. One process-wide mapper (a table of functions) serves the
 * whole allocator; the default one is chosen for the OS at compile time, and a
 * program or test may install its own (fault injection, accounting) while no
 * memory mapped through the current one is outstanding.
 *
 * Preconditions shared by every mapper function (a mapper may assume them; the
 * ta_os_* wrappers below are the only callers in tinyalloc):
 *   - addr and size are multiples of ta_sysinfo()->page_size, size > 0;
 *   - commit, decommit, protect act on a range inside one live reservation;
 *     release takes exactly a whole reservation (address and size returned by
 *     reserve), since Windows cannot release part of one;
 *   - out-params are non-NULL.
 * Each function returns 0 on success, or the OS's error code (errno on POSIX,
 * GetLastError() on Windows; never 0 on failure). Nothing prints or aborts.
 *
 * Page states: reserved (address space only, no access, no physical memory) and
 * committed (read-write, backed on first touch).
 */
#ifndef TINYALLOC_MAPPER_H_
#define TINYALLOC_MAPPER_H_

#include <stdbool.h>
#include <stddef.h>

#include "tinyalloc/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ta_mapper {
  /* For messages and tests: "posix", "windows", "failing", ... */
  const char *name;

  /* Reserves size bytes of address space whose start is a multiple of align
   * (a power of two; any value below the allocation granularity means the
   * granularity). Afterwards: all pages reserved, no access. */
  int (*reserve)(void *ctx, size_t size, size_t align, void **out);

  /* Makes pages read-write. Pages never committed, or decommitted since, read as
   * zero; pages already committed keep their contents. */
  int (*commit)(void *ctx, void *addr, size_t size);

  /* Returns the pages' physical memory to the OS but keeps the reservation:
   * afterwards the pages are reserved with no access, and must be committed
   * again before use (they then read as zero). POSIX: madvise(MADV_DONTNEED)
   * then mprotect(PROT_NONE). Windows: VirtualFree(MEM_DECOMMIT), which also
   * lowers the commit charge; MEM_RESET would keep the charge and the old bytes. */
  int (*decommit)(void *ctx, void *addr, size_t size);

  /* Changes access to committed pages: read_write false makes any access fault
   * (guard pages), true restores read-write. Contents are kept. */
  int (*protect)(void *ctx, void *addr, size_t size, bool read_write);

  /* Releases a whole reservation, committed or not. Afterwards the addresses
   * may be handed out again by the OS. */
  int (*release)(void *ctx, void *addr, size_t size);

  /* Optional: NULL where the OS cannot do it. Returns committed pages'
   * physical memory to the OS and leaves them committed: read-write, reading
   * as zero at the next touch, which backs them again with no call. Free
   * memory the allocator will likely reuse goes back this way: one system
   * call instead of a decommit and a commit, and no split of the mapping.
   * Linux: madvise(MADV_DONTNEED). Without it tinyalloc decommits (Windows,
   * where the decommit also lowers the commit charge). */
  int (*purge)(void *ctx, void *addr, size_t size);

  /* Passed to every function above. */
  void *ctx;
} ta_mapper_t;

/* The mapper for this OS (mmap family on POSIX, VirtualAlloc family on
 * Windows). Never NULL. */
const ta_mapper_t *ta_mapper_default(void);

/* The mapper in use: the one installed last, or the default. */
const ta_mapper_t *ta_mapper_current(void);

/* Installs mapper (NULL reinstalls the default) as the process-wide mapper.
 * Fails with TA_ERR_IN_USE while any reservation made through the current
 * mapper has not been released (in tinyalloc that is while any heap lives, or
 * arenas still hold memory), and with TA_ERR_INVALID_ARGUMENT if a function of
 * the table other than purge is NULL. The table must stay valid while installed. Not to be
 * called concurrently with any other tinyalloc function. */
ta_error_t ta_mapper_set(const ta_mapper_t *mapper);

/* Whether the current mapper can purge (its purge is not NULL). */
bool ta_os_can_purge(void);

/* Reservations made through ta_os_reserve and not yet released. */
size_t ta_os_live_reservations(void);

/* The allocator's only way to the OS: calls the current mapper, checking the
 * preconditions above and counting live reservations. Thread-safe.
 * Returns TA_OK on success. A call that breaks a precondition it can check
 * (NULL out or addr, size 0, addr or size not a multiple of the page size, a
 * range wrapping around the address space, align not a power of two, a
 * release while no reservation is live) returns TA_ERR_INVALID_ARGUMENT
 * without reaching the mapper, and leaves ta_last_os_error() alone. A failure
 * of the mapper returns TA_ERR_OUT_OF_MEMORY or TA_ERR_PLATFORM, after
 * recording the OS code for ta_last_os_error(). A failed ta_os_reserve sets
 * *out (when out is not NULL) to NULL. None of them changes errno. */
ta_error_t ta_os_reserve(size_t size, size_t align, void **out);
ta_error_t ta_os_commit(void *addr, size_t size);
ta_error_t ta_os_decommit(void *addr, size_t size);
/* TA_ERR_INVALID_ARGUMENT, without a call, if the mapper cannot purge. */
ta_error_t ta_os_purge(void *addr, size_t size);
ta_error_t ta_os_protect(void *addr, size_t size, bool read_write);
ta_error_t ta_os_release(void *addr, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_MAPPER_H_ */
