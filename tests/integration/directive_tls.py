"""Directives on a real TLS tree (SPEC §6.5 identity applied to node/directive).

Certificates come from `edunetctl ca init/issue` in the test's temp dir (as in
tls_test.py); the fake peers are edunet-testpeer (aggregator/testpeer.c).

Cases:
  tls           Sở -> Phòng -> 2 schools over tls+tcp://: a Sở directive reaches
                both schools, verified with the Sở's certificate; an ack and a
                report come back signed and are verified at the Phòng and the Sở;
                the status at the Sở is right; nothing is refused anywhere.
  rogue_parent  a school whose uplink reaches a fake parent holding a genuine
                Phòng certificate: directives signed by a school's key claiming
                the Sở, tampered after signing, from another CA's "Sở", unsigned,
                or genuinely signed but routed through another Phòng are refused
                and logged with a reason; the genuine one relayed verbatim is
                accepted.
  upward        a child cannot push a directive up: as a DirSyncAck (no request)
                or inside a DirSync (not a receipt) it is refused; a school's
                POST /api/v1/directives is 403.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import check, free_port, run, wait_until  # noqa: E402
from tls_test import SO, TESTPEER, Pki, node, registry  # noqa: E402

PHONGS = {"pgd-a": ["thcs-a1", "th-a1"], "pgd-b": ["thcs-b1"]}


def dirs(n):
    st, doc, _ = n.api("GET", "/api/v1/directives", token=False)
    check(st == 200, "list at %s: %s %r" % (n.unit, st, doc))
    return {d["id"]: d for d in doc["directives"]}


def status(so, did):
    st, doc, _ = so.api("GET", "/api/v1/directives/%s/status" % did, token=False)
    check(st == 200, "status: %s %r" % (st, doc))
    return {u["unit"]: u for u in doc["units"]}


def peer(*args):
    r = subprocess.run([TESTPEER] + list(args), capture_output=True, timeout=20)
    return r.returncode, r.stdout.decode("utf-8", "replace")


def node_status(n):
    st, doc, _ = n.api("GET", "/api/v1/status", token=False)
    check(st == 200, "status of %s: %s" % (n.unit, st))
    return doc


def so_and_template(c, pki, target="thcs-a1", via="pgd-a", title="Chỉ đạo thật của Sở"):
    """A running TLS Sở that published one directive for target; its signed
    bytes as the Sở serves them to via (saved by a testpeer holding via's
    genuine certificate)."""
    reg = registry(c, PHONGS)
    pki.issue(SO, *PHONGS.keys(), *[s for ss in PHONGS.values() for s in ss])
    so = node(c, pki, SO, "so", reg).start()
    st, doc, _ = so.api("POST", "/api/v1/directives", {"title": title, "audience": {"units": [target]},
                                                      "report_requested": True})
    check(st == 201, "publish: %s %r" % (st, doc))
    out = os.path.join(c.dir, "saved")
    os.makedirs(out, exist_ok=True)
    url = "tls+tcp://127.0.0.1:%d" % so.down_port
    rc, txt = peer("--id", pki.prefix(via), url, via, "dirsync", out)
    check(rc == 0 and "1 directive(s)" in txt, "dirsync as %s: %d %s" % (via, rc, txt))
    return so, reg, doc["id"], os.path.join(out, "1.dir")


def tls(c):
    pki = Pki(c)
    reg = registry(c, {"pgd-a": ["thcs-a1", "th-a1"]})
    pki.issue(SO, "pgd-a", "thcs-a1", "th-a1")
    n = {SO: node(c, pki, SO, "so", reg)}
    n["pgd-a"] = node(c, pki, "pgd-a", "phong", reg, n[SO])
    for s in ("thcs-a1", "th-a1"):
        n[s] = node(c, pki, s, "school", parent=n["pgd-a"])
        n[s].conf["uplink"]["parent_unit"] = "pgd-a"
        n[s].write_config()
    for x in n.values():
        x.start()
    so = n[SO]
    st, doc, _ = so.api("POST", "/api/v1/directives", {"title": "Chỉ đạo qua TLS", "body": "Báo cáo **ngay**.",
                                                      "report_requested": True})
    check(st == 201, "publish: %s %r" % (st, doc))
    did = doc["id"]
    for s in ("thcs-a1", "th-a1"):
        wait_until(lambda: did in dirs(n[s]), timeout=10, what="%s at %s" % (did, s))
        d = dirs(n[s])[did]
        check(d["issuer"] == SO and d["direction"] == "received" and d["receipt"]["received"], "view %r" % d)
    wait_until(lambda: all(status(so, did)[u]["received"] for u in ("thcs-a1", "th-a1")), timeout=10,
               what="signed receipts at the Sở")
    st, doc, _ = n["th-a1"].api("POST", "/api/v1/directives/%s/ack" % did, {})
    check(st == 200, "ack: %s %r" % (st, doc))
    st, doc, _ = n["thcs-a1"].api("POST", "/api/v1/directives/%s/report" % did, {"text": "Đã thực hiện, ký số."})
    check(st == 200, "report: %s %r" % (st, doc))
    wait_until(lambda: status(so, did)["thcs-a1"]["reported"] and status(so, did)["th-a1"]["acknowledged"],
               timeout=10, what="report and ack at the Sở")
    units = status(so, did)
    check(units["thcs-a1"]["state"] == "on_time" and units["thcs-a1"]["report_text"] == "Đã thực hiện, ký số.",
          "report at the Sở %r" % units["thcs-a1"])
    check(units["th-a1"]["state"] == "pending" and not units["th-a1"]["reported"], "ack only %r" % units["th-a1"])
    # every hop verified and nothing was refused (an unsigned or bad record would be)
    for u in (SO, "pgd-a"):
        check(node_status(n[u])["rejected_total"] == 0, "%s rejected something" % u)
    for u in n:
        check("refused" not in n[u].tail(400), "%s refused something:\n%s" % (u, n[u].tail(40)))
    check("received %s from %s" % (did, SO) in n["thcs-a1"].tail(400), "receipt not logged at the school")


def rogue_parent(c):
    pki, evil = Pki(c), Pki(c, "other")
    so, _, did, genuine = so_and_template(c, pki)
    evil.issue(SO)
    files = []

    def craft(name, *args):
        path = os.path.join(c.dir, name + ".dir")
        rc, txt = peer(*args[:-1], "craft", genuine, path, args[-1]) if args[-1] != "reroute" else \
            peer(*args[:-1], "craft", genuine, path, "resign", "pgd-b")
        check(rc == 0, "craft %s: %d %s" % (name, rc, txt))
        files.append(path)

    craft("school-key", "--id", pki.prefix("th-a1"), "resign")      # a school's key claiming issuer so-thu
    craft("tampered", "tamper")                                     # valid signature, one byte of the title changed
    craft("other-ca", "--id", evil.prefix(SO), "resign")            # issuer certificate from another CA
    craft("unsigned", "unsigned")                                   # no signature on a TLS tree
    craft("rerouted", "--id", pki.prefix(SO), "reroute")            # genuine Sở key, routed via pgd-b
    files.append(genuine)                                           # the real one, verbatim, last
    port = free_port()
    url = "tls+tcp://127.0.0.1:%d" % port
    fake = subprocess.Popen([TESTPEER, "--id", pki.prefix("pgd-a"), "parent", url, "25"] + files,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        school = c.node("thcs-a1", role="school", sections={"tls": pki.tls("thcs-a1"),
                                                            "uplink": {"parent": url, "parent_unit": "pgd-a"}})
        school.start()
        wait_until(lambda: did in dirs(school), timeout=10, what="the genuine directive at the school")
        wait_until(lambda: school.tail(400).count("refused a directive") >= 5, timeout=5, what="5 refusals logged")
    finally:
        fake.terminate()
        out = fake.communicate(timeout=10)[0].decode("utf-8", "replace")
    check("dirsync cursor 0" in out, "the school never asked the fake parent: %s" % out)
    d = dirs(school)
    check(list(d) == [did] and d[did]["title"] == "Chỉ đạo thật của Sở", "school lists %r" % d)
    log = school.tail(400)
    for reason in ("certificate is for unit th-a1",          # school key, CN != issuer
                   "signature of %s does not verify" % SO,  # tampered
                   "not correctly signed by the trusted CA",  # other CA
                   "not signed",                           # unsigned
                   "routes thcs-a1 through pgd-b, but it came from pgd-a"):
        check(reason in log, "no refusal %r in the school's log:\n%s" % (reason, log))
    check(log.count("refused a directive") == 5, "refusals:\n%s" % log)
    check(d[did]["receipt"]["received"], "no receipt state at the school %r" % d[did])


def upward(c):
    pki = Pki(c)
    so, reg, did, genuine = so_and_template(c, pki, target="thcs-b1", via="pgd-b")
    pa = node(c, pki, "pgd-a", "phong", reg, so).start()
    th = node(c, pki, "th-a1", "school", parent=pa).start()
    forged = os.path.join(c.dir, "by-school.dir")
    rc, txt = peer("--id", pki.prefix("th-a1"), "craft", genuine, forged, "resign", "pgd-a")
    check(rc == 0, "craft: %d %s" % (rc, txt))
    url = "tls+tcp://127.0.0.1:%d" % pa.down_port
    for f in (genuine, forged):
        rc, txt = peer("--id", pki.prefix("th-a1"), url, "th-a1", "inject", f)
        check(rc == 3, "a child pushing a directive up must be refused both ways: %d %s" % (rc, txt))
        check("not a request" in txt and "receipts_refused 1" in txt, "refusals: %s" % txt)
    # a school cannot issue through its API either
    st, doc, _ = th.api("POST", "/api/v1/directives", {"title": "Giả mạo của Sở"})
    check(st == 403, "school issuing: %s %r" % (st, doc))
    time.sleep(1.0)
    check(not dirs(th), "th-a1 got a directive: %r" % dirs(th))
    check(list(dirs(so)) == [did], "the Sở lists %r" % list(dirs(so)))
    check("refused a receipt from th-a1" in pa.tail(400), "no refusal logged at the Phòng:\n%s" % pa.tail(40))


if __name__ == "__main__":
    run([tls, rogue_parent, upward])
