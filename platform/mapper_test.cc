// The mapper contract (mapper.h), checked on this OS's default mapper through
// the ta_os_* wrappers: page states, protection, alignment, failures,
// preconditions, and concurrent use.
#include "tinyalloc/mapper.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "tinyalloc/sysinfo.h"

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace {

size_t Page() { return ta_sysinfo()->page_size; }
size_t Granularity() { return ta_sysinfo()->alloc_granularity; }

// Every byte of [p, p + n) equals v.
bool AllBytesAre(const void *p, size_t n, unsigned char v) {
  const unsigned char *b = static_cast<const unsigned char *>(p);
  for (size_t i = 0; i < n; ++i) {
    if (b[i] != v) return false;
  }
  return true;
}

#ifdef _WIN32
// MEM_COMMIT, MEM_RESERVE or MEM_FREE: the state of the page at p.
DWORD PageState(const void *p) {
  MEMORY_BASIC_INFORMATION mbi;
  if (VirtualQuery(p, &mbi, sizeof mbi) == 0) return 0;
  return mbi.State;
}
#endif

#ifdef __linux__
// Whether the page at p is in RAM; -1 if p is not mapped at all.
int Resident(void *p) {
  unsigned char vec = 0;
  if (mincore(p, Page(), &vec) != 0) return -1;
  return vec & 1;
}
#endif

// Reserves through the wrappers and releases at the end of the scope.
class Reservation {
 public:
  explicit Reservation(size_t size, size_t align = 1) : size_(size) {
    error_ = ta_os_reserve(size, align, &base_);
  }
  ~Reservation() {
    if (base_ != nullptr) {
      EXPECT_EQ(ta_os_release(base_, size_), TA_OK);
    }
  }
  Reservation(const Reservation &) = delete;
  Reservation &operator=(const Reservation &) = delete;

  ta_error_t error() const { return error_; }
  unsigned char *bytes() const { return static_cast<unsigned char *>(base_); }
  size_t size() const { return size_; }
  // Releases now, for tests that look at the range afterwards.
  ta_error_t Release() {
    ta_error_t err = ta_os_release(base_, size_);
    if (err == TA_OK) base_ = nullptr;
    return err;
  }

 private:
  void *base_ = nullptr;
  size_t size_;
  ta_error_t error_;
};

class MapperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(ta_mapper_current(), ta_mapper_default());
    live_before_ = ta_os_live_reservations();
  }
  void TearDown() override { EXPECT_EQ(ta_os_live_reservations(), live_before_); }

 private:
  size_t live_before_ = 0;
};

TEST_F(MapperTest, DefaultIsNamedForTheOs) {
  const ta_mapper_t *m = ta_mapper_default();
  ASSERT_NE(m, nullptr);
#ifdef _WIN32
  EXPECT_STREQ(m->name, "windows");
#else
  EXPECT_STREQ(m->name, "posix");
#endif
}

TEST_F(MapperTest, CommittedPagesReadZeroAndKeepTheirContents) {
  Reservation r(4 * Page());
  ASSERT_EQ(r.error(), TA_OK);
  ASSERT_EQ(ta_os_commit(r.bytes(), r.size()), TA_OK);
  EXPECT_TRUE(AllBytesAre(r.bytes(), r.size(), 0));
  std::memset(r.bytes(), 0xA5, r.size());
  // Committing committed pages again keeps what they hold.
  ASSERT_EQ(ta_os_commit(r.bytes() + Page(), 2 * Page()), TA_OK);
  EXPECT_TRUE(AllBytesAre(r.bytes(), r.size(), 0xA5));
}

TEST_F(MapperTest, RecommittedPagesReadZero) {
  Reservation r(4 * Page());
  ASSERT_EQ(r.error(), TA_OK);
  ASSERT_EQ(ta_os_commit(r.bytes(), r.size()), TA_OK);
  std::memset(r.bytes(), 0x5A, r.size());
  // Decommit the middle two pages only: the outer ones keep their bytes.
  ASSERT_EQ(ta_os_decommit(r.bytes() + Page(), 2 * Page()), TA_OK);
  ASSERT_EQ(ta_os_commit(r.bytes() + Page(), 2 * Page()), TA_OK);
  EXPECT_TRUE(AllBytesAre(r.bytes(), Page(), 0x5A));
  EXPECT_TRUE(AllBytesAre(r.bytes() + Page(), 2 * Page(), 0));
  EXPECT_TRUE(AllBytesAre(r.bytes() + 3 * Page(), Page(), 0x5A));
}

