#!/usr/bin/env bash
# /feed.atom of a school node with 50 items vs nginx serving the same bytes
# as a static file (one worker, access_log off, sendfile, tcp_nopush,
# keepalive_requests 1000000). wrk -t2 -c64 -d10s on each. Target ratio >= 0.8.
# Env: BENCH_DURATION (default 10s).
source "$(dirname "$0")/lib.sh"
need "$EDUNETD" wrk curl nginx

dur=${BENCH_DURATION:-10s}
node_new thcs-sa-rai school
node_start thcs-sa-rai
url=$(node_url thcs-sa-rai)
"$PY" "$BENCH_SRC/edubench.py" publish "$url" "$(node_token thcs-sa-rai)" 50 1024

mkdir -p "$BENCH_DIR/www" "$BENCH_DIR/nginx"
curl -fsS -o "$BENCH_DIR/www/feed.atom" "$url/feed.atom"
curl -fsS -o "$BENCH_DIR/edunet.atom" "$url/feed.atom"
cmp -s "$BENCH_DIR/www/feed.atom" "$BENCH_DIR/edunet.atom" || echo "bench: note: feed bytes differ between fetches" >&2
bytes=$(stat -c %s "$BENCH_DIR/www/feed.atom")
chmod -R a+rX "$BENCH_DIR/www"

port=$(free_ports 1)
cat >"$BENCH_DIR/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $BENCH_DIR/nginx/nginx.pid;
error_log $BENCH_DIR/nginx/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	client_body_temp_path $BENCH_DIR/nginx/tmp;
	proxy_temp_path $BENCH_DIR/nginx/tmp;
	fastcgi_temp_path $BENCH_DIR/nginx/tmp;
	uwsgi_temp_path $BENCH_DIR/nginx/tmp;
	scgi_temp_path $BENCH_DIR/nginx/tmp;
	types { application/atom+xml atom; }
	server {
		listen 127.0.0.1:$port;
		root $BENCH_DIR/www;
	}
}
CONF
nginx -p "$BENCH_DIR/nginx" -c "$BENCH_DIR/nginx/nginx.conf" 2>>"$BENCH_DIR/nginx/error.log" &
EXTRA_PIDS+=($!)
for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$port/feed.atom" 2>/dev/null && break; sleep 0.05; done
curl -fsS -o "$BENCH_DIR/nginx.atom" "http://127.0.0.1:$port/feed.atom"
cmp -s "$BENCH_DIR/nginx.atom" "$BENCH_DIR/www/feed.atom" || { echo "bench: nginx serves other bytes" >&2; exit 1; }

wrk -t2 -c64 -d"$dur" "$url/feed.atom" >"$BENCH_DIR/wrk-edunet.txt"
wrk -t2 -c64 -d"$dur" "http://127.0.0.1:$port/feed.atom" >"$BENCH_DIR/wrk-nginx.txt"
e=$(wrk_rps "$BENCH_DIR/wrk-edunet.txt"); n=$(wrk_rps "$BENCH_DIR/wrk-nginx.txt")
eb=$(wrk_bad "$BENCH_DIR/wrk-edunet.txt"); nb=$(wrk_bad "$BENCH_DIR/wrk-nginx.txt")

metric feed_bytes "$bytes" bytes "feed.atom with 50 items"
metric feed_edunet_rps "$e" req/s
metric feed_nginx_rps "$n" req/s "same bytes, static file, 1 worker"
metric feed_edunet_errors "$eb" responses
metric feed_nginx_errors "$nb" responses
metric feed_ratio_vs_nginx "$(ratio "$e" "$n")" x "target >= 0.8"
