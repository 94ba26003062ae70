// ta_mapper_set: installing a mapper, refusing to swap one that is in use,
// refusing incomplete tables.
#include "tinyalloc/mapper.h"

#include <gtest/gtest.h>

#include "tinyalloc/sysinfo.h"
#include "tinyalloc/testing/counting_mapper.h"

namespace {

size_t Page() { return ta_sysinfo()->page_size; }

class MapperSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cm_ = ta_counting_mapper_new(nullptr);
    ASSERT_NE(cm_, nullptr);
  }
  void TearDown() override {
    EXPECT_EQ(ta_mapper_set(nullptr), TA_OK);
    ta_counting_mapper_free(cm_);
  }
  ta_counting_mapper_t *cm_ = nullptr;
};

TEST_F(MapperSetTest, DefaultUntilAnotherIsInstalled) {
  EXPECT_EQ(ta_mapper_current(), ta_mapper_default());
  ASSERT_EQ(ta_mapper_set(ta_counting_mapper_table(cm_)), TA_OK);
  EXPECT_EQ(ta_mapper_current(), ta_counting_mapper_table(cm_));
  EXPECT_STREQ(ta_mapper_current()->name, "counting");
  ASSERT_EQ(ta_mapper_set(nullptr), TA_OK);
  EXPECT_EQ(ta_mapper_current(), ta_mapper_default());
}

TEST_F(MapperSetTest, RefusedWhileAReservationIsLive) {
  ASSERT_EQ(ta_mapper_set(ta_counting_mapper_table(cm_)), TA_OK);
  void *p = nullptr;
  ASSERT_EQ(ta_os_reserve(4 * Page(), 1, &p), TA_OK);
  EXPECT_EQ(ta_counting_mapper_stats(cm_).live_reservations, 1u) << "did not go through the mapper";
  EXPECT_EQ(ta_os_live_reservations(), 1u);

  EXPECT_EQ(ta_mapper_set(nullptr), TA_ERR_IN_USE);
  EXPECT_EQ(ta_mapper_current(), ta_counting_mapper_table(cm_)) << "swapped although in use";

  ASSERT_EQ(ta_os_release(p, 4 * Page()), TA_OK);
  EXPECT_TRUE(ta_counting_mapper_all_released(cm_));
  EXPECT_EQ(ta_mapper_set(nullptr), TA_OK);
  EXPECT_EQ(ta_mapper_current(), ta_mapper_default());
}

TEST_F(MapperSetTest, RefusedWhileTheDefaultHoldsAReservation) {
  void *p = nullptr;
  ASSERT_EQ(ta_os_reserve(Page(), 1, &p), TA_OK);
  EXPECT_EQ(ta_mapper_set(ta_counting_mapper_table(cm_)), TA_ERR_IN_USE);
  EXPECT_EQ(ta_mapper_current(), ta_mapper_default());
  ASSERT_EQ(ta_os_release(p, Page()), TA_OK);
  EXPECT_EQ(ta_mapper_set(ta_counting_mapper_table(cm_)), TA_OK);
}

TEST_F(MapperSetTest, RefusesATableWithAMissingFunction) {
  for (int missing = 0; missing < 5; ++missing) {
    ta_mapper_t table = *ta_mapper_default();
    switch (missing) {
      case 0: table.reserve = nullptr; break;
      case 1: table.commit = nullptr; break;
      case 2: table.decommit = nullptr; break;
      case 3: table.protect = nullptr; break;
      case 4: table.release = nullptr; break;
    }
    EXPECT_EQ(ta_mapper_set(&table), TA_ERR_INVALID_ARGUMENT) << "function " << missing;
    EXPECT_EQ(ta_mapper_current(), ta_mapper_default());
  }
}

// purge is optional: without it tinyalloc decommits.
TEST_F(MapperSetTest, AcceptsATableWithoutPurge) {
  ta_mapper_t table = *ta_mapper_default();
  table.purge = nullptr;
  ASSERT_EQ(ta_mapper_set(&table), TA_OK);
  EXPECT_FALSE(ta_os_can_purge());
  EXPECT_EQ(ta_mapper_set(nullptr), TA_OK);
  EXPECT_EQ(ta_os_can_purge(), ta_mapper_default()->purge != nullptr);
}

}  // namespace
