"""Identity and integrity on the replication tree (SPEC §6.5): mutual TLS,
the Hello/challenge handshake binding a link to a unit, origin signatures
checked at every hop, and revocation.

Certificates are made by `edunetctl ca init/issue/revoke` in the test's temp
dir. The fake children are edunet-testpeer (aggregator/testpeer.c).

Cases: signed_tree other_ca identity wrong_parent revoked tamper.
`throughput` (not a ctest case) measures a 10,000-item burst, tcp vs tls.
"""
import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN_DIR, EDUNETCTL, check, run, wait_until  # noqa: E402

TESTPEER = os.path.join(BIN_DIR, "edunet-testpeer")
SO = "so-thu"


class Pki:
    """A province CA in the test dir; issue() writes a unit's files."""

    def __init__(self, c, name="ca"):
        self.dir = os.path.join(c.dir, name)
        self.out = os.path.join(c.dir, name + "-units")
        self.ctl("init", "--dir", self.dir, "--name", "Sở GD&ĐT Thử " + name)

    def ctl(self, *args):
        r = subprocess.run([EDUNETCTL, "ca"] + list(args), capture_output=True, timeout=30)
        check(r.returncode == 0, "edunetctl ca %s: %s%s" % (" ".join(args), r.stdout, r.stderr))

    def issue(self, *units):
        for u in units:
            self.ctl("issue", "--dir", self.dir, "--unit", u, "--out", self.out)

    def prefix(self, unit):
        return os.path.join(self.out, unit)

    def tls(self, unit, as_unit=None):
        """[tls] section for a node; as_unit: use another unit's files."""
        p = self.prefix(as_unit or unit)
        return {"ca": os.path.join(self.out, "ca.crt"), "cert": p + ".crt", "key": p + ".key",
                "ed25519": p + ".ed25519", "revoked": os.path.join(self.dir, "revoked.list")}

    def revoke(self, unit):
        self.ctl("revoke", "--dir", self.dir, "--unit", unit)


def registry(c, phongs):
    rows = ["id,name,type,parent", "%s,Sở GD&ĐT Thử,so," % SO]
    for p, schools in phongs.items():
        rows.append("%s,Phòng GD&ĐT %s,phong,%s" % (p, p, SO))
        for s in schools:
            rows.append("%s,Trường %s,%s,%s" % (s, s, s.split("-")[0], p))
    path = os.path.join(c.dir, "units.csv")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")
    return path


def node(c, pki, unit, role, reg=None, parent=None, tls_as=None, scheme="tls+tcp"):
    sections = {"tls": pki.tls(unit, tls_as)} if pki else {}
    return c.node(unit, role=role, registry=reg, parent_port=parent.down_port if parent else None,
                  sections=sections, scheme=scheme)


def tree(c, pki, phongs, start=True, scheme="tls+tcp"):
    """so <- phongs <- schools, all with their own certificates."""
    reg = registry(c, phongs)
    if pki:
        pki.issue(SO, *phongs.keys(), *[s for ss in phongs.values() for s in ss])
    n = {SO: node(c, pki, SO, "so", reg, scheme=scheme)}
    for p, schools in phongs.items():
        n[p] = node(c, pki, p, "phong", reg, n[SO], scheme=scheme)
        for s in schools:
            n[s] = node(c, pki, s, "school", parent=n[p], scheme=scheme)
    if start:
        for x in n.values():
            x.start()
    return n


def item_at(n, iid):
    st, doc, _ = n.api("GET", "/api/v1/items/" + iid, token=False)
    return doc if st == 200 else None


def status(n):
    st, doc, _ = n.api("GET", "/api/v1/status", token=False)
    check(st == 200, "status of %s: %s" % (n.unit, st))
    return doc


def peer(*args):
    r = subprocess.run([TESTPEER] + list(args), capture_output=True, timeout=20)
    return r.returncode, r.stdout.decode("utf-8", "replace")


