// Linked into a second and third build of the heap tests: runs them with the
// geometry of another machine, an OS page of TA_TEST_PAGE_SIZE bytes (16 KiB
// as on Apple silicon, 64 KiB as on aarch64 and ppc64le 64K-page kernels), to
// which the default mapper then aligns every reservation. Installed before
// main, so before any heap asks for the page size.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "tinyalloc/sysinfo.h"
#include "tinyalloc/tinyalloc.h"

#ifndef TA_TEST_PAGE_SIZE
#error "build with -DTA_TEST_PAGE_SIZE=<bytes>"
#endif

namespace {

struct PageSizeOverride {
  PageSizeOverride() {
    ta_sysinfo_t info{};
    info.page_size = TA_TEST_PAGE_SIZE;
    info.alloc_granularity = TA_TEST_PAGE_SIZE;
    info.cache_line = 64;
    if (!ta_sysinfo_override(&info)) {
      std::fprintf(stderr, "page_size_override: the page size was asked for before main\n");
      std::abort();
    }
  }
} const page_size_override;

TEST(SimulatedPages, TheSimulatedPageSizeIsInEffect) {
  EXPECT_EQ(ta_sysinfo()->page_size, (size_t)TA_TEST_PAGE_SIZE);
  EXPECT_EQ(ta_sysinfo()->alloc_granularity, (size_t)TA_TEST_PAGE_SIZE);
  EXPECT_FALSE(ta_sysinfo_override(ta_sysinfo()));
  // Regression: with 64 KiB pages the segment header filled the first small
  // page, and the first small allocation dereferenced NULL.
  ta_heap_t *heap = ta_heap_new();
  ASSERT_NE(heap, nullptr);
  ta_layout_t layout;
  ASSERT_EQ(ta_layout_make(16, 8, &layout), TA_OK);
  void *p = ta_heap_alloc(heap, layout);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ((uintptr_t)p % 16, 0u);
  ta_heap_free(heap, p, layout);
  EXPECT_EQ(ta_heap_last_error(heap), TA_OK);
  ta_heap_destroy(heap);
}

}  // namespace
