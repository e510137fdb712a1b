#!/usr/bin/env bash
# The whole Đồng Tháp registry as real edunetd processes on one machine: one
# node per unit of config/dongthap-units.csv (Sở, Phòng and xã as aggregating
# nodes — a xã runs as role phong — and every school), each its own process on
# loopback ports chosen at run time. Starts the Sở, then Phòng/xã, then the
# schools in batches, waits until the Sở's deployment report shows every unit
# online, publishes one item at each of ~20 schools and times their arrival at
# the Sở, then idles and reports RSS, idle CPU, threads and fds.
#
# Usage: bench/province.sh [--bin DIR] [--dir DIR] [--tls] [--keep]
#                          [--schools N] [--batch N] [--idle S] [--probes N]
#   --bin DIR     where edunetd and edunetctl are (default build/bin; built with
#                 deploy/edunet build when build/bin/edunetd is missing)
#   --dir DIR     work directory, empty or absent (default a new /tmp/edunet-province.*)
#   --tls         mutual TLS links (a province CA and one certificate per unit,
#                 issued with edunetctl ca issue and timed); default plain tcp://
#   --keep        keep the work directory (it is always kept after a failure)
#   --schools N   start N schools spread over the province instead of all (quick runs)
#   --batch N     schools started at once before waiting for their /healthz (50)
#   --idle S      idle window for the CPU figure (30)
#   --probes N    schools that publish one item each for the latency figure (20)
#   --online-timeout S  how long to wait for every unit online at the Sở (120)
# Prints `metric value unit [# note]` lines; exits non-zero when a node does not
# start, units stay missing at the Sở, or a node dies while idle.
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$ROOT/bench"
PY=/usr/bin/python3
HELPER="$HERE/province.py"
REGISTRY="$ROOT/config/dongthap-units.csv"
BIN=""
DIR=""
TLS=0
KEEP=0
SCHOOLS=0
BATCH=50
IDLE=30
PROBES=20
ONLINE_TIMEOUT=120

while [ $# -gt 0 ]; do
	case "$1" in
	--bin) BIN="$2"; shift 2 ;;
	--dir) DIR="$2"; shift 2 ;;
	--tls) TLS=1; shift ;;
	--keep) KEEP=1; shift ;;
	--schools) SCHOOLS="$2"; shift 2 ;;
	--batch) BATCH="$2"; shift 2 ;;
	--idle) IDLE="$2"; shift 2 ;;
	--probes) PROBES="$2"; shift 2 ;;
	--online-timeout) ONLINE_TIMEOUT="$2"; shift 2 ;;
	-h|--help) sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "province: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
for n in "$SCHOOLS" "$BATCH" "$IDLE" "$PROBES" "$ONLINE_TIMEOUT"; do
	[[ "$n" =~ ^[0-9]+$ ]] || { echo "province: '$n' is not a whole number" >&2; exit 2; }
done
[ "$BATCH" -ge 1 ] || BATCH=1

if [ -z "$BIN" ]; then
	BIN="$ROOT/build/bin"
	if [ ! -x "$BIN/edunetd" ] || [ ! -x "$BIN/edunetctl" ]; then
		echo "province: $BIN/edunetd missing; building (deploy/edunet build)" >&2
		"$ROOT/deploy/edunet" build >&2
	fi
fi
EDUNETD="$BIN/edunetd"
EDUNETCTL="$BIN/edunetctl"
for b in "$EDUNETD" "$EDUNETCTL" "$PY"; do
	[ -x "$b" ] || { echo "province: $b not found" >&2; exit 1; }
done
command -v curl >/dev/null || { echo "province: curl not installed" >&2; exit 1; }
[ -r "$REGISTRY" ] || { echo "province: registry $REGISTRY missing" >&2; exit 1; }

if [ -z "$DIR" ]; then
	DIR="$(mktemp -d /tmp/edunet-province.XXXXXX)"
else
	mkdir -p "$DIR"
	[ -z "$(ls -A "$DIR")" ] || { echo "province: $DIR is not empty" >&2; exit 2; }
fi
DIR="$(cd "$DIR" && pwd)"

