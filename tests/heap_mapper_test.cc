// The allocator against the platform's test mappers: out of memory is an error
// return and the heap survives it; every byte reserved is released once the
// heaps are gone; freeing a huge block gives its memory back to the OS.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <vector>

#ifdef __linux__
#include <unistd.h>
#endif

#include "tinyalloc/mapper.h"
#include "tinyalloc/testing/counting_mapper.h"
#include "tinyalloc/testing/failing_mapper.h"
#include "tinyalloc/tinyalloc.h"

namespace {

ta_layout_t Layout(size_t size, size_t align = 8) {
  ta_layout_t layout;
  EXPECT_EQ(ta_layout_make(size, align, &layout), TA_OK);
  return layout;
}

// Installs a mapper for one test and puts the default back afterwards.
class MapperScope {
 public:
  explicit MapperScope(const ta_mapper_t *mapper) { EXPECT_EQ(ta_mapper_set(mapper), TA_OK); }
  ~MapperScope() { EXPECT_EQ(ta_mapper_set(nullptr), TA_OK); }
};

TEST(HeapMapper, MapperCannotChangeWhileAHeapLives) {
  ta_heap_t *heap = ta_heap_new();
  ASSERT_NE(heap, nullptr);
  void *p = ta_heap_alloc(heap, Layout(100));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(ta_mapper_set(ta_mapper_default()), TA_ERR_IN_USE);
  ta_heap_destroy(heap);
  // The arena keeps its regions for the next heap until trimmed.
  EXPECT_GT(ta_os_live_reservations(), 0u);
  EXPECT_EQ(ta_mapper_set(ta_mapper_default()), TA_ERR_IN_USE);
  ta_trim();
  EXPECT_EQ(ta_os_live_reservations(), 0u);
  EXPECT_EQ(ta_mapper_set(ta_mapper_default()), TA_OK);
}

TEST(HeapMapper, EveryReservationIsReleasedAfterTheLastHeap) {
  ta_counting_mapper_t *counting = ta_counting_mapper_new(ta_mapper_default());
  {
    MapperScope scope(ta_counting_mapper_table(counting));
    std::vector<ta_heap_t *> heaps;
    for (int h = 0; h < 3; h++) heaps.push_back(ta_heap_new());
    for (int i = 0; i < 20000; i++) {
      ta_heap_t *heap = heaps[i % 3];
      size_t size = (i % 97 == 0) ? (size_t)(i % 7 + 1) << 20 : (size_t)(i * 37 % 70000);
      void *p = ta_heap_alloc(heap, Layout(size, (size_t)1 << (i % 14)));
      ASSERT_NE(p, nullptr);
      if (i % 3 == 0) ta_heap_free(heap, p, Layout(size, (size_t)1 << (i % 14)));
    }
    ta_counting_stats_t during = ta_counting_mapper_stats(counting);
    EXPECT_GT(during.live_reservations, 0u);
    EXPECT_GT(during.committed_bytes, 0u);
    for (ta_heap_t *heap : heaps) ta_heap_destroy(heap);
    ta_trim();
  }
  ta_counting_stats_t after = ta_counting_mapper_stats(counting);
  std::printf("counting mapper: %zu reserves, %zu commits, %zu decommits, %zu releases, "
              "peak %zu MiB reserved\n",
              after.calls[TA_MAPPER_RESERVE], after.calls[TA_MAPPER_COMMIT],
              after.calls[TA_MAPPER_DECOMMIT], after.calls[TA_MAPPER_RELEASE],
              after.peak_reserved_bytes >> 20);
  EXPECT_EQ(after.violations, 0u);
  EXPECT_EQ(after.live_reservations, 0u);
  EXPECT_EQ(after.reserved_bytes, 0u);
  EXPECT_EQ(after.committed_bytes, 0u);
  EXPECT_TRUE(ta_counting_mapper_all_released(counting));
  ta_counting_mapper_free(counting);
}

// Each kind of mapper call fails from some point on: allocations that need it
// return NULL with TA_ERR_OUT_OF_MEMORY, and once the OS relents the same heap
// allocates again.
TEST(HeapMapper, OutOfMemoryIsAnErrorAndTheHeapRecovers) {
  for (ta_mapper_op_t op : {TA_MAPPER_RESERVE, TA_MAPPER_COMMIT}) {
    ta_failing_mapper_t *failing = ta_failing_mapper_new(ta_mapper_default());
    {
      MapperScope scope(ta_failing_mapper_table(failing));
      ta_heap_t *heap = ta_heap_new();
      ASSERT_NE(heap, nullptr);
      std::vector<std::pair<void *, size_t>> live;
      for (size_t i = 0; i < 50; i++) {
        size_t size = 1000 + i * 50000;
        void *p = ta_heap_alloc(heap, Layout(size));
        ASSERT_NE(p, nullptr);
        live.push_back({p, size});
      }
      ta_failing_mapper_fail_from(failing, op, ta_failing_mapper_calls(failing, op));
      size_t failures = 0;
      for (size_t i = 0; i < 200; i++) {
        size_t size = (i % 2) ? (size_t)8 << 20 : 500 + i * 100000;
        void *p = ta_heap_alloc(heap, Layout(size));
        if (p == nullptr) {
          EXPECT_EQ(ta_heap_last_error(heap), TA_ERR_OUT_OF_MEMORY);
          failures++;
        } else {
          std::memset(p, 1, size);
          live.push_back({p, size});
        }
      }
      EXPECT_GT(failures, 0u) << "op " << op;
      EXPECT_GT(ta_failing_mapper_failures(failing, op), 0u);
      ta_failing_mapper_fail_none(failing);
      void *after = ta_heap_alloc(heap, Layout((size_t)8 << 20));
      EXPECT_NE(after, nullptr);
      ta_heap_free(heap, after, Layout((size_t)8 << 20));
      for (auto &block : live) ta_heap_free(heap, block.first, Layout(block.second));
      ta_heap_destroy(heap);
      ta_trim();
    }
    ta_failing_mapper_free(failing);
    EXPECT_EQ(ta_os_live_reservations(), 0u);
  }
}

TEST(HeapMapper, HeapNewFailsCleanlyWhenTheOsRefuses) {
  ta_failing_mapper_t *failing = ta_failing_mapper_new(ta_mapper_default());
  {
    MapperScope scope(ta_failing_mapper_table(failing));
    ta_failing_mapper_fail_from(failing, TA_MAPPER_COMMIT, 0);
    EXPECT_EQ(ta_heap_new(), nullptr);
    EXPECT_NE(ta_last_os_error(), 0);
    EXPECT_EQ(ta_os_live_reservations(), 0u);
  }
  ta_failing_mapper_free(failing);
}

TEST(HeapMapper, AHugeBlockFreedThroughAnotherHeapIsReturnedByItsOwner) {
  ta_heap_t *owner = ta_heap_new();
  ta_heap_t *other = ta_heap_new();
  ASSERT_NE(owner, nullptr);
  ASSERT_NE(other, nullptr);
  void *small = ta_heap_alloc(owner, Layout(1 << 20));  // the arena has a region now
  ASSERT_NE(small, nullptr);
  const size_t big = (size_t)40 << 20;  // mapped on its own, not from the arena
  void *p = ta_heap_alloc(owner, Layout(big));
  ASSERT_NE(p, nullptr);
  size_t with_block = ta_os_live_reservations();
  ta_heap_free(other, p, Layout(big));
  EXPECT_EQ(ta_heap_last_error(other), TA_OK);
  EXPECT_EQ(ta_os_live_reservations(), with_block) << "only the owner releases it";
  void *q = ta_heap_alloc(owner, Layout(2 << 20));  // the owner's next huge allocation
  ASSERT_NE(q, nullptr);
  // Taken back: the huge cache keeps it for the purge delay, ta_trim at once.
  ta_trim();
  EXPECT_EQ(ta_os_live_reservations(), with_block - 1);
  ta_heap_free(owner, q, Layout(2 << 20));
  ta_heap_free(owner, small, Layout(1 << 20));
  ta_heap_destroy(other);
  ta_heap_destroy(owner);
  ta_trim();
}

// Where the mapper cannot purge (Windows), a huge block from the arena freed
// through another heap and not taken back by its owner within the purge
// delay (0 here) is decommitted but its first page; when the OS then refuses
// to decommit the rest as the owner gives the slots back, they are neither
// committed nor decommitted, so the next block there must commit them again
// (found by fault_fuzz: a write fault in a fresh page).
TEST(HeapMapper, SlotsLeftPartlyDecommittedAreCommittedBeforeReuse) {
  ta_mapper_t decommitting = *ta_mapper_default();
  decommitting.purge = nullptr;
  ta_failing_mapper_t *failing = ta_failing_mapper_new(&decommitting);
  ASSERT_NE(failing, nullptr);
  const long long delay = ta_option_get(TA_OPTION_PURGE_DELAY_MS);
  ASSERT_EQ(ta_option_set(TA_OPTION_PURGE_DELAY_MS, 0), TA_OK);
  {
    MapperScope scope(ta_failing_mapper_table(failing));
    ta_heap_t *owner = ta_heap_new();
    ta_heap_t *other = ta_heap_new();
    ASSERT_NE(owner, nullptr);
    ASSERT_NE(other, nullptr);
    const size_t big = (size_t)20 << 20;  // from the arena
    void *p = ta_heap_alloc(owner, Layout(big));
    ASSERT_NE(p, nullptr);
    ta_heap_free(other, p, Layout(big));
    ASSERT_EQ(ta_heap_last_error(other), TA_OK);
    ta_failing_mapper_fail_from(failing, TA_MAPPER_DECOMMIT, 1);  // counts from here
    ta_heap_collect(owner);  // the owner returns the slots; their decommit fails
    EXPECT_GT(ta_failing_mapper_failures(failing, TA_MAPPER_DECOMMIT), 0u);
    ta_failing_mapper_fail_none(failing);
    for (size_t size : {big, (size_t)1 << 20, (size_t)100000, (size_t)48}) {
      std::vector<void *> blocks;
      for (int i = 0; i < 64 && blocks.size() * size < big * 2; i++) {
        void *q = ta_heap_alloc(owner, Layout(size));
        ASSERT_NE(q, nullptr) << size;
        std::memset(q, 0x5a, size);  // faults if the slots were left decommitted
        blocks.push_back(q);
      }
      for (void *q : blocks) ta_heap_free(owner, q, Layout(size));
    }
    ta_heap_destroy(other);
    ta_heap_destroy(owner);
    ta_trim();
  }
  ta_option_set(TA_OPTION_PURGE_DELAY_MS, delay);
  ta_failing_mapper_free(failing);
}

#ifdef __linux__
// Resident bytes of this process, from /proc (statm counts pages).
size_t ResidentBytes() {
  FILE *f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  int got = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return got == 2 ? resident * (size_t)sysconf(_SC_PAGESIZE) : 0;
}

TEST(HeapMapper, FreeingAHugeBlockLowersResidentMemory) {
  ta_heap_t *heap = ta_heap_new();
  ASSERT_NE(heap, nullptr);
  // A block aligned to more than a segment is released at once.
  const size_t size = (size_t)64 << 20;
  const size_t align = (size_t)8 << 20;
  void *p = ta_heap_alloc(heap, Layout(size, align));
  ASSERT_NE(p, nullptr);
  std::memset(p, 0xCD, size);
  size_t touched = ResidentBytes();
  ta_heap_free(heap, p, Layout(size, align));
  EXPECT_GT(touched, ResidentBytes() + size / 2) << "released at once";
  // Others (from the arena, or mapped on their own) stay committed for the
  // purge delay, for the next block of their size: no page faults then.
  // ta_trim gives them back.
  for (size_t kept_size : {(size_t)20 << 20, (size_t)64 << 20}) {
    void *q = ta_heap_alloc(heap, Layout(kept_size));
    ASSERT_NE(q, nullptr);
    std::memset(q, 0xCD, kept_size);
    touched = ResidentBytes();
    ta_heap_free(heap, q, Layout(kept_size));
    EXPECT_GT(ResidentBytes() + kept_size / 2, touched) << "kept for reuse";
    ta_trim();
    EXPECT_GT(touched, ResidentBytes() + kept_size / 2) << "returned by ta_trim";
  }
  ta_heap_destroy(heap);
  ta_trim();
}
#endif

// A mapper that puts every reservation of 64 MiB or more (arena regions,
// mapped huge blocks) at 2^48 and above, past what the segment map covers, as
// a 57-bit address space or a custom mapper may; the rest goes to the
// default mapper. Commit "succeeds" without touching anything.
constexpr uintptr_t kHighBase = (uintptr_t)1 << 48;
uintptr_t high_next = kHighBase;

int HighReserve(void *, size_t size, size_t align, void **out) {
  if (size < ((size_t)64 << 20)) {
    const ta_mapper_t *real = ta_mapper_default();
    return real->reserve(real->ctx, size, align, out);
  }
  high_next = (high_next + align - 1) & ~(uintptr_t)(align - 1);
  *out = (void *)high_next;
  high_next += size;
  return 0;
}
bool IsHigh(void *addr) { return (uintptr_t)addr >= kHighBase; }
int HighCommit(void *, void *addr, size_t size) {
  const ta_mapper_t *real = ta_mapper_default();
  return IsHigh(addr) ? 0 : real->commit(real->ctx, addr, size);
}
int HighDecommit(void *, void *addr, size_t size) {
  const ta_mapper_t *real = ta_mapper_default();
  return IsHigh(addr) ? 0 : real->decommit(real->ctx, addr, size);
}
int HighProtect(void *, void *addr, size_t size, bool read_write) {
  const ta_mapper_t *real = ta_mapper_default();
  return IsHigh(addr) ? 0 : real->protect(real->ctx, addr, size, read_write);
}
int HighRelease(void *, void *addr, size_t size) {
  const ta_mapper_t *real = ta_mapper_default();
  return IsHigh(addr) ? 0 : real->release(real->ctx, addr, size);
}

// Regression: memory above 2^48 was used as it came: the segment map was
// indexed past its arrays (and here, the header written to where nothing is
// mapped: a crash). Now it is refused with TA_ERR_PLATFORM.
TEST(HeapMapper, MemoryAboveWhatTheSegmentMapCoversIsRefused) {
  const ta_mapper_t high = {"high",      HighReserve, HighCommit, HighDecommit,
                            HighProtect, HighRelease, /*purge=*/nullptr, nullptr};
  {
    MapperScope scope(&high);
    ta_heap_t *heap = ta_heap_new();
    ASSERT_NE(heap, nullptr);
    EXPECT_EQ(ta_heap_alloc(heap, Layout(16)), nullptr);
    EXPECT_EQ(ta_heap_last_error(heap), TA_ERR_PLATFORM);
    EXPECT_EQ(ta_heap_alloc(heap, Layout((size_t)100 << 20)), nullptr);
    EXPECT_EQ(ta_heap_last_error(heap), TA_ERR_PLATFORM);
    ta_heap_destroy(heap);
    ta_trim();
    EXPECT_EQ(ta_os_live_reservations(), 0u);
  }
}

}  // namespace
