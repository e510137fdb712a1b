#!/bin/sh
# Runs the libFuzzer drivers: tests/fuzz/run.sh DRIVER|all SECONDS
#   DRIVER is fuzz_item_decode, fuzz_wire, ... (or its short name, item_decode).
# Builds build-fuzz (clang, -DEDU_FUZZ=ON) when needed, fuzzes each driver for
# SECONDS on a scratch copy of its seed corpus (the repo is never written),
# and prints per driver: executions, exec/s and findings. Crashing inputs are
# kept in tests/fuzz/crashers/DRIVER/ (for reporting; they become seeds only
# once fixed). Exit status 1 when anything was found.
# Environment: EDU_FUZZ_BUILD (default <repo>/build-fuzz), EDU_FUZZ_JOBS
# (parallel build jobs, default 2), EDU_FUZZ_NICE (default 10).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${EDU_FUZZ_BUILD:-$repo/build-fuzz}
all="fuzz_item_decode fuzz_wire fuzz_conf fuzz_json_item fuzz_markdown fuzz_fold fuzz_registry"

usage() { echo "usage: $0 DRIVER|all SECONDS   (drivers: $all)" >&2; exit 2; }
[ $# -eq 2 ] || usage
case "$2" in ''|*[!0-9]*) usage ;; esac
secs=$2
if [ "$1" = all ]; then
	drivers=$all
else
	d=$1
	case "$d" in fuzz_*) ;; *) d=fuzz_$d ;; esac
	case " $all " in *" $d "*) ;; *) usage ;; esac
	drivers=$d
fi

# Largest input per driver: a bit over what the node accepts, so the size
# limits themselves are exercised without wasting time on huge inputs.
max_len() {
	case "$1" in
	fuzz_item_decode) echo 65536 ;;
	fuzz_wire) echo 65536 ;;
	fuzz_conf) echo 16384 ;;
	fuzz_json_item) echo 65536 ;;
	fuzz_markdown) echo 65536 ;;
	fuzz_fold) echo 16384 ;;
	fuzz_registry) echo 65536 ;;
	esac
}

if [ ! -f "$build/CMakeCache.txt" ]; then
	cmake -S "$repo" -B "$build" -DCMAKE_C_COMPILER=clang -DEDU_FUZZ=ON \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
# shellcheck disable=SC2086
nice -n "${EDU_FUZZ_NICE:-10}" cmake --build "$build" -j"${EDU_FUZZ_JOBS:-2}" --target $drivers >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/edu-fuzz-run.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
found=0
printf '%-18s %12s %9s %6s %8s %s\n' driver execs exec/s cov corpus findings
for d in $drivers; do
	mkdir -p "$work/$d/corpus" "$work/$d/artifacts"
	cp "$here/corpus/$d/"* "$work/$d/corpus/"
	log="$work/$d/log"
	status=0
	( cd "$work/$d" && nice -n "${EDU_FUZZ_NICE:-10}" "$build/bin/$d" \
		-max_total_time="$secs" -max_len="$(max_len "$d")" -rss_limit_mb=2048 -timeout=25 \
		-print_final_stats=1 -artifact_prefix="$work/$d/artifacts/" \
		corpus >"$log" 2>&1 ) || status=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	ncorp=$(ls "$work/$d/corpus" | wc -l)
	finds=""
	slow=""
	for a in "$work/$d/artifacts/"*; do
		[ -e "$a" ] || continue
		case "$(basename "$a")" in
		slow-unit-*)
			# over 10 s once (often just a loaded machine): noted, not a finding
			slow="$slow $(basename "$a")"
			continue ;;
		esac
		mkdir -p "$here/crashers/$d"
		cp "$a" "$here/crashers/$d/"
		cp "$log" "$here/crashers/$d/$(basename "$a").log"
		finds="$finds $(basename "$a")"
	done
	[ -z "$slow" ] || echo "$d: slow inputs (not kept; time them alone before worrying):$slow"
	if [ -n "$finds" ] || [ "$status" -ne 0 ]; then
		found=1
		[ -n "$finds" ] || finds=" exit status $status (see below)"
		printf '%-18s %12s %9s %6s %8s%s\n' "$d" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$ncorp" "$finds"
		grep -m1 -A25 -E '^==[0-9]+==ERROR|invariant failed|runtime error|^SUMMARY' "$log" | sed 's/^/    /' || tail -30 "$log"
	else
		printf '%-18s %12s %9s %6s %8s %s\n' "$d" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$ncorp" none
	fi
done
exit $found
