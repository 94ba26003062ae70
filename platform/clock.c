/* ta_clock_ms: the installed clock, or the OS's. */
#include "tinyalloc/clock.h"

#include <stddef.h>

#include "platform/os_clock.h"

static ta_clock_fn installed;
static void *installed_ctx;

uint64_t ta_clock_ms(void) {
  return installed != NULL ? installed(installed_ctx) : ta_os_clock_ms();
}

void ta_clock_set(ta_clock_fn clock, void *ctx) {
  installed_ctx = ctx;
  installed = clock;
}
