// Racing double frees through other heaps: of two threads freeing one block
// at once, exactly one succeeds and the other is refused, and the owner never
// hands the block out twice (before, both could push it: the remote list got
// a self-loop and the owner looped or handed the block out again and again).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "alloc/heap.h"
#include "alloc/test_hook.h"
#include "tinyalloc/tinyalloc.h"

namespace {

ta_layout_t Layout(size_t size) {
  ta_layout_t layout;
  EXPECT_EQ(ta_layout_make(size, 8, &layout), TA_OK);
  return layout;
}

// Holds the thread `holder` at TA_TEST_REMOTE_FREE_CHECKED (the block seen
// live, not yet claimed) until `released`, or until a timeout.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  std::thread::id holder;
  bool holding = false;
  bool released = false;
};
Gate *gate = nullptr;

void GateHook(ta_test_event_t event) {
  if (event != TA_TEST_REMOTE_FREE_CHECKED) return;
  std::unique_lock<std::mutex> lock(gate->mu);
  if (std::this_thread::get_id() != gate->holder || gate->holding) return;
  gate->holding = true;
  gate->cv.notify_all();
  gate->cv.wait_for(lock, std::chrono::seconds(5), [] { return gate->released; });
}

// Frees `p` through `first` on a thread held just before its claim, frees it
// through `second` meanwhile, then lets the first go on.
void RaceTwoFrees(ta_heap_t *first, ta_heap_t *second, void *p, ta_layout_t layout) {
  Gate g;
  gate = &g;
  ta_test_hook_set(GateHook);
  std::thread held;
  {
    std::lock_guard<std::mutex> lock(g.mu);
    held = std::thread([&] {
      { std::lock_guard<std::mutex> wait_for_id(g.mu); }
      ta_heap_free(first, p, layout);
    });
    g.holder = held.get_id();
  }
  {
    std::unique_lock<std::mutex> lock(g.mu);
    ASSERT_TRUE(g.cv.wait_for(lock, std::chrono::seconds(5), [&] { return g.holding; }));
  }
  ta_heap_free(second, p, layout);
  {
    std::lock_guard<std::mutex> lock(g.mu);
    g.released = true;
  }
  g.cv.notify_all();
  held.join();
  ta_test_hook_set(nullptr);
  gate = nullptr;
}

// The owner's next allocations of the class: none may repeat an address.
void ExpectNoBlockHandedOutTwice(ta_heap_t *owner, ta_layout_t layout, int count) {
  std::set<void *> seen;
  std::vector<void *> blocks;
  for (int i = 0; i < count; i++) {
    void *q = ta_heap_alloc(owner, layout);
    ASSERT_NE(q, nullptr);
    EXPECT_TRUE(seen.insert(q).second) << "block " << q << " handed out twice";
    blocks.push_back(q);
  }
  for (void *q : blocks) ta_heap_free(owner, q, layout);
}

TEST(RemoteFreeRace, OfTwoRacingFreesOfABlockExactlyOneSucceeds) {
  ta_heap_t *owner = ta_heap_new();
  ta_heap_t *a = ta_heap_new();
  ta_heap_t *b = ta_heap_new();
  ASSERT_TRUE(owner != nullptr && a != nullptr && b != nullptr);
  ta_layout_t layout = Layout(64);
  void *p = ta_heap_alloc(owner, layout);
  ASSERT_NE(p, nullptr);
  std::memset(p, 0, 64);  // a live block whose second word is 0, as calloc'd data often is
  RaceTwoFrees(a, b, p, layout);
  EXPECT_EQ(ta_heap_last_error(b), TA_OK);  // freed first: succeeded
  EXPECT_EQ(ta_heap_last_error(a), TA_ERR_INVALID_POINTER);  // lost the claim: refused
  ExpectNoBlockHandedOutTwice(owner, layout, 2000);
  ta_heap_destroy(b);
  ta_heap_destroy(a);
  ta_heap_destroy(owner);
}

