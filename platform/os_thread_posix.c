/* POSIX: ta_os_yield() on sched_yield; thread exit through the destructor of
 * a pthread key; fork handlers through pthread_atfork. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>

#include "tinyalloc/os_thread.h"

void ta_os_yield(void) {
  /* Its only failure (ENOSYS) leaves nothing to do but return. */
  (void)sched_yield();
}

static pthread_key_t exit_key;
static pthread_mutex_t exit_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool exit_key_made; /* published after exit_key is set */

bool ta_os_thread_exit_init(ta_thread_exit_fn fn) {
  pthread_mutex_lock(&exit_lock);
  bool made = !atomic_load_explicit(&exit_key_made, memory_order_relaxed) &&
              pthread_key_create(&exit_key, fn) == 0;
  if (made) atomic_store_explicit(&exit_key_made, true, memory_order_release);
  pthread_mutex_unlock(&exit_lock);
  return made;
}

bool ta_os_thread_exit_watch(void *value) {
  return atomic_load_explicit(&exit_key_made, memory_order_acquire) &&
         pthread_setspecific(exit_key, value) == 0;
}

bool ta_os_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void)) {
  return pthread_atfork(prepare, parent, child) == 0;
}
