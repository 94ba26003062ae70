// A fixed-capacity array accepts pushes up to its capacity, then refuses.
#include "alloc/fixed_array.h"

#include <gtest/gtest.h>

namespace {

TA_FIXED_ARRAY(test_array, int, 4)

TEST(FixedArray, PushUntilFullThenRefuse) {
  test_array_t a;
  test_array_clear(&a);
  EXPECT_EQ(a.len, 0u);
  for (int i = 0; i < 4; i++) {
    EXPECT_FALSE(test_array_is_full(&a));
    EXPECT_TRUE(test_array_push(&a, i * 10));
  }
  EXPECT_TRUE(test_array_is_full(&a));
  EXPECT_FALSE(test_array_push(&a, 99));
  EXPECT_EQ(a.len, 4u);
  for (int i = 0; i < 4; i++) EXPECT_EQ(a.items[i], i * 10);
  EXPECT_EQ(test_array_capacity, 4);
}

TEST(FixedArray, ClearMakesRoomAgain) {
  test_array_t a;
  test_array_clear(&a);
  for (int i = 0; i < 4; i++) ASSERT_TRUE(test_array_push(&a, i));
  test_array_clear(&a);
  EXPECT_FALSE(test_array_is_full(&a));
  EXPECT_TRUE(test_array_push(&a, 5));
  EXPECT_EQ(a.items[0], 5);
  EXPECT_EQ(a.len, 1u);
}

}  // namespace
