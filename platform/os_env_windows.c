/* Windows: the process environment block and the standard error handle,
 * through kernel32 (no CRT allocation). */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include "tinyalloc/os_env.h"

bool ta_os_getenv(const char *name, char *buf, size_t cap) {
  if (cap == 0 || cap > MAXDWORD) return false;
  DWORD n = GetEnvironmentVariableA(name, buf, (DWORD)cap);
  /* 0: unset (or empty); n >= cap: the size it would need. */
  if (n == 0) {
    if (GetLastError() == ERROR_ENVVAR_NOT_FOUND) return false;
    buf[0] = '\0';
    return true;
  }
  return n < cap;
}

void ta_os_write_stderr(const char *msg, size_t len) {
  HANDLE err = GetStdHandle(STD_ERROR_HANDLE);
  if (err == NULL || err == INVALID_HANDLE_VALUE) return;
  while (len > 0) {
    DWORD chunk = len > 0x40000000u ? 0x40000000u : (DWORD)len;
    DWORD written = 0;
    if (!WriteFile(err, msg, chunk, &written, NULL) || written == 0) return;
    msg += written;
    len -= written;
  }
}
