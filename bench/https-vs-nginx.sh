#!/usr/bin/env bash
# The gateway's HTTPS listener against nginx terminating TLS, side by side, HTTP/2 and
# HTTP/1.1: the gateway (`x-causeway.sh internet` with `--gateway-tls-listen`) and nginx
# (`listen ... ssl http2`, proxying to the same backend over kept-alive HTTP/1.1, as scenario
# b does), with the same certificate and key (the gateway's, made on its first start), the
# harness's nginx backend, all pinned to CPU 1; h2load (nghttp2-client) on CPU 0. For each
# load, two pairs in ABBA order (nginx first, then the gateway first).
# Usage: bench/https-vs-nginx.sh [SECONDS]
set -euo pipefail
SECS="${1:-8}"
HERE="$(cd "$(dirname "$0")" && pwd)"
SHARED="$HERE/../../shared/bench"
command -v h2load > /dev/null || { echo "needs h2load (apt-get install nghttp2-client)" >&2; exit 1; }
TMP="$(mktemp -d)"
BACKEND_PORT=18280; GATEWAY_PORT=18281; GATEWAY_TLS_PORT=18282; NGINX_TLS_PORT=18283
URL_PATH=/restapis/bench/prod/_user_request_/ping
sed -e "s|@TMP@|$TMP|g" -e "s|@BACKEND_PORT@|$BACKEND_PORT|g" -e "s|@BACKEND_WORKERS@|1|g" \
  "$SHARED/conf/backend-nginx.conf.tmpl" > "$TMP/backend.conf"
GROUP=""
cleanup() {
  [ -n "$GROUP" ] && kill -- "-$GROUP" 2> /dev/null || true
  nginx -c "$TMP/backend.conf" -p "$TMP" -s stop 2> /dev/null || true
  [ -f "$TMP/tls.conf" ] && nginx -c "$TMP/tls.conf" -p "$TMP" -s stop 2> /dev/null || true
}
trap cleanup EXIT
taskset -c 1 nginx -c "$TMP/backend.conf" -p "$TMP"
mkdir -p "$TMP/gateway"
CAUSEWAY_GATEWAY_TLS_LISTEN="127.0.0.1:$GATEWAY_TLS_PORT" setsid taskset -c 1 \
  "$HERE/x-causeway.sh" internet "$GATEWAY_PORT" "127.0.0.1:$BACKEND_PORT" "$TMP/gateway" \
  > "$TMP/gateway.out" 2>&1 &
GROUP=$!
for _ in $(seq 1 120); do
  curl -s -o /dev/null "http://127.0.0.1:$GATEWAY_PORT$URL_PATH" && break
  sleep 1
done
TLS_DIR="$TMP/gateway/data/gateway-tls"
cat > "$TMP/tls.conf" <<CONF
worker_processes 1;
pid $TMP/tls.pid;
error_log $TMP/tls.error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    client_body_temp_path $TMP/tls-body;
    proxy_temp_path $TMP/tls-proxy;
    upstream backend {
        server 127.0.0.1:$BACKEND_PORT;
        keepalive 256;
        keepalive_requests 1000000;
        keepalive_timeout 75s;
    }
    server {
        listen 127.0.0.1:$NGINX_TLS_PORT ssl http2 backlog=4096;
        ssl_certificate $TLS_DIR/cert.pem;
        ssl_certificate_key $TLS_DIR/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        http2_max_concurrent_streams 128;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
CONF
taskset -c 1 nginx -c "$TMP/tls.conf" -p "$TMP"
sleep 1
run() {  # run PORT ARGS... -> "req/s mean-latency protocol cipher"
  local port=$1; shift
  taskset -c 0 h2load -t1 "$@" --warm-up-time=2 -D "$SECS" "https://127.0.0.1:$port$URL_PATH" 2>&1 |
    awk '/^finished in/ {rps=$4} /time for request:/ {mean=$6} /^Application protocol/ {proto=$3}
         /^Cipher/ {cipher=$2} END {printf "%s req/s, mean %s, %s, %s", rps, mean, proto, cipher}'
}
for load in "-c4 -m16" "-c64 -m1" "-c4 -m1" "-c64 --h1" "-c4 --h1"; do
  for pair in 1 2; do
    if [ "$pair" = 1 ]; then order="nginx gateway"; else order="gateway nginx"; fi
    for who in $order; do
      port=$NGINX_TLS_PORT; [ "$who" = gateway ] && port=$GATEWAY_TLS_PORT
      # shellcheck disable=SC2086
      echo "$load  pair $pair  $who: $(run "$port" $load)"
    done
  done
done
