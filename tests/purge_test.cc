// Memory return on a test clock, measured by the counting mapper: free memory
// goes back to the OS once the purge delay has passed while the program keeps
// making small allocations, never retained beyond the cap; pages emptied by
// remote frees go back; a huge block freed through another heap goes back
// after the delay even if its owner never takes it. Each test runs over a mapper that decommits (as on Windows) and, where
// the OS's mapper can purge (Linux), over that one: memory then goes back
// purged, with no decommit, and is reused with no commit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "tinyalloc/clock.h"
#include "tinyalloc/mapper.h"
#include "tinyalloc/testing/counting_mapper.h"
#include "tinyalloc/tinyalloc.h"

namespace {

constexpr size_t kMiB = (size_t)1 << 20;

ta_layout_t Layout(size_t size) {
  ta_layout_t layout;
  EXPECT_EQ(ta_layout_make(size, 16, &layout), TA_OK);
  return layout;
}

uint64_t clock_now = 0;
uint64_t TestClock(void *) { return clock_now; }

enum class Base { kDecommitting, kPurging };

std::vector<Base> Bases() {
  if (ta_mapper_default()->purge == nullptr) return {Base::kDecommitting};
  return {Base::kDecommitting, Base::kPurging};
}

// Each test: the counting mapper, a test clock, a 100 ms purge delay and a
// 1 GiB retention cap unless the test says otherwise; everything released
// at the end.
class PurgeTest : public ::testing::TestWithParam<Base> {
 protected:
  void SetUp() override {
    ta_trim();
    base_ = *ta_mapper_default();
    if (GetParam() == Base::kDecommitting) base_.purge = nullptr;
    cm_ = ta_counting_mapper_new(&base_);
    ASSERT_NE(cm_, nullptr);
    ASSERT_EQ(ta_mapper_set(ta_counting_mapper_table(cm_)), TA_OK);
    clock_now = 1000;
    ta_clock_set(TestClock, nullptr);
    delay_ = ta_option_get(TA_OPTION_PURGE_DELAY_MS);
    retain_ = ta_option_get(TA_OPTION_RETAIN_BYTES);
    ASSERT_EQ(ta_option_set(TA_OPTION_PURGE_DELAY_MS, 100), TA_OK);
    ASSERT_EQ(ta_option_set(TA_OPTION_RETAIN_BYTES, 1LL << 30), TA_OK);
  }
  void TearDown() override {
    ta_trim();
    EXPECT_TRUE(ta_counting_mapper_all_released(cm_));
    ta_counting_stats_t stats = ta_counting_mapper_stats(cm_);
    if (GetParam() == Base::kPurging) {
      EXPECT_EQ(stats.calls[TA_MAPPER_DECOMMIT], 0u) << "a purging mapper needs no decommit";
      EXPECT_EQ(stats.calls[TA_MAPPER_PROTECT], 0u);
    } else {
      EXPECT_EQ(stats.calls[TA_MAPPER_PURGE], 0u);
    }
    EXPECT_EQ(ta_mapper_set(nullptr), TA_OK);
    ta_counting_mapper_free(cm_);
    ta_clock_set(nullptr, nullptr);
    ta_option_set(TA_OPTION_PURGE_DELAY_MS, delay_);
    ta_option_set(TA_OPTION_RETAIN_BYTES, retain_);
  }
  // What the process holds: committed pages, less those purged since. Valid
  // after frees: a purged page reused with no call still counts as purged.
  size_t Held() {
    ta_counting_stats_t stats = ta_counting_mapper_stats(cm_);
    return stats.committed_bytes - stats.purged_bytes;
  }

  // What a program does between its big frees: small blocks of one size,
  // allocated and freed, a few live at a time.
  void SmallWork(ta_heap_t *heap, int rounds) {
    void *held[4] = {};
    for (int i = 0; i < rounds; i++) {
      void *&slot = held[i % 4];
      if (slot != nullptr) ta_heap_free(heap, slot, Layout(48));
      slot = ta_heap_alloc(heap, Layout(48));
      ASSERT_NE(slot, nullptr);
    }
    for (void *p : held) ta_heap_free(heap, p, Layout(48));
  }

