/* POSIX: the environment from `environ` (getenv is not async-safe to use
 * before the C library has started on every libc), stderr through write. */
#define _DEFAULT_SOURCE

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "tinyalloc/os_env.h"

extern char **environ;

bool ta_os_getenv(const char *name, char *buf, size_t cap) {
  size_t name_len = strlen(name);
  for (char **entry = environ; entry != NULL && *entry != NULL; entry++) {
    const char *e = *entry;
    if (strncmp(e, name, name_len) != 0 || e[name_len] != '=') continue;
    const char *value = e + name_len + 1;
    size_t len = strlen(value);
    if (len >= cap) return false;
    memcpy(buf, value, len + 1);
    return true;
  }
  return false;
}

void ta_os_write_stderr(const char *msg, size_t len) {
  int saved = errno; /* a warning from inside free must not change it */
  while (len > 0) {
    ssize_t n = write(STDERR_FILENO, msg, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    msg += n;
    len -= (size_t)n;
  }
  errno = saved;
}
