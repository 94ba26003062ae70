/* Per-process secrets without asking the OS: derived from where the program
 * was loaded (address-space layout randomisation makes that vary per run) and
 * mixed so that nearby seeds give unrelated values. Costs a few multiplies. */
#ifndef TINYALLOC_ALLOC_SECRET_H_
#define TINYALLOC_ALLOC_SECRET_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

extern const char ta_secret_anchor;

/* A 64-bit value fixed for the life of the process, different for each salt. */
static inline uintptr_t ta_secret(uint64_t salt) {
  uint64_t z = (uint64_t)(uintptr_t)&ta_secret_anchor + salt * UINT64_C(0x9E3779B97F4A7C15);
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return (uintptr_t)(z ^ (z >> 31));
}

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_SECRET_H_ */
