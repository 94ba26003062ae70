/* The thread-local record behind ta_last_os_error(). Which codes mean "out of
 * memory" is the OS's business (os_error_<os>.c). */
#include "platform/os_error.h"

/* Thread-local because two threads failing at once must each see their own
 * cause, as with errno. */
static _Thread_local int last_os_error;

ta_error_t ta_os_error_record(int os_code) {
  last_os_error = os_code;
  return ta_os_error_classify(os_code);
}

int ta_last_os_error(void) { return last_os_error; }
