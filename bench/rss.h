// The memory workloads, one allocator per process: alloc_bench --rss WORKLOAD
// ALLOCATOR runs WORKLOAD on ALLOCATOR alone and prints one line
//
//   rss: {"workload": ..., "allocator": ..., "peak_rss_bytes": ...,
//         "peak_live_bytes": ..., "ratio": ...}
//
// ratio = (peak RSS during the workload - RSS before it) / the peak of the
// bytes requested and not yet freed. Every block is written in full, so the
// pages an allocator hands out are resident. Workloads:
//   churn  10,000 live churn-sized blocks, then Scale::rss_churn_ops steps
//   frag   Scale::rss_frag_blocks blocks of the fragmentation mix; a random
//          90% freed; then blocks four times as large until as many bytes are
//          live again
//   idle   sixty blocks of 1 to 64 MiB, all freed, then 3 s of small work:
//          RSS at 100 ms, 1 s and 3 s after the frees (ratio: at 1 s)
#ifndef TINYALLOC_BENCH_RSS_H_
#define TINYALLOC_BENCH_RSS_H_

#include <string>

#include "bench/workloads.h"

namespace tabench {

// Returns the process exit status: 0, or 1 after printing why to stderr.
int RunRss(const std::string &workload, const std::string &allocator, const Scale &scale);

}  // namespace tabench

#endif  // TINYALLOC_BENCH_RSS_H_
