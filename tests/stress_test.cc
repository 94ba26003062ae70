// Many heaps on many threads: producer/consumer hand-offs freed through the
// receiving heap (remote frees), heaps destroyed and re-created while others
// run, random sizes and alignments, every block's contents checked before it
// is freed, and at the end a counting mapper proves nothing stays reserved.
//
// Runs for TA_STRESS_SECONDS (default 3) seconds with TA_STRESS_WORKERS
// (default 4, at most 64) workers; set them higher to soak, e.g.
//   bazel test --config=tsan //tests:stress_test --test_env=TA_STRESS_SECONDS=600
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "tinyalloc/mapper.h"
#include "tinyalloc/testing/counting_mapper.h"
#include "tinyalloc/tinyalloc.h"

namespace {

constexpr int kMaxWorkers = 64;

struct Block {
  unsigned char *ptr;
  ta_layout_t layout;
  unsigned char fill;
};

// A mutex-guarded queue: the test's own hand-off; the allocator under test
// sees only the cross-heap frees that follow.
class Inbox {
 public:
  void Push(const Block &b) {
    std::lock_guard<std::mutex> lock(mu_);
    q_.push_back(b);
  }
  bool Pop(Block *b) {
    std::lock_guard<std::mutex> lock(mu_);
    if (q_.empty()) return false;
    *b = q_.front();
    q_.pop_front();
    return true;
  }

