#!/usr/bin/env bash
# Gateway benchmark, side by side in one run, all on loopback:
#   1. wrk → a trivial upstream (nginx answering 200 from memory), directly;
#   2. wrk → nginx as a plain reverse proxy → the upstream;
#   3. wrk → crow-server's gateway (API-key auth, rate limiting, organization resolution,
#      header hygiene) → the upstream, reached as a split service over HTTP;
#   4. for reference, wrk → nginx carrying the gateway's header contract without its work: the
#      same forwarded headers (internal key, organization, user, request id — nginx's has 32
#      hex digits to the gateway's 36-character UUID — and a bearer token of the gateway's JWT's
#      length) and the same security headers in answers. The target is
#      judged against the plain proxy (2); this path shows what the contract alone costs.
# The paths run in alternating rounds (ROUNDS, default 5): this shared machine's speed drifts by
# ±20 % within minutes, so one run of each compares moments, not proxies. Prints every round,
# then the medians of throughput and p99 per path, each proxy's added latency and the target,
# judged on the medians. Then both proxies
# again under valgrind (callgrind): user-space instructions per request, a figure this shared,
# noisy machine cannot blur (kernel time, the other half of the cost, is not counted).
# Target: the gateway adds no more p99 latency than nginx and sustains at least its throughput.
# Each run also prints the CPU every process of a path spent per request (the proxy's user-space
# part apart, wrk's from bash's `time`) and from it the budget: how much user-space CPU per
# request the gateway may spend for nginx's throughput, all else as measured.
# INSTRUCTIONS=0 skips the callgrind phase.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-6s}
ROUNDS=${ROUNDS:-5}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}

INSTRUCTIONS=${INSTRUCTIONS:-1}

if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null || ! command -v curl >/dev/null \
  || { [ "$INSTRUCTIONS" = 1 ] && ! command -v valgrind >/dev/null; }; then
  apt-get update -qq && apt-get install -y -qq nginx-light wrk curl valgrind bc
fi
cargo build --release -p crow-server -q

work=$(mktemp -d)
cleanup() {
  for pid in ${crow_pid:-} ${counted_pids:-}; do kill "$pid" 2>/dev/null || true; done
  for conf in upstream proxy contract; do
    [ -f "$work/$conf.pid" ] && kill "$(cat "$work/$conf.pid")" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

UPSTREAM=127.0.0.1:18901
PROXY=127.0.0.1:18902
GATEWAY=127.0.0.1:18903
CONTRACT=127.0.0.1:18906

nginx_conf() { # name, server block
  cat > "$work/$1.conf" <<CONF
worker_processes 1;
pid $work/$1.pid;
error_log $work/$1.error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  upstream backend { server $UPSTREAM; keepalive 64; }
  $2
}
CONF
  nginx -c "$work/$1.conf" -p "$work"
}
nginx_conf upstream "server { listen $UPSTREAM; location / { default_type application/json; return 200 '{\"ok\":true}'; } }"
nginx_conf proxy "server { listen $PROXY; location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
# A bearer token as long as the gateway's EdDSA JWT (header, claims, signature: 488 characters).
token=$(head -c 366 /dev/zero | base64 -w0 | tr -d '=' | head -c 488)
uuid=01a2080d-feb7-73cf-ba8f-ce71b355ac8c
nginx_conf contract "server { listen $CONTRACT; location / {
  proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection \"\";
  proxy_set_header x-request-id \$request_id; proxy_set_header x-internal-key $(printf '%064d' 0);
  proxy_set_header x-organization-id $uuid; proxy_set_header x-user-id $uuid;
  proxy_set_header authorization \"Bearer $token\";
  proxy_hide_header server; server_tokens off; add_header vary Origin always;
  add_header x-request-id \$request_id always;
  add_header strict-transport-security \"max-age=63072000; includeSubDomains\" always;
  add_header x-content-type-options nosniff always; add_header x-frame-options DENY always;
  add_header content-security-policy \"default-src 'none'; frame-ancestors 'none'\" always;
  add_header referrer-policy no-referrer always; } }"