def signed_tree(c):
    pki = Pki(c)
    n = tree(c, pki, {"pgd-a": ["th-a1", "th-a2"]})
    so = n[SO]
    check(status(n["th-a1"])["signed"] is True, "school not signing")
    i1 = n["th-a1"].publish("Khai giảng năm học mới")
    i2 = n["th-a2"].publish("Lịch thi học kỳ")
    doc = wait_until(lambda: item_at(so, i1), timeout=10, what="item of th-a1 at the Sở")
    check(doc["signature"] == {"unit": "th-a1", "verified": True}, "signature at the Sở: %r" % doc.get("signature"))
    doc = wait_until(lambda: item_at(so, i2), timeout=10, what="item of th-a2 at the Sở")
    check(doc["signature"] == {"unit": "th-a2", "verified": True}, "signature: %r" % doc.get("signature"))
    # update and delete are signed too, and travel
    st, _, _ = n["th-a1"].api("PUT", "/api/v1/items/" + i1, {"title": "Khai giảng (sửa)"})
    check(st == 200, "update: %s" % st)
    st, _, _ = n["th-a2"].api("DELETE", "/api/v1/items/" + i2)
    check(st in (200, 204), "delete: %s" % st)
    wait_until(lambda: (item_at(so, i1) or {}).get("version") == 2, timeout=10, what="update at the Sở")
    wait_until(lambda: (item_at(so, i2) or {}).get("deleted") is True or item_at(so, i2) is None, timeout=10,
               what="tombstone at the Sở")
    check(item_at(so, i1)["signature"]["verified"] is True, "updated item not verified")
    # the Phòng verified too, and nothing was rejected anywhere
    check(item_at(n["pgd-a"], i1)["signature"]["unit"] == "th-a1", "Phòng copy not verified")
    for u in (SO, "pgd-a"):
        check(status(n[u])["rejected_total"] == 0, "%s rejected something" % u)
    check("authenticated" in n["pgd-a"].tail(400), "handshake not logged at the Phòng")


def other_ca(c):
    pki, evil = Pki(c), Pki(c, "other")
    n = tree(c, pki, {"pgd-a": ["th-a1"]}, start=False)
    n[SO].start()
    n["pgd-a"].start()
    evil.issue("th-a1")
    school = n["th-a1"]
    school.conf["tls"] = evil.tls("th-a1")
    school.write_config()
    school.start()
    iid = school.publish("Tin từ CA khác")
    time.sleep(3)
    check(item_at(n["pgd-a"], iid) is None, "item over a link with a foreign CA arrived")
    check(status(school)["uplink"]["state"] != "online", "school online with a foreign CA")
    rc, out = peer("--id", evil.prefix("th-a1"), "tls+tcp://127.0.0.1:%d" % n["pgd-a"].down_port, "th-a1", "hello")
    check(rc != 0 and "accepted" not in out, "foreign CA peer: %d %s" % (rc, out))


def identity(c):
    pki = Pki(c)
    n = tree(c, pki, {"pgd-a": ["th-a1", "th-a2"]}, start=False)
    n[SO].start()
    ph = n["pgd-a"].start()
    # a node configured as th-a1 with th-a2's certificate refuses to start
    bad = n["th-a1"]
    bad.conf["tls"] = pki.tls("th-a1", "th-a2")
    bad.write_config()
    bad.start(wait=False)
    rc = bad.proc.wait(timeout=10)
    bad.exit_expected = True
    check(rc == 1 and "issued to unit th-a2, but [node] id is th-a1" in bad.tail(),
          "mismatched identity: exit %s\n%s" % (rc, bad.tail()))
    url = "tls+tcp://127.0.0.1:%d" % ph.down_port
    # th-a2's valid certificate claiming to be th-a1
    rc, out = peer("--id", pki.prefix("th-a2"), url, "th-a1", "hello")
    check(rc == 3 and "certificate refused for unit th-a1" in out, "claimed other unit: %d %s" % (rc, out))
    wait_until(lambda: "refused th-a1" in ph.tail(200), timeout=3, what="refusal logged")
    # a wrong answer to the challenge
    rc, out = peer("--id", pki.prefix("th-a2"), "--bad-auth", url, "th-a2", "hello")
    check(rc == 3 and "does not verify" in out, "bad auth: %d %s" % (rc, out))
    # pushing before the link is bound gets NOT_BOUND and nothing else
    rc, out = peer("--id", pki.prefix("th-a2"), "--no-hello", url, "th-a2", "push", "th-a2", "1")
    check(rc == 3 and "code 3" in out, "push before hello: %d %s" % (rc, out))
    check(item_at(ph, "th-a2:1") is None, "unbound push stored")
    # control: the right identity works end to end
    rc, out = peer("--id", pki.prefix("th-a2"), url, "th-a2", "push", "th-a2", "1", "Tin thật")
    check(rc == 0 and "acked" in out, "own identity: %d %s" % (rc, out))
    doc = wait_until(lambda: item_at(n[SO], "th-a2:1"), timeout=5, what="peer item at the Sở")
    check(doc["signature"]["verified"] is True, "peer item not verified")


