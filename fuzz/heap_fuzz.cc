// heap_fuzz: a random walk over one heap, checked against a shadow model.
//
// The input is a sequence of operations: allocations of every kind of layout
// (each size class and its boundaries, huge blocks, size 0, alignments from 1
// to 32 MiB), frees with the allocation's layout or any size up to the usable
// size, usable-size queries, rewrites, full checks, bursts that fill and empty
// pages, and misuse (invalid layouts, double frees, interior, nearby and
// foreign pointers, mismatched layouts). After each step the model checks that
// blocks are aligned, never overlap, keep their contents, and that exactly the
// errors the contract names were recorded (see ../shared/docs/api.md).
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "fuzz/fuzz_support.h"
#include "tinyalloc/mapper.h"
#include "tinyalloc/tinyalloc.h"

namespace {

using ta_fuzz::Input;
using ta_fuzz::Shadow;

// Something tinyalloc never handed out, for misuse frees.
uint64_t g_global_word;

struct Walk {
  Input in;
  ta_heap_t *heap;
  Shadow model;

  // A valid allocation: checked and recorded in the model.
  void Alloc(size_t size, size_t align) {
    if (!model.HasRoomFor(size, align)) {
      FreeOne();
      return;
    }
    ta_layout_t layout;
    FUZZ_CHECK(ta_layout_make(size, align, &layout) == TA_OK, "layout %zu/%zu refused", size,
               align);
    FUZZ_TRACE("alloc {%zu, %zu}", size, align);
    ta_error_t before = ta_heap_last_error(heap);
    void *p = ta_heap_alloc(heap, layout);
    FUZZ_CHECK(p != nullptr, "alloc size %zu align %zu failed: %s", size, align,
               ta_error_str(ta_heap_last_error(heap)));
    FUZZ_CHECK(ta_heap_last_error(heap) == before, "alloc size %zu align %zu changed the error",
               size, align);
    model.Add(p, size, align, 0);
  }

  // Frees a live block with its layout or any size up to its usable size.
  void Free(uintptr_t addr) {
    ta_fuzz::Block b = model.Remove(addr);  // checks every byte first
    size_t size = b.size;
    switch (in.U8() % 4) {
      case 0:
        size = b.usable;
        break;
      case 1:
        size = in.Range(b.size, b.usable);
        break;
      default:
        break;
    }
    ta_layout_t layout = {size, b.align};
    FUZZ_TRACE("free %p {%zu, %zu} (size %zu usable %zu)", (void *)addr, size, b.align, b.size,
               b.usable);
    ta_error_t before = ta_heap_last_error(heap);
    ta_heap_free(heap, (void *)addr, layout);
    FUZZ_CHECK(ta_heap_last_error(heap) == before,
               "free of %p (size %zu align %zu, freed as %zu) failed: %s", (void *)addr, b.size,
               b.align, size, ta_error_str(ta_heap_last_error(heap)));
    model.NoteFreed(addr, layout);
    model.CheckAround(addr);
  }

  void FreeOne() {
    auto it = model.Pick(in.U16());
    if (it != model.live().end()) Free(it->first);
  }

  // A free that the contract says must be refused with one of the errors
  // given, freeing nothing.
  void MisuseFree(void *p, ta_layout_t layout, const char *what, ta_error_t a,
                  ta_error_t b = TA_OK) {
    FUZZ_TRACE("misuse: %s: free %p {%zu, %zu}", what, p, layout.size, layout.align);
    ta_fuzz::PrimeOutOfMemory(heap);
    ta_heap_free(heap, p, layout);
    char msg[160];
    std::snprintf(msg, sizeof msg, "%s: free(%p, {%zu, %zu})", what, p, layout.size, layout.align);
    ta_fuzz::ExpectError(heap, msg, a, b);
    model.CheckAround((uintptr_t)p);
  }

