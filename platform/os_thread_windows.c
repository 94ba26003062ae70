/* Windows: ta_os_yield() on SwitchToThread; thread exit through a fibre-local
 * storage callback, which Windows runs when a thread (or fibre) ends. */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include "tinyalloc/os_thread.h"

void ta_os_yield(void) {
  /* FALSE only means no other thread was ready to run: nothing to do. */
  (void)SwitchToThread();
}

static DWORD exit_index = FLS_OUT_OF_INDEXES;
static ta_thread_exit_fn exit_fn;
static SRWLOCK exit_lock = SRWLOCK_INIT;

static void WINAPI on_exit(void *value) {
  if (value != NULL) exit_fn(value);
}

bool ta_os_thread_exit_init(ta_thread_exit_fn fn) {
  AcquireSRWLockExclusive(&exit_lock);
  bool made = false;
  if (exit_index == FLS_OUT_OF_INDEXES) {
    exit_fn = fn;
    exit_index = FlsAlloc(on_exit);
    made = exit_index != FLS_OUT_OF_INDEXES;
  }
  ReleaseSRWLockExclusive(&exit_lock);
  return made;
}

bool ta_os_thread_exit_watch(void *value) {
  return exit_index != FLS_OUT_OF_INDEXES && FlsSetValue(exit_index, value);
}

bool ta_os_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void)) {
  (void)prepare;
  (void)parent;
  (void)child;
  return true;
}
