#!/usr/bin/env bash
# End-to-end durable throughput school → Phòng → Sở with ~1 KiB items, and
# publish-to-Sở latency, vs a 3-broker Mosquitto bridge chain at QoS 1 set up
# as the reference peer is documented (persistence on, autosave_interval 1,
# max_queued_messages 0, max_inflight_messages 20, bridges `edu/# out 1`,
# cleansession false, persistent QoS 1 subscriber at the so broker that counts
# sequence numbers for loss and duplicates).
# Targets: edunet >= 20,000 items/s and >= 3x the Mosquitto chain.
# edunet loads the school through the batch API (16 connections x 64 items
# per POST: the like-for-like of the pipelining QoS 1 publisher) and, second,
# one item per POST from 64 connections; both are reported.
#
# Env: BENCH_DURATION (edunet load, default 10s), BENCH_BATCH_CONNS (16), BENCH_BATCH (64), BENCH_MQTT_N (messages
# through Mosquitto, default 100000), BENCH_PROBES (latency samples, default 100),
# BENCH_PARTS ("edunet mosquitto" by default; one of them to run it alone).
source "$(dirname "$0")/lib.sh"
parts=" ${BENCH_PARTS:-edunet mosquitto} "
[[ "$parts" == *" edunet "* ]] && need "$EDUNETD" wrk curl
[[ "$parts" == *" mosquitto "* ]] && need mosquitto mosquitto_pub mosquitto_sub

dur=${BENCH_DURATION:-10s}
mqtt_n=${BENCH_MQTT_N:-100000}
probes=${BENCH_PROBES:-100}

# ---------------------------------------------------------------- edunet
run_edunet() {
node_new so-dongthap so
node_new pgd-tanhong phong so-dongthap
node_new thcs-sa-rai school pgd-tanhong
node_start so-dongthap
node_start pgd-tanhong
node_start thcs-sa-rai
school=$(node_url thcs-sa-rai)
so=$(node_url so-dongthap)
token=$(node_token thcs-sa-rai)

# Links up: one item published at the school must reach the Sở first.
"$PY" "$BENCH_SRC/edubench.py" probe "$school" "$token" "$so" 1 0 >"$BENCH_DIR/warm.txt"
grep -qv timeout "$BENCH_DIR/warm.txt" || { echo "bench: the tree does not replicate" >&2; exit 1; }

# tree_load NAME CONNS BATCH [WORDS]: wrk loads the school for $dur (BATCH
# items per request, 0 = one object per request; WORDS=1: bodies of
# Vietnamese prose instead of "x" repeated), then waits until the Sở holds
# every item the school committed. Sets RATE_NAME, OWN_NAME, E2E_NAME,
# SO_NAME, ERR_NAME, CPU_NAME.
tree_load() {
	local name=$1 conns=$2 batch=$3 words=${4:-0} base_so base_school t0 t1 own out="$BENCH_DIR/wrk-tree-$1.txt"
	base_so=$(status_field so-dongthap items_total)
	base_school=$(status_field thcs-sa-rai items_own)
	local u c0=() c1=()
	for u in thcs-sa-rai pgd-tanhong so-dongthap; do c0+=("$(cpu_ticks "$(node_pid "$u")")"); done
	t0=$(date +%s.%N)
	EDUNET_TOKEN=$token EDUNET_BATCH=$batch EDUNET_BODY_WORDS=$words wrk -t2 -c"$conns" -d"$dur" \
		-s "$BENCH_SRC/post.lua" "$school" >"$out" 2>&1 || { cat "$out" >&2; exit 1; }
	printf -v "RATE_$name" '%s' "$(awk '/^wrk_items_per_s/ {print $2}' "$out")"
	printf -v "ERR_$name" '%s' "$(awk '/^wrk_errors/ {print $2}' "$out")"
	own=$(( $(status_field thcs-sa-rai items_own) - base_school ))
	t1=$("$PY" "$BENCH_SRC/edubench.py" wait-count "$so" items_total $((base_so + own)) 300) || {
		echo "bench: the Sở did not receive all $own items within 300 s" >&2; exit 1; }
	for u in thcs-sa-rai pgd-tanhong so-dongthap; do c1+=("$(cpu_ticks "$(node_pid "$u")")"); done
	printf -v "CPU_$name" '%s %s %s' "$(cpu_us_per_item $((c1[0] - c0[0])) "$own")" \
		"$(cpu_us_per_item $((c1[1] - c0[1])) "$own")" "$(cpu_us_per_item $((c1[2] - c0[2])) "$own")"
	printf -v "OWN_$name" '%s' "$own"
	printf -v "E2E_$name" '%s' "$(awk -v n="$own" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')"
	printf -v "SO_$name" '%s' "$(( $(status_field so-dongthap items_total) - base_so ))"
}
# Batch is the like-for-like ingestion (the Mosquitto publisher pipelines up to
# 20 QoS 1 messages per connection); one item per request is reported beside it.
bconns=${BENCH_BATCH_CONNS:-16} bn=${BENCH_BATCH:-64}
tree_load batch "$bconns" "$bn"
tree_load single 64 0
# The same batches with realistic bodies: ~130 distinct search tokens an
# item instead of one, which every node indexes (the peer indexes nothing).
tree_load words "$bconns" "$bn" 1

# Latency: idle, then under the same batch load.
"$PY" "$BENCH_SRC/edubench.py" probe "$school" "$token" "$so" "$probes" 0.02 >"$BENCH_DIR/lat-idle.txt"
EDUNET_TOKEN=$token EDUNET_BATCH=$bn wrk -t2 -c"$bconns" -d"$dur" -s "$BENCH_SRC/post.lua" "$school" \
	>"$BENCH_DIR/wrk-lat.txt" 2>&1 &
wpid=$!
EXTRA_PIDS+=("$wpid")
sleep 1
"$PY" "$BENCH_SRC/edubench.py" probe "$school" "$token" "$so" "$probes" 0.05 >"$BENCH_DIR/lat-load.txt"
wait "$wpid" || true

pctl() {  # pctl FILE P: percentile of the numeric lines; "timeout" lines count as lost
	sort -n "$1" | awk -v p="$2" '/^[0-9.]+$/ { v[n++] = $1 } /timeout/ { t++ }
		END { if (n == 0) { print "nan"; exit } i = int(n * p / 100); if (i >= n) i = n - 1; print v[i] }'
}
timeouts=$(cat "$BENCH_DIR/lat-idle.txt" "$BENCH_DIR/lat-load.txt" | awk '/timeout/ {n++} END {print n + 0}')

}

