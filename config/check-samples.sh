#!/usr/bin/env bash
# Checks that config/*.ini.sample pass `edunetd --check-config` once the
# files they name exist (TLS PEMs, token, registry, data dir are created in
# a temporary directory and the sample's paths pointed there), and that the
# registry CSV is well formed. Usage: config/check-samples.sh [BIN_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-$here/../build/bin}"
d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT
mkdir -p "$d/data"
# Real certificates from a throw-away CA: --check-config loads the identity.
"$bin/edunetctl" ca init --dir "$d/ca" --name "Sample CA" >/dev/null
for u in thcs-an-binh-a pgd-tp-hongngu so-dongthap; do
	"$bin/edunetctl" ca issue --dir "$d/ca" --unit "$u" --out "$d/tls" >/dev/null
done
(umask 077; od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$d/admin.token")
cp "$here/dongthap-units.csv" "$d/units.csv"
fail=0
for s in "$here"/*.ini.sample; do
	sed -e "s|/etc/edunet/tls|$d/tls|; s|/etc/edunet/admin.token|$d/admin.token|" \
	    -e "s|/etc/edunet/units.csv|$d/units.csv|; s|/var/lib/edunet|$d/data|" "$s" >"$d/node.ini"
	if "$bin/edunetd" --check-config -c "$d/node.ini" >/dev/null 2>"$d/err"; then
		echo "ok   $(basename "$s")"
	else
		echo "FAIL $(basename "$s"): $(cat "$d/err")"; fail=1
	fi
done
# The registry: header, unique ids of the allowed form, known types, parents that exist.
/usr/bin/python3 - "$here/dongthap-units.csv" <<'PY' || fail=1
import csv, re, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8")))
assert rows[0] == ["id", "name", "type", "parent"], "bad header %r" % rows[0]
ids = [r[0] for r in rows[1:]]
assert len(ids) == len(set(ids)), "duplicate ids"
types = {"so", "phong", "xa", "thpt", "gdtx", "thcs", "th", "mn"}
for r in rows[1:]:
    assert len(r) == 4 and re.fullmatch(r"[a-z0-9-]{2,40}", r[0]) and r[2] in types, r
    assert (r[1] and (r[3] in ids if r[3] else r[2] == "so")), r
print("ok   dongthap-units.csv (%d units)" % len(ids))
PY
exit $fail
