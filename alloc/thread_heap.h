/* The thread's default heap, for the malloc layer (malloc.h has the rest):
 * inline, so that ta_malloc and ta_free read it with one load. */
#ifndef TINYALLOC_ALLOC_THREAD_HEAP_H_
#define TINYALLOC_ALLOC_THREAD_HEAP_H_

#include <stdbool.h>
#include <stddef.h>

#include "alloc/heap_fast.h"
#include "tinyalloc/tinyalloc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The override and preload builds define TA_TLS_INITIAL_EXEC: one load from
 * the thread pointer, no __tls_get_addr call. The prefixed library keeps the
 * default model, so that a shared library using it can be dlopen'ed late.
 * Every file of the malloc layer is built with the same definition. */
#if defined(TA_TLS_INITIAL_EXEC) && defined(__GNUC__)
#define TA_TLS_MODEL __attribute__((tls_model("initial-exec")))
#else
#define TA_TLS_MODEL
#endif

/* One thread-local object, not two: gold 2.40 binds the initial-exec slots
 * of several TLS symbols of a shared library to the wrong offsets. */
typedef struct ta_thread_state {
  ta_heap_t *heap; /* &ta_no_heap until the thread has one, and after */
  /* Set while this thread makes its heap: a malloc from inside that (the
   * OS's thread-exit registration may allocate) gets NULL instead of
   * recursing. */
  bool making_heap;
} ta_thread_state_t;

extern _Thread_local ta_thread_state_t ta_thread_state TA_TLS_MODEL TA_HIDDEN;

/* Makes or adopts the calling thread's heap; NULL if that fails (or while
 * it is being made). */
ta_heap_t *ta_thread_heap_make(void);

/* The calling thread's heap, made on first use. */
static inline ta_heap_t *ta_thread_heap_get(void) {
  ta_heap_t *heap = ta_thread_state.heap;
  return TA_LIKELY(heap != &ta_no_heap) ? heap : ta_thread_heap_make();
}

/* The calling thread's heap, or &ta_no_heap if it has none (never made, or
 * handed back at thread exit); never makes one: for the fast paths. */
static inline ta_heap_t *ta_thread_heap_or_none(void) { return ta_thread_state.heap; }

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_THREAD_HEAP_H_ */