 private:
  std::mutex mu_;
  std::deque<Block> q_;
};

// A positive number from the environment, or fallback.
int EnvInt(const char *name, int fallback) {
  const char *env = std::getenv(name);
  int v = env != nullptr ? std::atoi(env) : 0;
  return v > 0 ? v : fallback;
}

int StressSeconds() { return EnvInt("TA_STRESS_SECONDS", 3); }

int StressWorkers() {
  int n = EnvInt("TA_STRESS_WORKERS", 4);
  return n < 2 ? 2 : n > kMaxWorkers ? kMaxWorkers : n;
}

ta_layout_t RandomLayout(std::mt19937_64 &rng) {
  size_t size;
  switch (rng() % 128) {
    case 0: size = (size_t)(1 + rng() % 4) << 20; break;  // huge
    case 1: case 2: case 3: case 4:
      size = 20000 + rng() % 350000; break;              // medium/large classes
    default: size = rng() % 2048; break;
  }
  size_t align = (size_t)1 << (rng() % 13);
  if (rng() % 64 == 0) align = (size_t)1 << (13 + rng() % 10);  // up to 4 MiB
  ta_layout_t layout;
  ta_layout_make(size, align, &layout);
  return layout;
}

bool Intact(const Block &b) {
  for (size_t i = 0; i < b.layout.size; i += 61) {
    if (b.ptr[i] != b.fill) return false;
  }
  return b.layout.size == 0 || b.ptr[b.layout.size - 1] == b.fill;
}

struct Shared {
  explicit Shared(int n) : workers(n), inbox(new Inbox[n]), outstanding(new std::atomic<long>[n]) {
    for (int i = 0; i < n; i++) outstanding[i].store(0);
  }
  const int workers;
  std::unique_ptr<Inbox[]> inbox;
  std::unique_ptr<std::atomic<long>[]> outstanding;  // blocks a worker's heap owns that others hold
  std::atomic<bool> stop{false};
  std::atomic<long> failures{0};
  std::atomic<long> ops{0};
  std::atomic<long> remote_frees{0};
  std::atomic<long> heaps_made{0};
  // Workers that have left their main loop and so hand out no more blocks.
  // A worker may destroy its heap only once every worker is past that point:
  // before, a block could still land in its inbox after its last drain.
  std::atomic<int> done_handing_out{0};
};

// Frees a block received from another worker through this worker's heap.
void FreeReceived(Shared &s, ta_heap_t *heap, const Block &b, int owner) {
  if (!Intact(b)) s.failures++;
  ta_heap_free(heap, b.ptr, b.layout);
  s.outstanding[owner]--;
  s.remote_frees++;
}

// Runs on its own thread with a heap made for it (before any worker starts, so
// that no worker can be left without one while others send it blocks).
void Worker(Shared &s, int id, ta_heap_t *heap) {
  std::mt19937_64 rng(1000 + id);
  std::vector<Block> live;
  long step = 0;
  auto drain = [&] {
    Block b;
    while (s.inbox[id].Pop(&b)) {
      // The owner's id is the fill modulo the number of workers.
      FreeReceived(s, heap, b, b.fill % s.workers);
    }
  };
  while (!s.stop.load(std::memory_order_relaxed)) {
    step++;
    unsigned r = (unsigned)(rng() % 100);
    if (r < 45 || live.empty()) {
      ta_layout_t layout = RandomLayout(rng);
      auto *p = static_cast<unsigned char *>(ta_heap_alloc(heap, layout));
      if (p == nullptr || (uintptr_t)p % layout.align != 0) {
        s.failures++;
        continue;
      }
      unsigned char fill = (unsigned char)((rng() % (256 / s.workers)) * s.workers + id);
      std::memset(p, fill, layout.size);
      live.push_back(Block{p, layout, fill});
    } else if (r < 75) {
      size_t i = rng() % live.size();
      Block b = live[i];
      live[i] = live.back();
      live.pop_back();
      if (!Intact(b)) s.failures++;
      ta_heap_free(heap, b.ptr, b.layout);
    } else if (r < 95) {
      size_t i = rng() % live.size();
      Block b = live[i];
      live[i] = live.back();
      live.pop_back();
      int to = (id + 1 + (int)(rng() % (s.workers - 1))) % s.workers;
      s.outstanding[id]++;
      s.inbox[to].Push(b);
    } else {
      drain();
    }
    if (step % 5000 == 0) {
      // Re-create the heap: first wait until no other worker holds a block of
      // it (freeing through a heap whose owner is gone is a user error), then
      // destroy it with its own live blocks still in it.
      while (s.outstanding[id].load() != 0 && !s.stop.load()) {
        drain();
        std::this_thread::yield();
      }
      if (s.outstanding[id].load() != 0) break;
      drain();
      // The new heap first: if it cannot be made, the old one carries on.
      ta_heap_t *fresh = ta_heap_new();
      if (fresh == nullptr) {
        s.failures++;
      } else {
        ta_heap_destroy(heap);
        live.clear();
        heap = fresh;
        s.heaps_made++;
      }
    }
    s.ops++;
  }
  // Shut down: nobody may hand us blocks any more, nobody holds ours, and
  // our inbox is empty; only then destroy the heap.
  s.done_handing_out++;
  while (s.done_handing_out.load() != s.workers || s.outstanding[id].load() != 0) {
    drain();
    std::this_thread::yield();
  }
  drain();
  ta_heap_destroy(heap);
}

TEST(Stress, ManyHeapsManyThreadsRemoteFreesNothingLeaks) {
  ta_counting_mapper_t *counting = ta_counting_mapper_new(ta_mapper_default());
  ASSERT_EQ(ta_mapper_set(ta_counting_mapper_table(counting)), TA_OK);
  Shared s(StressWorkers());
  std::vector<std::thread> threads;
  std::vector<ta_heap_t *> heaps((size_t)s.workers);
  for (auto &heap : heaps) {
    heap = ta_heap_new();
    ASSERT_NE(heap, nullptr);
    s.heaps_made++;
  }
  for (int i = 0; i < s.workers; i++) threads.emplace_back(Worker, std::ref(s), i, heaps[(size_t)i]);
  // One more thread creates and destroys short-lived heaps all along.
  std::thread churn([&s] {
    std::mt19937_64 rng(7);
    while (!s.stop.load()) {
      ta_heap_t *h = ta_heap_new();
      if (h == nullptr) {
        s.failures++;
        return;
      }
      s.heaps_made++;
      for (int i = 0; i < 200; i++) {
        ta_layout_t layout = RandomLayout(rng);
        void *p = ta_heap_alloc(h, layout);
        if (p == nullptr) s.failures++;
        if (p != nullptr && i % 2 == 0) ta_heap_free(h, p, layout);
      }
      ta_heap_destroy(h);
    }
  });
  std::this_thread::sleep_for(std::chrono::seconds(StressSeconds()));
  s.stop = true;
  for (auto &t : threads) t.join();
  churn.join();
  ta_trim();
  ASSERT_EQ(ta_mapper_set(nullptr), TA_OK);
  ta_counting_stats_t stats = ta_counting_mapper_stats(counting);
  std::printf("stress: %ld ops, %ld remote frees, %ld heaps, peak %zu MiB reserved\n",
              s.ops.load(), s.remote_frees.load(), s.heaps_made.load(),
              stats.peak_reserved_bytes >> 20);
  EXPECT_EQ(s.failures.load(), 0);
  EXPECT_GT(s.remote_frees.load(), 0);
  EXPECT_EQ(stats.violations, 0u);
  EXPECT_EQ(stats.live_reservations, 0u);
  EXPECT_EQ(stats.committed_bytes, 0u);
  ta_counting_mapper_free(counting);
}

// Regression for the arena's growth race: 64 threads each make a heap, meet,
// and allocate 16 bytes at once. Before, up to half of them could fail with
// out-of-memory after the arena reserved all its regions; now none may.
TEST(Stress, SixtyFourThreadsStartTogether) {
  constexpr int kThreads = 64;
  constexpr int kRounds = 20;
  long failed = 0;
  for (int round = 0; round < kRounds; round++) {
    std::atomic<int> ready{0};
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; t++) {
      threads.emplace_back([&] {
        ta_heap_t *heap = ta_heap_new();
        ready++;
        while (ready.load() < kThreads) std::this_thread::yield();
        ta_layout_t layout;
        ta_layout_make(16, 8, &layout);
        void *p = heap != nullptr ? ta_heap_alloc(heap, layout) : nullptr;
        if (p == nullptr) {
          failures++;
        } else {
          std::memset(p, 0x5a, 16);
          ta_heap_free(heap, p, layout);
        }
        ta_heap_destroy(heap);
      });
    }
    for (auto &th : threads) th.join();
    failed += failures.load();
    ta_trim();
  }
  EXPECT_EQ(failed, 0) << "allocations that failed in " << kRounds << " rounds of " << kThreads
                       << " threads";
}

