/* Windows: ta_os_yield() on SwitchToThread. */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include "tinyalloc/os_thread.h"

void ta_os_yield(void) {
  /* FALSE only means no other thread was ready to run: nothing to do. */
  (void)SwitchToThread();
}
