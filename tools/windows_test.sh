#!/usr/bin/env bash
# Cross-compiles //platform for Windows (its *_windows.c sources) and the
# allocator core on top of it, with mingw-w64 and the warning flags of
# tools/copts.bzl, and runs their tests under Wine: platform/*_test.cc in one
# program, alloc/*_test.cc and tests/*_test.cc in another. So the Windows
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
# a minute or two).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${TA_MINGW_DIR:-${TMPDIR:-/tmp}/tinyalloc-mingw}"
# The posix thread model: GCC 12's win32 model has no std::thread, which the
# tests use. -static links its winpthread in, so the .exe needs no DLLs.
cc=x86_64-w64-mingw32-gcc-posix
cxx=x86_64-w64-mingw32-g++-posix
wine=/usr/lib/wine/wine64
wineserver=/usr/lib/wine/wineserver
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

for tool in "$cc" "$cxx" "$wine" "$gtest/src/gtest-all.cc"; do
  if ! command -v "$tool" >/dev/null 2>&1 && [ ! -e "$tool" ]; then
    echo "windows_test: $tool not found; run tools/setup.sh" >&2
    exit 1
  fi
done

# The flags of a list in tools/copts.bzl (TA_COPTS, TA_TEST_COPTS), read from
# there so that the Windows build cannot drift from Bazel's.
copts() {
  awk -v name="$1" '
    $1 == name && $2 == "=" { inside = 1; next }
    inside && /^\]/ { exit }
    inside && match($0, /"[^"]*"/) { print substr($0, RSTART + 1, RLENGTH - 2) }
  ' "$root/tools/copts.bzl"
}
mapfile -t c_flags < <(copts TA_COPTS)
mapfile -t cxx_flags < <(copts TA_TEST_COPTS)
if [ ${#c_flags[@]} -eq 0 ] || [ ${#cxx_flags[@]} -eq 0 ]; then
  echo "windows_test: could not read TA_COPTS/TA_TEST_COPTS from tools/copts.bzl" >&2
  exit 1
fi
# -O2 as well: some of gcc's warnings (-Wmaybe-uninitialized) need the optimizer.
includes=(-I "$root" -I "$root/platform/include" -I "$root/alloc/include")
c_flags+=(-O2 "${includes[@]}")
cxx_flags+=(-O2 "${includes[@]}" -isystem "$gtest/include")

mkdir -p "$build/gtest" "$build/obj"
# Two runs at once (two checkouts, or CI beside a developer) share $build:
# one would delete and relink the programs, or update the prefix, under the
# other's feet. The second waits for the first instead.
exec 9>"$build/.lock"
if ! flock -n 9; then
  echo "windows_test: another run is using $build; waiting for it"
  flock 9
fi

# GoogleTest: built once per build directory (it takes a minute), again only
# if Debian's sources change.
obj="$build/gtest/gtest-all.o"
if [ ! -e "$obj" ] || [ "$gtest/src/gtest-all.cc" -nt "$obj" ]; then
  echo "windows_test: building GoogleTest"
  "$cxx" -std=c++17 -O2 -isystem "$gtest/include" -I "$gtest" -c "$gtest/src/gtest-all.cc" -o "$obj"
fi

# Compiles each source into $build/obj and appends the object to the array
# named by $1. Ours are small: always rebuilt, so that no stale object can
# hide a warning.
compile() {
  local -n into=$1
  shift
  local src obj
  for src in "$@"; do
    obj="$build/obj/$(basename "$src" | tr . _).o"
    case "$src" in
      *.c) "$cc" "${c_flags[@]}" -c "$src" -o "$obj" ;;
      *) "$cxx" "${cxx_flags[@]}" -c "$src" -o "$obj" ;;
    esac
    into+=("$obj")
  done
}
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
  # The platform layer as Windows builds it: every source but the POSIX ones.
  platform_srcs=()
  for src in "$root"/platform/*.c "$root"/platform/testing/*.c; do
    case "$src" in *_posix.c) continue ;; esac
    platform_srcs+=("$src")
  done
  lib_objs=()
  compile lib_objs "${platform_srcs[@]}"
  platform_test_objs=()
  compile platform_test_objs "$root"/platform/*_test.cc
  # The core and the prefixed malloc layer; not the override of the C
  # library's malloc, which is for ELF programs (no CRT override is asked for
  # on Windows).
  core_srcs=()
  for src in "$root"/alloc/*.c; do
    case "$src" in */override.c) continue ;; esac
    core_srcs+=("$src")
  done
  core_objs=()
  compile core_objs "${core_srcs[@]}"
  # debug_message_test needs the core built with TA_DEBUG, as Bazel's
  # //alloc:core_debug_messages is; the release core is what runs here.
  alloc_test_srcs=()
  for src in "$root"/alloc/*_test.cc "$root"/tests/*_test.cc; do
    # malloc_test leaves thread heaps alive for good (as a program's threads
    # do): it gets a process of its own, as under Bazel.
    case "$src" in */debug_message_test.cc | */override_test.cc | */malloc_test.cc) continue ;; esac
    alloc_test_srcs+=("$src")
  done
  malloc_test_objs=()
  compile malloc_test_objs "$root"/tests/malloc_test.cc
  alloc_test_objs=()
  compile alloc_test_objs "${alloc_test_srcs[@]}"
  link "$build/platform_test.exe" "${lib_objs[@]}" "${platform_test_objs[@]}"
  link "$build/alloc_test.exe" "${core_objs[@]}" "${lib_objs[@]}" "${alloc_test_objs[@]}"
  link "$build/malloc_test.exe" "${core_objs[@]}" "${lib_objs[@]}" "${malloc_test_objs[@]}"
  programs=("$build/platform_test.exe" "$build/alloc_test.exe" "$build/malloc_test.exe")
fi

# A prefix of our own, no debug chatter, no offer to install Mono or Gecko
# (they would wait for a click), and no display: console programs only.
export WINEPREFIX="$build/wineprefix"
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY WAYLAND_DISPLAY

# Creating or updating a prefix goes on in the background after the first
# program starts (wineboot, then services). Finish it first, so that no test
# program starts while the prefix is being rewritten.
echo "windows_test: preparing the Wine prefix $WINEPREFIX"
if ! "$wine" wineboot -u </dev/null >"$build/wineboot.log" 2>&1; then
  cat "$build/wineboot.log" >&2
  echo "windows_test: wineboot failed" >&2
  exit 1
fi
"$wineserver" -w
# One wineserver for the whole run, kept alive between programs: without -p
# it exits a few seconds after the last process, and a program that starts
# while it is shutting down would race its exit. Ended (-k) on the way out.
"$wineserver" -p
trap '"$wineserver" -k 2>/dev/null || true; "$wineserver" -w 2>/dev/null || true' EXIT
# The first program also starts the prefix's services, which then live as long
# as the wineserver and keep its standard streams open: start them here, with
# nothing open, so that no pipe a program writes to outlives the program.
"$wine" cmd /c exit </dev/null >/dev/null 2>&1

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
