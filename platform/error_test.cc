// Every error code has its own non-empty text, and unknown codes are handled.
#include "tinyalloc/error.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

TEST(ErrorStr, EveryCodeHasADistinctText) {
  std::set<std::string> seen;
  for (int e = TA_OK; e <= TA_ERR_INVALID_ARGUMENT; ++e) {
    const char *s = ta_error_str(static_cast<ta_error_t>(e));
    ASSERT_NE(s, nullptr);
    EXPECT_GT(std::string(s).size(), 3u);
    EXPECT_TRUE(seen.insert(s).second) << "duplicate text for " << e;
  }
}

TEST(ErrorStr, UnknownCodeIsNotNull) {
  const char *s = ta_error_str(static_cast<ta_error_t>(999));
  ASSERT_NE(s, nullptr);
  EXPECT_STREQ(s, "unknown tinyalloc error");
}
