// fault_fuzz: heaps under injected mapper failures, against a shadow model.
//
// Each input installs a fresh failing mapper (wrapped in a counting mapper) as
// the process-wide mapper, which is possible because no heap lives between
// inputs. The input arms and disarms failures: which kinds of mapper call
// (reserve, commit, decommit, protect; never release, which the allocator
// cannot survive without leaking) and a bit pattern saying which of their
// calls fail. Every allocation either succeeds and is correct, or returns NULL
// with TA_ERR_OUT_OF_MEMORY (the failing mapper reports ENOMEM) after a
// failure was really injected; ta_heap_new may fail too. Frees never fail.
// Once disarmed, every heap still serves blocks of each kind; after all heaps
// are destroyed and ta_trim, the counting mapper proves every reservation was
// released and no call broke the mapper contract.
#include <cstdint>
#include <cstdio>

#include "fuzz/fuzz_support.h"
#include "tinyalloc/mapper.h"
#include "tinyalloc/testing/counting_mapper.h"
#include "tinyalloc/testing/failing_mapper.h"
#include "tinyalloc/tinyalloc.h"

namespace {

using ta_fuzz::Input;
using ta_fuzz::Shadow;

constexpr int kHeaps = 3;

struct Walk {
  Input in;
  ta_failing_mapper_t *fm;
  ta_fuzz::FailurePlan plan;
  Shadow model;
  ta_heap_t *heaps[kHeaps] = {};

  size_t Failures() const { return ta_fuzz::InjectedFailures(fm); }


  // The heap in slot i % kHeaps, created if need be; -1 if creation failed.
  int Heap(uint8_t i) {
    int h = i % kHeaps;
    if (heaps[h] != nullptr) return h;
    size_t before = Failures();
    heaps[h] = ta_heap_new();
    if (heaps[h] == nullptr) {
      FUZZ_CHECK(Failures() > before, "ta_heap_new failed with no failure injected");
      FUZZ_CHECK(ta_last_os_error() != 0, "ta_heap_new failed without an OS error");
      return -1;
    }
    FUZZ_CHECK(ta_heap_last_error(heaps[h]) == TA_OK, "a new heap has an error");
    return h;
  }

  int OtherHeap(int avoid, uint8_t i) {
    for (int k = 1; k < kHeaps; k++) {
      int h = (avoid + k + i) % kHeaps;
      if (heaps[h] != nullptr) return h;
    }
    return avoid;
  }

  // Returns whether the allocation succeeded.
  bool Alloc(int h, size_t size, size_t align) {
    if (h < 0) return false;
    if (!model.HasRoomFor(size, align)) {
      FreeOne();
      return false;
    }
    ta_heap_t *heap = heaps[h];
    ta_error_t before = ta_heap_last_error(heap);
    size_t failures = Failures();
    void *p = ta_heap_alloc(heap, {size, align});
    if (p == nullptr) {
      FUZZ_CHECK(Failures() > failures,
                 "heap %d: alloc size %zu align %zu failed (%s) with no failure injected", h, size,
                 align, ta_error_str(ta_heap_last_error(heap)));
      ta_fuzz::ExpectError(heap, "alloc under injected failures", TA_ERR_OUT_OF_MEMORY);
      if (model.live_bytes() <= ((size_t)16 << 20)) model.CheckAll();
      return false;
    }
    FUZZ_CHECK(ta_heap_last_error(heap) == before,
               "heap %d: alloc size %zu align %zu succeeded but changed the error to %s", h, size,
               align, ta_error_str(ta_heap_last_error(heap)));
    model.Add(p, size, align, h);
    return true;
  }

  void Free(uintptr_t addr, int via) {
    ta_fuzz::Block b = model.Remove(addr);
    ta_error_t before = ta_heap_last_error(heaps[via]);
    ta_heap_free(heaps[via], (void *)addr, {b.size, b.align});
    FUZZ_CHECK(ta_heap_last_error(heaps[via]) == before,
               "free of %p (owner %d) through heap %d changed the error to %s", (void *)addr,
               b.owner, via, ta_error_str(ta_heap_last_error(heaps[via])));
    model.NoteFreed(addr, {b.size, b.align});
    model.CheckAround(addr);
  }

  void FreeOne() {
    auto it = model.Pick(in.U16());
    if (it == model.live().end()) return;
    int owner = it->second.owner;
    uint8_t sel = in.U8();
    Free(it->first, (sel & 3) == 0 ? OtherHeap(owner, sel >> 2) : owner);
  }

