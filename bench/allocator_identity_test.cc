// Proves that each column of the benchmark measures the allocator it names:
// blocks from each adapter of allocators.h are recognised by that allocator's
// own introspection and by no other's, and loading the peers leaves glibc's
// malloc the malloc of the process.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <link.h>
#include <malloc.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "bench/allocators.h"
#include "bench/peers.h"

namespace tabench {
namespace {

// The shared object that defines the code at addr ("" if none).
std::string ObjectOf(void *addr) {
  Dl_info info;
  if (dladdr(addr, &info) == 0 || info.dli_fname == nullptr) return "";
  return info.dli_fname;
}

bool EndsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

uint64_t JemallocThreadAllocated() {
  uint64_t bytes = 0;
  size_t len = sizeof(bytes);
  EXPECT_EQ(g_jemalloc.mallctl("thread.allocated", &bytes, &len, nullptr, 0), 0)
      << "jemalloc built without stats?";
  return bytes;
}

class AllocatorIdentityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ForEachAllocator([](auto tag) {
      using A = typename decltype(tag)::type;
      std::string error;
      ASSERT_TRUE(A::Load(&error)) << A::kName << ": " << error;
    });
  }

  // What each allocator says about a block (only introspection that is safe
  // on foreign pointers, except glibc's, asked only of glibc blocks).
  struct Owners {
    bool tinyalloc, mimalloc, tcmalloc, jemalloc;
  };

  // Allocates size bytes aligned to align through column A and reports which
  // allocators recognise the block; jemalloc's by its per-thread allocation
  // counter, which only jemalloc's own allocations move.
  template <class A>
  Owners Probe(typename A::Heap heap, size_t size, size_t align, void **out) {
    uint64_t je_before = JemallocThreadAllocated();
    void *block = A::Alloc(heap, size, align);
    uint64_t je_after = JemallocThreadAllocated();
    EXPECT_NE(block, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(block) % align, 0u);
    *out = block;
    return Owners{
        ta_usable_size(block) != 0,
        g_mimalloc.is_in_heap_region(block),
        g_tcmalloc.get_ownership(block) == MallocExtension_kOwned,
        je_after - je_before >= size,
    };
  }

  static constexpr size_t kSizes[] = {8, 100, 200, 5000, 8 << 20};
  static constexpr size_t kAligns[] = {kPlainAlign, 64, 4096};
};

constexpr size_t AllocatorIdentityTest::kSizes[];
constexpr size_t AllocatorIdentityTest::kAligns[];

TEST_F(AllocatorIdentityTest, GlibcMallocIsTheProcessMalloc) {
  // After every peer is loaded (SetUpTestSuite), malloc still binds to libc.
  EXPECT_TRUE(EndsWith(ObjectOf(reinterpret_cast<void *>(&malloc)), "libc.so.6"))
      << ObjectOf(reinterpret_cast<void *>(&malloc));
  void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(libc, nullptr);
  for (const char *name : {"malloc", "free", "aligned_alloc", "calloc", "realloc"}) {
    EXPECT_EQ(dlsym(RTLD_DEFAULT, name), dlsym(libc, name)) << name;
  }
  dlclose(libc);
  // No peer symbol leaked into the global scope.
  for (const char *name : {"mi_malloc", "mi_heap_new", "mallocx", "sdallocx", "tc_malloc",
                           "MallocExtension_GetOwnership"}) {
    EXPECT_EQ(dlsym(RTLD_DEFAULT, name), nullptr) << name;
  }
}

TEST_F(AllocatorIdentityTest, PeersComeFromTheirOwnLibraries) {
  EXPECT_TRUE(EndsWith(ObjectOf(reinterpret_cast<void *>(g_mimalloc.heap_malloc)),
                       PeerLibrary(Peer::kMimalloc)));
  EXPECT_TRUE(EndsWith(ObjectOf(reinterpret_cast<void *>(g_jemalloc.mallocx)),
                       PeerLibrary(Peer::kJemalloc)));
  EXPECT_TRUE(EndsWith(ObjectOf(reinterpret_cast<void *>(g_tcmalloc.malloc)),
                       PeerLibrary(Peer::kTcmalloc)));
  // tinyalloc is linked into the binary itself.
  EXPECT_EQ(ObjectOf(reinterpret_cast<void *>(&ta_heap_alloc)),
            ObjectOf(reinterpret_cast<void *>(&ObjectOf)));
}

TEST_F(AllocatorIdentityTest, TinyallocColumn) {
  Tinyalloc::Heap heap = Tinyalloc::NewHeap();
  ASSERT_NE(heap, nullptr);
  for (size_t align : kAligns) {
    for (size_t size : kSizes) {
      void *block;
      Owners o = Probe<Tinyalloc>(heap, size, align, &block);
      EXPECT_TRUE(o.tinyalloc && !o.mimalloc && !o.tcmalloc && !o.jemalloc) << size << "@" << align;
      EXPECT_GE(ta_usable_size(block), size);
      Tinyalloc::Free(heap, block, size, align);
      EXPECT_EQ(ta_heap_last_error(heap), TA_OK);
    }
  }
  Tinyalloc::DestroyHeap(heap);
}