TEST_F(MapperTest, DecommitGivesTheMemoryBack) {
  Reservation r(16 * Page());
  ASSERT_EQ(r.error(), TA_OK);
  ASSERT_EQ(ta_os_commit(r.bytes(), r.size()), TA_OK);
  std::memset(r.bytes(), 1, r.size());
#ifdef __linux__
  for (size_t off = 0; off < r.size(); off += Page()) EXPECT_EQ(Resident(r.bytes() + off), 1);
  ASSERT_EQ(ta_os_decommit(r.bytes(), r.size()), TA_OK);
  for (size_t off = 0; off < r.size(); off += Page()) EXPECT_EQ(Resident(r.bytes() + off), 0);
#elif defined(_WIN32)
  EXPECT_EQ(PageState(r.bytes()), static_cast<DWORD>(MEM_COMMIT));
  ASSERT_EQ(ta_os_decommit(r.bytes(), r.size()), TA_OK);
  EXPECT_EQ(PageState(r.bytes()), static_cast<DWORD>(MEM_RESERVE));
#else
  ASSERT_EQ(ta_os_decommit(r.bytes(), r.size()), TA_OK);
#endif
}

#ifdef __linux__
TEST_F(MapperTest, PurgeGivesTheMemoryBackAndKeepsThePagesUsable) {
  ASSERT_TRUE(ta_os_can_purge());
  Reservation r(16 * Page());
  ASSERT_EQ(r.error(), TA_OK);
  ASSERT_EQ(ta_os_commit(r.bytes(), r.size()), TA_OK);
  std::memset(r.bytes(), 1, r.size());
  // The middle pages only: the outer ones keep their bytes.
  ASSERT_EQ(ta_os_purge(r.bytes() + Page(), r.size() - 2 * Page()), TA_OK);
  EXPECT_EQ(Resident(r.bytes()), 1);
  for (size_t off = Page(); off < r.size() - Page(); off += Page()) {
    EXPECT_EQ(Resident(r.bytes() + off), 0);
  }
  EXPECT_TRUE(AllBytesAre(r.bytes(), Page(), 1));
  EXPECT_TRUE(AllBytesAre(r.bytes() + Page(), r.size() - 2 * Page(), 0));
  EXPECT_TRUE(AllBytesAre(r.bytes() + r.size() - Page(), Page(), 1));
  // Still read-write, with no commit.
  std::memset(r.bytes(), 2, r.size());
  EXPECT_TRUE(AllBytesAre(r.bytes(), r.size(), 2));
}
#else
TEST_F(MapperTest, NoPurgeWhereTheOsCannotKeepPurgedPagesCommitted) {
  EXPECT_FALSE(ta_os_can_purge());
  Reservation r(4 * Page());
  ASSERT_EQ(r.error(), TA_OK);
  ASSERT_EQ(ta_os_commit(r.bytes(), r.size()), TA_OK);
  EXPECT_EQ(ta_os_purge(r.bytes(), r.size()), TA_ERR_INVALID_ARGUMENT);
}
#endif

TEST_F(MapperTest, ReleaseUnmaps) {
  Reservation r(4 * Page());
  ASSERT_EQ(r.error(), TA_OK);
  unsigned char *p = r.bytes();
  ASSERT_EQ(ta_os_commit(p, r.size()), TA_OK);
  p[0] = 1;
  ASSERT_EQ(r.Release(), TA_OK);
#ifdef __linux__
  EXPECT_EQ(Resident(p), -1) << "still mapped after release";
#elif defined(_WIN32)
  EXPECT_EQ(PageState(p), static_cast<DWORD>(MEM_FREE));
#endif
}

TEST_F(MapperTest, ProtectKeepsContents) {
  Reservation r(2 * Page());
  ASSERT_EQ(r.error(), TA_OK);
  ASSERT_EQ(ta_os_commit(r.bytes(), r.size()), TA_OK);
  std::memset(r.bytes(), 7, r.size());
  ASSERT_EQ(ta_os_protect(r.bytes(), Page(), false), TA_OK);
  r.bytes()[Page()] = 8;  // the other page stays writable
  ASSERT_EQ(ta_os_protect(r.bytes(), Page(), true), TA_OK);
  EXPECT_TRUE(AllBytesAre(r.bytes(), Page(), 7));
  EXPECT_EQ(r.bytes()[Page()], 8);
}

// The states in which a page must not be written to.
enum class State { kProtected, kDecommitted, kReserved };

// How a death-test child exits when, and only when, it takes an access fault.
// Exiting through a handler of our own, rather than dying of the fault, makes
// the check the same on every OS and under every sanitizer, and keeps Wine
// from starting its debugger.
constexpr int kFaultExit = 42;
constexpr char kFaultMessage[] = "access fault\n";