  void Misuse() {
    auto it = model.Pick(in.U16());
    bool have = it != model.live().end();
    uintptr_t addr = have ? it->first : 0;
    const ta_fuzz::Block *b = have ? &it->second : nullptr;
    switch (in.U8() % 8) {
      case 0: {  // double free of a block freed since the last allocation
        if (model.freed().empty()) return;
        auto f = model.freed()[in.U8() % model.freed().size()];
        MisuseFree((void *)f.first, f.second, "double free", TA_ERR_INVALID_POINTER);
        return;
      }
      case 1: {  // a pointer into the middle of a live block, with its layout
        if (!have || b->usable < 2) return;
        uintptr_t p = addr + ta_fuzz::PickInteriorOffset(in, b->usable);
        // Its own layout, or a small one whose alignment p happens to have.
        ta_layout_t layout = {b->size, b->align};
        if (in.U8() & 1) layout = {in.Range(0, 16), p & (~p + 1) & 0xFFF};
        if (layout.align == 0) layout.align = 4096;
        MisuseFree((void *)p, layout, "interior pointer", TA_ERR_INVALID_POINTER);
        model.CheckBlock(addr, *b);
        return;
      }
      case 2: {  // near a live block (a slot start, a neighbouring slot, a header...)
        if (!have) return;
        int64_t delta = ta_fuzz::PickNearDelta(in, b->usable);
        uintptr_t p = addr + (uintptr_t)delta;
        if (p == 0 || model.IsLive(p)) return;
        ta_layout_t layout = {b->size, b->align};
        switch (in.U8() % 3) {
          case 0:
            layout = {in.Range(0, 16), 8};
            break;
          case 1:
            layout = {in.Range(0, 64), ta_fuzz::PickAlign(in)};
            break;
          default:
            break;
        }
        MisuseFree((void *)p, layout, "pointer near a live block", TA_ERR_INVALID_POINTER);
        return;
      }
      case 3: {  // memory tinyalloc never handed out
        uint64_t local = 0;
        void *p;
        void *owned = nullptr;
        switch (in.U8() % 4) {
          case 0:
            owned = std::malloc(in.Range(1, 4096));
            p = owned;
            break;
          case 1:
            p = &local;
            break;
          case 2:
            p = &g_global_word;
            break;
          default:
            p = (void *)(uintptr_t)in.U64();
            if (p == nullptr || model.Containing((uintptr_t)p) != model.live().end()) return;
            break;
        }
        MisuseFree(p, {in.Range(0, 64), 8}, "foreign pointer", TA_ERR_INVALID_POINTER);
        std::free(owned);
        return;
      }
      case 4: {  // a size larger than the block holds
        if (!have) return;
        size_t size = b->usable + in.Range(1, 1 << 20);
        MisuseFree((void *)addr, {size, b->align}, "size above usable size", TA_ERR_INVALID_POINTER,
                   TA_ERR_INVALID_LAYOUT);
        model.CheckBlock(addr, *b);
        return;
      }
      case 5: {  // an invalid layout for a live block
        if (!have) return;
        MisuseFree((void *)addr, ta_fuzz::PickInvalidLayout(in), "invalid layout",
                   TA_ERR_INVALID_LAYOUT, TA_ERR_INVALID_POINTER);
        model.CheckBlock(addr, *b);
        return;
      }
      case 6: {  // an alignment the block's address does not have
        if (!have) return;
        size_t align = (addr & (~addr + 1)) << 1;
        if (align > TA_LAYOUT_MAX_ALIGN) return;
        MisuseFree((void *)addr, {b->size, align}, "alignment the block does not have",
                   TA_ERR_INVALID_POINTER, TA_ERR_INVALID_LAYOUT);
        model.CheckBlock(addr, *b);
        return;
      }
      default: {  // freeing NULL is a no-op, whatever the layout
        ta_error_t before = ta_heap_last_error(heap);
        ta_heap_free(
            heap, nullptr,
            in.U8() & 1 ? ta_fuzz::PickInvalidLayout(in) : ta_layout_t{in.Range(0, 64), 8});
        FUZZ_CHECK(ta_heap_last_error(heap) == before, "free(NULL) changed the error to %s",
                   ta_error_str(ta_heap_last_error(heap)));
        return;
      }
    }
  }

