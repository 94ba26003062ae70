/* Package-private: how the platform layer turns an OS error code into a
 * ta_error_t and remembers it for ta_last_os_error(). Defined by :error
 * (os_error.c and os_error_<os>.c); seen by the rest of //platform through the
 * private :os_error target. */
#ifndef TINYALLOC_PLATFORM_OS_ERROR_H_
#define TINYALLOC_PLATFORM_OS_ERROR_H_

#include "tinyalloc/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Records os_code (errno / GetLastError(), nonzero) on the calling thread for
 * ta_last_os_error() and returns its class: TA_ERR_OUT_OF_MEMORY for the OS's
 * out-of-memory codes, TA_ERR_PLATFORM for everything else. */
ta_error_t ta_os_error_record(int os_code);

/* The per-OS half (os_error_posix.c, os_error_windows.c). */

/* os_code's class as above, without recording it. */
ta_error_t ta_os_error_classify(int os_code);

/* The code this OS gives when it is out of memory (ENOMEM,
 * ERROR_NOT_ENOUGH_MEMORY): what test mappers return to simulate it. */
int ta_os_error_oom_code(void);

/* The code this OS gives for a bad argument (EINVAL, ERROR_INVALID_PARAMETER):
 * what test mappers return when they refuse a call that breaks the contract. */
int ta_os_error_invalid_code(void);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_PLATFORM_OS_ERROR_H_ */