# ---------------------------------------------------------------- mosquitto
run_mosquitto() {
read -r -a mp <<<"$(free_ports 3)"
declare -A MPORT=([school]=${mp[0]} [phong]=${mp[1]} [so]=${mp[2]})
mosq_conf() {  # mosq_conf NAME [PARENT]
	local name=$1 parent=${2:-} d="$BENCH_DIR/mosq-$1"
	mkdir -p "$d"
	if [ "$(id -u)" = 0 ] && id mosquitto >/dev/null 2>&1; then chown mosquitto "$d"; fi
	{
		echo "listener ${MPORT[$name]} 127.0.0.1"
		echo "allow_anonymous true"
		echo "persistence true"
		echo "persistence_location $d/"
		echo "autosave_interval 1"
		echo "autosave_on_changes false"
		echo "max_queued_messages 0"
		echo "max_inflight_messages 20"
		if [ -n "$parent" ]; then
			echo "connection bridge-$name"
			echo "address 127.0.0.1:${MPORT[$parent]}"
			echo "remote_clientid bridge-$name"
			echo "topic edu/# out 1"
			echo "cleansession false"
			echo "restart_timeout 1 1"
			echo "notifications false"
		fi
	} >"$d/mosquitto.conf"
}
mosq_start() {
	mosquitto -c "$BENCH_DIR/mosq-$1/mosquitto.conf" >"$BENCH_DIR/mosq-$1/log" 2>&1 &
	EXTRA_PIDS+=($!)
}
mosq_conf so; mosq_conf phong so; mosq_conf school phong
mosq_wait() {  # until the broker accepts connections
	local _
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/${MPORT[$1]}") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "bench: mosquitto ($1) does not listen:" >&2; cat "$BENCH_DIR/mosq-$1/log" >&2; exit 1
}
mosq_start so; mosq_wait so
mosq_start phong; mosq_wait phong
mosq_start school; mosq_wait school

# Bridges up: a message on edu/warm must cross both before measuring.
mosquitto_sub -h 127.0.0.1 -p "${MPORT[so]}" -t edu/warm -q 1 -C 1 -W 30 >"$BENCH_DIR/mqtt-warm.txt" 2>&1 &
warm=$!
EXTRA_PIDS+=("$warm")
for _ in $(seq 300); do
	kill -0 "$warm" 2>/dev/null || break
	mosquitto_pub -h 127.0.0.1 -p "${MPORT[school]}" -t edu/warm -q 1 -m warm 2>/dev/null || true
	sleep 0.1
done
wait "$warm" || { echo "bench: the Mosquitto bridge chain does not forward" >&2; exit 1; }

# mqtt_sub NAME TOPIC COUNT: persistent QoS 1 subscriber at the so broker that
# writes "RECV_NS SEQ SENT_NS" per message to BENCH_DIR/mqtt-NAME.txt and exits
# after COUNT messages (or 600 s).
mqtt_sub() {
	mosquitto_sub -h 127.0.0.1 -p "${MPORT[so]}" -i "bench-$1" -c -q 1 -t "$2" \
		-C "$3" -W 600 -F '@s@N %p' 2>"$BENCH_DIR/mqtt-$1.err" | cut -c1-64 >"$BENCH_DIR/mqtt-$1.txt" &
	SUB=$!
	EXTRA_PIDS+=("$SUB")
	sleep 0.5  # subscribed before anything is sent
}
# mqtt_pub TOPIC: publishes stdin lines at the school broker, QoS 1.
mqtt_pub() {
	mosquitto_pub -h 127.0.0.1 -p "${MPORT[school]}" -i "bench-pub-$RANDOM" -q 1 \
		-M "${BENCH_MQTT_INFLIGHT:-20}" -t "$1" -l
}

# mqtt_pub_lines TOPIC N: N 1 KiB sequence-numbered messages, QoS 1. At most
# MQTT_CHUNK per mosquitto_pub run: with -l it stops once the message id of
# the last line is acknowledged, and ids wrap at 65535, so one run of 100k
# lines quits after about 34k (its broker then logs "out of memory").
MQTT_CHUNK=50000
mqtt_pub_lines() {
	local first=1 k
	while [ "$first" -le "$2" ]; do
		k=$(( $2 - first + 1 )); [ "$k" -gt "$MQTT_CHUNK" ] && k=$MQTT_CHUNK
		"$PY" "$BENCH_SRC/edubench.py" mqtt-lines "$k" 1024 "$first" | mqtt_pub "$1"
		first=$((first + k))
	done
}

# Throughput, loss and duplicates.
mqtt_sub bench 'edu/bench/#' "$mqtt_n"
sub=$SUB
mt0=$(date +%s.%N)
mqtt_pub_lines edu/bench/items "$mqtt_n"
wait "$sub" || true
read -r _ mrecv _ _ _ mdups _ mmiss _ mrate _ _ _ _ < <(
	"$PY" "$BENCH_SRC/edubench.py" mqtt-check "$mqtt_n" "$BENCH_DIR/mqtt-bench.txt" "$mt0")

# Latency as for edunet: paced probes, idle and then under the same full load.
mqtt_sub probe-idle 'edu/probe-idle/#' "$probes"
sub=$SUB
"$PY" "$BENCH_SRC/edubench.py" mqtt-probe-lines "$probes" 0.02 | mqtt_pub edu/probe-idle/p
wait "$sub" || true
read -r _ _ _ _ _ _ _ mlmiss _ _ _ mlp50 _ mlp99 < <(
	"$PY" "$BENCH_SRC/edubench.py" mqtt-check "$probes" "$BENCH_DIR/mqtt-probe-idle.txt" 0)

mqtt_sub load 'edu/load/#' "$mqtt_n"
lsub=$SUB
mqtt_pub_lines edu/load/items "$mqtt_n" &
lpub=$!
EXTRA_PIDS+=("$lpub")
sleep 1
mqtt_sub probe-load 'edu/probe-load/#' "$probes"
sub=$SUB
"$PY" "$BENCH_SRC/edubench.py" mqtt-probe-lines "$probes" 0.05 | mqtt_pub edu/probe-load/p
wait "$sub" || true
read -r _ _ _ _ _ _ _ mlmiss2 _ _ _ mlp50l _ mlp99l < <(
	"$PY" "$BENCH_SRC/edubench.py" mqtt-check "$probes" "$BENCH_DIR/mqtt-probe-load.txt" 0)
wait "$lpub" || true
wait "$lsub" || true
mlmiss=$((mlmiss + mlmiss2))
}

