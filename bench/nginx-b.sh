# Sourced by the nginx peers (x-nginx-*.sh): the parts of their configuration that are
# scenario (b)'s own (../shared/bench/conf/proxy-nginx.conf.tmpl), so that every peer
# differs from b only in what it adds.

# The http block's settings: no access log, long keep-alive, temporary files under $1.
nginx_b_http_settings() {
  cat <<CONF
    access_log off;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    client_body_temp_path $1/body;
    proxy_temp_path       $1/proxy;
    fastcgi_temp_path     $1/fastcgi;
    uwsgi_temp_path       $1/uwsgi;
    scgi_temp_path        $1/scgi;
CONF
}

# The upstream "backend" at $1 (host:port), with its pool of kept-alive connections.
nginx_b_upstream() {
  cat <<CONF
    upstream backend {
        server $1;
        keepalive 256;
        keepalive_requests 1000000;
        keepalive_timeout 75s;
    }
CONF
}
