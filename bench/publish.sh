#!/usr/bin/env bash
# Durable publish throughput of one school node through the JSON API:
# wrk with 64 keep-alive connections POSTing ~1 KiB items for 10 s.
# A 201 means the item is committed to disk (SPEC §6.1), so accepted
# responses per second is durable items per second. Target: >= 10,000 items/s.
# Env: BENCH_DURATION (default 10s), BENCH_CONNS (64).
source "$(dirname "$0")/lib.sh"
need "$EDUNETD" wrk curl

node_new thcs-sa-rai school
node_start thcs-sa-rai
url=$(node_url thcs-sa-rai)

EDUNET_TOKEN=$(node_token thcs-sa-rai) wrk -t2 -c"${BENCH_CONNS:-64}" -d"${BENCH_DURATION:-10s}" \
	-s "$BENCH_SRC/post.lua" "$url" >"$BENCH_DIR/wrk.txt" 2>&1 || {
	cat "$BENCH_DIR/wrk.txt" >&2; exit 1; }
accepted=$(awk '/^wrk_accepted/ {print $2}' "$BENCH_DIR/wrk.txt")
rate=$(awk '/^wrk_items_per_s/ {print $2}' "$BENCH_DIR/wrk.txt")
errors=$(awk '/^wrk_errors/ {print $2}' "$BENCH_DIR/wrk.txt")
p50=$(awk '/^wrk_latency_p50/ {print $2}' "$BENCH_DIR/wrk.txt")
p99=$(awk '/^wrk_latency_p99/ {print $2}' "$BENCH_DIR/wrk.txt")
# Every acknowledged item must be in the store (requests cut off by the end
# of the run may have been committed without being counted: >= is right).
own=$(status_field thcs-sa-rai items_own)

metric publish_items_per_s "$rate" items/s "target >= 10000; 64 conns, 1 KiB bodies"
metric publish_accepted "$accepted" items
metric publish_errors "$errors" responses
metric publish_latency_p50 "$p50" ms
metric publish_latency_p99 "$p99" ms
metric publish_items_in_store "$own" items
metric publish_target_ratio "$(ratio "$rate" 10000)" x "vs the 10,000 items/s target"
if [ "$own" -lt "$accepted" ]; then
	echo "bench: store has $own items but $accepted were acknowledged" >&2
	exit 1
fi
