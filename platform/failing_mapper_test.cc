// The failing mapper fails exactly the calls its rule picks, with the OS's
// out-of-memory code, and passes the rest through, from any number of threads.
#include "tinyalloc/testing/failing_mapper.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "platform/os_error.h"
#include "tinyalloc/mapper.h"
#include "tinyalloc/sysinfo.h"
#include "tinyalloc/testing/counting_mapper.h"

namespace {

size_t Page() { return ta_sysinfo()->page_size; }

class FailingMapperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fm_ = ta_failing_mapper_new(nullptr);
    ASSERT_NE(fm_, nullptr);
    ASSERT_EQ(ta_mapper_set(ta_failing_mapper_table(fm_)), TA_OK);
  }
  void TearDown() override {
    EXPECT_EQ(ta_os_live_reservations(), 0u);
    EXPECT_EQ(ta_mapper_set(nullptr), TA_OK);
    ta_failing_mapper_free(fm_);
    ta_counting_mapper_free(cm_);
  }

  // Reserves one page through the wrappers; nullptr if that failed.
  static void *Reserve() {
    void *p = nullptr;
    ta_os_reserve(Page(), 1, &p);
    return p;
  }

  ta_failing_mapper_t *fm_ = nullptr;
  ta_counting_mapper_t *cm_ = nullptr;  // a base, for tests that want one
};

TEST_F(FailingMapperTest, PassesEverythingWithoutARule) {
  void *p = Reserve();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(ta_os_commit(p, Page()), TA_OK);
  static_cast<unsigned char *>(p)[0] = 1;
  EXPECT_EQ(ta_os_protect(p, Page(), true), TA_OK);
  // Purged where the base can: the failing mapper purges only then.
  const bool purges = ta_mapper_default()->purge != nullptr;
  EXPECT_EQ(ta_os_can_purge(), purges);
  if (purges) {
    EXPECT_EQ(ta_os_purge(p, Page()), TA_OK);
  }
  EXPECT_EQ(ta_os_decommit(p, Page()), TA_OK);
  EXPECT_EQ(ta_os_release(p, Page()), TA_OK);
  for (int op = 0; op < TA_MAPPER_OP_COUNT; ++op) {
    const size_t calls = op == TA_MAPPER_PURGE && !purges ? 0u : 1u;
    EXPECT_EQ(ta_failing_mapper_calls(fm_, static_cast<ta_mapper_op_t>(op)), calls) << op;
    EXPECT_EQ(ta_failing_mapper_failures(fm_, static_cast<ta_mapper_op_t>(op)), 0u) << op;
  }
}

TEST_F(FailingMapperTest, FailsTheNthCallOfAKindOnly) {
  void *p = Reserve();
  ASSERT_NE(p, nullptr);
  ta_failing_mapper_fail_nth(fm_, TA_MAPPER_COMMIT, 2);
  EXPECT_EQ(ta_os_commit(p, Page()), TA_OK);
  EXPECT_EQ(ta_os_commit(p, Page()), TA_ERR_OUT_OF_MEMORY);
  EXPECT_EQ(ta_last_os_error(), ta_os_error_oom_code());
  EXPECT_EQ(ta_os_commit(p, Page()), TA_OK);
  EXPECT_EQ(ta_os_decommit(p, Page()), TA_OK) << "another kind failed";
  EXPECT_EQ(ta_failing_mapper_calls(fm_, TA_MAPPER_COMMIT), 3u);
  EXPECT_EQ(ta_failing_mapper_failures(fm_, TA_MAPPER_COMMIT), 1u);
  EXPECT_EQ(ta_os_release(p, Page()), TA_OK);
}

TEST_F(FailingMapperTest, FailsEveryCallOfAKindFromTheNth) {
  ta_failing_mapper_fail_from(fm_, TA_MAPPER_RESERVE, 2);
  void *first = Reserve();
  ASSERT_NE(first, nullptr);
  for (int i = 0; i < 3; ++i) {
    void *p = &p;
    EXPECT_EQ(ta_os_reserve(Page(), 1, &p), TA_ERR_OUT_OF_MEMORY);
    EXPECT_EQ(p, nullptr) << "a failed reserve must leave *out NULL";
  }
  EXPECT_EQ(ta_os_live_reservations(), 1u) << "failed reserves were counted";
  EXPECT_EQ(ta_failing_mapper_failures(fm_, TA_MAPPER_RESERVE), 3u);
  EXPECT_EQ(ta_os_release(first, Page()), TA_OK);
}

TEST_F(FailingMapperTest, FailedReleaseKeepsTheReservation) {
  void *p = Reserve();
  ASSERT_NE(p, nullptr);
  ta_failing_mapper_fail_nth(fm_, TA_MAPPER_RELEASE, 1);
  EXPECT_EQ(ta_os_release(p, Page()), TA_ERR_OUT_OF_MEMORY);
  EXPECT_EQ(ta_os_live_reservations(), 1u);
  EXPECT_EQ(ta_mapper_set(nullptr), TA_ERR_IN_USE);
  EXPECT_EQ(ta_os_release(p, Page()), TA_OK);
}

