// The GoogleTest main of every tinyalloc test program: when a program dies or
// hangs, its output says where.
//
// - stdout and stderr are unbuffered: a program that is killed, or that dies
//   without unwinding, loses nothing it printed (msvcrt buffers a pipe or a
//   file fully, and its "line buffering" is full buffering too).
// - A time limit: a watchdog thread prints the running test's name and exits
//   with status 124 when the program runs longer than TA_TEST_TIME_LIMIT
//   seconds (0: no limit). Unset, it is Bazel's TEST_TIMEOUT less a margin, so
//   the message comes before Bazel kills the test; else kDefaultLimitSeconds.
// - On Windows, a vectored exception handler prints the code and address of
//   every error-severity exception (access violation, stack overflow, heap
//   corruption, ...) with the running test's name, before anything else sees
//   it; one that nothing handles ends the program with its code as the exit
//   status (the low byte of it, as the shell sees it: 5 for 0xc0000005).
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#endif

namespace {

constexpr long kDefaultLimitSeconds = 600;
// Left of Bazel's own timeout, for the watchdog's message to come first.
constexpr long kBazelMarginSeconds = 10;

// The running test's full name, readable from the watchdog thread and from an
// exception handler without a lock (a handler may run while any lock is held).
char running_test[256] = "(no test started)";
std::mutex running_mu;

void SetRunningTest(const char *suite, const char *name) {
  std::lock_guard<std::mutex> lock(running_mu);
  std::snprintf(running_test, sizeof running_test, "%s.%s", suite, name);
}

std::string RunningTest() {
  std::lock_guard<std::mutex> lock(running_mu);
  return running_test;
}

class RunningTestRecorder : public testing::EmptyTestEventListener {
  void OnTestStart(const testing::TestInfo &info) override {
    SetRunningTest(info.test_suite_name(), info.name());
  }
  void OnTestEnd(const testing::TestInfo &info) override {
    SetRunningTest(info.test_suite_name(), info.name());
    std::fflush(stdout);
  }
};

// Seconds from a decimal string; -1 when it is not one.
long ParseSeconds(const char *text) {
  if (text == nullptr || *text == '\0') return -1;
  char *end = nullptr;
  long value = std::strtol(text, &end, 10);
  return (*end == '\0' && value >= 0) ? value : -1;
}

long TimeLimitSeconds() {
  long limit = ParseSeconds(std::getenv("TA_TEST_TIME_LIMIT"));
  if (limit >= 0) return limit;
  long bazel = ParseSeconds(std::getenv("TEST_TIMEOUT"));
  if (bazel > 2 * kBazelMarginSeconds) return bazel - kBazelMarginSeconds;
  if (bazel > 0) return bazel / 2 > 0 ? bazel / 2 : 1;
  return kDefaultLimitSeconds;
}

// Ends the program when the limit passes; Stop() (at the end of main) ends the
// watch instead.
class Watchdog {
 public:
  explicit Watchdog(long seconds) : seconds_(seconds) {
    if (seconds_ > 0) thread_ = std::thread([this] { Watch(); });
  }
  ~Watchdog() { Stop(); }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Watch() {
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, std::chrono::seconds(seconds_), [this] { return done_; })) return;
    std::fprintf(stderr,
                 "\ntest_main: time limit of %ld s reached while running %s; "
                 "exiting with status 124 (set TA_TEST_TIME_LIMIT to change the limit)\n",
                 seconds_, RunningTest().c_str());
    std::fflush(stderr);
    std::fflush(stdout);
    // No unwinding and no destructors: the other threads may hold any lock.
    std::_Exit(124);
  }

  long seconds_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

#ifdef _WIN32
// Error severity: the top two bits of an NTSTATUS. Lower severities are
// informational (debug output, thread names, C++ throws) and often handled.
bool IsErrorException(DWORD code) { return (code & 0xC0000000u) == 0xC0000000u; }

LONG CALLBACK PrintException(EXCEPTION_POINTERS *info) {
  const EXCEPTION_RECORD *record = info->ExceptionRecord;
  if (IsErrorException(record->ExceptionCode)) {
    // snprintf and WriteFile only: the stack may be nearly gone and a CRT
    // stream lock may be held by the faulting code.
    char text[512];
    int n = std::snprintf(text, sizeof text,
                          "\ntest_main: exception 0x%08lx at address 0x%llx while running %s",
                          (unsigned long)record->ExceptionCode,
                          (unsigned long long)(uintptr_t)record->ExceptionAddress, running_test);
    if (record->ExceptionCode == EXCEPTION_ACCESS_VIOLATION && record->NumberParameters >= 2) {
      n += std::snprintf(text + n, sizeof text - (size_t)n, " (%s address 0x%llx)",
                         record->ExceptionInformation[0] == 0   ? "reading"
                         : record->ExceptionInformation[0] == 1 ? "writing"
                                                                : "executing",
                         (unsigned long long)record->ExceptionInformation[1]);
    }
    n += std::snprintf(text + n, sizeof text - (size_t)n, "\n");
    DWORD written;
    WriteFile(GetStdHandle(STD_ERROR_HANDLE), text, (DWORD)n, &written, nullptr);
  }
  return EXCEPTION_CONTINUE_SEARCH;
}

// An exception nothing handled ends the program here, with the exception code
// as its exit status. Left to Wine, it starts winedbg, after which the exit
// status was 5 on one machine and 0 on a fresh one: a crash could pass.
LONG WINAPI ExitOnUnhandled(EXCEPTION_POINTERS *info) {
  DWORD code = info->ExceptionRecord->ExceptionCode;
  char text[512];
  int n = std::snprintf(text, sizeof text,
                        "test_main: unhandled exception 0x%08lx while running %s: exiting with "
                        "it as the status\n",
                        (unsigned long)code, running_test);
  DWORD written;
  WriteFile(GetStdHandle(STD_ERROR_HANDLE), text, (DWORD)n, &written, nullptr);
  TerminateProcess(GetCurrentProcess(), code);
  return EXCEPTION_EXECUTE_HANDLER;
}
#endif

}  // namespace

int main(int argc, char **argv) {
  std::setvbuf(stdout, nullptr, _IONBF, 0);
  std::setvbuf(stderr, nullptr, _IONBF, 0);
#ifdef _WIN32
  AddVectoredExceptionHandler(1, PrintException);
  SetUnhandledExceptionFilter(ExitOnUnhandled);
#endif
  testing::InitGoogleTest(&argc, argv);
  testing::UnitTest::GetInstance()->listeners().Append(new RunningTestRecorder);
  long limit = TimeLimitSeconds();
  Watchdog watchdog(limit);
  int status = RUN_ALL_TESTS();
  watchdog.Stop();
  return status;
}
