// The clock (the OS's, and a test's in its place) and the environment and
// stderr access that the allocator's options use.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "tinyalloc/clock.h"
#include "tinyalloc/os_env.h"

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#endif

namespace {

void SetEnv(const char *name, const char *value) {
#ifdef _WIN32
  ASSERT_TRUE(SetEnvironmentVariableA(name, value));
#else
  ASSERT_EQ(setenv(name, value, 1), 0);
#endif
}

TEST(Clock, TheOsClockNeverGoesBackAndAdvances) {
  uint64_t first = ta_clock_ms();
  uint64_t last = first;
  // Spin until it moves: a few ms at its coarsest (16 ms on Windows).
  for (int i = 0; i < 100000000 && last == first; i++) {
    uint64_t now = ta_clock_ms();
    ASSERT_GE(now, last);
    last = now;
  }
  EXPECT_GT(last, first);
}

uint64_t FixedClock(void *ctx) { return *static_cast<uint64_t *>(ctx); }

TEST(Clock, ATestClockReplacesTheOsClockUntilRemoved) {
  uint64_t now = 42;
  ta_clock_set(FixedClock, &now);
  EXPECT_EQ(ta_clock_ms(), 42u);
  now = 1000000;
  EXPECT_EQ(ta_clock_ms(), 1000000u);
  ta_clock_set(nullptr, nullptr);
  EXPECT_NE(ta_clock_ms(), 1000000u);
}

TEST(Env, ReadsAVariableWhenItFits) {
  SetEnv("TA_CLOCK_ENV_TEST", "12345");
  char buf[16];
  ASSERT_TRUE(ta_os_getenv("TA_CLOCK_ENV_TEST", buf, sizeof buf));
  EXPECT_STREQ(buf, "12345");
  EXPECT_FALSE(ta_os_getenv("TA_CLOCK_ENV_TEST", buf, 5));  // needs 6 bytes
  EXPECT_FALSE(ta_os_getenv("TA_CLOCK_ENV_TEST_UNSET", buf, sizeof buf));
  EXPECT_FALSE(ta_os_getenv("TA_CLOCK_ENV", buf, sizeof buf));  // a prefix is not a match
}

TEST(Env, WritesToStderr) {
  testing::internal::CaptureStderr();
  ta_os_write_stderr("to stderr\n", 10);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "to stderr\n");
}

}  // namespace
