/* A test-only hook at the points where the allocator's races happen, so that
 * a test can hold one thread there and force an interleaving that the real
 * schedule hits only now and then. NULL (the default) turns it off. It is
 * looked at only off the per-block fast paths: a load and a branch on a slow
 * path, and nothing else in a program that never sets it. */
#ifndef TINYALLOC_ALLOC_TEST_HOOK_H_
#define TINYALLOC_ALLOC_TEST_HOOK_H_

#include <stddef.h>

#include "alloc/atomic.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ta_test_event {
  TA_TEST_REGION_SETUP,      /* arena: a region is claimed for setup, not yet reserved */
  TA_TEST_PURGE_CLAIMED,     /* arena: a purge holds free slots, not yet purged */
  TA_TEST_TAKE_WAITS,        /* arena: a take found nothing and waits for a purge or a grower */
  TA_TEST_REMOTE_FREE_CHECKED, /* heap: a remote free found the block live, not yet claimed */
} ta_test_event_t;

typedef void (*ta_test_hook_t)(ta_test_event_t event);

void ta_test_hook_set(ta_test_hook_t hook);

/* The hook, read inline: a path that looks at it then saves no registers
 * for a call it never makes (the remote free does). Not exported. */
extern TA_ATOMIC(ta_test_hook_t) ta_test_hook_current
#if defined(__GNUC__) && !defined(_WIN32)
    __attribute__((visibility("hidden")))
#endif
    ;

/* Calls the hook, if one is set. */
static inline void ta_test_hook_run(ta_test_event_t event) {
  ta_test_hook_t hook = atomic_load_explicit(&ta_test_hook_current, memory_order_acquire);
  if (__builtin_expect(hook != NULL, 0)) hook(event);
}

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_TEST_HOOK_H_ */
