#!/usr/bin/env bash
# Scenario command for ../shared/bench/run.sh --x: nginx as scenario (b) configures it (one
# worker, HTTP/1.1 keep-alive upstream pool), plus proxy_cache, keyed by method and path and
# kept for 300 s: the peer of the gateway's stage cache (x-causeway.sh internet-cached).
# Usage: x-nginx-cache.sh PORT BACKEND TMP. Runs in the foreground.
set -euo pipefail
. "$(dirname "$0")/nginx-b.sh"
PORT="${1:?port}"; BACKEND="${2:?backend host:port}"; DIR="${3:-$(mktemp -d)}"
mkdir -p "$DIR/cache"
cat > "$DIR/nginx-cache.conf" <<CONF
worker_processes 1;
pid $DIR/nginx-cache.pid;
error_log $DIR/nginx-cache.error.log warn;
events { worker_connections 4096; }
http {
$(nginx_b_http_settings "$DIR")
    proxy_cache_path $DIR/cache levels=1:2 keys_zone=bench:10m max_size=512m inactive=60m;
$(nginx_b_upstream "$BACKEND")
    server {
        listen 127.0.0.1:$PORT backlog=4096;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache bench;
            proxy_cache_key \$request_method\$uri;
            proxy_cache_valid 200 300s;
        }
    }
}
CONF
exec nginx -c "$DIR/nginx-cache.conf" -g 'daemon off;'