  void Query() {
    FUZZ_CHECK(ta_usable_size(nullptr) == 0, "usable size of NULL");
    auto it = model.Pick(in.U16());
    if (it == model.live().end()) return;
    const ta_fuzz::Block &b = it->second;
    size_t usable = ta_usable_size((void *)it->first);
    FUZZ_CHECK(usable == b.usable, "usable size of %p went from %zu to %zu", (void *)it->first,
               b.usable, usable);
    if (b.usable >= 2) {  // not a block start: 0, says the header
      uintptr_t p = it->first + ta_fuzz::PickInteriorOffset(in, b.usable);
      FUZZ_TRACE("usable size of interior pointer %p", (void *)p);
      size_t got = ta_usable_size((void *)p);
      FUZZ_CHECK(got == 0, "usable size of %p, %zu bytes into block %p (size %zu align %zu): %zu",
                 (void *)p, (size_t)(p - it->first), (void *)it->first, b.size, b.align, got);
    }
  }

  // Many blocks of one layout, then frees of some of them: fills pages, sends
  // them (full) and back to their queues, retires them.
  void Burst() {
    size_t size = ta_fuzz::PickSize(in);
    if (size > 65536) size %= 65536;
    size_t align = (size_t)1 << in.Range(0, 6);
    size_t count = in.Range(1, 64);
    uint8_t keep = in.U8();
    uintptr_t blocks[64];
    size_t made = 0;
    FUZZ_TRACE("burst of %zu {%zu, %zu}, keep mask %#x", count, size, align, keep);
    for (; made < count && model.HasRoomFor(size, align); made++) {
      ta_layout_t layout = {size, align};
      void *p = ta_heap_alloc(heap, layout);
      model.Add(p, size, align, 0);
      blocks[made] = (uintptr_t)p;
    }
    for (size_t i = 0; i < made; i++) {
      if ((keep >> (i % 8)) & 1) continue;
      Free(blocks[i]);
    }
  }

  void InvalidAlloc() {
    ta_layout_t layout = ta_fuzz::PickInvalidLayout(in);
    FUZZ_TRACE("alloc with invalid layout {%zu, %zu}", layout.size, layout.align);
    ta_fuzz::PrimeOutOfMemory(heap);
    void *p = ta_heap_alloc(heap, layout);
    FUZZ_CHECK(p == nullptr, "invalid layout {%zu, %zu} gave %p", layout.size, layout.align, p);
    ta_fuzz::ExpectError(heap, "alloc with an invalid layout", TA_ERR_INVALID_LAYOUT);
  }

  void Run() {
    while (!in.empty()) {
      uint8_t op = in.U8();
      switch (op % 16) {
        case 0:
        case 1:
        case 2:
        case 3: {
          size_t size = ta_fuzz::PickSize(in);
          Alloc(size, ta_fuzz::PickAlign(in));
          break;
        }
        case 4:
          Alloc(in.Range(0, 256), (size_t)1 << in.Range(0, 4));
          break;
        case 5:
        case 6:
        case 7:
        case 8:
          FreeOne();
          break;
        case 9:
        case 10:
          Misuse();
          break;
        case 11:
          Query();
          break;
        case 12: {
          auto it = model.Pick(in.U16());
          if (it != model.live().end()) model.Rewrite(it->first, in.U8());
          break;
        }
        case 13:  // a full check, after giving free memory back to the OS
          if (op & 0x10) {
            FUZZ_TRACE("trim");
            ta_trim();
          }
          model.CheckAll();
          break;
        case 14:
          InvalidAlloc();
          break;
        default:
          Burst();
          break;
      }
    }
    model.CheckAll();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // The last byte decides how the walk ends: every block freed, or the heap
  // destroyed with whatever is left.
  bool destroy_live = size > 0 && (data[size - 1] & 1);
  Walk walk{Input(data, size), ta_heap_new(), Shadow()};
  FUZZ_CHECK(walk.heap != nullptr, "ta_heap_new failed");
  walk.Run();
  if (!destroy_live) {
    while (walk.model.count() > 0) walk.Free(walk.model.live().begin()->first);
  }
  ta_heap_destroy(walk.heap);
  ta_trim();
  FUZZ_CHECK(ta_os_live_reservations() == 0,
             "%zu reservations still live after the only heap was destroyed and ta_trim",
             ta_os_live_reservations());
  return 0;
}
