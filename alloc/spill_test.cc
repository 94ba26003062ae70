// A heap's spills (ta_heap_t.spill): a block freed into a full page while
// the class's queue has nothing else to serve waits there, counted in use on
// its page, and serves the next allocation; it is free for every check (a
// second free, ta_usable_size, ta_heap_contains, stats, walks), and it goes
// back to its page at collect, so no page is held by it.
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <utility>
#include <vector>

#include "alloc/heap.h"
#include "alloc/page.h"
#include "alloc/segment.h"
#include "alloc/size_class.h"
#include "tinyalloc/tinyalloc.h"

namespace {

constexpr size_t kSize = 1024;

ta_layout_t Layout() { return ta_layout_t{kSize, 8}; }

ta_page_t *PageOf(void *block) { return ta_segment_page_of(ta_segment_of(block), block); }

size_t ListLength(const ta_block_t *list) {
  size_t n = 0;
  for (; list != nullptr && n < 100000; list = list->next) n++;
  return n;
}

class SpillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    heap_ = ta_heap_new();
    ASSERT_NE(heap_, nullptr);
    cls_ = ta_size_to_class(kSize);
    // Blocks until the page serving the class has nothing left to hand out:
    // every page of the class is then full and the queue's head is spent.
    do {
      void *p = ta_heap_alloc(heap_, Layout());
      ASSERT_NE(p, nullptr);
      blocks_.push_back(p);
      if (per_page_ == 0) per_page_ = PageOf(p)->carve_limit / kSize;
    } while (!ta_page_is_spent(heap_->direct[cls_]) || blocks_.size() < 16 * PerPage());
  }
  void TearDown() override {
    for (void *p : blocks_) {
      if (p != nullptr) ta_heap_free(heap_, p, Layout());
    }
    ta_heap_destroy(heap_);
  }

  // Blocks of the first page: the pages after it hold as many or more.
  size_t PerPage() const { return per_page_; }

  // The index of the first block of each full page, in order.
  std::vector<size_t> FirstOfEachFullPage() {
    std::vector<size_t> first;
    ta_page_t *last = nullptr;
    for (size_t i = 0; i < blocks_.size(); i++) {
      ta_page_t *page = PageOf(blocks_[i]);
      if (page != last && (page->free_flags & TA_PAGE_FULL)) first.push_back(i);
      last = page;
    }
    return first;
  }
  ta_page_t *Spill() { return &heap_->spill[cls_]; }
  size_t Cap() const { return TA_SPILL_BYTES / ta_class_size(cls_); }

  // Frees the block at index i (a full page's, the head being spent).
  void FreeAt(size_t i) {
    ta_heap_free(heap_, blocks_[i], Layout());
    ASSERT_EQ(ta_heap_last_error(heap_), TA_OK);
    blocks_[i] = nullptr;
  }

  ta_heap_t *heap_ = nullptr;
  unsigned cls_ = 0;
  size_t per_page_ = 0;
  std::vector<void *> blocks_;
};

TEST_F(SpillTest, AFreeIntoAFullPageWhileTheHeadIsSpentServesTheNextAllocation) {
  void *x = blocks_[0];
  ta_page_t *page = PageOf(x);
  ASSERT_TRUE(page->free_flags & TA_PAGE_FULL);
  const uint32_t used = ta_page_used(page);
  FreeAt(0);
  EXPECT_EQ(Spill()->free, x);
  EXPECT_TRUE(page->free_flags & TA_PAGE_FULL) << "the page stays full";
  EXPECT_EQ(ta_page_used(page), used) << "and counts the block in use";
  void *again = ta_heap_alloc(heap_, Layout());
  EXPECT_EQ(again, x);
  EXPECT_EQ(heap_->direct[cls_], Spill()) << "the spill serves on the fast path";
  EXPECT_EQ(Spill()->free, nullptr);
  blocks_[0] = again;
}

