// thread_fuzz: the malloc family on real threads, against the shadow model.
//
// The input drives up to kSlots worker threads, one step at a time (each step
// runs on the thread the input names while the others wait, so a replay is
// deterministic): they allocate through their thread-local heaps (malloc,
// calloc, aligned_alloc, realloc of any block, also one another thread
// allocated), free blocks other threads allocated, collect, and exit at
// points the input chooses; a new thread in the slot adopts an abandoned heap
// (with whatever was freed into it meanwhile). The input also sets the purge
// delay and the retention cap and moves the replaceable clock, so purges run
// while blocks around the purged memory are live, and it arms mapper failures
// (a failing mapper installed once, before the first heap): a failed call
// returns NULL with ENOMEM and only when a failure was injected.
//
// At the end every block is freed, every thread exits, and ta_trim (which
// collects abandoned heaps and releases those left empty) must bring the
// counting mapper back to its baseline: nothing reserved, nothing committed.
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "fuzz/fuzz_support.h"
#include "tinyalloc/clock.h"
#include "tinyalloc/malloc.h"
#include "tinyalloc/mapper.h"
#include "tinyalloc/testing/counting_mapper.h"
#include "tinyalloc/testing/failing_mapper.h"
#include "tinyalloc/tinyalloc.h"

namespace {

using ta_fuzz::Input;
using ta_fuzz::Shadow;

constexpr int kSlots = 4;

// A thread that runs the steps it is handed, one at a time, until it is told
// to exit; Run returns once the step is done.
class Worker {
 public:
  Worker() : thread_([this] { Loop(); }) {}
  ~Worker() {
    {
      std::lock_guard<std::mutex> hold(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();  // its heap is handed over (or released) before this returns
  }
  void Run(const std::function<void()> &step) {
    std::unique_lock<std::mutex> hold(mu_);
    step_ = &step;
    cv_.notify_all();
    cv_.wait(hold, [this] { return step_ == nullptr; });
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> hold(mu_);
    for (;;) {
      cv_.wait(hold, [this] { return stop_ || step_ != nullptr; });
      if (step_ != nullptr) {
        (*step_)();
        step_ = nullptr;
        cv_.notify_all();
        continue;
      }
      return;
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  const std::function<void()> *step_ = nullptr;
  bool stop_ = false;
  std::thread thread_;
};

ta_fuzz::FailurePlan g_plan;  // mapper failures the input arms
ta_failing_mapper_t *g_failing = nullptr;
ta_counting_mapper_t *g_counting = nullptr;
uint64_t g_now = 1;  // the test clock, ms; only ever moves forward

uint64_t TestClock(void *) { return g_now; }

size_t Failures() { return ta_fuzz::InjectedFailures(g_failing); }

// Once per process, before the first heap: the mapper and the clock.
void InstallOnce() {
  if (g_counting != nullptr) return;
  g_failing = ta_failing_mapper_new(ta_mapper_default());
  FUZZ_CHECK(g_failing != nullptr, "ta_failing_mapper_new failed");
  g_counting = ta_counting_mapper_new(ta_failing_mapper_table(g_failing));
  FUZZ_CHECK(g_counting != nullptr, "ta_counting_mapper_new failed");
  ta_error_t set = ta_mapper_set(ta_counting_mapper_table(g_counting));
  FUZZ_CHECK(set == TA_OK, "installing the mapper failed: %s", ta_error_str(set));
  ta_failing_mapper_fail_with(g_failing, ta_fuzz::FailurePlan::Decide, &g_plan);
  ta_clock_set(TestClock, nullptr);
}

struct Walk {
  explicit Walk(Input input) : in(input) {}

  Input in;
  Shadow model;
  std::unique_ptr<Worker> workers[kSlots];
  long long default_delay = ta_option_get(TA_OPTION_PURGE_DELAY_MS);
  long long default_retain = ta_option_get(TA_OPTION_RETAIN_BYTES);

  // Runs step on the slot's thread, starting one if the slot is empty.
  void On(int slot, const std::function<void()> &step) {
    if (!workers[slot]) workers[slot].reset(new Worker());
    workers[slot]->Run(step);
  }

  // A NULL result: allowed only with ENOMEM after an injected failure.
  void Refused(size_t failures_before, int err, const char *what, size_t size) {
    FUZZ_CHECK(Failures() > failures_before, "%s of %zu failed (errno %d) with no failure injected",
               what, size, err);
    FUZZ_CHECK(err == ENOMEM, "%s of %zu failed with errno %d, not ENOMEM", what, size, err);
  }

  void Alloc(int slot) {
    size_t size = ta_fuzz::PickSize(in);
    uint8_t how = in.U8() % 4;
    size_t align = how == 2 ? ta_fuzz::PickAlign(in) : TA_MALLOC_ALIGN;
    if (align < TA_MALLOC_ALIGN) align = TA_MALLOC_ALIGN;
    if (!model.HasRoomFor(size, align)) {
      FreeOne();
      return;
    }
    FUZZ_TRACE("slot %d: alloc %zu align %zu (kind %u)", slot, size, align, how);
    void *p = nullptr;
    int err = 0;
    size_t failures = Failures();
    On(slot, [&] {
      errno = 0;
      switch (how) {
        case 0: p = ta_malloc(size); break;
        case 1: p = ta_calloc(1, size); break;
        case 2: p = ta_aligned_alloc(align, size); break;
        default: p = ta_realloc(nullptr, size); break;
      }
      err = errno;
      if (p != nullptr && how == 1) {
        const unsigned char *bytes = static_cast<const unsigned char *>(p);
        size_t n = size < 4096 ? size : 4096;
        for (size_t i = 0; i < n; i++) FUZZ_CHECK(bytes[i] == 0, "calloc byte %zu is %u", i, bytes[i]);
      }
    });
    if (p == nullptr) {
      Refused(failures, err, "alloc", size);
      return;
    }
    model.Add(p, size, align, slot);
  }

  void Free(uintptr_t addr, int slot) {
    model.Remove(addr);  // every byte checked first
    FUZZ_TRACE("slot %d: free %p", slot, (void *)addr);
    On(slot, [&] {
      errno = 555;
      ta_free(reinterpret_cast<void *>(addr));
      FUZZ_CHECK(errno == 555, "free changed errno to %d", errno);
    });
    model.NoteFreed(addr, ta_layout_t{0, 1});
  }

  void FreeOne() {
    if (model.count() == 0) return;
    Free(model.Pick(in.U16())->first, in.U8() % kSlots);
  }

  // Realloc of any live block from any thread: contents kept up to the
  // smaller size; a failure leaves the block as it was.
  void Realloc(int slot) {
    if (model.count() == 0) return;
    uintptr_t addr = model.Pick(in.U16())->first;
    size_t size = ta_fuzz::PickSize(in);
    if (size == 0) size = 1;
    ta_fuzz::Block b = model.Remove(addr);
    if (!model.HasRoomFor(size, TA_MALLOC_ALIGN)) {
      model.Add(reinterpret_cast<void *>(addr), b.size, b.align, b.owner);
      return;
    }
    FUZZ_TRACE("slot %d: realloc %p %zu -> %zu", slot, (void *)addr, b.size, size);
    void *p = nullptr;
    int err = 0;
    size_t failures = Failures();
    On(slot, [&] {
      errno = 0;
      p = ta_realloc(reinterpret_cast<void *>(addr), size);
      err = errno;
    });
    if (p == nullptr) {
      Refused(failures, err, "realloc", size);
      size_t kept = b.size < 4096 ? b.size : 4096;
      FUZZ_CHECK(ta_fuzz::CheckPattern(reinterpret_cast<void *>(addr), kept, b.key),
                 "a failed realloc changed %p", (void *)addr);
      model.Add(reinterpret_cast<void *>(addr), b.size, b.align, b.owner);
      return;
    }
    size_t kept = size < b.size ? size : b.size;
    if (kept > 4096) kept = 4096;
    FUZZ_CHECK(ta_fuzz::CheckPattern(p, kept, b.key), "realloc %p -> %p lost the first %zu bytes",
               (void *)addr, p, kept);
    if ((uintptr_t)p != addr) model.NoteFreed(addr, ta_layout_t{0, 1});
    model.Add(p, size, TA_MALLOC_ALIGN, slot);
  }

  void Exit(int slot) {
    FUZZ_TRACE("slot %d: exit", slot);
    workers[slot].reset();
    model.CheckAll();
  }

  void Collect(int slot) {
    FUZZ_TRACE("slot %d: collect", slot);
    On(slot, [] {
      ta_heap_t *heap = ta_thread_heap();
      if (heap != nullptr) ta_heap_collect(heap);
    });
    model.CheckAll();
  }

  void Options() {
    static const long long kRetain[] = {0, 4 << 20, 32 << 20, 1LL << 30};
    long long delay = in.U8() % 4 == 0 ? 0 : (long long)in.Range(1, 2000);
    long long retain = kRetain[in.U8() % 4];
    FUZZ_TRACE("options: purge delay %lld ms, retain %lld bytes", delay, retain);
    FUZZ_CHECK(ta_option_set(TA_OPTION_PURGE_DELAY_MS, delay) == TA_OK, "purge delay %lld", delay);
    FUZZ_CHECK(ta_option_set(TA_OPTION_RETAIN_BYTES, retain) == TA_OK, "retain %lld", retain);
  }

  void Arm() {
    g_plan.Arm(in);
    FUZZ_TRACE("arm: mask %x bits %llx period %u", g_plan.mask, (unsigned long long)g_plan.bits,
               g_plan.period);
  }

  void Run() {
    while (!in.empty()) {
      uint8_t op = in.U8();
      int slot = (op >> 4) % kSlots;
      switch (op % 14) {
        case 0: case 1: case 2: case 3:
          Alloc(slot);
          break;
        case 4: case 5: case 6:
          if (model.count() != 0) Free(model.Pick(in.U16())->first, slot);
          break;
        case 7:
          Realloc(slot);
          break;
        case 8:
          Exit(slot);
          break;
        case 9:
          Collect(slot);
          break;
        case 10:  // time passes; whoever comes next may purge
          g_now += in.Range(0, 3000);
          FUZZ_TRACE("clock: %llu ms", (unsigned long long)g_now);
          break;
        case 11:
          Options();
          break;
        case 12:
          if (op & 0x40) {
            Arm();
          } else {
            g_plan.mask = 0;
          }
          break;
        default:
          model.CheckAll();
          break;
      }
    }
  }

  // Everything freed (from the slots in turn), every thread gone; ta_trim
  // must then give back every byte.
  void End() {
    g_plan.mask = 0;
    uint8_t slot = 0;
    while (model.count() != 0) Free(model.live().begin()->first, slot++ % kSlots);
    for (auto &w : workers) w.reset();
    ta_option_set(TA_OPTION_PURGE_DELAY_MS, default_delay);
    ta_option_set(TA_OPTION_RETAIN_BYTES, default_retain);
    ta_trim();
    ta_counting_stats_t stats = ta_counting_mapper_stats(g_counting);
    FUZZ_CHECK(stats.violations == 0, "%zu mapper calls broke the mapper contract", stats.violations);
    FUZZ_CHECK(stats.live_reservations == 0 && stats.committed_bytes == 0,
               "after every block was freed, every thread exited and ta_trim: %zu reservations "
               "(%zu bytes, %zu committed) still live",
               stats.live_reservations, stats.reserved_bytes, stats.committed_bytes);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  InstallOnce();
  g_plan = ta_fuzz::FailurePlan();
  Walk walk(Input(data, size));
  walk.Run();
  walk.End();
  return 0;
}
