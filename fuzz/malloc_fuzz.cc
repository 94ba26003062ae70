// malloc_fuzz: a random walk over the prefixed malloc family on the thread's
// default heap, checked against the shadow model.
//
// Operations: ta_malloc, ta_calloc (checked zero, and overflowing products),
// ta_aligned_alloc and ta_posix_memalign (valid and invalid alignments),
// ta_realloc (grow, shrink, to 0, from NULL; contents kept up to the smaller
// size; a failure leaves the block as it was), ta_free (errno kept),
// ta_malloc_usable_size, impossible sizes (NULL with ENOMEM), and misuse:
// double frees, interior and nearby pointers, foreign memory, realloc of a
// pointer tinyalloc did not hand out. glibc's rules are the contract
// (tinyalloc/malloc.h). The input also arms failures of a failing mapper
// installed once, before the first heap: then an allocation may return NULL
// with ENOMEM, but only after a failure was really injected.
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "fuzz/fuzz_support.h"
#include "tinyalloc/malloc.h"
#include "tinyalloc/mapper.h"
#include "tinyalloc/testing/failing_mapper.h"

namespace {

using ta_fuzz::Input;
using ta_fuzz::Shadow;

// Memory tinyalloc never handed out.
alignas(64) unsigned char g_foreign[256];

ta_fuzz::FailurePlan g_plan;  // mapper failures the input arms
ta_failing_mapper_t *g_failing = nullptr;

size_t Failures() { return ta_fuzz::InjectedFailures(g_failing); }

// Once per process, before the thread's heap exists.
void InstallOnce() {
  if (g_failing != nullptr) return;
  g_failing = ta_failing_mapper_new(ta_mapper_default());
  FUZZ_CHECK(g_failing != nullptr, "ta_failing_mapper_new failed");
  ta_error_t set = ta_mapper_set(ta_failing_mapper_table(g_failing));
  FUZZ_CHECK(set == TA_OK, "installing the mapper failed: %s", ta_error_str(set));
  ta_failing_mapper_fail_with(g_failing, ta_fuzz::FailurePlan::Decide, &g_plan);
}

// A NULL result is allowed only with ENOMEM after an injected failure.
bool Refused(void *p, size_t failures_before, const char *what, size_t size) {
  if (p != nullptr) return false;
  int err = errno;
  FUZZ_CHECK(Failures() > failures_before, "%s of %zu failed (errno %d) with no failure injected",
             what, size, err);
  FUZZ_CHECK(err == ENOMEM, "%s of %zu failed with errno %d, not ENOMEM", what, size, err);
  return true;
}

struct Walk {
  Input in;
  Shadow model;

  size_t Size() { return ta_fuzz::PickSize(in); }

  bool Room(size_t size, size_t align) {
    if (model.HasRoomFor(size, align)) return true;
    FreeOne();
    return false;
  }

  // p came from an allocation made after `failures` injected failures.
  void Record(void *p, size_t failures, size_t size, size_t align, const char *what) {
    if (Refused(p, failures, what, size)) return;
    model.Add(p, size, align < TA_MALLOC_ALIGN ? TA_MALLOC_ALIGN : align, 0);
  }

  void Malloc() {
    size_t size = Size();
    if (!Room(size, TA_MALLOC_ALIGN)) return;
    FUZZ_TRACE("malloc %zu", size);
    size_t failures = Failures();
    Record(ta_malloc(size), failures, size, TA_MALLOC_ALIGN, "malloc");
  }

  void Calloc() {
    size_t size = Size();
    size_t count = in.Range(1, 16);
    size_t each = size / count;
    if (!Room(each * count, TA_MALLOC_ALIGN)) return;
    FUZZ_TRACE("calloc %zu x %zu", count, each);
    size_t failures = Failures();
    auto *p = static_cast<unsigned char *>(ta_calloc(count, each));
    if (Refused(p, failures, "calloc", count * each)) return;
    size_t n = count * each;
    // Every byte up to 64 KiB, then the first and last 4 KiB.
    size_t head = n < 65536 ? n : 4096;
    for (size_t i = 0; i < head; i++) FUZZ_CHECK(p[i] == 0, "calloc byte %zu of %zu is %u", i, n, p[i]);
    for (size_t i = n > 65536 ? n - 4096 : n; i < n; i++) {
      FUZZ_CHECK(p[i] == 0, "calloc byte %zu of %zu is %u", i, n, p[i]);
    }
    model.Add(p, n, TA_MALLOC_ALIGN, 0);
  }