# ---------------------------------------------------------------- report
e2e=0 mrate=0
if [[ "$parts" == *" edunet "* ]]; then
run_edunet
metric tree_edunet_items "$OWN_batch" items "committed at the school in $dur (wrk -t2 -c$bconns, $bn x ~1 KiB per POST)"
metric tree_edunet_school_accept_rate "$RATE_batch" items/s
metric tree_edunet_errors "$ERR_batch" responses
metric tree_edunet_so_received "$SO_batch" items
metric tree_edunet_e2e_items_per_s "$E2E_batch" items/s "batch API, school -> phong -> so, until the so has all; target >= 20000"
read -r cs cp co <<<"$CPU_batch"
metric tree_edunet_cpu_school_us_per_item "$cs" us "node user+sys CPU / item (HTTP ingest + uplink)"
metric tree_edunet_cpu_phong_us_per_item "$cp" us "(downlink + store + uplink)"
metric tree_edunet_cpu_so_us_per_item "$co" us "(downlink + store)"
metric tree_edunet_single_items "$OWN_single" items "wrk -t2 -c64, one ~1 KiB item per POST"
metric tree_edunet_single_school_accept_rate "$RATE_single" items/s
metric tree_edunet_single_errors "$ERR_single" responses
metric tree_edunet_single_e2e_items_per_s "$E2E_single" items/s "one item per request, until the so has all"
read -r ws wp wo <<<"$CPU_words"
metric tree_edunet_words_e2e_items_per_s "$E2E_words" items/s "batch API, bodies of Vietnamese prose (~130 search tokens an item)"
metric tree_edunet_words_cpu_school_us_per_item "$ws" us
metric tree_edunet_words_cpu_phong_us_per_item "$wp" us
metric tree_edunet_words_cpu_so_us_per_item "$wo" us
e2e=$E2E_batch
metric tree_edunet_latency_idle_p50 "$(pctl "$BENCH_DIR/lat-idle.txt" 50)" ms "publish at school -> visible at so"
metric tree_edunet_latency_idle_p99 "$(pctl "$BENCH_DIR/lat-idle.txt" 99)" ms
metric tree_edunet_latency_load_p50 "$(pctl "$BENCH_DIR/lat-load.txt" 50)" ms "while wrk -c$bconns publishes batches of $bn"
metric tree_edunet_latency_load_p99 "$(pctl "$BENCH_DIR/lat-load.txt" 99)" ms
metric tree_edunet_latency_timeouts "$timeouts" probes "not visible within 30 s"
fi
if [[ "$parts" == *" mosquitto "* ]]; then
run_mosquitto
metric tree_mosquitto_sent "$mqtt_n" messages "QoS 1, 1 KiB, 3 brokers"
metric tree_mosquitto_received "$mrecv" messages
metric tree_mosquitto_missing "$mmiss" messages
metric tree_mosquitto_dups "$mdups" messages
metric tree_mosquitto_e2e_items_per_s "$mrate" items/s
metric tree_mosquitto_latency_idle_p50 "$mlp50" ms "publish at school broker -> delivered at so"
metric tree_mosquitto_latency_idle_p99 "$mlp99" ms
metric tree_mosquitto_latency_load_p50 "$mlp50l" ms "while a second publisher runs at full speed"
metric tree_mosquitto_latency_load_p99 "$mlp99l" ms
metric tree_mosquitto_latency_missing "$mlmiss" probes
fi
if [ "$e2e" != 0 ] && [ "$mrate" != 0 ]; then
	metric tree_ratio_vs_mosquitto "$(ratio "$e2e" "$mrate")" x "batch API; target >= 3"
	metric tree_single_ratio_vs_mosquitto "$(ratio "$E2E_single" "$mrate")" x "one item per request"
fi
exit 0
