// OS error codes are classed as tinyalloc errors per OS, and recorded per thread.
#include "platform/os_error.h"

#include <gtest/gtest.h>

#include <thread>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <cerrno>
#endif

TEST(OsError, OutOfMemoryCodesAreOutOfMemory) {
#ifdef _WIN32
  const int codes[] = {ERROR_NOT_ENOUGH_MEMORY, ERROR_OUTOFMEMORY, ERROR_COMMITMENT_LIMIT,
                       ERROR_COMMITMENT_MINIMUM};
#else
  const int codes[] = {ENOMEM, EAGAIN};
#endif
  for (int code : codes) {
    EXPECT_EQ(ta_os_error_classify(code), TA_ERR_OUT_OF_MEMORY) << code;
  }
  EXPECT_EQ(ta_os_error_classify(ta_os_error_oom_code()), TA_ERR_OUT_OF_MEMORY);
}

TEST(OsError, OtherCodesArePlatformErrors) {
#ifdef _WIN32
  const int codes[] = {ERROR_INVALID_PARAMETER, ERROR_INVALID_ADDRESS, ERROR_ACCESS_DENIED, -1};
#else
  const int codes[] = {EINVAL, EACCES, EPERM, EBADF, -1};
#endif
  for (int code : codes) {
    EXPECT_EQ(ta_os_error_classify(code), TA_ERR_PLATFORM) << code;
  }
  EXPECT_EQ(ta_os_error_classify(ta_os_error_invalid_code()), TA_ERR_PLATFORM);
}

TEST(OsError, RecordReturnsTheClassAndRemembersTheCode) {
  EXPECT_EQ(ta_os_error_record(ta_os_error_oom_code()), TA_ERR_OUT_OF_MEMORY);
  EXPECT_EQ(ta_last_os_error(), ta_os_error_oom_code());
  EXPECT_EQ(ta_os_error_record(ta_os_error_invalid_code()), TA_ERR_PLATFORM);
  EXPECT_EQ(ta_last_os_error(), ta_os_error_invalid_code());
}

TEST(OsError, RecordIsPerThread) {
  ta_os_error_record(ta_os_error_invalid_code());
  int seen_before = -1;
  int seen_after = -1;
  std::thread other([&] {
    seen_before = ta_last_os_error();
    ta_os_error_record(ta_os_error_oom_code());
    seen_after = ta_last_os_error();
  });
  other.join();
  EXPECT_EQ(seen_before, 0) << "a new thread starts with no error";
  EXPECT_EQ(seen_after, ta_os_error_oom_code());
  EXPECT_EQ(ta_last_os_error(), ta_os_error_invalid_code()) << "another thread's error leaked in";
}
