#!/usr/bin/env bash
# Fuzzes tinyalloc for a bounded time, as CI does: builds the fuzz targets of
# //fuzz with libFuzzer (ASan + UBSan, --config=libfuzzer) and runs each one
# from its seed and crash corpus (fuzz/testdata/<target>/, copied to a
# temporary work directory: nothing is written into the repository), then
# runs AFL++ sessions (--config=afl), one after the other. Prints one line per
# run and a final "summary:" line; exits non-zero on any crash, leak,
# timeout or sanitizer report, keeping the work directory with the inputs
# that failed (see fuzz/README.md for turning one into a regression test).
#
#   bash tools/fuzz.sh                              # 60 s per target, AFL++ 60 s on heap_fuzz
#   bash tools/fuzz.sh --seconds 20 --afl-seconds 10 \
#     --afl-target heap_fuzz --afl-target malloc_fuzz --afl-target thread_fuzz  # what CI runs
#   bash tools/fuzz.sh --target heap_fuzz --seconds 600 --afl-seconds 0
#
# Options (or environment): --seconds N (FUZZ_SECONDS) per libFuzzer target;
# --afl-seconds N (FUZZ_AFL_SECONDS), 0 skips AFL++; --target NAME, repeatable
# (libFuzzer runs only those; AFL++ fuzzes the first); --afl-target NAME,
# repeatable (AFL++ fuzzes those, each for --afl-seconds);
# --keep keeps the work directory even when everything passed.
# FUZZ_MAX_LEN (4096), FUZZ_RSS_LIMIT_MB (4096), FUZZ_TIMEOUT (60 s per input).
set -u
cd "$(dirname "$0")/.."
root=$(pwd)

all_targets=(heap_fuzz multi_heap_fuzz fault_fuzz layout_fuzz malloc_fuzz thread_fuzz)
seconds=${FUZZ_SECONDS:-60}
afl_seconds=${FUZZ_AFL_SECONDS:-60}
max_len=${FUZZ_MAX_LEN:-4096}
rss_limit_mb=${FUZZ_RSS_LIMIT_MB:-4096}
timeout_s=${FUZZ_TIMEOUT:-60}
targets=()
afl_targets=()
keep=0

usage() { sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "fuzz: $*" >&2; exit 2; }
is_number() { [[ $1 =~ ^[0-9]+$ ]]; }

