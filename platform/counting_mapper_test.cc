// The counting mapper keeps exact books (bytes reserved, peak, bytes committed
// per page, calls) and catches every breach of the mapper contract.
#include "tinyalloc/testing/counting_mapper.h"

#include <gtest/gtest.h>

#include <cstring>
#include <thread>
#include <vector>

#include "tinyalloc/mapper.h"
#include "tinyalloc/sysinfo.h"

namespace {

size_t Page() { return ta_sysinfo()->page_size; }

class CountingMapperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cm_ = ta_counting_mapper_new(nullptr);
    ASSERT_NE(cm_, nullptr);
    ASSERT_EQ(ta_mapper_set(ta_counting_mapper_table(cm_)), TA_OK);
  }
  void TearDown() override {
    EXPECT_TRUE(ta_counting_mapper_all_released(cm_));
    EXPECT_EQ(ta_mapper_set(nullptr), TA_OK);
    ta_counting_mapper_free(cm_);
  }
  ta_counting_stats_t Stats() { return ta_counting_mapper_stats(cm_); }

  ta_counting_mapper_t *cm_ = nullptr;
};

TEST_F(CountingMapperTest, BooksFollowEveryCall) {
  unsigned char *a = nullptr;
  unsigned char *b = nullptr;
  ASSERT_EQ(ta_os_reserve(8 * Page(), 1, reinterpret_cast<void **>(&a)), TA_OK);
  ASSERT_EQ(ta_os_reserve(4 * Page(), 1, reinterpret_cast<void **>(&b)), TA_OK);
  EXPECT_EQ(Stats().live_reservations, 2u);
  EXPECT_EQ(Stats().reserved_bytes, 12 * Page());

  ASSERT_EQ(ta_os_commit(a, 4 * Page()), TA_OK);
  std::memset(a, 1, 4 * Page());  // the commit really reached the OS
  EXPECT_EQ(Stats().committed_bytes, 4 * Page());
  // Overlapping commits count each page once.
  ASSERT_EQ(ta_os_commit(a + 2 * Page(), 4 * Page()), TA_OK);
  EXPECT_EQ(Stats().committed_bytes, 6 * Page());
  ASSERT_EQ(ta_os_commit(b, 4 * Page()), TA_OK);
  EXPECT_EQ(Stats().committed_bytes, 10 * Page());

  ASSERT_EQ(ta_os_decommit(a + Page(), 2 * Page()), TA_OK);
  EXPECT_EQ(Stats().committed_bytes, 8 * Page());
  // Decommitting pages that are not committed takes nothing off.
  ASSERT_EQ(ta_os_decommit(a + Page(), 2 * Page()), TA_OK);
  EXPECT_EQ(Stats().committed_bytes, 8 * Page());

  ASSERT_EQ(ta_os_protect(a, Page(), false), TA_OK);
  ASSERT_EQ(ta_os_protect(a, Page(), true), TA_OK);

  EXPECT_FALSE(ta_counting_mapper_all_released(cm_));
  // Release drops the reservation's committed pages with it.
  ASSERT_EQ(ta_os_release(a, 8 * Page()), TA_OK);
  EXPECT_EQ(Stats().committed_bytes, 4 * Page());
  EXPECT_EQ(Stats().reserved_bytes, 4 * Page());
  ASSERT_EQ(ta_os_release(b, 4 * Page()), TA_OK);

  ta_counting_stats_t s = Stats();
  EXPECT_EQ(s.live_reservations, 0u);
  EXPECT_EQ(s.reserved_bytes, 0u);
  EXPECT_EQ(s.committed_bytes, 0u);
  EXPECT_EQ(s.peak_reserved_bytes, 12 * Page());
  EXPECT_EQ(s.calls[TA_MAPPER_RESERVE], 2u);
  EXPECT_EQ(s.calls[TA_MAPPER_COMMIT], 3u);
  EXPECT_EQ(s.calls[TA_MAPPER_DECOMMIT], 2u);
  EXPECT_EQ(s.calls[TA_MAPPER_PROTECT], 2u);
  EXPECT_EQ(s.calls[TA_MAPPER_RELEASE], 2u);
  EXPECT_EQ(s.violations, 0u);
}

// Purged pages stay committed and are counted apart until committed,
// decommitted or released.
TEST_F(CountingMapperTest, PurgedPagesAreCountedApart) {
  const ta_mapper_t *m = ta_counting_mapper_table(cm_);
  if (ta_mapper_default()->purge == nullptr) {
    EXPECT_EQ(m->purge, nullptr) << "it purges only where its base can";
    return;
  }
  ASSERT_NE(m->purge, nullptr);
  unsigned char *a = nullptr;
  ASSERT_EQ(ta_os_reserve(8 * Page(), 1, reinterpret_cast<void **>(&a)), TA_OK);
  ASSERT_EQ(ta_os_commit(a, 6 * Page()), TA_OK);
  std::memset(a, 1, 6 * Page());
  ASSERT_EQ(ta_os_purge(a, 4 * Page()), TA_OK);
  ASSERT_EQ(ta_os_purge(a + Page(), 2 * Page()), TA_OK);  // purged twice: counted once
  EXPECT_EQ(Stats().committed_bytes, 6 * Page());
  EXPECT_EQ(Stats().purged_bytes, 4 * Page());
  a[0] = 2;  // usable as it is
  ASSERT_EQ(ta_os_commit(a, Page()), TA_OK);
  EXPECT_EQ(Stats().purged_bytes, 3 * Page());
  ASSERT_EQ(ta_os_decommit(a + Page(), Page()), TA_OK);
  EXPECT_EQ(Stats().purged_bytes, 2 * Page());
  EXPECT_EQ(Stats().committed_bytes, 5 * Page());
  // Pages not committed cannot be purged.
  EXPECT_EQ(ta_os_purge(a + 5 * Page(), 2 * Page()), TA_ERR_PLATFORM);
  EXPECT_EQ(Stats().violations, 1u);
  EXPECT_EQ(Stats().calls[TA_MAPPER_PURGE], 3u);
  ASSERT_EQ(ta_os_release(a, 8 * Page()), TA_OK);
  EXPECT_EQ(Stats().purged_bytes, 0u);
  EXPECT_EQ(Stats().committed_bytes, 0u);
}

