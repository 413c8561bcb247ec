#!/usr/bin/env bash
# TLS termination at the load balancer, side by side: Causeway's NLB TLS listener
# (`x-causeway.sh nlb-tls`) against HAProxy in TCP mode with `ssl` (`x-haproxy-tls.sh`),
# both in front of the same nginx backend (the harness's backend config), both pinned to
# CPU 1 with the backend, wrk on CPU 0. Rounds alternate (A B A B ...) so that both see the
# host's drift alike. Each round: keep-alive at 64 and at 4 connections, and a new TLS
# connection per request (`Connection: close`, 16 connections).
# Usage: bench/tls-termination.sh [ROUNDS] [SECONDS]
set -euo pipefail
ROUNDS="${1:-3}"; SECS="${2:-8}"
HERE="$(cd "$(dirname "$0")" && pwd)"
SHARED="$HERE/../../shared/bench"
TMP="$(mktemp -d)"
BACKEND_PORT=18180; NLB_PORT=18181; HAPROXY_PORT=18182
sed -e "s|@TMP@|$TMP|g" -e "s|@BACKEND_PORT@|$BACKEND_PORT|g" -e "s|@BACKEND_WORKERS@|1|g" \
  "$SHARED/conf/backend-nginx.conf.tmpl" > "$TMP/backend.conf"
mkdir -p "$TMP/nlb" "$TMP/haproxy"
GROUPS_TO_STOP=()
# Each proxy runs in a process group of its own (setsid), stopped whole at the end: the
# scenario scripts start their servers in the background.
cleanup() {
  for group in "${GROUPS_TO_STOP[@]}"; do kill -- "-$group" 2> /dev/null || true; done
  nginx -c "$TMP/backend.conf" -p "$TMP" -s stop 2> /dev/null || true
}
trap cleanup EXIT
taskset -c 1 nginx -c "$TMP/backend.conf" -p "$TMP"
setsid taskset -c 1 "$HERE/x-causeway.sh" nlb-tls "$NLB_PORT" "127.0.0.1:$BACKEND_PORT" "$TMP/nlb" > "$TMP/nlb.out" 2>&1 &
GROUPS_TO_STOP+=($!)
setsid taskset -c 1 "$HERE/x-haproxy-tls.sh" "$HAPROXY_PORT" "127.0.0.1:$BACKEND_PORT" "$TMP/haproxy" > "$TMP/haproxy.out" 2>&1 &
GROUPS_TO_STOP+=($!)
for port in $NLB_PORT $HAPROXY_PORT; do
  for _ in $(seq 1 200); do
    curl -sk --max-time 1 "https://127.0.0.1:$port/ping" > /dev/null 2>&1 && break
    sleep 0.1
  done
  curl -sk --max-time 2 "https://127.0.0.1:$port/ping" | grep -q ok || { echo "port $port does not answer"; cat "$TMP"/*.out; exit 1; }
done
run() { # NAME PORT CONNS [close]
  local extra=()
  [ "${4:-}" = close ] && extra=(-H "Connection: close")
  local out
  out=$(taskset -c 0 wrk -t1 -c"$3" -d"${SECS}s" --latency "${extra[@]}" "https://127.0.0.1:$2/ping" 2>&1)
  local rps p99
  rps=$(printf '%s\n' "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(printf '%s\n' "$out" | awk '$1 == "99%" {print $2}')
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$3" "${4:-keepalive}" "$rps" "$p99"
}
printf 'proxy\tconns\tphase\treq/s\tp99\n'
for round in $(seq 1 "$ROUNDS"); do
  for conns in 64 4; do
    run nlb-tls "$NLB_PORT" "$conns"
    run haproxy-tls "$HAPROXY_PORT" "$conns"
  done
  run nlb-tls "$NLB_PORT" 16 close
  run haproxy-tls "$HAPROXY_PORT" 16 close
done
