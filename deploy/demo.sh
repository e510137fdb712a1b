#!/usr/bin/env bash
# edunet demo: a small Đồng Tháp tree of real edunetd processes on loopback.
#
#   so-dongthap (Sở)
#   ├── pgd-tp-caolanh (Phòng)  ── 3 schools
#   ├── pgd-tanhong    (Phòng)  ── 2 schools
#   └── thpt-nguyen-quang-dieu (THPT)
#
# Ports are chosen at run time. Sample Vietnamese content (news, announcements,
# a document, an event) is published at several schools through the JSON API
# and travels up to the Sở. Ctrl-C stops every node it started (by PID) and
# keeps the demo directory (configs, data, logs) for a look afterwards.
#
# Links between nodes use mutual TLS with certificates from a demo province CA
# (edunetctl ca init / ca issue), as in a real deployment.
#
# Usage: deploy/demo.sh [--bin DIR] [--dir DIR] [--no-tls] [--no-wait]
#   --bin DIR   where edunetd and edunetctl are (default: build/bin)
#   --no-tls    plain tcp:// links instead of tls+tcp://
#   --dir DIR   demo directory, must be empty or absent (default: a new /tmp/edunet-demo.*)
#   --no-wait   stop the tree right after showing it (used to check the demo works)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/build/bin"
DEMO_DIR=""
WAIT=1
TLS=1
PY=/usr/bin/python3
REGISTRY_SRC="$ROOT/config/dongthap-units.csv"

while [ $# -gt 0 ]; do
	case "$1" in
	--bin) BIN="$2"; shift 2 ;;
	--dir) DEMO_DIR="$2"; shift 2 ;;
	--no-wait) WAIT=0; shift ;;
	--no-tls) TLS=0; shift ;;
	-h|--help) sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "demo: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done

EDUNETD="$BIN/edunetd"
EDUNETCTL="$BIN/edunetctl"
for b in "$EDUNETD" "$EDUNETCTL"; do
	[ -x "$b" ] || { echo "demo: $b not found: build first (deploy/edunet demo does)" >&2; exit 1; }
done
[ -r "$REGISTRY_SRC" ] || { echo "demo: registry $REGISTRY_SRC missing" >&2; exit 1; }

if [ -z "$DEMO_DIR" ]; then
	DEMO_DIR="$(mktemp -d /tmp/edunet-demo.XXXXXX)"
else
	mkdir -p "$DEMO_DIR"
	if [ -n "$(ls -A "$DEMO_DIR")" ]; then
		echo "demo: $DEMO_DIR is not empty; give a new or empty directory" >&2
		exit 2
	fi
fi
DEMO_DIR="$(cd "$DEMO_DIR" && pwd)"

# The tree: unit role parent (parent "-" for the root). Names come from the registry.
TREE=(
	"so-dongthap so -"
	"pgd-tp-caolanh phong so-dongthap"
	"pgd-tanhong phong so-dongthap"
	"thpt-nguyen-quang-dieu school so-dongthap"
	"thcs-hoa-thuan school pgd-tp-caolanh"
	"th-tan-thuan-dong school pgd-tp-caolanh"
	"mn-my-tra school pgd-tp-caolanh"
	"thcs-sa-rai school pgd-tanhong"
	"th-tan-ho-co-1 school pgd-tanhong"
)

declare -A ROLE PARENT NAME REGPARENT HTTP_PORT DOWN_PORT TOKEN_FILE PID
UNITS=()

# The demo registry: the demo's units plus a few not deployed (two more
# schools per Phòng, another THPT, a GDTX centre and a commune with its
# schools), all taken from the province registry, so that topology and the
# deployment report show "never seen" units without listing ~670 of them.
# Prints "id<TAB>name<TAB>parent" for every unit kept.
while IFS=$'\t' read -r id name parent; do
	NAME[$id]="$name"
	REGPARENT[$id]="$parent"
