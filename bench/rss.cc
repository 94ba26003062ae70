// Peak RSS over live bytes, one allocator per process (see rss.h).
#include "bench/rss.h"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>
#include <cstring>
#include <fstream>

namespace tabench {
namespace {

// A "Vm...:  N kB" line of /proc/self/status, in bytes (0 if absent).
size_t StatusBytes(const char *key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  size_t key_len = std::strlen(key);
  while (std::getline(status, line)) {
    if (line.compare(0, key_len, key) == 0 && line.size() > key_len && line[key_len] == ':') {
      return std::strtoull(line.c_str() + key_len + 1, nullptr, 10) * 1024;
    }
  }
  return 0;
}

// Resets VmHWM to the current RSS (Linux >= 4.0); false if not allowed.
bool ResetPeakRss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  return clear.good();
}

// Blocks and their sizes, with the running and peak total of live bytes.
template <class A>
class Blocks {
 public:
  Blocks(typename A::Heap heap, size_t capacity) : heap_(heap), blocks_(capacity), sizes_(capacity) {}
  Blocks(const Blocks &) = delete;
  Blocks &operator=(const Blocks &) = delete;
  ~Blocks() {
    for (size_t i = 0; i < blocks_.size(); i++) Free(i);
  }
  void Alloc(size_t i, size_t size) {
    void *block = A::Alloc(heap_, size, kPlainAlign);
    if (block == nullptr) OutOfMemory(A::kName, size);
    std::memset(block, 0xa5, size);
    blocks_[i] = block;
    sizes_[i] = size;
    live_ += size;
    peak_ = std::max(peak_, live_);
  }
  void Free(size_t i) {
    if (blocks_[i] == nullptr) return;
    A::Free(heap_, blocks_[i], sizes_[i], kPlainAlign);
    live_ -= sizes_[i];
    blocks_[i] = nullptr;
  }
  size_t live() const { return live_; }
  size_t peak() const { return peak_; }

