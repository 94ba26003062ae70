// The public heap API against its contract (../shared/docs/api.md): layouts,
// alignment, usable size, contents, non-overlap, destroy, misuse.
#include "tinyalloc/tinyalloc.h"

#include "tinyalloc/clock.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <vector>

namespace {

ta_layout_t Layout(size_t size, size_t align = 8) {
  ta_layout_t layout;
  EXPECT_EQ(ta_layout_make(size, align, &layout), TA_OK);
  return layout;
}

// memcmp against a pattern: sanitizers check it as one range, not byte by byte.
bool AllBytesAre(const unsigned char *p, size_t n, unsigned char value) {
  static std::vector<unsigned char> pattern;
  if (pattern.size() < n) pattern.resize(n);
  std::memset(pattern.data(), value, n);
  return std::memcmp(p, pattern.data(), n) == 0;
}

class HeapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    heap_ = ta_heap_new();
    ASSERT_NE(heap_, nullptr);
  }
  void TearDown() override { ta_heap_destroy(heap_); }
  ta_heap_t *heap_ = nullptr;
};

TEST(Layout, AcceptsPowersOfTwoAndRejectsTheRest) {
  ta_layout_t layout{123, 456};
  EXPECT_EQ(ta_layout_make(10, 1, &layout), TA_OK);
  EXPECT_EQ(layout.size, 10u);
  EXPECT_EQ(layout.align, 1u);
  EXPECT_EQ(ta_layout_make(0, TA_LAYOUT_MAX_ALIGN, &layout), TA_OK);
  ta_layout_t untouched{1, 2};
  EXPECT_EQ(ta_layout_make(10, 0, &untouched), TA_ERR_INVALID_LAYOUT);
  EXPECT_EQ(ta_layout_make(10, 3, &untouched), TA_ERR_INVALID_LAYOUT);
  EXPECT_EQ(ta_layout_make(10, 48, &untouched), TA_ERR_INVALID_LAYOUT);
  EXPECT_EQ(ta_layout_make(10, TA_LAYOUT_MAX_ALIGN * 2, &untouched), TA_ERR_INVALID_LAYOUT);
  EXPECT_EQ(ta_layout_make((size_t)PTRDIFF_MAX + 1, 1, &untouched), TA_ERR_INVALID_LAYOUT);
  EXPECT_EQ(ta_layout_make(SIZE_MAX, 1, &untouched), TA_ERR_INVALID_LAYOUT);
  EXPECT_EQ(untouched.size, 1u);
  EXPECT_EQ(untouched.align, 2u);
  EXPECT_EQ(ta_layout_make(1, 1, nullptr), TA_ERR_INVALID_ARGUMENT);
}

TEST_F(HeapTest, SizeZeroGivesUniqueFreeablePointers) {
  void *a = ta_heap_alloc(heap_, Layout(0, 1));
  void *b = ta_heap_alloc(heap_, Layout(0, 1));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a, b);
  ta_heap_free(heap_, a, Layout(0, 1));
  ta_heap_free(heap_, b, Layout(0, 1));
  EXPECT_EQ(ta_heap_last_error(heap_), TA_OK);
}

TEST_F(HeapTest, EveryPowerOfTwoAlignmentUpTo64MiB) {
  for (unsigned shift = 0; shift <= 26; shift++) {
    size_t align = (size_t)1 << shift;
    for (size_t size : {(size_t)0, (size_t)1, (size_t)100, align, align + 1, (size_t)500000}) {
      ta_layout_t layout = Layout(size, align);
      void *p = ta_heap_alloc(heap_, layout);
      ASSERT_NE(p, nullptr) << "size " << size << " align " << align;
      EXPECT_EQ((uintptr_t)p % align, 0u) << "size " << size << " align " << align;
      EXPECT_GE(ta_usable_size(p), size);
      std::memset(p, 0xA5, size);
      ta_heap_free(heap_, p, layout);
      ASSERT_EQ(ta_heap_last_error(heap_), TA_OK) << "size " << size << " align " << align;
    }
  }
}

