// The arena: slots are segment-aligned and never handed out twice, returned
// slots are decommitted after the purge delay, and a trim releases it all.
#include "alloc/arena.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "alloc/segment.h"
#include "tinyalloc/mapper.h"

namespace {

// Each test ends by trimming the arena: nothing may stay reserved.
class ArenaTest : public ::testing::Test {
 protected:
  void TearDown() override {
    ta_arena_trim();
    ta_arena_stats_t stats;
    ta_arena_stats(&stats);
    EXPECT_EQ(stats.regions, 0u);
    EXPECT_EQ(ta_os_live_reservations(), 0u);
  }
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
  for (auto &t : taken) ta_arena_give(t.second, false);
  ta_arena_stats(&stats);
  EXPECT_EQ(stats.slots_taken, 0u);
}

TEST_F(ArenaTest, ReturnedSlotsAreDecommittedAfterTheDelay) {
  const size_t n = 3 * TA_ARENA_PURGE_DELAY;
  std::vector<ta_arena_span_t> spans(n);
  for (size_t i = 0; i < n; i++) {
    void *mem;
    ASSERT_EQ(ta_arena_take(1, &mem, &spans[i]), TA_OK);
  }
  ta_arena_stats_t stats;
  ta_arena_stats(&stats);
  EXPECT_GE(stats.slots_committed, n);
  for (size_t i = 0; i < n; i++) ta_arena_give(spans[i], false);
  ta_arena_stats(&stats);
  // Slots given back more than the delay (plus one purge interval) ago are
  // decommitted; the most recent ones are kept for reuse.
  EXPECT_LE(stats.slots_committed, (size_t)TA_ARENA_PURGE_DELAY * 3 / 2);
  EXPECT_GE(stats.slots_committed, (size_t)TA_ARENA_PURGE_DELAY / 2);
}

TEST_F(ArenaTest, GivingWithDecommitNowReturnsMemoryAtOnce) {
  void *mem;
  ta_arena_span_t span;
  ASSERT_EQ(ta_arena_take(4, &mem, &span), TA_OK);
  ta_arena_stats_t before;
  ta_arena_stats(&before);
  ta_arena_give(span, true);
  ta_arena_stats_t after;
  ta_arena_stats(&after);
  EXPECT_EQ(after.slots_committed + 4, before.slots_committed);
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
          ta_arena_give(old.second, i % 2 == 0);
        }
      }
      for (auto &m : mine) {
        {
          std::lock_guard<std::mutex> lock(mu);
          for (size_t s = 0; s < m.second.slots; s++) owned.erase(m.first + s * TA_SEGMENT_SIZE);
        }
        ta_arena_give(m.second, false);
      }
    });
  }
  for (auto &th : threads) th.join();
  EXPECT_EQ(overlaps, 0);
}

}  // namespace