 private:
  typename A::Heap heap_;
  std::vector<void *> blocks_;
  std::vector<size_t> sizes_;
  size_t live_ = 0;
  size_t peak_ = 0;
};

template <class A>
void RunChurn(const Scale &scale, Blocks<A> &blocks) {
  const std::vector<size_t> &sizes = ChurnSizes();
  const std::vector<uint32_t> &slots = ChurnSlots();
  for (size_t i = 0; i < kChurnLive; i++) blocks.Alloc(i, sizes[(kTableSize / 2 + i) & kTableMask]);
  for (size_t step = 0; step < scale.rss_churn_ops; step++) {
    uint32_t slot = slots[step & kTableMask];
    blocks.Free(slot);
    blocks.Alloc(slot, sizes[step & kTableMask]);
  }
}

// Phase 1 fills blocks[0, n); phase 3 fills blocks[n, 2n) as needed.
template <class A>
void RunFrag(const Scale &scale, Blocks<A> &blocks, const std::vector<size_t> &sizes,
             const std::vector<uint32_t> &order) {
  size_t n = scale.rss_frag_blocks;
  for (size_t i = 0; i < n; i++) blocks.Alloc(i, sizes[i]);
  size_t target = blocks.live();
  for (size_t i = 0; i < n - n / 10; i++) blocks.Free(order[i]);
  for (size_t i = 0; blocks.live() < target && i < n; i++) blocks.Alloc(n + i, 4 * sizes[n + i]);
}

// Memory return: sixty blocks of 1 to 64 MiB (at most 256 MiB live at once,
// each written in full), all freed, then small blocks allocated and freed
// for three seconds, as a server does after a burst. RSS above the baseline
// is sampled at the peak, 100 ms, 1 s and 3 s after the frees, and after the
// heap is destroyed; the ratio is the RSS still held 1 s after the frees
// over the peak live bytes (lower is better).
template <class A>
int RunIdle(const Scale &scale) {
  constexpr size_t kMiB = (size_t)1 << 20;
  constexpr size_t kLiveCap = 256 * kMiB;
  typename A::Heap heap = A::NewHeap();
  bool reset = ResetPeakRss();
  size_t baseline = StatusBytes("VmRSS");
  std::vector<std::pair<void *, size_t>> live;
  size_t live_bytes = 0;
  size_t peak_live = 0;
  size_t head = 0;
  for (size_t i = 0; i < 60; i++) {
    size_t size = (1 + (i * 37) % 64) * kMiB;
    while (live_bytes + size > kLiveCap) {
      A::Free(heap, live[head].first, live[head].second, kPlainAlign);
      live_bytes -= live[head].second;
      head++;
    }
    void *block = A::Alloc(heap, size, kPlainAlign);
    if (block == nullptr) OutOfMemory(A::kName, size);
    std::memset(block, 0x5a, size);
    live.emplace_back(block, size);
    live_bytes += size;
    peak_live = std::max(peak_live, live_bytes);
  }
  size_t peak = StatusBytes("VmHWM");
  for (; head < live.size(); head++) A::Free(heap, live[head].first, live[head].second, kPlainAlign);
  using Clock = std::chrono::steady_clock;
  const Clock::time_point freed = Clock::now();
  const double marks[] = {0.1, 1.0, 3.0};
  size_t at[3] = {};
  void *held[4] = {};
  size_t step = 0;
  for (int m = 0; m < 3; m++) {
    while (std::chrono::duration<double>(Clock::now() - freed).count() < marks[m]) {
      for (int k = 0; k < 1000; k++, step++) {
        void *&slot = held[step % 4];
        if (slot != nullptr) A::Free(heap, slot, 48, kPlainAlign);
        slot = A::Alloc(heap, 48, kPlainAlign);
        if (slot == nullptr) OutOfMemory(A::kName, 48);
      }
    }
    at[m] = StatusBytes("VmRSS");
  }
  for (void *&slot : held) A::Free(heap, slot, 48, kPlainAlign);
  A::DestroyHeap(heap);
  size_t destroyed = StatusBytes("VmRSS");
  auto above = [&](size_t v) { return v > baseline ? v - baseline : 0; };
  std::printf(
      "rss: {\"workload\": \"idle\", \"allocator\": \"%s\", \"scale\": \"%s\", "
      "\"baseline_rss_bytes\": %zu, \"peak_rss_bytes\": %zu, \"peak_live_bytes\": %zu, "
      "\"hwm_reset\": %s, \"after_free_rss_bytes\": {\"100ms\": %zu, \"1s\": %zu, "
      "\"3s\": %zu}, \"after_destroy_rss_bytes\": %zu, \"ratio\": %.4f}\n",
      A::kName, scale.name.c_str(), baseline, peak, peak_live, reset ? "true" : "false",
      above(at[0]), above(at[1]), above(at[2]), above(destroyed),
      static_cast<double>(above(at[1])) / static_cast<double>(peak_live));
  return 0;
}

template <class A>
int Run(const std::string &workload, const Scale &scale) {
  std::string error;
  if (!A::Load(&error)) {
    std::fprintf(stderr, "bench: cannot load %s: %s\n", A::kName, error.c_str());
    return 1;
  }
  if (workload == "idle") return RunIdle<A>(scale);
  bool frag = workload == "frag";
  size_t n = frag ? scale.rss_frag_blocks : kChurnLive;
  // Everything the workload needs besides its blocks, resident before the
  // baseline is taken.
  std::vector<size_t> sizes;
  std::vector<uint32_t> order;
  if (frag) {
    sizes = SizeTable(2 * n, 0xf4a9u, FragSize);
    order.resize(n);
    for (size_t i = 0; i < n; i++) order[i] = static_cast<uint32_t>(i);
    Rng rng(0x0dd5u);
    for (size_t i = n - 1; i > 0; i--) std::swap(order[i], order[rng.Next() % (i + 1)]);
  } else {
    ChurnSizes();
    ChurnSlots();
  }
  typename A::Heap heap = A::NewHeap();
  size_t peak_live = 0;
  size_t baseline = 0;
  size_t peak_rss = 0;
  bool reset = false;
  {
    Blocks<A> blocks(heap, 2 * n);
    reset = ResetPeakRss();
    baseline = reset ? StatusBytes("VmRSS") : StatusBytes("VmHWM");
    if (frag) {
      RunFrag<A>(scale, blocks, sizes, order);
    } else {
      RunChurn<A>(scale, blocks);
    }
    peak_rss = StatusBytes("VmHWM");
    peak_live = blocks.peak();
  }
  A::DestroyHeap(heap);
  if (peak_live == 0 || peak_rss == 0) {
    std::fprintf(stderr, "bench: no RSS reading for %s %s\n", workload.c_str(), A::kName);
    return 1;
  }
  double ratio = static_cast<double>(peak_rss - std::min(peak_rss, baseline)) /
                 static_cast<double>(peak_live);
  std::printf(
      "rss: {\"workload\": \"%s\", \"allocator\": \"%s\", \"scale\": \"%s\", "
      "\"baseline_rss_bytes\": %zu, \"peak_rss_bytes\": %zu, \"peak_live_bytes\": %zu, "
      "\"hwm_reset\": %s, \"ratio\": %.4f}\n",
      workload.c_str(), A::kName, scale.name.c_str(), baseline, peak_rss, peak_live,
      reset ? "true" : "false", ratio);
  return 0;
}

}  // namespace

int RunRss(const std::string &workload, const std::string &allocator, const Scale &scale) {
  if (workload != "churn" && workload != "frag" && workload != "idle") {
    std::fprintf(stderr, "bench: unknown memory workload %s (churn, frag, idle)\n",
                 workload.c_str());
    return 1;
  }
  int status = -1;
  ForEachAllocator([&](auto tag) {
    using A = typename decltype(tag)::type;
    if (allocator == A::kName) status = Run<A>(workload, scale);
  });
  if (status < 0) {
    std::fprintf(stderr, "bench: unknown allocator %s\n", allocator.c_str());
    return 1;
  }
  return status;
}

}  // namespace tabench
