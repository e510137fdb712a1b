#!/usr/bin/env bash
# Runs every benchmark in turn (they are not tests: they print `metric value
# unit` lines and never fail on a missed target; a broken benchmark does
# fail). Needs the benchmark peers: deploy/install-deps.sh --bench.
#   bench/run-all.sh [NAME...]    NAME: publish idle_rss feed_vs_nginx tree_vs_mosquitto
set -uo pipefail
cd "$(dirname "$0")" || exit 1
all=(idle_rss publish feed_vs_nginx tree_vs_mosquitto)
[ $# -gt 0 ] && all=("$@")
failed=()
for b in "${all[@]}"; do
	[ -x "./$b.sh" ] || { echo "run-all: no benchmark '$b'" >&2; failed+=("$b"); continue; }
	echo "## $b"
	if ! "./$b.sh"; then
		echo "run-all: $b failed" >&2
		failed+=("$b")
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "run-all: failed: ${failed[*]}" >&2
	exit 1
fi
