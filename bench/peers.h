// The peer allocators (mimalloc, jemalloc, tcmalloc), loaded at run time so
// that each one stays out of the process's global symbol scope: dlopen with
// RTLD_LOCAL (nothing else binds to their malloc) and RTLD_DEEPBIND (their own
// calls bind to themselves), then called only through these tables. The bench
// binary does not link any of them, so glibc's malloc remains the malloc of
// the process; allocator_identity_test proves it.
#ifndef TINYALLOC_BENCH_PEERS_H_
#define TINYALLOC_BENCH_PEERS_H_

#include <gperftools/malloc_extension_c.h>
#include <gperftools/tcmalloc.h>
#include <jemalloc/jemalloc.h>
#include <mimalloc.h>

#include <string>

namespace tabench {

enum class Peer { kMimalloc, kJemalloc, kTcmalloc };

// The shared library each peer is loaded from (Debian 12 sonames).
const char *PeerLibrary(Peer peer);

// Loads the peer (once; later calls return the first result) and fills its
// table below. On failure returns false and says why in *error.
bool LoadPeer(Peer peer, std::string *error);

struct MimallocApi {
  decltype(&::mi_heap_new) heap_new;
  decltype(&::mi_heap_destroy) heap_destroy;
  decltype(&::mi_heap_malloc) heap_malloc;
  decltype(&::mi_heap_malloc_aligned) heap_malloc_aligned;
  decltype(&::mi_malloc) malloc;
  decltype(&::mi_malloc_aligned) malloc_aligned;
  decltype(&::mi_free) free;
  decltype(&::mi_usable_size) usable_size;
  decltype(&::mi_is_in_heap_region) is_in_heap_region;
  decltype(&::mi_heap_check_owned) heap_check_owned;
};

struct JemallocApi {
  decltype(&::mallocx) mallocx;
  decltype(&::sdallocx) sdallocx;
  decltype(&::sallocx) sallocx;
  decltype(&::mallctl) mallctl;
  // Its malloc family, as a program that links it calls it.
  decltype(&::malloc) malloc;
  decltype(&::aligned_alloc) aligned_alloc;
  decltype(&::free) free;
};

struct TcmallocApi {
  decltype(&::tc_malloc) malloc;
  decltype(&::tc_memalign) memalign;
  decltype(&::tc_free) free;
  decltype(&::tc_free_sized) free_sized;
  decltype(&::tc_malloc_size) malloc_size;
  decltype(&::MallocExtension_GetOwnership) get_ownership;
};

extern MimallocApi g_mimalloc;
extern JemallocApi g_jemalloc;
extern TcmallocApi g_tcmalloc;

// jemalloc keeps 2.6 KiB of initial-exec TLS, more than glibc leaves free for
// libraries loaded by dlopen (512 bytes by default). Unless GLIBC_TUNABLES
// already sets glibc.rtld.optional_static_tls, this re-executes the program
// (/proc/self/exe, same argv) with it set; call it first thing in main. If the
// exec fails it returns, and loading jemalloc will then report the error.
void EnsureStaticTlsRoom(char **argv);

}  // namespace tabench

#endif  // TINYALLOC_BENCH_PEERS_H_