TEST_F(SpillTest, ASpilledBlockIsFreeForEveryCheck) {
  const size_t i = FirstOfEachFullPage()[1];
  void *x = blocks_[i];
  FreeAt(i);
  ASSERT_EQ(Spill()->free, x);
  EXPECT_EQ(ta_usable_size(x), 0u);
  EXPECT_FALSE(ta_heap_contains(heap_, x));
  ta_heap_free(heap_, x, Layout());
  EXPECT_EQ(ta_heap_last_error(heap_), TA_ERR_INVALID_POINTER) << "a double free";
  ta_heap_t *other = ta_heap_new();
  ASSERT_NE(other, nullptr);
  ta_heap_free(other, x, Layout());
  EXPECT_EQ(ta_heap_last_error(other), TA_ERR_INVALID_POINTER) << "also through another heap";
  ta_heap_destroy(other);
  EXPECT_EQ(ListLength(Spill()->free), 1u) << "held once";
  ta_heap_stats_t stats;
  ASSERT_EQ(ta_heap_stats(heap_, &stats), TA_OK);
  EXPECT_EQ(stats.live_blocks, blocks_.size() - 1);
  EXPECT_EQ(Spill()->free, nullptr) << "the walk gave it back to its page first";
}

TEST_F(SpillTest, HoldsAtMostItsBytesThenGivesThemAllBack) {
  ASSERT_GE(Cap(), 2u);
  const std::vector<size_t> first = FirstOfEachFullPage();
  ASSERT_GE(first.size(), Cap() + 1);
  for (size_t k = 0; k < Cap(); k++) FreeAt(first[k]);
  EXPECT_EQ(ListLength(Spill()->free), Cap());
  for (size_t k = 0; k < Cap(); k++) {
    EXPECT_TRUE(PageOf(blocks_[first[k] + 1])->free_flags & TA_PAGE_FULL) << "page " << k;
  }
  // One more, which it has no room for: it will not serve soon, so every
  // page it held goes back to its queue, with the one just freed into.
  FreeAt(first[Cap()]);
  EXPECT_EQ(Spill()->free, nullptr);
  for (size_t k = 0; k <= Cap(); k++) {
    EXPECT_FALSE(PageOf(blocks_[first[k] + 1])->free_flags & TA_PAGE_FULL) << "page " << k;
  }
}

TEST_F(SpillTest, ABulkFreeWithAPageToServeBypassesTheSpill) {
  // The head has blocks again: frees into full pages go back to their pages.
  FreeAt(blocks_.size() - 1);
  for (size_t i = 0; i < 4 * PerPage(); i++) FreeAt(i);
  EXPECT_EQ(Spill()->free, nullptr);
}

TEST_F(SpillTest, CollectGivesEverySpilledBlockBackAndEmptyPagesGo) {
  FreeAt(0);
  ASSERT_NE(Spill()->free, nullptr);
  for (size_t i = 1; i < blocks_.size(); i++) FreeAt(i);
  ta_heap_collect(heap_);
  EXPECT_EQ(Spill()->free, nullptr);
  EXPECT_NE(heap_->direct[cls_], Spill());
  EXPECT_TRUE(ta_heap_is_empty(heap_)) << "no page kept by a spilled block";
}

TEST_F(SpillTest, FreesThroughAnotherHeapIntoAFullPageAreNeverStranded) {
  // Block 0 goes to the spill; its page stays full and watched. Blocks of
  // that page freed through a second heap, one after another, each reach
  // the owner (through the spill too, once the page is watched again) and
  // serve its next allocation.
  void *x = blocks_[0];
  FreeAt(0);
  ASSERT_EQ(Spill()->free, x);
  ta_page_t *page = PageOf(x);
  ta_heap_t *other = ta_heap_new();
  ASSERT_NE(other, nullptr);
  std::set<void *> want = {x};
  for (size_t i = 1; i <= 3; i++) {
    void *y = blocks_[i];
    ASSERT_EQ(PageOf(y), page);
    ta_heap_free(other, y, Layout());
    ASSERT_EQ(ta_heap_last_error(other), TA_OK);
    blocks_[i] = nullptr;
    want.insert(y);
  }
  ta_heap_destroy(other);
  std::set<void *> got;
  for (size_t i = 0; i < want.size(); i++) {
    void *p = ta_heap_alloc(heap_, Layout());
    ASSERT_NE(p, nullptr);
    got.insert(p);
    blocks_.push_back(p);
  }
  EXPECT_EQ(got, want) << "the spilled block and every block freed remotely, before any other";
}