def wrong_parent(c):
    pki = Pki(c)
    n = tree(c, pki, {"pgd-a": ["th-a1"], "pgd-b": ["th-b1"]}, start=False)
    n[SO].start()
    n["pgd-a"].start()
    # th-b1 (registered under pgd-b) with a valid certificate dials pgd-a
    s = n["th-b1"]
    s.conf["uplink"]["parent"] = "tls+tcp://127.0.0.1:%d" % n["pgd-a"].down_port
    s.write_config()
    s.start()
    iid = s.publish("Tin sai chỗ")
    wait_until(lambda: "places it under pgd-b" in n["pgd-a"].tail(200), timeout=5, what="refusal at pgd-a")
    wait_until(lambda: "refused" in s.tail(200), timeout=5, what="refusal seen by the school")
    check(item_at(n["pgd-a"], iid) is None, "item of a foreign school stored")
    # parent_unit pins the parent: th-a1 expecting pgd-b refuses to send to pgd-a
    a1 = n["th-a1"]
    a1.conf["uplink"]["parent_unit"] = "pgd-b"
    a1.write_config()
    a1.start()
    iid = a1.publish("Tin chờ")
    wait_until(lambda: "parent_unit is pgd-b" in a1.tail(200), timeout=5, what="parent mismatch logged")
    time.sleep(1)
    check(item_at(n["pgd-a"], iid) is None, "item sent to an unexpected parent")


def revoked(c):
    pki = Pki(c)
    n = tree(c, pki, {"pgd-a": ["th-a1"]})
    ph, s = n["pgd-a"], n["th-a1"]
    i1 = s.publish("Trước khi thu hồi")
    wait_until(lambda: item_at(ph, i1), timeout=10, what="item before revocation")
    pki.revoke("th-a1")
    ph.proc.send_signal(1)  # SIGHUP
    wait_until(lambda: "dropping the link of th-a1" in ph.tail(200), timeout=5, what="link dropped")
    i2 = s.publish("Sau khi thu hồi")
    wait_until(lambda: "revoked" in ph.tail(200) and "refused th-a1" in ph.tail(200), timeout=5,
               what="revoked certificate refused")
    time.sleep(1)
    check(item_at(ph, i2) is None, "item of a revoked school arrived")
    check(status(s)["uplink"]["state"] != "online", "revoked school still online")