// Page areas are only as aligned as a segment header, so classes whose size is
// a larger power of two must not pass for naturally aligned: every block, not
// just the first of a page, has to honour the alignment.
TEST_F(HeapTest, ManyBlocksSizedAsTheirAlignmentAreAllAligned) {
  for (size_t align = 16; align <= ((size_t)256 << 10); align *= 2) {
    ta_layout_t layout = Layout(align, align);
    std::vector<void *> blocks;
    for (int i = 0; i < 12; i++) {
      void *p = ta_heap_alloc(heap_, layout);
      ASSERT_NE(p, nullptr) << "align " << align;
      EXPECT_EQ((uintptr_t)p % align, 0u) << "align " << align << " block " << i;
      blocks.push_back(p);
    }
    for (void *p : blocks) ta_heap_free(heap_, p, layout);
    ASSERT_EQ(ta_heap_last_error(heap_), TA_OK) << "align " << align;
  }
}

// The owner's frees and allocations share one list, last in first out, so a
// freed block comes back while it is still in cache.
// Freed blocks are handed out again: a loop that allocates and frees one
// size (a few blocks live) touches a bounded set of blocks, not fresh memory
// at every step, although frees go to a list allocation reads only when its
// own runs dry.
TEST_F(HeapTest, FreedBlocksAreReusedByLaterAllocations) {
  for (size_t size : {(size_t)8, (size_t)100, (size_t)3000, (size_t)40000, (size_t)300000}) {
    std::set<void *> seen;
    void *held[3] = {};
    for (int i = 0; i < 20000; i++) {
      void *&slot = held[i % 3];
      if (slot != nullptr) ta_heap_free(heap_, slot, Layout(size));
      slot = ta_heap_alloc(heap_, Layout(size));
      ASSERT_NE(slot, nullptr) << size;
      seen.insert(slot);
    }
    for (void *p : held) ta_heap_free(heap_, p, Layout(size));
    ASSERT_EQ(ta_heap_last_error(heap_), TA_OK) << size;
    // About one carve's worth of blocks (an OS page, at least four), and
    // never more than a 64 KiB page holds: far below one per step.
    EXPECT_LE(seen.size(), std::max<size_t>(65536 / size, 4) + 3) << size;
  }
}

TEST_F(HeapTest, UsableSizeCoversRequestAndAllOfItIsWritable) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 1200; i++) {
    size_t size = rng() % (i < 1000 ? 1024 : 2 * 1024 * 1024);
    ta_layout_t layout = Layout(size);
    auto *p = static_cast<unsigned char *>(ta_heap_alloc(heap_, layout));
    ASSERT_NE(p, nullptr);
    size_t usable = ta_usable_size(p);
    ASSERT_GE(usable, size);
    std::memset(p, 0x5A, usable);
    // Any size between the request and the usable size frees the block.
    ta_heap_free(heap_, p, Layout(size + (usable - size) / 2));
    ASSERT_EQ(ta_heap_last_error(heap_), TA_OK);
  }
}

// Regression: a freed block (locally, or through another heap and not yet
// collected by its owner, small or huge) used to report its block size.
TEST_F(HeapTest, UsableSizeOfAFreedBlockIsZero) {
  ta_heap_t *other = ta_heap_new();
  ASSERT_NE(other, nullptr);
  for (size_t size : {(size_t)24, (size_t)3000, (size_t)100000, (size_t)1 << 20}) {
    ta_layout_t layout = Layout(size);
    void *kept = ta_heap_alloc(heap_, layout);  // keeps the page in use
    void *local = ta_heap_alloc(heap_, layout);
    void *remote = ta_heap_alloc(heap_, layout);
    ASSERT_TRUE(kept != nullptr && local != nullptr && remote != nullptr);
    std::memset(remote, 0, size);
    EXPECT_GE(ta_usable_size(remote), size);
    ta_heap_free(heap_, local, layout);
    ta_heap_free(other, remote, layout);
    EXPECT_EQ(ta_heap_last_error(other), TA_OK);
    EXPECT_EQ(ta_usable_size(local), 0u) << size << " bytes, freed locally";
    EXPECT_EQ(ta_usable_size(remote), 0u) << size << " bytes, freed through another heap";
    EXPECT_GE(ta_usable_size(kept), size);
    ta_heap_free(heap_, kept, layout);
  }
  ta_heap_destroy(other);
}

