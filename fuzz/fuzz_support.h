// Shared by the fuzz targets: an input reader, generators of sizes and
// alignments, the byte patterns blocks are filled with, and the shadow model
// that mirrors every live block (snmalloc's fuzzer, style point 10).
//
// A failed check prints what was expected and what happened, then aborts:
// libFuzzer and AFL++ record the input as a crash, the replay test fails.
#ifndef TINYALLOC_FUZZ_FUZZ_SUPPORT_H_
#define TINYALLOC_FUZZ_FUZZ_SUPPORT_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "tinyalloc/mapper.h"
#include "tinyalloc/testing/failing_mapper.h"
#include "tinyalloc/tinyalloc.h"

namespace ta_fuzz {

// Prints "fuzz check failed: <file>:<line>: <cond>: <printf message>" and aborts.
[[noreturn]] void Fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define FUZZ_CHECK(cond, ...)                                             \
  do {                                                                    \
    if (!(cond)) ::ta_fuzz::Fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
  } while (0)

// With FUZZ_TRACE=1 in the environment, targets print each step to stderr:
// how a crash input is read back when reporting it.
bool Tracing();
void Trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define FUZZ_TRACE(...)                                      \
  do {                                                       \
    if (::ta_fuzz::Tracing()) ::ta_fuzz::Trace(__VA_ARGS__); \
  } while (0)

// Reads the fuzz input front to back; past its end every read gives 0.
class Input {
 public:
  Input(const uint8_t *data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  uint8_t U8() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint16_t U16() { return (uint16_t)(U8() | (unsigned)U8() << 8); }
  uint32_t U32() { return (uint32_t)U16() | (uint32_t)U16() << 16; }
  uint64_t U64() { return (uint64_t)U32() | (uint64_t)U32() << 32; }
  // A value in [lo, hi], from as few bytes as the range needs.
  size_t Range(size_t lo, size_t hi);

 private:
  const uint8_t *data_;
  size_t size_;
  size_t pos_ = 0;
};

// Bounds that keep a run fast and far from the RSS limit (-rss_limit_mb=4096).
constexpr size_t kMaxHugeSize = (size_t)16 << 20;    // largest single block
constexpr size_t kMaxLiveBytes = (size_t)128 << 20;  // usable bytes of all live blocks
constexpr size_t kMaxLiveBlocks = 512;
constexpr size_t kMaxAlignShift = 25;  // alignments up to 32 MiB

// A size for an allocation: tiny, around each size class boundary, medium,
// huge (up to kMaxHugeSize), around powers of two, or 0.
size_t PickSize(Input &in);
// A power-of-two alignment: mostly small, sometimes up to a page, a segment,
// or 2^kMaxAlignShift.
size_t PickAlign(Input &in);
// An offset from a block to a pointer near it, a multiple of 8: mostly within
// 128 bytes (slot starts, padding, a neighbour's edge), sometimes one to four
// slots of slot_size away (free, never carved or past the page's end), sometimes
// up to 256 KiB.
int64_t PickNearDelta(Input &in, size_t slot_size);
// An offset into a block of `usable` bytes (>= 2): 1..usable-1, mostly small.
size_t PickInteriorOffset(Input &in, size_t usable);
// A layout that ta_layout_make rejects (align 0, not a power of two, above
// TA_LAYOUT_MAX_ALIGN, size above PTRDIFF_MAX, size + align overflowing).
ta_layout_t PickInvalidLayout(Input &in);
// Whether ta_layout_make must accept (size, align): the documented rule.
bool LayoutIsValid(size_t size, size_t align);

// Block contents: byte i of a block with key k is Pattern(k)[i % 65536],
// pseudo-random so that a shifted or overlapping block cannot match.
// FillPattern writes n bytes of it at p, as the bytes from offset `from` on;
// CheckPattern compares them with memcmp in chunks, which sanitizers check as
// ranges rather than byte by byte.
void FillPattern(void *p, size_t n, uint8_t key, size_t from = 0);
bool CheckPattern(const void *p, size_t n, uint8_t key, size_t from = 0);
// A whole block of n bytes: every byte if dense (every 8th block up to 1 MiB,
// every 256th block, every block up to 8 KiB); otherwise the first and last
// 4 KiB and 64 bytes of every 256 KiB in between. CheckBlockBytes returns the
// first offset that differs, or n.
void FillBlockBytes(void *p, size_t n, uint8_t key, bool dense);
size_t CheckBlockBytes(const void *p, size_t n, uint8_t key, bool dense);

// Sets the heap's sticky last error to TA_ERR_OUT_OF_MEMORY with a layout that
// is valid but can never be mapped (checking that it is refused so), so that
// the next failing call must visibly change it.
void PrimeOutOfMemory(ta_heap_t *heap);

// Checks that a call the contract says fails recorded one of the errors given
// (the heap was primed with TA_ERR_OUT_OF_MEMORY just before).
void ExpectError(ta_heap_t *heap, const char *what, ta_error_t a, ta_error_t b = TA_OK);

// Mapper failures the input arms: calls of a kind whose bit is set in mask
// (bit op of ta_mapper_op_t; never a release, which the allocator cannot
// survive without leaking) whose turn comes up as a set bit of bits, read
// cyclically over period bits. Installed with
// ta_failing_mapper_fail_with(fm, FailurePlan::Decide, &plan).
struct FailurePlan {
  unsigned mask = 0;
  uint64_t bits = 0;
  unsigned period = 1;
  unsigned pos = 0;

