// cache_scratch.cc - allocator-induced false sharing (after the
// cache-thrash and cache-scratch workloads described with the Hoard
// allocator, Berger et al., ASPLOS 2000).
//
// Mode `thrash` (passive false sharing): each thread repeatedly allocates a
// small object (OBJ_SIZE = 8 bytes), increments every byte of it REPS times,
// verifies it and frees it. If the allocator hands objects on one cache line
// to different threads, the threads' writes ping-pong that line.
//
// Mode `scratch` (active false sharing): before the threads start, the main
// thread allocates THREADS small objects one after another (so they are
// likely adjacent, on shared cache lines) and hands one to each thread. Each
// thread frees the object it was given, then runs the same loop as in
// `thrash`. An allocator that reuses a thread's freed object for that
// thread's next allocation keeps the false sharing the main thread created.
//
// Fixed total work: SCALE * 4000 object lifetimes (each REPS = 100,000
// increments of every byte), divided among the threads. Time is measured
// externally (the program also reports it). Uses new[]/delete[].
//
// Usage: cache_scratch [--seed=N] scratch|thrash THREADS SCALE
// Prints: result: ok checksum=<sum of final bytes> ops=<objects> seconds=<s>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>
#include <vector>

#include "bench/programs/workload.h"

namespace {

constexpr std::size_t kObjSize = 8;
constexpr std::uint64_t kReps = 100000;
constexpr double kDefaultObjects = 4000.0;

// The byte k of an object in iteration it of a thread with salt s starts at
// Init(...) and ends at Init(...) + kReps (mod 256).
unsigned char Init(std::uint64_t salt, std::uint64_t it, std::size_t k) {
  return static_cast<unsigned char>((salt * 31u + it * 7u + k * 13u) & 0xff);
}
unsigned char Final(std::uint64_t salt, std::uint64_t it, std::size_t k) {
  return static_cast<unsigned char>((Init(salt, it, k) + kReps) & 0xff);
}

char* NewObject() {
  char* p = new (std::nothrow) char[kObjSize];
  if (p == nullptr) die("allocation failed");
  return p;
}

struct Worker {
  std::uint64_t salt = 0;
  std::uint64_t iterations = 0;
  char* handed = nullptr;  // scratch mode: the object from the main thread
  std::uint64_t checksum = 0;
  std::uint64_t done = 0;
};

void Run(Worker* w) {
  if (w->handed != nullptr) {
    for (std::size_t k = 0; k < kObjSize; k++)
      if (static_cast<unsigned char>(w->handed[k]) != Init(w->salt, ~std::uint64_t{0}, k))
        die("corrupted handed-over object");
    delete[] w->handed;
    w->handed = nullptr;
  }
  for (std::uint64_t it = 0; it < w->iterations; it++) {
    char* p = NewObject();
    volatile unsigned char* v = reinterpret_cast<volatile unsigned char*>(p);
    for (std::size_t k = 0; k < kObjSize; k++) v[k] = Init(w->salt, it, k);
    for (std::uint64_t r = 0; r < kReps; r++)
      for (std::size_t k = 0; k < kObjSize; k++) v[k] = static_cast<unsigned char>(v[k] + 1);
    for (std::size_t k = 0; k < kObjSize; k++) {
      unsigned char b = v[k];
      if (b != Final(w->salt, it, k)) {
        std::fprintf(stderr, "cache_scratch: corrupted object %p byte %zu\n",
                     static_cast<void*>(p), k);
        std::exit(1);
      }
      w->checksum += b;
    }
    delete[] p;
    w->done++;
  }
}

constexpr char kUsage[] =
    "usage: cache_scratch [--seed=N] scratch|thrash THREADS SCALE\n"
    "  scratch  active false sharing (objects handed over by the main thread)\n"
    "  thrash   passive false sharing (each thread allocates its own)\n"
    "  THREADS  number of threads, >= 1\n"
    "  SCALE    work multiplier, > 0 (1 = 4000 objects x 100000 rounds of writes)\n"
    "prints: result: ok checksum=N ops=N seconds=S\n";

}  // namespace

int main(int argc, char** argv) {
  workload_args_t args;
  workload_parse(argc, argv, "cache_scratch", kUsage, 1, &args);
  bool scratch = std::strcmp(args.mode, "scratch") == 0;
  if (!scratch && std::strcmp(args.mode, "thrash") != 0) workload_usage_error();
  std::uint64_t seed = args.seed;
  int threads = args.threads;
  double scale = args.scale;

  std::uint64_t total = static_cast<std::uint64_t>(kDefaultObjects * scale + 0.5);
  if (total == 0) total = 1;
  std::uint64_t nt = static_cast<std::uint64_t>(threads);
  std::vector<Worker> workers(nt);
  for (std::uint64_t t = 0; t < nt; t++) {
    workers[t].salt = seed + t * 0x9E3779B97F4A7C15ull;
    workers[t].iterations = total / nt + (t < total % nt ? 1 : 0);
  }
  if (scratch) {
    // Allocated back to back by this thread, then handed out.
    for (std::uint64_t t = 0; t < nt; t++) workers[t].handed = NewObject();
    for (std::uint64_t t = 0; t < nt; t++)
      for (std::size_t k = 0; k < kObjSize; k++)
        workers[t].handed[k] = static_cast<char>(Init(workers[t].salt, ~std::uint64_t{0}, k));
  }

  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> th;
  th.reserve(nt);
  for (std::uint64_t t = 0; t < nt; t++) th.emplace_back(Run, &workers[t]);
  for (auto& x : th) x.join();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // The checksum once more, from the formula instead of from memory.
  std::uint64_t got = 0, want = 0, done = 0;
  for (std::uint64_t t = 0; t < nt; t++) {
    got += workers[t].checksum;
    done += workers[t].done;
    for (std::uint64_t it = 0; it < workers[t].iterations; it++)
      for (std::size_t k = 0; k < kObjSize; k++) want += Final(workers[t].salt, it, k);
  }
  if (got != want || done != total) {
    std::fprintf(stderr, "cache_scratch: checksum %llu, expected %llu; objects %llu of %llu\n",
                 static_cast<unsigned long long>(got), static_cast<unsigned long long>(want),
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total));
    return 1;
  }
  std::printf("result: ok checksum=%llu ops=%llu seconds=%.3f\n",
              static_cast<unsigned long long>(got), static_cast<unsigned long long>(total),
              elapsed);
  return 0;
}
