#!/usr/bin/env bash
# Runs the test that hangs on purpose under a 1-second time limit and checks
# that test_main.cc ended it with status 124, naming the test and the limit.
set -u
program="$1"
out="${TEST_TMPDIR:-/tmp}/self_check.out"
TA_TEST_TIME_LIMIT=1 "$program" --gtest_filter=TestMainSelfCheck.HangsOnPurpose >"$out" 2>&1
status=$?
cat "$out"
if [ "$status" -ne 124 ]; then
  echo "self-check: exit status $status, expected 124" >&2
  exit 1
fi
if ! grep -q 'time limit of 1 s reached while running TestMainSelfCheck.HangsOnPurpose' "$out"; then
  echo "self-check: the time-limit message does not name the test and the limit" >&2
  exit 1
fi
echo "self-check: the watchdog named the running test and the limit"