TEST_F(CountingMapperTest, PeakIsTheHighestPoint) {
  void *a = nullptr;
  void *b = nullptr;
  ASSERT_EQ(ta_os_reserve(2 * Page(), 1, &a), TA_OK);
  ASSERT_EQ(ta_os_reserve(3 * Page(), 1, &b), TA_OK);
  ASSERT_EQ(ta_os_release(a, 2 * Page()), TA_OK);
  ASSERT_EQ(ta_os_reserve(Page(), 1, &a), TA_OK);
  EXPECT_EQ(Stats().reserved_bytes, 4 * Page());
  EXPECT_EQ(Stats().peak_reserved_bytes, 5 * Page());
  ASSERT_EQ(ta_os_release(a, Page()), TA_OK);
  ASSERT_EQ(ta_os_release(b, 3 * Page()), TA_OK);
}

TEST_F(CountingMapperTest, RefusesAndCountsContractBreaches) {
  unsigned char *a = nullptr;
  ASSERT_EQ(ta_os_reserve(4 * Page(), 1, reinterpret_cast<void **>(&a)), TA_OK);
  ASSERT_EQ(ta_os_commit(a, 2 * Page()), TA_OK);
  size_t breaches = 0;

  // Release of part of a reservation, or of its tail.
  EXPECT_EQ(ta_os_release(a, 2 * Page()), TA_ERR_PLATFORM);
  EXPECT_EQ(Stats().violations, ++breaches);
  EXPECT_EQ(ta_os_release(a + Page(), 3 * Page()), TA_ERR_PLATFORM);
  EXPECT_EQ(Stats().violations, ++breaches);
  // Ranges running past the reservation's end.
  EXPECT_EQ(ta_os_commit(a + 2 * Page(), 4 * Page()), TA_ERR_PLATFORM);
  EXPECT_EQ(Stats().violations, ++breaches);
  EXPECT_EQ(ta_os_decommit(a, 5 * Page()), TA_ERR_PLATFORM);
  EXPECT_EQ(Stats().violations, ++breaches);
  // Protect of pages never committed.
  EXPECT_EQ(ta_os_protect(a + Page(), 2 * Page(), true), TA_ERR_PLATFORM);
  EXPECT_EQ(Stats().violations, ++breaches);

  // Straight to the table, past the wrappers' checks.
  const ta_mapper_t *m = ta_counting_mapper_table(cm_);
  void *p = nullptr;
  EXPECT_NE(m->reserve(m->ctx, 0, 1, &p), 0);
  EXPECT_EQ(Stats().violations, ++breaches);
  EXPECT_NE(m->commit(m->ctx, a + 1, Page()), 0);
  EXPECT_EQ(Stats().violations, ++breaches);
  EXPECT_NE(m->decommit(m->ctx, a, Page() - 1), 0);
  EXPECT_EQ(Stats().violations, ++breaches);
  // An address nobody reserved: this test's own code.
  unsigned char local = 0;
  uintptr_t page = reinterpret_cast<uintptr_t>(&local) & ~(uintptr_t{Page()} - 1);
  EXPECT_NE(m->release(m->ctx, reinterpret_cast<void *>(page), Page()), 0);
  EXPECT_EQ(Stats().violations, ++breaches);

  // Refused calls changed nothing: the committed pages still hold data and
  // the books still show them.
  a[0] = 9;
  EXPECT_EQ(Stats().committed_bytes, 2 * Page());
  EXPECT_EQ(Stats().live_reservations, 1u);
  ASSERT_EQ(ta_os_release(a, 4 * Page()), TA_OK);
}

TEST_F(CountingMapperTest, ExactUnderConcurrentCalls) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 100;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([] {
      for (int i = 0; i < kRounds; ++i) {
        size_t size = Page() * static_cast<size_t>(1 + i % 4);
        unsigned char *p = nullptr;
        ASSERT_EQ(ta_os_reserve(size, 1, reinterpret_cast<void **>(&p)), TA_OK);
        ASSERT_EQ(ta_os_commit(p, size), TA_OK);
        p[size - 1] = 1;
        ASSERT_EQ(ta_os_decommit(p, Page()), TA_OK);
        ASSERT_EQ(ta_os_release(p, size), TA_OK);
      }
    });
  }
  for (auto &th : threads) th.join();
  ta_counting_stats_t s = Stats();
  for (ta_mapper_op_t op : {TA_MAPPER_RESERVE, TA_MAPPER_COMMIT, TA_MAPPER_DECOMMIT,
                            TA_MAPPER_RELEASE}) {
    EXPECT_EQ(s.calls[op], size_t{kThreads * kRounds}) << op;
  }
  EXPECT_EQ(s.violations, 0u);
  EXPECT_GE(s.peak_reserved_bytes, Page());
  EXPECT_LE(s.peak_reserved_bytes, kThreads * 4 * Page());
}

}  // namespace
