// The static override (//alloc:malloc): the program's malloc, the C
// library's own allocations and C++ new are tinyalloc's.
#include <gtest/gtest.h>

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "tinyalloc/malloc.h"

namespace {

bool Ours(void *p) { return ta_heap_contains(ta_thread_heap(), p); }

TEST(Override, MallocFamilyIsTinyalloc) {
  void *p = malloc(100);
  void *c = calloc(10, 10);
  void *r = realloc(nullptr, 300);
  void *a = aligned_alloc(4096, 4096);
  void *m = memalign(64, 10);
  void *v = valloc(10);
  void *pm = nullptr;
  ASSERT_EQ(posix_memalign(&pm, 256, 10), 0);
  for (void *q : {p, c, r, a, m, v, pm}) {
    ASSERT_NE(q, nullptr);
    EXPECT_TRUE(Ours(q));
    EXPECT_GE(malloc_usable_size(q), 10u);
  }
  EXPECT_EQ(reinterpret_cast<uintptr_t>(v) % sysconf(_SC_PAGESIZE), 0u);
  for (void *q : {p, c, r, a, m, v, pm}) free(q);
  EXPECT_EQ(malloc_usable_size(p), 0u);
}

TEST(Override, TheCLibrarysOwnAllocationsAreTinyallocs) {
  char *s = strdup("tinyalloc");
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(Ours(s));
  free(s);
  char *line = nullptr;
  ASSERT_GT(asprintf(&line, "%d-%s", 42, "x"), 0);
  EXPECT_TRUE(Ours(line));
  free(line);
}

TEST(Override, NewAndDeleteAreTinyallocs) {
  auto *i = new int(7);
  EXPECT_TRUE(Ours(i));
  delete i;
  auto *arr = new double[1000];
  EXPECT_TRUE(Ours(arr));
  delete[] arr;
  struct alignas(256) Wide {
    char bytes[256];
  };
  auto wide = std::make_unique<Wide>();
  EXPECT_TRUE(Ours(wide.get()));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(wide.get()) % 256, 0u);
  std::vector<std::string> strings;
  for (int k = 0; k < 1000; k++) strings.push_back(std::string(100, static_cast<char>('a' + k % 26)));
  EXPECT_TRUE(Ours(strings.data()));
  volatile size_t too_big = (size_t)1 << 62;  // not a constant: clang rejects that
  EXPECT_EQ(new (std::nothrow) char[too_big], nullptr);
  char *volatile sink = nullptr;  // a used new-expression: not elided at -O2
  EXPECT_THROW(sink = new char[too_big], std::bad_alloc);
  EXPECT_EQ(sink, nullptr);
}

TEST(Override, VerboseWarnsOfAForeignFree) {
  alignas(16) static char foreign[64];
  ASSERT_EQ(ta_option_set(TA_OPTION_VERBOSE, 1), TA_OK);
  testing::internal::CaptureStderr();
  free(foreign);
  std::string warning = testing::internal::GetCapturedStderr();
  ASSERT_EQ(ta_option_set(TA_OPTION_VERBOSE, 0), TA_OK);
  EXPECT_NE(warning.find("tinyalloc: ta_heap_free: invalid pointer"), std::string::npos) << warning;
}

TEST(Override, FreeOfForeignMemoryIsRefusedWithoutACrash) {
  void *page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(page, MAP_FAILED);
  std::memset(page, 0x3c, 4096);
  errno = 5;
  free(page);
  free(static_cast<char *>(page) + 48);
  EXPECT_EQ(errno, 5);
  EXPECT_EQ(static_cast<unsigned char *>(page)[100], 0x3c);
  munmap(page, 4096);
}

}  // namespace
