/* Threads: yielding the processor, and a callback when a thread exits. */
#ifndef TINYALLOC_OS_THREAD_H_
#define TINYALLOC_OS_THREAD_H_

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Lets another thread run. */
void ta_os_yield(void);

/* What ta_os_thread_exit_watch calls at a watched thread's exit. */
typedef void (*ta_thread_exit_fn)(void *value);

/* Installs fn as the one exit callback of the process (POSIX: the destructor
 * of a thread-specific key; Windows: a fibre-local storage callback). Once,
 * before any ta_os_thread_exit_watch; later calls return false and change
 * nothing. Thread-safe. False also when the OS has no key left. */
bool ta_os_thread_exit_init(ta_thread_exit_fn fn);

/* Arranges for fn(value) (value not NULL) to run when the calling thread
 * exits; NULL stops watching the thread. Neither allocates with malloc on
 * glibc for the first 32 keys of a process. Not for the process's main thread
 * at process exit: exit() runs no thread destructors. */
bool ta_os_thread_exit_watch(void *value);

/* Registers handlers around fork() (POSIX pthread_atfork): prepare runs in
 * the parent before the fork, parent and child after it in each. False if
 * the OS refused; true and nothing done where there is no fork (Windows). */
bool ta_os_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void));

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_OS_THREAD_H_ */
