/* Error recording and, in debug builds only, the message naming the function. */
#include "alloc/report.h"

#ifdef TA_DEBUG
#include <stdio.h>
#endif

void ta_report(ta_heap_t *heap, const char *func, ta_error_t err, const void *ptr) {
  if (heap != NULL) heap->last_error = err;
#ifdef TA_DEBUG
  /* Misuse is a bug to report; running out of memory is not. */
  if (err == TA_ERR_INVALID_LAYOUT || err == TA_ERR_INVALID_POINTER ||
      err == TA_ERR_INVALID_ARGUMENT) {
    fprintf(stderr, "tinyalloc: %s: %s (%p)\n", func, ta_error_str(err), ptr);
  }
#else
  (void)func;
  (void)ptr;
#endif
}
