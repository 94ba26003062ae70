/* Windows: page size and allocation granularity from GetSystemInfo, the L1
 * data cache line from GetLogicalProcessorInformation. */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include "platform/os_sysinfo.h"

static size_t win_cache_line(void) {
  DWORD bytes = 0;
  if (GetLogicalProcessorInformation(NULL, &bytes) || GetLastError() != ERROR_INSUFFICIENT_BUFFER ||
      bytes == 0) {
    return 0;
  }
  /* The process heap, not malloc: this runs inside the allocator, whose
   * malloc it may one day be. */
  HANDLE heap = GetProcessHeap();
  SYSTEM_LOGICAL_PROCESSOR_INFORMATION *entries = HeapAlloc(heap, 0, bytes);
  if (entries == NULL) return 0;
  size_t line = 0;
  if (GetLogicalProcessorInformation(entries, &bytes)) {
    size_t count = bytes / sizeof entries[0];
    for (size_t i = 0; i < count; ++i) {
      const CACHE_DESCRIPTOR *cache = &entries[i].Cache;
      if (entries[i].Relationship == RelationCache && cache->Level == 1 &&
          (cache->Type == CacheData || cache->Type == CacheUnified)) {
        line = cache->LineSize;
        break;
      }
    }
  }
  (void)HeapFree(heap, 0, entries);
  return line;
}

void ta_os_sysinfo_query(ta_sysinfo_t *info) {
  SYSTEM_INFO si;
  GetSystemInfo(&si);
  info->page_size = si.dwPageSize;
  info->alloc_granularity = si.dwAllocationGranularity;
  info->cache_line = win_cache_line();
}
