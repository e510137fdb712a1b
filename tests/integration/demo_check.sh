#!/usr/bin/env bash
# integration.demo.main_job: README's first command, `deploy/edunet demo`,
# runs deploy/demo.sh. This runs it (--no-wait: stop right after showing the
# tree) with the binaries under test and checks what a user would see: every
# sample item at the Sở, the topology with current item counts, the portal
# URLs, and nothing left running.
#   demo_check.sh BIN_DIR
set -uo pipefail
bin=${1:?usage: demo_check.sh BIN_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d /tmp/edunet-demo-test.XXXXXX)
rmdir "$dir" # demo.sh wants an absent or empty directory of its own
out="$dir.out"
fail() { echo "demo_check: $*" >&2; echo "---- demo output:" >&2; cat "$out" >&2; exit 1; }
trap 'rm -rf "$dir" "$out"' EXIT

timeout 180 bash "$root/deploy/demo.sh" --bin "$bin" --dir "$dir" --no-wait >"$out" 2>&1
rc=$?
[ "$rc" = 0 ] || fail "demo.sh exited $rc"
grep -q "all 10 items reached the Sở" "$out" || fail "not every sample item reached the Sở"
grep -q "linked by mutual TLS" "$out" || fail "the demo tree is not on TLS"
grep -Eq "^so-dongthap .*\[online\].* items 10 " "$out" || fail "topology: the Sở does not show its 10 items"
grep -Eq "pgd-tp-caolanh .*\[online\].* items 5 " "$out" || fail "topology: a Phòng's count is not current"
[ "$(grep -c 'http://127.0.0.1:[0-9]*/ ' "$out")" -ge 9 ] || fail "fewer than 9 portal URLs printed"
if pgrep -f "$dir/" >/dev/null; then
	pkill -KILL -f "$dir/"
	fail "nodes still running after the demo stopped"
fi
echo "demo_check: ok"