TEST(RemoteFreeRace, OfTwoRacingFreesOfAHugeBlockExactlyOneSucceeds) {
  ta_heap_t *owner = ta_heap_new();
  ta_heap_t *a = ta_heap_new();
  ta_heap_t *b = ta_heap_new();
  ASSERT_TRUE(owner != nullptr && a != nullptr && b != nullptr);
  ta_layout_t layout = Layout(1 << 20);
  void *p = ta_heap_alloc(owner, layout);
  ASSERT_NE(p, nullptr);
  std::memset(p, 0, 64);
  RaceTwoFrees(a, b, p, layout);
  EXPECT_EQ(ta_heap_last_error(b), TA_OK);
  EXPECT_EQ(ta_heap_last_error(a), TA_ERR_INVALID_POINTER);
  // The owner collects the block once, on its next huge allocation.
  void *q = ta_heap_alloc(owner, layout);
  ASSERT_NE(q, nullptr);
  ta_heap_free(owner, q, layout);
  EXPECT_EQ(ta_heap_last_error(owner), TA_OK);
  ta_heap_destroy(b);
  ta_heap_destroy(a);
  ta_heap_destroy(owner);
}

// Stress on top: two threads free the same blocks through their own heaps
// at once, many times over; the owner then never hands a block out twice.
TEST(RemoteFreeRace, ManyRacingDoubleFreesNeverCorruptTheOwner) {
  constexpr int kBlocks = 2000;
  constexpr int kRounds = 20;
  ta_heap_t *owner = ta_heap_new();
  ta_heap_t *a = ta_heap_new();
  ta_heap_t *b = ta_heap_new();
  ASSERT_TRUE(owner != nullptr && a != nullptr && b != nullptr);
  ta_layout_t layout = Layout(48);
  for (int round = 0; round < kRounds; round++) {
    std::vector<void *> blocks;
    for (int i = 0; i < kBlocks; i++) {
      void *p = ta_heap_alloc(owner, layout);
      ASSERT_NE(p, nullptr);
      std::memset(p, 0, 48);
      blocks.push_back(p);
    }
    std::atomic<int> ready{0};
    auto free_all = [&](ta_heap_t *through) {
      ready++;
      while (ready.load() < 2) std::this_thread::yield();
      for (void *p : blocks) ta_heap_free(through, p, layout);
    };
    std::thread ta(free_all, a);
    std::thread tb(free_all, b);
    ta.join();
    tb.join();
    ExpectNoBlockHandedOutTwice(owner, layout, 2 * kBlocks);
  }
  ta_heap_destroy(b);
  ta_heap_destroy(a);
  ta_heap_destroy(owner);
}

// Remote frees cost the owner in the pages that got blocks back, not in the
// number of its full pages: with 400 of them, blocks freed remotely into 3
// of them are found by taking 3 blocks, not by walking the 400 pages (which
// the owner did before, on every collection).
TEST(RemoteFrees, TheOwnerFindsThemWithoutScanningItsFullPages) {
  ta_heap_t *owner = ta_heap_new();
  ta_heap_t *other = ta_heap_new();
  ASSERT_TRUE(owner != nullptr && other != nullptr);
  ta_layout_t layout = Layout(1024);
  std::vector<void *> blocks;
  for (int i = 0; i < 400 * 64; i++) {
    void *p = ta_heap_alloc(owner, layout);
    ASSERT_NE(p, nullptr);
    blocks.push_back(p);
  }
  const uint64_t before = owner->remote_blocks_taken;
  std::set<void *> freed;
  for (size_t i : {(size_t)1000, (size_t)9000, (size_t)20000}) {
    ta_heap_free(other, blocks[i], layout);
    freed.insert(blocks[i]);
  }
  EXPECT_EQ(ta_heap_last_error(other), TA_OK);
  // Allocate until the freed blocks come back; the current page runs dry
  // first, then the owner looks for remote frees.
  std::set<void *> back;
  std::vector<void *> more;
  for (int i = 0; i < 200 && back.size() < freed.size(); i++) {
    void *p = ta_heap_alloc(owner, layout);
    ASSERT_NE(p, nullptr);
    if (freed.count(p) != 0) back.insert(p);
    more.push_back(p);
  }
  EXPECT_EQ(back, freed);
  EXPECT_EQ(owner->remote_blocks_taken - before, freed.size());
  ta_heap_destroy(other);
  ta_heap_destroy(owner);
}

}  // namespace