TEST_F(SpillTest, ABlockFreedThroughAnotherHeapJoinsTheSpillWhileItsPageStaysWatched) {
  // The spill serves (its block taken back): then each remote free into
  // the full page of that block hands its block to the owner, which spills
  // it; the page never leaves its full state and stays watched, and each
  // block serves the next allocation.
  void *x = blocks_[0];
  FreeAt(0);
  ASSERT_EQ(ta_heap_alloc(heap_, Layout()), x);
  blocks_[0] = x;
  ASSERT_EQ(heap_->direct[cls_], Spill());
  ta_page_t *page = PageOf(x);
  ta_heap_t *other = ta_heap_new();
  ASSERT_NE(other, nullptr);
  for (size_t i = 1; i <= 3; i++) {
    void *y = blocks_[i];
    ta_heap_free(other, y, Layout());
    ASSERT_EQ(ta_heap_last_error(other), TA_OK);
    EXPECT_EQ(ta_heap_alloc(heap_, Layout()), y) << "round " << i;
    EXPECT_TRUE(page->free_flags & TA_PAGE_FULL) << "round " << i;
    EXPECT_EQ(atomic_load(&page->remote_free), TA_REMOTE_WATCHED) << "round " << i;
  }
  ta_heap_destroy(other);
}

TEST_F(SpillTest, RemoteFreesIntoAWatchedPageReachTheOwnerUntilItTakesTheWatchOff) {
  ta_page_t *page = PageOf(blocks_[0]);
  ASSERT_TRUE(page->free_flags & TA_PAGE_FULL);
  ASSERT_EQ(atomic_load(&page->remote_free), TA_REMOTE_WATCHED) << "every full page is watched";
  ta_heap_t *other = ta_heap_new();
  ASSERT_NE(other, nullptr);
  for (size_t i = 0; i < 3; i++) {
    ta_heap_free(other, blocks_[i], Layout());
    ASSERT_EQ(ta_heap_last_error(other), TA_OK);
    blocks_[i] = nullptr;
  }
  EXPECT_EQ(atomic_load(&page->remote_free), TA_REMOTE_WATCHED) << "the watch stays";
  EXPECT_EQ(ListLength(reinterpret_cast<const ta_block_t *>(atomic_load(&heap_->remote_blocks))),
            3u)
      << "each block went to the owner";
  // Collect takes them (into the spill, the page still full), then gives the
  // spill back, which brings the page back to its queue and takes the watch
  // off: the next remote free goes onto the page's own list.
  ta_heap_collect(heap_);
  EXPECT_EQ(atomic_load(&heap_->remote_blocks), 0u);
  EXPECT_FALSE(page->free_flags & TA_PAGE_FULL);
  EXPECT_EQ(atomic_load(&page->remote_free), 0u);
  ta_heap_free(other, blocks_[3], Layout());
  ASSERT_EQ(ta_heap_last_error(other), TA_OK);
  EXPECT_EQ(ta_remote_list(atomic_load(&page->remote_free)), blocks_[3]);
  EXPECT_EQ(atomic_load(&heap_->remote_blocks), 0u);
  blocks_[3] = nullptr;
  ta_heap_destroy(other);
}

TEST_F(SpillTest, AFreeTheSpillDoesNotTakeGivesItsBlocksBackSoABulkFreeKeepsNoPage) {
  // Blocks spilled from several full pages while the head was spent; then
  // the head gets a block back, and the program frees everything. The first
  // free into a full page that the spill no longer takes gives its blocks
  // back, so each page can empty and go.
  const std::vector<size_t> first = FirstOfEachFullPage();
  ASSERT_GE(first.size(), Cap() + 1);
  for (size_t k = 0; k < Cap(); k++) FreeAt(first[k]);
  ASSERT_EQ(ListLength(Spill()->free), Cap());
  FreeAt(blocks_.size() - 1);  // the head's: no longer spent
  FreeAt(first[Cap()]);
  EXPECT_EQ(Spill()->free, nullptr) << "given back at the first free it did not take";
  for (size_t k = 0; k < Cap(); k++) {
    EXPECT_FALSE(PageOf(blocks_[first[k] + 1])->free_flags & TA_PAGE_FULL) << "page " << k;
  }
  for (size_t i = 0; i < blocks_.size(); i++) {
    if (blocks_[i] != nullptr) FreeAt(i);
  }
  EXPECT_EQ(Spill()->free, nullptr);
}