done < <("$PY" - "$REGISTRY_SRC" "$DEMO_DIR/units.csv" "${TREE[@]%% *}" <<'PYEOF'
import csv, sys
src, dst, demo = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = list(csv.DictReader(open(src, encoding="utf-8")))
by_id = {r["id"]: r for r in rows}
keep = [u for u in demo if u in by_id]
def children(p, t=None):
    return [r["id"] for r in rows if r["parent"] == p and (t is None or r["type"] == t)]
for u in demo:
    if u in by_id and by_id[u]["type"] == "phong":
        keep += [c for c in children(u) if c not in demo][:2]
root = next((u for u in demo if u in by_id and not by_id[u]["parent"]), None)
if root:
    for t in ("thpt", "gdtx", "xa"):
        extra = [c for c in children(root, t) if c not in demo][:1]
        keep += extra
        if t == "xa":
            for x in extra:
                keep += children(x)
with open(dst, "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["id", "name", "type", "parent"])
    for r in rows:
        if r["id"] in keep:
            w.writerow([r["id"], r["name"], r["type"], r["parent"]])
            print("%s\t%s\t%s" % (r["id"], r["name"], r["parent"]))
PYEOF
)
for line in "${TREE[@]}"; do
	read -r u role parent <<<"$line"
	[ -n "${NAME[$u]:-}" ] || { echo "demo: unit $u is not in $REGISTRY_SRC" >&2; exit 1; }
	if [ "$parent" != - ] && [ "${REGPARENT[$u]}" != "$parent" ]; then
		echo "demo: $REGISTRY_SRC places $u under '${REGPARENT[$u]}', not $parent" >&2
		exit 1
	fi
	UNITS+=("$u")
	ROLE[$u]=$role
	PARENT[$u]=$parent
done

# Free ports: bind them all at once so they differ, then release them.
read -r -a PORTS <<<"$("$PY" -c '
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))' $(( ${#UNITS[@]} * 2 )))"
i=0
for u in "${UNITS[@]}"; do
	HTTP_PORT[$u]=${PORTS[$i]}; i=$((i + 1))
	if [ "${ROLE[$u]}" != school ]; then DOWN_PORT[$u]=${PORTS[$i]}; fi
	i=$((i + 1))
done

