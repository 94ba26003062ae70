/* POSIX: clock_gettime, CLOCK_MONOTONIC_COARSE where Linux has it (read from
 * the vDSO without the TSC: a few ns), else CLOCK_MONOTONIC. */
#define _DEFAULT_SOURCE

#include <time.h>

#include "platform/os_clock.h"

uint64_t ta_os_clock_ms(void) {
  struct timespec ts;
#ifdef CLOCK_MONOTONIC_COARSE
  if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) == 0) {
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
  }
#endif
  /* CLOCK_MONOTONIC is in every POSIX system this builds on; were it not,
   * every age would read 0 and only ta_trim or a zero delay would purge. */
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return 0;
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
