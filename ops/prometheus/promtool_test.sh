#!/usr/bin/env bash
# The Prometheus config and alert rules are valid for the installed
# Prometheus, and every rule has a unit test that makes it fire and one that
# keeps it quiet (alerts_test.yml).
set -euo pipefail
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
src=ops/prometheus
cp "$src/prometheus.yml" "$src/alerts.yml" "$src/alerts_test.yml" "$dir/"
promtool check config "$dir/prometheus.yml"
promtool check rules "$dir/alerts.yml"
(cd "$dir" && promtool test rules alerts_test.yml)
missing=0
for rule in $(sed -n 's/^ *- alert: *\([A-Za-z0-9_]*\).*/\1/p' "$src/alerts.yml"); do
  fires=$(grep -c "alertname: $rule\$" "$src/alerts_test.yml" || true)
  quiet=$(grep -c "alertname: $rule, exp_alerts: \[\]" "$src/alerts_test.yml" || true)
  if [ "$fires" -lt 1 ] || [ "$quiet" -lt 1 ]; then
    echo "alert $rule needs a firing case and a quiet case in alerts_test.yml (has $fires and $quiet)" >&2
    missing=1
  fi
done
exit $missing