  void DestroyHeap(int h) {
    if (heaps[h] == nullptr) return;
    ta_heap_destroy(heaps[h]);
    heaps[h] = nullptr;
    model.DropOwner(h);
    model.CheckAll();
  }

  // With failures off, each live heap still serves small, medium and huge
  // blocks, aligned or not.
  void ProveUsable() {
    static const size_t kSizes[][2] = {{16, 8},        {1000, 64},   {40000, 8},
                                       {300000, 4096}, {1 << 20, 8}, {100, 1 << 22}};
    for (int h = 0; h < kHeaps; h++) {
      if (heaps[h] == nullptr) continue;
      for (const auto &sa : kSizes) {
        if (!model.HasRoomFor(sa[0], sa[1])) continue;
        FUZZ_CHECK(Alloc(h, sa[0], sa[1]),
                   "heap %d: alloc size %zu align %zu failed after failures were disarmed", h,
                   sa[0], sa[1]);
      }
    }
  }

  void Run() {
    while (!in.empty()) {
      uint8_t op = in.U8();
      switch (op % 12) {
        case 0:
        case 1:
        case 2: {
          int h = Heap(in.U8());
          size_t size = ta_fuzz::PickSize(in);
          Alloc(h, size, ta_fuzz::PickAlign(in));
          break;
        }
        case 3: {  // a run of small blocks: new pages, new segments
          int h = Heap(in.U8());
          size_t size = in.Range(0, 2048);
          for (size_t n = in.Range(1, 32); n > 0; n--) Alloc(h, size, 8);
          break;
        }
        case 4:
        case 5:
          FreeOne();
          break;
        case 6:
          plan.Arm(in);
          break;
        case 7:
          plan.mask = 0;
          break;
        case 8:
          DestroyHeap(in.U8() % kHeaps);
          break;
        case 9:
          Heap(in.U8());
          break;
        case 10:  // a full check, after giving free memory back (failures may hit it)
          if (op & 0x10) ta_trim();
          model.CheckAll();
          break;
        default: {  // free a run: pages emptied, segments and huge blocks returned
          for (size_t n = in.Range(1, 16); n > 0; n--) FreeOne();
          break;
        }
      }
    }
    model.CheckAll();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ta_failing_mapper_t *fm = ta_failing_mapper_new(ta_mapper_default());
  FUZZ_CHECK(fm != nullptr, "ta_failing_mapper_new failed");
  ta_counting_mapper_t *cm = ta_counting_mapper_new(ta_failing_mapper_table(fm));
  FUZZ_CHECK(cm != nullptr, "ta_counting_mapper_new failed");
  ta_error_t set = ta_mapper_set(ta_counting_mapper_table(cm));
  FUZZ_CHECK(set == TA_OK, "installing the mapper failed: %s (%zu reservations live)",
             ta_error_str(set), ta_os_live_reservations());

  Walk walk{Input(data, size), fm, ta_fuzz::FailurePlan(), Shadow()};
  ta_failing_mapper_fail_with(fm, ta_fuzz::FailurePlan::Decide, &walk.plan);
  walk.Run();
  walk.plan.mask = 0;
  walk.ProveUsable();
  uint8_t end = size > 0 ? data[size - 1] : 0;
  if (end & 0x80) {
    while (walk.model.count() > 0) {
      auto it = walk.model.live().begin();
      walk.Free(it->first, it->second.owner);
    }
  }
  for (int k = 0; k < kHeaps; k++) walk.DestroyHeap((k + end) % kHeaps);
  // The arena keeps freed memory for reuse; a trim with the OS cooperating
  // again must hand all of it back.
  ta_failing_mapper_fail_none(fm);
  ta_trim();

  ta_counting_stats_t stats = ta_counting_mapper_stats(cm);
  FUZZ_CHECK(stats.violations == 0, "%zu mapper calls broke the mapper contract", stats.violations);
  FUZZ_CHECK(ta_counting_mapper_all_released(cm) && ta_os_live_reservations() == 0,
             "leak: %zu reservations (%zu bytes, %zu committed) live after every heap was "
             "destroyed and ta_trim",
             stats.live_reservations, stats.reserved_bytes, stats.committed_bytes);
  set = ta_mapper_set(nullptr);
  FUZZ_CHECK(set == TA_OK, "reinstalling the default mapper failed: %s", ta_error_str(set));
  ta_counting_mapper_free(cm);
  ta_failing_mapper_free(fm);
  return 0;
}
