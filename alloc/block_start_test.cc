// ta_page_is_block_start, the free paths' one test of a block pointer,
// against plain division: for every class size, and for block sizes that
// are no class (odd, prime, a power of two), every offset near each block
// start across a whole segment's worth of carved bytes, and pointers before
// the area or far past it.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "alloc/segment.h"
#include "alloc/size_class.h"

namespace {

// Makes page's area start at a made-up address (nothing is read through
// it), with carved bytes of whole blocks.
void SetUpPage(ta_page_t *page, uint32_t block_size, uintptr_t area, uint32_t carved_bytes) {
  ta_page_set_block_size(page, block_size);
  page->area = reinterpret_cast<uint8_t *>(area);
  ta_page_set_carved_bytes(page, carved_bytes);
}

void ExpectMatchesDivision(uint32_t d) {
  const uintptr_t area = (uintptr_t)1 << 40;
  const uint32_t carved = (uint32_t)(TA_SEGMENT_SIZE / d * d);
  ta_page_t page{};
  SetUpPage(&page, d, area, carved);
  // Every offset in the first 64 KiB, then the neighbours of every start.
  for (uint64_t n = 0; n < 65536 && n < carved + (uint64_t)d; n++) {
    ASSERT_EQ(ta_page_is_block_start(&page, area + n), n < carved && n % d == 0)
        << "block size " << d << ", offset " << n;
  }
  for (uint64_t start = 0; start <= carved; start += d) {
    for (uint64_t n : {start - 1, start, start + 1, start + d / 2, start + d - 1}) {
      ASSERT_EQ(ta_page_is_block_start(&page, area + n), n < carved && n % d == 0)
          << "block size " << d << ", offset " << n;
    }
  }
  for (uintptr_t before : {(uintptr_t)1, (uintptr_t)d, (uintptr_t)1 << 20, area}) {
    ASSERT_FALSE(ta_page_is_block_start(&page, area - before)) << "block size " << d;
  }
  // As far as an address in the page's segment may be (below 2^41).
  for (uint64_t far : {(uint64_t)1 << 32, ((uint64_t)1 << 32) + d, carved + ((uint64_t)d << 18),
                       ((uint64_t)1 << 41) - d}) {
    ASSERT_FALSE(ta_page_is_block_start(&page, area + far)) << "block size " << d;
  }
}

TEST(BlockStart, MatchesDivisionForEveryClassSize) {
  for (unsigned c = 0; c < TA_CLASS_COUNT; c++) ExpectMatchesDivision(ta_class_size(c));
}

TEST(BlockStart, MatchesDivisionForOtherBlockSizes) {
  for (uint32_t d : {7u, 24u, 1000u, 4099u, 65521u, 65536u, 1048576u, 3999971u}) {
    ExpectMatchesDivision(d);
  }
}

// A huge page: one block counted as of size 1, so only its start passes.
TEST(BlockStart, AHugePageAcceptsOnlyItsStart) {
  const uintptr_t area = (uintptr_t)1 << 40;
  ta_page_t page{};
  SetUpPage(&page, 1, area, 1);
  EXPECT_TRUE(ta_page_is_block_start(&page, area));
  for (uint64_t n :
       {(uint64_t)1, (uint64_t)16, (uint64_t)4096, (uint64_t)1 << 22, ((uint64_t)1 << 41) - 1}) {
    EXPECT_FALSE(ta_page_is_block_start(&page, area + n)) << n;
    EXPECT_FALSE(ta_page_is_block_start(&page, area - n)) << n;
  }
}

TEST(BlockStart, NothingCarvedRefusesEverything) {
  const uintptr_t area = (uintptr_t)1 << 40;
  ta_page_t page{};
  SetUpPage(&page, 64, area, 0);
  for (uint64_t n : {0u, 64u, 128u}) EXPECT_FALSE(ta_page_is_block_start(&page, area + n));
}

}  // namespace
