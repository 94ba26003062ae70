/* C11 atomics for the allocator's headers, also readable from C++ (tests,
 * benchmarks): TA_ATOMIC(T) is _Atomic(T) in C and std::atomic<T> in C++,
 * which has the same size, alignment and representation on the compilers we
 * support. (_Atomic itself is not redefined: a reserved name, and C++23's
 * <stdatomic.h> defines it.) */
#ifndef TINYALLOC_ALLOC_ATOMIC_H_
#define TINYALLOC_ALLOC_ATOMIC_H_

#ifdef __cplusplus
#include <atomic>
#define TA_ATOMIC(T) std::atomic<T>
using std::atomic_compare_exchange_strong_explicit;
using std::atomic_compare_exchange_weak_explicit;
using std::atomic_exchange_explicit;
using std::atomic_fetch_add_explicit;
using std::atomic_fetch_and_explicit;
using std::atomic_fetch_or_explicit;
using std::atomic_fetch_sub_explicit;
using std::atomic_init;
using std::atomic_load_explicit;
using std::atomic_store_explicit;
using std::memory_order_acq_rel;
using std::memory_order_acquire;
using std::memory_order_relaxed;
using std::memory_order_release;
#else
#include <stdatomic.h>
#define TA_ATOMIC(T) _Atomic(T)
#endif

#endif /* TINYALLOC_ALLOC_ATOMIC_H_ */