TEST_F(SpillTest, MallocsSizeSlotsFollowDirectOntoTheSpillAndOff) {
  // direct16 follows direct onto the spill and off it.
  const size_t slot = (kSize + 15) / 16;
  void *x = blocks_[0];
  FreeAt(0);
  ASSERT_EQ(ta_heap_alloc(heap_, Layout()), x);
  blocks_[0] = x;
  ASSERT_EQ(heap_->direct[cls_], Spill());
  EXPECT_EQ(heap_->direct16[slot], Spill());
  ta_heap_collect(heap_);
  EXPECT_EQ(heap_->direct16[slot], heap_->direct[cls_]);
  EXPECT_NE(heap_->direct16[slot], Spill());
}

// Every size slot of direct8 and direct16 names its class's direct page.
void ExpectSizeSlotsMatchDirect(const ta_heap_t *heap) {
  for (size_t s = 0; s < TA_CLASS8_SLOTS; s++) {
    ASSERT_EQ(heap->direct8[s], heap->direct[ta_small_class_lookup[s]]) << "8-byte slot " << s;
  }
  for (size_t s = 0; s < TA_CLASS16_SLOTS; s++) {
    ASSERT_EQ(heap->direct16[s], heap->direct[ta_small_class16_lookup[s]]) << "16-byte slot " << s;
  }
}

TEST(SizeSlots, FollowDirectThroughFullPagesAndTheSpill) {
  ta_heap_t *heap = ta_heap_new();
  ASSERT_NE(heap, nullptr);
  ExpectSizeSlotsMatchDirect(heap);
  // Each size up to TA_CLASS8_MAX past its class's first page, so that the
  // queue has a full page and a spent head; then a free into the full page,
  // which makes the spill the direct page at the next allocation, and a
  // free of everything.
  std::vector<std::pair<void *, ta_layout_t>> live;
  size_t sizes_served_by_the_spill = 0;
  for (size_t size = 8; size <= TA_CLASS8_MAX; size += 8) {
    ta_layout_t layout = {size, 8};
    void *first = ta_heap_alloc(heap, layout);
    ASSERT_NE(first, nullptr);
    live.push_back({first, layout});
    while (PageOf(live.back().first) == PageOf(first) ||
           !ta_page_is_spent(heap->direct[ta_size_to_class(size)])) {
      void *p = ta_heap_alloc(heap, layout);
      ASSERT_NE(p, nullptr);
      live.push_back({p, layout});
    }
    ExpectSizeSlotsMatchDirect(heap);
    ta_heap_free(heap, first, layout);
    ASSERT_EQ(ta_heap_last_error(heap), TA_OK);
    live.front().first = ta_heap_alloc(heap, layout);
    ASSERT_EQ(live.front().first, first);
    unsigned cls = ta_size_to_class(size);
    // Unless that allocation's slow path was due for upkeep, which gives
    // the spill's blocks back if the purge delay has passed.
    if (heap->direct[cls] == &heap->spill[cls]) sizes_served_by_the_spill++;
    ExpectSizeSlotsMatchDirect(heap);
    for (auto &entry : live) ta_heap_free(heap, entry.first, entry.second);
    live.clear();
    ExpectSizeSlotsMatchDirect(heap);
  }
  // Upkeep comes once every many slow paths, so most sizes got there.
  EXPECT_GT(sizes_served_by_the_spill, TA_CLASS8_MAX / 8 / 2);
  ta_heap_collect(heap);
  ExpectSizeSlotsMatchDirect(heap);
  ta_heap_destroy(heap);
}

}  // namespace
