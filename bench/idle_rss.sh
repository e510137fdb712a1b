#!/usr/bin/env bash
# Resident memory of an idle school node: after start, and after 1,000
# published items (~1 KiB each) plus a few page and feed views. Target <= 6 MiB.
source "$(dirname "$0")/lib.sh"
need "$EDUNETD" curl

# A connected school, as deployed: its uplink and one-second heartbeats run.
node_new so-dongthap so
node_new pgd-tanhong phong so-dongthap
node_new thcs-sa-rai school pgd-tanhong
node_start so-dongthap
node_start pgd-tanhong
node_start thcs-sa-rai
url=$(node_url thcs-sa-rai)
pid=$(node_pid thcs-sa-rai)
sleep 1
start=$(rss_kib "$pid")

"$PY" "$BENCH_SRC/edubench.py" publish "$url" "$(node_token thcs-sa-rai)" 1000 1024
for p in / /feed.atom /feed.rss /feed.json "/search?q=ban+tin" /api/v1/items; do
	curl -fsS -o /dev/null "$url$p"
done
sleep 4  # the store gives its pages back after a whole idle second (<= 3 s)
after=$(rss_kib "$pid")
anon=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status")
file=$(awk '/^RssFile:/ {print $2}' "/proc/$pid/status")

mib() { awk -v k="$1" 'BEGIN { printf "%.2f", k / 1024 }'; }
metric idle_rss_start "$(mib "$start")" MiB "target <= 6"
metric idle_rss_after_1000_items "$(mib "$after")" MiB "target <= 6"
metric idle_rss_after_anon "$(mib "$anon")" MiB "heap, stacks"
metric idle_rss_after_file "$(mib "$file")" MiB "mapped files: LMDB pages, libraries"
metric idle_rss_target_ratio "$(ratio "$(mib "$after")" 6)" x "after 1000 items vs the 6 MiB target (<= 1 is met)"
