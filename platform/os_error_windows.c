/* Windows: which GetLastError() values mean "out of memory". */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include "platform/os_error.h"

ta_error_t ta_os_error_classify(int os_code) {
  switch (os_code) {
    case ERROR_NOT_ENOUGH_MEMORY: /* no address space, or VirtualAlloc's own limit */
    case ERROR_OUTOFMEMORY:
    case ERROR_COMMITMENT_LIMIT: /* the commit charge would exceed RAM + page file */
    case ERROR_COMMITMENT_MINIMUM:
      return TA_ERR_OUT_OF_MEMORY;
    default:
      return TA_ERR_PLATFORM;
  }
}

int ta_os_error_oom_code(void) { return ERROR_NOT_ENOUGH_MEMORY; }

int ta_os_error_invalid_code(void) { return ERROR_INVALID_PARAMETER; }
