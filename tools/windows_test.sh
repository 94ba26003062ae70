#!/usr/bin/env bash
# Cross-compiles //platform for Windows (its *_windows.c sources) and the
# allocator core on top of it, with mingw-w64 and the warning flags of
# tools/copts.bzl, and runs their tests under Wine: platform/*_test.cc in one
# program, and each alloc/*_test.cc and tests/*_test.cc in a program of its
# own (as each is a test target under Bazel). So the Windows
# mapper, and the allocator on it, run for real on every CI run. Exits non-zero
# if anything fails to build or any test fails; a failure is never retried.
#
# Every program has tools/testing/test_main.cc as its main: its output is
# unbuffered, an exception prints its code, address and test, and a program
# still running after TA_TEST_TIME_LIMIT seconds (default 300 here) prints the
# running test and exits with 124.
#
# Usage: bash tools/windows_test.sh [options] [gtest flags, e.g. --gtest_filter=Sysinfo.*]
#   --self-check  runs tools/testing/test_main_self_check.cc instead: a test
#                 that hangs and one that crashes on purpose, and checks that
#                 each says where.
#   --repeat N    runs the suite N times (a soak for intermittent failures),
#                 printing one line per run; fails if any run failed.
#   --busy        keeps every core busy with spinning processes meanwhile.
# The stress test's own knobs pass through Wine: TA_STRESS_WORKERS,
# TA_STRESS_SECONDS (see tests/stress_test.cc).
# Needs gcc-mingw-w64-x86-64, g++-mingw-w64-x86-64, wine64 and libgtest-dev
# (tools/setup.sh installs them). Builds in $TA_MINGW_DIR, by default
# ${TMPDIR:-/tmp}/tinyalloc-mingw, where GoogleTest's objects and the Wine
# prefix are kept between runs (the first Wine start takes from ten seconds to
# a minute or two). The compiler, flags, sources and Wine prefix are those of
# tools/mingw_env.sh, which tools/windows_bench.sh shares.
set -euo pipefail

mingw_who=windows_test
# shellcheck source=tools/mingw_env.sh
source "$(dirname "${BASH_SOURCE[0]}")/mingw_env.sh"
gtest=/usr/src/googletest/googletest
time_limit="${TA_TEST_TIME_LIMIT:-300}"

self_check=0
repeat=1
busy=0
while [ $# -gt 0 ]; do
  case "$1" in
    --self-check) self_check=1 ;;
    --repeat) repeat="$2"; shift ;;
    --busy) busy=1 ;;
    *) break ;;
  esac
  shift
done
case "$repeat" in
  '' | *[!0-9]* | 0) echo "windows_test: --repeat takes a positive number" >&2; exit 2 ;;
esac

mingw_check_tools "$cc" "$cxx" "$wine" "$gtest/src/gtest-all.cc"
mingw_flags
cxx_flags+=(-isystem "$gtest/include")

mkdir -p "$build/gtest" "$build/obj"
mingw_lock

# GoogleTest: built once per build directory (it takes a minute), again only
# if Debian's sources change.
obj="$build/gtest/gtest-all.o"
if [ ! -e "$obj" ] || [ "$gtest/src/gtest-all.cc" -nt "$obj" ]; then
  echo "windows_test: building GoogleTest"
  "$cxx" -std=c++17 -O2 -isystem "$gtest/include" -I "$gtest" -c "$gtest/src/gtest-all.cc" -o "$obj"
fi

# compile (tools/mingw_env.sh) puts objects in $build/obj.
rm -f "$build"/obj/*.o
main_objs=()
compile main_objs "$root/tools/testing/test_main.cc"
link() {
  local exe=$1
  shift
  "$cxx" -static -o "$exe" "$@" "${main_objs[@]}" "$build/gtest/gtest-all.o"
  echo "windows_test: built $exe ($# objects)"
}
programs=()
if [ $self_check = 1 ]; then
  self_check_objs=()
  compile self_check_objs "$root/tools/testing/test_main_self_check.cc"
  link "$build/test_main_self_check.exe" "${self_check_objs[@]}"
else
  # The platform layer as Windows builds it (platform_srcs, with the testing
  # mappers), and the core with the prefixed malloc layer (core_srcs): see
  # tools/mingw_env.sh.
  lib_objs=()
  compile lib_objs "${platform_srcs[@]}"
  platform_test_objs=()
  compile platform_test_objs "$root"/platform/*_test.cc
  core_objs=()
  compile core_objs "${core_srcs[@]}"
  rm -f "$build"/*_test.exe
  link "$build/platform_test.exe" "${lib_objs[@]}" "${platform_test_objs[@]}"
  programs=("$build/platform_test.exe")
  # Each core test file is a program of its own, as each is a test target
  # under Bazel: most check process-wide figures (nothing held after a
  # trim, the arena's counts), which another file's threads and leftovers
  # must not reach.
  for src in "$root"/alloc/*_test.cc "$root"/tests/*_test.cc; do
    # debug_message_test needs the core built with TA_DEBUG, as Bazel's
    # //alloc:core_debug_messages is; the release core is what runs here.
    case "$src" in */debug_message_test.cc | */override_test.cc) continue ;; esac
    test_objs=()
    compile test_objs "$src"
    exe="$build/$(basename "$src" .cc).exe"
    link "$exe" "${core_objs[@]}" "${lib_objs[@]}" "${test_objs[@]}"
    programs+=("$exe")
  done
