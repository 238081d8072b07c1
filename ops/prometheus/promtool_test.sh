#!/usr/bin/env bash
# The Prometheus config and alert rules are valid for the installed Prometheus.
set -euo pipefail
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
src=ops/prometheus
cp "$src/prometheus.yml" "$dir/prometheus.yml"
cp "$src/alerts.yml" "$dir/alerts.yml"
promtool check config "$dir/prometheus.yml"
promtool check rules "$dir/alerts.yml"
