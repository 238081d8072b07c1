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
exit "$rc"
