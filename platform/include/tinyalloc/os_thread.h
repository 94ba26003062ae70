/* The one threading primitive the allocator needs from the OS: giving up the
 * processor while it waits for a lock held off the hot path. */
#ifndef TINYALLOC_OS_THREAD_H_
#define TINYALLOC_OS_THREAD_H_

#ifdef __cplusplus
extern "C" {
#endif

/* Lets another runnable thread run (sched_yield / SwitchToThread). */
void ta_os_yield(void);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_OS_THREAD_H_ */
