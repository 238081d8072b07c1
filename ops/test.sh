#!/usr/bin/env bash
# Installs everything (ops/setup.sh) and runs every test with Bazel.
# This is the README's test command; .ci/run runs exactly this.
set -uo pipefail
cd "$(dirname "$0")/.."

bash ops/setup.sh || { echo "ops/test.sh: setup failed" >&2; exit 1; }

log=$(mktemp)
# 2 cores: tests that start servers (MariaDB, the dev broker, services) are
# heavy; local_test_jobs keeps them from starving each other.
bazel test //... --local_test_jobs=2 "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

passed=$(grep -cE '^//[^ ]+ +(\(cached\) )?PASSED' "$log")
failed=$(grep -cE '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|FLAKY|NO STATUS|INCOMPLETE|FAILED TO BUILD)' "$log")
rm -f "$log"
echo "${passed} passed, ${failed} failed"

# Every fuzz harness for a bounded time, so a change that opens a new crash
# shows here (docs/operations.md, "Fuzzing"). FUZZ_SECONDS=0 skips it.
fuzz_rc=0
if [ "${FUZZ_SECONDS:-30}" != 0 ]; then
  # from the seeds, in a folder of this run's own (a long local campaign keeps ~/.cache's)
  fuzz_work=$(mktemp -d)
  FUZZ_WORK=$fuzz_work bash ops/fuzz.sh "${FUZZ_SECONDS:-30}"
  fuzz_rc=$?
  [ "$fuzz_rc" -eq 0 ] && rm -rf "$fuzz_work"
  [ "$fuzz_rc" -eq 0 ] && echo "fuzzing: no crash" || echo "fuzzing: a harness failed" >&2
fi
[ "$rc" -eq 0 ] && rc=$fuzz_rc
exit "$rc"
