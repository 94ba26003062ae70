/* The OS's monotonic clock, behind ta_clock_ms (clock_<os>.c). */
#ifndef TINYALLOC_PLATFORM_OS_CLOCK_H_
#define TINYALLOC_PLATFORM_OS_CLOCK_H_

#include <stdint.h>

uint64_t ta_os_clock_ms(void);

#endif /* TINYALLOC_PLATFORM_OS_CLOCK_H_ */
