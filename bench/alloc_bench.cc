// The benchmark suite: every workload on every allocator, side by side in one
// process (Google Benchmark), each column calling only its own allocator
// (allocators.h). tools/bench_report runs it and prints the table.
//
//   alloc_bench [--scale=smoke|quick|full] [--benchmark_* flags]
//   alloc_bench --rss churn|frag ALLOCATOR [--scale=...]   (rss.h)
//
// Every benchmark is named WORKLOAD/ALLOCATOR, or malloc:WORKLOAD/ALLOCATOR
// for the workload through the allocator's malloc family (ThroughMalloc in
// allocators.h), and reports the counter
// ops_per_iter: ns/op = real_time / ops_per_iter. An op is one allocation and
// its free, except in bulk_* (one block freed) and churn_latency (counters
// p50_ns, p99_ns, p999_ns, max_ns of single allocations).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>

#include "bench/allocators.h"
#include "bench/rss.h"
#include "bench/workloads.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define TABENCH_HAVE_TSC 1
#endif

namespace tabench {
namespace {

using benchmark::Counter;
using benchmark::State;
using Clock = std::chrono::steady_clock;

constexpr size_t kBulkBlocks = 10000;
constexpr int kAlignedBatch = 64;

void Finish(State &state, double ops_per_iter) {
  state.counters["ops_per_iter"] = Counter(ops_per_iter, Counter::kAvgThreads);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * ops_per_iter));
}

template <class A>
void *MustAlloc(typename A::Heap heap, size_t size, size_t align) {
  void *block = A::Alloc(heap, size, align);
  if (block == nullptr) OutOfMemory(A::kName, size);
  return block;
}

// pair_SIZE: allocate one block, write to it, free it. A ballast block of the
// same size stays live throughout, so that the free does not empty the page
// every time (which allocators handle on a slower path).
template <class A>
void Pair(State &state, size_t size) {
  typename A::Heap heap = A::NewHeap();
  void *ballast = MustAlloc<A>(heap, size, kPlainAlign);
  for (auto _ : state) {
    void *block = MustAlloc<A>(heap, size, kPlainAlign);
    Touch(block);
    A::Free(heap, block, size, kPlainAlign);
  }
  A::Free(heap, ballast, size, kPlainAlign);
  A::DestroyHeap(heap);
  Finish(state, 1);
}

// churn: replace a random one of 10,000 live blocks with one of a random size.
template <class A>
void Churn(State &state) {
  typename A::Heap heap = A::NewHeap();
  {
    ChurnSet<A> set(heap, 0);
    for (auto _ : state) set.Step();
  }
  A::DestroyHeap(heap);
  Finish(state, 1);
}

// aligned_ALIGN: 64 blocks of 1/2, 1, 3/2 and 2 times ALIGN bytes aligned to
// ALIGN, then their frees (with a live ballast block of each size, as in pair).
template <class A>
void Aligned(State &state, size_t align) {
  size_t sizes[kAlignedBatch];
  void *blocks[kAlignedBatch];
  for (int i = 0; i < kAlignedBatch; i++) sizes[i] = align * (1 + i % 4) / 2;
  typename A::Heap heap = A::NewHeap();
  void *ballast[4];
  for (int i = 0; i < 4; i++) ballast[i] = MustAlloc<A>(heap, sizes[i], align);
  for (auto _ : state) {
    for (int i = 0; i < kAlignedBatch; i++) {
      blocks[i] = MustAlloc<A>(heap, sizes[i], align);
      Touch(blocks[i]);
    }
    for (int i = 0; i < kAlignedBatch; i++) A::Free(heap, blocks[i], sizes[i], align);
  }
  for (int i = 0; i < 4; i++) A::Free(heap, ballast[i], sizes[i], align);
  A::DestroyHeap(heap);
  Finish(state, kAlignedBatch);
}

// large_MIB: allocate a block of MIB MiB, write its first byte, free it.
template <class A>
void Large(State &state, size_t bytes) {
  typename A::Heap heap = A::NewHeap();
  for (auto _ : state) {
    void *block = MustAlloc<A>(heap, bytes, kPlainAlign);
    Touch(block);
    A::Free(heap, block, bytes, kPlainAlign);
  }
  A::DestroyHeap(heap);
  Finish(state, 1);
}

// threads2_churn: two threads, each with its own heap, each running churn.
// Real time per op across both threads (1 / throughput).
template <class A>
void ThreadsChurn(State &state) {
  typename A::Heap heap = A::NewHeap();
  {
    ChurnSet<A> set(heap, static_cast<size_t>(state.thread_index()) * (kTableSize / 2));
    for (auto _ : state) set.Step();
  }
  A::DestroyHeap(heap);
  Finish(state, 1);
}

