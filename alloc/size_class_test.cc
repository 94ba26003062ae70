// Size classes: 32 of them, size-to-class agrees with a search of the table,
// every class uses at least 69% of its block (through malloc too) and 70% of
// its page. Prints the table (class size, worst request utilisation, page
// utilisation).
#include "alloc/size_class.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "alloc/segment.h"

namespace {

unsigned SearchClass(size_t size) {
  for (unsigned c = 0; c < TA_CLASS_COUNT; c++) {
    if (ta_class_size(c) >= size) return c;
  }
  return TA_CLASS_COUNT;
}

TEST(SizeClass, ThereAre32IncreasingClassesOfWholeWords) {
  ASSERT_EQ(TA_CLASS_COUNT, 32);
  EXPECT_EQ(ta_class_size(0), TA_CLASS_MIN_SIZE);
  EXPECT_EQ(ta_class_size(TA_CLASS_COUNT - 1), TA_CLASS_MAX_SIZE);
  for (unsigned c = 1; c < TA_CLASS_COUNT; c++) {
    EXPECT_GT(ta_class_size(c), ta_class_size(c - 1));
    EXPECT_EQ(ta_class_size(c) % 8, 0u);
  }
}

// The alloc fast path skips the class's alignment test for basic alignments:
// every class must have them, and nothing else may count as basic.
TEST(SizeClass, BasicAlignmentsAreThoseEveryClassHas) {
  for (size_t align = 0; align <= 64; align++) {
    bool every_class = true;
    for (unsigned c = 0; c < TA_CLASS_COUNT; c++) every_class &= ta_class_has_align(c, align);
    EXPECT_EQ(ta_align_is_basic(align), every_class) << "align " << align;
  }
  EXPECT_TRUE(ta_align_is_basic(TA_CLASS_MIN_ALIGN));
  EXPECT_FALSE(ta_align_is_basic(SIZE_MAX));
  EXPECT_FALSE(ta_align_is_basic((size_t)1 << 63));
}

TEST(SizeClass, SizeToClassMatchesSearchForEverySize) {
  for (size_t size = 0; size <= TA_CLASS_MAX_SIZE; size++) {
    ASSERT_EQ(ta_size_to_class(size), SearchClass(size)) << "size " << size;
  }
}

// Over-aligned requests of a power-of-two class take it from a formula
// (ta_aligned_power_of_two_class): for every alignment and size it covers, it
// must be the smallest class that holds the size and has the alignment; just
// outside what it covers (alignments 32 and twice the header's, sizes past
// 32 * align or 256 KiB, alignments not a power of two) it must not apply.
TEST(SizeClass, AlignedPowerOfTwoClassMatchesSearch) {
  for (size_t align = 64; align <= TA_SEGMENT_HEADER_ALIGN; align *= 2) {
    size_t max = std::min(32 * align, (size_t)1 << 18);
    for (size_t size = 0; size <= max; size++) {
      ASSERT_TRUE(ta_aligned_class_is_power_of_two(align, size)) << align << " " << size;
      unsigned search = SearchClass(size);
      while (!ta_class_has_align(search, align)) search++;
      ASSERT_EQ(ta_aligned_power_of_two_class(align, size), search) << align << " " << size;
    }
    EXPECT_FALSE(ta_aligned_class_is_power_of_two(align, max + 1)) << align;
    EXPECT_FALSE(ta_aligned_class_is_power_of_two(align + 32, 64)) << align;
  }
  EXPECT_FALSE(ta_aligned_class_is_power_of_two(32, 64));
  EXPECT_FALSE(ta_aligned_class_is_power_of_two(2 * TA_SEGMENT_HEADER_ALIGN, 64));
  EXPECT_FALSE(ta_aligned_class_is_power_of_two(0, 64));
}

// malloc's classes: the smallest whose blocks are all 16-aligned.
TEST(SizeClass, SizeToClass16MatchesSearchForEverySize) {
  for (size_t size = 0; size <= TA_CLASS_MAX_SIZE; size++) {
    unsigned want = SearchClass(size);
    while (want < TA_CLASS_COUNT && ta_class_size(want) % 16 != 0) want++;
    ASSERT_EQ(ta_size_to_class16(size), want) << "size " << size;
  }
}

// A class that is not a multiple of 16 serves no malloc request: the one
// below it then serves up to twice its size. Only the fine classes under
// 128 bytes may be one (their neighbours are 16 bytes apart).
TEST(SizeClass, MallocRequestsUseAtLeast69PercentOfTheirBlock) {
  for (size_t size = 129; size <= TA_CLASS_MAX_SIZE; size++) {
    size_t block = ta_class_size(ta_size_to_class16(size));
    ASSERT_GE((double)size / (double)block, 0.69) << "size " << size << " block " << block;
  }
}

// The slot ranges by class, starts[c] to starts[c + 1], cover the first
// `slots` entries of lookup exactly.
void ExpectSlotRangesMatch(const uint8_t *starts, const uint8_t *lookup, unsigned slots) {
  EXPECT_EQ(starts[0], 0);
  EXPECT_EQ(starts[TA_CLASS_COUNT], slots);
  for (unsigned c = 0; c < TA_CLASS_COUNT; c++) {
    ASSERT_LE(starts[c], starts[c + 1]) << "class " << c;
    for (unsigned s = starts[c]; s < starts[c + 1]; s++) {
      EXPECT_EQ(lookup[s], c) << "slot " << s;
    }
  }
}

TEST(SizeClass, Class8SlotRangesMatchTheLookup) {
  ExpectSlotRangesMatch(ta_class8_slot_start, ta_small_class_lookup, TA_CLASS8_SLOTS);
}

TEST(SizeClass, Class16SlotRangesMatchTheLookup) {
  ExpectSlotRangesMatch(ta_class16_slot_start, ta_small_class16_lookup, TA_CLASS16_SLOTS);
}

// The share of a page (its area, less any segment header) that holds blocks.
double PageUtilisation(unsigned cls, size_t area) {
  size_t size = ta_class_size(cls);
  return (double)((area / size) * size) / (double)area;
}

TEST(SizeClass, EveryClassUsesAtLeast69PercentOfBlockAnd70OfPage) {
  size_t header = sizeof(ta_segment_t);
  header = (header + TA_SEGMENT_HEADER_ALIGN - 1) / TA_SEGMENT_HEADER_ALIGN * TA_SEGMENT_HEADER_ALIGN;
  std::printf("class  size     kind    worst-request  page  first-page\n");
  for (unsigned c = 0; c < TA_CLASS_COUNT; c++) {
    size_t size = ta_class_size(c);
    // The smallest request that maps here; class 0 also serves requests
    // below the minimum block, which is the floor every block pays.
    size_t smallest = c == 0 ? TA_CLASS_MIN_SIZE : ta_class_size(c - 1) + 1;
    double request = (double)smallest / (double)size;
    size_t page = 0;
    const char *kind = "";
    switch (ta_class_page_kind(c)) {
      case TA_PAGE_SMALL: page = (size_t)1 << TA_SMALL_PAGE_SHIFT; kind = "small"; break;
      case TA_PAGE_MEDIUM: page = (size_t)1 << TA_MEDIUM_PAGE_SHIFT; kind = "medium"; break;
      default: page = TA_SEGMENT_SIZE; kind = "large"; break;
    }
    double full_page = PageUtilisation(c, page);
    double first_page = PageUtilisation(c, page - header);
    std::printf("%5u  %7zu  %-6s  %6.1f%%        %5.1f%%  %5.1f%%\n", c, size, kind,
                100 * request, 100 * full_page, 100 * first_page);
    EXPECT_GE(request, 0.69) << "class " << c;
    EXPECT_GE(full_page, 0.70) << "class " << c;
    EXPECT_GE(first_page, 0.70) << "class " << c;
    EXPECT_EQ(ta_size_to_class(smallest), c);
  }
}

TEST(SizeClass, HeaderLeavesRoomInTheFirstPage) {
  EXPECT_LT(sizeof(ta_segment_t), TA_SEGMENT_HEADER_ALIGN);
}

}  // namespace
