// layout_fuzz: ta_layout_make and the allocation path on arbitrary (size,
// align) pairs, with values drawn near the edges: 0, powers of two and their
// neighbours, TA_LAYOUT_MAX_ALIGN, PTRDIFF_MAX, SIZE_MAX, the end of the
// address space.
//
// ta_layout_make must accept exactly what the documented rule accepts (align
// a power of two in 1..TA_LAYOUT_MAX_ALIGN, size <= PTRDIFF_MAX, size + align
// not overflowing), fill *out only then, and refuse a NULL out. The same pair
// built by hand as a ta_layout_t must give NULL with TA_ERR_INVALID_LAYOUT when
// invalid; when valid, a block (aligned, usable size >= size, writable at both
// ends) if it is small enough to map, NULL with TA_ERR_OUT_OF_MEMORY if it
// cannot fit in any address space, one or the other in between. Frees with an
// invalid layout, through a NULL heap or of NULL free nothing.
#include <cstdint>
#include <cstring>

#include "fuzz/fuzz_support.h"
#include "tinyalloc/mapper.h"
#include "tinyalloc/tinyalloc.h"

namespace {

using ta_fuzz::Input;

constexpr size_t kSurelyMappable = (size_t)64 << 20;  // must succeed up to here
constexpr size_t kNeverMappable = (size_t)1 << 47;    // user address space of x86-64

size_t PickValue(Input &in) {
  switch (in.U8() % 10) {
    case 0:
      return (size_t)in.U64();
    case 1:
      return SIZE_MAX - in.Range(0, 65536);
    case 2:
      return (size_t)PTRDIFF_MAX - 32768 + in.Range(0, 65536);
    case 3:  // a power of two, or a neighbour
      return ((size_t)1 << in.Range(0, 63)) + in.Range(0, 2) - 1;
    case 4:
      return (size_t)1 << in.Range(0, 63);
    case 5:
      return in.Range(0, 4096);
    case 6:
      return TA_LAYOUT_MAX_ALIGN - 2 + in.Range(0, 4);
    case 7:
      return kNeverMappable - 32768 + in.Range(0, 65536);
    case 8:  // two bits set: not a power of two, yet close to one
      return ((size_t)1 << in.Range(0, 63)) | ((size_t)1 << in.Range(0, 63));
    default:
      return in.Range(0, (size_t)256 << 20);
  }
}

// The documented rule, written out independently of the library's.
bool RuleAccepts(size_t size, size_t align) {
  bool pow2 = align != 0 && (align & (align - 1)) == 0;
  size_t sum;
  bool overflows = __builtin_add_overflow(size, align, &sum);
  return pow2 && align >= 1 && align <= TA_LAYOUT_MAX_ALIGN && size <= (size_t)PTRDIFF_MAX &&
         !overflows;
}

struct Held {
  void *p = nullptr;
  ta_layout_t layout = {0, 1};
  size_t usable = 0;
};

void CheckLayoutMake(size_t size, size_t align) {
  bool valid = RuleAccepts(size, align);
  FUZZ_CHECK(valid == ta_fuzz::LayoutIsValid(size, align), "rule mismatch for %zu/%zu", size,
             align);
  const ta_layout_t sentinel = {0x5A5A5A5Au, 0xA5A5A5A5u};
  ta_layout_t out = sentinel;
  ta_error_t err = ta_layout_make(size, align, &out);
  if (valid) {
    FUZZ_CHECK(err == TA_OK && out.size == size && out.align == align,
               "ta_layout_make(%zu, %zu): %s, out {%zu, %zu}", size, align, ta_error_str(err),
               out.size, out.align);
  } else {
    FUZZ_CHECK(err == TA_ERR_INVALID_LAYOUT, "ta_layout_make(%zu, %zu) accepted or said %s", size,
               align, ta_error_str(err));
    FUZZ_CHECK(out.size == sentinel.size && out.align == sentinel.align,
               "ta_layout_make(%zu, %zu) failed but wrote *out", size, align);
  }
  err = ta_layout_make(size, align, nullptr);
  FUZZ_CHECK(err == TA_ERR_INVALID_ARGUMENT, "ta_layout_make(%zu, %zu, NULL): %s", size, align,
             ta_error_str(err));
}

void CheckBlock(void *p, size_t size, size_t align, size_t *usable) {
  FUZZ_CHECK((uintptr_t)p % align == 0, "block %p for %zu/%zu is misaligned", p, size, align);
  *usable = ta_usable_size(p);
  FUZZ_CHECK(*usable >= size, "block %p for %zu/%zu: usable size %zu", p, size, align, *usable);
  // Both ends are writable (at most a page of each, so huge blocks stay cheap).
  size_t edge = *usable < 4096 ? *usable : 4096;
  std::memset(p, 0xC3, edge);
  std::memset((uint8_t *)p + *usable - edge, 0x3C, edge);
}

void FreeHeld(ta_heap_t *heap, Held *held) {
  if (held->p == nullptr) return;
  FUZZ_CHECK(ta_usable_size(held->p) == held->usable, "usable size of %p changed", held->p);
  ta_error_t before = ta_heap_last_error(heap);
  ta_heap_free(heap, held->p, held->layout);
  FUZZ_CHECK(ta_heap_last_error(heap) == before, "free of %p ({%zu, %zu}) failed: %s", held->p,
             held->layout.size, held->layout.align, ta_error_str(ta_heap_last_error(heap)));
  held->p = nullptr;
}

void OneLayout(ta_heap_t *heap, Held *held, size_t size, size_t align) {
  CheckLayoutMake(size, align);
  bool valid = RuleAccepts(size, align);
  ta_layout_t layout = {size, align};

  // NULL heap, NULL pointer: errors or no-ops, whatever the layout.
  FUZZ_CHECK(ta_heap_alloc(nullptr, layout) == nullptr, "alloc on a NULL heap");
  FUZZ_CHECK(ta_heap_last_error(nullptr) == TA_ERR_INVALID_ARGUMENT, "NULL heap's error");
  ta_error_t before = ta_heap_last_error(heap);
  ta_heap_free(heap, nullptr, layout);
  ta_heap_free(nullptr, nullptr, layout);
  FUZZ_CHECK(ta_heap_last_error(heap) == before, "free(NULL) changed the error");
  FUZZ_CHECK(ta_error_str((ta_error_t)(size & 0xFF)) != nullptr, "ta_error_str gave NULL");

  if (held->p != nullptr) {
    // Through a NULL heap: nothing freed (the proper free later still works).
    ta_heap_free(nullptr, held->p, held->layout);
    if (!valid) {  // with this invalid layout: refused, nothing freed
      ta_fuzz::PrimeOutOfMemory(heap);
      ta_heap_free(heap, held->p, layout);
      ta_fuzz::ExpectError(heap, "free with an invalid layout", TA_ERR_INVALID_LAYOUT,
                           TA_ERR_INVALID_POINTER);
    }
  }

  if (!valid) {
    ta_fuzz::PrimeOutOfMemory(heap);
    void *p = ta_heap_alloc(heap, layout);
    FUZZ_CHECK(p == nullptr, "invalid layout {%zu, %zu} gave %p", size, align, p);
    ta_fuzz::ExpectError(heap, "alloc with an invalid layout", TA_ERR_INVALID_LAYOUT);
    return;
  }
  before = ta_heap_last_error(heap);
  void *p = ta_heap_alloc(heap, layout);
  if (size <= kSurelyMappable) {
    FUZZ_CHECK(p != nullptr, "alloc {%zu, %zu} failed: %s", size, align,
               ta_error_str(ta_heap_last_error(heap)));
  } else if (size >= kNeverMappable) {
    FUZZ_CHECK(p == nullptr, "alloc {%zu, %zu} beyond the address space gave %p", size, align, p);
  }
  if (p == nullptr) {
    FUZZ_CHECK(ta_heap_last_error(heap) == TA_ERR_OUT_OF_MEMORY, "alloc {%zu, %zu} failed with %s",
               size, align, ta_error_str(ta_heap_last_error(heap)));
    return;
  }
  FUZZ_CHECK(ta_heap_last_error(heap) == before, "alloc {%zu, %zu} changed the error", size, align);
  size_t usable;
  CheckBlock(p, size, align, &usable);
  // Keep a small block for the misuse checks of the next layouts; free others.
  if (usable <= 65536) {
    FreeHeld(heap, held);
    *held = {p, layout, usable};
  } else {
    ta_error_t err = ta_heap_last_error(heap);
    ta_heap_free(heap, p, layout);
    FUZZ_CHECK(ta_heap_last_error(heap) == err, "free {%zu, %zu} failed: %s", size, align,
               ta_error_str(ta_heap_last_error(heap)));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Input in(data, size);
  ta_heap_t *heap = ta_heap_new();
  FUZZ_CHECK(heap != nullptr, "ta_heap_new failed");
  Held held;
  while (!in.empty()) {
    size_t block_size = PickValue(in);
    size_t align = PickValue(in);
    OneLayout(heap, &held, block_size, align);
  }
  FreeHeld(heap, &held);
  ta_heap_destroy(heap);
  ta_trim();
  FUZZ_CHECK(ta_os_live_reservations() == 0,
             "%zu reservations live after the heap was destroyed and ta_trim",
             ta_os_live_reservations());
  return 0;
}