fi

# The Wine prefix, and one wineserver for the whole run (ended on exit).
mingw_wine_prepare

# run_program EXE ARGS...: runs EXE under Wine with the time limit, and a
# kill after a grace period in case the program cannot even end itself.
run_program() {
  TA_TEST_TIME_LIMIT="$time_limit" timeout -k 10 "$((time_limit + 60))" \
    "$wine" "$@" --gtest_color=no </dev/null
}

if [ $self_check = 1 ]; then
  exe="$build/test_main_self_check.exe"
  failures=0
  # expect TEST STATUS PATTERN: the test ends with STATUS and prints PATTERN.
  expect() {
    local test=$1 want_status=$2 pattern=$3 status=0
    local out="$build/self-check-$test.log"
    time_limit=3 run_program "$exe" "--gtest_filter=TestMainSelfCheck.$test" >"$out" 2>&1 ||
      status=$?
    sed 's/^/    /' "$out"
    if [ "$status" = "$want_status" ] && grep -Eq "$pattern" "$out"; then
      echo "windows_test: self-check $test: ok (exit status $status)"
    else
      echo "windows_test: self-check $test: FAILED (exit status $status, wanted $want_status and /$pattern/)" >&2
      failures=$((failures + 1))
    fi
  }
  expect HangsOnPurpose 124 'time limit of 3 s reached while running TestMainSelfCheck\.HangsOnPurpose'
  # 0xc0000005 is an access violation; Wine exits with the code's low byte.
  expect CrashesOnPurpose 5 'exception 0xc0000005 at address 0x[0-9a-fA-F]+ while running TestMainSelfCheck\.CrashesOnPurpose \(writing address 0x0\)'
  [ $failures = 0 ] || exit 1
  echo "windows_test: self-check passed: a hang and a crash each name their test"
  exit 0
fi

if [ $busy = 1 ]; then
  busy_pids=()
  for _ in $(seq "$(nproc)"); do
    (while :; do :; done) &
    busy_pids+=($!)
  done
  trap 'kill "${busy_pids[@]}" 2>/dev/null; "$wineserver" -k 2>/dev/null || true; "$wineserver" -w 2>/dev/null || true' EXIT
fi

failed_runs=0
status=0
for run in $(seq "$repeat"); do
  run_status=0
  for exe in "${programs[@]}"; do
    name=$(basename "$exe")
    if [ "$repeat" = 1 ]; then
      echo "windows_test: running $name under Wine (time limit ${time_limit} s)"
      run_program "$exe" "$@" || run_status=$?
    else
      log="$build/run-$run-$name.log"
      run_program "$exe" "$@" >"$log" 2>&1 || run_status=$?
      if [ "$run_status" = 0 ]; then rm -f "$log"; fi
    fi
    if [ "$run_status" != 0 ]; then
      echo "windows_test: $name exited with status $run_status" >&2
      break
    fi
  done
  if [ "$repeat" != 1 ]; then
    if [ "$run_status" = 0 ]; then
      echo "windows_test: run $run of $repeat: ok"
    else
      echo "windows_test: run $run of $repeat: FAILED (status $run_status; log: $log)"
    fi
  fi
  if [ "$run_status" != 0 ]; then
    failed_runs=$((failed_runs + 1))
    status=$run_status
  fi
done
if [ "$status" -ne 0 ]; then
  echo "windows_test: FAILED ($failed_runs of $repeat runs; last exit status $status)" >&2
  exit "$status"
fi
echo "windows_test: all tests passed under Wine ($repeat of $repeat runs)"
