/* The pool of abandoned heaps (abandoned.h): a list under a lock held for a
 * few loads and stores; threads start and exit far less often than they
 * allocate. A new thread adopts the most recently abandoned heap (the head);
 * a heap that reclaiming finds still in use goes to the tail, so that the
 * next reclaim looks at another one. */
#include "alloc/abandoned.h"

#include "alloc/atomic.h"
#include "tinyalloc/os_thread.h"

static ta_heap_t *head;
static ta_heap_t *tail;
static TA_ATOMIC(size_t) count; /* read without the lock: whether to look at all */
static atomic_flag lock = ATOMIC_FLAG_INIT;

void ta_abandoned_lock(void) {
  while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire)) ta_os_yield();
}

void ta_abandoned_unlock(void) { atomic_flag_clear_explicit(&lock, memory_order_release); }

void ta_abandoned_push(ta_heap_t *heap) {
  ta_abandoned_lock();
  heap->next_abandoned = head;
  head = heap;
  if (tail == NULL) tail = heap;
  atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
  ta_abandoned_unlock();
}

static void push_tail(ta_heap_t *heap) {
  ta_abandoned_lock();
  heap->next_abandoned = NULL;
  if (tail != NULL) {
    tail->next_abandoned = heap;
  } else {
    head = heap;
  }
  tail = heap;
  atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
  ta_abandoned_unlock();
}

ta_heap_t *ta_abandoned_pop(void) {
  if (atomic_load_explicit(&count, memory_order_relaxed) == 0) return NULL;
  ta_abandoned_lock();
  ta_heap_t *heap = head;
  if (heap != NULL) {
    head = heap->next_abandoned;
    if (head == NULL) tail = NULL;
    atomic_fetch_sub_explicit(&count, 1, memory_order_relaxed);
  }
  ta_abandoned_unlock();
  return heap;
}

void ta_abandoned_reclaim(size_t max, bool now) {
  size_t n = atomic_load_explicit(&count, memory_order_relaxed);
  if (max > n) max = n; /* each heap looked at once, also those put back */
  for (size_t i = 0; i < max; i++) {
    ta_heap_t *heap = ta_abandoned_pop();
    if (heap == NULL) return;
    if (now) {
      ta_heap_collect(heap);
    } else {
      ta_heap_collect_idle(heap);
    }
    if (ta_heap_is_empty(heap)) {
      ta_heap_release_unregistered(heap);
    } else {
      push_tail(heap);
    }
  }
}
