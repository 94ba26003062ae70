// Options: the parser of the environment's values, ta_option_set/get, and
// TA_OPTION_VERBOSE's message in any build.
#include "alloc/options.h"

#include <gtest/gtest.h>

#include <string>

#include "tinyalloc/tinyalloc.h"

namespace {

TEST(Options, ParsesNumbersAndSizeSuffixes) {
  long long v = -1;
  EXPECT_TRUE(ta_options_parse("0", false, &v));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(ta_options_parse("250", false, &v));
  EXPECT_EQ(v, 250);
  EXPECT_TRUE(ta_options_parse("64M", true, &v));
  EXPECT_EQ(v, 64LL << 20);
  EXPECT_TRUE(ta_options_parse("3k", true, &v));
  EXPECT_EQ(v, 3LL << 10);
  EXPECT_TRUE(ta_options_parse("2G", true, &v));
  EXPECT_EQ(v, 2LL << 30);
}

TEST(Options, RefusesMalformedValues) {
  long long v = 7;
  for (const char *bad : {"", "-1", "12ms", "1.5", " 3", "9223372036854775808", "99999999999G",
                          "64X", "64MB", "M"}) {
    EXPECT_FALSE(ta_options_parse(bad, true, &v)) << bad;
  }
  EXPECT_FALSE(ta_options_parse("64M", false, &v));  // no suffix for a delay
  EXPECT_EQ(v, 7);  // untouched
}

TEST(Options, SetAndGetRoundTripAndRefuseBadArguments) {
  long long before = ta_option_get(TA_OPTION_PURGE_DELAY_MS);
  EXPECT_GE(before, 0);
  EXPECT_EQ(ta_option_set(TA_OPTION_PURGE_DELAY_MS, 1234), TA_OK);
  EXPECT_EQ(ta_option_get(TA_OPTION_PURGE_DELAY_MS), 1234);
  EXPECT_EQ(ta_option_set(TA_OPTION_PURGE_DELAY_MS, -5), TA_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ta_option_get(TA_OPTION_PURGE_DELAY_MS), 1234);
  EXPECT_EQ(ta_option_set(TA_OPTION_COUNT, 1), TA_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ta_option_set(static_cast<ta_option_t>(-1), 1), TA_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ta_option_get(TA_OPTION_COUNT), -1);
  EXPECT_EQ(ta_option_set(TA_OPTION_PURGE_DELAY_MS, before), TA_OK);
}

TEST(Options, VerboseReportsMisuseInAnyBuild) {
  ta_heap_t *heap = ta_heap_new();
  ASSERT_NE(heap, nullptr);
  int local = 0;
  ASSERT_EQ(ta_option_set(TA_OPTION_VERBOSE, 1), TA_OK);
  testing::internal::CaptureStderr();
  ta_heap_free(heap, &local, ta_layout_t{sizeof local, alignof(int)});
  std::string msg = testing::internal::GetCapturedStderr();
  EXPECT_EQ(msg.rfind("tinyalloc: ta_heap_free: invalid pointer", 0), 0u) << msg;
  EXPECT_NE(msg.find("(0x"), std::string::npos) << msg;
  ASSERT_EQ(ta_option_set(TA_OPTION_VERBOSE, 0), TA_OK);
  ta_heap_destroy(heap);
  ta_trim();  // leaves nothing reserved for the tests that run after it
}

}  // namespace