  void Aligned() {
    size_t size = Size();
    size_t align = ta_fuzz::PickAlign(in);
    if (!Room(size, align)) return;
    FUZZ_TRACE("aligned_alloc %zu %zu", align, size);
    size_t failures = Failures();
    Record(ta_aligned_alloc(align, size), failures, size, align, "aligned_alloc");
  }

  void PosixMemalign() {
    size_t size = Size();
    size_t align = ta_fuzz::PickAlign(in);
    if (in.U8() % 4 == 0) align += in.Range(1, 7);  // not a power of two, or not of 8
    bool valid = align % sizeof(void *) == 0 && (align & (align - 1)) == 0;
    if (valid && !Room(size, align)) return;
    FUZZ_TRACE("posix_memalign %zu %zu", align, size);
    void *p = &g_foreign;
    int saved = errno = 4321;
    size_t failures = Failures();
    int rc = ta_posix_memalign(&p, align, size);
    if (!valid) {
      FUZZ_CHECK(rc == EINVAL && p == &g_foreign && errno == saved,
                 "posix_memalign align %zu: rc %d, out changed %d, errno %d", align, rc,
                 p != &g_foreign, errno);
      return;
    }
    if (rc == ENOMEM && Failures() > failures) {
      FUZZ_CHECK(p == &g_foreign, "a failed posix_memalign wrote its out-parameter");
      return;
    }
    FUZZ_CHECK(rc == 0, "posix_memalign %zu %zu failed: %d", align, size, rc);
    Record(p, failures, size, align, "posix_memalign");
  }

  void FreeOne() {
    if (model.count() == 0) return;
    Free(model.Pick(in.U16())->first);
  }

  void Free(uintptr_t addr) {
    model.Remove(addr);  // checks every byte first
    FUZZ_TRACE("free %p", (void *)addr);
    errno = 777;
    ta_free(reinterpret_cast<void *>(addr));
    FUZZ_CHECK(errno == 777, "free changed errno to %d", errno);
    FUZZ_CHECK(ta_malloc_usable_size(reinterpret_cast<void *>(addr)) == 0,
               "freed block %p still has a usable size", (void *)addr);
    model.NoteFreed(addr, ta_layout_t{0, 1});
  }

  // Contents kept up to the smaller size: the first 4 KiB are always in the
  // pattern (fuzz_support.h), so those are compared.
  void Realloc() {
    if (model.count() == 0) return;
    uintptr_t addr = model.Pick(in.U16())->first;
    size_t size = in.U8() % 8 == 0 ? 0 : Size();
    ta_fuzz::Block b = model.Remove(addr);
    if (size != 0 && !model.HasRoomFor(size, TA_MALLOC_ALIGN)) {
      model.Add(reinterpret_cast<void *>(addr), b.size, b.align, 0);  // back, refilled
      return;
    }
    FUZZ_TRACE("realloc %p %zu -> %zu", (void *)addr, b.size, size);
    size_t failures = Failures();
    void *p = ta_realloc(reinterpret_cast<void *>(addr), size);
    if (size == 0) {
      FUZZ_CHECK(p == nullptr, "realloc to 0 returned %p", p);
      FUZZ_CHECK(ta_malloc_usable_size(reinterpret_cast<void *>(addr)) == 0,
                 "realloc to 0 left %p live", (void *)addr);
      model.NoteFreed(addr, ta_layout_t{0, 1});
      return;
    }
    if (Refused(p, failures, "realloc", size)) {
      size_t whole = b.size < 4096 ? b.size : 4096;
      FUZZ_CHECK(ta_fuzz::CheckPattern(reinterpret_cast<void *>(addr), whole, b.key),
                 "a failed realloc changed %p", (void *)addr);
      model.Add(reinterpret_cast<void *>(addr), b.size, b.align, 0);  // back, refilled
      return;
    }
    size_t kept = size < b.size ? size : b.size;
    if (kept > 4096) kept = 4096;
    FUZZ_CHECK(ta_fuzz::CheckPattern(p, kept, b.key),
               "realloc %p (%zu) -> %p (%zu) lost the first %zu bytes", (void *)addr, b.size, p,
               size, kept);
    if ((uintptr_t)p != addr) model.NoteFreed(addr, ta_layout_t{0, 1});
    model.Add(p, size, TA_MALLOC_ALIGN, 0);
  }

  void ReallocNull() {
    size_t size = Size();
    if (!Room(size, TA_MALLOC_ALIGN)) return;
    size_t failures = Failures();
    Record(ta_realloc(nullptr, size), failures, size, TA_MALLOC_ALIGN, "realloc(NULL)");
  }

