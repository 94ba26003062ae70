// The atomic bitmap: runs are claimed all-or-nothing, across word boundaries,
// and no bit is ever owned by two threads.
#include "alloc/bitmap.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace {

constexpr size_t kBits = 256;

struct Bitmap {
  ta_bitmap_word_t words[TA_BITMAP_WORDS(kBits)];
  Bitmap() {
    for (auto &w : words) atomic_init(&w, 0);
  }
};

TEST(Bitmap, ClaimAndReleaseOneRun) {
  Bitmap b;
  EXPECT_TRUE(ta_bitmap_try_claim(b.words, 3, 5));
  EXPECT_EQ(ta_bitmap_count(b.words, kBits), 5u);
  EXPECT_TRUE(ta_bitmap_all(b.words, 3, 5, true));
  EXPECT_FALSE(ta_bitmap_is_set(b.words, 2));
  EXPECT_FALSE(ta_bitmap_is_set(b.words, 8));
  EXPECT_TRUE(ta_bitmap_release(b.words, 3, 5));
  EXPECT_EQ(ta_bitmap_count(b.words, kBits), 0u);
}

TEST(Bitmap, OverlappingClaimFailsAndLeavesNothingBehind) {
  Bitmap b;
  ASSERT_TRUE(ta_bitmap_try_claim(b.words, 100, 1));
  // Spans words 0..1 up to bit 100: the last bit is taken, so nothing changes.
  EXPECT_FALSE(ta_bitmap_try_claim(b.words, 40, 61));
  EXPECT_EQ(ta_bitmap_count(b.words, kBits), 1u);
  EXPECT_TRUE(ta_bitmap_all(b.words, 40, 60, false));
}

TEST(Bitmap, RunsCrossWordBoundaries) {
  Bitmap b;
  EXPECT_TRUE(ta_bitmap_try_claim(b.words, 60, 136));  // words 0..3
  EXPECT_TRUE(ta_bitmap_all(b.words, 60, 136, true));
  EXPECT_EQ(ta_bitmap_count(b.words, kBits), 136u);
  EXPECT_TRUE(ta_bitmap_release(b.words, 60, 136));
  EXPECT_EQ(ta_bitmap_count(b.words, kBits), 0u);
}

TEST(Bitmap, ClaimRunFindsTheFirstGapThatFits) {
  Bitmap b;
  ASSERT_TRUE(ta_bitmap_try_claim(b.words, 0, 10));
  ASSERT_TRUE(ta_bitmap_try_claim(b.words, 12, 50));  // gap of 2 at 10..11
  size_t start = 0;
  ASSERT_TRUE(ta_bitmap_claim_run(b.words, kBits, 3, 0, &start));
  EXPECT_EQ(start, 62u);
  ASSERT_TRUE(ta_bitmap_claim_run(b.words, kBits, 2, 0, &start));
  EXPECT_EQ(start, 10u);
}

TEST(Bitmap, ClaimRunWrapsAroundFromTheHint) {
  Bitmap b;
  ASSERT_TRUE(ta_bitmap_try_claim(b.words, 100, kBits - 100));
  size_t start = 0;
  ASSERT_TRUE(ta_bitmap_claim_run(b.words, kBits, 4, 200, &start));
  EXPECT_EQ(start, 0u);
}

TEST(Bitmap, ClaimRunFailsWhenNoRunFits) {
  Bitmap b;
  for (size_t i = 0; i < kBits; i += 4) ASSERT_TRUE(ta_bitmap_try_claim(b.words, i, 1));
  size_t start = 0;
  EXPECT_FALSE(ta_bitmap_claim_run(b.words, kBits, 4, 0, &start));
  EXPECT_TRUE(ta_bitmap_claim_run(b.words, kBits, 3, 0, &start));
  EXPECT_EQ(start, 1u);
  EXPECT_FALSE(ta_bitmap_claim_run(b.words, kBits, kBits + 1, 0, &start));
}

TEST(Bitmap, ReleaseReportsBitsThatWereNotOwned) {
  Bitmap b;
  ASSERT_TRUE(ta_bitmap_try_claim(b.words, 5, 2));
  EXPECT_FALSE(ta_bitmap_release(b.words, 5, 3));
  EXPECT_EQ(ta_bitmap_count(b.words, kBits), 0u);
}

TEST(Bitmap, SetAndClearCountWhatChanged) {
  Bitmap b;
  EXPECT_EQ(ta_bitmap_set(b.words, 0, 70), 70u);
  EXPECT_EQ(ta_bitmap_set(b.words, 60, 20), 10u);
  EXPECT_EQ(ta_bitmap_clear(b.words, 50, 40), 30u);
  EXPECT_EQ(ta_bitmap_count(b.words, kBits), 50u);
}

// Many threads claim runs concurrently; each marks the bits it owns in a
// shadow array and would see another thread's mark if a bit were shared.
TEST(Bitmap, WordMasksAndTheirLowestRun) {
  EXPECT_EQ(ta_word_mask(0, 1), UINT64_C(1));
  EXPECT_EQ(ta_word_mask(3, 2), UINT64_C(0x18));
  EXPECT_EQ(ta_word_mask(0, 64), ~UINT64_C(0));
  EXPECT_EQ(ta_word_mask(63, 1), UINT64_C(1) << 63);
  unsigned first = 99;
  unsigned end = 99;
  ta_word_lowest_run(UINT64_C(0x0f70), &first, &end);  // runs 4..6 and 8..11
  EXPECT_EQ(first, 4u);
  EXPECT_EQ(end, 7u);
  ta_word_lowest_run(~UINT64_C(0), &first, &end);
  EXPECT_EQ(first, 0u);
  EXPECT_EQ(end, 64u);
  ta_word_lowest_run(~UINT64_C(0) << 60, &first, &end);
  EXPECT_EQ(first, 60u);
  EXPECT_EQ(end, 64u);
  ta_word_lowest_run(UINT64_C(1) << 63, &first, &end);
  EXPECT_EQ(first, 63u);
  EXPECT_EQ(end, 64u);
}

TEST(Bitmap, ConcurrentClaimsNeverOverlap) {
  Bitmap b;
  std::vector<std::atomic<int>> owner(kBits);
  for (auto &o : owner) o.store(-1);
  std::atomic<int> overlaps{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 2000; round++) {
        size_t n = 1 + (size_t)((round * 7 + t) % 9);
        size_t start;
        if (!ta_bitmap_claim_run(b.words, kBits, n, (size_t)(round * 13) % kBits, &start)) {
          continue;
        }
        for (size_t i = start; i < start + n; i++) {
          int expected = -1;
          if (!owner[i].compare_exchange_strong(expected, t)) overlaps++;
        }
        for (size_t i = start; i < start + n; i++) owner[i].store(-1);
        EXPECT_TRUE(ta_bitmap_release(b.words, start, n));
      }
    });
  }
  for (auto &th : threads) th.join();
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(ta_bitmap_count(b.words, kBits), 0u);
}

}  // namespace