def tamper(c):
    pki = Pki(c)
    n = tree(c, pki, {"pgd-a": ["th-a1"], "pgd-b": ["th-b1"]}, start=False)
    so = n[SO].start()
    url = "tls+tcp://127.0.0.1:%d" % so.down_port
    fake = ["--id", pki.prefix("pgd-a"), "--origin-id", pki.prefix("th-a1")]

    def push(*args, seq="1", version="1", title="Tin gốc", origin="th-a1"):
        return peer(*(fake + list(args) + ["--version", version, url, "pgd-a", "push", origin, seq, title]))

    rc, out = push()
    check(rc == 0, "valid relayed push: %d %s" % (rc, out))
    doc = wait_until(lambda: item_at(so, "th-a1:1"), timeout=3, what="relayed item")
    check(doc["signature"] == {"unit": "th-a1", "verified": True}, "relayed signature: %r" % doc["signature"])
    # one byte of the title changed after signing
    rc, out = push("--tamper", seq="2", title="Tin bị sửa")
    check(rc == 3 and "does not verify" in out, "tampered: %d %s" % (rc, out))
    # the Phòng signing in the school's name
    rc, out = push("--forge", seq="3")
    check(rc == 3 and "does not verify" in out, "forged: %d %s" % (rc, out))
    rc, out = push("--unsigned", seq="4")
    check(rc == 3 and "unsigned" in out, "unsigned: %d %s" % (rc, out))
    for seq in ("2", "3", "4"):
        check(item_at(so, "th-a1:" + seq) is None, "rejected th-a1:%s stored" % seq)
    wait_until(lambda: "rejected th-a1:2 from pgd-a" in so.tail(200), timeout=3, what="tamper logged")
    # a newer version, then a replay of the old one: nothing changes
    rc, out = push(version="2", title="Tin sửa lần 2")
    check(rc == 0, "v2: %d %s" % (rc, out))
    wait_until(lambda: (item_at(so, "th-a1:1") or {}).get("version") == 2, timeout=3, what="v2")
    rc, out = push(version="1", title="Tin gốc")
    check(rc == 0, "replay is acked (and ignored): %d %s" % (rc, out))
    doc = item_at(so, "th-a1:1")
    check(doc["version"] == 2 and doc["title"] == "Tin sửa lần 2", "replay changed the item: %r" % doc)
    # the same (unit, seq, version) with other content
    rc, out = push(version="2", title="Nội dung khác")
    check(rc == 3 and re.search(r"rejects: th-a1:1: [^;]*different content", out), "reused version: %d %s" % (rc, out))
    check(item_at(so, "th-a1:1")["title"] == "Tin sửa lần 2", "conflicting content stored")
    # a valid signature of a school outside the sender's subtree
    rc, out = peer("--id", pki.prefix("pgd-a"), "--origin-id", pki.prefix("th-b1"), url, "pgd-a", "push",
                   "th-b1", "1", "Tin của Phòng khác")
    check(rc == 3 and "outside its subtree" in out, "foreign origin: %d %s" % (rc, out))
    check(status(so)["rejected_total"] == 5, "rejected_total: %r" % status(so)["rejected_total"])


def burst(c, scheme, n_items=10000, threads=4):
    """Publishes n_items at a school while its parents are down, then starts
    them and times replication to the Sở. Returns (publish/s, replicate/s)."""
    pki = Pki(c) if scheme == "tls+tcp" else None
    n = tree(c, pki, {"pgd-a": ["th-a1"]}, start=False, scheme=scheme)
    s = n["th-a1"].start()
    per = n_items // threads

    def worker(w):
        h = http.client.HTTPConnection("127.0.0.1", s.http_port, timeout=30)
        for i in range(per):
            body = json.dumps({"kind": "news", "title": "Tin %d-%d" % (w, i), "body": "Nội dung %d" % i})
            h.request("POST", "/api/v1/items", body, {"Authorization": "Bearer " + s.token,
                                                      "Content-Type": "application/json"})
            r = h.getresponse()
            r.read()
            check(r.status == 201, "publish: %s" % r.status)
        h.close()

    t0 = time.time()
    ts = [threading.Thread(target=worker, args=(w,)) for w in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    pub = per * threads / (time.time() - t0)
    n[SO].start()
    n["pgd-a"].start()
    t0 = time.time()
    wait_until(lambda: status(n[SO])["items_total"] >= per * threads, timeout=600, interval=0.2,
               what="burst at the Sở")
    rep = per * threads / (time.time() - t0)
    return pub, rep


def throughput(c):
    for scheme in ("tcp", "tls+tcp"):
        pub, rep = burst(c, scheme)
        print("%-8s publish %.0f items/s (at the school), replicate %.0f items/s (school -> Phòng -> Sở)"
              % (scheme, pub, rep))
        for x in list(c.nodes):
            x.stop()
        c.nodes.clear()
        c.dir = c.dir + "-2"
        os.makedirs(c.dir, exist_ok=True)


if __name__ == "__main__":
    run([signed_tree, other_ca, identity, wrong_parent, revoked, tamper]
        + ([throughput] if "throughput" in sys.argv[1:] else []))
