/* The fork handlers (fork.h). Locks are taken in one order everywhere: the
 * arena's grower flag, the pool of abandoned heaps, the heap cache, the
 * registry, the list of remote huge frees, the huge cache;
 * no code path holds one of them while taking another. */
#include "alloc/fork.h"

#include "alloc/abandoned.h"
#include "alloc/arena.h"
#include "alloc/atomic.h"
#include "alloc/heap.h"
#include "alloc/heap_registry.h"
#include "alloc/huge_cache.h"
#include "alloc/remote_huge.h"
#include "tinyalloc/os_thread.h"

static void prepare(void) {
  ta_arena_fork_prepare();
  ta_abandoned_lock();
  ta_heap_cache_lock();
  ta_heap_registry_lock();
  ta_remote_huge_lock();
  ta_huge_cache_lock();
}

static void parent(void) {
  ta_huge_cache_unlock();
  ta_remote_huge_unlock();
  ta_heap_registry_unlock();
  ta_heap_cache_unlock();
  ta_abandoned_unlock();
  ta_arena_fork_parent();
}

static void child(void) {
  ta_huge_cache_unlock();
  ta_remote_huge_unlock();
  ta_heap_registry_unlock();
  ta_heap_cache_unlock();
  ta_abandoned_unlock();
  ta_arena_fork_child();
}

void ta_fork_handlers_ensure(void) {
  static TA_ATOMIC(int) registered;
  int expected = 0;
  if (atomic_load_explicit(&registered, memory_order_relaxed) == 0 &&
      atomic_compare_exchange_strong_explicit(&registered, &expected, 1, memory_order_acq_rel,
                                              memory_order_relaxed)) {
    /* pthread_atfork may allocate: called while a thread makes its first
     * heap, that allocation fails and so does the registration. The thread
     * heap layer calls again once the heap is in place. */
    if (!ta_os_atfork(prepare, parent, child)) {
      atomic_store_explicit(&registered, 0, memory_order_relaxed);
    }
  }
}
