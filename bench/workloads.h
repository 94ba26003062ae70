// Pieces shared by the timing workloads (alloc_bench.cc) and the memory
// workloads (rss.cc): the churn live set, block checks, the scale.
#ifndef TINYALLOC_BENCH_WORKLOADS_H_
#define TINYALLOC_BENCH_WORKLOADS_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/allocators.h"
#include "bench/sizes.h"

namespace tabench {

// How long the fixed-length parts run: smoke (CI), quick (default), full.
struct Scale {
  std::string name;
  int64_t latency_ops;     // timed allocations in churn_latency
  int64_t bulk_rounds;     // heaps filled and freed in bulk_* (whose untimed
                           // filling would otherwise dominate the run time)
  size_t rss_churn_ops;    // churn steps in the memory run
  size_t rss_frag_blocks;  // blocks of the fragmentation run's first phase
};

// The scale named name, or false if there is none of that name.
bool ScaleNamed(const std::string &name, Scale *out);

constexpr size_t kChurnLive = 10000;   // blocks live at any time in churn
constexpr size_t kTableSize = 1 << 16; // length of the precomputed sequences
constexpr size_t kTableMask = kTableSize - 1;
constexpr size_t kWarmupSteps = 3 * kChurnLive;

// The churn sequences: sizes from ChurnSize, and which live slot each step
// replaces. Built once, before any timing.
const std::vector<size_t> &ChurnSizes();
const std::vector<uint32_t> &ChurnSlots();

[[noreturn]] inline void OutOfMemory(const char *allocator, size_t size) {
  std::fprintf(stderr, "bench: %s returned NULL for %zu bytes\n", allocator, size);
  std::abort();
}

// Writes the first word of a block, as a user would: every block is >= 8 bytes.
inline void Touch(void *block) { *static_cast<volatile uint64_t *>(block) = 0x5a5a5a5a5a5a5a5aull; }

// A live set of kChurnLive blocks on one heap: each step frees the block in a
// random slot and allocates one of a random size in its place. start picks
// where in the sequences this set begins (threads use different ones). The
// constructor fills the set and runs kWarmupSteps steps.
template <class A>
class ChurnSet {
 public:
  ChurnSet(typename A::Heap heap, size_t start)
      : heap_(heap),
        sizes_table_(ChurnSizes().data()),
        slots_table_(ChurnSlots().data()),
        pos_(start),
        blocks_(kChurnLive),
        sizes_(kChurnLive) {
    for (size_t i = 0; i < kChurnLive; i++) {
      slot_ = i;
      Touch(Place(sizes_table_[(start + kTableSize / 2 + i) & kTableMask]));
    }
    // Reach the steady state (every size seen, pages recycled) before timing.
    for (size_t i = 0; i < kWarmupSteps; i++) Step();
  }
  ChurnSet(const ChurnSet &) = delete;
  ChurnSet &operator=(const ChurnSet &) = delete;
  ~ChurnSet() {
    for (size_t i = 0; i < kChurnLive; i++) A::Free(heap_, blocks_[i], sizes_[i], kPlainAlign);
  }

  // Frees the block in the next step's slot.
  void FreeNext() {
    slot_ = slots_table_[pos_ & kTableMask];
    A::Free(heap_, blocks_[slot_], sizes_[slot_], kPlainAlign);
  }
  // Allocates the next step's block into that slot; returns it untouched.
  void *AllocNext() { return Place(sizes_table_[pos_++ & kTableMask]); }
  void Step() {
    FreeNext();
    Touch(AllocNext());
  }

 private:
  void *Place(size_t size) {
    void *block = A::Alloc(heap_, size, kPlainAlign);
    if (block == nullptr) OutOfMemory(A::kName, size);
    blocks_[slot_] = block;
    sizes_[slot_] = size;
    return block;
  }

  typename A::Heap heap_;
  const size_t *sizes_table_;
  const uint32_t *slots_table_;
  size_t pos_;
  size_t slot_ = 0;
  std::vector<void *> blocks_;
  std::vector<size_t> sizes_;
};

}  // namespace tabench

#endif  // TINYALLOC_BENCH_WORKLOADS_H_
