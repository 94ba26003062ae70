#!/bin/bash
# Real programs under LD_PRELOAD=libtinyalloc.so: each must exit as it does
# on glibc's malloc, with the same output; TINYALLOC_SHOW_STATS=1 must show
# that tinyalloc served it.
set -u
lib="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
churn_py="$2"
work="${TEST_TMPDIR:-$(mktemp -d)}"
failures=0

# run NAME STATS COMMAND...: compares exit status and output with and
# without the preload; STATS=stats also requires the statistics at exit
# (coreutils close stderr in their own exit handler, before it is printed:
# for them, "quiet").
run() {
  local name=$1 stats=$2
  shift 2
  "$@" >"$work/$name.glibc" 2>&1
  local want=$?
  LD_PRELOAD="$lib" TINYALLOC_SHOW_STATS=1 "$@" >"$work/$name.tinyalloc" 2>"$work/$name.stats"
  local got=$?
  if [ "$got" != "$want" ]; then
    echo "FAIL $name: exit status $got under tinyalloc, $want on glibc"
    cat "$work/$name.stats"
    failures=$((failures + 1))
  elif ! cmp -s <(grep -v '^tinyalloc: ' "$work/$name.glibc") "$work/$name.tinyalloc"; then
    echo "FAIL $name: output differs from glibc's"
    diff "$work/$name.glibc" "$work/$name.tinyalloc" | head -20
    failures=$((failures + 1))
  elif [ "$stats" = stats ] && ! grep -Eq '^tinyalloc: reserved [1-9]' "$work/$name.stats"; then
    echo "FAIL $name: no sign that tinyalloc served it:"
    cat "$work/$name.stats"
    failures=$((failures + 1))
  else
    echo "ok   $name ($(wc -l <"$work/$name.tinyalloc") lines of output)"
  fi
}

seq 1 200000 | shuf --random-source=<(yes) >"$work/numbers"
run python_churn stats env PYTHONMALLOC=malloc python3 "$churn_py"
run python_json stats env PYTHONMALLOC=malloc python3 -c \
  'import json; d={str(i): list(range(i % 50)) for i in range(20000)}; s=json.dumps(d, sort_keys=True); print(len(s), sum(map(len, json.loads(s).values())))'
run sort_numbers quiet sort -n "$work/numbers"
run perl_hash stats perl -e 'my %h; $h{$_ * 7919 % 100003} = "x" x ($_ % 40) for 1..200000; my $n = 0; $n += length $h{$_} for sort { $a <=> $b } keys %h; print "$n\n"'
run ls_long quiet ls -l /usr/bin

if [ "$failures" != 0 ]; then
  echo "$failures program(s) failed under LD_PRELOAD=$lib"
  exit 1
fi
echo "every program ran under tinyalloc as on glibc"
