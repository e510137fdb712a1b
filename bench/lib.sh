# shellcheck shell=bash
# Shared helpers for the benchmarks (sourced, not run). Benchmarks are not
# tests: each prints `metric value unit` lines, and ratios against a peer
# measured in the same run (see PEERS conventions in bench/README.md).
#
# Provides: BENCH_DIR (work dir, removed at exit unless EDUNET_KEEP=1),
# free_ports N, node_new UNIT ROLE [PARENT_UNIT], node_start UNIT,
# node_url UNIT, node_token UNIT, node_pid UNIT, metric NAME VALUE UNIT [NOTE],
# rss_kib PID, bench_cleanup (runs at exit: stops what was started, by PID).

set -Eeuo pipefail
trap 'echo "bench: $(basename "$0"): line $LINENO: \"$BASH_COMMAND\" failed" >&2' ERR

BENCH_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EDU_ROOT="$(cd "$BENCH_SRC/.." && pwd)"
BIN="${EDUNET_BIN_DIR:-$EDU_ROOT/build/bin}"
EDUNETD="$BIN/edunetd"
EDUNETCTL="$BIN/edunetctl"
PY=/usr/bin/python3
REGISTRY="$EDU_ROOT/config/dongthap-units.csv"

need() {
	local x
	for x in "$@"; do
		if [[ "$x" == */* ]]; then
			[ -x "$x" ] || { echo "bench: $x missing (build first: deploy/edunet build)" >&2; exit 1; }
		else
			command -v "$x" >/dev/null || {
				echo "bench: '$x' not installed (deploy/install-deps.sh --bench)" >&2; exit 1; }
		fi
	done
}

BENCH_DIR="$(mktemp -d /tmp/edunet-bench.XXXXXX)"
chmod 755 "$BENCH_DIR"  # peers that drop privileges (nginx workers) read from here
declare -A NODE_ROLE NODE_PARENT NODE_HTTP NODE_DOWN NODE_PID
NODE_ORDER=()
EXTRA_PIDS=()

bench_cleanup() {
	local rc=$? u p k
	for ((k = ${#NODE_ORDER[@]} - 1; k >= 0; k--)); do
		u=${NODE_ORDER[$k]}; p=${NODE_PID[$u]:-}
		[ -n "$p" ] && kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${EXTRA_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${NODE_PID[@]}" "${EXTRA_PIDS[@]}"; do
		[ -n "$p" ] || continue
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ "$rc" = 0 ] && [ "${EDUNET_KEEP:-0}" != 1 ]; then
		rm -rf "$BENCH_DIR"
	else
		echo "bench: work dir kept: $BENCH_DIR" >&2
	fi
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# free_ports N: N distinct TCP ports on 127.0.0.1 that were free a moment ago.
free_ports() {
	"$PY" -c '
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

# metric NAME VALUE UNIT [NOTE]
metric() {
	if [ $# -ge 4 ]; then
		printf '%s %s %s  # %s\n' "$1" "$2" "$3" "$4"
	else
		printf '%s %s %s\n' "$1" "$2" "$3"
	fi
}

# node_new UNIT ROLE [PARENT_UNIT]: writes BENCH_DIR/UNIT/node.ini: plain tcp on
# loopback, or with BENCH_TLS=1 mutual TLS and signed items as deployed (a
# bench CA, one `edunetctl ca issue` per unit).
node_new() {
	local u=$1 role=$2 parent=${3:-} dir="$BENCH_DIR/$1" ports scheme=tcp
	read -r -a ports <<<"$(free_ports 2)"
	if [ "${BENCH_TLS:-0}" = 1 ]; then
		scheme=tls+tcp
		[ -f "$BENCH_DIR/ca/ca.crt" ] ||
			"$EDUNETCTL" ca init --dir "$BENCH_DIR/ca" --name "Bench CA" >/dev/null
		"$EDUNETCTL" ca issue --dir "$BENCH_DIR/ca" --unit "$u" --out "$dir/tls" >/dev/null
	fi
	NODE_ROLE[$u]=$role; NODE_PARENT[$u]=$parent; NODE_HTTP[$u]=${ports[0]}
	[ "$role" != school ] && NODE_DOWN[$u]=${ports[1]}
	NODE_ORDER+=("$u")
	mkdir -p "$dir/data"
	(umask 077; printf 'bench-%s-%s\n' "$u" "$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')" >"$dir/admin.token")
	{
		printf '[node]\nid = %s\nrole = %s\nname = %s\ndata_dir = %s/data\n' "$u" "$role" "$u" "$dir"
		[ "$role" != school ] && printf 'registry = %s\n' "$REGISTRY"
		[ -n "$parent" ] && printf '\n[uplink]\nparent = %s://127.0.0.1:%s\nparent_unit = %s\n' \
			"$scheme" "${NODE_DOWN[$parent]}" "$parent"
		[ "$role" != school ] && printf '\n[downlink]\nlisten = %s://127.0.0.1:%s\n' "$scheme" "${NODE_DOWN[$u]}"
		if [ "$scheme" = tls+tcp ]; then
			printf '\n[tls]\nca = %s/tls/ca.crt\ncert = %s/tls/%s.crt\nkey = %s/tls/%s.key\n' "$dir" "$dir" "$u" "$dir" "$u"
			printf 'ed25519 = %s/tls/%s.ed25519\nrevoked = %s/ca/revoked.list\n' "$dir" "$u" "$BENCH_DIR"
		fi
		printf '\n[http]\nlisten = 127.0.0.1:%s\n' "${NODE_HTTP[$u]}"
		printf '\n[admin]\ntoken_file = %s/admin.token\n' "$dir"
	} >"$dir/node.ini"
}

node_url() { echo "http://127.0.0.1:${NODE_HTTP[$1]}"; }
node_token() { head -n1 "$BENCH_DIR/$1/admin.token"; }
node_pid() { echo "${NODE_PID[$1]}"; }

node_start() {
	local u=$1 dir="$BENCH_DIR/$1"
	"$EDUNETD" -c "$dir/node.ini" >>"$dir/edunetd.log" 2>&1 &
	NODE_PID[$u]=$!
	for _ in $(seq 300); do
		if ! kill -0 "${NODE_PID[$u]}" 2>/dev/null; then
			echo "bench: $u exited during start-up:" >&2; tail -n 20 "$dir/edunetd.log" >&2; exit 1
		fi
		curl -fsS -o /dev/null --max-time 1 "$(node_url "$u")/healthz" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "bench: $u not ready after 15 s" >&2; tail -n 20 "$dir/edunetd.log" >&2; exit 1
}

# rss_kib PID: resident set size in KiB.
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# status_field UNIT FIELD: a top-level number from /api/v1/status.
status_field() {
	curl -fsS --max-time 5 "$(node_url "$1")/api/v1/status" |
		"$PY" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}

# wrk_rps FILE: the Requests/sec figure of a wrk report.
wrk_rps() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
# wrk_bad FILE: non-2xx/3xx responses plus socket errors (0 when none).
wrk_bad() {
	awk '/Non-2xx or 3xx responses:/ {n += $NF}
	     /Socket errors:/ {gsub(",", ""); n += $4 + $6 + $8 + $10}
	     END {print n + 0}' "$1"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }

# cpu_ticks PID: user + system CPU time of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# cpu_us_per_item TICKS ITEMS: CPU microseconds per item.
cpu_us_per_item() {
	awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { if (n > 0) printf "%.1f", t / hz * 1e6 / n; else print "nan" }'
}
