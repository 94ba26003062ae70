/* POSIX: the default mapper on mmap, mprotect, madvise and munmap. */
/* -std=c11 hides MAP_ANONYMOUS, MAP_NORESERVE and madvise unless asked for. */
#define _DEFAULT_SOURCE

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tinyalloc/mapper.h"
#include "tinyalloc/sysinfo.h"

/* Reserved address space is not charged against the commit limit: only
 * commit (mprotect to read-write) makes pages chargeable. */
#ifdef MAP_NORESERVE
#define POSIX_RESERVE_FLAGS (MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE)
#else
#define POSIX_RESERVE_FLAGS (MAP_PRIVATE | MAP_ANONYMOUS)
#endif

/* errno after a failed call; EINVAL in the (never seen) case that the call
 * left it 0, since the contract promises a nonzero code on failure. */
static int posix_errno(void) { return errno != 0 ? errno : EINVAL; }

/* What mmap's results are aligned to: the kernel's page. ta_sysinfo() may
 * report a larger one (a test simulating another machine's pages), to which
 * every reservation must then be aligned all the same. */
static size_t mmap_alignment(void) {
  long page = sysconf(_SC_PAGESIZE);
  return page > 0 ? (size_t)page : 4096;
}

static int posix_reserve(void *ctx, size_t size, size_t align, void **out) {
  (void)ctx;
  size_t granularity = ta_sysinfo()->alloc_granularity;
  if (align < granularity) align = granularity;
  size_t natural = mmap_alignment();
  if (align <= natural) {
    void *p = mmap(NULL, size, PROT_NONE, POSIX_RESERVE_FLAGS, -1, 0);
    if (p == MAP_FAILED) return posix_errno();
    *out = p;
    return 0;
  }
  /* mmap cannot be asked for an alignment: over-reserve, then give back the
   * ends. mmap's result is page-aligned, so align - page bytes of slack always
   * contain an aligned start. */
  size_t slack = align - natural;
  if (size > SIZE_MAX - slack) return ENOMEM;
  size_t span = size + slack;
  void *p = mmap(NULL, span, PROT_NONE, POSIX_RESERVE_FLAGS, -1, 0);
  if (p == MAP_FAILED) return posix_errno();
  uintptr_t start = (uintptr_t)p;
  uintptr_t aligned = (start + align - 1) & ~(uintptr_t)(align - 1);
  size_t head = aligned - start;
  size_t tail = span - head - size;
  if (head != 0 && munmap(p, head) != 0) {
    int err = posix_errno();
    (void)munmap(p, span);
    return err;
  }
  if (tail != 0 && munmap((void *)(aligned + size), tail) != 0) {
    int err = posix_errno();
    (void)munmap((void *)aligned, span - head);
    return err;
  }
  *out = (void *)aligned;
  return 0;
}

static int posix_commit(void *ctx, void *addr, size_t size) {
  (void)ctx;
  /* Anonymous private pages never touched, or dropped by MADV_DONTNEED, are
   * filled with zeros on first access. */
  return mprotect(addr, size, PROT_READ | PROT_WRITE) == 0 ? 0 : posix_errno();
}

static int posix_decommit(void *ctx, void *addr, size_t size) {
  (void)ctx;
  /* On Linux MADV_DONTNEED frees the pages at once and the next touch reads
   * zeros (MADV_FREE would keep them until memory pressure and keep their
   * bytes). PROT_NONE then makes a use without recommit fault. */
  if (madvise(addr, size, MADV_DONTNEED) != 0) return posix_errno();
  return mprotect(addr, size, PROT_NONE) == 0 ? 0 : posix_errno();
}

#ifdef __linux__
static int posix_purge(void *ctx, void *addr, size_t size) {
  (void)ctx;
  /* On Linux private anonymous pages dropped by MADV_DONTNEED read as zero
   * at the next touch; other systems only promise that of a decommit. */
  return madvise(addr, size, MADV_DONTNEED) == 0 ? 0 : posix_errno();
}
#endif

static int posix_protect(void *ctx, void *addr, size_t size, bool read_write) {
  (void)ctx;
  int prot = read_write ? PROT_READ | PROT_WRITE : PROT_NONE;
  return mprotect(addr, size, prot) == 0 ? 0 : posix_errno();
}

static int posix_release(void *ctx, void *addr, size_t size) {
  (void)ctx;
  return munmap(addr, size) == 0 ? 0 : posix_errno();
}

static const ta_mapper_t posix_mapper = {
    .name = "posix",
    .reserve = posix_reserve,
    .commit = posix_commit,
    .decommit = posix_decommit,
    .protect = posix_protect,
    .release = posix_release,
#ifdef __linux__
    .purge = posix_purge,
#endif
    .ctx = NULL,
};

const ta_mapper_t *ta_mapper_default(void) { return &posix_mapper; }
