// The columns of the benchmark table: one adapter per allocator, each calling
// only its own allocator's API, with the same shape so that every workload is
// one template instantiated five times.
//
//   Heap            what a thread allocates from (a first-class heap where the
//                   allocator has them, an empty tag where it does not)
//   NewHeap()       DestroyHeap(heap)   (destroy frees what is left, if the
//                                        allocator can; workloads free first)
//   Alloc(heap, size, align)            align is 8 (a plain allocation: each
//                                       allocator's malloc-style call) or a
//                                       power of two >= 64 (its aligned call)
//   Free(heap, ptr, size, align)        heap is the freeing thread's heap,
//                                       which need not own the block
//   kHasBulkDestroy, BulkHeap, NewBulkHeap(), BulkAlloc(), DestroyBulkHeap():
//                   a region that is thrown away at once, where there is one
//   Malloc(size, align), MallocFree(ptr)
//                   its malloc family (malloc or its aligned call; free), for
//                   the table through malloc (ThroughMalloc below)
//
// Peers are called through the tables of peers.h (see there why).
#ifndef TINYALLOC_BENCH_ALLOCATORS_H_
#define TINYALLOC_BENCH_ALLOCATORS_H_

#include <malloc.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/peers.h"
#include "tinyalloc/malloc.h"
#include "tinyalloc/tinyalloc.h"

namespace tabench {

// The alignment of a plain allocation: that of a typical struct. tinyalloc is
// told it; the malloc-style peers give 16 anyway.
constexpr size_t kPlainAlign = 8;

struct NoHeap {};

struct Tinyalloc {
  static constexpr const char *kName = "tinyalloc";
  using Heap = ta_heap_t *;
  static bool Load(std::string *) { return true; }
  static Heap NewHeap() { return ta_heap_new(); }
  static void DestroyHeap(Heap heap) { ta_heap_destroy(heap); }
  static void *Alloc(Heap heap, size_t size, size_t align) {
    return ta_heap_alloc(heap, ta_layout_t{size, align});
  }
  static void Free(Heap heap, void *ptr, size_t size, size_t align) {
    ta_heap_free(heap, ptr, ta_layout_t{size, align});
  }
  static void *Malloc(size_t size, size_t align) {
    return align <= kPlainAlign ? ta_malloc(size) : ta_aligned_alloc(align, size);
  }
  static void MallocFree(void *ptr) { ta_free(ptr); }

  static constexpr bool kHasBulkDestroy = true;
  using BulkHeap = Heap;
  static BulkHeap NewBulkHeap() { return NewHeap(); }
  static void *BulkAlloc(BulkHeap heap, size_t size, size_t align) {
    return Alloc(heap, size, align);
  }
  static void DestroyBulkHeap(BulkHeap heap) { ta_heap_destroy(heap); }
};

// glibc's ptmalloc2: the malloc this process links (not replaced: see peers.h).
struct Glibc {
  static constexpr const char *kName = "glibc";
  using Heap = NoHeap;
  static bool Load(std::string *) { return true; }
  static Heap NewHeap() { return {}; }
  static void DestroyHeap(Heap) {}
  static void *Alloc(Heap, size_t size, size_t align) {
    return align <= kPlainAlign ? std::malloc(size) : aligned_alloc(align, size);
  }
  static void Free(Heap, void *ptr, size_t, size_t) { std::free(ptr); }
  static void *Malloc(size_t size, size_t align) { return Alloc({}, size, align); }
  static void MallocFree(void *ptr) { std::free(ptr); }
  static constexpr bool kHasBulkDestroy = false;
};

// mimalloc's first-class heaps; mi_free from any thread.
struct Mimalloc {
  static constexpr const char *kName = "mimalloc";
  using Heap = mi_heap_t *;
  static bool Load(std::string *error) { return LoadPeer(Peer::kMimalloc, error); }
  static Heap NewHeap() { return g_mimalloc.heap_new(); }
  static void DestroyHeap(Heap heap) { g_mimalloc.heap_destroy(heap); }
  static void *Alloc(Heap heap, size_t size, size_t align) {
    return align <= kPlainAlign ? g_mimalloc.heap_malloc(heap, size)
                                : g_mimalloc.heap_malloc_aligned(heap, size, align);
  }
  static void Free(Heap, void *ptr, size_t, size_t) { g_mimalloc.free(ptr); }
  static void *Malloc(size_t size, size_t align) {
    return align <= kPlainAlign ? g_mimalloc.malloc(size) : g_mimalloc.malloc_aligned(size, align);
  }
  static void MallocFree(void *ptr) { g_mimalloc.free(ptr); }

