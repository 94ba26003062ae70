#!/usr/bin/env bash
# Cross-compiles bench/windows_bench.c and the allocator core with mingw-w64
# (the compiler, flags, sources and Wine prefix of tools/windows_test.sh, from
# tools/mingw_env.sh) and runs it under Wine: a table of ns/op for tinyalloc,
# HeapAlloc on a private heap and the CRT's malloc, with a geomean row.
#
# These are Wine's HeapAlloc and Wine's CRT (msvcrt.dll / ucrtbase.dll as Wine
# implements them), not Windows': the table compares tinyalloc with them on
# this machine, and says nothing about Windows' own heap.
#
# Usage: bash tools/windows_bench.sh [--smoke] [--json FILE] [--workload NAME]
#   --smoke          a few iterations per cell (checks that it builds and runs)
#   --json FILE      also writes the numbers to FILE
#   --workload NAME  one row only (pair_8, churn, prodcons, ...)
# A full run takes about a minute after the build. Exits non-zero if anything
# fails to build, a block fails its check, or the program fails.
# Needs gcc-mingw-w64-x86-64 and wine64 (tools/setup.sh installs them).
set -euo pipefail

mingw_who=windows_bench
# shellcheck source=tools/mingw_env.sh
source "$(dirname "${BASH_SOURCE[0]}")/mingw_env.sh"
# Objects of our own: windows_test.sh empties $build/obj on every run.
mingw_obj_dir="$build/bench-obj"
time_limit=600

args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) args+=(--smoke) ;;
    --json)
      [ $# -ge 2 ] || { echo "windows_bench: --json takes a file" >&2; exit 2; }
      # Wine sees the Unix file system as drive Z:.
      json_path="$(realpath -m -- "$2")"
      args+=(--json "Z:$json_path")
      shift
      ;;
    --workload)
      [ $# -ge 2 ] || { echo "windows_bench: --workload takes a name" >&2; exit 2; }
      args+=(--workload "$2")
      shift
      ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "windows_bench: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

mingw_check_tools "$cc" "$wine"
mingw_flags
mingw_lock
mkdir -p "$mingw_obj_dir"

# Always rebuilt (they are small), so that no stale object hides a warning.
rm -f "$mingw_obj_dir"/*.o
objs=()
compile objs "${platform_lib_srcs[@]}" "${core_srcs[@]}" "$root/bench/windows_bench.c"
exe="$build/windows_bench.exe"
"$cc" -static -o "$exe" "${objs[@]}"
crt_dlls=$(x86_64-w64-mingw32-objdump -p "$exe" | awk '/DLL Name:/ { print $3 }' |
  grep -iE '^(msvcr|ucrt|api-ms-win-crt)' | sort -u | paste -sd, - || true)
echo "windows_bench: built $exe (${#objs[@]} objects; C runtime: ${crt_dlls:-unknown})"

mingw_wine_prepare
if [ -n "${json_path:-}" ] && [ ! -e "$WINEPREFIX/dosdevices/z:" ]; then
  echo "windows_bench: the Wine prefix has no drive Z: for --json" >&2
  exit 1
fi

wine_version=$("$wine" --version 2>/dev/null || echo "wine, version unknown")
echo "windows_bench: NOTE: HeapAlloc and CRT malloc below are ${wine_version}'s implementations"
echo "windows_bench: (ntdll's heap, and ${crt_dlls:-the CRT} as Wine implements it), not Windows'."
echo
status=0
timeout -k 10 "$time_limit" "$wine" "$exe" "${args[@]}" </dev/null || status=$?
if [ $status -ne 0 ]; then
  echo "windows_bench: windows_bench.exe exited with status $status" >&2
  exit $status
fi
if [ -n "${json_path:-}" ]; then
  echo "windows_bench: wrote $json_path"
fi
