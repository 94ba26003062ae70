// Fixed-seed random numbers and the size distributions of the workloads, so
// that every allocator sees exactly the same sequence of requests.
#ifndef TINYALLOC_BENCH_SIZES_H_
#define TINYALLOC_BENCH_SIZES_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tabench {

// splitmix64: small, fast, and the same on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi].
  size_t Between(size_t lo, size_t hi) { return lo + Next() % (hi - lo + 1); }

 private:
  uint64_t state_;
};

// The churn mix, mostly small with a tail to 32 KiB (mean about 940 bytes):
// 70% 8..128, 20% 129..1024, 8% 1025..8192, 2% 8193..32768 bytes.
size_t ChurnSize(Rng &rng);

// The fragmentation mix (mean about 270 bytes): 60% 16..128, 30% 129..512,
// 10% 513..2048 bytes. Its second phase asks for four times these sizes.
size_t FragSize(Rng &rng);

// n sizes drawn with draw() from a generator seeded with seed.
std::vector<size_t> SizeTable(size_t n, uint64_t seed, size_t (*draw)(Rng &));

// n indices uniform in [0, bound).
std::vector<uint32_t> IndexTable(size_t n, uint64_t seed, uint32_t bound);

}  // namespace tabench

#endif  // TINYALLOC_BENCH_SIZES_H_