  static constexpr bool kHasBulkDestroy = true;
  using BulkHeap = Heap;
  static BulkHeap NewBulkHeap() { return NewHeap(); }
  static void *BulkAlloc(BulkHeap heap, size_t size, size_t align) {
    return Alloc(heap, size, align);
  }
  static void DestroyBulkHeap(BulkHeap heap) { g_mimalloc.heap_destroy(heap); }
};

// jemalloc's non-standard API with its automatic arenas and thread cache (how
// it is used, and fastest); sized free. The bulk region is an explicit arena
// (arenas.create) used without the thread cache, which could otherwise hand
// out blocks of other arenas, and thrown away with arena.<i>.destroy.
struct Jemalloc {
  static constexpr const char *kName = "jemalloc";
  using Heap = NoHeap;
  static bool Load(std::string *error) { return LoadPeer(Peer::kJemalloc, error); }
  static Heap NewHeap() { return {}; }
  static void DestroyHeap(Heap) {}
  static int AlignFlags(size_t align) { return align <= kPlainAlign ? 0 : MALLOCX_ALIGN(align); }
  static void *Alloc(Heap, size_t size, size_t align) {
    return g_jemalloc.mallocx(size, AlignFlags(align));
  }
  static void Free(Heap, void *ptr, size_t size, size_t align) {
    g_jemalloc.sdallocx(ptr, size, AlignFlags(align));
  }
  static void *Malloc(size_t size, size_t align) {
    return align <= kPlainAlign ? g_jemalloc.malloc(size) : g_jemalloc.aligned_alloc(align, size);
  }
  static void MallocFree(void *ptr) { g_jemalloc.free(ptr); }

  static constexpr bool kHasBulkDestroy = true;
  struct BulkHeap {
    unsigned arena;
  };
  static BulkHeap NewBulkHeap() {
    unsigned arena = 0;
    size_t len = sizeof(arena);
    if (g_jemalloc.mallctl("arenas.create", &arena, &len, nullptr, 0) != 0) {
      std::fprintf(stderr, "bench: jemalloc arenas.create failed\n");
      std::abort();
    }
    return {arena};
  }
  static void *BulkAlloc(BulkHeap heap, size_t size, size_t align) {
    return g_jemalloc.mallocx(size, MALLOCX_ARENA(heap.arena) | MALLOCX_TCACHE_NONE |
                                        AlignFlags(align));
  }
  static void DestroyBulkHeap(BulkHeap heap) {
    char name[64];
    std::snprintf(name, sizeof(name), "arena.%u.destroy", heap.arena);
    g_jemalloc.mallctl(name, nullptr, nullptr, nullptr, 0);
  }
};

// gperftools' tcmalloc (tcmalloc_minimal): tc_* entry points, sized free where
// the size is the class's (not for tc_memalign blocks).
struct Tcmalloc {
  static constexpr const char *kName = "tcmalloc";
  using Heap = NoHeap;
  static bool Load(std::string *error) { return LoadPeer(Peer::kTcmalloc, error); }
  static Heap NewHeap() { return {}; }
  static void DestroyHeap(Heap) {}
  static void *Alloc(Heap, size_t size, size_t align) {
    return align <= kPlainAlign ? g_tcmalloc.malloc(size) : g_tcmalloc.memalign(align, size);
  }
  static void Free(Heap, void *ptr, size_t size, size_t align) {
    if (align <= kPlainAlign) {
      g_tcmalloc.free_sized(ptr, size);
    } else {
      g_tcmalloc.free(ptr);
    }
  }
  static void *Malloc(size_t size, size_t align) { return Alloc({}, size, align); }
  static void MallocFree(void *ptr) { g_tcmalloc.free(ptr); }
  static constexpr bool kHasBulkDestroy = false;
};

// Any column through its malloc family, as a program that replaces malloc
// with it calls it: no heap, no size at free.
template <class A>
struct ThroughMalloc {
  static constexpr const char *kName = A::kName;
  using Heap = NoHeap;
  static Heap NewHeap() { return {}; }
  static void DestroyHeap(Heap) {}
  static void *Alloc(Heap, size_t size, size_t align) { return A::Malloc(size, align); }
  static void Free(Heap, void *ptr, size_t, size_t) { A::MallocFree(ptr); }
  static constexpr bool kHasBulkDestroy = false;
};

// Each column as itself: its own API, as allocators.h describes.
template <class A>
using Direct = A;

template <class A>
struct Tag {
  using type = A;
};

// Calls fn(Tag<A>{}) for each column, in table order.
template <class Fn>
void ForEachAllocator(Fn &&fn) {
  fn(Tag<Tinyalloc>{});
  fn(Tag<Glibc>{});
  fn(Tag<Mimalloc>{});
  fn(Tag<Jemalloc>{});
  fn(Tag<Tcmalloc>{});
}

}  // namespace tabench

#endif  // TINYALLOC_BENCH_ALLOCATORS_H_
