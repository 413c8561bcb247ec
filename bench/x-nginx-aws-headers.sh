#!/usr/bin/env bash
# Scenario command for ../shared/bench/run.sh --x: nginx as scenario (b) configures it (one
# worker, HTTP/1.1 keep-alive upstream pool), doing the header work an HTTP_PROXY
# integration does on AWS (and the gateway, x-causeway.sh internet):
#   to the backend:  Host from the integration uri, x-amzn-apigateway-api-id,
#                    X-Forwarded-For/-Port/-Proto, X-Amzn-Trace-Id (a new root per request)
#   to the client:   x-amzn-RequestId, x-amz-apigw-id, and the backend's Server, Date and
#                    Connection returned as x-amzn-Remapped-*
# It tells what the extra bytes cost both proxies and the backend behind them, apart from
# how each proxy does its own work.
# The ids (request id, apigw id, trace root) are unique per request, made one of two ways:
#   NGINX_IDS=counter (default)  from the connection's number and its request count: next to
#                                free, so the comparison is of the bytes and headers alone
#   NGINX_IDS=random             from $request_id, nginx's 16 random bytes per request, as a
#                                production nginx gives random ids (the gateway's are random)
# Usage: [NGINX_IDS=counter|random] x-nginx-aws-headers.sh PORT BACKEND TMP. Runs in the foreground.
set -euo pipefail
. "$(dirname "$0")/nginx-b.sh"
PORT="${1:?port}"; BACKEND="${2:?backend host:port}"; DIR="${3:-$(mktemp -d)}"
mkdir -p "$DIR"
case "${NGINX_IDS:-counter}" in
  counter)
    TRACE='"Root=1-00000000-${connection}x${connection_requests}x0000000000"'
    REQUEST_ID='"00000000-0000-4000-8000-${connection}x${connection_requests}"'
    APIGW_ID='"${connection}x${connection_requests}="' ;;
  random) TRACE='$trace_id'; REQUEST_ID='$request_id'; APIGW_ID='$apigw_id' ;;
  *) echo "NGINX_IDS: counter or random" >&2; exit 2 ;;
esac
cat > "$DIR/nginx-aws-headers.conf" <<CONF
worker_processes 1;
# The two maps below are regular expressions: compiled to machine code, as nginx does
# for them in production set-ups.
pcre_jit on;
pid $DIR/nginx-aws-headers.pid;
error_log $DIR/nginx-aws-headers.error.log warn;
events { worker_connections 4096; }
http {
$(nginx_b_http_settings "$DIR")
    # Root=1-{8 hex}-{24 hex}, as AWS's trace ids, from nginx's per-request random id.
    map \$request_id \$trace_id {
        "~^(?<t>.{8})(?<r>.{24})\$" "Root=1-\$t-\$r";
    }
    map \$request_id \$apigw_id {
        "~^(?<i>.{15})" "\${i}=";
    }
$(nginx_b_upstream "$BACKEND")
    server {
        listen 127.0.0.1:$PORT backlog=4096;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $BACKEND;
            proxy_set_header x-amzn-apigateway-api-id bench;
            proxy_set_header X-Forwarded-For \$remote_addr;
            proxy_set_header X-Forwarded-Port \$server_port;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_set_header X-Amzn-Trace-Id $TRACE;
            add_header x-amzn-RequestId $REQUEST_ID;
            add_header x-amz-apigw-id $APIGW_ID;
            add_header x-amzn-Remapped-Server \$upstream_http_server;
            add_header x-amzn-Remapped-Date \$upstream_http_date;
            add_header x-amzn-Remapped-Connection \$upstream_http_connection;
        }
    }
}
CONF
exec nginx -c "$DIR/nginx-aws-headers.conf" -g 'daemon off;'
