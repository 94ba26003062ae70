// Statistics and introspection: process-wide figures that follow what is
// allocated and given back, per-class live counts, the walk over live
// blocks, ta_heap_contains, the report and TINYALLOC_SHOW_STATS.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "tinyalloc/tinyalloc.h"

#ifdef __linux__
#include <unistd.h>
#endif

namespace {

constexpr size_t kMiB = (size_t)1 << 20;

ta_layout_t Layout(size_t size) {
  ta_layout_t layout;
  EXPECT_EQ(ta_layout_make(size, 8, &layout), TA_OK);
  return layout;
}

ta_stats_t Stats() {
  ta_stats_t s;
  EXPECT_EQ(ta_stats_get(&s), TA_OK);
  return s;
}

TEST(Stats, ProcessFiguresFollowWhatHeapsHold) {
  ta_trim();
  ta_stats_t before = Stats();
  ta_heap_t *heap = ta_heap_new();
  ASSERT_NE(heap, nullptr);
  void *huge = ta_heap_alloc(heap, Layout(40 * kMiB));  // mapped on its own
  void *small = ta_heap_alloc(heap, Layout(64));
  ASSERT_NE(huge, nullptr);
  ASSERT_NE(small, nullptr);
  ta_stats_t during = Stats();
  EXPECT_GE(during.reserved_bytes, before.reserved_bytes + 40 * kMiB);
  EXPECT_GE(during.committed_bytes, before.committed_bytes + 40 * kMiB);
  EXPECT_GE(during.peak_committed_bytes, during.committed_bytes);
  EXPECT_EQ(during.huge_segments, before.huge_segments + 1);
  EXPECT_EQ(during.small_segments, before.small_segments + 1);
  EXPECT_GE(during.segment_bytes, before.segment_bytes + 44 * kMiB);
  ta_heap_free(heap, huge, Layout(40 * kMiB));
  ta_heap_free(heap, small, Layout(64));
  ta_heap_destroy(heap);
  ta_trim();
  ta_stats_t after = Stats();
  EXPECT_EQ(after.reserved_bytes, 0u);
  EXPECT_EQ(after.committed_bytes, 0u);
  EXPECT_EQ(after.segment_bytes, 0u);
  EXPECT_EQ(after.small_segments + after.huge_segments, 0u);
  EXPECT_GE(after.purged_bytes, before.purged_bytes + 4 * kMiB);  // the small segment's slot
  EXPECT_EQ(ta_stats_get(nullptr), TA_ERR_INVALID_ARGUMENT);
}

class HeapStatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    heap_ = ta_heap_new();
    other_ = ta_heap_new();
    ASSERT_NE(heap_, nullptr);
    ASSERT_NE(other_, nullptr);
  }
  void TearDown() override {
    ta_heap_destroy(other_);
    ta_heap_destroy(heap_);
    ta_trim();
  }
  ta_heap_t *heap_ = nullptr;
  ta_heap_t *other_ = nullptr;
};

// 100 blocks of 16 B, 50 of 1000 B and 2 huge ones; then a third of each
// small kind freed locally and a third through the other heap.
struct Mix {
  std::vector<void *> live;
  std::vector<void *> freed;  // some were handed out again: also in live
};

Mix MakeMix(ta_heap_t *heap, ta_heap_t *other) {
  Mix mix;
  for (size_t size : {(size_t)16, (size_t)1000}) {
    int n = size == 16 ? 99 : 51;
    for (int i = 0; i < n; i++) {
      void *p = ta_heap_alloc(heap, Layout(size));
      EXPECT_NE(p, nullptr);
      if (i % 3 == 0) {
        ta_heap_free(heap, p, Layout(size));
        mix.freed.push_back(p);
      } else if (i % 3 == 1) {
        ta_heap_free(other, p, Layout(size));
        mix.freed.push_back(p);
      } else {
        mix.live.push_back(p);
      }
    }
  }
  for (size_t size : {2 * kMiB, 9 * kMiB}) mix.live.push_back(ta_heap_alloc(heap, Layout(size)));
  return mix;
}

TEST_F(HeapStatsTest, CountsLiveBlocksPerClass) {
  Mix mix = MakeMix(heap_, other_);
  ta_heap_stats_t s;
  ASSERT_EQ(ta_heap_stats(heap_, &s), TA_OK);
  size_t small = 0;
  for (const ta_class_stats_t &c : s.classes) {
    if (c.block_size == 16) {
      EXPECT_EQ(c.live_blocks, 33u);
      EXPECT_EQ(c.pages, 1u);
    } else if (c.live_blocks != 0) {
      EXPECT_GE(c.block_size, 1000u);
      EXPECT_EQ(c.live_blocks, 17u);
    }
    small += c.live_blocks;
  }
  EXPECT_EQ(small, 50u);
  EXPECT_EQ(s.huge_blocks, 2u);
  EXPECT_GE(s.huge_bytes, 11 * kMiB);
  EXPECT_EQ(s.live_blocks, 52u);
  EXPECT_EQ(ta_heap_stats(nullptr, &s), TA_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ta_heap_stats(heap_, nullptr), TA_ERR_INVALID_ARGUMENT);
}