#ifdef _WIN32
LONG WINAPI ExitOnAccessViolation(EXCEPTION_POINTERS *info) {
  if (info->ExceptionRecord->ExceptionCode != EXCEPTION_ACCESS_VIOLATION) {
    return EXCEPTION_CONTINUE_SEARCH;
  }
  DWORD written;
  WriteFile(GetStdHandle(STD_ERROR_HANDLE), kFaultMessage, sizeof kFaultMessage - 1, &written,
            nullptr);
  ExitProcess(kFaultExit);
}

void ExitOnAccessFault() { AddVectoredExceptionHandler(1, ExitOnAccessViolation); }
#else
void ExitOnSignal(int) {
  // Only async-signal-safe calls here.
  ssize_t ignored = write(STDERR_FILENO, kFaultMessage, sizeof kFaultMessage - 1);
  (void)ignored;
  _exit(kFaultExit);
}

void ExitOnAccessFault() {
  struct sigaction action = {};
  action.sa_handler = ExitOnSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGSEGV, &action, nullptr);
  sigaction(SIGBUS, &action, nullptr);  // what some BSDs raise for PROT_NONE
}
#endif

// Reserves two pages, commits the second, puts the first in `state`, writes to
// the second, then, if write_first, to the first, and releases both. Writing
// to the second page first shows that the setup worked and that a fault comes
// from the first page alone.
void WriteAfter(State state, bool write_first) {
  void *p = nullptr;
  ASSERT_EQ(ta_os_reserve(2 * Page(), 1, &p), TA_OK);
  unsigned char *b = static_cast<unsigned char *>(p);
  if (state == State::kReserved) {
    ASSERT_EQ(ta_os_commit(b + Page(), Page()), TA_OK);
  } else {
    ASSERT_EQ(ta_os_commit(b, 2 * Page()), TA_OK);
  }
  if (state == State::kProtected) {
    ASSERT_EQ(ta_os_protect(b, Page(), false), TA_OK);
  }
  if (state == State::kDecommitted) {
    ASSERT_EQ(ta_os_decommit(b, Page()), TA_OK);
  }
  *reinterpret_cast<volatile unsigned char *>(b + Page()) = 1;
  if (write_first) {
    ExitOnAccessFault();
    *reinterpret_cast<volatile unsigned char *>(b) = 1;
  }
  ASSERT_EQ(ta_os_release(b, 2 * Page()), TA_OK);
}

// The child process exits through the fault handler: the write faulted.
#define EXPECT_WRITE_FAULTS(state) \
  EXPECT_EXIT(WriteAfter(state, true), ::testing::ExitedWithCode(kFaultExit), "access fault")

// gtest runs *DeathTest suites first, before any other test starts threads.
using MapperDeathTest = MapperTest;

TEST_F(MapperDeathTest, WriteToProtectedPageFaults) {
  WriteAfter(State::kProtected, false);
  EXPECT_WRITE_FAULTS(State::kProtected);
}

TEST_F(MapperDeathTest, WriteToDecommittedPageFaults) {
  WriteAfter(State::kDecommitted, false);
  EXPECT_WRITE_FAULTS(State::kDecommitted);
}

TEST_F(MapperDeathTest, WriteToReservedPageFaults) {
  WriteAfter(State::kReserved, false);
  EXPECT_WRITE_FAULTS(State::kReserved);
}

TEST_F(MapperTest, ReservationsHonourEveryAlignment) {
  const size_t sizes[] = {Page(), 3 * Page(), Granularity()};
  for (size_t align = Granularity(); align <= (size_t{64} << 20); align *= 2) {
    for (size_t size : sizes) {
      Reservation r(size, align);
      ASSERT_EQ(r.error(), TA_OK) << "size " << size << " align " << align;
      EXPECT_EQ(reinterpret_cast<uintptr_t>(r.bytes()) % align, 0u)
          << "size " << size << " align " << align;
      // The whole range is usable: first and last page.
      ASSERT_EQ(ta_os_commit(r.bytes(), size), TA_OK);
      r.bytes()[0] = 1;
      r.bytes()[size - 1] = 1;
    }
  }
}

TEST_F(MapperTest, SmallAlignmentsMeanTheGranularity) {
  for (size_t align : {size_t{1}, size_t{2}, size_t{64}, Page()}) {
    Reservation r(Page(), align);
    ASSERT_EQ(r.error(), TA_OK);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(r.bytes()) % Granularity(), 0u) << "align " << align;
  }
}

