#!/usr/bin/env bash
# Cross-compiles //platform for Windows (its *_windows.c sources) and the
# allocator core on top of it, with mingw-w64 and the warning flags of
# tools/copts.bzl, and runs their tests under Wine: platform/*_test.cc in one
# program, alloc/*_test.cc and tests/*_test.cc in another. So the Windows
# mapper, and the allocator on it, run for real on every CI run. Exits non-zero
# if anything fails to build or any test fails.
#
# Usage: bash tools/windows_test.sh [gtest flags, e.g. --gtest_filter=Sysinfo.*]
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

# GoogleTest: built once per build directory (it takes a minute), again only
# if Debian's sources change.
for unit in gtest-all gtest_main; do
  obj="$build/gtest/$unit.o"
  if [ ! -e "$obj" ] || [ "$gtest/src/$unit.cc" -nt "$obj" ]; then
    echo "windows_test: building GoogleTest ($unit)"
    "$cxx" -std=c++17 -O2 -isystem "$gtest/include" -I "$gtest" -c "$gtest/src/$unit.cc" -o "$obj"
  fi
done

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
core_objs=()
compile core_objs "$root"/alloc/*.c
# debug_message_test needs the core built with TA_DEBUG, as Bazel's
# //alloc:core_debug_messages is; the release core is what runs here.
alloc_test_srcs=()
for src in "$root"/alloc/*_test.cc "$root"/tests/*_test.cc; do
  case "$src" in */debug_message_test.cc) continue ;; esac
  alloc_test_srcs+=("$src")
done
alloc_test_objs=()
compile alloc_test_objs "${alloc_test_srcs[@]}"

link() {
  local exe=$1
  shift
  "$cxx" -static -o "$exe" "$@" "$build/gtest/gtest_main.o" "$build/gtest/gtest-all.o"
  echo "windows_test: built $exe ($# objects)"
}
link "$build/platform_test.exe" "${lib_objs[@]}" "${platform_test_objs[@]}"
link "$build/alloc_test.exe" "${core_objs[@]}" "${lib_objs[@]}" "${alloc_test_objs[@]}"

# A prefix of our own, no debug chatter, no offer to install Mono or Gecko
# (they would wait for a click), and no display: console programs only.
export WINEPREFIX="$build/wineprefix"
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY WAYLAND_DISPLAY

status=0
for exe in "$build/platform_test.exe" "$build/alloc_test.exe"; do
  echo "windows_test: running $(basename "$exe") under Wine"
  "$wine" "$exe" --gtest_color=no "$@" </dev/null || status=$?
done
# Wait for this prefix's wineserver to go, so that nothing outlives the run.
"$wineserver" -w || true
if [ "$status" -ne 0 ]; then
  echo "windows_test: FAILED (exit status $status)" >&2
  exit "$status"
fi
echo "windows_test: all tests passed under Wine"