// Regression: destroying a heap twice put it in the heap cache twice, so the
// next two ta_heap_new calls returned the same heap. Now the second destroy
// is refused, and without reading the heap: also after a trim has unmapped it.
TEST(Heap, DestroyingAHeapTwiceIsRefused) {
  ta_heap_t *heap = ta_heap_new();
  ASSERT_NE(heap, nullptr);
  ta_heap_destroy(heap);
  ta_heap_destroy(heap);
  ta_heap_t *a = ta_heap_new();
  ta_heap_t *b = ta_heap_new();
  ASSERT_TRUE(a != nullptr && b != nullptr);
  EXPECT_NE(a, b);
  void *p = ta_heap_alloc(a, Layout(100));
  void *q = ta_heap_alloc(b, Layout(100));
  ASSERT_TRUE(p != nullptr && q != nullptr);
  EXPECT_NE(p, q);
  ta_heap_destroy(a);
  ta_heap_destroy(b);
  ta_trim();  // releases the cached heaps' memory: a, b and heap unmapped
  ta_heap_destroy(a);
  ta_heap_destroy(b);
  ta_heap_destroy(heap);
  ta_heap_t *c = ta_heap_new();
  ASSERT_NE(c, nullptr);
  EXPECT_NE(ta_heap_alloc(c, Layout(100)), nullptr);
  ta_heap_destroy(c);
}

#ifdef __linux__
// Regression: the arena's 32 regions (107.9 GiB) were a hard cap: past them
// every request of 32 MiB or less failed while the OS still granted memory.
// Now segments are mapped directly once every region is in use. Reserving and
// committing is enough (the blocks are barely touched), which Linux's
// overcommit allows on any machine; Windows would charge every committed byte.
TEST(Heap, AllocatesPastWhatTheArenaRegionsHold) {
  constexpr size_t kBlock = (size_t)30 << 20;  // 8 segments: the largest arena huge block
  constexpr size_t kTotal = (size_t)120 << 30;
  ta_heap_t *heap = ta_heap_new();
  ASSERT_NE(heap, nullptr);
  std::vector<void *> blocks;
  for (size_t total = 0; total < kTotal; total += kBlock) {
    void *p = ta_heap_alloc(heap, Layout(kBlock));
    ASSERT_NE(p, nullptr) << "after " << (total >> 30) << " GiB: error "
                          << ta_heap_last_error(heap);
    blocks.push_back(p);
  }
  // Small, medium and large blocks need segments of their own kinds now, and
  // a 1 MiB block one of its own: all past the arena.
  for (size_t size : {(size_t)16, (size_t)20000, (size_t)300000, (size_t)1 << 20}) {
    void *p = ta_heap_alloc(heap, Layout(size));
    ASSERT_NE(p, nullptr) << size << " bytes past " << (kTotal >> 30) << " GiB";
    std::memset(p, 1, size);
    ta_heap_free(heap, p, Layout(size));
  }
  for (void *p : blocks) ta_heap_free(heap, p, Layout(kBlock));
  EXPECT_EQ(ta_heap_last_error(heap), TA_OK);
  ta_heap_destroy(heap);
  ta_trim();
}
#endif

// A randomized walk with a shadow copy of every live block: contents are kept,
// blocks never overlap, alignment holds.
TEST_F(HeapTest, RandomWalkKeepsContentsAndNeverOverlaps) {
  struct Live {
    ta_layout_t layout;
    unsigned char fill;
  };
  std::map<uintptr_t, Live> live;
  std::mt19937_64 rng(42);
  for (int step = 0; step < 30000; step++) {
    if (live.empty() || rng() % 100 < 55) {
      size_t size;
      switch (rng() % 10) {
        case 0: size = rng() % 600000; break;
        case 1: size = rng() % 40000; break;
        default: size = rng() % 512; break;
      }
      size_t align = (size_t)1 << (rng() % 13);
      ta_layout_t layout = Layout(size, align);
      auto *p = static_cast<unsigned char *>(ta_heap_alloc(heap_, layout));
      ASSERT_NE(p, nullptr);
      ASSERT_EQ((uintptr_t)p % align, 0u);
      uintptr_t addr = (uintptr_t)p;
      auto next = live.lower_bound(addr);
      if (next != live.end()) {
        ASSERT_LE(addr + size, next->first) << "overlaps the next block";
      }
      if (next != live.begin()) {
        auto prev = std::prev(next);
        ASSERT_LE(prev->first + prev->second.layout.size, addr) << "overlaps the previous block";
      }
      unsigned char fill = (unsigned char)rng();
      std::memset(p, fill, size);
      live[addr] = Live{layout, fill};
    } else {
      auto it = live.begin();
      std::advance(it, (long)(rng() % live.size()));
      auto *p = reinterpret_cast<unsigned char *>(it->first);
      ASSERT_TRUE(AllBytesAre(p, it->second.layout.size, it->second.fill))
          << "a live block changed";
      ta_heap_free(heap_, p, it->second.layout);
      ASSERT_EQ(ta_heap_last_error(heap_), TA_OK);
      live.erase(it);
    }
  }
  for (auto &entry : live) {
    ta_heap_free(heap_, reinterpret_cast<void *>(entry.first), entry.second.layout);
  }
  EXPECT_EQ(ta_heap_last_error(heap_), TA_OK);
}