// churn_1k_{local,remote}_LIVE: LIVE blocks of 1 KiB stay live; each step
// frees a random one and allocates one in its place. remote frees through a
// second heap of this thread: for tinyalloc a remote free, which its owner
// must find among LIVE / 64 full pages. The peers free by thread, not by
// heap, so for them both rows are the same local churn.
template <class A>
void LiveChurn(State &state, size_t live, bool remote) {
  constexpr size_t kSize = 1024;
  const std::vector<uint32_t> slots = IndexTable(kTableSize, 0x7e1u, static_cast<uint32_t>(live));
  typename A::Heap owner = A::NewHeap();
  typename A::Heap freer = remote ? A::NewHeap() : owner;
  std::vector<void *> blocks(live);
  for (void *&block : blocks) {
    block = MustAlloc<A>(owner, kSize, kPlainAlign);
    Touch(block);
  }
  size_t pos = 0;
  for (auto _ : state) {
    void *&block = blocks[slots[pos++ & kTableMask]];
    A::Free(freer, block, kSize, kPlainAlign);
    block = MustAlloc<A>(owner, kSize, kPlainAlign);
    Touch(block);
  }
  for (void *block : blocks) A::Free(owner, block, kSize, kPlainAlign);
  if (remote) A::DestroyHeap(freer);
  A::DestroyHeap(owner);
  Finish(state, 1);
}

inline void CpuRelax() {
#ifdef TABENCH_HAVE_TSC
  _mm_pause();
#endif
}

// A bounded single-producer single-consumer ring of (block, size).
class Ring {
 public:
  struct Item {
    void *block;
    size_t size;
  };
  void Push(Item item) {
    size_t tail = tail_.load(std::memory_order_relaxed);
    for (unsigned spins = 0; tail - head_cache_ == kCapacity; spins++) {
      head_cache_ = head_.load(std::memory_order_acquire);
      Backoff(spins);
    }
    items_[tail % kCapacity] = item;
    tail_.store(tail + 1, std::memory_order_release);
  }
  Item Pop() {
    size_t head = head_.load(std::memory_order_relaxed);
    for (unsigned spins = 0; head == tail_cache_; spins++) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      Backoff(spins);
    }
    Item item = items_[head % kCapacity];
    head_.store(head + 1, std::memory_order_release);
    return item;
  }

 private:
  static constexpr size_t kCapacity = 1024;
  static void Backoff(unsigned spins) {
    if (spins < 256) {
      CpuRelax();
    } else {
      std::this_thread::yield();  // the other side may share our core
    }
  }
  Item items_[kCapacity];
  alignas(64) std::atomic<size_t> head_{0};
  size_t tail_cache_ = 0;  // consumer's
  alignas(64) std::atomic<size_t> tail_{0};
  size_t head_cache_ = 0;  // producer's
};

const std::vector<size_t> &MessageSizes() {
  static const std::vector<size_t> table =
      SizeTable(kTableSize, 0x3e5u, [](Rng &rng) { return rng.Between(16, 256); });
  return table;
}

// prodcons: this thread allocates blocks of 16..256 bytes from its heap and
// passes them through a ring of 1024 to a consumer thread, which frees them
// through its own heap (a remote free). Real time per block.
template <class A>
void ProducerConsumer(State &state) {
  const size_t *sizes = MessageSizes().data();
  auto ring = std::make_unique<Ring>();
  std::thread consumer([&ring] {
    typename A::Heap heap = A::NewHeap();
    for (;;) {
      Ring::Item item = ring->Pop();
      if (item.block == nullptr) break;
      A::Free(heap, item.block, item.size, kPlainAlign);
    }
    A::DestroyHeap(heap);
  });
  typename A::Heap heap = A::NewHeap();
  size_t pos = 0;
  for (auto _ : state) {
    size_t size = sizes[pos++ & kTableMask];
    void *block = MustAlloc<A>(heap, size, kPlainAlign);
    Touch(block);
    ring->Push({block, size});
  }
  ring->Push({nullptr, 0});
  consumer.join();
  A::DestroyHeap(heap);
  Finish(state, 1);
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// bulk_each / bulk_destroy: 10,000 churn-sized blocks from a fresh heap, then
// (timed alone) freed one by one, or thrown away with the heap. Per block.
template <class A>
void BulkEach(State &state) {
  const size_t *sizes = ChurnSizes().data();
  std::vector<void *> blocks(kBulkBlocks);
  for (auto _ : state) {
    typename A::Heap heap = A::NewHeap();
    for (size_t i = 0; i < kBulkBlocks; i++) {
      blocks[i] = MustAlloc<A>(heap, sizes[i], kPlainAlign);
      Touch(blocks[i]);
    }
    Clock::time_point start = Clock::now();
    for (size_t i = 0; i < kBulkBlocks; i++) A::Free(heap, blocks[i], sizes[i], kPlainAlign);
    A::DestroyHeap(heap);
    state.SetIterationTime(Seconds(Clock::now() - start));
  }
  Finish(state, kBulkBlocks);
}

// Only for allocators with kHasBulkDestroy.
template <class A>
void BulkDestroy(State &state) {
  const size_t *sizes = ChurnSizes().data();
  for (auto _ : state) {
    typename A::BulkHeap heap = A::NewBulkHeap();
    for (size_t i = 0; i < kBulkBlocks; i++) {
      void *block = A::BulkAlloc(heap, sizes[i], kPlainAlign);
      if (block == nullptr) OutOfMemory(A::kName, sizes[i]);
      Touch(block);
    }
    Clock::time_point start = Clock::now();
    A::DestroyBulkHeap(heap);
    state.SetIterationTime(Seconds(Clock::now() - start));
  }
  Finish(state, kBulkBlocks);
}

#ifdef TABENCH_HAVE_TSC
inline uint64_t RawTicks() { return __rdtsc(); }
#else
inline uint64_t RawTicks() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
          .count());
}
#endif