# The gateway: auth, users and organizations in-process; the `patterns` service is the upstream.
start_gateway() { # listen address, data dir, command prefix (e.g. valgrind)…; sets gateway_pid
  local listen=$1 data=$2; shift 2
  CROW_LISTEN=$listen CROW_DATA_DIR="$data" CROW_LOG=error TOKIO_WORKER_THREADS=${GATEWAY_WORKERS:-1} \
  CROW_SERVICES=auth,users,organizations CROW_SERVICE_URLS="patterns=http://$UPSTREAM" \
  CROW_GATEWAY_RATE_PER_MINUTE=100000000 CROW_GATEWAY_RATE_BURST=10000000 \
    "$@" ./target/release/crow-server > "$data.log" 2>&1 &
  gateway_pid=$!
  for _ in $(seq 1 600); do curl -sf "http://$listen/ready" >/dev/null && break; sleep 0.1; done
}

# A customer with an organization and a secret API key, through the gateway at $1; sets key.
api_key() {
  local jar="$work/jar-$1"
  curl -sf -c "$jar" -H 'content-type: application/json' "http://$1/api/v1/auth/sign-up/email" \
    -d '{"name":"Bench","email":"bench@acme.io","password":"correct horse battery"}' >/dev/null
  curl -sf -b "$jar" -H 'content-type: application/json' -H 'origin: http://localhost:3000' \
    "http://$1/api/v1/auth/organization/create" -d '{"name":"Bench","slug":"bench"}' >/dev/null
  key=$(curl -sf -b "$jar" -H 'content-type: application/json' -H 'origin: http://localhost:3000' \
    "http://$1/api/v1/auth/api-key/create" -d '{"name":"bench"}' | sed -n 's/.*"key":"\(crow_sk_[0-9A-Za-z]*\)".*/\1/p')
  [ -n "$key" ] || { echo "could not create an API key"; cat "$work"/*.log; exit 1; }
  local code
  for _ in $(seq 1 50); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "x-api-key: $key" "http://$1/api/v1/patterns/x")
    [ "$code" = 200 ] && break; sleep 0.1
  done
  [ "$code" = 200 ] || { echo "gateway does not reach the upstream ($code)"; cat "$work"/*.log; exit 1; }
}

start_gateway "$GATEWAY" "$work/crow"
crow_pid=$gateway_pid
api_key "$GATEWAY"

cpu_ticks() { awk '{print $14, $15}' "/proc/$1/stat"; } # user, system: clock ticks
spent() { # two cpu_ticks readings [, user] → ticks between them: user + system, or user only
  echo "$1 $2" | awk -v part="${3:-all}" '{ print part == "user" ? $3 - $1 : $3 + $4 - $1 - $2 }'
}
per_request() { # CPU ticks spent during one run, requests per second → µs per request
  awk -v t="$1" -v hz="$(getconf CLK_TCK)" -v r="$2" -v d="${DURATION%s}" \
    'BEGIN { printf "%.1f", t / hz * 1e6 / (r * d) }'
}
run() { # label, url, pid of the process serving it, extra wrk args…
  local label=$1 url=$2 pid=$3; shift 3
  local before after up_before up_after wrk_cpu
  before=$(cpu_ticks "$pid")
  up_before=$(cpu_ticks "$upstream_worker")
  # wrk's own CPU time (user + system seconds), from bash's `time`.
  wrk_cpu=$( { TIMEFORMAT='%U %S'; time wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url" \
    > "$work/$label.txt"; } 2>&1 | awk '{ print $1 + $2 }')
  after=$(cpu_ticks "$pid")
  up_after=$(cpu_ticks "$upstream_worker")
  local rps p50 p99 cpu user up_cpu load_cpu
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/$label.txt")
  # CPU time the serving process spent per request (all its threads, kernel time included;
  # `user` its user-space part), the upstream's and wrk's: the machine's two cores serve all
  # three, so what a proxy makes the upstream do (parse the headers it adds, wake it) costs
  # throughput too.
  cpu=$(per_request "$(spent "$before" "$after")" "$rps")
  user=$(per_request "$(spent "$before" "$after" user)" "$rps")
  up_cpu=$(per_request "$(spent "$up_before" "$up_after")" "$rps")
  load_cpu=$(awk -v s="$wrk_cpu" -v r="$rps" -v d="${DURATION%s}" 'BEGIN { printf "%.1f", s * 1e6 / (r * d) }')
  p50=$(awk '$1=="50%" {print $2}' "$work/$label.txt")
  p99=$(awk '$1=="99%" {print $2}' "$work/$label.txt")
  errors=$(awk '/Non-2xx/ {print $5}' "$work/$label.txt")
  printf '%-14s %12s req/s   p50 %9s   p99 %9s   CPU us/request: %5s (user %s), upstream %s, wrk %s   non-2xx %s\n' \
    "$label" "$rps" "$p50" "$p99" "$cpu" "$user" "$up_cpu" "$load_cpu" "${errors:-0}"
  echo "$cpu $up_cpu $user $load_cpu" >> "$work/$label.cpu"
  echo "$rps $(to_us "$p99")" >> "$work/$label.sum"
}

to_us() { awk -v v="$1" 'BEGIN { n=v+0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n*1000; else if (v ~ /s$/) print n*1000000; else print n }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "gateway benchmark: $ROUNDS alternating rounds of wrk -t$THREADS -c$CONNECTIONS -d$DURATION on loopback ($(nproc) cores shared by all processes)"
upstream_worker=$(pgrep -P "$(cat "$work/upstream.pid")" | head -1)
proxy_worker=$(pgrep -P "$(cat "$work/proxy.pid")" | head -1)
contract_worker=$(pgrep -P "$(cat "$work/contract.pid")" | head -1)
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round:"
  run direct "http://$UPSTREAM/api/v1/patterns/x" "$upstream_worker"
  run nginx-proxy "http://$PROXY/api/v1/patterns/x" "$proxy_worker"
  run crow-gateway "http://$GATEWAY/api/v1/patterns/x" "$crow_pid" -H "x-api-key: $key"
  run nginx-contract "http://$CONTRACT/api/v1/patterns/x" "$contract_worker"
  # This round's share, so the spread between rounds is visible beside the medians.
  paste <(tail -1 "$work/crow-gateway.sum") <(tail -1 "$work/nginx-proxy.sum") \
    | awk '{ printf "  this round: the gateway at %.1f%% of nginx'"'"'s throughput\n", 100 * $1 / $3 }'
done

for label in direct nginx-proxy crow-gateway nginx-contract; do
  rps=$(awk '{print $1}' "$work/$label.sum" | median)
  p99=$(awk '{print $2}' "$work/$label.sum" | median)
  cpu=$(awk '{print $1}' "$work/$label.cpu" | median)
  up_cpu=$(awk '{print $2}' "$work/$label.cpu" | median)
  user=$(awk '{print $3}' "$work/$label.cpu" | median)
  load_cpu=$(awk '{print $4}' "$work/$label.cpu" | median)
  echo "$rps $p99" > "$work/$label.median"
  echo "$cpu $up_cpu $user $load_cpu" > "$work/$label.cpu.median"
  printf 'median %-14s %12.0f req/s   p99 %8.0f us   CPU us/request: %5.1f (user %.1f), upstream %.1f, wrk %.1f\n' \
    "$label" "$rps" "$p99" "$cpu" "$user" "$up_cpu" "$load_cpu"
done
read -r _ d < "$work/direct.median"
read -r n_rps n < "$work/nginx-proxy.median"
read -r g_rps g < "$work/crow-gateway.median"
read -r c_rps _ < "$work/nginx-contract.median"
echo "added p99 latency (medians): nginx $(awk -v a="$n" -v b="$d" 'BEGIN{printf "%.0f", a-b}') us, crow gateway $(awk -v a="$g" -v b="$d" 'BEGIN{printf "%.0f", a-b}') us"
awk -v g="$g_rps" -v n="$n_rps" -v gp="$g" -v np="$n" 'BEGIN {
  printf "target (medians): gateway p99 added <= nginx: %s; gateway throughput >= nginx: %s (%.1f%% of nginx)\n",
    (gp <= np ? "met" : "MISSED"), (g >= n ? "met" : "MISSED"), 100*g/n }'
awk -v g="$g_rps" -v c="$c_rps" -v n="$n_rps" 'BEGIN {
  printf "reference (medians): nginx with the header contract at %.1f%% of plain nginx; the gateway at %.1f%% of it\n",
    100*c/n, 100*g/c }'
# The budget: on two shared cores, throughput follows the CPU the whole path spends per request
# (wrk + proxy + upstream). What the gateway's user space may spend for the target, with its
# kernel time, the upstream's and wrk's as measured.
read -r n_cpu n_up n_user n_load < "$work/nginx-proxy.cpu.median"
read -r g_cpu g_up g_user g_load < "$work/crow-gateway.cpu.median"
awk -v nc="$n_cpu" -v nu="$n_up" -v nus="$n_user" -v nl="$n_load" -v gc="$g_cpu" -v gu="$g_up" -v gus="$g_user" -v gl="$g_load" 'BEGIN {
  n = nc + nu + nl; g = gc + gu + gl; room = n - (gc - gus) - gu - gl
  printf "CPU per request on the machine (medians): nginx path %.1f us (proxy %.1f, upstream %.1f, wrk %.1f), gateway path %.1f us (gateway %.1f, upstream %.1f, wrk %.1f)\n", n, nc, nu, nl, g, gc, gu, gl
  printf "budget: for nginx'"'"'s throughput the gateway'"'"'s user space may spend %.1f us per request (it spends %.1f; nginx'"'"'s plain proxying %.1f)\n", room, gus, nus }'

[ "$INSTRUCTIONS" = 1 ] || exit 0
# User-space instructions per request (callgrind, counting only while wrk runs).
count() { # label, url, valgrind's pid, extra wrk args…
  local label=$1 url=$2 pid=$3; shift 3
  wrk -t1 -c16 -d2s "$@" "$url" >/dev/null # warm-up, not counted
  callgrind_control -i on "$pid" >/dev/null 2>&1
  wrk -t1 -c16 -d5s "$@" "$url" > "$work/$label.count.txt"
  callgrind_control -i off "$pid" >/dev/null 2>&1
  callgrind_control -d "$pid" >/dev/null 2>&1
  sleep 1
  local requests total
  requests=$(awk '/requests in/ {print $1}' "$work/$label.count.txt")
  total=$(callgrind_annotate "$(ls -t "$work/$label".cg* | head -1)" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  echo "$total $requests" | awk -v l="$label" '{ printf "%-14s %8.0f instructions per request (user space, %d requests)\n", l, $1 / $2, $2 }'
  echo "$total $requests" | awk '{ print $1 / $2 }' > "$work/$label.ipr"
}
cat > "$work/counted-proxy.conf" <<CONF
daemon off; master_process off; worker_processes 1;
pid $work/counted-proxy.pid;
error_log $work/counted-proxy.error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  upstream backend { server $UPSTREAM; keepalive 64; }
  server { listen 127.0.0.1:18904; location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; } }
}
CONF
echo "under callgrind (a few seconds each):"
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/nginx-proxy.cg" \
  nginx -c "$work/counted-proxy.conf" -p "$work" > "$work/counted-nginx.log" 2>&1 &
counted_pids=$!
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:18904/" && break; sleep 0.2; done
count nginx-proxy "http://127.0.0.1:18904/api/v1/patterns/x" "$counted_pids"
start_gateway 127.0.0.1:18905 "$work/counted-crow" valgrind --tool=callgrind --instr-atstart=no \
  --callgrind-out-file="$work/crow-gateway.cg"
counted_pids="$counted_pids $gateway_pid"
api_key 127.0.0.1:18905
count crow-gateway "http://127.0.0.1:18905/api/v1/patterns/x" "$gateway_pid" -H "x-api-key: $key"
awk -v g="$(cat "$work/crow-gateway.ipr")" -v n="$(cat "$work/nginx-proxy.ipr")" \
  'BEGIN { printf "gateway user-space instructions per request: %.2fx nginx'"'"'s (valgrind has no SHA extensions: the API-key digest counts ~3k more than it costs natively)\n", g / n }'
