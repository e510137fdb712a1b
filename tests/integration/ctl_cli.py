"""edunetctl against a real edunetd (SPEC §3): publish, items, show, delete,
status, topology, report, and the exit codes 1 (failed), 2 (usage) and
3 (node unreachable)."""
import json
import os
import subprocess
import sys
import unicodedata

sys.path.insert(0, os.path.dirname(__file__))
from harness import EDUNETCTL, check, free_port, run  # noqa: E402


def ctl_raw(*args, input=None, env=None):
    e = dict(os.environ)
    e.pop("EDUNET_TOKEN", None)
    e.update(env or {})
    return subprocess.run([EDUNETCTL] + list(args), input=input, capture_output=True, timeout=60, env=e)


def ok(r, what):
    check(r.returncode == 0, "%s: exit %d\nstdout: %s\nstderr: %s" % (
        what, r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")))
    return r.stdout.decode()


def width(s):
    """Display columns: combining marks take none."""
    return sum(0 if unicodedata.combining(ch) else 1 for ch in s)


def school(c):
    # A school needs a parent (SPEC §4); nothing listens there, so items stay in its backlog.
    n = c.node("thcs-an-binh-a", name="Trường THCS An Bình A", parent_port=free_port())
    n.start()
    return n


def test_publish_show(c):
    n = school(c)
    body_file = os.path.join(c.dir, "body.md")
    with open(body_file, "w", encoding="utf-8") as f:
        f.write("# Lịch thi\n\nHọc sinh **đến sớm** 15 phút.\n")
    out = ok(n.ctl("publish", "--title", "Thông báo lịch thi học kỳ I", "--kind", "announcement",
                   "--summary", "Lịch thi", "--body-file", body_file, "--tag", "thi", "--tag", "học kỳ",
                   "--author", "Cô Lan"), "publish from file")
    iid = out.strip()
    check(iid.startswith("thcs-an-binh-a:"), "publish printed %r" % out)
    st, doc, _ = n.api("GET", "/api/v1/items/" + iid, token=False)
    check(st == 200, "item not found: %s" % st)
    check(doc["title"] == "Thông báo lịch thi học kỳ I" and doc["kind"] == "announcement", doc)
    check("đến sớm" in doc["body"] and doc["tags"] == ["thi", "học kỳ"] and doc["author"] == "Cô Lan", doc)

    # Body from stdin, a document with two attachments.
    pdf = os.path.join(c.dir, "Quyết định 12.pdf")
    with open(pdf, "wb") as f:
        f.write(b"%PDF-1.4\n" + os.urandom(3000))
    png = os.path.join(c.dir, "anh.png")
    with open(png, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + os.urandom(100))
    out = ok(n.ctl("publish", "--title", "Quyết định khen thưởng", "--kind", "document",
                   "--doc-number", "12/QĐ-THCS", "--doc-date", "2026-11-30", "--signer", "Hiệu trưởng",
                   "--body-file", "-", "--attach", pdf, "--attach", png,
                   input="Nội dung từ stdin.\n".encode()), "publish from stdin")
    did = out.strip()
    st, doc, _ = n.api("GET", "/api/v1/items/" + did, token=False)
    check(st == 200 and doc["body"].startswith("Nội dung từ stdin."), doc)
    check(doc["doc_number"] == "12/QĐ-THCS" and doc["signer"] == "Hiệu trưởng", doc)
    atts = {a["name"]: a for a in doc["attachments"]}
    check(set(atts) == {"Quyết định 12.pdf", "anh.png"}, atts)
    check(atts["Quyết định 12.pdf"]["media_type"] == "application/pdf", atts)
    check(atts["anh.png"]["media_type"] == "image/png" and atts["anh.png"]["size"] == 108, atts)
    import hashlib
    with open(pdf, "rb") as f:
        check(atts["Quyết định 12.pdf"]["sha256"] == hashlib.sha256(f.read()).hexdigest(), "sha256")

    out = ok(n.ctl("show", did), "show")
    check("Quyết định khen thưởng" in out and "12/QĐ-THCS" in out, out)
    check("Quyết định 12.pdf" in out and "Nội dung từ stdin." in out, out)
    doc = json.loads(ok(n.ctl("show", did, json_out=True), "show --json"))
    check(doc["id"] == did, doc)


def test_items(c):
    n = school(c)
    titles = ["Khai giảng năm học mới", "Họp phụ huynh", "Thông báo nghỉ Tết Nguyên Đán", "Lịch công tác tuần 12"]
    for t in titles:
        n.publish(t)
    out = ok(n.ctl("items"), "items")
    lines = out.rstrip("\n").split("\n")
    check(len(lines) == 1 + len(titles) + 1, out)
    head = lines[0]
    tcol = width(head[:head.index("TIÊU ĐỀ")])
    ucol = width(head[:head.index("ĐƠN VỊ")])
    for line, t in zip(lines[1:], reversed(titles)):  # newest first
        check(width(line[:line.index(t)]) == tcol, "title not aligned:\n" + out)
        check(width(line[:line.index("thcs-an-binh-a ")]) == ucol or line.startswith("thcs-an-binh-a:"),
              "unit not aligned:\n" + out)
        check(line.endswith(t), out)
    # The unit column of each row starts at the same display column.
    cols = {width(l[:l.index("  thcs-an-binh-a  ") + 2]) for l in lines[1:-1]}
    check(cols == {ucol}, "unit column: %s vs %s\n%s" % (cols, ucol, out))
    doc = json.loads(ok(n.ctl("items", json_out=True), "items --json"))
    check([i["title"] for i in doc["items"]] == list(reversed(titles)), doc)
    doc = json.loads(ok(n.ctl("items", "--limit", "1", "--all", json_out=True), "items --all"))
    check(len(doc["items"]) == len(titles), "--all got %d" % len(doc["items"]))
    out = ok(n.ctl("items", "--limit", "1", "--all"), "items --all table")
    check(all(t in out for t in titles), out)
    out = ok(n.ctl("items", "--q", "hop phu huynh"), "items --q")
    check("Họp phụ huynh" in out and "Khai giảng" not in out, out)


def test_delete(c):
    n = school(c)
    iid = n.publish("Tin sẽ bị xoá")
    out = ok(n.ctl("delete", iid), "delete")
    check(iid in out, out)
    st, doc, _ = n.api("GET", "/api/v1/items/" + iid, token=False)
    check(st in (404, 410) or (st == 200 and doc.get("deleted") is True), "after delete: %s %s" % (st, doc))
    r = n.ctl("delete", "thcs-an-binh-a:999")
    check(r.returncode == 1 and "lỗi:" in r.stderr.decode(), r)


def test_status(c):
    n = school(c)
    out = ok(n.ctl("status"), "status")
    check("thcs-an-binh-a" in out and "uptime_s" in out and "uplink.state" in out, out)
    doc = json.loads(ok(n.ctl("status", json_out=True), "status --json"))
    check(doc["id"] == "thcs-an-binh-a" and doc["role"] == "school", doc)
    # Token from the environment works for writes too.
    r = ctl_raw("--node", n.url, "publish", "--title", "Qua biến môi trường", env={"EDUNET_TOKEN": n.token})
    check(r.returncode == 0, r)


def test_topology_report(c):
    reg = os.path.join(c.dir, "units.csv")
    with open(reg, "w", encoding="utf-8") as f:
        f.write("id,name,type,parent\n"
                "so-dongthap,Sở GD&ĐT Đồng Tháp,so,\n"
                "pgd-tanhong,Phòng GD&ĐT Tân Hồng,phong,so-dongthap\n"
                "thcs-an-binh-a,Trường THCS An Bình A,thcs,pgd-tanhong\n"
                "th-tan-ho-co,Trường TH Tân Hộ Cơ,th,pgd-tanhong\n")
    n = c.node("pgd-tanhong", role="phong", name="Phòng GD&ĐT Tân Hồng", parent_port=free_port(), registry=reg)
    n.start()
    out = ok(n.ctl("topology"), "topology")
    lines = out.rstrip("\n").split("\n")
    check(lines[0].startswith("pgd-tanhong  Phòng GD&ĐT Tân Hồng  [online]"), out)
    check(any(l.startswith("├─ thcs-an-binh-a  Trường THCS An Bình A  [never_seen]  chưa thấy") for l in lines), out)
    check(any(l.startswith("└─ th-tan-ho-co") for l in lines), out)
    doc = json.loads(ok(n.ctl("topology", json_out=True), "topology --json"))
    check(doc["unit"] == "pgd-tanhong" and len(doc["children"]) == 2, doc)
    out = ok(n.ctl("report", "deployment"), "report")
    check("Chưa từng kết nối (2):" in out and "th-tan-ho-co" in out, out)
    out = ok(n.ctl("report", "deployment", "--csv"), "report --csv")
    rows = out.strip().split("\r\n")
    check(rows[0] == "scope,unit,name,type,expected,deployed,online,stale,parent", out)
    check("never_seen,th-tan-ho-co,Trường TH Tân Hộ Cơ,th,,,,,pgd-tanhong" in rows, out)
    doc = json.loads(ok(n.ctl("report", "deployment", json_out=True), "report --json"))
    check(len(doc["never_seen"]) == 2, doc)


def test_errors(c):
    n = school(c)
    # 3: nothing listens on the port.
    port = free_port()
    r = ctl_raw("--node", "http://127.0.0.1:%d" % port, "status")
    check(r.returncode == 3, r)
    check(("không kết nối được tới node http://127.0.0.1:%d: Connection refused" % port) in r.stderr.decode(), r)
    # 1: wrong token, with the node's message.
    bad = os.path.join(c.dir, "bad.token")
    with open(bad, "w") as f:
        f.write("not-the-token\n")
    r = ctl_raw("--node", n.url, "--token-file", bad, "publish", "--title", "x")
    err = r.stderr.decode()
    check(r.returncode == 1 and "lỗi:" in err and "401" in err and "Bearer" in err, r)
    r = ctl_raw("--node", n.url, "publish", "--title", "x")  # no token at all
    check(r.returncode == 1 and "401" in r.stderr.decode(), r)
    r = ctl_raw("--node", n.url, "--token-file", os.path.join(c.dir, "missing"), "status")
    check(r.returncode == 1, r)
    # 1: the node rejects what it gets (title too long).
    r = n.ctl("publish", "--title", "x" * 301)
    check(r.returncode == 1 and "lỗi:" in r.stderr.decode(), r)
    # 2: usage.
    for args in (["frobnicate"], [], ["publish"], ["show"], ["show", "a:1", "b:2"], ["items", "--limit", "0"],
                 ["items", "--colour"], ["publish", "--title", "x", "--kind", "poem"],
                 ["publish", "--title", "x", "--signer", "A"], ["report", "sales"],
                 ["--node", "https://127.0.0.1:1", "status"]):
        r = ctl_raw("--node", n.url, *args) if "--node" not in args else ctl_raw(*args)
        check(r.returncode == 2, "%s: exit %d %s" % (args, r.returncode, r.stderr))
        check(b"edunetctl" in r.stderr, r)
    r = ctl_raw("--help")
    check(r.returncode == 0 and all(w in r.stdout.decode() for w in
                                    ("status", "publish", "items", "show", "delete", "topology", "report")), r)
    r = ctl_raw("--version")
    check(r.returncode == 0 and r.stdout.startswith(b"edunetctl "), r)


if __name__ == "__main__":
    run([test_publish_show, test_items, test_delete, test_status, test_topology_report, test_errors])
