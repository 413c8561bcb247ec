#!/usr/bin/env bash
# Scenario command for ../shared/bench/run.sh --x: nginx as scenario (b) configures it (one
# worker, HTTP/1.1 keep-alive upstream pool), plus proxy_cache, keyed by method and path and
# kept for 300 s: the peer of the gateway's stage cache (x-causeway.sh internet-cached).
# Usage: x-nginx-cache.sh PORT BACKEND TMP. Runs in the foreground.
set -euo pipefail
PORT="${1:?port}"; BACKEND="${2:?backend host:port}"; DIR="${3:-$(mktemp -d)}"
mkdir -p "$DIR/cache"
cat > "$DIR/nginx-cache.conf" <<CONF
worker_processes 1;
pid $DIR/nginx-cache.pid;
error_log $DIR/nginx-cache.error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    client_body_temp_path $DIR/body;
    proxy_temp_path       $DIR/proxy;
    fastcgi_temp_path     $DIR/fastcgi;
    uwsgi_temp_path       $DIR/uwsgi;
    scgi_temp_path        $DIR/scgi;
    proxy_cache_path $DIR/cache levels=1:2 keys_zone=bench:10m max_size=512m inactive=60m;
    upstream backend {
        server $BACKEND;
        keepalive 256;
        keepalive_requests 1000000;
        keepalive_timeout 75s;
    }
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
