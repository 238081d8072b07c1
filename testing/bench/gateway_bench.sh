#!/usr/bin/env bash
# Gateway throughput and added latency against nginx, in the same run:
#   upstream: nginx serving a small static 200 (1 worker, a process of its own)
#   A: wrk -> nginx (reverse proxy, keep-alive upstream) -> upstream, with one
#      worker and with one worker per CPU (Debian's default, worker_processes auto)
#   B: wrk -> api-gateway (route with a fixed upstream URL) -> upstream: the
#      default (asio, a loop per thread, one thread per CPU), asio with one
#      loop shared by its threads, asio on one thread, and the pistache engine
#   C: wrk -> upstream directly (the floor both are measured against)
#   D: the default gateway on a route that needs a token, wrk sending a valid
#      ES256 bearer token on every request (its keys published, like an
#      identity service's, by the upstream nginx), against nginx proxying the
#      same requests
# Run: bazel run -c opt //testing/bench:gateway_bench [-- SECONDS CONNECTIONS ROUNDS]
set -euo pipefail
secs=${1:-10}
conns=${2:-64}
rounds=${3:-3}
gateway=$(realpath "${RUNFILES_DIR:-$0.runfiles}/orderplatform/gateway/api-gateway" 2>/dev/null || realpath gateway/api-gateway)
bench_token=$(realpath "${RUNFILES_DIR:-$0.runfiles}/orderplatform/testing/bench/bench_token" 2>/dev/null || realpath testing/bench/bench_token)
for tool in nginx wrk; do command -v $tool >/dev/null || { echo "gateway_bench: $tool is missing: run ops/setup.sh" >&2; exit 1; }; done
dir=$(mktemp -d /tmp/gwbench.XXXX)
cleanup() {
  local pids="$(jobs -p) ${gwpid:-} ${gwspid:-} ${gw1pid:-} ${gwppid:-}"
  kill $pids 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 $pids 2>/dev/null || break; sleep 0.1; done
  kill -9 $pids 2>/dev/null || true
  for c in upstream proxy1 proxyn; do nginx -p "$dir" -c $c.conf -s stop 2>/dev/null; done
  rm -rf "$dir"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
threads=${GATEWAY_THREADS:-$(nproc)}
up=$(free_port); px=$(free_port); pxn=$(free_port); gw=$(free_port); gwp=$(free_port)
chmod 755 "$dir"
mkdir -p "$dir/logs" "$dir/www"
echo '{"ok":true}' > "$dir/www/ping"
token=$("$bench_token" "$dir/www" "http://127.0.0.1:$up")
# Three nginx processes: the upstream, and a proxy with 1 and with $threads
# workers. Each its own master, so the proxies' workers do only the proxying.
nginx_conf() {  # name workers server-block
  cat > "$dir/$1.conf" <<CONF
worker_processes $2;
pid $dir/$1.pid;
error_log $dir/logs/$1.log;
events { worker_connections 4096; }
http {
  access_log off;
  upstream backend { server 127.0.0.1:$up; keepalive 128; }
  $3
}
CONF
  nginx -p "$dir" -c "$1.conf"
}
proxy='location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }'
nginx_conf upstream 1 "server { listen 127.0.0.1:$up; location / { root $dir/www; default_type application/json; } }"
nginx_conf proxy1 1 "server { listen 127.0.0.1:$px; $proxy }"
nginx_conf proxyn "$threads" "server { listen 127.0.0.1:$pxn; $proxy }"
start_gateway() {  # port engine threads loop-per-thread -> pid
  cat > "$dir/gw-$1.yaml" <<CONF
server: {port: $1, host: 127.0.0.1, threads: $3, engine: $2, loop-per-thread: $4, access-log: false}
logging: {level: warn}
gateway:
  routes:
    - {id: bench, path: /ping, uri: http://127.0.0.1:$up, retry: false}
    - {id: bench-auth, path: /auth-ping, uri: http://127.0.0.1:$up, rewrite: {from: /auth-ping, to: /ping}, retry: false}
  # the plain path: public, as the catalog's reads are (the rules are still
  # checked); the other needs a valid token
  access:
    - {path: /ping, access: public}
    - {path: /auth-ping, access: authenticated}
discovery:  # where the keys are: the upstream nginx serves them
  static:
    identity-service: [http://127.0.0.1:$up]
CONF
  # In a session of its own, as nginx puts itself when it daemonizes: with the
  # kernel's autogroup scheduling (sched_autogroup_enabled, Debian's default)
  # CPU is shared fairly between sessions, so a gateway in this script's
  # session would share one share with wrk while nginx had one of its own.
  setsid "$gateway" --config "$dir/gw-$1.yaml" > "$dir/gw-$1.log" 2>&1 &
  local pid=$!
  for i in $(seq 1 100); do curl -sf "http://127.0.0.1:$1/ping" >/dev/null && break; sleep 0.1; done
  echo $pid
}
# The gateway's default (asio, a loop per thread, one thread per CPU), then
# the same engine with one loop shared by the threads, with one thread
# (against nginx with one worker), and the Pistache engine.
gw1=$(free_port); gw2=$(free_port)
gwpid=$(start_gateway "$gw" asio "$threads" false)
gwspid=$(start_gateway "$gw1" asio "$threads" true)
gw1pid=$(start_gateway "$gw2" asio 1 true)
gwppid=$(start_gateway "$gwp" pistache "$threads" false)
run() {  # name url [header] -> "rps p99ms"
  if [ -n "${3:-}" ]; then wrk -t2 -c"$conns" -d"${secs}s" --latency -H "$3" "$2" > "$dir/$1.txt"
  else wrk -t2 -c"$conns" -d"${secs}s" --latency "$2" > "$dir/$1.txt"; fi
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$dir/$1.txt")
  p99=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub("us","",v); v/=1000} else if (v ~ /ms$/) {sub("ms","",v)} else if (v ~ /s$/) {sub("s","",v); v*=1000}; print v}' "$dir/$1.txt")
  echo "$rps $p99"
}
# Rounds: every path once per round, in the same order, so a change in the
# host's speed during the run (it swings 10-35 % here) moves a round's
# gateway and nginx alike; each ratio is the median of the per-round ratios.
urls=(direct "http://127.0.0.1:$up/ping" nginx "http://127.0.0.1:$px/ping" nginx-n "http://127.0.0.1:$pxn/ping"
      gateway "http://127.0.0.1:$gw/ping" gateway-loops "http://127.0.0.1:$gw1/ping"
      gateway-one "http://127.0.0.1:$gw2/ping" gateway-pistache "http://127.0.0.1:$gwp/ping"
      nginx-n-auth "http://127.0.0.1:$pxn/ping" gateway-auth "http://127.0.0.1:$gw1/auth-ping")
# the authenticated path answers 200 before it is measured, or the run stops
curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$gw1/auth-ping" >/dev/null ||
  { echo "gateway_bench: the gateway refused the bench token:" >&2; curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$gw1/auth-ping" >&2; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$gw1/auth-ping")" = 401 ] ||
  { echo "gateway_bench: /auth-ping answered without a token" >&2; exit 1; }
for r in $(seq 1 "$rounds"); do
  for ((i = 0; i < ${#urls[@]}; i += 2)); do
    header=""
    case "${urls[i]}" in *-auth) header="Authorization: Bearer $token" ;; esac
    echo "$r ${urls[i]} $(run "${urls[i]}-$r" "${urls[i+1]}" "$header")" >> "$dir/results.txt"
  done
done
rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$gwspid/status)
errors=$(grep -h "Non-2xx\|Socket errors" "$dir"/*.txt || true)
echo
echo "wrk -t2 -c$conns -d${secs}s per path and round, $rounds rounds, same machine, same run"
# "/ nginx": against nginx with as many workers as the row has threads.
python3 - "$dir/results.txt" "$threads" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r, name, rps, p99 = line.split()
    rows.setdefault(name, {})[int(r)] = (float(rps), float(p99))
threads = sys.argv[2]
def med(xs): return statistics.median(xs)
print("%-44s %12s %10s %8s %14s" % ("path", "requests/s", "p99 ms", "/ nginx", "p99 added ms"))
print("%-44s %12s %10s %8s %14s" % ("", "(median)", "(median)", "(median)", "(median)"))
for name, label, base in [("direct", "direct (upstream)", "nginx"), ("nginx", "nginx proxy (1 worker)", "nginx"),
                          ("nginx-n", "nginx proxy (%s workers)" % threads, "nginx-n"),
                          ("gateway", "gateway asio, shared loop (%s)" % threads, "nginx-n"),
                          ("gateway-loops", "gateway asio, loop per thread (%s), default" % threads, "nginx-n"),
                          ("gateway-one", "gateway asio, 1 thread", "nginx"),
                          ("gateway-pistache", "gateway pistache (%s)" % threads, "nginx-n"),
                          ("nginx-n-auth", "nginx proxy (%s), bearer header passed" % threads, "nginx-n-auth"),
                          ("gateway-auth", "gateway default, bearer token verified (%s)" % threads, "nginx-n-auth")]:
    it = rows[name]
    ratios = [it[r][0] / rows[base][r][0] for r in it]
    added = [it[r][1] - rows["direct"][r][1] for r in it]
    print("%-44s %12.0f %10.2f %8.2f %14.2f" % (label, med([v[0] for v in it.values()]), med([v[1] for v in it.values()]),
                                               med(ratios), med(added)))
    if name.startswith("gateway"):
        print("%-44s %s" % ("", "per round / nginx: " + " ".join("%.2f" % x for x in ratios)))
PY
echo "gateway RSS after the run: $((rss_kb / 1024)) MiB (default configuration)"
[ -n "$errors" ] && echo "$errors"
exit 0
