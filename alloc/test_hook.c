/* The test-only hook of test_hook.h. */
#include "alloc/test_hook.h"

#include <stddef.h>

#include "alloc/atomic.h"

TA_ATOMIC(ta_test_hook_t) ta_test_hook_current;

void ta_test_hook_set(ta_test_hook_t hook) {
  atomic_store_explicit(&ta_test_hook_current, hook, memory_order_release);
}
