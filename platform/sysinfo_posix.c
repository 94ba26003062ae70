/* POSIX (Linux first): page size from sysconf, cache line and huge page size
 * from sysconf or sysfs/procfs, overcommit from the kernel's policy. */
/* -std=c11 hides POSIX 2008 and BSD names (O_CLOEXEC) unless asked for. */
#define _DEFAULT_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "platform/os_sysinfo.h"

/* Reads up to cap - 1 bytes of a small file into buf, NUL-terminated, with
 * open/read rather than stdio: fopen may call malloc, and this runs inside an
 * allocator. Returns false if the file cannot be read (e.g. not Linux). */
static bool posix_read_file(const char *path, char *buf, size_t cap) {
  int fd;
  do {
    fd = open(path, O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return false;
  size_t len = 0;
  while (len + 1 < cap) {
    ssize_t n = read(fd, buf + len, cap - 1 - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += (size_t)n;
  }
  (void)close(fd);
  buf[len] = '\0';
  return len > 0;
}

/* The decimal number at s, after any blanks; 0 if there is none or it would
 * overflow. */
static size_t posix_parse_size(const char *s) {
  while (*s == ' ' || *s == '\t') ++s;
  size_t v = 0;
  for (; *s >= '0' && *s <= '9'; ++s) {
    size_t digit = (size_t)(*s - '0');
    if (v > ((size_t)-1 - digit) / 10) return 0;
    v = v * 10 + digit;
  }
  return v;
}

static size_t posix_cache_line(void) {
#ifdef _SC_LEVEL1_DCACHE_LINESIZE /* glibc's extension; 0 inside some VMs */
  long v = sysconf(_SC_LEVEL1_DCACHE_LINESIZE);
  if (v > 0) return (size_t)v;
#endif
  char buf[32];
  if (posix_read_file("/sys/devices/system/cpu/cpu0/cache/index0/coherency_line_size", buf,
                      sizeof buf)) {
    return posix_parse_size(buf);
  }
  return 0;
}

static size_t posix_huge_page_size(void) {
  /* The transparent huge page size is what an aligned reservation gets without
   * configuration; the hugetlbfs default size is the next best guess. */
  char buf[8192];
  if (posix_read_file("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", buf, sizeof buf)) {
    size_t v = posix_parse_size(buf);
    if (v != 0) return v;
  }
  if (posix_read_file("/proc/meminfo", buf, sizeof buf)) {
    const char *line = strstr(buf, "Hugepagesize:");
    if (line != NULL) {
      size_t kib = posix_parse_size(line + sizeof "Hugepagesize:" - 1);
      if (kib <= (size_t)-1 / 1024) return kib * 1024;
    }
  }
  return 0;
}

static bool posix_overcommit(void) {
  /* Linux's policy 2 ("never overcommit") charges every committed page against
   * a limit whether touched or not; every other policy, and the BSDs and macOS,
   * back pages only when touched. */
  char buf[16];
  if (posix_read_file("/proc/sys/vm/overcommit_memory", buf, sizeof buf)) {
    return posix_parse_size(buf) != 2;
  }
  return true;
}

void ta_os_sysinfo_query(ta_sysinfo_t *info) {
  long page = sysconf(_SC_PAGESIZE);
  info->page_size = page > 0 ? (size_t)page : 0;
  /* mmap places mappings on any page boundary. */
  info->alloc_granularity = info->page_size;
  info->cache_line = posix_cache_line();
  info->huge_page_size = posix_huge_page_size();
  info->overcommit = posix_overcommit();
}
