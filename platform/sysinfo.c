/* ta_sysinfo(): asks the OS once (sysinfo_<os>.c), thread-safely, and makes
 * every size a power of two whatever the OS said, so that the allocator may
 * align with masks. */
#include "tinyalloc/sysinfo.h"

#include <stdatomic.h>

#include "platform/os_sysinfo.h"
#include "tinyalloc/os_thread.h"

/* Fallbacks for facts an OS will not tell: the smallest page of every OS
 * tinyalloc runs on, and the line of every current x86-64 and most ARM64 cores. */
enum {
  TA_FALLBACK_PAGE_SIZE = 4096,
  TA_FALLBACK_CACHE_LINE = 64,
};

enum { STATE_EMPTY = 0, STATE_FILLING = 1, STATE_READY = 2 };

static ta_sysinfo_t facts;
static atomic_int facts_state = STATE_EMPTY;

static int is_power_of_two(size_t v) { return v != 0 && (v & (v - 1)) == 0; }

static void sanitise(ta_sysinfo_t *info) {
  if (!is_power_of_two(info->page_size)) info->page_size = TA_FALLBACK_PAGE_SIZE;
  /* Reservations can start no finer than pages. */
  if (!is_power_of_two(info->alloc_granularity) || info->alloc_granularity < info->page_size) {
    info->alloc_granularity = info->page_size;
  }
  if (!is_power_of_two(info->cache_line)) info->cache_line = TA_FALLBACK_CACHE_LINE;
}

const ta_sysinfo_t *ta_sysinfo(void) {
  if (atomic_load_explicit(&facts_state, memory_order_acquire) == STATE_READY) return &facts;
  /* A hand-made once-flag rather than call_once or pthread_once: C11 threads
   * are missing from some C libraries, and this works the same on Windows. The
   * winner fills the facts; the others wait, yielding, for its release store. */
  int expected = STATE_EMPTY;
  if (atomic_compare_exchange_strong_explicit(&facts_state, &expected, STATE_FILLING,
                                              memory_order_acquire, memory_order_acquire)) {
    ta_sysinfo_t info = {0};
    ta_os_sysinfo_query(&info);
    sanitise(&info);
    facts = info;
    atomic_store_explicit(&facts_state, STATE_READY, memory_order_release);
  } else {
    while (atomic_load_explicit(&facts_state, memory_order_acquire) != STATE_READY) ta_os_yield();
  }
  return &facts;
}

bool ta_sysinfo_override(const ta_sysinfo_t *info) {
  int expected = STATE_EMPTY;
  if (info == NULL ||
      !atomic_compare_exchange_strong_explicit(&facts_state, &expected, STATE_FILLING,
                                               memory_order_acquire, memory_order_acquire)) {
    return false;
  }
  ta_sysinfo_t copy = *info;
  sanitise(&copy);
  facts = copy;
  atomic_store_explicit(&facts_state, STATE_READY, memory_order_release);
  return true;
}