TEST(Heap, DestroyWithLiveBlocksThenANewHeapWorks) {
  for (int round = 0; round < 3; round++) {
    ta_heap_t *heap = ta_heap_new();
    ASSERT_NE(heap, nullptr);
    for (int i = 0; i < 5000; i++) {
      ASSERT_NE(ta_heap_alloc(heap, Layout((size_t)(i % 3000))), nullptr);
    }
    ASSERT_NE(ta_heap_alloc(heap, Layout(10 << 20, 4096)), nullptr);
    ta_heap_destroy(heap);
  }
  ta_heap_destroy(nullptr);
}

TEST_F(HeapTest, InvalidLayoutsAreRefusedWithAnError) {
  EXPECT_EQ(ta_heap_alloc(heap_, ta_layout_t{16, 3}), nullptr);
  EXPECT_EQ(ta_heap_last_error(heap_), TA_ERR_INVALID_LAYOUT);
  EXPECT_EQ(ta_heap_alloc(heap_, ta_layout_t{16, 0}), nullptr);
  EXPECT_EQ(ta_heap_last_error(heap_), TA_ERR_INVALID_LAYOUT);
  EXPECT_EQ(ta_heap_alloc(heap_, ta_layout_t{SIZE_MAX - 4, 8}), nullptr);
  EXPECT_EQ(ta_heap_last_error(heap_), TA_ERR_INVALID_LAYOUT);
  void *p = ta_heap_alloc(heap_, Layout(32));
  ASSERT_NE(p, nullptr);
  ta_heap_free(heap_, p, ta_layout_t{32, 6});
  EXPECT_EQ(ta_heap_last_error(heap_), TA_ERR_INVALID_LAYOUT);
  ta_heap_free(heap_, p, Layout(32));  // still live: the bad free did nothing
}

TEST_F(HeapTest, HugeSizesFailWithOutOfMemoryAndTheHeapGoesOn) {
  ta_layout_t huge = Layout((size_t)PTRDIFF_MAX - 4096, 8);
  EXPECT_EQ(ta_heap_alloc(heap_, huge), nullptr);
  EXPECT_EQ(ta_heap_last_error(heap_), TA_ERR_OUT_OF_MEMORY);
  void *p = ta_heap_alloc(heap_, Layout(100));
  ASSERT_NE(p, nullptr);
  ta_heap_free(heap_, p, Layout(100));
}

TEST_F(HeapTest, NullArgumentsAreNoOpsOrErrors) {
  ta_heap_free(heap_, nullptr, Layout(8));
  EXPECT_EQ(ta_heap_last_error(heap_), TA_OK);
  EXPECT_EQ(ta_heap_alloc(nullptr, Layout(8)), nullptr);
  EXPECT_EQ(ta_heap_last_error(nullptr), TA_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ta_usable_size(nullptr), 0u);
  // Freeing a live block without a heap is refused and leaves it live.
  void *p = ta_heap_alloc(heap_, Layout(24));
  ASSERT_NE(p, nullptr);
  ta_heap_free(nullptr, p, Layout(24));
  ta_heap_free(heap_, p, Layout(24));
  EXPECT_EQ(ta_heap_last_error(heap_), TA_OK) << "the block was freed without its heap";
}

TEST_F(HeapTest, ForeignPointersAreRefused) {
  void *from_malloc = std::malloc(64);
  ta_heap_free(heap_, from_malloc, Layout(64));
  EXPECT_EQ(ta_heap_last_error(heap_), TA_ERR_INVALID_POINTER);
  EXPECT_EQ(ta_usable_size(from_malloc), 0u);
  std::free(from_malloc);
  int on_stack = 0;
  ta_heap_free(heap_, &on_stack, Layout(sizeof on_stack));
  EXPECT_EQ(ta_heap_last_error(heap_), TA_ERR_INVALID_POINTER);
  static char in_data[64];
  ta_heap_free(heap_, in_data, Layout(64));
  EXPECT_EQ(ta_heap_last_error(heap_), TA_ERR_INVALID_POINTER);
}

