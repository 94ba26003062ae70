/* The environment and the standard error stream, reached without the C
 * library's allocating functions: the allocator reads its options and prints
 * its warnings before the C library is ready, and may be its malloc. */
#ifndef TINYALLOC_OS_ENV_H_
#define TINYALLOC_OS_ENV_H_

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Copies the value of the environment variable name into buf,
 * NUL-terminated. False when it is unset or its value does not fit in cap. */
bool ta_os_getenv(const char *name, char *buf, size_t cap);

/* Writes len bytes of msg to standard error, unbuffered. Best effort; errno
 * is left as it was. */
void ta_os_write_stderr(const char *msg, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_OS_ENV_H_ */