// A timestamp that the code around it cannot move across.
inline uint64_t Ticks() {
#ifdef TABENCH_HAVE_TSC
  _mm_lfence();
  uint64_t t = RawTicks();
  _mm_lfence();
  return t;
#else
  return RawTicks();
#endif
}

// churn_latency: churn, timing each allocation alone (fenced rdtsc, converted
// with the TSC rate measured over the run). The counters include the timer's
// own cost, reported as timer_ns (the same for every column), and are
// multiples of its resolution, timer_res_ns.
template <class A>
void ChurnLatency(State &state) {
  std::vector<uint64_t> samples(static_cast<size_t>(state.max_iterations));
  size_t n = 0;
  typename A::Heap heap = A::NewHeap();
  Clock::time_point wall_start = Clock::now();
  uint64_t ticks_start = Ticks();
  {
    ChurnSet<A> set(heap, 0);
    for (auto _ : state) {
      set.FreeNext();
      uint64_t before = Ticks();
      void *block = set.AllocNext();
      uint64_t after = Ticks();
      Touch(block);
      if (n < samples.size()) samples[n++] = after - before;
    }
  }
  double ticks_per_ns = static_cast<double>(Ticks() - ticks_start) /
                        (Seconds(Clock::now() - wall_start) * 1e9);
  A::DestroyHeap(heap);
  // The timer's own cost (median of empty measurements) and resolution
  // (smallest step it takes; coarse under some hypervisors).
  uint64_t empty[1001];
  for (uint64_t &e : empty) {
    uint64_t before = Ticks();
    e = Ticks() - before;
  }
  std::nth_element(empty, empty + 500, empty + 1001);
  uint64_t step = UINT64_MAX;
  uint64_t last = RawTicks();
  for (int changes = 0, spins = 0; changes < 64 && spins < 1000000; spins++) {
    uint64_t now = RawTicks();
    if (now != last) {
      step = std::min(step, now - last);
      last = now;
      changes++;
    }
  }
  samples.resize(n);
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) {
    if (samples.empty()) return 0.0;
    size_t i = std::min(samples.size() - 1, static_cast<size_t>(q * static_cast<double>(samples.size())));
    return static_cast<double>(samples[i]) / ticks_per_ns;
  };
  state.counters["p50_ns"] = at(0.5);
  state.counters["p99_ns"] = at(0.99);
  state.counters["p999_ns"] = at(0.999);
  state.counters["max_ns"] = samples.empty() ? 0.0 : static_cast<double>(samples.back()) / ticks_per_ns;
  state.counters["timer_ns"] = static_cast<double>(empty[500]) / ticks_per_ns;
  state.counters["timer_res_ns"] = static_cast<double>(step) / ticks_per_ns;
  Finish(state, 1);
}

template <class A, class Fn, class... Args>
benchmark::internal::Benchmark *Add(const std::string &workload, Fn fn, Args... args) {
  std::string name = workload + "/" + A::kName;
  return benchmark::RegisterBenchmark(name.c_str(), fn, args...);
}

