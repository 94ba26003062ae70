/* POSIX: ta_os_yield() on sched_yield. */
#include <sched.h>

#include "tinyalloc/os_thread.h"

void ta_os_yield(void) {
  /* Its only failure (ENOSYS) leaves nothing to do but return. */
  (void)sched_yield();
}
