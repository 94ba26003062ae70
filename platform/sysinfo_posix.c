/* POSIX (Linux first): page size from sysconf, cache line from sysconf or
 * sysfs. */
/* -std=c11 hides POSIX 2008 and BSD names (O_CLOEXEC) unless asked for. */
#define _DEFAULT_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
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

void ta_os_sysinfo_query(ta_sysinfo_t *info) {
  long page = sysconf(_SC_PAGESIZE);
  info->page_size = page > 0 ? (size_t)page : 0;
  /* mmap places mappings on any page boundary. */
  info->alloc_granularity = info->page_size;
  info->cache_line = posix_cache_line();
}
