// The scales and churn sequences of workloads.h.
#include "bench/workloads.h"

namespace tabench {

bool ScaleNamed(const std::string &name, Scale *out) {
  static const Scale kScales[] = {
      {"smoke", 20000, 5, 100000, 100000},
      {"quick", 300000, 50, 2000000, 1000000},
      {"full", 2000000, 200, 4000000, 1000000},
  };
  for (const Scale &scale : kScales) {
    if (scale.name == name) {
      *out = scale;
      return true;
    }
  }
  return false;
}

const std::vector<size_t> &ChurnSizes() {
  static const std::vector<size_t> table = SizeTable(kTableSize, 0xc4u, ChurnSize);
  return table;
}

const std::vector<uint32_t> &ChurnSlots() {
  static const std::vector<uint32_t> table = IndexTable(kTableSize, 0x51u, kChurnLive);
  return table;
}

}  // namespace tabench