TEST_F(AllocatorIdentityTest, GlibcColumn) {
  for (size_t align : kAligns) {
    for (size_t size : kSizes) {
      void *block;
      Owners o = Probe<Glibc>({}, size, align, &block);
      EXPECT_TRUE(!o.tinyalloc && !o.mimalloc && !o.tcmalloc && !o.jemalloc) << size << "@" << align;
      EXPECT_GE(malloc_usable_size(block), size);
      Glibc::Free({}, block, size, align);
    }
  }
}

TEST_F(AllocatorIdentityTest, MimallocColumn) {
  Mimalloc::Heap heap = Mimalloc::NewHeap();
  ASSERT_NE(heap, nullptr);
  for (size_t align : kAligns) {
    for (size_t size : kSizes) {
      void *block;
      Owners o = Probe<Mimalloc>(heap, size, align, &block);
      EXPECT_TRUE(!o.tinyalloc && o.mimalloc && !o.tcmalloc && !o.jemalloc) << size << "@" << align;
      EXPECT_TRUE(g_mimalloc.heap_check_owned(heap, block));
      EXPECT_GE(g_mimalloc.usable_size(block), size);
      Mimalloc::Free(heap, block, size, align);
    }
  }
  Mimalloc::DestroyHeap(heap);
}

TEST_F(AllocatorIdentityTest, JemallocColumn) {
  for (size_t align : kAligns) {
    for (size_t size : kSizes) {
      void *block;
      Owners o = Probe<Jemalloc>({}, size, align, &block);
      EXPECT_TRUE(!o.tinyalloc && !o.mimalloc && !o.tcmalloc && o.jemalloc) << size << "@" << align;
      EXPECT_GE(g_jemalloc.sallocx(block, 0), size);
      Jemalloc::Free({}, block, size, align);
    }
  }
}

TEST_F(AllocatorIdentityTest, JemallocBulkHeapIsItsOwnArena) {
  Jemalloc::BulkHeap heap = Jemalloc::NewBulkHeap();
  for (size_t size : kSizes) {
    void *block = Jemalloc::BulkAlloc(heap, size, kPlainAlign);
    ASSERT_NE(block, nullptr);
    unsigned arena = ~0u;
    size_t len = sizeof(arena);
    ASSERT_EQ(g_jemalloc.mallctl("arenas.lookup", &arena, &len, &block, sizeof(block)), 0);
    EXPECT_EQ(arena, heap.arena) << size;
  }
  Jemalloc::DestroyBulkHeap(heap);
}

TEST_F(AllocatorIdentityTest, TcmallocColumn) {
  for (size_t align : kAligns) {
    for (size_t size : kSizes) {
      void *block;
      Owners o = Probe<Tcmalloc>({}, size, align, &block);
      EXPECT_TRUE(!o.tinyalloc && !o.mimalloc && o.tcmalloc && !o.jemalloc) << size << "@" << align;
      EXPECT_GE(g_tcmalloc.malloc_size(block), size);
      Tcmalloc::Free({}, block, size, align);
    }
  }
}

// The table through malloc: each column's malloc family is its own
// allocator's, and jemalloc's malloc is not glibc's.
TEST_F(AllocatorIdentityTest, EveryColumnThroughMalloc) {
  EXPECT_TRUE(EndsWith(ObjectOf(reinterpret_cast<void *>(g_jemalloc.malloc)),
                       PeerLibrary(Peer::kJemalloc)));
  EXPECT_TRUE(EndsWith(ObjectOf(reinterpret_cast<void *>(g_mimalloc.malloc)),
                       PeerLibrary(Peer::kMimalloc)));
  ForEachAllocator([&](auto tag) {
    using A = ThroughMalloc<typename decltype(tag)::type>;
    const std::string name = A::kName;
    const Owners want{name == "tinyalloc", name == "mimalloc", name == "tcmalloc",
                      name == "jemalloc"};
    for (size_t align : kAligns) {
      for (size_t size : kSizes) {
        void *block;
        Owners o = Probe<A>({}, size, align, &block);
        EXPECT_TRUE(o.tinyalloc == want.tinyalloc && o.mimalloc == want.mimalloc &&
                    o.tcmalloc == want.tcmalloc && o.jemalloc == want.jemalloc)
            << name << " " << size << "@" << align;
        A::Free({}, block, size, align);
      }
    }
  });
}

}  // namespace
}  // namespace tabench

int main(int argc, char **argv) {
  tabench::EnsureStaticTlsRoom(argv);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
