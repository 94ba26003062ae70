/* The test-only hook of test_hook.h. */
#include "alloc/test_hook.h"

#include <stddef.h>

#include "alloc/atomic.h"

static TA_ATOMIC(ta_test_hook_t) test_hook;

void ta_test_hook_set(ta_test_hook_t hook) {
  atomic_store_explicit(&test_hook, hook, memory_order_release);
}

void ta_test_hook_run(ta_test_event_t event) {
  ta_test_hook_t hook = atomic_load_explicit(&test_hook, memory_order_acquire);
  if (hook != NULL) hook(event);
}
