#!/usr/bin/env bash
# Installs the Debian 12 packages that edunet's build, tests, demo and
# (with --bench) benchmarks need. Only missing packages are installed, and
# `apt-get update` runs only when something is missing, so a second run is
# instant. Not root: prints the apt-get line to run and exits 1.
#
#   deploy/install-deps.sh            build + tests + demo
#   deploy/install-deps.sh --bench    also nginx, wrk, mosquitto (benchmark peers)
set -euo pipefail

BASE=(build-essential cmake pkg-config
      libevent-dev libnng-dev libprotobuf-c-dev protobuf-c-compiler liblmdb-dev
      libcmark-dev libutf8proc-dev libjansson-dev libcjson-dev libinih-dev libcmocka-dev
      libsodium-dev libmbedtls-dev libxml2-dev
      python3 python3-feedparser clang curl
      chromium fonts-noto-core)  # headless browser for the XSS tests (tests/integration/sec_xss.py)
BENCH=(nginx-light wrk mosquitto mosquitto-clients)

want=("${BASE[@]}")
for a in "$@"; do
	case "$a" in
	--bench) want+=("${BENCH[@]}") ;;
	-h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "install-deps: unknown option '$a' (use --bench or --help)" >&2; exit 2 ;;
	esac
done

# One dpkg-query call for every package: "install ok installed" marks a
# fully installed one.
declare -A ok=()
while read -r name status; do
	[ "$status" = "install ok installed" ] && ok[$name]=1
done < <(dpkg-query -W -f='${Package} ${Status}\n' "${want[@]}" nginx nginx-full nginx-core 2>/dev/null || true)

missing=()
for p in "${want[@]}"; do
	if [ "$p" = nginx-light ] && [ -n "${ok[nginx]:-}${ok[nginx-full]:-}${ok[nginx-core]:-}" ]; then
		continue  # any Debian nginx flavour serves the benchmark
	fi
	[ -n "${ok[$p]:-}" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

line="DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: run as root:" >&2
	echo "  apt-get update && $line" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
