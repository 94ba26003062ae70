#!/usr/bin/env bash
# Installs, with apt-get, everything tinyalloc's build, tests, fuzzers, Windows
# cross-tests and peer benchmarks need on Debian 12. Idempotent: when every
# package is present it installs nothing and does not touch the network.
set -euo pipefail

packages=(
  bazel-bootstrap bazel-platforms bazel-rules-java  # Bazel 4.2.3 and its offline rule sets
  build-essential clang-14 lld-14                   # gcc for the default build, clang for sanitizers
  libclang-rt-14-dev libfuzzer-14-dev afl++         # libFuzzer and AFL++
  libgtest-dev libbenchmark-dev                     # GoogleTest, Google Benchmark
  gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 wine64  # Windows cross-tests under Wine
  libmimalloc-dev libjemalloc-dev libgoogle-perftools-dev  # peer allocators
  python3 git ca-certificates procps                # bench_report, ps for RSS readings
  glibc-source xz-utils                             # glibc's malloc tests, run on the override
  sqlite3 libpython3.11-testsuite                   # real programs the override test runs
  rocksdb-tools redis-server redis-tools            # applications bench_report --programs runs
  python3-matplotlib                                # bench_report --plot
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "setup: missing packages: ${missing[*]}" >&2
  echo "setup: run as root (or install them with sudo apt-get install) and try again" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -qq; then
  echo "setup: apt-get update failed: cannot reach Debian's package archive" >&2
  exit 1
fi
# No service may start at install time (redis-server's package would start its
# daemon): invoke-rc.d asks policy-rc.d, and 101 means "not allowed".
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"
  trap 'rm -f "$policy"' EXIT
fi
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/tinyalloc-setup.log 2>&1; then
  tail -20 /tmp/tinyalloc-setup.log >&2
  echo "setup: apt-get install failed for: ${missing[*]} (full log: /tmp/tinyalloc-setup.log)" >&2
  exit 1
fi
echo "setup: installed ${#missing[@]} packages"
