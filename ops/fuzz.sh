#!/usr/bin/env bash
# Runs every libFuzzer harness (//testing/fuzz) for a bounded time each.
#
#   ops/fuzz.sh [SECONDS] [HARNESS...]     (default: 30 s each, every harness)
#
# Each harness keeps a working corpus under $FUZZ_WORK (default
# ~/.cache/orderplatform-fuzz/<harness>), seeded from testing/fuzz/corpus, so
# coverage grows from run to run; a run for hours is `ops/fuzz.sh 14400 NAME`.
# Prints executions, executions per second and coverage per harness, and the
# running total of executions kept in the working folder (FUZZ_JOBS=N runs N
# processes per harness on the same corpus: one per core). Exits 1 when a
# harness found a crash: the input is in $FUZZ_WORK/<harness>/artifacts; fix
# the bug and copy the input into testing/fuzz/corpus/<harness>/ so every
# `bazel test` replays it.
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-30}
shift || true
all=(http_request_fuzzer http_response_fuzzer url_fuzzer events_fuzzer eureka_fuzzer request_body_fuzzer jwt_fuzzer config_fuzzer)
harnesses=("${@:-${all[@]}}")
work=${FUZZ_WORK:-$HOME/.cache/orderplatform-fuzz}

# The binaries are copied out of bazel-bin first: a build during a long run
# cannot swap them underneath it. FUZZ_NO_BUILD=1 runs the last copies.
bin=$work/bin
if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
  bazel build --config=fuzz //testing/fuzz:all || { echo "ops/fuzz.sh: build failed" >&2; exit 1; }
  mkdir -p "$bin"
  out=$(bazel info --config=fuzz bazel-bin 2>/dev/null)/testing/fuzz
  for h in "${all[@]}"; do cp -f "$out/$h" "$bin/$h.new" && mv -f "$bin/$h.new" "$bin/$h"; done
fi

crashed=0
printf '%-22s %12s %10s %8s %8s %14s\n' harness executions exec/s cov features total-executions
for h in "${harnesses[@]}"; do
  dir=$work/$h
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp -n testing/fuzz/corpus/"$h"/* "$dir/corpus/" 2>/dev/null
  # FUZZ_JOBS processes (default 1) share the corpus folder; each has its own log.
  jobs=${FUZZ_JOBS:-1}
  pids=()
  for j in $(seq 1 "$jobs"); do
    "$bin/$h" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$dir/artifacts/" "$dir/corpus" >"$dir/last.$j.log" 2>&1 &
    pids+=($!)
  done
  rc=0
  for pid in "${pids[@]}"; do wait "$pid" || rc=$?; done
  log=$dir/last.1.log
  runs=0 speed=0
  for j in $(seq 1 "$jobs"); do
    runs=$(( runs + $(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/last.$j.log" | tail -1 | grep . || echo 0) ))
    speed=$(( speed + $(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/last.$j.log" | tail -1 | grep . || echo 0) ))
  done
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  total=$(( $(cat "$dir/total" 2>/dev/null || echo 0) + runs ))
  echo "$total" >"$dir/total"
  printf '%-22s %12s %10s %8s %8s %14s\n' "$h" "$runs" "$speed" "${cov:-?}" "${ft:-?}" "$total"
  if [ "$rc" -ne 0 ]; then
    crashed=1
    echo "ops/fuzz.sh: $h failed (exit $rc); input in $dir/artifacts, log $log:" >&2
    grep -E 'ERROR|runtime error|SUMMARY|Test unit written' "$log" | head -5 >&2
  fi
done
exit "$crashed"
