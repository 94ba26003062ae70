// Debug builds (-c dbg, which defines TA_DEBUG) report misuse on stderr with a
// message naming the function; out of memory is not misuse and stays quiet.
// Linked against //alloc:core_debug_messages, the core as -c dbg builds it.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "tinyalloc/tinyalloc.h"

namespace {

using ::testing::internal::CaptureStderr;
using ::testing::internal::GetCapturedStderr;

TEST(DebugMessages, MisuseIsReportedNamingTheFunction) {
  ta_heap_t *heap = ta_heap_new();
  ASSERT_NE(heap, nullptr);

  CaptureStderr();
  EXPECT_EQ(ta_heap_alloc(heap, ta_layout_t{8, 3}), nullptr);
  std::string alloc_msg = GetCapturedStderr();
  EXPECT_NE(alloc_msg.find("tinyalloc: ta_heap_alloc: invalid layout"), std::string::npos)
      << alloc_msg;

  int local = 0;
  CaptureStderr();
  ta_heap_free(heap, &local, ta_layout_t{sizeof local, alignof(int)});
  std::string free_msg = GetCapturedStderr();
  EXPECT_NE(free_msg.find("tinyalloc: ta_heap_free: invalid pointer"), std::string::npos)
      << free_msg;
  EXPECT_EQ(ta_heap_last_error(heap), TA_ERR_INVALID_POINTER);

  void *p = ta_heap_alloc(heap, ta_layout_t{40, 8});
  ASSERT_NE(p, nullptr);
  ta_heap_free(heap, p, ta_layout_t{40, 8});
  CaptureStderr();
  ta_heap_free(heap, p, ta_layout_t{40, 8});
  std::string double_msg = GetCapturedStderr();
  EXPECT_NE(double_msg.find("ta_heap_free"), std::string::npos) << double_msg;

  CaptureStderr();
  EXPECT_EQ(ta_heap_alloc(heap, ta_layout_t{(size_t)PTRDIFF_MAX - 4096, 8}), nullptr);
  EXPECT_EQ(ta_heap_last_error(heap), TA_ERR_OUT_OF_MEMORY);
  EXPECT_EQ(GetCapturedStderr(), "");
  ta_heap_destroy(heap);
}

}  // namespace
