#!/usr/bin/env bash
# tinyalloc's whole test suite, as CI runs it: installs what is missing
# (tools/setup.sh), then runs each step, printing one PASS/FAIL line per step
# and a final "N passed, M failed" line. Exit status 0 only if every step passed.
#
#   bash tools/test.sh            # everything
#   bash tools/test.sh --quick    # only the default gcc test suite
set -u
cd "$(dirname "$0")/.."
root=$(pwd)

quick=0
[ "${1:-}" = "--quick" ] && quick=1

bash tools/setup.sh || { echo "FAIL: setup"; echo "0 passed, 1 failed"; exit 1; }

logs=$(mktemp -d "${TMPDIR:-/tmp}/tinyalloc-test.XXXXXX")
bazel_flags=(--color=no --curses=no)
passed=0
failed=0

# Number of GoogleTest cases recorded in the current config's test logs.
gtest_cases() {
  find -L "$root/bazel-testlogs/" -name test.xml -print0 2>/dev/null |
    xargs -0 -r grep -ho '<testcase ' | wc -l
}

# step NAME COMMAND...: runs COMMAND with its output in a log, prints the result.
step() {
  local name=$1; shift
  local log="$logs/$(echo "$name" | tr -c 'a-zA-Z0-9' _).log"
  local start=$SECONDS
  if "$@" >"$log" 2>&1; then
    passed=$((passed + 1))
    echo "PASS: $name ($((SECONDS - start)) s)$(summary "$log")"
  else
    failed=$((failed + 1))
    echo "FAIL: $name ($((SECONDS - start)) s), last lines of $log:"
    tail -40 "$log" | sed 's/^/    /'
  fi
}

# What a step's log says of tests run, for the PASS line.
summary() {
  local line
  line=$(grep -E '^Executed [0-9]+ out of [0-9]+ tests?' "$1" | tail -1)
  if [ -n "$line" ]; then
    echo " - ${line%.}; $(gtest_cases) test cases"
  else
    line=$(grep -E '^\[  PASSED  \] [0-9]+ tests?|^(consumer|summary|bench): ' "$1" | tail -1)
    [ -n "$line" ] && echo " - $line"
  fi
}

bazel_test() { bazel test "${bazel_flags[@]}" "$@" //...; }

step "bazel test //... (gcc)" bazel_test
if [ $quick = 0 ]; then
  step "bazel test //... --config=asan (clang)" bazel_test --config=asan
  step "bazel test //... --config=ubsan (clang)" bazel_test --config=ubsan
  step "bazel test //... --config=tsan (clang)" bazel_test --config=tsan
  step "Windows tests under Wine (mingw-w64 cross build)" bash tools/windows_test.sh
  step "Windows test diagnostics: a hang and a crash name their test" \
    bash tools/windows_test.sh --self-check
  step "consumer example (a separate workspace using @tinyalloc)" \
    bash -c 'cd examples/consumer && bazel run --color=no --curses=no //:app && bazel shutdown'
  step "fuzzing (libFuzzer 20 s per target, AFL++ 10 s on three, ASan+UBSan)" \
    bash tools/fuzz.sh --seconds 20 --afl-seconds 10 \
    --afl-target heap_fuzz --afl-target malloc_fuzz --afl-target thread_fuzz
  step "benchmark smoke run (tools/bench_report --smoke)" python3 tools/bench_report --smoke
  step "real-program benchmark smoke run (tools/bench_report --programs --smoke)" \
    python3 tools/bench_report --programs --smoke
  step "Windows benchmark smoke run under Wine (tools/bench_report --windows --smoke)" \
    python3 tools/bench_report --windows --smoke
fi

echo "logs: $logs"
echo "$passed passed, $failed failed"
[ $failed = 0 ]
