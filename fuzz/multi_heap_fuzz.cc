// multi_heap_fuzz: several heaps at once, on one thread, against a shadow
// model. Blocks are freed through their own heap or through any other live
// one (the remote-free path), heaps are destroyed while they still own blocks
// (the model drops those blocks) and new heaps are created after. Every step
// checks what heap_fuzz checks: alignment, no overlap across all heaps,
// contents kept, usable sizes, and the errors the contract names.
#include <cstdint>
#include <cstdio>

#include "fuzz/fuzz_support.h"
#include "tinyalloc/mapper.h"
#include "tinyalloc/tinyalloc.h"

namespace {

using ta_fuzz::Input;
using ta_fuzz::Shadow;

constexpr int kHeaps = 4;

struct Walk {
  Input in;
  Shadow model;
  ta_heap_t *heaps[kHeaps] = {};

  // The heap in slot i % kHeaps, created if the slot is empty.
  int Heap(uint8_t i) {
    int h = i % kHeaps;
    if (heaps[h] == nullptr) {
      heaps[h] = ta_heap_new();
      FUZZ_CHECK(heaps[h] != nullptr, "ta_heap_new failed");
      FUZZ_CHECK(ta_heap_last_error(heaps[h]) == TA_OK, "a new heap has an error");
    }
    return h;
  }

  // A live heap other than `avoid` if there is one (chosen by i), else avoid.
  int OtherHeap(int avoid, uint8_t i) {
    for (int k = 1; k < kHeaps; k++) {
      int h = (avoid + k + i) % kHeaps;
      if (h != avoid && heaps[h] != nullptr) return h;
    }
    return avoid;
  }

  void Alloc(int h, size_t size, size_t align) {
    if (!model.HasRoomFor(size, align)) {
      FreeOne();
      return;
    }
    ta_layout_t layout = {size, align};
    ta_error_t before = ta_heap_last_error(heaps[h]);
    void *p = ta_heap_alloc(heaps[h], layout);
    FUZZ_CHECK(p != nullptr, "heap %d: alloc size %zu align %zu failed: %s", h, size, align,
               ta_error_str(ta_heap_last_error(heaps[h])));
    FUZZ_CHECK(ta_heap_last_error(heaps[h]) == before, "alloc changed the error");
    model.Add(p, size, align, h);
  }

  // Frees a live block through heap `via` (its owner or another live heap).
  void Free(uintptr_t addr, int via) {
    ta_fuzz::Block b = model.Remove(addr);
    size_t size = (in.U8() & 1) ? in.Range(b.size, b.usable) : b.size;
    ta_layout_t layout = {size, b.align};
    ta_error_t before = ta_heap_last_error(heaps[via]);
    ta_heap_free(heaps[via], (void *)addr, layout);
    FUZZ_CHECK(ta_heap_last_error(heaps[via]) == before,
               "free of %p (owner heap %d) through heap %d failed: %s", (void *)addr, b.owner, via,
               ta_error_str(ta_heap_last_error(heaps[via])));
    model.NoteFreed(addr, layout);
    model.CheckAround(addr);
  }

  void FreeOne() {
    auto it = model.Pick(in.U16());
    if (it == model.live().end()) return;
    int owner = it->second.owner;
    uint8_t sel = in.U8();
    Free(it->first, (sel & 3) == 0 ? owner : OtherHeap(owner, sel >> 2));
  }

  void DestroyHeap(int h) {
    if (heaps[h] == nullptr) return;
    for (const auto &entry : model.live()) {
      if (entry.second.owner == h) model.CheckBlock(entry.first, entry.second);
    }
    ta_heap_destroy(heaps[h]);
    heaps[h] = nullptr;
    model.DropOwner(h);
    model.CheckAll();  // the other heaps' blocks are untouched
  }