# Every process this script starts, in start order ("unit role pid" lines are
# also written to DIR/pids.tsv for the measurements).
PIDS=()
UNIT_OF=()
STOPPING=0
# alive PID: running (not exited, not a zombie); builtins only, no fork per PID.
alive() {
	local st
	{ read -r st <"/proc/$1/stat"; } 2>/dev/null || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ] && [ "${st%% *}" != X ]
}
stop_all() {
	local rc=$? k p left hung=0
	[ "$STOPPING" = 1 ] && return
	STOPPING=1
	trap - ERR
	if [ ${#PIDS[@]} -gt 0 ]; then
		echo "province: stopping ${#PIDS[@]} nodes (SIGTERM, SIGKILL after 20 s)..." >&2
		local t0=$SECONDS
		# Children first (reverse start order), so that parents see them leave.
		for ((k = ${#PIDS[@]} - 1; k >= 0; k--)); do kill -TERM "${PIDS[$k]}" 2>/dev/null || true; done
		for _ in $(seq 200); do
			left=0
			for p in "${PIDS[@]}"; do alive "$p" && { left=1; break; }; done
			[ "$left" = 0 ] && break
			sleep 0.1
		done
		for k in "${!PIDS[@]}"; do
			p=${PIDS[$k]}
			alive "$p" || continue
			hung=$((hung + 1))
			echo "province: ${UNIT_OF[$k]} (pid $p) ignored SIGTERM for 20 s; killing it" >&2
			# Why it hangs: every thread's stack, beside its log.
			if [ "$hung" -le 5 ] && command -v gdb >/dev/null; then
				timeout 20 gdb -p "$p" -batch -ex 'thread apply all bt' >"$DIR/${UNIT_OF[$k]}/hang-stacks.txt" 2>&1 || true
			fi
			kill -KILL "$p" 2>/dev/null || true
		done
		for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
		metric stop_s "$((SECONDS - t0))" s "SIGTERM to every node -> all exited"
		metric nodes_needing_sigkill "$hung" processes "still running 20 s after SIGTERM"
	fi
	if [ "$rc" = 0 ] && [ "$KEEP" = 0 ] && [ "$hung" = 0 ]; then
		rm -rf "$DIR"
	else
		echo "province: work dir kept: $DIR" >&2
	fi
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'echo "province: line $LINENO: \"$BASH_COMMAND\" failed" >&2' ERR

metric() {
	if [ $# -ge 4 ]; then printf '%s %s %s  # %s\n' "$1" "$2" "$3" "$4"; else printf '%s %s %s\n' "$1" "$2" "$3"; fi
}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------- limits
# Each node holds a handful of fds (listeners, LMDB, nng pipes; the Sở one per
# child link); the script's own need is small, but raise the soft limit to the
# hard one so that the nodes inherit it.
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -gt 65536 ]; then hard=65536; fi
ulimit -Sn "$hard" || true
metric fd_limit_per_process "$(ulimit -n)" fds

# ---------------------------------------------------------------- configs
cp "$REGISTRY" "$DIR/units.csv"
scheme=tcp
[ "$TLS" = 1 ] && scheme=tls
n_units=$("$PY" "$HELPER" gen "$DIR" "$REGISTRY" "$scheme" "$SCHOOLS")
mapfile -t ROWS <"$DIR/units.tsv"
echo "province: $n_units configs in $DIR" >&2

if [ "$TLS" = 1 ]; then
	t0=$(now)
	"$EDUNETCTL" ca init --dir "$DIR/ca" --name "Bench CA Sở GD&ĐT Đồng Tháp" >/dev/null
	for row in "${ROWS[@]}"; do
		read -r u _ <<<"$row"
		"$EDUNETCTL" ca issue --dir "$DIR/ca" --unit "$u" --out "$DIR/$u/tls" >/dev/null ||
			{ echo "province: edunetctl ca issue for $u failed" >&2; exit 1; }
	done
	t1=$(now)
	metric tls_certs_issued "${#ROWS[@]}" certs
	metric tls_issue_s "$(secs "$t0" "$t1")" s "ca init + one edunetctl ca issue per unit"
	metric tls_issue_ms_per_cert "$(awk -v a="$t0" -v b="$t1" -v n="${#ROWS[@]}" 'BEGIN { printf "%.1f", (b - a) * 1000 / n }')" ms
fi

# ---------------------------------------------------------------- start
# start_batch ROW...: starts one edunetd per row, then waits for all their /healthz.
start_batch() {
	local row u role parent port pairs=() p
	for row in "$@"; do
		read -r u role parent port <<<"$row"
		"$EDUNETD" -c "$DIR/$u/node.ini" >>"$DIR/$u/edunetd.log" 2>&1 &
		p=$!
		PIDS+=("$p")
		UNIT_OF+=("$u")
		printf '%s %s %s\n' "$u" "$role" "$p" >>"$DIR/pids.tsv"
		pairs+=("$port:$p")
	done
	if ! "$PY" "$HELPER" wait-health 60 "${pairs[@]}" 2>"$DIR/health.err"; then
		cat "$DIR/health.err" >&2
		for row in "$@"; do
			read -r u _ <<<"$row"
			if [ -s "$DIR/$u/edunetd.log" ]; then
				echo "--- $u:" >&2; tail -n 5 "$DIR/$u/edunetd.log" >&2
			fi
		done
		exit 1
	fi
}

SO_ROWS=() AGG_ROWS=() SCHOOL_ROWS=()
for row in "${ROWS[@]}"; do
	read -r _ role _ <<<"$row"
	case "$role" in
	so) SO_ROWS+=("$row") ;;
	phong) AGG_ROWS+=("$row") ;;
	*) SCHOOL_ROWS+=("$row") ;;
	esac
done
read -r _ _ _ so_port <<<"${SO_ROWS[0]}"
SO_URL="http://127.0.0.1:$so_port"

t_start=$(now)
start_batch "${SO_ROWS[@]}"
start_batch "${AGG_ROWS[@]}"
for ((i = 0; i < ${#SCHOOL_ROWS[@]}; i += BATCH)); do
	start_batch "${SCHOOL_ROWS[@]:i:BATCH}"
	echo "province: $(( ${#PIDS[@]} )) of ${#ROWS[@]} nodes healthy" >&2
done
t_healthy=$(now)
metric units_started "${#PIDS[@]}" processes "$(( ${#SO_ROWS[@]} )) so, ${#AGG_ROWS[@]} phong/xa, ${#SCHOOL_ROWS[@]} schools; $scheme links"
metric start_to_all_healthy_s "$(secs "$t_start" "$t_healthy")" s "batches of $BATCH, each waiting for /healthz"

# ---------------------------------------------------------------- online at the Sở
online_ok=1
read -r online_s online_n < <("$PY" "$HELPER" wait-online "$SO_URL" "$DIR" "$ONLINE_TIMEOUT" 2>"$DIR/online.err" || true)
t_online=$(now)
if [ "$online_s" = timeout ]; then
	online_ok=0
	cat "$DIR/online.err" >&2
	metric units_online_at_so "$online_n" units "of ${#PIDS[@]} started; missing listed above"
	metric start_to_all_online_s nan s "not all online within $ONLINE_TIMEOUT s"
else
	metric units_online_at_so "$online_n" units "of ${#PIDS[@]} started, per the Sở's topology/deployment report"
	metric start_to_all_online_s "$(secs "$t_start" "$t_online")" s "first start -> Sở reports every unit online"
	metric healthy_to_all_online_s "$online_s" s
fi
curl -fsS --max-time 10 "$SO_URL/api/v1/report/deployment" >"$DIR/report.json" 2>/dev/null || true

# ---------------------------------------------------------------- publish-to-Sở latency
"$PY" "$HELPER" probe "$SO_URL" "$DIR" "$PROBES" >"$DIR/probe.txt"
read -r lat_n lat_p50 lat_max lat_lost < <(sort -n "$DIR/probe.txt" | awk '
	/^[0-9.]+$/ { v[n++] = $1 } /timeout/ { t++ }
	END { if (n == 0) { print 0, "nan", "nan", t + 0; exit } print n, v[int(n * 0.5)], v[n - 1], t + 0 }')
metric publish_to_so_items "$lat_n" items "one item at each of $PROBES schools spread over the province"
metric publish_to_so_latency_p50 "$lat_p50" ms "POST at the school -> GET /api/v1/items/{id} 200 at the Sở"
metric publish_to_so_latency_max "$lat_max" ms
metric publish_to_so_lost "$lat_lost" items "not at the Sở after 60 s"

# ---------------------------------------------------------------- idle
sleep 2  # let the probes' replication settle before the idle window
measure_ok=1
"$PY" "$HELPER" measure "$DIR" "$IDLE" || measure_ok=0
metric disk_mib_total "$(du -sm "$DIR" | awk '{print $1}')" MiB "configs, LMDB files and logs of every node"

[ "$online_ok" = 1 ] && [ "$measure_ok" = 1 ] && [ "$lat_lost" = 0 ]
