/* Texts of the public error codes. */
#include "tinyalloc/error.h"

const char *ta_error_str(ta_error_t err) {
  switch (err) {
    case TA_OK:
      return "success";
    case TA_ERR_INVALID_LAYOUT:
      return "invalid layout: alignment not a power of two, or size/alignment too large";
    case TA_ERR_OUT_OF_MEMORY:
      return "out of memory: the OS refused to map or commit memory";
    case TA_ERR_INVALID_POINTER:
      return "invalid pointer: not handed out by this allocator, or already freed";
    case TA_ERR_PLATFORM:
      return "platform error: the OS failed (see ta_last_os_error)";
    case TA_ERR_IN_USE:
      return "in use: memory mapped through the current mapper is still live";
    case TA_ERR_INVALID_ARGUMENT:
      return "invalid argument";
  }
  return "unknown tinyalloc error";
}
