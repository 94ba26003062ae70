/* Huge blocks freed through another heap (remote_huge.h): a list, oldest
 * first, under a lock held only by these frees, by owners taking their blocks
 * back and by a purge (across its system call: an owner that finds its block
 * being purged waits for it rather than free the segment under it). */
#include "alloc/remote_huge.h"

#include "alloc/list.h"
#include "alloc/options.h"
#include "alloc/segment_alloc.h"
#include "tinyalloc/os_thread.h"
#include "tinyalloc/sysinfo.h"

static ta_list_t pending;
static atomic_flag lock = ATOMIC_FLAG_INIT;
/* When the oldest block is due (UINT64_MAX: none waits), so that checking
 * costs one load until then. */
static TA_ATOMIC(uint64_t) next_due = UINT64_MAX;

void ta_remote_huge_lock(void) {
  while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire)) ta_os_yield();
}

void ta_remote_huge_unlock(void) { atomic_flag_clear_explicit(&lock, memory_order_release); }

static uint64_t delay_ms(void) { return (uint64_t)ta_options_value(TA_OPTION_PURGE_DELAY_MS); }

/* Under the lock: when the list's head is due. */
static void next_due_update(void) {
  uint64_t due = UINT64_MAX;
  if (pending.head != NULL) {
    due = TA_CONTAINER_OF(pending.head, ta_segment_t, remote_node)->remote_freed_at + delay_ms();
  }
  atomic_store_explicit(&next_due, due, memory_order_relaxed);
}

void ta_remote_huge_add(ta_segment_t *segment, uint64_t now) {
  ta_remote_huge_lock();
  segment->remote_freed_at = now;
  atomic_store_explicit(&segment->remote_listed, true, memory_order_relaxed);
  ta_list_push_back(&pending, &segment->remote_node);
  next_due_update();
  ta_remote_huge_unlock();
}

void ta_remote_huge_unlist(ta_segment_t *segment) {
  ta_remote_huge_lock();
  if (atomic_load_explicit(&segment->remote_listed, memory_order_relaxed)) {
    ta_list_remove(&pending, &segment->remote_node);
    atomic_store_explicit(&segment->remote_listed, false, memory_order_relaxed);
    next_due_update();
  }
  ta_remote_huge_unlock();
}

void ta_remote_huge_purge_due(uint64_t now, bool everything) {
  if (!everything && now < atomic_load_explicit(&next_due, memory_order_relaxed)) return;
  ta_remote_huge_lock();
  uint64_t delay = delay_ms();
  size_t page_size = ta_sysinfo()->page_size;
  while (pending.head != NULL) {
    ta_segment_t *segment = TA_CONTAINER_OF(pending.head, ta_segment_t, remote_node);
    if (!everything && segment->remote_freed_at + delay > now) break;
    ta_list_remove(&pending, &segment->remote_node);
    /* All but the first page, which carries the link to the owner and the
     * free mark. */
    if (segment->huge_size > page_size) {
      ta_segment_purge_huge(segment, segment->pages[0].area + page_size);
    }
    /* Released after the purge's writes to the segment, which the owner
     * reads once it sees the segment off the list. */
    atomic_store_explicit(&segment->remote_listed, false, memory_order_release);
  }
  next_due_update();
  ta_remote_huge_unlock();
}