// Registers every workload, each on every allocator (as Wrap<A>), in table
// order, named PREFIX+WORKLOAD/ALLOCATOR.
template <template <class> class Wrap>
void RegisterSet(const Scale &scale, const std::string &prefix) {
  for (size_t size : {8, 64, 512, 4096, 32768}) {
    ForEachAllocator([&](auto tag) {
      using A = Wrap<typename decltype(tag)::type>;
      Add<A>(prefix + "pair_" + std::to_string(size), Pair<A>, size);
    });
  }
  ForEachAllocator([&](auto tag) {
    using A = Wrap<typename decltype(tag)::type>;
    Add<A>(prefix + "churn", Churn<A>);
  });
  for (size_t align : {64, 512, 4096}) {
    ForEachAllocator([&](auto tag) {
      using A = Wrap<typename decltype(tag)::type>;
      Add<A>(prefix + "aligned_" + std::to_string(align), Aligned<A>, align);
    });
  }
  for (size_t mib : {1, 8, 64}) {
    ForEachAllocator([&](auto tag) {
      using A = Wrap<typename decltype(tag)::type>;
      Add<A>(prefix + "large_" + std::to_string(mib) + "m", Large<A>, mib << 20);
    });
  }
  for (size_t live : {size_t{64} << 10, size_t{256} << 10, size_t{1} << 20}) {
    std::string suffix = live >= (size_t{1} << 20) ? std::to_string(live >> 20) + "m"
                                                   : std::to_string(live >> 10) + "k";
    for (bool remote : {false, true}) {
      ForEachAllocator([&](auto tag) {
        using A = Wrap<typename decltype(tag)::type>;
        Add<A>(prefix + std::string("churn_1k_") + (remote ? "remote_" : "local_") + suffix,
               LiveChurn<A>, live, remote);
      });
    }
  }
  ForEachAllocator([&](auto tag) {
    using A = Wrap<typename decltype(tag)::type>;
    Add<A>(prefix + "threads2_churn", ThreadsChurn<A>)->Threads(2)->UseRealTime();
  });
  ForEachAllocator([&](auto tag) {
    using A = Wrap<typename decltype(tag)::type>;
    Add<A>(prefix + "prodcons", ProducerConsumer<A>)->UseRealTime();
  });
  ForEachAllocator([&](auto tag) {
    using A = Wrap<typename decltype(tag)::type>;
    Add<A>(prefix + "bulk_each", BulkEach<A>)->UseManualTime()->Iterations(scale.bulk_rounds);
  });
  ForEachAllocator([&](auto tag) {
    using A = Wrap<typename decltype(tag)::type>;
    if constexpr (A::kHasBulkDestroy) {
      Add<A>(prefix + "bulk_destroy", BulkDestroy<A>)->UseManualTime()->Iterations(scale.bulk_rounds);
    }
  });
  if (!prefix.empty()) return;  // the latency table is of each allocator's own API
  ForEachAllocator([&](auto tag) {
    using A = Wrap<typename decltype(tag)::type>;
    Add<A>(prefix + "churn_latency", ChurnLatency<A>)->Iterations(scale.latency_ops);
  });
}

// Each allocator's own API, then every allocator through its malloc family
// (workloads named malloc:WORKLOAD).
void RegisterAll(const Scale &scale) {
  RegisterSet<Direct>(scale, "");
  RegisterSet<ThroughMalloc>(scale, "malloc:");
}

bool LoadAll() {
  bool ok = true;
  ForEachAllocator([&](auto tag) {
    using A = typename decltype(tag)::type;
    std::string error;
    if (!A::Load(&error)) {
      std::fprintf(stderr, "bench: cannot load %s: %s\n", A::kName, error.c_str());
      ok = false;
    }
  });
  return ok;
}

int Usage(const char *argv0) {
  std::fprintf(stderr,
               "usage: %s [--scale=smoke|quick|full] [--benchmark_* flags]\n"
               "       %s --rss churn|frag tinyalloc|glibc|mimalloc|jemalloc|tcmalloc "
               "[--scale=...]\n",
               argv0, argv0);
  return 2;
}

int Main(int argc, char **argv) {
  EnsureStaticTlsRoom(argv);
  std::string scale_name = "quick";
  std::vector<std::string> rss;
  int kept = 1;
  for (int i = 1; i < argc; i++) {
    if (std::strncmp(argv[i], "--scale=", 8) == 0) {
      scale_name = argv[i] + 8;
    } else if (std::strcmp(argv[i], "--rss") == 0) {
      if (i + 2 >= argc) return Usage(argv[0]);
      rss = {argv[i + 1], argv[i + 2]};
      i += 2;
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  Scale scale;
  if (!ScaleNamed(scale_name, &scale)) return Usage(argv[0]);
  if (!rss.empty()) {
    if (argc > 1) return Usage(argv[0]);
    return RunRss(rss[0], rss[1], scale);
  }
  if (!LoadAll()) return 1;
  ChurnSizes();  // build the sequences before any timing
  ChurnSlots();
  MessageSizes();
  RegisterAll(scale);
  benchmark::AddCustomContext("scale", scale.name);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace
}  // namespace tabench

int main(int argc, char **argv) { return tabench::Main(argc, argv); }
