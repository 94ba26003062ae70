#!/usr/bin/env bash
# Cross-compiles //platform for Windows (its *_windows.c sources) together with
# every platform/*_test.cc, with mingw-w64 and the warning flags of
# tools/copts.bzl, and runs the tests under Wine, so that the Windows mapper
# runs for real on every CI run. Exits non-zero if anything fails to build or
# any test fails.
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
c_flags+=(-O2 -I "$root" -I "$root/platform/include")
cxx_flags+=(-O2 -I "$root" -I "$root/platform/include" -isystem "$gtest/include")

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

# The platform layer as Windows builds it: every source but the POSIX ones.
# Ours are small: always rebuilt, so that no stale object can hide a warning.
rm -f "$build"/obj/*.o
objs=()
for src in "$root"/platform/*.c "$root"/platform/testing/*.c; do
  case "$src" in *_posix.c) continue ;; esac
  obj="$build/obj/$(basename "$src" .c).o"
  "$cc" "${c_flags[@]}" -c "$src" -o "$obj"
  objs+=("$obj")
done
for src in "$root"/platform/*_test.cc; do
  obj="$build/obj/$(basename "$src" .cc).o"
  "$cxx" "${cxx_flags[@]}" -c "$src" -o "$obj"
  objs+=("$obj")
done
exe="$build/platform_test.exe"
"$cxx" -static -o "$exe" "${objs[@]}" "$build/gtest/gtest_main.o" "$build/gtest/gtest-all.o"
echo "windows_test: built $exe (${#objs[@]} objects)"

# A prefix of our own, no debug chatter, no offer to install Mono or Gecko
# (they would wait for a click), and no display: console programs only.
export WINEPREFIX="$build/wineprefix"
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY WAYLAND_DISPLAY

status=0
"$wine" "$exe" --gtest_color=no "$@" </dev/null || status=$?
# Wait for this prefix's wineserver to go, so that nothing outlives the run.
"$wineserver" -w || true
if [ "$status" -ne 0 ]; then
  echo "windows_test: FAILED (exit status $status)" >&2
  exit "$status"
fi
echo "windows_test: all tests passed under Wine"
