// The arena: slots are segment-aligned and never handed out twice, returned
// slots are decommitted once the purge delay has passed (on a test clock) and
// never retained beyond the cap, and a trim releases it all.
#include "alloc/arena.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "alloc/segment.h"
#include "alloc/test_hook.h"
#include "tinyalloc/clock.h"
#include "tinyalloc/mapper.h"
#include "tinyalloc/testing/failing_mapper.h"
#include "tinyalloc/tinyalloc.h"

namespace {

size_t RegionCount() {
  ta_arena_stats_t stats;
  ta_arena_stats(&stats);
  return stats.regions;
}

// Forces an interleaving through the test hook: the thread named
// `holder` stops at `hold_at` until another thread reports that its take is
// waiting (TA_TEST_TAKE_WAITS), or until a timeout, which an arena that
// does not wait runs into.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  ta_test_event_t hold_at;
  std::thread::id holder;
  bool holding = false;
  bool taker_waited = false;
};
Gate *gate = nullptr;

void GateHook(ta_test_event_t event) {
  std::unique_lock<std::mutex> lock(gate->mu);
  if (event == TA_TEST_TAKE_WAITS) {
    gate->taker_waited = true;
    gate->cv.notify_all();
  } else if (event == gate->hold_at && std::this_thread::get_id() == gate->holder &&
             !gate->holding) {
    gate->holding = true;
    gate->cv.notify_all();
    gate->cv.wait_for(lock, std::chrono::seconds(5), [] { return gate->taker_waited; });
  }
}

// Runs `hold` on a thread that stops at `event`; once it is stopped there,
// takes one slot on this thread. Returns that slot's span.
template <typename Fn>
ta_arena_span_t TakeWhileHeld(ta_test_event_t event, Fn hold, bool *taker_waited) {
  Gate g;
  g.hold_at = event;
  gate = &g;
  ta_test_hook_set(GateHook);
  std::thread holder;
  {
    std::unique_lock<std::mutex> lock(g.mu);
    holder = std::thread(hold);
    g.holder = holder.get_id();
    g.cv.notify_all();
  }
  {
    std::unique_lock<std::mutex> lock(g.mu);
    g.cv.wait(lock, [&] { return g.holding; });
  }
  void *mem = nullptr;
  ta_arena_span_t span{};
  EXPECT_EQ(ta_arena_take(1, &mem, &span), TA_OK);
  holder.join();
  ta_test_hook_set(nullptr);
  gate = nullptr;
  *taker_waited = g.taker_waited;
  return span;
}

uint64_t clock_now = 1000;
uint64_t TestClock(void *) { return clock_now; }

// Each test runs on a test clock with the default options, and ends by
// trimming the arena: nothing may stay reserved.
class ArenaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_now = 1000;
    ta_clock_set(TestClock, nullptr);
    purge_delay_ = ta_option_get(TA_OPTION_PURGE_DELAY_MS);
    retain_bytes_ = ta_option_get(TA_OPTION_RETAIN_BYTES);
  }
  void TearDown() override {
    ta_clock_set(nullptr, nullptr);
    ta_option_set(TA_OPTION_PURGE_DELAY_MS, purge_delay_);
    ta_option_set(TA_OPTION_RETAIN_BYTES, retain_bytes_);
    ta_arena_trim();
    ta_arena_stats_t stats;
    ta_arena_stats(&stats);
    EXPECT_EQ(stats.regions, 0u);
    EXPECT_EQ(ta_os_live_reservations(), 0u);
  }

 private:
  long long purge_delay_ = 0;
  long long retain_bytes_ = 0;
};

TEST_F(ArenaTest, SlotsAreAlignedCommittedAndDistinct) {
  std::vector<std::pair<void *, ta_arena_span_t>> taken;
  std::set<uintptr_t> seen;
  for (size_t slots : {1, 1, 3, 8, 1, 2}) {
    void *mem = nullptr;
    ta_arena_span_t span;
    ASSERT_EQ(ta_arena_take(slots, &mem, &span), TA_OK);
    EXPECT_EQ((uintptr_t)mem % TA_SEGMENT_SIZE, 0u);
    EXPECT_EQ(span.slots, slots);
    for (size_t i = 0; i < slots; i++) {
      EXPECT_TRUE(seen.insert((uintptr_t)mem + i * TA_SEGMENT_SIZE).second);
    }
    // Committed: the first and last bytes are writable.
    static_cast<char *>(mem)[0] = 1;
    static_cast<char *>(mem)[slots * TA_SEGMENT_SIZE - 1] = 1;
    taken.push_back({mem, span});
  }
  ta_arena_stats_t stats;
  ta_arena_stats(&stats);
  EXPECT_EQ(stats.slots_taken, 16u);
  EXPECT_GE(stats.slots_committed, 16u);
  for (auto &t : taken) ta_arena_give(t.second, TA_GIVE_KEEP);
  ta_arena_stats(&stats);
  EXPECT_EQ(stats.slots_taken, 0u);
}