  // Misuse through any live heap: refused with the error named, nothing freed.
  void Misuse() {
    int via = Heap(in.U8());
    auto it = model.Pick(in.U16());
    bool have = it != model.live().end();
    const char *what;
    void *p;
    ta_layout_t layout;
    switch (in.U8() % 3) {
      case 0: {  // double free, through the owner or another heap
        if (model.freed().empty()) return;
        auto f = model.freed()[in.U8() % model.freed().size()];
        what = "double free";
        p = (void *)f.first;
        layout = f.second;
        break;
      }
      case 1: {  // a pointer into the middle of a block, with its layout
        if (!have || it->second.usable < 2) return;
        what = "interior pointer";
        p = (void *)(it->first + ta_fuzz::PickInteriorOffset(in, it->second.usable));
        layout = {it->second.size, it->second.align};
        break;
      }
      default: {  // near a live block
        if (!have) return;
        uintptr_t addr = it->first + (uintptr_t)ta_fuzz::PickNearDelta(in, it->second.usable);
        if (addr == 0 || model.IsLive(addr)) return;
        what = "pointer near a live block";
        p = (void *)addr;
        layout = {in.Range(0, 16), 8};
        break;
      }
    }
    ta_fuzz::PrimeOutOfMemory(heaps[via]);
    ta_heap_free(heaps[via], p, layout);
    char msg[160];
    std::snprintf(msg, sizeof msg, "%s through heap %d: free(%p, {%zu, %zu})", what, via, p,
                  layout.size, layout.align);
    ta_fuzz::ExpectError(heaps[via], msg, TA_ERR_INVALID_POINTER);
    model.CheckAround((uintptr_t)p);
  }

  // Blocks from one heap, freed through another: fills the owner's pages with
  // remote frees for it to collect when it next runs short.
  void RemoteBurst() {
    int h = Heap(in.U8());
    int via = Heap(in.U8());
    size_t size = in.Range(0, 4096);
    size_t count = in.Range(1, 64);
    uintptr_t blocks[64];
    size_t made = 0;
    for (; made < count && model.HasRoomFor(size, 8); made++) {
      void *p = ta_heap_alloc(heaps[h], {size, 8});
      model.Add(p, size, 8, h);
      blocks[made] = (uintptr_t)p;
    }
    uint8_t keep = in.U8();
    for (size_t i = 0; i < made; i++) {
      if (!((keep >> (i % 8)) & 1)) Free(blocks[i], via);
    }
  }

  void Run() {
    while (!in.empty()) {
      uint8_t op = in.U8();
      switch (op % 16) {
        case 0:
        case 1:
        case 2:
        case 3: {
          int h = Heap(in.U8());
          size_t size = ta_fuzz::PickSize(in);
          Alloc(h, size, ta_fuzz::PickAlign(in));
          break;
        }
        case 4:
        case 5: {
          int h = Heap(in.U8());
          Alloc(h, in.Range(0, 512), (size_t)1 << in.Range(0, 4));
          break;
        }
        case 6:
        case 7:
        case 8:
        case 9:
          FreeOne();
          break;
        case 10:
          DestroyHeap(in.U8() % kHeaps);
          break;
        case 11:  // a new heap, or memory no heap uses given back to the OS
          if (op & 0x10) {
            ta_trim();
            model.CheckAll();
          } else {
            Heap(in.U8());
          }
          break;
        case 12:
          Misuse();
          break;
        case 13:
          model.CheckAll();
          break;
        case 14: {
          auto it = model.Pick(in.U16());
          if (it != model.live().end()) model.Rewrite(it->first, in.U8());
          break;
        }
        default:
          RemoteBurst();
          break;
      }
    }
    model.CheckAll();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Walk walk{Input(data, size), Shadow()};
  walk.Run();
  // The last byte decides the order heaps go in, and whether the blocks still
  // live are freed (each through the heap after its owner) or left to destroy.
  uint8_t end = size > 0 ? data[size - 1] : 0;
  if (end & 0x80) {
    while (walk.model.count() > 0) {
      auto it = walk.model.live().begin();
      int owner = it->second.owner;
      walk.Free(it->first, walk.OtherHeap(owner, 0));
    }
  }
  for (int k = 0; k < kHeaps; k++) walk.DestroyHeap((k + end) % kHeaps);
  FUZZ_CHECK(walk.model.count() == 0, "model: blocks left after every heap was destroyed");
  ta_trim();
  FUZZ_CHECK(ta_os_live_reservations() == 0,
             "%zu reservations still live after every heap was destroyed and ta_trim",
             ta_os_live_reservations());
  return 0;
}
