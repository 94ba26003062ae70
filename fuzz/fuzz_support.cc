// The fuzz targets' shared parts: see fuzz_support.h.
#include "fuzz/fuzz_support.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "alloc/size_class.h"

namespace ta_fuzz {

void Fail(const char *file, int line, const char *cond, const char *fmt, ...) {
  std::fprintf(stderr, "fuzz check failed: %s:%d: %s: ", file, line, cond);
  va_list args;
  va_start(args, fmt);
  std::vfprintf(stderr, fmt, args);
  va_end(args);
  std::fputc('\n', stderr);
  std::fflush(stderr);
  std::abort();
}

bool Tracing() {
  static const bool on = [] {
    const char *env = std::getenv("FUZZ_TRACE");
    return env != nullptr && env[0] != '\0' && env[0] != '0';
  }();
  return on;
}

void Trace(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  std::vfprintf(stderr, fmt, args);
  va_end(args);
  std::fputc('\n', stderr);
}

size_t Input::Range(size_t lo, size_t hi) {
  size_t span = hi - lo;
  if (span == 0) return lo;
  uint64_t raw = span <= 0xFF ? U8() : span <= 0xFFFF ? U16() : span <= 0xFFFFFFFFu ? U32() : U64();
  if (span == SIZE_MAX) return (size_t)raw;
  return lo + (size_t)(raw % (span + 1));
}

size_t PickSize(Input &in) {
  uint8_t sel = in.U8();
  switch (sel % 32) {
    case 0:
      return 0;
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
      return in.Range(1, 128);
    case 7:
    case 8:
    case 9:
    case 10:
      return in.Range(1, 1024);
    case 11:
    case 12:
    case 13:
    case 14:
    case 15:
    case 16: {  // a size class boundary, give or take a few bytes
      size_t cls_size = ta_class_size_table[in.U8() % TA_CLASS_COUNT];
      size_t delta = in.Range(0, 16);
      return (sel & 0x80) ? cls_size + delta : (cls_size > delta ? cls_size - delta : 0);
    }
    case 17:
    case 18:
    case 19:
    case 20:
      return in.Range(1025, 65536);
    case 21:
    case 22:
    case 23:
      return in.Range(65537, TA_CLASS_MAX_SIZE);
    case 24:
    case 25: {  // a power of two, give or take one
      size_t p = (size_t)1 << in.Range(0, 24);
      return p + in.Range(0, 2) - 1;
    }
    // Huge blocks (a segment each, every page touched): rarer, they are slow.
    case 26:  // just above the largest class
      return TA_CLASS_MAX_SIZE + in.Range(1, 65536);
    case 27:
      return in.Range(TA_CLASS_MAX_SIZE + 1, (size_t)4 << 20);
    case 28:
      return in.Range(TA_CLASS_MAX_SIZE + 1, (sel & 0x80) ? kMaxHugeSize : (size_t)4 << 20);
    default:
      return in.Range(1, 64);
  }
}

size_t PickAlign(Input &in) {
  uint8_t sel = in.U8();
  unsigned shift;
  switch (sel % 8) {
    case 0:
    case 1:
    case 2:
    case 3:
      shift = (unsigned)in.Range(0, 4);  // 1..16: what C types need
      break;
    case 4:
    case 5:
      shift = (unsigned)in.Range(5, 12);  // up to a page
      break;
    case 6:
      shift = (unsigned)in.Range(13, 21);  // up to half a segment
      break;
    default:
      shift = (unsigned)in.Range(22, kMaxAlignShift);  // a segment and more
      break;
  }
  return (size_t)1 << shift;
}

int64_t PickNearDelta(Input &in, size_t slot_size) {
  uint8_t sel = in.U8();
  if (sel < 192) return ((int64_t)(sel % 33) - 16) * 8;
  if (sel < 224 && slot_size % 8 == 0 && slot_size <= ((size_t)1 << 24)) {
    int64_t slots = (int64_t)(sel % 8) - 4;  // -4..3, then 0 and up shift to 1..4
    if (slots >= 0) slots++;
    return slots * (int64_t)slot_size;
  }
  return (int64_t)(int16_t)in.U16() * 8;
}

size_t PickInteriorOffset(Input &in, size_t usable) {
  if (in.U8() & 1) return in.Range(1, usable - 1 < 64 ? usable - 1 : 64);
  return in.Range(1, usable - 1);
}

bool LayoutIsValid(size_t size, size_t align) {
  return align != 0 && (align & (align - 1)) == 0 && align <= TA_LAYOUT_MAX_ALIGN &&
         size <= (size_t)PTRDIFF_MAX && size <= SIZE_MAX - align;
}

ta_layout_t PickInvalidLayout(Input &in) {
  size_t size = in.Range(0, 4096);
  switch (in.U8() % 7) {
    case 0:
      return {size, 0};
    case 1: {  // not a power of two: two bits set
      unsigned a = (unsigned)in.Range(0, 62), b = (unsigned)in.Range(a + 1, 63);
      return {size, ((size_t)1 << a) | ((size_t)1 << b)};
    }
    case 2:  // a power of two above the maximum
      return {size, (size_t)1 << in.Range(31, 63)};
    case 3:
      return {SIZE_MAX - in.Range(0, 4096), 8};
    case 4:
      return {(size_t)PTRDIFF_MAX + 1 + in.Range(0, 4096), 1};
    case 5: {  // size + align overflows
      size_t align = (size_t)1 << in.Range(0, 30);
      return {SIZE_MAX - align + 1 + in.Range(0, align - 1), align};
    }
    default:
      return {size, SIZE_MAX - in.Range(0, 4096)};
  }
}

// ---- patterns ----

namespace {

constexpr size_t kPatternPeriod = 65536;

// kPatternPeriod + 256 pseudo-random bytes: key k's pattern starts at k.
const uint8_t *PatternTable() {
  static uint8_t *table = [] {
    auto *t = new uint8_t[kPatternPeriod + 256];
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (size_t i = 0; i < kPatternPeriod + 256; i++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      t[i] = (uint8_t)(x >> 24);
    }
    return t;
  }();
  return table;
}

}  // namespace

void FillPattern(void *p, size_t n, uint8_t key, size_t from) {
  const uint8_t *t = PatternTable() + key;
  uint8_t *out = (uint8_t *)p;
  for (size_t done = 0; done < n;) {
    size_t phase = (from + done) % kPatternPeriod;
    size_t chunk = kPatternPeriod - phase;
    if (chunk > n - done) chunk = n - done;
    std::memcpy(out + done, t + phase, chunk);
    done += chunk;
  }
}

bool CheckPattern(const void *p, size_t n, uint8_t key, size_t from) {
  const uint8_t *t = PatternTable() + key;
  const uint8_t *in = (const uint8_t *)p;
  for (size_t done = 0; done < n;) {
    size_t phase = (from + done) % kPatternPeriod;
    size_t chunk = kPatternPeriod - phase;
    if (chunk > n - done) chunk = n - done;
    if (std::memcmp(in + done, t + phase, chunk) != 0) return false;
    done += chunk;
  }
  return true;
}

namespace {

// The byte ranges of a block of n bytes that hold its pattern: all of it
// when dense; otherwise the first and last kEdge bytes and kProbe bytes every
// kStride in between. Untouched memory costs a page fault per page (about
// 20 us on these machines), and writing every byte of every block made the
// fuzzers four times slower; what the allocator itself writes into blocks
// (links, marks, tags) lies at their edges.
constexpr size_t kEdge = 4096;
constexpr size_t kProbe = 64;
constexpr size_t kStride = (size_t)256 << 10;

template <typename F>
bool ForEachRange(size_t n, bool dense, F f) {
  if (dense || n <= 2 * kEdge) return f(0, n);
  if (!f(0, kEdge)) return false;
  for (size_t off = kEdge; off < n - kEdge; off += kStride) {
    if (!f(off, kProbe)) return false;
  }
  return f(n - kEdge, kEdge);
}

}  // namespace

void FillBlockBytes(void *p, size_t n, uint8_t key, bool dense) {
  ForEachRange(n, dense, [&](size_t off, size_t len) {
    FillPattern((uint8_t *)p + off, len, key, off);
    return true;
  });
}

size_t CheckBlockBytes(const void *p, size_t n, uint8_t key, bool dense) {
  size_t bad = n;
  ForEachRange(n, dense, [&](size_t off, size_t len) {
    const uint8_t *at = (const uint8_t *)p + off;
    if (CheckPattern(at, len, key, off)) return true;
    const uint8_t *t = PatternTable() + key;
    for (size_t i = 0; i < len; i++) {
      if (at[i] != t[(off + i) % kPatternPeriod]) {
        bad = off + i;
        break;
      }
    }
    return false;
  });
  return bad;
}

// ---- errors ----

void PrimeOutOfMemory(ta_heap_t *heap) {
  // Valid (size <= PTRDIFF_MAX, no overflow) but larger than any address space.
  ta_layout_t impossible = {(size_t)1 << 62, 1};
  void *p = ta_heap_alloc(heap, impossible);
  FUZZ_CHECK(p == nullptr, "a 2^62-byte block was handed out at %p", p);
  FUZZ_CHECK(ta_heap_last_error(heap) == TA_ERR_OUT_OF_MEMORY, "2^62 bytes failed with %s",
             ta_error_str(ta_heap_last_error(heap)));
}

void ExpectError(ta_heap_t *heap, const char *what, ta_error_t a, ta_error_t b) {
  ta_error_t err = ta_heap_last_error(heap);
  FUZZ_CHECK(err == a || (b != TA_OK && err == b), "%s: expected %s%s%s, last error is %s", what,
             ta_error_str(a), b != TA_OK ? " or " : "", b != TA_OK ? ta_error_str(b) : "",
             ta_error_str(err));
}

// ---- the shadow model ----

bool Shadow::HasRoomFor(size_t size, size_t align) const {
  if (live_.size() >= kMaxLiveBlocks) return false;
  // What the block may use: a huge one is rounded up to a 4 MiB segment.
  size_t estimate =
      size <= TA_CLASS_MAX_SIZE && align <= 4096 ? TA_CLASS_MAX_SIZE : size + ((size_t)4 << 20);
  return live_bytes_ + estimate <= kMaxLiveBytes;
}

void Shadow::Add(void *p, size_t size, size_t align, int owner) {
  uintptr_t addr = (uintptr_t)p;
  FUZZ_CHECK(p != nullptr, "no block for size %zu align %zu", size, align);
  FUZZ_CHECK(addr % align == 0, "block %p for size %zu is not aligned to %zu", p, size, align);
  size_t usable = ta_usable_size(p);
  FUZZ_CHECK(usable >= size, "block %p: usable size %zu < requested %zu (align %zu)", p, usable,
             size, align);
  FUZZ_CHECK(usable - size <= size + align + ((size_t)4 << 20),
             "block %p: usable size %zu absurd for size %zu align %zu", p, usable, size, align);
  auto next = live_.lower_bound(addr);
  if (next != live_.end()) {
    FUZZ_CHECK(addr + usable <= next->first,
               "new block %p+%zu (size %zu align %zu) overlaps live block %p+%zu (size %zu)", p,
               usable, size, align, (void *)next->first, next->second.usable, next->second.size);
  }
  if (next != live_.begin()) {
    auto prev = std::prev(next);
    FUZZ_CHECK(prev->first + prev->second.usable <= addr,
               "new block %p+%zu (size %zu align %zu) overlaps live block %p+%zu (size %zu)", p,
               usable, size, align, (void *)prev->first, prev->second.usable, prev->second.size);
  }
  FUZZ_TRACE("  block %p size %zu align %zu usable %zu owner %d", p, size, align, usable, owner);
  // Every byte of every 8th block up to 1 MiB, and of every 256th block.
  bool dense = serial_ % 256 == 0 || (serial_ % 8 == 0 && usable <= ((size_t)1 << 20));
  serial_++;
  Block b{size, align, usable, next_key_, owner, dense};
  next_key_ = (uint8_t)(next_key_ * 5 + 3);  // full period mod 256
  FillBlockBytes(p, usable, b.key, dense);
  live_.emplace(addr, b);
  live_bytes_ += usable;
  freed_.clear();
  CheckAround(addr);
}

void Shadow::CheckBlock(uintptr_t addr, const Block &b) const {
  size_t usable = ta_usable_size((const void *)addr);
  FUZZ_CHECK(usable == b.usable, "block %p (size %zu align %zu): usable size went from %zu to %zu",
             (void *)addr, b.size, b.align, b.usable, usable);
  size_t bad = CheckBlockBytes((const void *)addr, b.usable, b.key, b.dense);
  FUZZ_CHECK(bad == b.usable,
             "block %p (size %zu align %zu usable %zu): contents changed at offset %zu",
             (void *)addr, b.size, b.align, b.usable, bad);
}

void Shadow::CheckAll() const {
  for (const auto &entry : live_) CheckBlock(entry.first, entry.second);
}

void Shadow::CheckAround(uintptr_t addr) const {
  auto it = live_.lower_bound(addr);
  auto first = it;
  for (int i = 0; i < 2 && first != live_.begin(); i++) --first;
  auto last = it;
  for (int i = 0; i < 2 && last != live_.end(); i++) ++last;
  for (auto cur = first; cur != last; ++cur) {
    const Block &b = cur->second;
    size_t edge = b.usable < 32 ? b.usable : 32;
    const uint8_t *p = (const uint8_t *)cur->first;
    FUZZ_CHECK(CheckPattern(p, edge, b.key) &&
                   CheckPattern(p + b.usable - edge, edge, b.key, b.usable - edge),
               "block %p (size %zu align %zu usable %zu): first or last bytes changed",
               (void *)cur->first, b.size, b.align, b.usable);
  }
}

Block Shadow::Remove(uintptr_t addr) {
  auto it = live_.find(addr);
  FUZZ_CHECK(it != live_.end(), "model: %p is not live", (void *)addr);
  Block b = it->second;
  CheckBlock(addr, b);
  live_.erase(it);
  live_bytes_ -= b.usable;
  return b;
}

void Shadow::Rewrite(uintptr_t addr, uint8_t key) {
  auto it = live_.find(addr);
  FUZZ_CHECK(it != live_.end(), "model: %p is not live", (void *)addr);
  CheckBlock(addr, it->second);
  it->second.key = key;
  FillBlockBytes((void *)addr, it->second.usable, key, it->second.dense);
  CheckAround(addr);
}

void Shadow::DropOwner(int owner) {
  for (auto it = live_.begin(); it != live_.end();) {
    if (it->second.owner == owner) {
      live_bytes_ -= it->second.usable;
      it = live_.erase(it);
    } else {
      ++it;
    }
  }
  freed_.clear();
}

std::map<uintptr_t, Block>::const_iterator Shadow::Pick(size_t i) const {
  if (live_.empty()) return live_.end();
  auto it = live_.begin();
  std::advance(it, (long)(i % live_.size()));
  return it;
}

std::map<uintptr_t, Block>::const_iterator Shadow::Containing(uintptr_t addr) const {
  auto it = live_.upper_bound(addr);
  if (it == live_.begin()) return live_.end();
  --it;
  return addr < it->first + it->second.usable ? it : live_.end();
}

bool Shadow::IsFreed(uintptr_t addr) const {
  for (const auto &f : freed_) {
    if (f.first == addr) return true;
  }
  return false;
}

void FailurePlan::Arm(Input &in) {
  mask = in.U8() & ((1u << TA_MAPPER_RESERVE) | (1u << TA_MAPPER_COMMIT) |
                     (1u << TA_MAPPER_DECOMMIT) | (1u << TA_MAPPER_PROTECT) |
                     (1u << TA_MAPPER_PURGE));
  bits = in.U64();
  period = 1 + in.U8() % 64;
  pos = 0;
}

bool FailurePlan::Decide(void *arg, ta_mapper_op_t op, size_t op_call, size_t call) {
  (void)op_call;
  (void)call;
  FailurePlan *plan = static_cast<FailurePlan *>(arg);
  if (op == TA_MAPPER_RELEASE || !((plan->mask >> op) & 1)) return false;
  bool fail = (plan->bits >> (plan->pos % plan->period)) & 1;
  plan->pos++;
  return fail;
}

size_t InjectedFailures(ta_failing_mapper_t *fm) {
  size_t n = 0;
  for (int op = 0; op < TA_MAPPER_OP_COUNT; op++) {
    n += ta_failing_mapper_failures(fm, (ta_mapper_op_t)op);
  }
  return n;
}

}  // namespace ta_fuzz
