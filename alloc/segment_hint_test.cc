// A heap's segment hints (ta_heap_t.own_segments): a free through the heap
// into a hinted segment skips the segment map and the owner test, so a hint
// must never outlive the segment's ownership, and every check the skipped
// path made must still refuse bad pointers.
#include <gtest/gtest.h>

#include <cstdint>
#include <set>

#include "alloc/heap.h"
#include "alloc/page.h"
#include "alloc/segment.h"
#include "tinyalloc/tinyalloc.h"

namespace {

uintptr_t HintFor(const ta_heap_t *heap, const void *p) {
  return heap->own_segments[ta_heap_hint_slot(reinterpret_cast<uintptr_t>(p))];
}

uintptr_t SegmentOf(const void *p) { return reinterpret_cast<uintptr_t>(ta_segment_of(p)); }

TEST(SegmentHint, ALocalFreeHintsItsSegment) {
  ta_heap_t *heap = ta_heap_new();
  ASSERT_NE(heap, nullptr);
  void *keep = ta_heap_alloc(heap, {64, 8});
  void *p = ta_heap_alloc(heap, {64, 8});
  ASSERT_NE(keep, nullptr);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(HintFor(heap, p), TA_HEAP_NO_SEGMENT);
  ta_heap_free(heap, p, {64, 8});
  EXPECT_EQ(HintFor(heap, p), SegmentOf(p));
  ta_heap_free(heap, keep, {64, 8});
  ta_heap_destroy(heap);
}

// The checks the hinted path makes on its own: block start, carved bytes,
// the layout's size and alignment, the free mark. Each refusal leaves the
// heap whole: the blocks handed out afterwards are all distinct.
TEST(SegmentHint, AHintedSegmentStillRefusesBadPointers) {
  ta_heap_t *heap = ta_heap_new();
  ASSERT_NE(heap, nullptr);
  void *a = ta_heap_alloc(heap, {64, 8});
  void *b = ta_heap_alloc(heap, {64, 8});
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ta_heap_free(heap, b, {64, 8});
  ASSERT_EQ(HintFor(heap, a), SegmentOf(a));
  ta_page_t *page = ta_segment_page_of(ta_segment_of(a), a);
  char *base = static_cast<char *>(a);
  // Interior pointers, and the first block start not carved yet (a fresh
  // page of 64-byte blocks carves one OS page's worth at a time).
  ASSERT_LT(ta_page_carved_bytes(page), page->carve_limit);
  for (void *p : {static_cast<void *>(base + 16), static_cast<void *>(base + 8),
                  static_cast<void *>(page->area + ta_page_carved_bytes(page))}) {
    ta_heap_free(heap, p, {16, 8});
    EXPECT_EQ(ta_heap_last_error(heap), TA_ERR_INVALID_POINTER) << p;
  }
  ta_heap_free(heap, a, {page->block_size + 1, 8});
  EXPECT_EQ(ta_heap_last_error(heap), TA_ERR_INVALID_POINTER);
  ta_heap_free(heap, a, {64, 3});
  EXPECT_EQ(ta_heap_last_error(heap), TA_ERR_INVALID_LAYOUT);
  ta_heap_free(heap, b, {64, 8});  // a double free
  EXPECT_EQ(ta_heap_last_error(heap), TA_ERR_INVALID_POINTER);
  std::set<void *> seen{a};
  for (int i = 0; i < 1000; i++) {
    void *p = ta_heap_alloc(heap, {64, 8});
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(seen.insert(p).second) << "handed out twice: " << p;
  }
  ta_heap_destroy(heap);
}

// The danger a hint brings: a heap that hinted a segment, which then went
// back to the arena and on to another heap, must free that heap's blocks
// as remote frees. The block stays counted in use on its page until its
// owner collects it; a local free (the wrong path) would take it off at
// once.
TEST(SegmentHint, ASegmentThatLeftTheHeapIsNoLongerHinted) {
  for (size_t size : {size_t{64}, size_t{5} << 20}) {
    ta_heap_t *first = ta_heap_new();
    ASSERT_NE(first, nullptr);
    void *p = ta_heap_alloc(first, {size, 8});
    ASSERT_NE(p, nullptr);
    uintptr_t segment = SegmentOf(p);
    // A small block too, so that the heap holds a hinted small segment
    // while its huge one (when p is huge) leaves.
    void *q = ta_heap_alloc(first, {64, 8});
    ta_heap_free(first, p, {size, 8});
    ta_heap_free(first, q, {64, 8});
    ta_heap_collect(first);  // the segments go back: empty
    EXPECT_NE(HintFor(first, p), segment) << size;

    ta_heap_t *second = ta_heap_new();
    ASSERT_NE(second, nullptr);
    void *r = ta_heap_alloc(second, {size, 8});
    ASSERT_NE(r, nullptr);
    ta_page_t *page = ta_segment_page_of(ta_segment_of(r), r);
    ta_heap_free(first, r, {size, 8});
    EXPECT_EQ(ta_heap_last_error(first), TA_OK);
    EXPECT_EQ(ta_page_used(page), 1u) << "a free of another heap's block taken as local, size "
                                      << size << (SegmentOf(r) == segment ? " (same segment)" : "");
    EXPECT_NE(HintFor(first, r), SegmentOf(r));
    ta_heap_collect(second);
    ta_heap_destroy(second);
    ta_heap_destroy(first);
  }
}

}  // namespace
