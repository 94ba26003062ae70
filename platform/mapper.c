/* The process-wide mapper and the ta_os_* wrappers, the OS-independent half
 * of the platform layer: every precondition of mapper.h is checked here, so
 * that no mapper ever sees a malformed call, and live reservations are
 * counted, so that ta_mapper_set can refuse to swap a mapper in use. Every
 * call leaves errno as it found it: free keeps errno (glibc's rule), and a
 * free may give memory back to the OS. */
#include "tinyalloc/mapper.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>

#include "platform/os_error.h"
#include "tinyalloc/sysinfo.h"

/* NULL stands for the default: a static initializer cannot call
 * ta_mapper_default(), which lives in the per-OS file. */
static _Atomic(const ta_mapper_t *) installed_mapper = NULL;
static atomic_size_t live_reservations = 0;

const ta_mapper_t *ta_mapper_current(void) {
  const ta_mapper_t *m = atomic_load_explicit(&installed_mapper, memory_order_acquire);
  return m != NULL ? m : ta_mapper_default();
}

ta_error_t ta_mapper_set(const ta_mapper_t *mapper) {
  if (mapper != NULL && (mapper->reserve == NULL || mapper->commit == NULL ||
                         mapper->decommit == NULL || mapper->protect == NULL ||
                         mapper->release == NULL)) {
    return TA_ERR_INVALID_ARGUMENT;
  }
  /* A reservation must be released by the mapper that made it (its own
   * bookkeeping, or an OS handle in ctx, may be behind the address). */
  if (atomic_load(&live_reservations) != 0) return TA_ERR_IN_USE;
  atomic_store_explicit(&installed_mapper, mapper, memory_order_release);
  return TA_OK;
}

size_t ta_os_live_reservations(void) { return atomic_load(&live_reservations); }

static int is_power_of_two(size_t v) { return v != 0 && (v & (v - 1)) == 0; }

static int is_page_multiple(uintptr_t v) { return (v & (ta_sysinfo()->page_size - 1)) == 0; }

/* A range the contract allows: page-aligned, not empty, not wrapping around. */
static int is_valid_range(const void *addr, size_t size) {
  uintptr_t a = (uintptr_t)addr;
  return addr != NULL && size != 0 && is_page_multiple(a) && is_page_multiple(size) &&
         size <= UINTPTR_MAX - a;
}

ta_error_t ta_os_reserve(size_t size, size_t align, void **out) {
  if (out == NULL) return TA_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (size == 0 || !is_page_multiple(size) || !is_power_of_two(align)) {
    return TA_ERR_INVALID_ARGUMENT;
  }
  const ta_mapper_t *m = ta_mapper_current();
  void *p = NULL;
  int saved = errno;
  int rc = m->reserve(m->ctx, size, align, &p);
  errno = saved;
  if (rc != 0) return ta_os_error_record(rc);
  atomic_fetch_add(&live_reservations, 1);
  *out = p;
  return TA_OK;
}

ta_error_t ta_os_commit(void *addr, size_t size) {
  if (!is_valid_range(addr, size)) return TA_ERR_INVALID_ARGUMENT;
  const ta_mapper_t *m = ta_mapper_current();
  int saved = errno;
  int rc = m->commit(m->ctx, addr, size);
  errno = saved;
  return rc == 0 ? TA_OK : ta_os_error_record(rc);
}

ta_error_t ta_os_decommit(void *addr, size_t size) {
  if (!is_valid_range(addr, size)) return TA_ERR_INVALID_ARGUMENT;
  const ta_mapper_t *m = ta_mapper_current();
  int saved = errno;
  int rc = m->decommit(m->ctx, addr, size);
  errno = saved;
  return rc == 0 ? TA_OK : ta_os_error_record(rc);
}

bool ta_os_can_purge(void) { return ta_mapper_current()->purge != NULL; }

ta_error_t ta_os_purge(void *addr, size_t size) {
  if (!is_valid_range(addr, size)) return TA_ERR_INVALID_ARGUMENT;
  const ta_mapper_t *m = ta_mapper_current();
  if (m->purge == NULL) return TA_ERR_INVALID_ARGUMENT;
  int saved = errno;
  int rc = m->purge(m->ctx, addr, size);
  errno = saved;
  return rc == 0 ? TA_OK : ta_os_error_record(rc);
}

ta_error_t ta_os_protect(void *addr, size_t size, bool read_write) {
  if (!is_valid_range(addr, size)) return TA_ERR_INVALID_ARGUMENT;
  const ta_mapper_t *m = ta_mapper_current();
  int saved = errno;
  int rc = m->protect(m->ctx, addr, size, read_write);
  errno = saved;
  return rc == 0 ? TA_OK : ta_os_error_record(rc);
}

ta_error_t ta_os_release(void *addr, size_t size) {
  if (!is_valid_range(addr, size)) return TA_ERR_INVALID_ARGUMENT;
  /* With nothing reserved the range cannot be a reservation; munmap would
   * still succeed and unmap whatever else lives there. */
  if (atomic_load(&live_reservations) == 0) return TA_ERR_INVALID_ARGUMENT;
  const ta_mapper_t *m = ta_mapper_current();
  int saved = errno;
  int rc = m->release(m->ctx, addr, size);
  errno = saved;
  if (rc != 0) return ta_os_error_record(rc);
  /* Never below zero, even if a caller released one reservation twice from
   * two threads at once. */
  size_t n = atomic_load(&live_reservations);
  while (n != 0 && !atomic_compare_exchange_weak(&live_reservations, &n, n - 1)) {
    /* n now holds the current count: try again with it. */
  }
  return TA_OK;
}
