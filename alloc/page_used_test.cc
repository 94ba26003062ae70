// A page's count of blocks in use and its "needs a look" flags share one
// word (ta_page_t.used_word): the count reads back through every flag change,
// and the local free's one test (the word going negative) fires exactly when
// the page empties or is flagged.
#include <gtest/gtest.h>

#include <cstdint>

#include "alloc/segment.h"

namespace {

// What the free fast path decides after its decrement.
bool FreeNeedsALook(ta_page_t *page) { return --page->used_word < 0; }

TEST(PageUsed, CountReadsBackThroughFlagChanges) {
  for (uint32_t used : {0u, 1u, 2u, 4096u, (1u << 18)}) {
    ta_page_t page{};
    ta_page_set_used(&page, used);
    EXPECT_EQ(ta_page_used(&page), used);
    ta_page_flags_set(&page, TA_PAGE_FULL);
    EXPECT_EQ(ta_page_used(&page), used);
    ta_page_flags_set(&page, TA_PAGE_HOLES);
    EXPECT_EQ(ta_page_used(&page), used);
    ta_page_flags_clear(&page, TA_PAGE_FULL);
    EXPECT_EQ(ta_page_used(&page), used);
    EXPECT_EQ(page.free_flags, TA_PAGE_HOLES);
    ta_page_flags_clear(&page, TA_PAGE_HOLES);
    EXPECT_EQ(ta_page_used(&page), used);
    EXPECT_EQ(page.free_flags, 0);
    ta_page_flags_clear(&page, TA_PAGE_HOLES);  // clearing what is clear changes nothing
    EXPECT_EQ(ta_page_used(&page), used);
  }
}

TEST(PageUsed, AFreeNeedsALookOnlyWhenItEmptiesOrFindsAFlaggedPage) {
  ta_page_t page{};
  ta_page_set_used(&page, 3);
  EXPECT_FALSE(FreeNeedsALook(&page));
  EXPECT_FALSE(FreeNeedsALook(&page));
  EXPECT_TRUE(FreeNeedsALook(&page)) << "the last block in use came back";
  EXPECT_EQ(ta_page_used(&page), 0u);

  ta_page_set_used(&page, 3);
  ta_page_flags_set(&page, TA_PAGE_FULL);
  EXPECT_TRUE(FreeNeedsALook(&page)) << "a free into a full page";
  EXPECT_EQ(ta_page_used(&page), 2u);
  page.used_word++;  // an allocation
  EXPECT_EQ(ta_page_used(&page), 3u);
  ta_page_flags_clear(&page, TA_PAGE_FULL);
  EXPECT_FALSE(FreeNeedsALook(&page));

  // A double free of a hole block into a flagged page with none in use: the
  // count goes below 0, and the test must still fire for the check to run.
  ta_page_set_used(&page, 0);
  ta_page_flags_set(&page, TA_PAGE_HOLES);
  EXPECT_TRUE(FreeNeedsALook(&page));
  page.used_word++;  // the check undoes the push
  EXPECT_EQ(ta_page_used(&page), 0u);
  EXPECT_TRUE(FreeNeedsALook(&page));
}

}  // namespace
