// The prefixed malloc family: glibc's contract (errno, zero sizes, overflow,
// alignment, realloc), foreign pointers refused, and thread-local heaps that
// outlive their threads: abandoned at exit, adopted by the next thread.
#include "tinyalloc/malloc.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "tinyalloc/sysinfo.h"

#ifndef _WIN32
#include <sys/wait.h>
#include <unistd.h>
#endif
#ifdef __linux__
#include <sys/mman.h>
#endif

namespace {

bool Aligned(const void *p, size_t align) { return (reinterpret_cast<uintptr_t>(p) & (align - 1)) == 0; }

TEST(Malloc, BlocksAreAlignedUsableAndDistinct) {
  std::vector<void *> blocks;
  for (size_t size = 0; size < 5000; size += 7) {
    void *p = ta_malloc(size);
    ASSERT_NE(p, nullptr) << size;
    EXPECT_TRUE(Aligned(p, TA_MALLOC_ALIGN)) << size;
    EXPECT_GE(ta_malloc_usable_size(p), size);
    std::memset(p, 0xab, size);
    blocks.push_back(p);
  }
  void *a = ta_malloc(0);
  void *b = ta_malloc(0);
  ASSERT_NE(a, nullptr);
  EXPECT_NE(a, b);
  ta_free(a);
  ta_free(b);
  for (void *p : blocks) ta_free(p);
}

TEST(Malloc, ImpossibleSizesFailWithEnomem) {
  errno = 0;
  EXPECT_EQ(ta_malloc(SIZE_MAX), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(ta_malloc(PTRDIFF_MAX), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(ta_calloc(SIZE_MAX / 2, 3), nullptr);  // the product overflows
  EXPECT_EQ(errno, ENOMEM);
}

TEST(Malloc, CallocZeroesEvenReusedMemory) {
  for (int round = 0; round < 3; round++) {
    std::vector<unsigned char *> blocks;
    for (size_t size : {(size_t)24, (size_t)1000, (size_t)70000, (size_t)3 << 20}) {
      auto *p = static_cast<unsigned char *>(ta_malloc(size));
      ASSERT_NE(p, nullptr);
      std::memset(p, 0xff, size);
      ta_free(p);
      auto *q = static_cast<unsigned char *>(ta_calloc(1, size));
      ASSERT_NE(q, nullptr);
      for (size_t i = 0; i < size; i++) ASSERT_EQ(q[i], 0) << size << " at " << i;
      blocks.push_back(q);
    }
    for (auto *p : blocks) ta_free(p);
  }
}

// A huge block's usable size is its size rounded up to the OS page, not the
// rest of its segment (a 1 MiB block said 4 MiB less the header: RocksDB,
// which counts its memtable by malloc_usable_size, flushed it 50% early).
// realloc still grows it in place while its segment has room (a 1 MiB
// block's 4 MiB segment holds 2 MiB), and the usable size follows.
TEST(Malloc, AHugeBlocksUsableSizeIsItsSizeAndReallocGrowsItInPlace) {
  const size_t page = ta_sysinfo()->page_size;
  for (size_t size : {(size_t)1 << 20, ((size_t)1 << 20) + 100, ((size_t)5 << 20) + 1,
                      (size_t)8 << 20, (size_t)40 << 20}) {
    void *p = ta_malloc(size);
    ASSERT_NE(p, nullptr) << size;
    EXPECT_GE(ta_malloc_usable_size(p), size);
    EXPECT_LT(ta_malloc_usable_size(p), size + page) << size;
    ta_free(p);
  }
  // Size 0 with an alignment no class has: a huge block, still live.
  void *zero = nullptr;
  ASSERT_EQ(ta_posix_memalign(&zero, 65536, 0), 0);
  EXPECT_GT(ta_malloc_usable_size(zero), 0u);
  ta_free(zero);
  auto *p = static_cast<unsigned char *>(ta_malloc((size_t)1 << 20));
  ASSERT_NE(p, nullptr);
  std::memset(p, 0x6b, (size_t)1 << 20);
  EXPECT_EQ(ta_realloc(p, (size_t)1 << 20), p) << "the same size stays";
  EXPECT_EQ(ta_realloc(p, (size_t)2 << 20), p) << "room in its segment";
  EXPECT_EQ(ta_malloc_usable_size(p), (size_t)2 << 20);
  std::memset(p + ((size_t)1 << 20), 0x6c, (size_t)1 << 20);
  auto *q = static_cast<unsigned char *>(ta_realloc(p, (size_t)64 << 20));
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q[0], 0x6b);
  EXPECT_EQ(q[((size_t)2 << 20) - 1], 0x6c);
  ta_free(q);
}

TEST(Malloc, ReallocKeepsContentsAndFollowsGlibc) {
  EXPECT_NE(ta_realloc(nullptr, 0), nullptr) << "realloc(NULL, 0) is malloc(0)";
  auto *p = static_cast<unsigned char *>(ta_realloc(nullptr, 10));
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 10; i++) p[i] = static_cast<unsigned char>(i);
  size_t sizes[] = {20, 200, 5000, 300000, 5 << 20, 100, 3};
  size_t kept = 10;
  for (size_t size : sizes) {
    p = static_cast<unsigned char *>(ta_realloc(p, size));
    ASSERT_NE(p, nullptr) << size;
    EXPECT_GE(ta_malloc_usable_size(p), size);
    for (size_t i = 0; i < kept && i < size; i++) ASSERT_EQ(p[i], static_cast<unsigned char>(i));
    for (size_t i = kept; i < size; i++) p[i] = static_cast<unsigned char>(i);
    kept = size;
  }
  // A small shrink stays in place.
  void *q = ta_malloc(1000);
  EXPECT_EQ(ta_realloc(q, 900), q);
  // Size 0 frees and gives NULL.
  EXPECT_EQ(ta_realloc(q, 0), nullptr);
  EXPECT_EQ(ta_malloc_usable_size(q), 0u);
  // Out of memory leaves the block as it was.
  errno = 0;
  EXPECT_EQ(ta_realloc(p, SIZE_MAX), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(p[2], 2);
  ta_free(p);
}

TEST(Malloc, ForeignPointersAreRefusedUntouched) {
  alignas(16) unsigned char local[64];
  std::memset(local, 0x5c, sizeof local);
  errno = 1234;
  ta_free(local);
  ta_free(local + 16);
  EXPECT_EQ(errno, 1234) << "free keeps errno";
  EXPECT_EQ(ta_malloc_usable_size(local), 0u);
  errno = 0;
  EXPECT_EQ(ta_realloc(local, 100), nullptr);
  EXPECT_EQ(errno, EINVAL);
  for (unsigned char c : local) ASSERT_EQ(c, 0x5c);
  // A double free is refused too, and the block's memory is not reused twice.
  void *p = ta_malloc(48);
  ta_free(p);
  ta_free(p);
  void *a = ta_malloc(48);
  void *b = ta_malloc(48);
  EXPECT_NE(a, b);
  ta_free(a);
  ta_free(b);
}

// ta_free's fast path drops the address bits above 2^48 for its segment map
// lookup: such a pointer over a live block is refused, not read.
TEST(Malloc, PointersAboveTheMapAreRefusedUnread) {
  void *p = ta_malloc(64);
  ASSERT_NE(p, nullptr);
  for (uintptr_t high : {(uintptr_t)1 << 48, (uintptr_t)1 << 63}) {
    void *wrapped = reinterpret_cast<void *>(reinterpret_cast<uintptr_t>(p) | high);
    ta_free(wrapped);
    EXPECT_EQ(ta_malloc_usable_size(wrapped), 0u);
  }
  EXPECT_GE(ta_malloc_usable_size(p), 64u) << "the block below stays live";
  ta_free(p);
}

// A thread that never allocated has no heap (its fast paths see ta_no_heap):
// its frees of other threads' blocks are remote frees, its double frees are
// refused, and its first allocation makes its heap.
TEST(ThreadHeap, AThreadWithoutAHeapFreesOthersBlocks) {
  void *p = ta_malloc(100);
  void *q = ta_malloc(5000);
  ASSERT_NE(p, nullptr);
  ASSERT_NE(q, nullptr);
  std::thread([&] {
    ta_free(p);
    ta_free(q);
    ta_free(q);  // refused: the block is free already
    ta_free(nullptr);
    void *mine = ta_malloc(100);
    EXPECT_NE(mine, nullptr);
    ta_free(mine);
  }).join();
  EXPECT_EQ(ta_malloc_usable_size(p), 0u) << "freed by the other thread";
  EXPECT_EQ(ta_malloc_usable_size(q), 0u);
  void *a = ta_malloc(5000);
  void *b = ta_malloc(5000);
  EXPECT_NE(a, b) << "a double free put the block on a list twice";
  ta_free(a);
  ta_free(b);
}

TEST(Malloc, AlignedFamily) {
  for (size_t align = 1; align <= ((size_t)8 << 20); align *= 2) {
    void *p = ta_aligned_alloc(align, 100);
    ASSERT_NE(p, nullptr) << align;
    EXPECT_TRUE(Aligned(p, align)) << align;
    ta_free(p);
    void *q = reinterpret_cast<void *>(0x1);
    if (align >= sizeof(void *)) {
      ASSERT_EQ(ta_posix_memalign(&q, align, 3000), 0) << align;
      EXPECT_TRUE(Aligned(q, align));
      ta_free(q);
    } else {
      EXPECT_EQ(ta_posix_memalign(&q, align, 3000), EINVAL);
      EXPECT_EQ(q, reinterpret_cast<void *>(0x1)) << "untouched on failure";
    }
  }
  errno = 0;
  EXPECT_EQ(ta_aligned_alloc(24, 100), nullptr);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(ta_aligned_alloc(0, 100), nullptr);
  EXPECT_EQ(errno, EINVAL);
  void *q = nullptr;
  errno = 77;
  EXPECT_EQ(ta_posix_memalign(&q, 48, 10), EINVAL);
  EXPECT_EQ(errno, 77) << "EINVAL leaves errno alone";
  EXPECT_EQ(ta_posix_memalign(&q, 64, SIZE_MAX), ENOMEM);
  EXPECT_EQ(errno, ENOMEM) << "as glibc's, whose tests check it";
  errno = 0;
  EXPECT_EQ(ta_aligned_alloc((size_t)1 << 40, 16), nullptr);
  EXPECT_EQ(errno, ENOMEM);
}

// Aligned requests take a class from a formula where they can (segment.h,
// checked against the class search in size_class_test): it must be the class
// the own API picks for the same layout, and aligned. The second of each pair comes from a page that has blocks: the
// fast path's pop. Every size up to 1100 bytes, then sizes around each power
// of two and around 32 times the alignment, where the formula stops.
TEST(Malloc, AlignedBlocksTakeTheClassTheOwnApiPicks) {
  std::vector<size_t> sizes;
  for (size_t size = 0; size <= 1100; size++) sizes.push_back(size);
  for (size_t power = 2048; power <= ((size_t)1 << 19); power *= 2) {
    for (size_t size : {power / 2 + power / 4 - 8, power - 8, power, power + 8}) {
      sizes.push_back(size);
    }
  }
  ta_heap_t *heap = ta_heap_new();
  ASSERT_NE(heap, nullptr);
  for (size_t align = 16; align <= 32768; align *= 2) {
    std::vector<size_t> these = sizes;
    for (size_t size : {32 * align - 8, 32 * align, 32 * align + 8}) these.push_back(size);
    for (size_t size : these) {
      void *own = ta_heap_alloc(heap, ta_layout_t{size, align});
      ASSERT_NE(own, nullptr) << align << " " << size;
      for (int i = 0; i < 2; i++) {
        void *p = ta_aligned_alloc(align, size);
        ASSERT_NE(p, nullptr) << align << " " << size;
        EXPECT_TRUE(Aligned(p, align)) << align << " " << size;
        EXPECT_EQ(ta_malloc_usable_size(p), ta_usable_size(own)) << align << " " << size;
        ta_free(p);
      }
      ta_heap_free(heap, own, ta_layout_t{size, align});
    }
  }
  ta_heap_destroy(heap);
}

TEST(ThreadHeap, IsPerThreadAndCannotBeDestroyed) {
  ta_heap_t *mine = ta_thread_heap();
  ASSERT_NE(mine, nullptr);
  EXPECT_EQ(ta_thread_heap(), mine);
  ta_heap_destroy(mine);  // refused
  void *p = ta_malloc(100);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(ta_heap_contains(mine, p));
  ta_heap_t *theirs = nullptr;
  std::thread([&] { theirs = ta_thread_heap(); }).join();
  EXPECT_NE(theirs, mine);
  ta_free(p);
}

TEST(ThreadHeap, AnExitedThreadsHeapIsAdoptedWithItsBlocks) {
  // The first thread leaves a block live: its heap is abandoned, not freed.
  ta_heap_t *first = nullptr;
  void *left = nullptr;
  std::thread([&] {
    first = ta_thread_heap();
    left = ta_malloc(200);
    std::memset(left, 0x11, 200);
  }).join();
  ASSERT_NE(left, nullptr);
  // Freed from here, after its thread is gone: a remote free into the pool.
  ta_free(left);
  EXPECT_EQ(ta_malloc_usable_size(left), 0u);
  // The next thread that needs a heap takes that one.
  ta_heap_t *second = nullptr;
  std::thread([&] {
    second = ta_thread_heap();
    void *p = ta_malloc(200);
    EXPECT_NE(p, nullptr);
    ta_free(p);
  }).join();
  EXPECT_EQ(second, first);
}

// A thread that exits leaving blocks behind, all freed later by another
// thread: its heap's memory does not wait for a new thread to adopt it.
// Returns the segment bytes held once the blocks are freed, and before.
std::pair<size_t, size_t> LeaveBlocksBehindAndFreeThem() {
  ta_stats_t before;
  EXPECT_EQ(ta_stats_get(&before), TA_OK);
  std::vector<void *> left;
  std::thread([&] {
    for (int i = 0; i < 3000; i++) left.push_back(ta_malloc(1000));
  }).join();
  ta_stats_t held;
  EXPECT_EQ(ta_stats_get(&held), TA_OK);
  EXPECT_GT(held.segment_bytes, before.segment_bytes);
  for (void *p : left) ta_free(p);
  return {held.segment_bytes, before.segment_bytes};
}

TEST(ThreadHeap, TrimReleasesAHeapWhoseBlocksOthersFreed) {
  auto [held, before] = LeaveBlocksBehindAndFreeThem();
  ta_trim();
  ta_stats_t after;
  ASSERT_EQ(ta_stats_get(&after), TA_OK);
  EXPECT_LE(after.segment_bytes, before) << "held " << held;
}

TEST(ThreadHeap, AnotherThreadsUpkeepReleasesAHeapWhoseBlocksItFreed) {
  auto [held, before] = LeaveBlocksBehindAndFreeThem();
  // Ordinary work on this thread: its slow paths look at the pool now and
  // then (once per purge delay).
  ta_stats_t now;
  auto start = std::chrono::steady_clock::now();
  do {
    for (size_t size = 16; size < 20000; size += 24) ta_free(ta_malloc(size));
    ASSERT_EQ(ta_stats_get(&now), TA_OK);
  } while (now.segment_bytes >= held &&
           std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  EXPECT_LT(now.segment_bytes, held) << "before " << before;
}

// Thousands of short-lived threads, each leaving blocks for the main thread
// to free: what stays committed is bounded by the live data, not by the
// number of threads.
TEST(ThreadHeap, ShortLivedThreadsStrandNoMemory) {
  constexpr int kThreads = 2000;
  constexpr int kBlocks = 50;
  auto run = [&](int threads) {
    for (int t = 0; t < threads; t += 4) {
      std::vector<void *> handed;
      std::mutex mu;
      std::vector<std::thread> batch;
      for (int k = 0; k < 4; k++) {
        batch.emplace_back([&] {
          std::vector<void *> mine;
          for (int i = 0; i < kBlocks; i++) {
            void *p = ta_malloc(16 + (size_t)i * 40);
            EXPECT_NE(p, nullptr);
            mine.push_back(p);
          }
          std::lock_guard<std::mutex> lock(mu);
          handed.insert(handed.end(), mine.begin(), mine.end());
        });
      }
      for (auto &th : batch) th.join();
      for (void *p : handed) ta_free(p);
    }
  };
  run(200);  // warm up: the pool and the arena reach their working size
  ta_stats_t before;
  ASSERT_EQ(ta_stats_get(&before), TA_OK);
  run(kThreads);
  ta_stats_t after;
  ASSERT_EQ(ta_stats_get(&after), TA_OK);
  EXPECT_LE(after.segment_bytes, before.segment_bytes + ((size_t)16 << 20))
      << "segments held grew with the thread count";
}

#ifdef __linux__
// Holes purged on Linux only: the Windows mapper has no purge (a decommit
// would need a commit before the memory is used again).

size_t PurgedBytes() {
  ta_stats_t s;
  EXPECT_EQ(ta_stats_get(&s), TA_OK);
  return s.purged_bytes;
}

// A thread that allocates 4 MiB of 1000-byte blocks, frees all but one in 64
// (so its pages in use are mostly whole free OS pages) and exits: its heap is
// abandoned with them. Returns the blocks it kept and one OS page inside
// what it freed.
struct LeftHeap {
  ta_heap_t *heap = nullptr;
  std::vector<void *> kept;
  uintptr_t free_page = 0;
};
LeftHeap ExitLeavingHoles() {
  LeftHeap left;
  std::thread([&] {
    left.heap = ta_thread_heap();
    std::vector<void *> all;
    for (int i = 0; i < 4096; i++) {
      void *p = ta_malloc(1000);
      ASSERT_NE(p, nullptr);
      std::memset(p, 0x33, 1000);
      all.push_back(p);
    }
    for (size_t i = 0; i < all.size(); i++) {
      if (i % 64 == 0) {
        left.kept.push_back(all[i]);
      } else {
        ta_free(all[i]);
      }
    }
    // An OS page between the first two kept blocks, whose blocks are free.
    uintptr_t os_page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t first = ((uintptr_t)all[1] + os_page - 1) & ~(os_page - 1);
    if (first + os_page <= (uintptr_t)all[63]) left.free_page = first;
  }).join();
  return left;
}

bool Resident(uintptr_t page) {
  unsigned char in_core = 0;
  EXPECT_EQ(mincore(reinterpret_cast<void *>(page), (size_t)sysconf(_SC_PAGESIZE), &in_core), 0);
  return (in_core & 1) != 0;
}

// What another thread's upkeep does now and then: a look at one heap of the
// pool of abandoned heaps (which may hold heaps earlier tests left). Through
// an explicit heap, which adopts none as a new thread's would: its first
// upkeep comes after 16 allocations that find their class's page dry.
void VisitAbandonedHeaps() {
  ta_heap_t *heap = ta_heap_new();
  ASSERT_NE(heap, nullptr);
  for (size_t size = 16; size <= 262144; size = size * 5 / 4 + 8) {
    void *p = ta_heap_alloc(heap, ta_layout_t{size, 8});
    ASSERT_NE(p, nullptr);
    ta_heap_free(heap, p, ta_layout_t{size, 8});
  }
  ta_heap_destroy(heap);
}

// A thread's exit purges nothing: the next thread, which usually adopts its
// heap at once (a pool of short-lived workers), finds the memory committed,
// without a purge, a fault per OS page and the TLB shootdowns a purge costs
// in a process with threads. ta_trim purges it at once.
TEST(ThreadHeap, AnExitingThreadLeavesItsFreeMemoryCommittedForTheNext) {
  long long delay = ta_option_get(TA_OPTION_PURGE_DELAY_MS);
  ASSERT_EQ(ta_option_set(TA_OPTION_PURGE_DELAY_MS, 60000), TA_OK);  // nothing due meanwhile
  // The heap's own memory, looked at with mincore: the process-wide purge
  // count also moves when a thread's upkeep purges heaps earlier tests left.
  size_t before = PurgedBytes();
  LeftHeap left = ExitLeavingHoles();
  ASSERT_NE(left.free_page, 0u);
  EXPECT_TRUE(Resident(left.free_page)) << "the thread's exit purged its heap's free memory";
  ta_heap_t *adopted = nullptr;
  bool found_resident = false;
  std::thread([&] {
    adopted = ta_thread_heap();
    found_resident = Resident(left.free_page);
    std::vector<void *> again;
    for (int i = 0; i < 4096 - 64; i++) again.push_back(ta_malloc(1000));
    for (void *p : again) ta_free(p);
  }).join();
  EXPECT_EQ(adopted, left.heap);
  EXPECT_TRUE(found_resident) << "the adopting thread found its memory purged";
  for (void *p : left.kept) ta_free(p);
  ta_trim();
  EXPECT_GT(PurgedBytes(), before);
  ASSERT_EQ(ta_option_set(TA_OPTION_PURGE_DELAY_MS, delay), TA_OK);
}

// No thread adopts the heap: other threads' upkeep purges its free memory
// once it has waited the purge delay, the pages that served its
// allocations too.
TEST(ThreadHeap, AnAbandonedHeapsFreeMemoryIsPurgedOnceItsDelayHasPassed) {
  long long delay = ta_option_get(TA_OPTION_PURGE_DELAY_MS);
  ASSERT_EQ(ta_option_set(TA_OPTION_PURGE_DELAY_MS, 5), TA_OK);
  LeftHeap left = ExitLeavingHoles();
  ASSERT_NE(left.free_page, 0u);
  // Other heaps' upkeep, one visit to the pool every millisecond or so.
  auto start = std::chrono::steady_clock::now();
  while (Resident(left.free_page) &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
    ASSERT_NO_FATAL_FAILURE(VisitAbandonedHeaps());
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_FALSE(Resident(left.free_page));
  for (void *p : left.kept) ta_free(p);
  ASSERT_EQ(ta_option_set(TA_OPTION_PURGE_DELAY_MS, delay), TA_OK);
}

// Each heap's upkeep visits the pool of abandoned heaps once per purge delay,
// so where many threads run, an abandoned heap is visited many times per
// delay: its holes still wait the delay, not one visit.
TEST(ThreadHeap, AnAbandonedHeapsHolesWaitTheDelayHoweverOftenItIsVisited) {
  long long delay = ta_option_get(TA_OPTION_PURGE_DELAY_MS);
  ASSERT_EQ(ta_option_set(TA_OPTION_PURGE_DELAY_MS, 60000), TA_OK);
  LeftHeap left = ExitLeavingHoles();
  ASSERT_NE(left.free_page, 0u);
  ASSERT_TRUE(Resident(left.free_page));
  for (int i = 0; i < 64; i++) ASSERT_NO_FATAL_FAILURE(VisitAbandonedHeaps());
  EXPECT_TRUE(Resident(left.free_page)) << "visits purged the holes before the delay";
  for (void *p : left.kept) ta_free(p);
  ASSERT_EQ(ta_option_set(TA_OPTION_PURGE_DELAY_MS, delay), TA_OK);
}
#endif  // __linux__

#ifndef _WIN32
// fork() while other threads allocate, free and exit: the child, which has
// only the forking thread, must find no lock held and go on allocating.
TEST(Fork, AChildAllocatesWhileItsParentsThreadsWereBusy) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> busy;
  for (int t = 0; t < 3; t++) {
    busy.emplace_back([&] {
      while (!stop.load()) {
        // Short-lived threads: heaps abandoned and adopted all the time.
        std::thread([] {
          std::vector<void *> blocks;
          for (int i = 0; i < 100; i++) blocks.push_back(ta_malloc(16 + (size_t)i * 100));
          for (void *p : blocks) ta_free(p);
        }).join();
      }
    });
  }
  for (int round = 0; round < 20; round++) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // The child calls nothing but tinyalloc (no threads, no C++ or C
      // library allocation: their locks are not ours to vouch for), through
      // its thread heap, a new explicit heap and big blocks.
      static void *blocks[1000];
      int bad = 0;
      for (int i = 0; i < 1000; i++) {
        blocks[i] = ta_malloc((size_t)i * 37);
        bad += blocks[i] == nullptr;
      }
      void *big = ta_malloc((size_t)40 << 20);
      bad += big == nullptr;
      ta_free(big);
      for (void *p : blocks) ta_free(p);
      ta_heap_t *heap = ta_heap_new();
      bad += heap == nullptr || ta_heap_alloc(heap, ta_layout_t{100, 8}) == nullptr;
      ta_heap_destroy(heap);
      _exit(bad == 0 ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "round " << round;
  }
  stop = true;
  for (auto &th : busy) th.join();
}
#endif

}  // namespace
