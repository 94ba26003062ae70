// ta_sysinfo(): the same sane facts for every thread, whichever asked first.
#include "tinyalloc/sysinfo.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <thread>
#include <vector>

namespace {

bool IsPowerOfTwo(size_t v) { return v != 0 && (v & (v - 1)) == 0; }

// First in this file, so that in its own binary the threads race to fill the facts.
TEST(Sysinfo, EveryThreadSeesTheSameFacts) {
  constexpr int kThreads = 8;
  std::vector<const ta_sysinfo_t *> seen(kThreads);
  std::vector<size_t> pages(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      seen[i] = ta_sysinfo();
      pages[i] = seen[i]->page_size;
    });
  }
  for (auto &t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(seen[i], ta_sysinfo());
    EXPECT_EQ(pages[i], ta_sysinfo()->page_size);
  }
}

TEST(Sysinfo, SizesArePowersOfTwo) {
  const ta_sysinfo_t *info = ta_sysinfo();
  ASSERT_NE(info, nullptr);
  EXPECT_TRUE(IsPowerOfTwo(info->page_size)) << info->page_size;
  EXPECT_TRUE(IsPowerOfTwo(info->alloc_granularity)) << info->alloc_granularity;
  EXPECT_TRUE(IsPowerOfTwo(info->cache_line)) << info->cache_line;
}

TEST(Sysinfo, SizesAreSane) {
  const ta_sysinfo_t *info = ta_sysinfo();
  // Every OS tinyalloc targets has pages of at least 4 KiB.
  EXPECT_GE(info->page_size, 4096u);
  EXPECT_GE(info->alloc_granularity, info->page_size);
  EXPECT_GE(info->cache_line, 16u);
  EXPECT_LE(info->cache_line, 1024u);
}

TEST(Sysinfo, MatchesTheOs) {
  const ta_sysinfo_t *info = ta_sysinfo();
#ifdef _WIN32
  // Windows reserves address space in 64 KiB units on every machine.
  EXPECT_EQ(info->alloc_granularity, 65536u);
#else
  EXPECT_EQ(info->alloc_granularity, info->page_size);
#endif
}

// Shows what the OS (or Wine) reported, in the log and in the XML report.
TEST(Sysinfo, PrintsTheFacts) {
  const ta_sysinfo_t *info = ta_sysinfo();
  std::printf("sysinfo: page_size=%zu alloc_granularity=%zu cache_line=%zu\n", info->page_size,
              info->alloc_granularity, info->cache_line);
  RecordProperty("page_size", static_cast<int>(info->page_size));
  RecordProperty("alloc_granularity", static_cast<int>(info->alloc_granularity));
  RecordProperty("cache_line", static_cast<int>(info->cache_line));
}

}  // namespace