// A small block aligned to 4 MiB or more is a huge block whose header sits in
// the chunk below it: the block's own chunk holds the program's bytes, which
// statistics must not read as a segment header.
TEST_F(HeapStatsTest, CountsHugeBlocksWhoseHeaderIsInTheChunkBelow) {
  ta_layout_t layout;
  ASSERT_EQ(ta_layout_make(100, (size_t)4 << 20, &layout), TA_OK);
  void *p = ta_heap_alloc(heap_, layout);
  ASSERT_NE(p, nullptr);
  std::memset(p, 0xff, 100);  // what a header read would find: class 255
  ta_heap_stats_t s;
  ASSERT_EQ(ta_heap_stats(heap_, &s), TA_OK);
  EXPECT_EQ(s.huge_blocks, 1u);
  EXPECT_EQ(s.live_blocks, 1u);
  size_t small = 0;
  for (const ta_class_stats_t &c : s.classes) small += c.live_blocks;
  EXPECT_EQ(small, 0u);
  ta_heap_free(heap_, p, layout);
}

bool Collect(const ta_heap_t *, void *block, size_t usable, void *arg) {
  auto *seen = static_cast<std::set<void *> *>(arg);
  EXPECT_GE(usable, 16u);
  seen->insert(block);
  return true;
}

bool StopAtThree(const ta_heap_t *, void *, size_t, void *arg) {
  return ++*static_cast<int *>(arg) < 3;
}

TEST_F(HeapStatsTest, VisitsExactlyTheLiveBlocks) {
  Mix mix = MakeMix(heap_, other_);
  std::set<void *> seen;
  ASSERT_EQ(ta_heap_visit_blocks(heap_, Collect, &seen), TA_OK);
  EXPECT_EQ(seen, std::set<void *>(mix.live.begin(), mix.live.end()));
  int calls = 0;
  ASSERT_EQ(ta_heap_visit_blocks(heap_, StopAtThree, &calls), TA_OK);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(ta_heap_visit_blocks(heap_, nullptr, nullptr), TA_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ta_heap_visit_blocks(nullptr, Collect, &seen), TA_ERR_INVALID_ARGUMENT);
}

TEST_F(HeapStatsTest, ContainsOnlyItsOwnLiveBlocks) {
  Mix mix = MakeMix(heap_, other_);
  for (void *p : mix.live) {
    size_t usable = ta_usable_size(p);
    char *c = static_cast<char *>(p);
    EXPECT_TRUE(ta_heap_contains(heap_, c));
    EXPECT_TRUE(ta_heap_contains(heap_, c + usable / 2));
    EXPECT_TRUE(ta_heap_contains(heap_, c + usable - 1));
    EXPECT_FALSE(ta_heap_contains(other_, c));
  }
  std::set<void *> live(mix.live.begin(), mix.live.end());
  size_t checked = 0;
  for (void *p : mix.freed) {
    if (live.count(p) != 0) continue;  // handed out again later
    EXPECT_FALSE(ta_heap_contains(heap_, p)) << p;
    checked++;
  }
  EXPECT_GE(checked, 50u);
  int local = 0;
  EXPECT_FALSE(ta_heap_contains(heap_, &local));
  EXPECT_FALSE(ta_heap_contains(heap_, nullptr));
  EXPECT_FALSE(ta_heap_contains(nullptr, mix.live[0]));
}

void Append(const char *line, void *arg) { static_cast<std::string *>(arg)->append(line); }

TEST_F(HeapStatsTest, PrintsTheProcessAndTheHeap) {
  Mix mix = MakeMix(heap_, other_);
  std::string report;
  ta_stats_print(heap_, Append, &report);
  EXPECT_NE(report.find("tinyalloc: reserved "), std::string::npos) << report;
  EXPECT_NE(report.find("52 live blocks"), std::string::npos) << report;
  EXPECT_NE(report.find("(     16 B): 33 live blocks in 1 pages"), std::string::npos) << report;
  EXPECT_NE(report.find("huge: 2 blocks"), std::string::npos) << report;
}

#ifdef __linux__  // re-runs itself, found through /proc/self/exe
// The child (this test, run again with TA_STATS_AT_EXIT_CHILD set) takes
// TINYALLOC_SHOW_STATS from its environment, allocates and exits; the report
// must be on its stderr. A fresh process rather than a fork of this
// multi-threaded one.
TEST(StatsAtExit, ShowStatsPrintsTheReportAtExit) {
  if (std::getenv("TA_STATS_AT_EXIT_CHILD") != nullptr) {
    ta_heap_t *heap = ta_heap_new();
    (void)ta_heap_alloc(heap, Layout(100));
    std::exit(0);
  }
  char self[4096];
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  ASSERT_GT(len, 0);
  self[len] = '\0';
  std::string command = std::string("TA_STATS_AT_EXIT_CHILD=1 TINYALLOC_SHOW_STATS=1 '") + self +
                        "' --gtest_filter=StatsAtExit.ShowStatsPrintsTheReportAtExit 2>&1";
  FILE *child = popen(command.c_str(), "r");
  ASSERT_NE(child, nullptr);
  std::string out;
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, child)) > 0) out.append(buf, n);
  EXPECT_EQ(pclose(child), 0) << out;
  EXPECT_NE(out.find("tinyalloc: reserved "), std::string::npos) << out;
  EXPECT_NE(out.find("tinyalloc: segments held 4.0 MiB: 1 small"), std::string::npos) << out;
}
#endif

}  // namespace
