#!/usr/bin/env bash
# Durable publish throughput of one school node through the JSON API, both
# ways a publisher can send (each on a fresh node, wrk, keep-alive, ~1 KiB items):
#   single: 64 connections, one JSON object per POST   (target >= 10,000 items/s)
#   batch:  16 connections, a JSON array of 64 items per POST (the bulk path)
# A 201 means the items are committed to disk (SPEC §6.1), so acknowledged
# items per second is durable items per second. Node CPU (user+sys from
# /proc) is divided by the items the store holds afterwards.
# Env: BENCH_DURATION (10s), BENCH_CONNS (64), BENCH_BATCH_CONNS (16), BENCH_BATCH (64).
source "$(dirname "$0")/lib.sh"
need "$EDUNETD" wrk curl

# run_wrk NAME UNIT CONNS BATCH: prints the metric lines of one run.
run_wrk() {
	local name=$1 u=$2 conns=$3 batch=$4 url t0 t1 out
	node_new "$u" school
	node_start "$u"
	url=$(node_url "$u")
	out="$BENCH_DIR/wrk-$name.txt"
	t0=$(cpu_ticks "$(node_pid "$u")")
	EDUNET_TOKEN=$(node_token "$u") EDUNET_BATCH=$batch wrk -t2 -c"$conns" -d"${BENCH_DURATION:-10s}" \
		-s "$BENCH_SRC/post.lua" "$url" >"$out" 2>&1 || { cat "$out" >&2; exit 1; }
	t1=$(cpu_ticks "$(node_pid "$u")")
	local accepted rate errors p50 p99 own
	accepted=$(awk '/^wrk_accepted/ {print $2}' "$out")
	rate=$(awk '/^wrk_items_per_s/ {print $2}' "$out")
	errors=$(awk '/^wrk_errors/ {print $2}' "$out")
	p50=$(awk '/^wrk_latency_p50/ {print $2}' "$out")
	p99=$(awk '/^wrk_latency_p99/ {print $2}' "$out")
	# Every acknowledged item must be in the store (requests cut off by the
	# end of the run may have been committed without being counted: >= is right).
	own=$(status_field "$u" items_own)
	metric "publish_${name}_items_per_s" "$rate" items/s "$5"
	metric "publish_${name}_cpu_us_per_item" "$(cpu_us_per_item $((t1 - t0)) "$own")" us "node user+sys CPU / items stored"
	metric "publish_${name}_accepted" "$accepted" items
	metric "publish_${name}_errors" "$errors" responses
	metric "publish_${name}_latency_p50" "$p50" ms "per request"
	metric "publish_${name}_latency_p99" "$p99" ms "per request"
	metric "publish_${name}_items_in_store" "$own" items
	if [ "$own" -lt "$accepted" ]; then
		echo "bench: $u has $own items but $accepted were acknowledged" >&2
		exit 1
	fi
	RATE[$name]=$rate
}
declare -A RATE

conns=${BENCH_CONNS:-64} bconns=${BENCH_BATCH_CONNS:-16} bn=${BENCH_BATCH:-64}
run_wrk single thcs-sa-rai "$conns" 0 "target >= 10000; $conns conns, 1 item per request"
run_wrk batch thcs-lo-lon "$bconns" "$bn" "$bconns conns x $bn items per request"
metric publish_single_target_ratio "$(ratio "${RATE[single]}" 10000)" x "vs the 10,000 items/s target"
metric publish_batch_vs_single "$(ratio "${RATE[batch]}" "${RATE[single]}")" x
