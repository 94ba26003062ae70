// The purge backoff (ta_purge_backoff_on_reuse): memory reused within a few
// waits of its purge doubles the next wait, up to TA_PURGE_BACKOFF_MAX;
// memory reused long after halves it again; in between it stays.
#include <gtest/gtest.h>

#include <cstdint>

#include "alloc/segment.h"

namespace {

constexpr uint64_t kDelay = 10;

TEST(PurgeBackoff, AReuseSoonAfterThePurgeDoublesTheWaitUpToTheCap) {
  uint8_t backoff = 0;
  ta_purge_backoff_on_reuse(&backoff, 0, kDelay);
  EXPECT_EQ(backoff, 1);
  ta_purge_backoff_on_reuse(&backoff, 8 * (kDelay << 1) - 1, kDelay);  // within 8 waits of 20 ms
  EXPECT_EQ(backoff, 2);
  for (int i = 0; i < 10; i++) ta_purge_backoff_on_reuse(&backoff, 1, kDelay);
  EXPECT_EQ(backoff, TA_PURGE_BACKOFF_MAX);
}

TEST(PurgeBackoff, AReuseLongAfterThePurgeHalvesTheWaitDownToTheDelay) {
  uint8_t backoff = 3;  // a wait of 80 ms
  ta_purge_backoff_on_reuse(&backoff, 64 * (kDelay << 3), kDelay);
  EXPECT_EQ(backoff, 2);
  ta_purge_backoff_on_reuse(&backoff, UINT32_MAX, kDelay);
  EXPECT_EQ(backoff, 1);
  ta_purge_backoff_on_reuse(&backoff, UINT32_MAX, kDelay);
  ta_purge_backoff_on_reuse(&backoff, UINT32_MAX, kDelay);
  EXPECT_EQ(backoff, 0);
}

TEST(PurgeBackoff, AReuseInBetweenKeepsTheWait) {
  uint8_t backoff = 2;  // a wait of 40 ms: soon is under 320 ms, long after from 2560 ms
  ta_purge_backoff_on_reuse(&backoff, 320, kDelay);
  EXPECT_EQ(backoff, 2);
  ta_purge_backoff_on_reuse(&backoff, 2559, kDelay);
  EXPECT_EQ(backoff, 2);
}

TEST(PurgeBackoff, TheWaitSaturatesRatherThanWrap) {
  EXPECT_EQ(ta_purge_wait(10, 0), 10u);
  EXPECT_EQ(ta_purge_wait(10, TA_PURGE_BACKOFF_MAX), 320u);
  const uint64_t never = static_cast<uint64_t>(INT64_MAX);  // the largest delay the option takes
  EXPECT_EQ(ta_purge_wait(never, 1), never * 2);
  EXPECT_EQ(ta_purge_wait(never, 2), UINT64_MAX);
  EXPECT_EQ(ta_purge_wait(UINT64_MAX, TA_PURGE_BACKOFF_MAX), UINT64_MAX);
  // With such a delay no reuse is long after: the wait never shrinks.
  uint8_t backoff = 2;
  ta_purge_backoff_on_reuse(&backoff, UINT64_MAX, never);
  EXPECT_EQ(backoff, 3);
}

}  // namespace
