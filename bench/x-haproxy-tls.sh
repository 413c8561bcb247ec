#!/usr/bin/env bash
# HAProxy terminating TLS in TCP mode (the counterpart of `x-causeway.sh nlb-tls`):
#   client → HAProxy on 127.0.0.1:{PORT} (TLS, ECDSA P-256 self-signed key) → backend in the clear
# Usage: x-haproxy-tls.sh PORT BACKEND TMP      (runs in the foreground)
set -euo pipefail
PORT="${1:?port}"; BACKEND="${2:?backend host:port}"; DIR="${3:-$(mktemp -d)}"
mkdir -p "$DIR/haproxy-tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
  -keyout "$DIR/haproxy-tls/key.pem" -out "$DIR/haproxy-tls/cert.pem" -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2> /dev/null
cat "$DIR/haproxy-tls/cert.pem" "$DIR/haproxy-tls/key.pem" > "$DIR/haproxy-tls/combined.pem"
cat > "$DIR/haproxy-tls/haproxy.cfg" <<CFG
global
    nbthread 1
defaults
    timeout connect 5s
    timeout client  60s
    timeout server  60s
frontend fe_tls
    mode tcp
    bind 127.0.0.1:$PORT ssl crt $DIR/haproxy-tls/combined.pem backlog 4096
    default_backend be
backend be
    mode tcp
    server b1 $BACKEND
CFG
exec haproxy -db -f "$DIR/haproxy-tls/haproxy.cfg"
