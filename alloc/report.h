/* Recording an error on a heap, and in debug builds (-c dbg, which defines
 * TA_DEBUG) telling the developer which function saw what. */
#ifndef TINYALLOC_ALLOC_REPORT_H_
#define TINYALLOC_ALLOC_REPORT_H_

#include "alloc/heap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Records err as heap's last error (heap may be NULL) and, in debug builds,
 * for misuse (invalid layout, pointer or argument) prints
 * "tinyalloc: <func>: <text> (<ptr>)" to stderr. */
void ta_report(ta_heap_t *heap, const char *func, ta_error_t err, const void *ptr);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_REPORT_H_ */
