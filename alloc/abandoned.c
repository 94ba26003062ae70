/* The pool of abandoned heaps (abandoned.h): a stack under a lock held for a
 * few loads and stores; threads start and exit far less often than they
 * allocate. */
#include "alloc/abandoned.h"

#include "alloc/atomic.h"
#include "tinyalloc/os_thread.h"

static ta_heap_t *top;
static atomic_flag lock = ATOMIC_FLAG_INIT;

void ta_abandoned_lock(void) {
  while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire)) ta_os_yield();
}

void ta_abandoned_unlock(void) { atomic_flag_clear_explicit(&lock, memory_order_release); }

void ta_abandoned_push(ta_heap_t *heap) {
  ta_abandoned_lock();
  heap->next_abandoned = top;
  top = heap;
  ta_abandoned_unlock();
}

ta_heap_t *ta_abandoned_pop(void) {
  ta_abandoned_lock();
  ta_heap_t *heap = top;
  if (heap != NULL) top = heap->next_abandoned;
  ta_abandoned_unlock();
  return heap;
}