TEST_F(ArenaTest, ReturnedSlotsAreDecommittedOnceTheDelayHasPassed) {
  ASSERT_EQ(ta_option_set(TA_OPTION_PURGE_DELAY_MS, 50), TA_OK);
  const size_t n = 8;
  std::vector<ta_arena_span_t> spans(n);
  for (size_t i = 0; i < n; i++) {
    void *mem;
    ASSERT_EQ(ta_arena_take(1, &mem, &spans[i]), TA_OK);
  }
  ta_arena_stats_t stats;
  ta_arena_stats(&stats);
  EXPECT_GE(stats.slots_committed, n);
  // Half given back at t=1000, half at t=1030.
  clock_now = 1000;
  for (size_t i = 0; i < n / 2; i++) ta_arena_give(spans[i], TA_GIVE_KEEP);
  clock_now = 1030;
  for (size_t i = n / 2; i < n; i++) ta_arena_give(spans[i], TA_GIVE_KEEP);
  ta_arena_stats(&stats);
  EXPECT_EQ(stats.slots_retained, n);
  EXPECT_TRUE(ta_arena_purge_pending());

  ta_arena_purge_due(1049);  // nothing is 50 ms old yet
  ta_arena_stats(&stats);
  EXPECT_EQ(stats.slots_retained, n);
  ta_arena_purge_due(1050);  // the first half is
  ta_arena_stats(&stats);
  EXPECT_EQ(stats.slots_retained, n / 2);
  EXPECT_EQ(stats.slots_committed, n / 2);
  ta_arena_purge_due(1080);  // and the rest
  ta_arena_stats(&stats);
  EXPECT_EQ(stats.slots_retained, 0u);
  EXPECT_EQ(stats.slots_committed, 0u);
  EXPECT_FALSE(ta_arena_purge_pending());
}

TEST_F(ArenaTest, AZeroDelayDecommitsAtOnce) {
  ASSERT_EQ(ta_option_set(TA_OPTION_PURGE_DELAY_MS, 0), TA_OK);
  void *mem;
  ta_arena_span_t span;
  ASSERT_EQ(ta_arena_take(2, &mem, &span), TA_OK);
  ta_arena_give(span, TA_GIVE_KEEP);
  ta_arena_stats_t stats;
  ta_arena_stats(&stats);
  EXPECT_EQ(stats.slots_committed, 0u);
  EXPECT_EQ(stats.slots_retained, 0u);
}

TEST_F(ArenaTest, RetentionNeverExceedsTheCap) {
  ASSERT_EQ(ta_option_set(TA_OPTION_RETAIN_BYTES, 3 * (long long)TA_SEGMENT_SIZE), TA_OK);
  const size_t n = 10;
  std::vector<ta_arena_span_t> spans(n);
  for (size_t i = 0; i < n; i++) {
    void *mem;
    ASSERT_EQ(ta_arena_take(1, &mem, &spans[i]), TA_OK);
  }
  ta_arena_stats_t stats;
  for (size_t i = 0; i < n; i++) {
    ta_arena_give(spans[i], TA_GIVE_KEEP);
    ta_arena_stats(&stats);
    EXPECT_LE(stats.slots_retained, 3u) << "after " << i + 1 << " gives";
    EXPECT_LE(stats.slots_committed, 3u + (n - i - 1));  // retained + still taken
  }
  EXPECT_EQ(stats.slots_retained, 3u);
  // Taking a retained slot back uses it without a commit, and frees budget.
  void *mem;
  ta_arena_span_t span;
  ASSERT_EQ(ta_arena_take(1, &mem, &span), TA_OK);
  ta_arena_stats(&stats);
  EXPECT_EQ(stats.slots_retained, 2u);
  ta_arena_give(span, TA_GIVE_KEEP);
}

