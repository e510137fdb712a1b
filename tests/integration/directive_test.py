"""Directives down the tree, receipts and reports up (node/directive).

Sở -> 2 Phòng -> THCS / TH schools over tcp:// (test mode). A directive for
type "thcs" must reach exactly the THCS schools, including one started only
after it was sent; acks and a report with an attachment come back; status at
the Sở evaluated with ?at= before and after the deadline shows pending,
on_time, late and missing. Forged receipts and directives from schools are
refused.
"""
import calendar
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN_DIR, check, http, run, wait_until  # noqa: E402

TESTPEER = os.path.join(BIN_DIR, "edunet-testpeer")
SO = "so-thu"
PHONGS = {"pgd-a": ["thcs-a1", "th-a1"], "pgd-b": ["thcs-b1", "thcs-b2", "th-b1"]}


def rfc(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def start_tree(c, late=()):
    rows = ["id,name,type,parent", "%s,Sở GD&ĐT Thử,so," % SO]
    for p, schools in PHONGS.items():
        rows.append("%s,Phòng GD&ĐT %s,phong,%s" % (p, p, SO))
        for s in schools:
            rows.append("%s,Trường %s,%s,%s" % (s, s, s.split("-")[0], p))
    reg = os.path.join(c.dir, "units.csv")
    with open(reg, "w", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")
    n = {SO: c.node(SO, role="so", registry=reg, name="Sở GD&ĐT Thử").start()}
    for p, schools in PHONGS.items():
        n[p] = c.node(p, role="phong", registry=reg, parent_port=n[SO].down_port).start()
        for s in schools:
            n[s] = c.node(s, role="school", parent_port=n[p].down_port)
            if s not in late:
                n[s].start()
    return n


def dirs(node):
    st, doc, _ = node.api("GET", "/api/v1/directives", token=False)
    check(st == 200, "list at %s: %s %r" % (node.unit, st, doc))
    return {d["id"]: d for d in doc["directives"]}


def status(so, did, at=None):
    path = "/api/v1/directives/%s/status" % did + ("?at=" + rfc(at) if at else "")
    st, doc, _ = so.api("GET", path, token=False)
    check(st == 200, "status: %s %r" % (st, doc))
    return {u["unit"]: u for u in doc["units"]}, doc


def upload(node, name, data):
    st, doc, _ = node.api("POST", "/api/v1/attachments?name=" + name, raw=data,
                          headers={"Content-Type": "text/plain"})
    check(st == 201 or st == 200, "upload: %s %r" % (st, doc))
    return doc


def thcs_reach_and_status(c):
    n = start_tree(c, late=("thcs-b2",))
    so = n[SO]
    deadline = int(time.time()) + 15  # room for a slow (sanitizer) build before the on-time report
    body = {"title": "Chỉ đạo kiểm tra cuối kỳ", "body": "Các trường **THCS** báo cáo.",
            "doc_number": "123/SGDĐT-GDTrH", "doc_date": "2024-05-02", "signer": "Nguyễn Văn A",
            "audience": {"types": ["thcs"], "units": []}, "report_requested": True,
            "deadline": rfc(deadline)}
    # a school cannot issue directives
    st, doc, _ = n["thcs-a1"].api("POST", "/api/v1/directives", body)
    check(st == 403, "school publishing a directive: %s %r" % (st, doc))
    st, doc, _ = so.api("POST", "/api/v1/directives", body)
    check(st == 201, "publish: %s %r" % (st, doc))
    did = doc["id"]
    t0 = time.time()
    for s in ("thcs-a1", "thcs-b1"):
        wait_until(lambda: did in dirs(n[s]), timeout=5, what="%s at %s" % (did, s))
    print("directive reached live THCS schools in %.2f s" % (time.time() - t0))
    for s in ("th-a1", "th-b1", "pgd-a", "pgd-b"):
        check(did not in dirs(n[s]), "%s must not list %s" % (s, did))
    d = dirs(n["thcs-a1"])[did]
    check(d["issuer"] == SO and d["direction"] == "received" and d["receipt"]["received"], "received view %r" % d)
    # the late THCS school gets it as soon as it starts
    n["thcs-b2"].start()
    wait_until(lambda: did in dirs(n["thcs-b2"]), timeout=5, what="%s at the late school" % did)
    # receipts flow up automatically
    wait_until(lambda: all(status(so, did)[0][u]["received"] for u in ("thcs-a1", "thcs-b1", "thcs-b2")),
               timeout=5, what="received at the Sở")
    units, doc = status(so, did)
    check(set(units) == {"thcs-a1", "thcs-b1", "thcs-b2"}, "targets %r" % sorted(units))
    # thcs-a1 reports on time with an attachment (via the CLI), thcs-b1 only acknowledges
    rep = os.path.join(c.dir, "report.txt")
    att = os.path.join(c.dir, "bang-diem.csv")
    with open(rep, "w", encoding="utf-8") as f:
        f.write("Đã kiểm tra xong, 12 lớp.\n")
    with open(att, "w") as f:
        f.write("lop,diem\n6A,8.1\n")
    r = n["thcs-a1"].ctl("directive", "report", did, "--file", rep, "--attach", att)
    check(r.returncode == 0, "ctl report: %s %s" % (r.stdout, r.stderr))
    r = n["thcs-b1"].ctl("directive", "ack", did)
    check(r.returncode == 0, "ctl ack: %s %s" % (r.stdout, r.stderr))
    st, doc, _ = n["thcs-b1"].api("POST", "/api/v1/directives/%s/ack" % did, {})
    check(st == 200, "ack is idempotent: %s %r" % (st, doc))
    st, doc, _ = n["th-a1"].api("POST", "/api/v1/directives/%s/ack" % did, {})
    check(st == 404, "non-target ack: %s %r" % (st, doc))
    wait_until(lambda: status(so, did)[0]["thcs-a1"]["reported"] and status(so, did)[0]["thcs-b1"]["acknowledged"],
               timeout=5, what="report and ack at the Sở")
    units, doc = status(so, did)
    a1 = units["thcs-a1"]
    check(a1["report_text"].startswith("Đã kiểm tra xong") and a1["report_attachments"][0]["name"] == "bang-diem.csv",
          "report at the Sở %r" % a1)
    st, _, data = http(so.url + "/api/v1/directives/%s/reports/thcs-a1/attachments/0" % did)
    check(st == 200 and data == b"lop,diem\n6A,8.1\n", "report attachment at the Sở: %s %r" % (st, data))
    before = {u: v["state"] for u, v in status(so, did, at=deadline - 1)[0].items()}
    check(before == {"thcs-a1": "on_time", "thcs-b1": "pending", "thcs-b2": "pending"}, "before: %r" % before)
    # thcs-b2 reports after the deadline
    wait_until(lambda: time.time() > deadline + 1, timeout=15, what="deadline")
    st, doc, _ = n["thcs-b2"].api("POST", "/api/v1/directives/%s/report" % did, {"text": "Báo cáo muộn"})
    check(st == 200, "late report: %s %r" % (st, doc))
    st, doc, _ = n["thcs-b2"].api("POST", "/api/v1/directives/%s/report" % did, {"text": "lần hai"})
    check(st == 409, "second report: %s %r" % (st, doc))
    wait_until(lambda: status(so, did)[0]["thcs-b2"]["reported"], timeout=5, what="late report at the Sở")
    after_at = time.time() + 1
    units, doc = status(so, did, at=after_at)
    after = {u: v["state"] for u, v in units.items()}
    check(after == {"thcs-a1": "on_time", "thcs-b1": "missing", "thcs-b2": "late"}, "after: %r" % after)
    by_phong = {g["phong"]: g for g in doc["rollup"]["by_phong"]}
    check(by_phong["pgd-a"]["on_time"] == 1 and by_phong["pgd-b"]["late"] == 1 and by_phong["pgd-b"]["missing"] == 1,
          "rollup by Phòng %r" % by_phong)
    by_type = {g["type"]: g for g in doc["rollup"]["by_type"]}
    check(list(by_type) == ["thcs"] and by_type["thcs"]["units"] == 3, "rollup by type %r" % by_type)
    # the CLI at the issuer: status --csv --at, and list
    r = so.ctl("directive", "status", did, "--csv", "--at", rfc(after_at))
    out = r.stdout.decode()
    check(r.returncode == 0 and "unit,thcs-b2," in out and ",late" in out and ",missing" in out, "csv: %s %s" % (out, r.stderr.decode(errors="replace")[:1500]))
    r = so.ctl("directive", "list", "--all")
    check(r.returncode == 0 and did in r.stdout.decode(), "list: %s %s" % (r.stdout, r.stderr))
    # the school's view of its own receipt
    d = dirs(n["thcs-b2"])[did]
    check(d["state"] == "late" and d["receipt"]["reported"], "school view %r" % d)
    # durable across a restart of a Phòng and the Sở
    so.stop()
    so.start()
    check(status(so, did, at=after_at)[0]["thcs-b2"]["state"] == "late", "status after restart")


def forged_refused(c):
    n = start_tree(c)
    so = n[SO]
    st, doc, _ = so.api("POST", "/api/v1/directives", {"title": "Báo cáo sĩ số", "audience": {"units": ["thcs-a1", "thcs-b1"]},
                                                      "report_requested": True})
    check(st == 201, "publish %s %r" % (st, doc))
    did = doc["id"]
    wait_until(lambda: did in dirs(n["thcs-b1"]), timeout=5, what="delivery")
    # a peer on pgd-a's downlink claiming th-a1 forges thcs-b1's report (outside its subtree)
    url = "tcp://127.0.0.1:%d" % n["pgd-a"].down_port
    r = subprocess.run([TESTPEER, url, "th-a1", "receipt", did, "thcs-b1", "reported"], capture_output=True, timeout=20)
    check(r.returncode == 3, "forged receipt outside the subtree: %d %s" % (r.returncode, r.stdout))
    # ... and for th-a1 itself, which is not a target
    r = subprocess.run([TESTPEER, url, "th-a1", "receipt", did, "th-a1", "acked"], capture_output=True, timeout=20)
    check(r.returncode == 3, "receipt of a non-target: %d %s" % (r.returncode, r.stdout))
    # a Phòng cannot address units outside its subtree
    st, doc, _ = n["pgd-a"].api("POST", "/api/v1/directives", {"title": "x", "audience": {"units": ["thcs-b1"]}})
    check(st == 400, "Phòng addressing another Phòng's school: %s %r" % (st, doc))
    # a school cannot issue at all
    st, doc, _ = n["th-a1"].api("POST", "/api/v1/directives", {"title": "Giả mạo của Sở"})
    check(st == 403, "school issuing: %s %r" % (st, doc))
    time.sleep(1.5)
    units, _ = status(so, did)
    check(not units["thcs-b1"]["reported"], "forged report counted at the Sở: %r" % units["thcs-b1"])
    check(not dirs(n["th-a1"]), "th-a1 got a directive")


if __name__ == "__main__":
    run([thcs_reach_and_status, forged_refused])
