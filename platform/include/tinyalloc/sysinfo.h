/* Facts about the OS and machine, read once at first use, so that the
 * allocator has no #ifdef and no magic page or line sizes. */
#ifndef TINYALLOC_SYSINFO_H_
#define TINYALLOC_SYSINFO_H_

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The tag is not "ta_sysinfo": in C++ the function ta_sysinfo() would hide a
 * struct of that name (g++ -Wshadow rejects it). */
typedef struct ta_sysinfo_s {
  size_t page_size;          /* unit of commit and protection */
  size_t alloc_granularity;  /* reservations start on multiples of this
                                (64 KiB on Windows, the page size on POSIX) */
  size_t cache_line;         /* L1 data cache line; 64 when the OS won't say */
} ta_sysinfo_t;

/* The facts, filled on the first call (thread-safe), constant afterwards.
 * Never NULL; every size is a power of two. */
const ta_sysinfo_t *ta_sysinfo(void);

/* Test-only: makes ta_sysinfo() report *info (made consistent as the OS's
 * answer would be) instead of asking the OS, so that the allocator can be
 * run with the geometry of another machine: 16 or 64 KiB pages on a 4 KiB
 * kernel, whose default mapper then aligns every reservation to them. Only
 * before the first ta_sysinfo() call: returns false (and changes nothing)
 * after it. Not thread-safe against a first ta_sysinfo() call. */
bool ta_sysinfo_override(const ta_sysinfo_t *info);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_SYSINFO_H_ */