// The free fast path looks up the segment map with the address bits above
// 2^48 dropped: a pointer up there finds the live segment below it, and must
// still be refused without being read (it is not mapped: a read crashes).
TEST_F(HeapTest, PointersAboveTheMapThatWrapOntoALiveBlockAreRefusedUnread) {
  void *p = ta_heap_alloc(heap_, Layout(64));
  ASSERT_NE(p, nullptr);
  for (uintptr_t high : {(uintptr_t)1 << 48, (uintptr_t)1 << 56, (uintptr_t)1 << 63,
                         ~(uintptr_t)0 << 48}) {
    void *wrapped = reinterpret_cast<void *>(reinterpret_cast<uintptr_t>(p) | high);
    ta_heap_free(heap_, wrapped, Layout(64));
    EXPECT_EQ(ta_heap_last_error(heap_), TA_ERR_INVALID_POINTER) << wrapped;
    ta_heap_t *other = ta_heap_new();
    ASSERT_NE(other, nullptr);
    ta_heap_free(other, wrapped, Layout(64));  // through the remote branch's checks
    EXPECT_EQ(ta_heap_last_error(other), TA_ERR_INVALID_POINTER) << wrapped;
    ta_heap_destroy(other);
    EXPECT_EQ(ta_usable_size(wrapped), 0u);
  }
  EXPECT_EQ(ta_usable_size(p), 64u) << "the block below stays live";
  ta_heap_free(heap_, p, Layout(64));
  EXPECT_EQ(ta_usable_size(p), 0u);
}

// A page emptied and taken again for another class keeps the old blocks'
// free marks at what are now interior offsets of the new blocks. A program
// may copy those uninitialised bytes around inside its block (memmove is
// fine on them), also to offset 8, where a block's free mark sits: the
// block must still count as live, for ta_usable_size (realloc) and for a
// free through another heap.
TEST_F(HeapTest, AnOldMarkCopiedIntoALiveBlockDoesNotMakeItFree) {
  // Time stands still, so that the emptied pages are not purged (zeroed)
  // before the new class takes them, however slowly the test runs.
  struct FrozenClock {
    FrozenClock() {
      ta_clock_set([](void *) -> uint64_t { return 1000; }, nullptr);
    }
    ~FrozenClock() { ta_clock_set(nullptr, nullptr); }
  } frozen;
  std::vector<void *> small;
  for (int i = 0; i < 8192; i++) {
    small.push_back(ta_heap_alloc(heap_, Layout(16)));
    ASSERT_NE(small.back(), nullptr);
  }
  // The first block stays live: its segment stays with the heap, and the
  // emptied pages stay resident in it (no arena return, whose retention cap
  // earlier tests may have used up, and no collect, which would purge).
  std::set<uintptr_t> old_blocks;
  for (size_t i = 1; i < small.size(); i++) {
    old_blocks.insert(reinterpret_cast<uintptr_t>(small[i]));
    ta_heap_free(heap_, small[i], Layout(16));
  }
  int checked = 0;
  std::vector<void *> big;
  for (int i = 0; i < 2048; i++) {
    auto *p = static_cast<unsigned char *>(ta_heap_alloc(heap_, Layout(48)));
    ASSERT_NE(p, nullptr);
    big.push_back(p);
    uintptr_t inner = reinterpret_cast<uintptr_t>(p) + 16;
    if (old_blocks.count(inner) == 0) continue;  // not over an old 16-byte block
    std::memmove(p + 8, p + 24, 8);              // the old block's mark
    uintptr_t copied;
    std::memcpy(&copied, p + 8, sizeof copied);
    ASSERT_NE(copied, 0u) << "the old page was purged: no old mark to copy";
    EXPECT_EQ(ta_usable_size(p), 48u) << "a live block read as free";
    checked++;
  }
  ASSERT_GT(checked, 0) << "no 48-byte block over the old 16-byte blocks: the test proves nothing";
  ta_heap_t *other = ta_heap_new();
  ASSERT_NE(other, nullptr);
  for (void *p : big) ta_heap_free(other, p, Layout(48));
  EXPECT_EQ(ta_heap_last_error(other), TA_OK) << "a free through another heap was refused";
  ta_heap_destroy(other);
  ta_heap_free(heap_, small[0], Layout(16));
  ta_heap_collect(heap_);
}

