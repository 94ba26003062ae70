/* pthread calls that end the test on failure. */
#ifndef TA_GLIBC_SHIM_XTHREAD_H
#define TA_GLIBC_SHIM_XTHREAD_H
#include <pthread.h>
#include <string.h>
#include "support/check.h"

static inline pthread_t xpthread_create(pthread_attr_t *attr, void *(*fn)(void *), void *arg) {
  pthread_t t;
  int err = pthread_create(&t, attr, fn, arg);
  if (err != 0) FAIL_EXIT1("pthread_create: %s", strerror(err));
  return t;
}
static inline void *xpthread_join(pthread_t t) {
  void *result;
  int err = pthread_join(t, &result);
  if (err != 0) FAIL_EXIT1("pthread_join: %s", strerror(err));
  return result;
}
static inline void xpthread_barrier_init(pthread_barrier_t *b, pthread_barrierattr_t *attr,
                                         unsigned count) {
  int err = pthread_barrier_init(b, attr, count);
  if (err != 0) FAIL_EXIT1("pthread_barrier_init: %s", strerror(err));
}
static inline int xpthread_barrier_wait(pthread_barrier_t *b) {
  int err = pthread_barrier_wait(b);
  if (err != 0 && err != PTHREAD_BARRIER_SERIAL_THREAD) {
    FAIL_EXIT1("pthread_barrier_wait: %s", strerror(err));
  }
  return err == PTHREAD_BARRIER_SERIAL_THREAD;
}
static inline void xpthread_barrier_destroy(pthread_barrier_t *b) {
  int err = pthread_barrier_destroy(b);
  if (err != 0) FAIL_EXIT1("pthread_barrier_destroy: %s", strerror(err));
}
#endif
