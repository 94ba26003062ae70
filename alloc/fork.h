/* fork() safety: every lock of the allocator is taken before a fork and
 * released after it on both sides, so that a child (which has only the
 * forking thread) finds no lock held by a thread it does not have. */
#ifndef TINYALLOC_ALLOC_FORK_H_
#define TINYALLOC_ALLOC_FORK_H_

#ifdef __cplusplus
extern "C" {
#endif

/* Registers the handlers, once per process (a failed registration is tried
 * again at the next call). Thread-safe. */
void ta_fork_handlers_ensure(void);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_FORK_H_ */
