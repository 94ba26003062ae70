// Tests that fail on purpose, to show that test_main.cc says where a program
// stopped. Tagged manual in Bazel: tools/testing/test_main_self_check_test.sh
// (Linux) and `tools/windows_test.sh --self-check` (Wine) run them and check
// what they print.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace {

// Never returns: the watchdog of test_main.cc must end the program.
TEST(TestMainSelfCheck, HangsOnPurpose) {
  for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
}

// Writes through a null pointer: on Windows the exception handler of
// test_main.cc must name the exception and this test.
TEST(TestMainSelfCheck, CrashesOnPurpose) {
  volatile int *volatile nowhere = nullptr;
  *nowhere = 1;
}

}  // namespace
