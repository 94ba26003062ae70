/* C11 atomics for the allocator's headers, also readable from C++ (tests,
 * benchmarks): there, _Atomic(T) is std::atomic<T>, which has the same size,
 * alignment and representation on the compilers we support. */
#ifndef TINYALLOC_ALLOC_ATOMIC_H_
#define TINYALLOC_ALLOC_ATOMIC_H_

#ifdef __cplusplus
#include <atomic>
#define _Atomic(T) std::atomic<T>
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
#endif

#endif /* TINYALLOC_ALLOC_ATOMIC_H_ */