TEST_F(HeapTest, InteriorPointersAreRefusedAndTheBlockStaysLive) {
  for (size_t size : {(size_t)24, (size_t)100, (size_t)3000, (size_t)40000, (size_t)300000,
                      (size_t)5 << 20}) {
    auto *p = static_cast<unsigned char *>(ta_heap_alloc(heap_, Layout(size)));
    ASSERT_NE(p, nullptr);
    std::memset(p, 7, size);
    ta_heap_free(heap_, p + 8, Layout(8));
    EXPECT_EQ(ta_heap_last_error(heap_), TA_ERR_INVALID_POINTER) << size;
    ta_heap_free(heap_, p + size / 2 + 8, Layout(1));
    EXPECT_EQ(ta_heap_last_error(heap_), TA_ERR_INVALID_POINTER) << size;
    ASSERT_TRUE(AllBytesAre(p, size, 7)) << size;
    ta_heap_free(heap_, p, Layout(size));
  }
}

TEST_F(HeapTest, DoubleFreesAreDetected) {
  for (size_t size : {(size_t)16, (size_t)200, (size_t)9000, (size_t)100000, (size_t)3 << 20}) {
    void *keep = ta_heap_alloc(heap_, Layout(size));  // keeps the page in use
    void *p = ta_heap_alloc(heap_, Layout(size));
    ASSERT_NE(p, nullptr);
    ta_heap_free(heap_, p, Layout(size));
    ASSERT_EQ(ta_heap_last_error(heap_), TA_OK) << size;
    ta_heap_free(heap_, p, Layout(size));
    EXPECT_EQ(ta_heap_last_error(heap_), TA_ERR_INVALID_POINTER) << size;
    // The free lists are intact: the next two allocations are distinct.
    void *a = ta_heap_alloc(heap_, Layout(size));
    void *b = ta_heap_alloc(heap_, Layout(size));
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_NE(a, b);
    ta_heap_free(heap_, a, Layout(size));
    ta_heap_free(heap_, b, Layout(size));
    ta_heap_free(heap_, keep, Layout(size));
    ta_heap_free(heap_, keep, Layout(size));  // and the last free of a page too
    EXPECT_EQ(ta_heap_last_error(heap_), TA_ERR_INVALID_POINTER) << size;
    ta_heap_t *fresh = ta_heap_new();  // a clean last error for the next round
    ta_heap_destroy(heap_);
    heap_ = fresh;
  }
}

TEST_F(HeapTest, ASizeLargerThanTheBlockIsRefused) {
  for (size_t size : {(size_t)40, (size_t)5 << 20}) {
    void *p = ta_heap_alloc(heap_, Layout(size));
    ASSERT_NE(p, nullptr);
    ta_heap_free(heap_, p, Layout(ta_usable_size(p) + 1));
    EXPECT_EQ(ta_heap_last_error(heap_), TA_ERR_INVALID_POINTER) << size;
    EXPECT_GE(ta_usable_size(p), size) << "still live";
    ta_heap_free(heap_, p, Layout(size));
    EXPECT_EQ(ta_usable_size(p), 0u) << size;
  }
}

TEST_F(HeapTest, BlocksFreedThroughAnotherLiveHeapGoBackToTheirOwner) {
  ta_heap_t *other = ta_heap_new();
  ASSERT_NE(other, nullptr);
  std::vector<void *> blocks;
  for (int i = 0; i < 3000; i++) blocks.push_back(ta_heap_alloc(heap_, Layout(64)));
  blocks.push_back(ta_heap_alloc(heap_, Layout(6 << 20)));
  for (size_t i = 0; i + 1 < blocks.size(); i++) ta_heap_free(other, blocks[i], Layout(64));
  ta_heap_free(other, blocks.back(), Layout(6 << 20));
  EXPECT_EQ(ta_heap_last_error(other), TA_OK);
  ta_heap_free(other, blocks[0], Layout(64));
  EXPECT_EQ(ta_heap_last_error(other), TA_ERR_INVALID_POINTER) << "remote double free";
  // The owner reuses every block once it collects them: after at most a
  // page's worth of fresh blocks, all 3000 come back.
  std::set<void *> again;
  for (int i = 0; i < 5000; i++) again.insert(ta_heap_alloc(heap_, Layout(64)));
  size_t reused = 0;
  for (size_t i = 0; i + 1 < blocks.size(); i++) reused += again.count(blocks[i]);
  EXPECT_EQ(reused, 3000u);
  ta_heap_destroy(other);
}

}  // namespace
