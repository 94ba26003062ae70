/* Per-process secrets without asking the OS: derived from where the program
 * was loaded (address-space layout randomisation makes that vary per run).
 * One multiply, since the free path computes them on every call. */
#ifndef TINYALLOC_ALLOC_SECRET_H_
#define TINYALLOC_ALLOC_SECRET_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

extern const char ta_secret_anchor;

/* A 64-bit value fixed for the life of the process, different for each salt. */
static inline uintptr_t ta_secret(uint64_t salt) {
  return (uintptr_t)(((uint64_t)(uintptr_t)&ta_secret_anchor ^ (salt << 56)) *
                     UINT64_C(0x9E3779B97F4A7C15));
}

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_SECRET_H_ */