TEST_F(MapperTest, LiveReservationsAreCounted) {
  size_t before = ta_os_live_reservations();
  {
    Reservation a(Page());
    Reservation b(Page());
    ASSERT_EQ(a.error(), TA_OK);
    ASSERT_EQ(b.error(), TA_OK);
    EXPECT_EQ(ta_os_live_reservations(), before + 2);
  }
  EXPECT_EQ(ta_os_live_reservations(), before);
}

// Half the address space: more than any OS gives a process.
const size_t kImpossible = SIZE_MAX / 2 + 1;

TEST_F(MapperTest, ImpossibleReservationIsOutOfMemory) {
  void *p = &p;
  EXPECT_EQ(ta_os_reserve(kImpossible, 1, &p), TA_ERR_OUT_OF_MEMORY);
  EXPECT_EQ(p, nullptr);
  EXPECT_NE(ta_last_os_error(), 0);
}

TEST_F(MapperTest, ImpossibleAlignmentIsOutOfMemory) {
  void *p = &p;
  EXPECT_EQ(ta_os_reserve(Page(), kImpossible, &p), TA_ERR_OUT_OF_MEMORY);
  EXPECT_EQ(p, nullptr);
  EXPECT_NE(ta_last_os_error(), 0);
}

TEST_F(MapperTest, BrokenPreconditionsAreRefusedBeforeTheOs) {
  // A known last error, to see that refused calls leave it alone.
  void *p = nullptr;
  ASSERT_EQ(ta_os_reserve(kImpossible, 1, &p), TA_ERR_OUT_OF_MEMORY);
  const int os_error = ta_last_os_error();

  EXPECT_EQ(ta_os_reserve(Page(), 1, nullptr), TA_ERR_INVALID_ARGUMENT);
  for (size_t size : {size_t{0}, size_t{1}, Page() + 1}) {
    p = &p;
    EXPECT_EQ(ta_os_reserve(size, 1, &p), TA_ERR_INVALID_ARGUMENT) << size;
    EXPECT_EQ(p, nullptr);
  }
  for (size_t align : {size_t{0}, size_t{3}, Page() + 1}) {
    p = &p;
    EXPECT_EQ(ta_os_reserve(Page(), align, &p), TA_ERR_INVALID_ARGUMENT) << align;
    EXPECT_EQ(p, nullptr);
  }

  Reservation r(2 * Page());
  ASSERT_EQ(r.error(), TA_OK);
  unsigned char *b = r.bytes();
  struct Range {
    void *addr;
    size_t size;
  };
  const Range bad[] = {
      {nullptr, Page()},                   // no address
      {b, 0},                              // empty
      {b + 1, Page()},                     // unaligned address
      {b, Page() + 1},                     // unaligned size
      {b, SIZE_MAX - Page() + 1},          // wraps around the address space
  };
  for (const Range &range : bad) {
    EXPECT_EQ(ta_os_commit(range.addr, range.size), TA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(ta_os_decommit(range.addr, range.size), TA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(ta_os_protect(range.addr, range.size, true), TA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(ta_os_purge(range.addr, range.size), TA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(ta_os_release(range.addr, range.size), TA_ERR_INVALID_ARGUMENT);
  }
  EXPECT_EQ(ta_last_os_error(), os_error);
  EXPECT_EQ(ta_os_live_reservations(), 1u) << "a refused call changed the count";
}

TEST_F(MapperTest, ReleaseWithNothingReservedIsRefused) {
  ASSERT_EQ(ta_os_live_reservations(), 0u);
  // Some page-aligned address (this test's own stack page): it must not be
  // unmapped.
  volatile unsigned char here = 1;
  uintptr_t page = reinterpret_cast<uintptr_t>(&here) & ~(uintptr_t{Page()} - 1);
  EXPECT_EQ(ta_os_release(reinterpret_cast<void *>(page), Page()), TA_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(here, 1);
}

TEST_F(MapperTest, ConcurrentUseFromManyThreads) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 100;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < kRounds; ++i) {
        size_t size = Page() * static_cast<size_t>(1 + (i + t) % 8);
        size_t align = Granularity() << ((i + t) % 5);
        void *p = nullptr;
        if (ta_os_reserve(size, align, &p) != TA_OK ||
            reinterpret_cast<uintptr_t>(p) % align != 0 || ta_os_commit(p, size) != TA_OK) {
          ++failures;
          continue;
        }
        unsigned char *b = static_cast<unsigned char *>(p);
        std::memset(b, t + 1, size);
        if (!AllBytesAre(b, size, static_cast<unsigned char>(t + 1))) ++failures;
        if (ta_os_decommit(b, size) != TA_OK || ta_os_release(b, size) != TA_OK) ++failures;
      }
    });
  }
  for (auto &th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
