/* POSIX: which errno values mean "out of memory". */
#include <errno.h>

#include "platform/os_error.h"

ta_error_t ta_os_error_classify(int os_code) {
  /* mmap and mprotect report exhaustion as ENOMEM (no address space, map
   * count or commit limit reached) and, for locked memory, EAGAIN. */
  if (os_code == ENOMEM || os_code == EAGAIN) return TA_ERR_OUT_OF_MEMORY;
  return TA_ERR_PLATFORM;
}

int ta_os_error_oom_code(void) { return ENOMEM; }

int ta_os_error_invalid_code(void) { return EINVAL; }
