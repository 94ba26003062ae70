/* Windows: GetTickCount64, the tick counter (10 to 16 ms resolution). */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include "platform/os_clock.h"

uint64_t ta_os_clock_ms(void) { return (uint64_t)GetTickCount64(); }
