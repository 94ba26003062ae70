/* Error recording and the message naming the function: always in debug
 * builds, with TA_OPTION_VERBOSE in any build. */
#include "alloc/report.h"

#include <string.h>

#include "alloc/options.h"
#include "tinyalloc/os_env.h"

/* Appends "0x<hex>" of v at p; returns the end. */
static char *put_hex(char *p, uintptr_t v) {
  static const char digits[] = "0123456789abcdef";
  char tmp[2 * sizeof v];
  size_t n = 0;
  do {
    tmp[n++] = digits[v & 15];
    v >>= 4;
  } while (v != 0);
  *p++ = '0';
  *p++ = 'x';
  while (n > 0) *p++ = tmp[--n];
  return p;
}

/* Appends s at p, at most room bytes; returns the end. */
static char *put_str(char *p, size_t room, const char *s) {
  size_t len = strlen(s);
  if (len > room) len = room;
  memcpy(p, s, len);
  return p + len;
}

/* No stdio: misuse may be found inside malloc itself. */
static void print_misuse(const char *func, ta_error_t err, const void *ptr) {
  enum { TEXT = 120, HEX = 2 + 2 * sizeof(uintptr_t) };
  char line[TEXT + HEX + 2];
  char *p = line;
  p = put_str(p, TEXT - (size_t)(p - line), "tinyalloc: ");
  p = put_str(p, TEXT - (size_t)(p - line), func);
  p = put_str(p, TEXT - (size_t)(p - line), ": ");
  p = put_str(p, TEXT - (size_t)(p - line), ta_error_str(err));
  p = put_str(p, TEXT - (size_t)(p - line), " (");
  p = put_hex(p, (uintptr_t)ptr);
  *p++ = ')';
  *p++ = '\n';
  ta_os_write_stderr(line, (size_t)(p - line));
}

void ta_report(ta_heap_t *heap, const char *func, ta_error_t err, const void *ptr) {
  if (heap != NULL) heap->last_error = err;
  /* Misuse is a bug to report; running out of memory is not. */
  if (err != TA_ERR_INVALID_LAYOUT && err != TA_ERR_INVALID_POINTER &&
      err != TA_ERR_INVALID_ARGUMENT) {
    return;
  }
#ifdef TA_DEBUG
  print_misuse(func, err, ptr);
#else
  if (ta_options_value(TA_OPTION_VERBOSE) != 0) print_misuse(func, err, ptr);
#endif
}