  // Fills `blocks` with 2000 written blocks of 1 KiB (about 2 MiB: 32 pages
  // of one segment), sets *full to what is then held, and frees all but the
  // last, which keeps its page, and so the segment, in use.
  void FillThenFreeAllButLast(ta_heap_t *heap, std::vector<void *> &blocks, size_t *full) {
    blocks.assign(2000, nullptr);
    for (void *&p : blocks) {
      p = ta_heap_alloc(heap, Layout(1024));
      ASSERT_NE(p, nullptr);
      std::memset(p, 0x5a, 1024);
    }
    *full = Held();
    for (size_t i = 0; i + 1 < blocks.size(); i++) ta_heap_free(heap, blocks[i], Layout(1024));
  }

  ta_mapper_t base_{};
  ta_counting_mapper_t *cm_ = nullptr;
  long long delay_ = 0;
  long long retain_ = 0;
};

TEST_P(PurgeTest, FreedHugeBlocksGoBackOnceTheDelayHasPassed) {
  ta_heap_t *heap = ta_heap_new();
  ASSERT_NE(heap, nullptr);
  SmallWork(heap, 1000);
  const size_t baseline = Held();
  std::vector<void *> blocks;
  for (size_t mib : {1, 3, 7, 12, 20, 30}) {  // all from the arena (up to 32 MiB)
    blocks.push_back(ta_heap_alloc(heap, Layout(mib * kMiB)));
    ASSERT_NE(blocks.back(), nullptr);
  }
  const size_t peak = Held();
  ASSERT_GE(peak, baseline + 73 * kMiB);
  size_t i = 0;
  for (size_t mib : {1, 3, 7, 12, 20, 30}) ta_heap_free(heap, blocks[i++], Layout(mib * kMiB));
  // Kept for reuse while the delay runs, however much small work goes on.
  clock_now = 1099;
  SmallWork(heap, 100000);
  EXPECT_GE(Held(), baseline + 73 * kMiB);
  // Past it, the next small work gives it all back.
  clock_now = 1100;
  SmallWork(heap, 100000);
  EXPECT_LE(Held(), baseline + 4 * kMiB) << "peak " << peak / kMiB << " MiB";
  ta_heap_destroy(heap);
}

TEST_P(PurgeTest, RetentionNeverExceedsTheCap) {
  ASSERT_EQ(ta_option_set(TA_OPTION_RETAIN_BYTES, 16LL << 20), TA_OK);
  ta_heap_t *heap = ta_heap_new();
  ASSERT_NE(heap, nullptr);
  SmallWork(heap, 1000);
  const size_t baseline = Held();
  std::vector<void *> blocks;
  for (int i = 0; i < 12; i++) {
    blocks.push_back(ta_heap_alloc(heap, Layout(6 * kMiB)));  // two slots each
    ASSERT_NE(blocks.back(), nullptr);
  }
  size_t live = 12 * 8 * kMiB;
  for (void *p : blocks) {
    ta_heap_free(heap, p, Layout(6 * kMiB));
    live -= 8 * kMiB;
    EXPECT_LE(Held(), baseline + live + 16 * kMiB);
  }
  ta_heap_destroy(heap);
}

TEST_P(PurgeTest, PagesEmptiedByRemoteFreesAreRetiredAndTheirSegmentsReturned) {
  ta_heap_t *owner = ta_heap_new();
  ta_heap_t *other = ta_heap_new();
  ASSERT_NE(owner, nullptr);
  ASSERT_NE(other, nullptr);
  SmallWork(owner, 1000);
  const size_t baseline = Held();
  std::vector<void *> blocks(100000);
  for (void *&p : blocks) {
    p = ta_heap_alloc(owner, Layout(1024));
    ASSERT_NE(p, nullptr);
  }
  ASSERT_GE(Held(), baseline + 95 * kMiB);
  for (void *p : blocks) ta_heap_free(other, p, Layout(1024));
  ASSERT_EQ(ta_heap_last_error(other), TA_OK);
  // The owner goes on with other work; after the delay its upkeep collects
  // the remote frees, retires the emptied pages and returns the segments,
  // which are then purged in turn.
  clock_now += 100;
  SmallWork(owner, 100000);
  clock_now += 100;
  SmallWork(owner, 100000);
  EXPECT_LE(Held(), baseline + 8 * kMiB);
  ta_heap_destroy(other);
  ta_heap_destroy(owner);
}

TEST_P(PurgeTest, HeapCollectReturnsWhatRemoteFreesEmptiedAtOnce) {
  ASSERT_EQ(ta_option_set(TA_OPTION_PURGE_DELAY_MS, 0), TA_OK);
  ta_heap_t *owner = ta_heap_new();
  ta_heap_t *other = ta_heap_new();
  ASSERT_NE(owner, nullptr);
  ASSERT_NE(other, nullptr);
  const size_t baseline = Held();
  std::vector<void *> blocks(20000);
  for (void *&p : blocks) {
    p = ta_heap_alloc(owner, Layout(1024));
    ASSERT_NE(p, nullptr);
  }
  for (void *p : blocks) ta_heap_free(other, p, Layout(1024));
  ASSERT_GE(Held(), baseline + 19 * kMiB);
  ta_heap_collect(owner);
  EXPECT_LE(Held(), baseline + 4 * kMiB);
  ta_heap_destroy(other);
  ta_heap_destroy(owner);
}

// A huge block freed through another heap waits for its owner during the
// purge delay; past it, another thread's upkeep gives its memory back (all
// but its first page), although the owner does nothing.
TEST_P(PurgeTest, AHugeBlockFreedThroughAnotherHeapGoesBackAfterTheDelayWithoutItsOwner) {
  ta_heap_t *owner = ta_heap_new();
  ta_heap_t *other = ta_heap_new();
  ASSERT_NE(owner, nullptr);
  ASSERT_NE(other, nullptr);
  SmallWork(other, 1000);
  for (size_t size : {20 * kMiB, 40 * kMiB}) {  // from the arena, and mapped on its own
    const size_t before = Held();
    void *p = ta_heap_alloc(owner, Layout(size));
    ASSERT_NE(p, nullptr);
    ASSERT_GE(Held(), before + size);
    ta_heap_free(other, p, Layout(size));
    ASSERT_EQ(ta_heap_last_error(other), TA_OK);
    SmallWork(other, 100000);
    EXPECT_GE(Held(), before + size) << "kept for its owner while the delay runs";
    clock_now += 100;
    SmallWork(other, 100000);
    EXPECT_LE(Held(), before + 1 * kMiB) << size / kMiB << " MiB";
    ta_heap_collect(owner);
  }
  ta_heap_destroy(other);
  ta_heap_destroy(owner);
}

// An owner that takes such a block back in time reuses it as it is: no
// system call between the free and the next block of that size.
TEST_P(PurgeTest, AHugeBlockItsOwnerTakesBackInTimeIsReusedWithNoSystemCall) {
  ta_heap_t *owner = ta_heap_new();
  ta_heap_t *other = ta_heap_new();
  ASSERT_NE(owner, nullptr);
  ASSERT_NE(other, nullptr);
  const size_t size = 20 * kMiB;
  void *p = ta_heap_alloc(owner, Layout(size));
  ASSERT_NE(p, nullptr);
  std::memset(p, 0x5a, size);
  const ta_counting_stats_t before = ta_counting_mapper_stats(cm_);
  ta_heap_free(other, p, Layout(size));
  ASSERT_EQ(ta_heap_last_error(other), TA_OK);
  clock_now += 99;
  ta_heap_collect(owner);
  void *q = ta_heap_alloc(owner, Layout(size));
  ASSERT_EQ(q, p) << "the same slots, first fit";
  const ta_counting_stats_t after = ta_counting_mapper_stats(cm_);
  for (ta_mapper_op_t op : {TA_MAPPER_RESERVE, TA_MAPPER_COMMIT, TA_MAPPER_DECOMMIT,
                            TA_MAPPER_PURGE, TA_MAPPER_RELEASE}) {
    EXPECT_EQ(after.calls[op], before.calls[op]) << "mapper function " << op;
  }
  ta_heap_free(owner, q, Layout(size));
  ta_heap_destroy(other);
  ta_heap_destroy(owner);
}

// Pages left free inside a segment still in use go back once the delay has
// passed, where the mapper can purge (they stay committed, so reuse needs no
// call); a decommitting mapper keeps them, since using one again would then
// take a commit.
TEST_P(PurgeTest, FreePagesOfASegmentInUseGoBackAfterTheDelayWhereTheMapperCanPurge) {
  ta_heap_t *heap = ta_heap_new();
  ASSERT_NE(heap, nullptr);
  SmallWork(heap, 1000);
  std::vector<void *> blocks;
  size_t full = 0;
  ASSERT_NO_FATAL_FAILURE(FillThenFreeAllButLast(heap, blocks, &full));
  SmallWork(heap, 100000);
  EXPECT_GE(Held(), full) << "kept while the delay runs";
  const size_t commits = ta_counting_mapper_stats(cm_).calls[TA_MAPPER_COMMIT];
  clock_now += 100;
  SmallWork(heap, 100000);
  if (GetParam() == Base::kPurging) {
    EXPECT_LE(Held() + (size_t)3 * kMiB / 2, full) << "full " << full / 1024 << " KiB";
  } else {
    EXPECT_GE(Held(), full);
  }
  // Used again: no commit, and the old bytes are gone where they went back.
  for (size_t i = 0; i + 1 < blocks.size(); i++) {
    blocks[i] = ta_heap_alloc(heap, Layout(1024));
    ASSERT_NE(blocks[i], nullptr);
    if (GetParam() == Base::kPurging && i > 100 && i < 1800) {
      ASSERT_EQ(static_cast<unsigned char *>(blocks[i])[512], 0) << i;
    }
  }
  EXPECT_EQ(ta_counting_mapper_stats(cm_).calls[TA_MAPPER_COMMIT], commits);
  for (void *p : blocks) ta_heap_free(heap, p, Layout(1024));
  ta_heap_destroy(heap);
}

// A segment still taking pages keeps its free pages resident: a program that
// cycles through its pages would fault them back in (the frag workload did,
// with twice the time). Once it has been quiet for the delay they go back.
TEST_P(PurgeTest, FreePagesOfASegmentStillTakingPagesWaitForItToBeQuiet) {
  if (GetParam() == Base::kDecommitting) {
    EXPECT_EQ(base_.purge, nullptr) << "free pages of a segment in use stay: nothing to wait for";
    return;
  }
  ta_heap_t *heap = ta_heap_new();
  ASSERT_NE(heap, nullptr);
  SmallWork(heap, 1000);
  std::vector<void *> blocks;
  size_t full = 0;
  ASSERT_NO_FATAL_FAILURE(FillThenFreeAllButLast(heap, blocks, &full));
  clock_now += 60;
  void *other = ta_heap_alloc(heap, Layout(2048));  // another class: a page of the same segment
  ASSERT_NE(other, nullptr);
  clock_now += 50;  // the pages have been free 110 ms, the segment quiet 50
  SmallWork(heap, 100000);
  EXPECT_GE(Held(), full) << "kept while the segment takes pages";
  clock_now += 100;  // the next upkeep: quiet for 150 ms
  SmallWork(heap, 100000);
  EXPECT_LE(Held() + (size_t)3 * kMiB / 2, full) << "gone once it is quiet";
  ta_heap_free(heap, other, Layout(2048));
  ta_heap_free(heap, blocks.back(), Layout(1024));
  ta_heap_destroy(heap);
}

// A page a program freed most of and then left alone gives back the OS
// pages that hold only free blocks, while it stays in use (Linux: a purge
// leaves them usable; elsewhere they stay). Blocks in them are free to every
// check: a second free is refused, through the owner or another heap, and
// neither the visitor nor ta_heap_contains sees them. The page takes them
// back once its other blocks are gone, before any new page.
TEST_P(PurgeTest, FreeBlocksOfAPageInUseGoBackOnceThePageHasBeenQuiet) {
  ta_heap_t *heap = ta_heap_new();
  ta_heap_t *other = ta_heap_new();
  ASSERT_NE(heap, nullptr);
  ASSERT_NE(other, nullptr);
  SmallWork(heap, 1000);
  // 1 KiB blocks: 640 fill ten 64 KiB pages; one in 16 stays live, so three
  // OS pages of every four (4 KiB each) hold only free blocks.
  std::vector<void *> blocks(640);
  for (void *&p : blocks) {
    p = ta_heap_alloc(heap, Layout(1024));
    ASSERT_NE(p, nullptr);
    std::memset(p, 0x5a, 1024);
  }
  void *extra = ta_heap_alloc(heap, Layout(1024));  // the class's serving page, left alone
  ASSERT_NE(extra, nullptr);
  const size_t full = Held();
  std::vector<void *> freed;
  for (size_t i = 0; i < blocks.size(); i++) {
    if (i % 16 == 0) continue;
    ta_heap_free(heap, blocks[i], Layout(1024));
    freed.push_back(blocks[i]);
  }
  clock_now += 100;
  SmallWork(heap, 100000);
  EXPECT_GE(Held(), full) << "the first upkeep after the frees only notes the pages";
  clock_now += 100;
  SmallWork(heap, 100000);
  const size_t purged = full - std::min(full, Held());
  if (GetParam() == Base::kPurging) {
    EXPECT_GE(purged, (size_t)8 * 48 * 1024) << "most of 10 pages x 48 KiB";
  } else {
    EXPECT_EQ(purged, 0u);
  }
  // Every freed block is free to every check, purged or not.
  size_t live = 0;
  ASSERT_EQ(ta_heap_visit_blocks(
                heap,
                [](const ta_heap_t *, void *, size_t, void *arg) {
                  ++*static_cast<size_t *>(arg);
                  return true;
                },
                &live),
            TA_OK);
  EXPECT_EQ(live, blocks.size() / 16 + 1);
  for (void *p : freed) {
    ASSERT_FALSE(ta_heap_contains(heap, p)) << p;
    ASSERT_EQ(ta_usable_size(p), 0u) << p;
    ta_heap_free(heap, p, Layout(1024));
    ASSERT_EQ(ta_heap_last_error(heap), TA_ERR_INVALID_POINTER) << p;
    ta_heap_free(other, p, Layout(1024));
    ASSERT_EQ(ta_heap_last_error(other), TA_ERR_INVALID_POINTER) << p;
  }
  // Taken back before any new page: once the serving page is full, the
  // freed addresses again, zero where purged.
  const size_t commits = ta_counting_mapper_stats(cm_).calls[TA_MAPPER_COMMIT];
  const uintptr_t serving = reinterpret_cast<uintptr_t>(extra) >> 16;
  std::set<void *> missing(freed.begin(), freed.end());
  std::vector<void *> again;
  size_t zeroed = 0;
  while (!missing.empty() && again.size() < freed.size() + 64) {
    void *p = ta_heap_alloc(heap, Layout(1024));
    ASSERT_NE(p, nullptr);
    again.push_back(p);
    if (missing.erase(p) == 0) {
      ASSERT_EQ(reinterpret_cast<uintptr_t>(p) >> 16, serving) << "a new page before the holes";
    }
    zeroed += static_cast<unsigned char *>(p)[1000] == 0;
    std::memset(p, 0x3c, 1024);
  }
  EXPECT_TRUE(missing.empty());
  EXPECT_EQ(ta_counting_mapper_stats(cm_).calls[TA_MAPPER_COMMIT], commits);
  if (GetParam() == Base::kPurging) {
    EXPECT_GE(zeroed * 1024, purged / 2);
  }
  for (size_t i = 0; i < blocks.size(); i += 16) {
    EXPECT_EQ(static_cast<unsigned char *>(blocks[i])[1023], 0x5a) << "a live block kept its bytes";
    ta_heap_free(heap, blocks[i], Layout(1024));
  }
  for (void *p : again) ta_heap_free(heap, p, Layout(1024));
  ta_heap_free(heap, extra, Layout(1024));
  EXPECT_EQ(ta_heap_last_error(heap), TA_ERR_INVALID_POINTER) << "unchanged since the refusals";
  ta_heap_destroy(other);
  ta_heap_destroy(heap);
}

// Holes refilled soon after their purge undid it (their memory faults back
// in): the page's next purge of holes waits for two quiet upkeeps rather
// than one. (The rule, shared with free pages of a segment, and its way
// back: alloc/purge_backoff_test.)
TEST_P(PurgeTest, HolesRefilledSoonAfterTheirPurgeWaitLongerNextTime) {
  if (GetParam() == Base::kDecommitting) {
    EXPECT_EQ(base_.purge, nullptr) << "no holes without a purge: nothing to refill";
    return;
  }
  ta_heap_t *heap = ta_heap_new();
  ASSERT_NE(heap, nullptr);
  SmallWork(heap, 1000);
  auto purges = [&] { return ta_counting_mapper_stats(cm_).calls[TA_MAPPER_PURGE]; };
  auto quiet_then_work = [&](uint64_t ms) {
    clock_now += ms;
    SmallWork(heap, 100000);
  };
  // As in the test above: ten pages of 1 KiB blocks, one in 16 kept live.
  std::vector<void *> blocks(640);
  for (void *&p : blocks) {
    p = ta_heap_alloc(heap, Layout(1024));
    ASSERT_NE(p, nullptr);
  }
  void *extra = ta_heap_alloc(heap, Layout(1024));
  ASSERT_NE(extra, nullptr);
  auto free_most = [&] {
    for (size_t i = 0; i < blocks.size(); i++) {
      if (i % 16 != 0) ta_heap_free(heap, blocks[i], Layout(1024));
    }
  };
  free_most();
  quiet_then_work(100);
  size_t before = purges();
  quiet_then_work(100);
  ASSERT_GT(purges(), before) << "holes purged after one quiet upkeep";
  quiet_then_work(10);
  for (size_t i = 0; i < blocks.size(); i++) {  // every hole refilled, 10 ms after the purge
    if (i % 16 == 0) continue;
    blocks[i] = ta_heap_alloc(heap, Layout(1024));
    ASSERT_NE(blocks[i], nullptr);
  }
  free_most();
  quiet_then_work(100);
  before = purges();
  quiet_then_work(100);
  EXPECT_EQ(purges(), before) << "one quiet upkeep is no longer enough";
  quiet_then_work(100);
  EXPECT_GT(purges(), before) << "purged after two";
  for (size_t i = 0; i < blocks.size(); i += 16) ta_heap_free(heap, blocks[i], Layout(1024));
  ta_heap_free(heap, extra, Layout(1024));
  ta_heap_destroy(heap);
}

// A freed huge block is kept whole for the next one of its size, from any
// heap: no system call, the same address; a second free of it is refused
// while it waits. Past the delay it goes back like any free memory.
TEST_P(PurgeTest, AFreedHugeBlockIsReusedByTheNextOfItsSizeWithNoSystemCall) {
  ta_heap_t *first = ta_heap_new();
  ta_heap_t *second = ta_heap_new();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  SmallWork(first, 1000);
  const size_t baseline = Held();
  for (size_t size : {1 * kMiB, 8 * kMiB, 40 * kMiB}) {  // arena slots, and mapped on its own
    void *p = ta_heap_alloc(first, Layout(size));
    ASSERT_NE(p, nullptr);
    ta_heap_free(first, p, Layout(size));
    ta_heap_free(first, p, Layout(size));
    EXPECT_EQ(ta_heap_last_error(first), TA_ERR_INVALID_POINTER) << "a double free while kept";
    const ta_counting_stats_t before = ta_counting_mapper_stats(cm_);
    void *q = ta_heap_alloc(second, Layout(size - 4096));
    EXPECT_EQ(q, p) << size / kMiB << " MiB";
    const ta_counting_stats_t after = ta_counting_mapper_stats(cm_);
    for (int op = 0; op < TA_MAPPER_OP_COUNT; op++) {
      EXPECT_EQ(after.calls[op], before.calls[op]) << "mapper function " << op;
    }
    ta_heap_free(second, q, Layout(size - 4096));
  }
  EXPECT_GE(Held(), baseline + 40 * kMiB) << "kept while the delay runs";
  clock_now += 100;
  SmallWork(first, 100000);
  EXPECT_LE(Held(), baseline + 4 * kMiB);
  // A block of another size finds none to take: what is kept goes to the
  // arena, and the new block gets its slots rather than new ones.
  void *p = ta_heap_alloc(first, Layout(8 * kMiB));
  ASSERT_NE(p, nullptr);
  ta_heap_free(first, p, Layout(8 * kMiB));
  void *q = ta_heap_alloc(first, Layout(2 * kMiB));
  EXPECT_EQ(q, p) << "the first of the slots the 8 MiB block had";
  ta_heap_free(first, q, Layout(2 * kMiB));
  ta_heap_destroy(second);
  ta_heap_destroy(first);
}

// A program that only allocates and frees huge blocks takes no slow path
// that would purge memory whose delay has passed: when the retention cap is
// held by such memory, a huge block's free purges it first and keeps the
// block, so that the next block of its size needs no system call (it was
// unmapped and mapped again on every pair, after a big heap's destroy).
TEST_P(PurgeTest, AHugeFreeMakesRoomUnderTheCapFromMemoryWhoseDelayHasPassed) {
  ASSERT_EQ(ta_option_set(TA_OPTION_RETAIN_BYTES, 96LL << 20), TA_OK);  // one 64 MiB block fits
  // A big heap of small blocks, destroyed: its segments hold the cap.
  ta_heap_t *big = ta_heap_new();
  ASSERT_NE(big, nullptr);
  std::vector<void *> blocks(100000);  // 100 MiB of 1 KiB blocks
  for (void *&p : blocks) {
    p = ta_heap_alloc(big, Layout(1024));
    ASSERT_NE(p, nullptr);
  }
  for (void *p : blocks) ta_heap_free(big, p, Layout(1024));
  ta_heap_destroy(big);
  ta_stats_t stats;
  ASSERT_EQ(ta_stats_get(&stats), TA_OK);
  ASSERT_GT(stats.retained_bytes + 64 * kMiB, (size_t)96 * kMiB) << "the cap is held";
  clock_now += 100;  // all of it due; no slow path runs from here on
  ta_heap_t *heap = ta_heap_new();
  ASSERT_NE(heap, nullptr);
  const size_t size = 64 * kMiB;
  void *p = ta_heap_alloc(heap, Layout(size));
  ASSERT_NE(p, nullptr);
  ta_heap_free(heap, p, Layout(size));
  const ta_counting_stats_t before = ta_counting_mapper_stats(cm_);
  void *q = ta_heap_alloc(heap, Layout(size));
  ASSERT_NE(q, nullptr);
  const ta_counting_stats_t after = ta_counting_mapper_stats(cm_);
  for (int op = 0; op < TA_MAPPER_OP_COUNT; op++) {
    EXPECT_EQ(after.calls[op], before.calls[op]) << "mapper function " << op;
  }
  EXPECT_EQ(q, p);
  ta_heap_free(heap, q, Layout(size));
  ta_heap_destroy(heap);
}

// A heap keeps the huge block it freed last for itself (its front in the
// cache) and takes it back for its next block of that size with no system
// call; one it then leaves idle goes back once the delay has passed, through
// another heap's upkeep.
TEST_P(PurgeTest, TheHugeBlockAnIdleHeapFreedLastGoesBackThroughAnotherHeap) {
  ta_heap_t *idle = ta_heap_new();
  ta_heap_t *busy = ta_heap_new();
  ASSERT_NE(idle, nullptr);
  ASSERT_NE(busy, nullptr);
  SmallWork(busy, 1000);
  const size_t baseline = Held();
  const size_t size = 8 * kMiB;
  void *p = ta_heap_alloc(idle, Layout(size));
  ASSERT_NE(p, nullptr);
  ta_heap_free(idle, p, Layout(size));
  const ta_counting_stats_t before = ta_counting_mapper_stats(cm_);
  for (int round = 0; round < 3; round++) {
    void *q = ta_heap_alloc(idle, Layout(size));
    EXPECT_EQ(q, p) << round;
    ta_heap_free(idle, q, Layout(size));
    ta_heap_free(idle, q, Layout(size));
    EXPECT_EQ(ta_heap_last_error(idle), TA_ERR_INVALID_POINTER) << "a double free while kept";
  }
  const ta_counting_stats_t after = ta_counting_mapper_stats(cm_);
  for (int op = 0; op < TA_MAPPER_OP_COUNT; op++) {
    EXPECT_EQ(after.calls[op], before.calls[op]) << "mapper function " << op;
  }
  ta_stats_t kept;
  ASSERT_EQ(ta_stats_get(&kept), TA_OK);
  EXPECT_EQ(kept.huge_segments, 0u) << "free, not held";
  EXPECT_GE(kept.retained_bytes, size) << "kept for reuse";
  clock_now += 99;
  SmallWork(busy, 100000);
  EXPECT_GE(Held(), baseline + size) << "kept while the delay runs";
  clock_now += 1;
  SmallWork(busy, 100000);
  EXPECT_LE(Held(), baseline + 4 * kMiB);
  ta_heap_destroy(busy);
  ta_heap_destroy(idle);
}

// A front's segment that moves to the list (its heap goes away) keeps its
// age: it goes back once the delay has passed since its free, although the
// list already holds a younger one.
TEST_P(PurgeTest, AFrontsSegmentMovedToTheListGoesBackOnItsOwnTime) {
  ta_heap_t *gone = ta_heap_new();
  ta_heap_t *busy = ta_heap_new();
  ASSERT_NE(gone, nullptr);
  ASSERT_NE(busy, nullptr);
  SmallWork(busy, 1000);
  const size_t baseline = Held();
  void *b1 = ta_heap_alloc(busy, Layout(1 * kMiB));
  void *b2 = ta_heap_alloc(busy, Layout(1 * kMiB));
  void *p = ta_heap_alloc(gone, Layout(8 * kMiB));
  ASSERT_NE(b1, nullptr);
  ASSERT_NE(b2, nullptr);
  ASSERT_NE(p, nullptr);
  ta_heap_free(gone, p, Layout(8 * kMiB));  // its front, at 1000
  clock_now = 1080;
  ta_heap_free(busy, b1, Layout(1 * kMiB));  // its front
  ta_heap_free(busy, b2, Layout(1 * kMiB));  // the list, at 1080
  clock_now = 1090;
  ta_heap_destroy(gone);  // the 8 MiB block's segment to the list, from 1000
  const size_t kept = Held();
  ASSERT_GE(kept, baseline + 16 * kMiB);
  clock_now = 1100;
  SmallWork(busy, 100000);
  EXPECT_LE(Held(), kept - 8 * kMiB) << "the 8 MiB block's segment, due at 1100";
  EXPECT_GE(Held(), baseline + 8 * kMiB) << "the two 1 MiB blocks' segments, due at 1180";
  ta_heap_destroy(busy);
}

// A kept segment that the cache hands to the arena (a block of another size
// came) keeps its age there too: it goes back once the delay has passed
// since its free, not a whole delay after the hand-over.
TEST_P(PurgeTest, AKeptSegmentHandedToTheArenaGoesBackOnItsOwnTime) {
  ta_heap_t *heap = ta_heap_new();
  ta_heap_t *busy = ta_heap_new();
  ASSERT_NE(heap, nullptr);
  ASSERT_NE(busy, nullptr);
  SmallWork(busy, 1000);
  void *p = ta_heap_alloc(heap, Layout(16 * kMiB));
  ASSERT_NE(p, nullptr);
  ta_heap_free(heap, p, Layout(16 * kMiB));  // kept from 1000
  clock_now = 1050;
  void *q = ta_heap_alloc(heap, Layout(1 * kMiB));  // the 16 MiB one goes to the arena
  ASSERT_NE(q, nullptr);
  const size_t kept = Held();
  clock_now = 1100;
  SmallWork(busy, 100000);
  EXPECT_LE(Held(), kept - 8 * kMiB) << "the slots the 1 MiB block left, due at 1100";
  ta_heap_free(heap, q, Layout(1 * kMiB));
  ta_heap_destroy(busy);
  ta_heap_destroy(heap);
}

// Slots purged after the delay are reused as they are, reading as zero;
// decommitted ones are committed again first.
TEST_P(PurgeTest, SlotsGivenBackAreReusedEmpty) {
  ta_heap_t *heap = ta_heap_new();
  ASSERT_NE(heap, nullptr);
  SmallWork(heap, 1000);
  const size_t size = 20 * kMiB;
  void *p = ta_heap_alloc(heap, Layout(size));
  ASSERT_NE(p, nullptr);
  std::memset(p, 0x5a, size);
  ta_heap_free(heap, p, Layout(size));
  clock_now += 100;
  SmallWork(heap, 100000);
  const ta_counting_stats_t before = ta_counting_mapper_stats(cm_);
  void *q = ta_heap_alloc(heap, Layout(size));
  ASSERT_EQ(q, p) << "the same slots, first fit";
  const ta_counting_stats_t after = ta_counting_mapper_stats(cm_);
  if (GetParam() == Base::kPurging) {
    EXPECT_GT(before.calls[TA_MAPPER_PURGE], 0u);
    EXPECT_EQ(after.calls[TA_MAPPER_COMMIT], before.calls[TA_MAPPER_COMMIT]);
  } else {
    EXPECT_GT(before.calls[TA_MAPPER_DECOMMIT], 0u);
    EXPECT_GT(after.calls[TA_MAPPER_COMMIT], before.calls[TA_MAPPER_COMMIT]);
  }
  const unsigned char *bytes = static_cast<const unsigned char *>(q);
  size_t nonzero = 0;
  for (size_t i = 0; i < size; i += 4096) nonzero += bytes[i] != 0;
  EXPECT_EQ(nonzero, 0u) << "the old contents went back to the OS";
  std::memset(q, 0xa5, size);
  ta_heap_free(heap, q, Layout(size));
  ta_heap_destroy(heap);
}

std::string BaseName(const ::testing::TestParamInfo<Base> &param) {
  return param.param == Base::kPurging ? "Purging" : "Decommitting";
}

INSTANTIATE_TEST_SUITE_P(Mappers, PurgeTest, ::testing::ValuesIn(Bases()), BaseName);

}  // namespace