TEST_F(FailingMapperTest, FollowsAScriptOfAllCalls) {
  // reserve, commit (fails), commit, decommit (fails), decommit, release.
  static const unsigned char kScript[] = {0, 1, 0, 1};
  ta_failing_mapper_fail_script(fm_, kScript, sizeof kScript);
  void *p = Reserve();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(ta_os_commit(p, Page()), TA_ERR_OUT_OF_MEMORY);
  EXPECT_EQ(ta_os_commit(p, Page()), TA_OK);
  EXPECT_EQ(ta_os_decommit(p, Page()), TA_ERR_OUT_OF_MEMORY);
  EXPECT_EQ(ta_os_decommit(p, Page()), TA_OK);
  EXPECT_EQ(ta_os_release(p, Page()), TA_OK) << "past the script's end calls pass";
  EXPECT_EQ(ta_failing_mapper_failures(fm_, TA_MAPPER_COMMIT), 1u);
  EXPECT_EQ(ta_failing_mapper_failures(fm_, TA_MAPPER_DECOMMIT), 1u);
}

// Fails every third reserve.
bool EveryThirdReserve(void *arg, ta_mapper_op_t op, size_t op_call, size_t call) {
  (void)call;
  ++*static_cast<std::atomic<int> *>(arg);
  return op == TA_MAPPER_RESERVE && op_call % 3 == 0;
}

TEST_F(FailingMapperTest, AsksADeciderAboutEveryCall) {
  std::atomic<int> asked{0};
  ta_failing_mapper_fail_with(fm_, EveryThirdReserve, &asked);
  for (int i = 1; i <= 6; ++i) {
    void *p = Reserve();
    EXPECT_EQ(p == nullptr, i % 3 == 0) << "reserve " << i;
    if (p != nullptr) {
      EXPECT_EQ(ta_os_release(p, Page()), TA_OK);
    }
  }
  EXPECT_EQ(asked.load(), 6 + 4);
  EXPECT_EQ(ta_failing_mapper_failures(fm_, TA_MAPPER_RESERVE), 2u);
}

TEST_F(FailingMapperTest, CountsExactlyUnderConcurrentCalls) {
  std::atomic<int> asked{0};
  ta_failing_mapper_fail_with(fm_, EveryThirdReserve, &asked);
  constexpr int kThreads = 4;
  constexpr int kRounds = 150;
  std::atomic<int> reserved{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&reserved] {
      for (int i = 0; i < kRounds; ++i) {
        void *p = Reserve();
        if (p == nullptr) continue;
        ++reserved;
        EXPECT_EQ(ta_os_release(p, Page()), TA_OK);
      }
    });
  }
  for (auto &th : threads) th.join();
  // Every third number is failed, whichever thread drew it.
  EXPECT_EQ(ta_failing_mapper_calls(fm_, TA_MAPPER_RESERVE), size_t{kThreads * kRounds});
  EXPECT_EQ(ta_failing_mapper_failures(fm_, TA_MAPPER_RESERVE), size_t{kThreads * kRounds / 3});
  EXPECT_EQ(reserved.load(), kThreads * kRounds - kThreads * kRounds / 3);
}

TEST_F(FailingMapperTest, FailedCallsNeverReachTheBase) {
  // Rebuild the fixture's mapper over a counting one.
  ASSERT_EQ(ta_mapper_set(nullptr), TA_OK);
  ta_failing_mapper_free(fm_);
  cm_ = ta_counting_mapper_new(nullptr);
  ASSERT_NE(cm_, nullptr);
  fm_ = ta_failing_mapper_new(ta_counting_mapper_table(cm_));
  ASSERT_NE(fm_, nullptr);
  ASSERT_EQ(ta_mapper_set(ta_failing_mapper_table(fm_)), TA_OK);

  ta_failing_mapper_fail_nth(fm_, TA_MAPPER_COMMIT, 1);
  void *p = Reserve();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(ta_os_commit(p, Page()), TA_ERR_OUT_OF_MEMORY);
  EXPECT_EQ(ta_os_release(p, Page()), TA_OK);
  ta_counting_stats_t stats = ta_counting_mapper_stats(cm_);
  EXPECT_EQ(stats.calls[TA_MAPPER_RESERVE], 1u);
  EXPECT_EQ(stats.calls[TA_MAPPER_COMMIT], 0u);
  EXPECT_EQ(stats.calls[TA_MAPPER_RELEASE], 1u);
  EXPECT_TRUE(ta_counting_mapper_all_released(cm_));
}

}  // namespace
