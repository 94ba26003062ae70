/* Windows: the default mapper on VirtualAlloc, VirtualFree and VirtualProtect. */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <stdint.h>

#include "tinyalloc/mapper.h"
#include "tinyalloc/sysinfo.h"

/* How often an aligned reservation is retried when another thread takes the
 * aligned address between the probe and the reservation (see win_reserve). */
enum { WIN_RESERVE_ATTEMPTS = 8 };

/* GetLastError() after a failed call; ERROR_GEN_FAILURE in the (never seen)
 * case that it is 0, since the contract promises a nonzero code on failure. */
static int win_error(void) {
  DWORD err = GetLastError();
  return err != 0 ? (int)err : ERROR_GEN_FAILURE;
}

/* Reserves size bytes anywhere (addr NULL) or exactly at addr. */
static void *win_reserve_at(void *addr, size_t size) {
  return VirtualAlloc(addr, size, MEM_RESERVE, PAGE_NOACCESS);
}

static int win_reserve(void *ctx, size_t size, size_t align, void **out) {
  (void)ctx;
  size_t granularity = ta_sysinfo()->alloc_granularity;
  /* An aligned reservation first reserves align - granularity bytes more, in
   * which an aligned start is certain to lie (see below). */
  size_t slack = align > granularity ? align - granularity : 0;
  /* Windows answers a size beyond the address space with
   * ERROR_INVALID_PARAMETER, which would blame the caller; what the caller
   * met is the end of the address space, an out-of-memory condition. */
  SYSTEM_INFO si;
  GetSystemInfo(&si);
  size_t address_space =
      (size_t)((uintptr_t)si.lpMaximumApplicationAddress - (uintptr_t)si.lpMinimumApplicationAddress);
  if (size > address_space || slack > address_space - size) return ERROR_NOT_ENOUGH_MEMORY;

  if (slack == 0) {
    void *p = win_reserve_at(NULL, size);
    if (p == NULL) return win_error();
    *out = p;
    return 0;
  }
  /* A reservation can only be released whole, so the ends of an
   * over-reservation cannot be trimmed as on POSIX. Instead: find an aligned
   * address inside an over-reservation, release it, and reserve exactly the
   * aligned range. Another thread may take that range in between; then try
   * again, a bounded number of times. */
  int err = ERROR_NOT_ENOUGH_MEMORY;
  for (int attempt = 0; attempt < WIN_RESERVE_ATTEMPTS; ++attempt) {
    void *probe = win_reserve_at(NULL, size + slack);
    if (probe == NULL) return win_error();
    uintptr_t aligned = ((uintptr_t)probe + align - 1) & ~(uintptr_t)(align - 1);
    if (!VirtualFree(probe, 0, MEM_RELEASE)) return win_error();
    void *p = win_reserve_at((void *)aligned, size);
    if (p != NULL) {
      *out = p;
      return 0;
    }
    err = win_error();
  }
  return err;
}

static int win_commit(void *ctx, void *addr, size_t size) {
  (void)ctx;
  /* Committed pages read as zero until written, whether never committed or
   * decommitted since; committing committed pages keeps their contents. */
  return VirtualAlloc(addr, size, MEM_COMMIT, PAGE_READWRITE) != NULL ? 0 : win_error();
}

static int win_decommit(void *ctx, void *addr, size_t size) {
  (void)ctx;
  return VirtualFree(addr, size, MEM_DECOMMIT) ? 0 : win_error();
}

static int win_protect(void *ctx, void *addr, size_t size, bool read_write) {
  (void)ctx;
  DWORD old;
  DWORD prot = read_write ? PAGE_READWRITE : PAGE_NOACCESS;
  return VirtualProtect(addr, size, prot, &old) ? 0 : win_error();
}

static int win_release(void *ctx, void *addr, size_t size) {
  (void)ctx;
  (void)size; /* MEM_RELEASE takes the whole reservation and requires size 0. */
  return VirtualFree(addr, 0, MEM_RELEASE) ? 0 : win_error();
}

static const ta_mapper_t win_mapper = {
    .name = "windows",
    .reserve = win_reserve,
    .commit = win_commit,
    .decommit = win_decommit,
    .protect = win_protect,
    .release = win_release,
    /* None: a decommit is what lowers the commit charge, and MEM_RESET keeps
     * the old bytes. */
    .purge = NULL,
    .ctx = NULL,
};

const ta_mapper_t *ta_mapper_default(void) { return &win_mapper; }
