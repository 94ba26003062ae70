#!/bin/bash
# glibc's own malloc tests, from Debian's glibc-source package, compiled at
# test time against our stand-in for glibc's test support
# (tests/glibc_shim), and run on glibc's malloc and then with
# LD_PRELOAD=libtinyalloc.so. Every test must pass on tinyalloc.
set -u
lib="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
shim="$(cd "$2" && pwd)"
tarball=/usr/src/glibc/glibc-2.36.tar.xz
tests=(tst-malloc tst-calloc tst-realloc tst-reallocarray tst-memalign tst-posix_memalign
       tst-valloc tst-pvalloc tst-malloc-too-large tst-malloc-thread-exit
       tst-malloc-thread-fail mallocbug)

if [ ! -r "$tarball" ]; then
  echo "FAIL: $tarball is missing: install Debian's glibc-source (bash tools/setup.sh)"
  exit 1
fi
work="${TEST_TMPDIR:-$(mktemp -d)}/glibc"
rm -rf "$work"
mkdir -p "$work"
cp -r "$shim"/. "$work"/
members=()
for t in "${tests[@]}"; do members+=("glibc-2.36/malloc/$t.c"); done
if ! tar -xJf "$tarball" -C "$work" --strip-components=1 "${members[@]}"; then
  echo "FAIL: cannot extract the tests from $tarball"
  exit 1
fi

failed=0
for t in "${tests[@]}"; do
  if ! cc -w -O1 -pthread -D_GNU_SOURCE -I"$work" -o "$work/$t" "$work/malloc/$t.c" \
       >"$work/$t.build" 2>&1; then
    echo "FAIL $t: does not compile against the shim:"
    head -20 "$work/$t.build"
    failed=$((failed + 1))
    continue
  fi
  start=$SECONDS
  (cd "$work" && timeout -k 5 300 "./$t" >"$t.glibc.out" 2>&1)
  glibc_status=$?
  (cd "$work" && LD_PRELOAD="$lib" timeout -k 5 300 "./$t" >"$t.out" 2>&1)
  status=$?
  if [ "$status" = 0 ]; then
    echo "ok   $t (on glibc: exit $glibc_status; both runs $((SECONDS - start)) s)"
  else
    echo "FAIL $t: exit $status on tinyalloc (glibc: $glibc_status)"
    tail -15 "$work/$t.out"
    failed=$((failed + 1))
  fi
done
if [ "$failed" != 0 ]; then
  echo "$failed of ${#tests[@]} glibc malloc tests failed on tinyalloc"
  exit 1
fi
echo "all ${#tests[@]} glibc malloc tests pass on tinyalloc"
