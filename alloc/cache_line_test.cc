// The fields other threads write sit on cache lines of their own, and the
// compile-time line size covers the line the machine reports.
#include <gtest/gtest.h>

#include <cstddef>

#include "alloc/heap.h"
#include "alloc/segment.h"
#include "tinyalloc/sysinfo.h"

namespace {

TEST(CacheLine, TheCompiledLineCoversTheMachines) {
  // A larger line on this machine means remote pushes share lines with the
  // owner's fast-path fields: TA_CACHE_LINE must grow for this target.
  EXPECT_GE(static_cast<size_t>(TA_CACHE_LINE), ta_sysinfo()->cache_line);
}

TEST(CacheLine, RemoteFreesOfAPageDoNotShareTheOwnersLine) {
  EXPECT_EQ(offsetof(ta_page_t, remote_free) % TA_CACHE_LINE, 0u);
  EXPECT_GE(offsetof(ta_page_t, remote_free), offsetof(ta_page_t, free_flags) + 1);
  EXPECT_EQ(alignof(ta_page_t), static_cast<size_t>(TA_CACHE_LINE));
}

// Everything the free and allocation fast paths read or write of a page (its
// lists, block test, count and flags) is on its first line: one miss at most.
TEST(CacheLine, ThePageFieldsOfTheFastPathsShareTheFirstLine) {
  EXPECT_LE(offsetof(ta_page_t, carved_blocks) + sizeof(uint64_t),
            static_cast<size_t>(TA_CACHE_LINE));
  EXPECT_LE(offsetof(ta_page_t, block_size) + sizeof(uint64_t), static_cast<size_t>(TA_CACHE_LINE));
  EXPECT_LT(offsetof(ta_page_t, used_word), static_cast<size_t>(TA_CACHE_LINE));
  EXPECT_LT(offsetof(ta_page_t, free_flags), static_cast<size_t>(TA_CACHE_LINE));
}

TEST(CacheLine, RemoteBlocksOfAHeapDoNotShareTheFreeSecretsLine) {
  EXPECT_EQ(offsetof(ta_heap_t, remote_blocks) % TA_CACHE_LINE, 0u);
  EXPECT_GT(offsetof(ta_heap_t, remote_blocks), offsetof(ta_heap_t, free_mark_secret));
  EXPECT_EQ(alignof(ta_heap_t), static_cast<size_t>(TA_CACHE_LINE));
}

}  // namespace