// A take whose commit fails part way, after it committed some of its slots:
// those are free again and counted retained, so the next take of them, or
// the purge, leaves the count right. They were neither counted nor taken
// before, and the next take of them made the count wrap below zero.
TEST_F(ArenaTest, ACommitThatFailsPartWayLeavesTheSlotsItCommittedRetained) {
  ta_failing_mapper_t *fm = ta_failing_mapper_new(nullptr);
  ASSERT_EQ(ta_mapper_set(ta_failing_mapper_table(fm)), TA_OK);
  // Slots 0, 1 and 2 of a region: 1 retained, 0 and 2 decommitted.
  void *mem;
  ta_arena_span_t spans[3];
  for (auto &span : spans) ASSERT_EQ(ta_arena_take(1, &mem, &span), TA_OK);
  ASSERT_EQ(spans[1].region, spans[0].region);
  ASSERT_EQ(spans[2].region, spans[0].region);
  ASSERT_EQ(spans[1].slot, spans[0].slot + 1);
  ASSERT_EQ(spans[2].slot, spans[0].slot + 2);
  ta_arena_give(spans[0], TA_GIVE_PARTLY_DECOMMITTED);
  ta_arena_give(spans[2], TA_GIVE_PARTLY_DECOMMITTED);
  ta_arena_give(spans[1], TA_GIVE_KEEP);
  ta_arena_stats_t stats;
  ta_arena_stats(&stats);
  ASSERT_EQ(stats.slots_retained, 1u);
  // Three slots: slot 0 is committed, slot 2's commit fails.
  ta_failing_mapper_fail_nth(fm, TA_MAPPER_COMMIT, 2);  // counted from here
  ta_arena_span_t span;
  EXPECT_EQ(ta_arena_take(3, &mem, &span), TA_ERR_OUT_OF_MEMORY);
  ta_arena_stats(&stats);
  EXPECT_EQ(stats.slots_taken, 0u);
  EXPECT_EQ(stats.slots_retained, 2u);
  EXPECT_EQ(stats.slots_committed, 2u);
  // Now all three: the two retained ones leave the count.
  ASSERT_EQ(ta_arena_take(3, &mem, &span), TA_OK);
  EXPECT_EQ(span.slot, spans[0].slot);
  ta_arena_stats(&stats);
  EXPECT_EQ(stats.slots_retained, 0u);
  EXPECT_EQ(stats.slots_committed, 3u);
  ta_arena_give(span, TA_GIVE_KEEP);
  ta_arena_stats(&stats);
  EXPECT_EQ(stats.slots_retained, 3u);
  ta_arena_trim();
  ta_arena_stats(&stats);
  EXPECT_EQ(stats.slots_retained, 0u);
  ASSERT_EQ(ta_mapper_set(nullptr), TA_OK);
  ta_failing_mapper_free(fm);
}

TEST_F(ArenaTest, GivingToPurgeReturnsMemoryAtOnce) {
  void *mem;
  ta_arena_span_t span;
  ASSERT_EQ(ta_arena_take(4, &mem, &span), TA_OK);
  ta_arena_stats_t before;
  ta_arena_stats(&before);
  ta_arena_give(span, TA_GIVE_PURGE);
  ta_arena_stats_t after;
  ta_arena_stats(&after);
  EXPECT_EQ(after.slots_committed + 4, before.slots_committed);
}

// Regression: a take that found the only region still being set up added a
// region of its own (threads starting together reserved all 32 regions, then
// failed with out-of-memory). Now it waits for the region and shares it.
TEST_F(ArenaTest, TakeWaitsForARegionBeingSetUp) {
  ASSERT_EQ(RegionCount(), 0u);
  ta_arena_span_t first{};
  bool waited = false;
  ta_arena_span_t second = TakeWhileHeld(
      TA_TEST_REGION_SETUP,
      [&first] {
        void *mem = nullptr;
        // The gate's holder id is set under its lock before this runs on.
        { std::lock_guard<std::mutex> lock(gate->mu); }
        EXPECT_EQ(ta_arena_take(1, &mem, &first), TA_OK);
      },
      &waited);
  EXPECT_TRUE(waited);
  EXPECT_EQ(RegionCount(), 1u);
  EXPECT_EQ(first.region, second.region);
  ta_arena_give(first, TA_GIVE_KEEP);
  ta_arena_give(second, TA_GIVE_KEEP);
}

