# The mingw-w64 cross build and the Wine setup shared by tools/windows_test.sh
# and tools/windows_bench.sh: sourced by both (not run on its own), so that
# the two cannot drift apart in compiler, flags, sources or Wine prefix.
#
# The sourcing script sets mingw_who (the prefix of its messages) first, and
# may set mingw_obj_dir (where compile puts objects; default $build/obj).
# Sourcing defines, and changes nothing on disk:
#   root, build            the checkout, and the build directory
#                          ($TA_MINGW_DIR, by default ${TMPDIR:-/tmp}/tinyalloc-mingw)
#   cc, cxx, wine, wineserver
#   platform_srcs          the platform layer as Windows builds it: every
#                          source of platform/ and platform/testing/ but the
#                          POSIX ones
#   platform_lib_srcs      of those, the library's own (platform/*.c)
#   core_srcs              the allocator core and the prefixed malloc layer
# and the functions mingw_check_tools, mingw_flags (fills c_flags and
# cxx_flags: TA_COPTS / TA_TEST_COPTS of tools/copts.bzl, -O2, includes),
# mingw_lock, compile and mingw_wine_prepare (each described where it is
# defined).
# shellcheck shell=bash

: "${mingw_who:?set mingw_who before sourcing tools/mingw_env.sh}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${TA_MINGW_DIR:-${TMPDIR:-/tmp}/tinyalloc-mingw}"
mingw_obj_dir="${mingw_obj_dir:-$build/obj}"
# The posix thread model: GCC 12's win32 model has no std::thread, which the
# tests use. -static links its winpthread in, so the .exe needs no DLLs.
cc=x86_64-w64-mingw32-gcc-posix
cxx=x86_64-w64-mingw32-g++-posix
wine=/usr/lib/wine/wine64
wineserver=/usr/lib/wine/wineserver

# mingw_check_tools TOOL...: exits unless each is a command or a file.
mingw_check_tools() {
  local tool
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null 2>&1 && [ ! -e "$tool" ]; then
      echo "$mingw_who: $tool not found; run tools/setup.sh" >&2
      exit 1
    fi
  done
}

# The flags of a list in tools/copts.bzl (TA_COPTS, TA_TEST_COPTS), read from
# there so that the Windows build cannot drift from Bazel's.
copts() {
  awk -v name="$1" '
    $1 == name && $2 == "=" { inside = 1; next }
    inside && /^\]/ { exit }
    inside && match($0, /"[^"]*"/) { print substr($0, RSTART + 1, RLENGTH - 2) }
  ' "$root/tools/copts.bzl"
}
# mingw_flags: fills c_flags and cxx_flags (exits if copts.bzl cannot be read).
mingw_flags() {
  mapfile -t c_flags < <(copts TA_COPTS)
  mapfile -t cxx_flags < <(copts TA_TEST_COPTS)
  if [ ${#c_flags[@]} -eq 0 ] || [ ${#cxx_flags[@]} -eq 0 ]; then
    echo "$mingw_who: could not read TA_COPTS/TA_TEST_COPTS from tools/copts.bzl" >&2
    exit 1
  fi
  # -O2 as well: some of gcc's warnings (-Wmaybe-uninitialized) need the optimizer.
  includes=(-I "$root" -I "$root/platform/include" -I "$root/alloc/include")
  c_flags+=(-O2 "${includes[@]}")
  cxx_flags+=(-O2 "${includes[@]}")
}

# The platform layer as Windows builds it: every source but the POSIX ones.
platform_srcs=()
platform_lib_srcs=()
for src in "$root"/platform/*.c "$root"/platform/testing/*.c; do
  case "$src" in *_posix.c) continue ;; esac
  platform_srcs+=("$src")
  case "$src" in "$root"/platform/testing/*) ;; *) platform_lib_srcs+=("$src") ;; esac
done
# The core and the prefixed malloc layer; not the override of the C
# library's malloc, which is for ELF programs (no CRT override is asked for
# on Windows).
core_srcs=()
for src in "$root"/alloc/*.c; do
  case "$src" in */override.c | */override_new.c) continue ;; esac
  core_srcs+=("$src")
done
unset src

# mingw_lock: makes $build and takes its lock (on fd 9) for the rest of the
# script. Two runs at once (two checkouts, or CI beside a developer) share
# $build: one would delete and relink the programs, or update the prefix,
# under the other's feet. The second waits for the first instead.
mingw_lock() {
  mkdir -p "$build"
  exec 9>"$build/.lock"
  if ! flock -n 9; then
    echo "$mingw_who: another run is using $build; waiting for it"
    flock 9
  fi
}

# compile ARRAY SRC...: compiles each source into $mingw_obj_dir and appends
# the object to the array named ARRAY. Ours are small: always rebuilt, so
# that no stale object can hide a warning.
compile() {
  local -n into=$1
  shift
  local src obj
  for src in "$@"; do
    obj="$mingw_obj_dir/$(basename "$src" | tr . _).o"
    case "$src" in
      *.c) "$cc" "${c_flags[@]}" -c "$src" -o "$obj" ;;
      *) "$cxx" "${cxx_flags[@]}" -c "$src" -o "$obj" ;;
    esac
    into+=("$obj")
  done
}

# mingw_wine_prepare: readies the Wine prefix $build/wineprefix and starts the
# wineserver that every program of the run uses; ends it when the script
# exits (an EXIT trap, which a caller replacing it must keep).
mingw_wine_prepare() {
  # A prefix of our own, no debug chatter, no offer to install Mono or Gecko
  # (they would wait for a click), and no display: console programs only.
  export WINEPREFIX="$build/wineprefix"
  export WINEDEBUG=-all
  export WINEDLLOVERRIDES="mscoree,mshtml="
  unset DISPLAY WAYLAND_DISPLAY

  # Creating or updating a prefix goes on in the background after the first
  # program starts (wineboot, then services). Finish it first, so that no test
  # program starts while the prefix is being rewritten.
  echo "$mingw_who: preparing the Wine prefix $WINEPREFIX"
  if ! "$wine" wineboot -u </dev/null >"$build/wineboot.log" 2>&1; then
    cat "$build/wineboot.log" >&2
    echo "$mingw_who: wineboot failed" >&2
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
}
