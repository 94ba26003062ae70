/* Each thread's default heap: made or adopted on first use, kept in a
 * thread-local variable, and handed to a pool of abandoned heaps when the
 * thread exits (the OS's thread-exit callback), from which the next thread
 * that needs a heap adopts it. A heap's blocks belong to the heap, not to a
 * thread, so frees into an abandoned heap are ordinary remote frees, and the
 * adopter takes them back on its slow paths. */
#include "tinyalloc/malloc.h"

#include "alloc/atomic.h"
#include "alloc/abandoned.h"
#include "alloc/fork.h"
#include "alloc/heap.h"
#include "alloc/thread_heap.h"
#include "tinyalloc/os_thread.h"

/* The override and preload builds define TA_TLS_INITIAL_EXEC: one load from
 * the thread pointer, no __tls_get_addr call. The prefixed library keeps the
 * default model, so that a shared library using it can be dlopen'ed late. */
#if defined(TA_TLS_INITIAL_EXEC) && defined(__GNUC__)
#define TA_TLS_MODEL __attribute__((tls_model("initial-exec")))
#else
#define TA_TLS_MODEL
#endif

/* One thread-local object, not two: gold 2.40 binds the initial-exec slots
 * of several local TLS symbols of a shared library to the wrong offsets. */
typedef struct thread_state {
  ta_heap_t *heap;
  /* Set while this thread makes its heap: a malloc from inside that (the
   * OS's thread-exit registration may allocate) gets NULL instead of
   * recursing. */
  bool making_heap;
} thread_state_t;

static _Thread_local thread_state_t thread_state TA_TLS_MODEL;
#define thread_heap (thread_state.heap)
#define making_heap (thread_state.making_heap)

/* ---- thread exit ---- */

/* The thread's heap goes back to the pool, emptied of what it can give back;
 * a heap left holding nothing is released instead, so that the pool never
 * holds more than the blocks still alive. */
static void thread_exit(void *value) {
  ta_heap_t *heap = (ta_heap_t *)value;
  if (thread_heap == heap) thread_heap = NULL;
  ta_heap_collect(heap);
  if (ta_heap_is_empty(heap)) {
    ta_heap_release_unregistered(heap);
  } else {
    ta_abandoned_push(heap);
  }
}

static TA_ATOMIC(int) exit_hook_state; /* 0: not tried, 1: installed, 2: failed */

static void exit_hook_ensure(void) {
  if (atomic_load_explicit(&exit_hook_state, memory_order_acquire) != 0) return;
  int state = ta_os_thread_exit_init(thread_exit) ? 1 : 2;
  int expected = 0;
  atomic_compare_exchange_strong_explicit(&exit_hook_state, &expected, state,
                                          memory_order_acq_rel, memory_order_acquire);
}

static ta_heap_t *thread_heap_make(void) {
  if (making_heap) return NULL;
  making_heap = true;
  exit_hook_ensure();
  ta_heap_t *heap = ta_abandoned_pop();
  if (heap == NULL) heap = ta_heap_new_unregistered();
  if (heap != NULL) {
    thread_heap = heap;
    /* Again, now that an allocation from inside it has a heap to use. */
    ta_fork_handlers_ensure();
    /* Without the hook (no key left) the heap stays with the thread's memory
     * at exit: a leak of what it holds, not a crash. */
    (void)ta_os_thread_exit_watch(heap);
  }
  making_heap = false;
  return heap;
}

ta_heap_t *ta_thread_heap(void) {
  ta_heap_t *heap = thread_heap;
  return heap != NULL ? heap : thread_heap_make();
}

ta_heap_t *ta_thread_heap_if_any(void) { return thread_heap; }