  // Reads the kinds (reserve, commit, decommit, protect, purge), bits and period.
  void Arm(Input &in);
  static bool Decide(void *plan, ta_mapper_op_t op, size_t op_call, size_t call);
};

// Failures fm has injected so far, of every kind.
size_t InjectedFailures(ta_failing_mapper_t *fm);

// A live block as the model knows it.
struct Block {
  size_t size;  // requested
  size_t align;
  size_t usable;  // ta_usable_size when allocated; must never change
  uint8_t key;    // pattern key of its contents
  int owner;      // index of the heap that allocated it
  bool dense;     // every byte holds the pattern (else see FillBlockBytes)
};

// The shadow model: every live block, ordered by address, and the blocks freed
// since the last allocation (a second free of those must be refused; once
// anything is allocated, a freed address may be handed out again).
class Shadow {
 public:
  // Records a block just returned by ta_heap_alloc: checks alignment, usable
  // size and that it overlaps no live block, then fills it with a fresh
  // pattern and checks its neighbours' edges. Forgets the freed addresses.
  void Add(void *p, size_t size, size_t align, int owner);
  // Checks every byte of a block, and that its usable size is unchanged, then
  // drops it from the model. Returns its record.
  Block Remove(uintptr_t addr);
  // Checks every byte of a block and its usable size.
  void CheckBlock(uintptr_t addr, const Block &b) const;
  // CheckBlock on every live block.
  void CheckAll() const;
  // Checks the first and last bytes of the blocks around addr (cheap; after
  // each step, to catch metadata written over a neighbour).
  void CheckAround(uintptr_t addr) const;
  // Refills a live block with a new key.
  void Rewrite(uintptr_t addr, uint8_t key);
  // Drops every block of owner without touching it (its heap was destroyed),
  // and forgets the freed addresses.
  void DropOwner(int owner);
  // Forgets the freed addresses (something was mapped: they may be reused).
  void ForgetFreed() { freed_.clear(); }
  // Notes that addr was freed with layout, for double-free checks.
  void NoteFreed(uintptr_t addr, ta_layout_t layout) { freed_.push_back({addr, layout}); }

  // The live block at index i % count (count must be > 0), or end().
  std::map<uintptr_t, Block>::const_iterator Pick(size_t i) const;
  // The live block containing addr in its usable range, or end().
  std::map<uintptr_t, Block>::const_iterator Containing(uintptr_t addr) const;
  bool IsLive(uintptr_t addr) const { return live_.count(addr) != 0; }
  bool IsFreed(uintptr_t addr) const;
  size_t count() const { return live_.size(); }
  size_t live_bytes() const { return live_bytes_; }
  const std::map<uintptr_t, Block> &live() const { return live_; }
  const std::vector<std::pair<uintptr_t, ta_layout_t>> &freed() const { return freed_; }
  // Whether a block of size/align fits the bounds above.
  bool HasRoomFor(size_t size, size_t align) const;

 private:
  std::map<uintptr_t, Block> live_;
  std::vector<std::pair<uintptr_t, ta_layout_t>> freed_;
  size_t live_bytes_ = 0;
  size_t serial_ = 0;
  uint8_t next_key_ = 1;
};

}  // namespace ta_fuzz

#endif  // TINYALLOC_FUZZ_FUZZ_SUPPORT_H_
