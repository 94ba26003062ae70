/* Package-private: the per-OS query behind ta_sysinfo() (sysinfo_<os>.c). */
#ifndef TINYALLOC_PLATFORM_OS_SYSINFO_H_
#define TINYALLOC_PLATFORM_OS_SYSINFO_H_

#include "tinyalloc/sysinfo.h"

/* Fills *info with what the OS reports. A size the OS will not tell is left 0;
 * sysinfo.c replaces zeros and values that are not powers of two by fallbacks,
 * so this function need not check them. Called once, by one thread. */
void ta_os_sysinfo_query(ta_sysinfo_t *info);

#endif /* TINYALLOC_PLATFORM_OS_SYSINFO_H_ */