STOPPING=0
stop_all() {
	[ "$STOPPING" = 1 ] && return
	STOPPING=1
	local u p
	echo >&2
	echo "demo: stopping nodes..." >&2
	# Children first, so that parents see them leave (reverse start order).
	for ((k = ${#UNITS[@]} - 1; k >= 0; k--)); do
		u=${UNITS[$k]}; p=${PID[$u]:-}
		[ -n "$p" ] && kill -TERM "$p" 2>/dev/null || true
	done
	for u in "${UNITS[@]}"; do
		p=${PID[$u]:-}
		[ -n "$p" ] || continue
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$p" 2>/dev/null; then
			echo "demo: $u (pid $p) ignored SIGTERM for 10 s; killing it" >&2
			kill -KILL "$p" 2>/dev/null || true
		fi
		wait "$p" 2>/dev/null || true
	done
	echo "demo: stopped. Configs, data and logs kept in $DEMO_DIR" >&2
}
trap 'stop_all' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

SCHEME=tcp
if [ "$TLS" = 1 ]; then
	SCHEME=tls+tcp
	"$EDUNETCTL" ca init --dir "$DEMO_DIR/ca" --name "Demo CA Sở GD&ĐT Đồng Tháp" >/dev/null ||
		{ echo "demo: edunetctl ca init failed" >&2; exit 1; }
fi

write_config() {
	local u=$1 dir="$DEMO_DIR/$1"
	mkdir -p "$dir/data"
	if [ "$TLS" = 1 ]; then
		"$EDUNETCTL" ca issue --dir "$DEMO_DIR/ca" --unit "$u" --out "$dir/tls" >/dev/null ||
			{ echo "demo: edunetctl ca issue for $u failed" >&2; exit 1; }
	fi
	TOKEN_FILE[$u]="$dir/admin.token"
	(umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"${TOKEN_FILE[$u]}"; echo >>"${TOKEN_FILE[$u]}")
	{
		echo "[node]"
		echo "id = $u"
		echo "role = ${ROLE[$u]}"
		echo "name = ${NAME[$u]}"
		echo "data_dir = $dir/data"
		[ "${ROLE[$u]}" != school ] && echo "registry = $DEMO_DIR/units.csv"
		echo
		if [ "${PARENT[$u]}" != - ]; then
			echo "[uplink]"
			echo "parent = $SCHEME://127.0.0.1:${DOWN_PORT[${PARENT[$u]}]}"
			echo
		fi
		if [ "${ROLE[$u]}" != school ]; then
			echo "[downlink]"
			echo "listen = $SCHEME://127.0.0.1:${DOWN_PORT[$u]}"
			echo
		fi
		if [ "$TLS" = 1 ]; then
			echo "[tls]"
			echo "ca = $dir/tls/ca.crt"
			echo "cert = $dir/tls/$u.crt"
			echo "key = $dir/tls/$u.key"
			echo "ed25519 = $dir/tls/$u.ed25519"
			echo "revoked = $DEMO_DIR/ca/revoked.list"
			echo
		fi
		echo "[http]"
		echo "listen = 127.0.0.1:${HTTP_PORT[$u]}"
		echo
		echo "[admin]"
		echo "token_file = ${TOKEN_FILE[$u]}"
	} >"$dir/node.ini"
}

url() { echo "http://127.0.0.1:${HTTP_PORT[$1]}"; }

start_node() {
	local u=$1 dir="$DEMO_DIR/$1"
	"$EDUNETD" --check-config -c "$dir/node.ini" >/dev/null 2>"$dir/check.log" || {
		echo "demo: config of $u refused:" >&2; cat "$dir/check.log" >&2; exit 1; }
	"$EDUNETD" -c "$dir/node.ini" >>"$dir/edunetd.log" 2>&1 &
	PID[$u]=$!
}

wait_ready() {
	local u=$1
	for _ in $(seq 300); do
		if ! kill -0 "${PID[$u]}" 2>/dev/null; then
			echo "demo: $u exited during start-up; its log:" >&2
			tail -n 30 "$DEMO_DIR/$u/edunetd.log" >&2
			exit 1
		fi
		curl -fsS -o /dev/null --max-time 1 "$(url "$u")/healthz" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "demo: $u not ready after 15 s; its log:" >&2
	tail -n 30 "$DEMO_DIR/$u/edunetd.log" >&2
	exit 1
}

for u in "${UNITS[@]}"; do write_config "$u"; done
# Parents first so that children find them at once (they would retry anyway).
for u in "${UNITS[@]}"; do start_node "$u"; wait_ready "$u"; done
if [ "$TLS" = 1 ]; then
	echo "demo: ${#UNITS[@]} nodes up, linked by mutual TLS (demo CA in $DEMO_DIR/ca)" >&2
else
	echo "demo: ${#UNITS[@]} nodes up, linked by plain tcp" >&2
fi

# publish UNIT JSON: creates an item at UNIT through the API; prints its id.
PUBLISHED=0
publish() {
	local u=$1 body=$2 out st
	out="$(curl -sS --max-time 10 -w '\n%{http_code}' -X POST \
		-H "Authorization: Bearer $(head -n1 "${TOKEN_FILE[$u]}")" \
		-H 'Content-Type: application/json' --data-binary "$body" "$(url "$u")/api/v1/items")"
	st="${out##*$'\n'}"
	if [ "$st" != 201 ]; then
		echo "demo: publish at $u failed (HTTP $st): ${out%$'\n'*}" >&2
		exit 1
	fi
	PUBLISHED=$((PUBLISHED + 1))
	printf '  %-26s %s\n' "$u" "$(printf '%s' "${out%$'\n'*}" | sed -n 's/.*"id" *: *"\([^"]*\)".*/\1/p')" >&2
}

echo "demo: publishing sample content" >&2
publish thcs-hoa-thuan '{"kind":"news","title":"Lễ khai giảng năm học 2025–2026","summary":"Sáng 5/9, thầy và trò Trường THCS Hòa Thuận long trọng tổ chức lễ khai giảng năm học mới.","body":"Sáng ngày **5/9/2025**, Trường THCS Hòa Thuận tổ chức lễ khai giảng năm học 2025–2026 với sự tham dự của đại diện lãnh đạo địa phương và hơn 600 học sinh.\n\nNhà trường đặt mục tiêu nâng cao chất lượng dạy và học, đẩy mạnh chuyển đổi số.","tags":["khai giảng","năm học mới"],"author":"Tổ Văn phòng"}'
publish thcs-hoa-thuan '{"kind":"announcement","title":"Thông báo lịch kiểm tra giữa học kỳ I","summary":"Học sinh khối 6–9 kiểm tra giữa học kỳ I từ ngày 27/10 đến 31/10/2025.","body":"Phụ huynh và học sinh xem lịch chi tiết tại bảng tin của trường.\n\n- Khối 6, 7: sáng\n- Khối 8, 9: chiều","author":"Ban Giám hiệu"}'
publish th-tan-thuan-dong '{"kind":"news","title":"Hội thi Giáo viên dạy giỏi cấp trường","summary":"18 giáo viên tham gia hội thi với nhiều tiết dạy sáng tạo.","body":"Hội thi diễn ra trong hai tuần, tập trung vào đổi mới phương pháp dạy học theo chương trình GDPT 2018.","tags":["giáo viên"],"author":"Công đoàn trường"}'
publish mn-my-tra '{"kind":"event","title":"Ngày hội Bé vui Trung thu","summary":"Các bé cùng phụ huynh rước đèn, phá cỗ trông trăng.","body":"Kính mời quý phụ huynh đến tham dự cùng các bé.","starts":"2025-10-04T15:00:00+07:00","ends":"2025-10-04T18:00:00+07:00","location":"Sân trường Mầm non Mỹ Trà","author":"Ban Giám hiệu"}'
# The document goes through the operator CLI, as a school's staff would publish it.
ctl_out="$(printf '%s\n' '## Mục đích' '' 'Giúp học sinh định hướng nghề nghiệp phù hợp.' '' '## Nội dung' '' \
	'1. Tham quan cơ sở sản xuất tại địa phương.' '2. Tư vấn tuyển sinh lớp 10.' |
	"$EDUNETCTL" --node "$(url thcs-sa-rai)" --token-file "${TOKEN_FILE[thcs-sa-rai]}" publish \
		--kind document --title "Kế hoạch tổ chức hoạt động trải nghiệm, hướng nghiệp năm học 2025–2026" \
		--summary "Kế hoạch của Trường THCS Sa Rài về hoạt động trải nghiệm, hướng nghiệp cho học sinh khối 8 và 9." \
		--doc-number "45/KH-THCSSR" --doc-date 2025-09-15 --signer "Nguyễn Văn Hùng" \
		--author "Hiệu trưởng" --tag "hướng nghiệp" --body-file - 2>&1)" || {
	echo "demo: edunetctl publish at thcs-sa-rai failed: $ctl_out" >&2; exit 1; }
PUBLISHED=$((PUBLISHED + 1))
printf '  %-26s %s   (edunetctl publish)\n' thcs-sa-rai "$ctl_out" >&2
publish th-tan-ho-co-1 '{"kind":"announcement","title":"Thông báo nghỉ học do ảnh hưởng của mưa lũ","summary":"Học sinh nghỉ học ngày 20/10/2025; nhà trường sẽ bố trí học bù.","body":"Do mực nước dâng cao tại các tuyến đường liên ấp, nhà trường cho học sinh nghỉ học để bảo đảm an toàn.","tags":["an toàn","mùa lũ"],"author":"Ban Giám hiệu"}'
publish thpt-nguyen-quang-dieu '{"kind":"news","title":"Học sinh đạt giải Nhất kỳ thi học sinh giỏi quốc gia môn Hóa học","summary":"Em Trần Minh Khoa, lớp 12 Hóa, đạt giải Nhất kỳ thi chọn học sinh giỏi quốc gia.","body":"Đây là thành tích nổi bật của đội tuyển Đồng Tháp trong năm học vừa qua.","tags":["học sinh giỏi"],"author":"Tổ Hóa học"}'
publish thpt-nguyen-quang-dieu '{"kind":"event","title":"Ngày hội tư vấn tuyển sinh đại học 2026","summary":"Đại diện nhiều trường đại học tư vấn trực tiếp cho học sinh khối 12.","body":"Học sinh đăng ký câu hỏi trước với giáo viên chủ nhiệm.","starts":"2026-03-14T07:30:00+07:00","ends":"2026-03-14T11:00:00+07:00","location":"Hội trường Trường THPT Chuyên Nguyễn Quang Diêu","author":"Đoàn trường"}'
publish pgd-tp-caolanh '{"kind":"document","title":"Hướng dẫn thực hiện nhiệm vụ giáo dục trung học năm học 2025–2026","summary":"Phòng GD&ĐT thành phố Cao Lãnh hướng dẫn các trường THCS thực hiện nhiệm vụ năm học.","body":"Các trường xây dựng kế hoạch giáo dục nhà trường và gửi về Phòng trước ngày **30/9/2025**.","doc_number":"1024/PGDĐT-GDTrH","doc_date":"2025-09-08","signer":"Lê Thị Thu Hà","author":"Phòng GD&ĐT"}'
publish so-dongthap '{"kind":"announcement","title":"Triển khai cổng thông tin giáo dục edunet toàn tỉnh","summary":"Sở GD&ĐT Đồng Tháp đề nghị các đơn vị cập nhật tin tức lên cổng thông tin của đơn vị.","body":"Mỗi trường có một nút edunet riêng; tin bài tự động tổng hợp về Phòng và Sở.","tags":["chuyển đổi số"],"author":"Văn phòng Sở"}'

# Every item travels up to the Sở; wait until it has them all (or say how many).
so_total() {
	curl -fsS --max-time 2 "$(url so-dongthap)/api/v1/items?limit=100" 2>/dev/null |
		"$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))' 2>/dev/null || echo 0
}
n=0
for _ in $(seq 100); do
	n=$(so_total)
	[ "$n" -ge "$PUBLISHED" ] && break
	sleep 0.1
done
if [ "$n" -ge "$PUBLISHED" ]; then
	echo "demo: all $PUBLISHED items reached the Sở" >&2
else
	echo "demo: the Sở has $n of $PUBLISHED items so far (replication continues in the background)" >&2
fi

echo
echo "Portals (open in a browser; feeds at /feed.atom, /feed.rss, /feed.json; API at /api/v1/...):"
for u in "${UNITS[@]}"; do
	printf '  %-7s %-24s %-28s %s\n' "${ROLE[$u]}" "$u" "$(url "$u")/" "${NAME[$u]}"
done
# Item counts in the topology travel with the heartbeats (every second, one
# hop at a time): let the ones sent after the publishing arrive first.
sleep 2.5
echo
echo "\$ edunetctl --node $(url so-dongthap) topology"
"$EDUNETCTL" --node "$(url so-dongthap)" topology || echo "(edunetctl topology failed: exit $?)"
echo
echo "Try:"
echo "  $EDUNETCTL --node $(url so-dongthap) report deployment"
echo "  $EDUNETCTL --node $(url so-dongthap) items"
echo "  curl '$(url so-dongthap)/search?q=khai+giang'"
echo "  $EDUNETCTL --node $(url thcs-hoa-thuan) --token-file ${TOKEN_FILE[thcs-hoa-thuan]} \\"
echo "      publish --kind news --title 'Tin mới' --body-file - <<<'Nội dung **tin**.'"
echo "Node configs, data and logs: $DEMO_DIR/<unit>/"

if [ "$WAIT" = 1 ]; then
	echo
	echo "demo: running; press Ctrl-C to stop every node."
	# Wake up if any node dies, and say which.
	while :; do
		for u in "${UNITS[@]}"; do
			if ! kill -0 "${PID[$u]}" 2>/dev/null; then
				wait "${PID[$u]}" && rc=0 || rc=$?
				echo "demo: $u exited (status $rc); last lines of its log:" >&2
				tail -n 20 "$DEMO_DIR/$u/edunetd.log" >&2
				PID[$u]=""
				exit 1
			fi
		done
		sleep 1 &
		wait $! || true
	done
fi