// Heaps that free and allocate huge blocks of two sizes in turn: each takes
// back the block it freed last (its front in the huge cache) while the others,
// missing theirs, take or hand back whatever fronts hold, and a thread trims
// (which takes every front) now and then. Each block is filled and checked,
// so a segment that two heaps got at once shows.
TEST(Stress, HugeBlocksKeptForTheirHeapRaceOtherHeapsAndTrims) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 20000;
  std::atomic<int> running{kThreads};
  std::atomic<long> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      ta_heap_t *heap = ta_heap_new();
      if (heap == nullptr) bad++;
      std::minstd_rand rng(t + 1);
      for (int i = 0; heap != nullptr && i < kRounds; i++) {
        ta_layout_t layout;
        ta_layout_make((size_t)(1 + rng() % 2) << 20, 16, &layout);
        auto *p = static_cast<unsigned char *>(ta_heap_alloc(heap, layout));
        if (p == nullptr) {
          bad++;
          continue;
        }
        const unsigned char fill = static_cast<unsigned char>(t * 64 + i % 64);
        std::memset(p, fill, 4096);
        p[layout.size - 1] = fill;
        std::this_thread::yield();
        for (size_t j = 0; j < 4096; j += 512) {
          if (p[j] != fill) bad++;
        }
        if (p[layout.size - 1] != fill) bad++;
        ta_heap_free(heap, p, layout);
        if (ta_heap_last_error(heap) != TA_OK) bad++;
      }
      ta_heap_destroy(heap);
      running--;
    });
  }
  while (running.load() > 0) {
    ta_trim();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (auto &th : threads) th.join();
  EXPECT_EQ(bad.load(), 0) << "blocks that failed, lost their contents or were refused";
  // Trims raced the fronts all along: none may have lost a segment or its
  // retention budget.
  ta_trim();
  ta_stats_t after;
  ASSERT_EQ(ta_stats_get(&after), TA_OK);
  EXPECT_EQ(after.reserved_bytes, 0u);
  EXPECT_EQ(after.committed_bytes, 0u);
  EXPECT_EQ(after.segment_bytes, 0u);
  EXPECT_EQ(after.retained_bytes, 0u);
}

}  // namespace