  void UsableSize() {
    if (model.count() == 0) return;
    auto it = model.Pick(in.U16());
    size_t usable = ta_malloc_usable_size(reinterpret_cast<void *>(it->first));
    FUZZ_CHECK(usable == it->second.usable, "usable size of %p: %zu, was %zu",
               (void *)it->first, usable, it->second.usable);
  }

  // Sizes no allocator can give: NULL with ENOMEM, nothing else changed.
  void Impossible() {
    size_t huge = PTRDIFF_MAX - in.Range(0, 64);
    errno = 0;
    switch (in.U8() % 5) {
      case 0:
        FUZZ_CHECK(ta_malloc(huge) == nullptr && errno == ENOMEM, "malloc(%zu)", huge);
        break;
      case 1: {
        // (SIZE_MAX / k + 1) * m overflows for every m >= k.
        size_t k = in.Range(2, 8);
        size_t m = in.Range(k, 16);
        FUZZ_CHECK(ta_calloc(SIZE_MAX / k + 1, m) == nullptr && errno == ENOMEM,
                   "calloc(%zu, %zu) overflows", SIZE_MAX / k + 1, m);
        break;
      }
      case 2:
        FUZZ_CHECK(ta_aligned_alloc((size_t)1 << 40, 16) == nullptr && errno == ENOMEM,
                   "aligned_alloc 2^40");
        break;
      case 3:
        FUZZ_CHECK(ta_aligned_alloc(in.Range(1, 64) * 3, 16) == nullptr && errno == EINVAL,
                   "aligned_alloc, not a power of two");
        break;
      default:
        if (model.count() == 0) break;
        uintptr_t addr = model.Pick(in.U16())->first;
        FUZZ_CHECK(ta_realloc(reinterpret_cast<void *>(addr), huge) == nullptr && errno == ENOMEM,
                   "realloc to %zu", huge);
        model.CheckBlock(addr, model.live().at(addr));  // left as it was
        break;
    }
  }

  // Pointers tinyalloc must refuse without touching: a block freed since the
  // last allocation, one near a live block (not a live block's start),
  // foreign memory; then the blocks around are checked.
  void Misuse() {
    uintptr_t target;
    switch (in.U8() % 3) {
      case 0: {
        if (model.freed().empty()) return;
        target = model.freed()[in.U8() % model.freed().size()].first;
        break;
      }
      case 1: {
        if (model.count() == 0) return;
        auto it = model.Pick(in.U16());
        target = it->first + (uintptr_t)ta_fuzz::PickNearDelta(in, it->second.usable);
        if (model.IsLive(target)) return;
        break;
      }
      default:
        target = reinterpret_cast<uintptr_t>(g_foreign) + 16 * in.Range(0, 15);
        break;
    }
    FUZZ_TRACE("misuse %p", (void *)target);
    void *p = reinterpret_cast<void *>(target);
    if (in.U8() % 2 == 0) {
      errno = 99;
      ta_free(p);
      FUZZ_CHECK(errno == 99, "free of %p changed errno", p);
    } else if (ta_malloc_usable_size(p) == 0) {
      // A block tinyalloc does not know: realloc refuses it (EINVAL).
      errno = 0;
      FUZZ_CHECK(ta_realloc(p, 100) == nullptr && errno == EINVAL, "realloc of %p", p);
    }
    model.CheckAround(target);
  }

  void Run() {
    while (!in.empty()) {
      switch (in.U8() % 20) {
        case 0: case 1: case 2: case 3:
          Malloc();
          break;
        case 4:
          Calloc();
          break;
        case 5:
          Aligned();
          break;
        case 6:
          PosixMemalign();
          break;
        case 7: case 8: case 9:
          FreeOne();
          break;
        case 10: case 11: case 12:
          Realloc();
          break;
        case 13:
          ReallocNull();
          break;
        case 14:
          UsableSize();
          break;
        case 15:
          Impossible();
          break;
        case 16: case 17:
          Misuse();
          break;
        case 18:
          if (in.U8() % 2 == 0) {
            g_plan.Arm(in);
          } else {
            g_plan.mask = 0;
          }
          model.CheckAll();
          break;
        default:
          ta_heap_collect(ta_thread_heap());
          model.CheckAll();
          break;
      }
    }
    g_plan.mask = 0;
    while (model.count() != 0) Free(model.live().begin()->first);
    std::memset(g_foreign, 0, sizeof g_foreign);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  InstallOnce();
  g_plan = ta_fuzz::FailurePlan();
  Walk walk{Input(data, size), {}};
  walk.Run();
  return 0;
}