// Regression: a take that found every free slot claimed for a moment by a
// purge added a region. Now it waits for the purge.
TEST_F(ArenaTest, TakeWaitsForAPurgeHoldingTheFreeSlots) {
  ASSERT_EQ(RegionCount(), 0u);
  // Fill the first region, then give back all but one slot (which keeps the
  // region from being released by the trim below).
  std::vector<ta_arena_span_t> spans;
  for (;;) {
    void *mem = nullptr;
    ta_arena_span_t span;
    ASSERT_EQ(ta_arena_take(1, &mem, &span), TA_OK);
    if (span.region != 0) {
      ta_arena_give(span, TA_GIVE_PURGE);
      break;
    }
    spans.push_back(span);
  }
  ta_arena_trim();  // releases the second region again
  ASSERT_EQ(RegionCount(), 1u);
  ASSERT_GT(spans.size(), 1u);
  ta_arena_span_t kept = spans.back();
  spans.pop_back();
  for (auto &span : spans) ta_arena_give(span, TA_GIVE_KEEP);
  bool waited = false;
  ta_arena_span_t taken = TakeWhileHeld(
      TA_TEST_PURGE_CLAIMED,
      [] {
        { std::lock_guard<std::mutex> lock(gate->mu); }
        ta_arena_trim();
      },
      &waited);
  EXPECT_TRUE(waited);
  EXPECT_EQ(RegionCount(), 1u);
  EXPECT_EQ(taken.region, 0);
  ta_arena_give(taken, TA_GIVE_KEEP);
  ta_arena_give(kept, TA_GIVE_KEEP);
}

// Stress on top of the two above: many threads start together, each takes a
// slot; every take succeeds and the regions stay as few as the slots need.
TEST_F(ArenaTest, ThreadsStartingTogetherShareRegions) {
  constexpr int kThreads = 64;
  for (int round = 0; round < 10; round++) {
    std::atomic<int> arrived{0};
    std::atomic<int> failures{0};
    std::vector<ta_arena_span_t> spans(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; t++) {
      threads.emplace_back([&, t] {
        arrived++;
        while (arrived.load() < kThreads) std::this_thread::yield();
        void *mem = nullptr;
        if (ta_arena_take(1, &mem, &spans[(size_t)t]) != TA_OK) failures++;
      });
    }
    for (auto &th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    // 16 + 32 + 64 slots: three regions hold 64 single slots.
    EXPECT_LE(RegionCount(), 3u);
    for (auto &span : spans) ta_arena_give(span, TA_GIVE_KEEP);
    ta_arena_trim();
  }
}

TEST_F(ArenaTest, ConcurrentTakesNeverShareASlot) {
  std::mutex mu;
  std::set<uintptr_t> owned;
  int overlaps = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      std::vector<std::pair<uintptr_t, ta_arena_span_t>> mine;
      for (int i = 0; i < 300; i++) {
        size_t slots = 1 + (size_t)((i + t) % 3);
        void *mem;
        ta_arena_span_t span;
        if (ta_arena_take(slots, &mem, &span) != TA_OK) continue;
        {
          std::lock_guard<std::mutex> lock(mu);
          for (size_t s = 0; s < slots; s++) {
            if (!owned.insert((uintptr_t)mem + s * TA_SEGMENT_SIZE).second) overlaps++;
          }
        }
        mine.push_back({(uintptr_t)mem, span});
        if (mine.size() > 4) {
          auto old = mine.front();
          mine.erase(mine.begin());
          {
            std::lock_guard<std::mutex> lock(mu);
            for (size_t s = 0; s < old.second.slots; s++) owned.erase(old.first + s * TA_SEGMENT_SIZE);
          }
          ta_arena_give(old.second, i % 2 == 0 ? TA_GIVE_PURGE : TA_GIVE_KEEP);
        }
      }
      for (auto &m : mine) {
        {
          std::lock_guard<std::mutex> lock(mu);
          for (size_t s = 0; s < m.second.slots; s++) owned.erase(m.first + s * TA_SEGMENT_SIZE);
        }
        ta_arena_give(m.second, TA_GIVE_KEEP);
      }
    });
  }
  for (auto &th : threads) th.join();
  EXPECT_EQ(overlaps, 0);
}

}  // namespace
