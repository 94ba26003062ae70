// Loading the peer allocators into their own symbol scopes (see peers.h).
#include "bench/peers.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

namespace tabench {

MimallocApi g_mimalloc;
JemallocApi g_jemalloc;
TcmallocApi g_tcmalloc;

namespace {

constexpr const char *kTlsTunable = "glibc.rtld.optional_static_tls";

template <class Fn>
bool Resolve(void *lib, const char *name, Fn *out, std::string *error) {
  void *sym = dlsym(lib, name);
  if (sym == nullptr) {
    *error += std::string(error->empty() ? "" : "; ") + "missing symbol " + name;
    return false;
  }
  *out = reinterpret_cast<Fn>(sym);
  return true;
}

bool FillTable(Peer peer, void *lib, std::string *error) {
  bool ok = true;
  switch (peer) {
    case Peer::kMimalloc: {
      MimallocApi &t = g_mimalloc;
      ok &= Resolve(lib, "mi_heap_new", &t.heap_new, error);
      ok &= Resolve(lib, "mi_heap_destroy", &t.heap_destroy, error);
      ok &= Resolve(lib, "mi_heap_malloc", &t.heap_malloc, error);
      ok &= Resolve(lib, "mi_heap_malloc_aligned", &t.heap_malloc_aligned, error);
      ok &= Resolve(lib, "mi_malloc", &t.malloc, error);
      ok &= Resolve(lib, "mi_malloc_aligned", &t.malloc_aligned, error);
      ok &= Resolve(lib, "mi_free", &t.free, error);
      ok &= Resolve(lib, "mi_usable_size", &t.usable_size, error);
      ok &= Resolve(lib, "mi_is_in_heap_region", &t.is_in_heap_region, error);
      ok &= Resolve(lib, "mi_heap_check_owned", &t.heap_check_owned, error);
      break;
    }
    case Peer::kJemalloc: {
      JemallocApi &t = g_jemalloc;
      ok &= Resolve(lib, "mallocx", &t.mallocx, error);
      ok &= Resolve(lib, "sdallocx", &t.sdallocx, error);
      ok &= Resolve(lib, "sallocx", &t.sallocx, error);
      ok &= Resolve(lib, "mallctl", &t.mallctl, error);
      ok &= Resolve(lib, "malloc", &t.malloc, error);
      ok &= Resolve(lib, "aligned_alloc", &t.aligned_alloc, error);
      ok &= Resolve(lib, "free", &t.free, error);
      break;
    }
    case Peer::kTcmalloc: {
      TcmallocApi &t = g_tcmalloc;
      ok &= Resolve(lib, "tc_malloc", &t.malloc, error);
      ok &= Resolve(lib, "tc_memalign", &t.memalign, error);
      ok &= Resolve(lib, "tc_free", &t.free, error);
      ok &= Resolve(lib, "tc_free_sized", &t.free_sized, error);
      ok &= Resolve(lib, "tc_malloc_size", &t.malloc_size, error);
      ok &= Resolve(lib, "MallocExtension_GetOwnership", &t.get_ownership, error);
      break;
    }
  }
  return ok;
}

struct LoadState {
  std::once_flag once;
  bool ok = false;
  std::string error;
};

LoadState &StateOf(Peer peer) {
  static LoadState states[3];
  return states[static_cast<int>(peer)];
}

}  // namespace

const char *PeerLibrary(Peer peer) {
  switch (peer) {
    case Peer::kMimalloc:
      return "libmimalloc.so.2";
    case Peer::kJemalloc:
      return "libjemalloc.so.2";
    case Peer::kTcmalloc:
      // gperftools without the heap profiler: no sampling on the fast path.
      return "libtcmalloc_minimal.so.4";
  }
  return "";
}

bool LoadPeer(Peer peer, std::string *error) {
  LoadState &state = StateOf(peer);
  std::call_once(state.once, [&] {
    void *lib = dlopen(PeerLibrary(peer), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (lib == nullptr) {
      const char *why = dlerror();
      state.error = why != nullptr ? why : "dlopen failed";
      if (peer == Peer::kJemalloc && std::getenv("GLIBC_TUNABLES") == nullptr) {
        state.error += " (call EnsureStaticTlsRoom first)";
      }
      return;
    }
    state.ok = FillTable(peer, lib, &state.error);
    if (!state.ok) state.error = std::string(PeerLibrary(peer)) + ": " + state.error;
  });
  if (!state.ok && error != nullptr) *error = state.error;
  return state.ok;
}

void EnsureStaticTlsRoom(char **argv) {
  const char *tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::strstr(tunables, kTlsTunable) != nullptr) return;
  std::string value = tunables != nullptr && *tunables != '\0' ? std::string(tunables) + ":" : "";
  value += std::string(kTlsTunable) + "=16384";
  if (setenv("GLIBC_TUNABLES", value.c_str(), 1) != 0) return;
  execv("/proc/self/exe", argv);
  // Still here: run on without the room; LoadPeer(kJemalloc) says what failed.
}

}  // namespace tabench