while [ $# -gt 0 ]; do
  case $1 in
    --seconds) [ $# -ge 2 ] && is_number "$2" || die "--seconds needs a number"; seconds=$2; shift 2 ;;
    --afl-seconds) [ $# -ge 2 ] && is_number "$2" || die "--afl-seconds needs a number"; afl_seconds=$2; shift 2 ;;
    --target) [ $# -ge 2 ] || die "--target needs a name"; targets+=("$2"); shift 2 ;;
    --afl-target) [ $# -ge 2 ] || die "--afl-target needs a name"; afl_targets+=("$2"); shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
[ ${#afl_targets[@]} -gt 0 ] || afl_targets=("${targets[0]}")
for t in "${targets[@]}" "${afl_targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] || die "unknown target $t (targets: ${all_targets[*]})"
done
is_number "$seconds" && is_number "$max_len" && is_number "$rss_limit_mb" && is_number "$timeout_s" ||
  die "FUZZ_SECONDS, FUZZ_MAX_LEN, FUZZ_RSS_LIMIT_MB and FUZZ_TIMEOUT must be numbers"

work=$(mktemp -d "${TMPDIR:-/tmp}/tinyalloc-fuzz.XXXXXX")
bazel_flags=(--color=no --curses=no)
failed=0
total_execs=0
summary=()

# Builds targets with a config and copies them into dest (the next build,
# with another config, overwrites them).
build() {
  local config=$1 dest=$2; shift 2
  local log="$work/build-$config.log"
  echo "fuzz: building $* with --config=$config (log: $log)"
  # -c opt: libFuzzer runs up to 3 times faster than at -O0, and the opt output
  # tree leaves the default (fastbuild) one alone.
  if ! bazel build "${bazel_flags[@]}" -c opt --config="$config" "$@" >"$log" 2>&1 </dev/null; then
    grep -E "ERROR|error:" "$log" | head -20 | sed 's/^/    /'
    tail -20 "$log" | sed 's/^/    /'
    echo "fuzz: FAIL: bazel build --config=$config failed"
    return 1
  fi
  local bin
  bin=$(bazel info "${bazel_flags[@]}" -c opt --config="$config" bazel-bin 2>>"$log" </dev/null) || return 1
  mkdir -p "$dest"
  local target
  for target in "$@"; do
    cp "$bin/fuzz/${target#//fuzz:}" "$dest/" || return 1
  done
}

# The value of libFuzzer's "stat::NAME:" line in a log, or "?".
stat_of() { sed -n "s/^stat::$2: *//p" "$1" | tail -1 | grep . || echo "?"; }

# The value of NAME in AFL++'s fuzzer_stats file.
afl_stat() { sed -n "s/^$2 *: *//p" "$1" | head -1; }

run_libfuzzer() {
  local t=$1
  local dir="$work/libfuzzer/$t"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp -r "$root/fuzz/testdata/$t/." "$dir/corpus/"
  local dict=()
  [ -f "$root/fuzz/$t.dict" ] && dict=(-dict="$root/fuzz/$t.dict")
  local log="$dir/log.txt"
  local start=$SECONDS
  # Crash, leak, timeout or sanitizer report: libFuzzer stops with non-zero
  # status and writes the input under artifacts/.
  (cd "$dir" && ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
    timeout --kill-after=30 $((seconds + timeout_s + 300)) \
    "$work/bin/$t" -max_total_time="$seconds" -rss_limit_mb="$rss_limit_mb" -max_len="$max_len" \
    -timeout="$timeout_s" -print_final_stats=1 -artifact_prefix="$dir/artifacts/" \
    "${dict[@]}" corpus) >"$log" 2>&1 </dev/null
  local rc=$?
  local execs rate cov ft crashes last
  execs=$(stat_of "$log" number_of_executed_units)
  rate=$(stat_of "$log" average_exec_per_sec)
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1)
  cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
  crashes=$(find "$dir/artifacts" -type f | wc -l)
  [ $rc != 0 ] && [ "$crashes" = 0 ] && crashes=1
  echo "fuzz: $t: $execs execs, $rate exec/s, cov ${cov:-?}, ft ${ft:-?}, $crashes crashes" \
    "in $((SECONDS - start)) s"
  is_number "$execs" && total_execs=$((total_execs + execs))
  if [ $rc != 0 ] || [ "$crashes" != 0 ]; then
    failed=$((failed + 1))
    echo "fuzz: FAIL: $t exited with status $rc; report (from $log):"
    grep -E -A30 'fuzz check failed|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer|UndefinedBehaviorSanitizer)|runtime error:|==ERROR' "$log" |
      head -60 | sed 's/^/    /'
    find "$dir/artifacts" -type f | sed 's/^/    failing input: /'
    summary+=("$t FAILED")
  else
    summary+=("$t $execs execs")
  fi
}

run_afl() {
  local t=$1
  local dir="$work/afl/$t"
  mkdir -p "$dir/in"
  # Seeds only: AFL++ refuses to start from inputs that crash, and crash-*
  # inputs were just replayed by libFuzzer anyway.
  find "$root/fuzz/testdata/$t" -maxdepth 1 -type f ! -name 'crash-*' -exec cp {} "$dir/in/" \;
  local dict=()
  [ -f "$root/fuzz/$t.dict" ] && dict=(-x "$root/fuzz/$t.dict")
  local log="$dir/log.txt"
  # afl-fuzz sets the sanitizer options it needs (abort_on_error, symbolize=0).
  (cd "$dir" && env -u ASAN_OPTIONS -u UBSAN_OPTIONS AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 \
    AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 AFL_FAST_CAL=1 \
    timeout --kill-after=30 $((afl_seconds + 300)) \
    afl-fuzz -V "$afl_seconds" -t $((timeout_s * 1000))+ "${dict[@]}" -i in -o out -- "$work/afl-bin/$t") \
    >"$log" 2>&1 </dev/null
  local rc=$?
  local stats="$dir/out/default/fuzzer_stats"
  if [ ! -f "$stats" ]; then
    failed=$((failed + 1))
    echo "afl: FAIL: $t: afl-fuzz exited with status $rc and wrote no statistics; last lines of $log:"
    tail -30 "$log" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/^/    /'
    summary+=("AFL++ $t FAILED")
    return
  fi
  local execs rate cvg edges crashes
  execs=$(afl_stat "$stats" execs_done)
  rate=$(afl_stat "$stats" execs_per_sec)
  cvg=$(afl_stat "$stats" bitmap_cvg)
  edges=$(afl_stat "$stats" edges_found)
  crashes=$(afl_stat "$stats" saved_crashes)
  [ -n "$crashes" ] || crashes=$(afl_stat "$stats" unique_crashes)
  echo "afl: $t: $execs execs, $rate exec/s, bitmap_cvg $cvg, edges $edges, ${crashes:-?} crashes"
  if [ $rc != 0 ] || [ "${crashes:-1}" != 0 ]; then
    failed=$((failed + 1))
    echo "afl: FAIL: $t: afl-fuzz exited with status $rc, ${crashes:-?} crashes saved"
    find "$dir/out/default/crashes" -type f -name 'id:*' 2>/dev/null | head -10 |
      sed 's/^/    failing input: /'
    summary+=("AFL++ $t FAILED")
  else
    summary+=("AFL++ $t $execs execs")
  fi
}

echo "fuzz: work directory $work"
if build libfuzzer "$work/bin" $(printf '//fuzz:%s ' "${targets[@]}"); then
  for t in "${targets[@]}"; do run_libfuzzer "$t"; done
else
  failed=$((failed + 1))
  summary+=("libFuzzer build FAILED")
fi

if [ "$afl_seconds" -gt 0 ]; then
  if build afl "$work/afl-bin" $(printf '//fuzz:%s ' "${afl_targets[@]}"); then
    for t in "${afl_targets[@]}"; do run_afl "$t"; done
  else
    failed=$((failed + 1))
    summary+=("AFL++ build FAILED")
  fi
fi

joined=$(printf '%s, ' "${summary[@]}")
echo "summary: fuzz: ${joined%, }; $failed failed"
if [ $failed = 0 ] && [ $keep = 0 ]; then
  rm -rf "$work"
else
  echo "fuzz: kept $work"
fi
[ $failed = 0 ]
