// Which free page a heap's next new page takes: the one it retired last,
// still resident, before the free pages of segments that had some earlier
// (those may have been purged, and taking one faults it back in while the
// resident one waits to be purged).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "alloc/heap.h"
#include "alloc/page.h"
#include "alloc/segment.h"
#include "tinyalloc/tinyalloc.h"

namespace {

// Both on small pages; 8 KiB blocks have no spill, so a free into a full
// page goes straight back to it.
constexpr size_t kFillSize = 8192;
constexpr size_t kOtherSize = 4096;

ta_layout_t Layout(size_t size) { return ta_layout_t{size, 8}; }

ta_page_t *PageOf(void *block) { return ta_segment_page_of(ta_segment_of(block), block); }

TEST(PageReuse, ANewPageTakesThePageRetiredLast) {
  ta_heap_t *heap = ta_heap_new();
  ASSERT_NE(heap, nullptr);
  // Fill a first segment and take a page of a second one, which then has
  // free pages.
  std::vector<void *> blocks;
  ta_segment_t *first = nullptr;
  for (;;) {
    void *p = ta_heap_alloc(heap, Layout(kFillSize));
    ASSERT_NE(p, nullptr);
    blocks.push_back(p);
    if (first == nullptr) first = ta_segment_of(p);
    if (ta_segment_of(p) != first) break;
  }
  ASSERT_EQ(first->free_pages, 0u);
  // Empty a page in the middle of the first segment (not its class's first
  // page, which would stay): it is retired.
  ta_page_t *retired = &first->pages[first->page_count / 2];
  ASSERT_TRUE(retired->in_use);
  std::vector<void *> kept;
  for (void *p : blocks) {
    if (PageOf(p) == retired) {
      ta_heap_free(heap, p, Layout(kFillSize));
    } else {
      kept.push_back(p);
    }
  }
  ASSERT_FALSE(retired->in_use);
  // Another class needs a new page: it gets the retired one, not one of the
  // second segment's.
  void *q = ta_heap_alloc(heap, Layout(kOtherSize));
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(PageOf(q), retired);
  ta_heap_free(heap, q, Layout(kOtherSize));
  for (void *p : kept) ta_heap_free(heap, p, Layout(kFillSize));
  EXPECT_EQ(ta_heap_last_error(heap), TA_OK);
  ta_heap_destroy(heap);
}

}  // namespace
