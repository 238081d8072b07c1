#!/usr/bin/env bash
# The Prometheus config and alert rules are valid for the installed Prometheus.
set -euo pipefail
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
src=ops/prometheus
sed -e 's#REGISTRY_URL#http://127.0.0.1:8761/eureka#' -e 's#REGISTRY_TARGET#127.0.0.1:8761#' "$src/prometheus.yml" > "$dir/prometheus.yml"
cp "$src/alerts.yml" "$dir/alerts.yml"
promtool check config "$dir/prometheus.yml"
promtool check rules "$dir/alerts.yml"
