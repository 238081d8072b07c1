#!/usr/bin/env bash
# Gateway throughput and added latency against nginx, in the same run:
#   upstream: nginx serving a small static 200 (1 worker)
#   A: wrk -> nginx (reverse proxy, keep-alive upstream) -> upstream
#   B: wrk -> api-gateway (route with a fixed upstream URL) -> upstream, once on
#      each server engine (asio, the gateway's default, and pistache)
#   C: wrk -> upstream directly (the floor both are measured against)
# Run: bazel run -c opt //testing/bench:gateway_bench [-- SECONDS CONNECTIONS]
set -euo pipefail
secs=${1:-10}
conns=${2:-64}
gateway=$(realpath "${RUNFILES_DIR:-$0.runfiles}/orderplatform/gateway/api-gateway" 2>/dev/null || realpath gateway/api-gateway)
for tool in nginx wrk; do command -v $tool >/dev/null || { echo "gateway_bench: $tool is missing: run ops/setup.sh" >&2; exit 1; }; done
dir=$(mktemp -d /tmp/gwbench.XXXX)
cleanup() {
  local pids="$(jobs -p) ${gwpid:-} ${gwppid:-}"
  kill $pids 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 $pids 2>/dev/null || break; sleep 0.1; done
  kill -9 $pids 2>/dev/null || true
  nginx -p "$dir" -c nginx.conf -s stop 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
threads=${GATEWAY_THREADS:-$(nproc)}
up=$(free_port); px=$(free_port); gw=$(free_port); gwp=$(free_port)
chmod 755 "$dir"
mkdir -p "$dir/logs" "$dir/www"
echo '{"ok":true}' > "$dir/www/ping"
cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  upstream backend { server 127.0.0.1:$up; keepalive 128; }
  server { listen 127.0.0.1:$up; location / { root $dir/www; default_type application/json; } }
  server { listen 127.0.0.1:$px; location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; } }
}
CONF
nginx -p "$dir" -c nginx.conf
start_gateway() {  # engine port -> pid
  cat > "$dir/gw-$1.yaml" <<CONF
server: {port: $2, host: 127.0.0.1, threads: $threads, engine: $1, access-log: false}
logging: {level: warn}
gateway:
  routes:
    - {id: bench, path: /ping, uri: http://127.0.0.1:$up, retry: false}
CONF
  "$gateway" --config "$dir/gw-$1.yaml" > "$dir/gw-$1.log" 2>&1 &
  local pid=$!
  for i in $(seq 1 100); do curl -sf "http://127.0.0.1:$2/ping" >/dev/null && break; sleep 0.1; done
  echo $pid
}
gwpid=$(start_gateway asio "$gw")
gwppid=$(start_gateway pistache "$gwp")
run() {  # name url -> "rps p99ms"
  wrk -t2 -c"$conns" -d"${secs}s" --latency "$2" > "$dir/$1.txt"
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$dir/$1.txt")
  p99=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub("us","",v); v/=1000} else if (v ~ /ms$/) {sub("ms","",v)} else if (v ~ /s$/) {sub("s","",v); v*=1000}; print v}' "$dir/$1.txt")
  echo "$rps $p99"
}
read -r d_rps d_p99 < <(run direct "http://127.0.0.1:$up/ping")
read -r n_rps n_p99 < <(run nginx "http://127.0.0.1:$px/ping")
read -r g_rps g_p99 < <(run gateway "http://127.0.0.1:$gw/ping")
read -r p_rps p_p99 < <(run gateway-pistache "http://127.0.0.1:$gwp/ping")
rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$gwpid/status)
errors=$(grep -h "Non-2xx\|Socket errors" "$dir"/*.txt || true)
echo
echo "wrk -t2 -c$conns -d${secs}s, same machine, same run"
printf "%-22s %12s %10s\n" "path" "requests/s" "p99 ms"
printf "%-22s %12s %10s\n" "direct (upstream)" "$d_rps" "$d_p99"
printf "%-22s %12s %10s\n" "nginx proxy" "$n_rps" "$n_p99"
printf "%-22s %12s %10s\n" "api-gateway (asio)" "$g_rps" "$g_p99"
printf "%-22s %12s %10s\n" "api-gateway (pistache)" "$p_rps" "$p_p99"
awk -v g="$g_rps" -v p="$p_rps" -v n="$n_rps" -v gp="$g_p99" -v pp="$p_p99" -v np="$n_p99" -v dp="$d_p99" 'BEGIN {
  printf "gateway / nginx throughput: asio %.2f, pistache %.2f\n", g / n, p / n;
  printf "p99 added over direct: gateway asio %.2f ms, pistache %.2f ms, nginx %.2f ms\n", gp - dp, pp - dp, np - dp }'
echo "gateway RSS after the run: $((rss_kb / 1024)) MiB (asio, $threads threads)"
[ -n "$errors" ] && echo "$errors"
exit 0
