#!/bin/bash
# Real programs under LD_PRELOAD=libtinyalloc.so: each must exit as it does
# on glibc's malloc, with the same output; TINYALLOC_SHOW_STATS=1 must show
# that tinyalloc served it.
set -u
lib="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
churn_py="$2"
sqlite_sql="$(cd "$(dirname "$3")" && pwd)/$(basename "$3")"
new_failure="$(cd "$(dirname "$4")" && pwd)/$(basename "$4")"
work="${TEST_TMPDIR:-$(mktemp -d)}"
failures=0

# run NAME STATS COMMAND...: compares exit status and output with and
# without the preload; STATS=stats also asks for the statistics at exit and
# requires them. "quiet" for coreutils (which close stderr in their own exit
# handler, before the report) and for Python's test suite (whose tests check
# that child interpreters print nothing on stderr).
run() {
  local name=$1 stats=$2
  shift 2
  "$@" >"$work/$name.glibc" 2>&1
  local want=$?
  if [ "$want" != 0 ]; then
    echo "FAIL $name: exits $want even on glibc:"
    head -5 "$work/$name.glibc"
    failures=$((failures + 1))
    return
  fi
  local show=0
  [ "$stats" = stats ] && show=1
  LD_PRELOAD="$lib" TINYALLOC_SHOW_STATS=$show "$@" >"$work/$name.tinyalloc" 2>"$work/$name.stats"
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
# operator new out of memory: new-handler calls, std::bad_alloc, nullptr from
# nothrow new (the library's new is C, bound to the program's C++ runtime).
run new_failure stats "$new_failure"

# Part of Python's own test suite (libpython3.11-testsuite), every object
# from malloc: the summary lines must match (the per-test timings do not).
python_testsuite() {
  # In the work directory: the runner writes its scratch files in the current one.
  (cd "$work" && PYTHONMALLOC=malloc python3 -m test test_json test_dict test_list test_set \
     test_unicode test_re test_collections >"$work/python_testsuite.log" 2>&1)
  local status=$?
  # The summary, in either of the runner's formats; none at all is a failure.
  grep -E '^(All [0-9]+ tests OK\.|Tests result:|Total tests:|Total test files:|Result:)' \
    "$work/python_testsuite.log" || return 1
  return $status
}
run python_testsuite quiet python_testsuite

# sqlite3 in memory: 300,000 inserts, an index, updates, deletes, a sort.
run sqlite3 stats sqlite3 :memory: ".read $sqlite_sql"

# git: a repository of 300 commits made with fixed dates (so the hashes are
# the same in both runs), cloned and logged.
git_repo() {
  local dir=$1
  rm -rf "$dir" && git init -q "$dir" &&
    (cd "$dir" && for i in $(seq 1 300); do
       echo "line $i" >>"file$((i % 7))"
       git add -A && GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"          git -c user.name=t -c user.email=t@t commit -qm "commit $i"
     done)
}
git_repo "$work/origin" >/dev/null
clone_and_log() {
  rm -rf "$work/clone" && git clone -q "$work/origin" "$work/clone" && git -C "$work/clone" log --stat | md5sum
}
run git_clone_log stats clone_and_log

# g++ -O2 on GoogleTest's amalgamated source: the object file must be the same.
gtest=/usr/src/googletest/googletest
compile_gtest() {
  g++ -O2 -c -I"$gtest/include" -I"$gtest" "$gtest/src/gtest-all.cc" -o "$work/gtest-all.o" &&
    md5sum <"$work/gtest-all.o"
}
run gcc_gtest_all stats compile_gtest

if [ "$failures" != 0 ]; then
  echo "$failures program(s) failed under LD_PRELOAD=$lib"
  exit 1
fi
echo "every program ran under tinyalloc as on glibc"
