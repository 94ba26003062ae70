/* Recording an error on a heap, and telling the developer which function saw
 * what: in debug builds (-c dbg, which defines TA_DEBUG), and in any build
 * with TA_OPTION_VERBOSE. */
#ifndef TINYALLOC_ALLOC_REPORT_H_
#define TINYALLOC_ALLOC_REPORT_H_

#include "alloc/heap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Records err as heap's last error (heap may be NULL) and, for misuse
 * (invalid layout, pointer or argument) in debug builds or with
 * TA_OPTION_VERBOSE, prints "tinyalloc: <func>: <text> (0x<ptr>)" to stderr. */
void ta_report(ta_heap_t *heap, const char *func, ta_error_t err, const void *ptr);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_REPORT_H_ */
