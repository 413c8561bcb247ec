#!/usr/bin/env bash
# Bulk transfer through a load balancer: 64 MiB responses from an nginx static-file backend,
# fetched by wrk over 4 connections for a few seconds, through
#   nlb       the Causeway NLB (bench/x-causeway.sh nlb)
#   haproxy   HAProxy in TCP mode (as scenario d of ../shared/bench)
#   splice    HAProxy in TCP mode with `option splice-auto`
# Reports throughput and the balancer process's CPU time per GiB moved (user and system,
# from /proc/PID/stat). Everything but wrk runs pinned to CPU 1, wrk to CPU 0, as in the
# shared harness.
# Usage: bulk-nlb.sh [ROUNDS] [SECONDS]   (needs nginx, haproxy, wrk, the aws CLI, a release build)
set -euo pipefail
ROUNDS="${1:-2}"; SECONDS_PER_RUN="${2:-6}"
HERE="$(cd "$(dirname "$0")" && pwd)"
TMP="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -- -"$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

BACKEND=18070; NLB=18071; HAPROXY=18072; SPLICE=18073
# nginx's workers read the file as an unprivileged user.
chmod 755 "$TMP"
mkdir -p "$TMP/www" "$TMP/nlb"
head -c $((64 * 1024 * 1024)) /dev/urandom > "$TMP/www/big"
cat > "$TMP/backend.conf" <<EOF
worker_processes 1;
pid $TMP/backend.pid;
error_log $TMP/backend.error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    client_body_temp_path $TMP/body;
    proxy_temp_path $TMP/proxy;
    fastcgi_temp_path $TMP/fastcgi;
    uwsgi_temp_path $TMP/uwsgi;
    scgi_temp_path $TMP/scgi;
    server { listen 127.0.0.1:$BACKEND; root $TMP/www; }
}
EOF
haproxy_conf() { # PORT EXTRA
  cat <<EOF
global
    nbthread 1
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend fe
    bind 127.0.0.1:$1
    $2
    default_backend be
backend be
    $2
    server b1 127.0.0.1:$BACKEND
EOF
}
haproxy_conf "$HAPROXY" "" > "$TMP/haproxy.cfg"
haproxy_conf "$SPLICE" "option splice-auto" > "$TMP/splice.cfg"

setsid taskset -c 1 nginx -c "$TMP/backend.conf" -g 'daemon off;' > "$TMP/backend.out" 2>&1 &
PIDS+=($!)
setsid taskset -c 1 haproxy -f "$TMP/haproxy.cfg" > "$TMP/haproxy.out" 2>&1 &
PIDS+=($!); HAPROXY_PID=$!
setsid taskset -c 1 haproxy -f "$TMP/splice.cfg" > "$TMP/splice.out" 2>&1 &
PIDS+=($!); SPLICE_PID=$!
setsid taskset -c 1 "$HERE/x-causeway.sh" nlb "$NLB" "127.0.0.1:$BACKEND" "$TMP/nlb" > "$TMP/nlb.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$NLB/big" && break
  sleep 0.2
done
NLB_PID=$(pgrep -f "data-dir $TMP/nlb/data")
for port in "$NLB" "$HAPROXY" "$SPLICE"; do
  size=$(curl -sf -o /dev/null -w '%{size_download}' "http://127.0.0.1:$port/big")
  [ "$size" = $((64 * 1024 * 1024)) ] || { echo "port $port did not serve the 64 MiB file ($size bytes)" >&2; exit 1; }
done

measure() { # NAME PORT PID
  local u0 s0 u1 s1 out moved
  read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$3/stat")
  out=$(taskset -c 0 wrk -t1 -c4 -d"${SECONDS_PER_RUN}s" "http://127.0.0.1:$2/big")
  read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$3/stat")
  moved=$(echo "$out" | awk '/requests in/ {print $5}')
  python3 - "$1" "$moved" "$u0" "$s0" "$u1" "$s1" "$SECONDS_PER_RUN" "$(getconf CLK_TCK)" <<'PY'
import re, sys
name, moved, u0, s0, u1, s1, seconds, tck = sys.argv[1:]
value, unit = re.match(r"([\d.]+)(\w+)", moved).groups()
gib = float(value) * {"GB": 1, "MB": 1 / 1024, "KB": 1 / 1024**2}[unit]
user = (int(u1) - int(u0)) / int(tck) / gib * 1000
system = (int(s1) - int(s0)) / int(tck) / gib * 1000
print(f"| {name} | {gib / int(seconds):.2f} | {user:.0f} | {system:.0f} |")
PY
}

echo "| balancer | GiB/s | user ms per GiB | system ms per GiB |"
echo "|---|---|---|---|"
for _ in $(seq 1 "$ROUNDS"); do
  measure "Causeway NLB" "$NLB" "$NLB_PID"
  measure "HAProxy TCP" "$HAPROXY" "$HAPROXY_PID"
  measure "HAProxy TCP, splice-auto" "$SPLICE" "$SPLICE_PID"
done
