// Size distributions of the workloads (see sizes.h).
#include "bench/sizes.h"

namespace tabench {

size_t ChurnSize(Rng &rng) {
  uint64_t pick = rng.Next() % 100;
  if (pick < 70) return rng.Between(8, 128);
  if (pick < 90) return rng.Between(129, 1024);
  if (pick < 98) return rng.Between(1025, 8192);
  return rng.Between(8193, 32768);
}

size_t FragSize(Rng &rng) {
  uint64_t pick = rng.Next() % 100;
  if (pick < 60) return rng.Between(16, 128);
  if (pick < 90) return rng.Between(129, 512);
  return rng.Between(513, 2048);
}

std::vector<size_t> SizeTable(size_t n, uint64_t seed, size_t (*draw)(Rng &)) {
  Rng rng(seed);
  std::vector<size_t> sizes(n);
  for (size_t &size : sizes) size = draw(rng);
  return sizes;
}

std::vector<uint32_t> IndexTable(size_t n, uint64_t seed, uint32_t bound) {
  Rng rng(seed);
  std::vector<uint32_t> indices(n);
  for (uint32_t &index : indices) index = static_cast<uint32_t>(rng.Next() % bound);
  return indices;
}

}  // namespace tabench
