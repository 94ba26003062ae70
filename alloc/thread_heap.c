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

_Thread_local ta_thread_state_t ta_thread_state TA_TLS_MODEL TA_HIDDEN = {
    &ta_no_heap, false};
#define thread_heap (ta_thread_state.heap)
#define making_heap (ta_thread_state.making_heap)

/* ---- thread exit ---- */

/* The thread's heap goes back to the pool, emptied of what it can give back;
 * a heap left holding nothing is released instead, so that the pool never
 * holds more than the blocks still alive. What it keeps is purged once the
 * purge delay has passed (ta_heap_collect_idle), not at exit: the next
 * thread usually adopts it first. */
static void thread_exit(void *value) {
  ta_heap_t *heap = (ta_heap_t *)value;
  if (thread_heap == heap) thread_heap = &ta_no_heap;
  ta_heap_collect_idle(heap);
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

TA_NOINLINE ta_heap_t *ta_thread_heap_make(void) {
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

ta_heap_t *ta_thread_heap(void) { return ta_thread_heap_get(); }
