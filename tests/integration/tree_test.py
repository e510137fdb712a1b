"""Replication tree: schools -> Phòng -> Sở over nng (node/uplink, aggregator/).

Each test writes its own units registry, starts real edunetd processes and
checks what reaches the Sở: freshness, updates and deletes, exactly-once under
kill -9, store-and-forward, refusals, isolation, topology and report; and
(order_*, legacy_push) that a parent commits a child's pipelined pushes in
the child's log order, with edunet-testpeer as the child.
"""
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN_DIR, Failure, check, free_port, run, wait_until  # noqa: E402

TESTPEER = os.path.join(BIN_DIR, "edunet-testpeer")
SO = "so-thu"
WRITERS = 4  # concurrent publishers per school in burst_kill (group commit batches them)


def registry(c, phongs, direct=(), extra=()):
    """phongs: {phong: [school, ...]}; direct: schools under the Sở; extra: raw CSV rows."""
    rows = ["id,name,type,parent", '%s,"Sở GD&ĐT Thử, tỉnh",so,' % SO]
    for p, schools in phongs.items():
        rows.append("%s,Phòng GD&ĐT %s,phong,%s" % (p, p, SO))
        for s in schools:
            rows.append("%s,Trường %s,%s,%s" % (s, s, s.split("-")[0], p))
    for s in direct:
        rows.append("%s,Trường %s,%s,%s" % (s, s, s.split("-")[0], SO))
    rows += list(extra)
    path = os.path.join(c.dir, "units.csv")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")
    return path


def tree(c, phongs, direct=(), start=True, extra=()):
    """Starts the Sở, every Phòng and every school; returns {unit: Node}."""
    reg = registry(c, phongs, direct, extra)
    nodes = {}
    so = nodes[SO] = c.node(SO, role="so", registry=reg)
    if start:
        so.start()
    for p, schools in phongs.items():
        ph = nodes[p] = c.node(p, role="phong", registry=reg, parent_port=so.down_port)
        if start:
            ph.start()
        for s in schools:
            nodes[s] = c.node(s, role="school", parent_port=ph.down_port)
            if start:
                nodes[s].start()
    for s in direct:
        nodes[s] = c.node(s, role="school", parent_port=so.down_port)
        if start:
            nodes[s].start()
    return nodes


def item_at(n, iid):
    st, doc, _ = n.api("GET", "/api/v1/items/" + iid, token=False)
    return doc if st == 200 else None


def all_items(n, unit=None):
    """{id: version} of every live item at n, by paging the API."""
    out = {}
    cursor = None
    while True:
        path = "/api/v1/items?limit=100" + ("&unit=" + unit if unit else "") + ("&before=" + cursor if cursor else "")
        st, doc, _ = n.api("GET", path, token=False)
        check(st == 200, "items page at %s: %s %r" % (n.unit, st, doc))
        for i in doc["items"]:
            check(i["id"] not in out, "item %s listed twice at %s" % (i["id"], n.unit))
            out[i["id"]] = i["version"]
        cursor = doc["next"]
        if not cursor:
            return out


def status(n):
    st, doc, _ = n.api("GET", "/api/v1/status", token=False)
    check(st == 200, "status of %s: %s" % (n.unit, st))
    return doc


def latency(src, dst, title):
    t0 = time.time()
    iid = src.publish(title)
    wait_until(lambda: item_at(dst, iid), timeout=10, interval=0.01, what="%s at %s" % (iid, dst.unit))
    return iid, time.time() - t0


def propagate(c):
    n = tree(c, {"pgd-a": ["th-a1"]}, direct=["thpt-d1"])
    so, school, thpt = n[SO], n["th-a1"], n["thpt-d1"]
    wait_until(lambda: status(school)["uplink"]["state"] == "online", what="school online")
    lat = []
    for k in range(5):
        iid, dt = latency(school, so, "Tin số %d" % k)
        lat.append(dt)
    check(max(lat) < 1.0, "school -> Sở latency %s (SPEC §6.6: < 1 s)" % ["%.3f" % x for x in lat])
    print("propagate: school -> Phòng -> Sở latency max %.3f s, mean %.3f s" % (max(lat), sum(lat) / len(lat)))
    _, dt = latency(thpt, so, "Tin THPT")
    check(dt < 1.0, "thpt -> Sở latency %.3f" % dt)
    check(item_at(n["pgd-a"], iid) is not None, "the Phòng holds its school's items")
    # update
    st, doc, _ = school.api("PUT", "/api/v1/items/" + iid, {"title": "Tin đã sửa", "body": "mới"})
    check(st == 200 and doc["version"] == 2, "put %s %r" % (st, doc))
    wait_until(lambda: (item_at(so, iid) or {}).get("version") == 2, timeout=2, what="update at the Sở")
    check(item_at(so, iid)["title"] == "Tin đã sửa", "updated title at the Sở")
    # delete
    st, doc, _ = school.api("DELETE", "/api/v1/items/" + iid)
    check(st == 200, "delete %s" % st)
    wait_until(lambda: (item_at(so, iid) or {}).get("deleted") is True, timeout=2, what="tombstone at the Sở")
    check(iid not in all_items(so), "deleted item still listed at the Sở")
    # unit= filter covers the subtree at the Sở
    got = all_items(so, unit="pgd-a")
    check(set(got) == {"th-a1:%d" % k for k in range(1, 5)}, "unit=pgd-a at the Sở: %r" % sorted(got))
    st = status(school)
    check(st["uplink"]["backlog"] == 0, "school backlog after sync: %r" % st["uplink"])


def burst_kill(c):
    schools = ["th-b%d" % i for i in range(1, 5)]
    n = tree(c, {"pgd-b": schools})
    so, ph = n[SO], n["pgd-b"]
    total = 20000
    per = total // len(schools)
    acked = {}
    lock = threading.Lock()
    errors = []

    def worker(s, w):
        node = n[s]
        for k in range(w, per, WRITERS):
            try:
                st, doc, _ = node.api("POST", "/api/v1/items", {"kind": "news", "title": "Đợt %s %d" % (s, k)})
            except OSError as e:
                errors.append("%s: %s" % (s, e))
                return
            if st != 201:
                errors.append("%s: %s %r" % (s, st, doc))
                return
            with lock:
                acked[doc["id"]] = doc["version"]

    threads = [threading.Thread(target=worker, args=(s, w)) for s in schools for w in range(WRITERS)]
    t0 = time.time()
    for t in threads:
        t.start()
    for kill in range(2):
        wait_until(lambda: len(acked) >= (kill + 1) * total // 3, timeout=120, interval=0.05,
                   what="publishes before kill %d" % (kill + 1))
        ph.kill9()
        time.sleep(0.3)
        ph.start()
    for t in threads:
        t.join()
    pub_s = time.time() - t0
    check(not errors, "publishing failed: %s" % errors[:3])
    check(len(acked) == total, "acknowledged %d of %d" % (len(acked), total))
    wait_until(lambda: status(so)["items_total"] >= total, timeout=60, interval=0.2, what="all items at the Sở")
    got = all_items(so)
    missing = [i for i in acked if i not in got]
    extra = [i for i in got if i not in acked]
    wrong = [i for i in acked if i in got and got[i] != acked[i]]
    check(not missing and not extra and not wrong,
          "at the Sở: %d missing %s, %d unexpected %s, %d wrong version" % (
              len(missing), missing[:5], len(extra), extra[:5], len(wrong)))
    check(status(so)["items_total"] == total, "items_total at the Sở %d" % status(so)["items_total"])
    for s in schools:
        wait_until(lambda: status(n[s])["uplink"]["backlog"] == 0, timeout=5, what="%s backlog 0" % s)
    print("burst_kill: %d items from 4 schools in %.1f s, Phòng killed twice; Sở has exactly them" % (total, pub_s))


def so_down(c):
    n = tree(c, {"pgd-c": ["th-c1"]})
    so, ph, school = n[SO], n["pgd-c"], n["th-c1"]
    latency(school, so, "Trước khi Sở dừng")
    so.stop()
    ids = [school.publish("Khi Sở vắng %d" % k) for k in range(200)]
    wait_until(lambda: all(item_at(ph, i) for i in ids[-1:]), timeout=5, what="items held at the Phòng")
    wait_until(lambda: status(ph)["uplink"]["state"] == "offline", timeout=10, what="Phòng uplink offline")
    st = status(ph)
    check(st["uplink"]["backlog"] >= 200, "Phòng backlog while the Sở is down: %r" % st["uplink"])
    so.start()
    wait_until(lambda: all(item_at(so, i) for i in ids), timeout=10, what="backlog drained to the Sở")
    wait_until(lambda: status(ph)["uplink"]["backlog"] == 0, timeout=5, what="Phòng backlog 0")
    check(status(ph)["uplink"]["state"] == "online", "Phòng online again")
    check(len(all_items(so)) == 201, "Sở item count")


def peer(url, unit, *args):
    r = subprocess.run([TESTPEER, url, unit] + list(args), capture_output=True, timeout=20)
    return r.returncode, r.stdout.decode("utf-8", "replace")


def refused(c):
    n = tree(c, {"pgd-e": ["th-e1"], "pgd-f": ["th-f1"]}, start=False)
    so, ph = n[SO], n["pgd-e"]
    so.start()
    ph.start()
    url = "tcp://127.0.0.1:%d" % ph.down_port
    rc, out = peer(url, "th-stranger", "hello")
    check(rc == 3 and "not in the units registry" in out, "unknown unit: %d %s" % (rc, out))
    wait_until(lambda: "refused th-stranger" in ph.tail(200), timeout=2, what="refusal logged")
    rc, out = peer(url, "th-f1", "hello")
    check(rc == 3 and "pgd-f" in out, "unit of another Phòng: %d %s" % (rc, out))
    # a legitimate child identity forging another school's origin
    rc, out = peer(url, "th-e1", "push", "th-f1", "1", "Tin giả mạo")
    check(rc == 3 and "origin th-f1" in out, "forged origin: %d %s" % (rc, out))
    wait_until(lambda: "outside its subtree" in ph.tail(200), timeout=2, what="forged origin logged")
    check(item_at(ph, "th-f1:1") is None, "forged item stored")
    # control: the same peer with its own origin is accepted and travels up
    rc, out = peer(url, "th-e1", "push", "th-e1", "1", "Tin thật")
    check(rc == 0 and "acked" in out, "own origin: %d %s" % (rc, out))
    wait_until(lambda: item_at(so, "th-e1:1"), timeout=2, what="accepted item at the Sở")
    # garbage drops the connection and nothing else
    rc, out = peer(url, "th-e1", "garbage")
    check(rc != 0, "garbage accepted: %s" % out)
    wait_until(lambda: "dropping connection" in ph.tail(200), timeout=2, what="garbage logged")
    # the Phòng itself claiming a school of another Phòng at the Sở
    rc, out = peer("tcp://127.0.0.1:%d" % so.down_port, "pgd-e", "push", "th-f1", "5")
    check(rc == 3, "Phòng forging another Phòng's school: %d %s" % (rc, out))
    check(status(ph)["id"] == "pgd-e", "Phòng still serving")


def sigstop(c):
    n = tree(c, {"pgd-g": ["th-g1", "th-g2"], "pgd-h": ["th-h1"]})
    so = n[SO]
    latency(n["th-g2"], so, "Trước khi dừng")
    latency(n["th-h1"], so, "Trước khi dừng")
    n["th-g2"].sigstop()
    n["pgd-h"].sigstop()
    try:
        lat = [latency(n["th-g1"], so, "Khi anh em bị dừng %d" % k)[1] for k in range(5)]
        check(max(lat) < 1.0, "sibling latency with stopped peers: %s" % lat)
        print("sigstop: sibling latency max %.3f s while a school and a Phòng are stopped" % max(lat))
        topo = wait_until(lambda: (lambda t: t if state_of(t, "pgd-h") == "offline" else None)(topology(so)),
                          timeout=10, what="stopped Phòng shown offline")
        check(state_of(topo, "pgd-g") == "online", "running Phòng online")
        check(state_of(topo, "th-g2") == "offline", "stopped school offline: %s" % state_of(topo, "th-g2"))
    finally:
        n["th-g2"].sigcont()
        n["pgd-h"].sigcont()
    wait_until(lambda: state_of(topology(so), "th-h1") == "online", timeout=10, what="back online")


def topology(n):
    st, doc, _ = n.api("GET", "/api/v1/topology", token=False)
    check(st == 200, "topology %s" % st)
    return doc


def find(t, unit):
    if t["unit"] == unit:
        return t
    for ch in t["children"]:
        r = find(ch, unit)
        if r:
            return r
    return None


def state_of(t, unit):
    u = find(t, unit)
    return u and u["state"]


def views(c):
    n = tree(c, {"pgd-k": ["th-k1", "mn-k2"], "pgd-l": ["thcs-l1"]}, direct=["thpt-k3"], start=False,
             extra=["gdtx-k4,Trung tâm GDTX K4,gdtx,%s" % SO])
    for u in [SO, "pgd-k", "th-k1", "mn-k2", "thpt-k3"]:
        n[u].start()
    n["th-k1"].publish("Một tin")
    so = n[SO]

    def settled():
        t = topology(so)
        want = {SO: "online", "pgd-k": "online", "th-k1": "online", "mn-k2": "online", "thpt-k3": "online",
                "pgd-l": "never_seen", "thcs-l1": "never_seen", "gdtx-k4": "never_seen"}
        got = {u: state_of(t, u) for u in want}
        return t if got == want else None
    t = wait_until(settled, timeout=10, what="topology states")
    check(t["name"] == "Sở GD&ĐT Thử, tỉnh" and t["type"] == "so", "root %r" % {k: t[k] for k in ("name", "type")})
    k1 = find(t, "th-k1")
    check(k1["last_seen"] and k1["version"] and k1["backlog"] == 0, "school entry %r" % k1)
    wait_until(lambda: find(topology(so), "th-k1")["items_total"] == 1, timeout=5, what="items_total relayed")
    check(find(t, "pgd-l")["last_seen"] is None, "never seen has null last_seen")
    check([ch["unit"] for ch in find(t, "pgd-k")["children"]] == ["th-k1", "mn-k2"], "children order")
    st, rep, _ = so.api("GET", "/api/v1/report/deployment", token=False)
    check(st == 200, "report %s" % st)
    bt = {r["type"]: r for r in rep["by_type"]}
    check(bt["phong"]["expected"] == 2 and bt["phong"]["deployed"] == 1 and bt["phong"]["online"] == 1,
          "phong counts %r" % bt["phong"])
    check(bt["th"]["expected"] == 1 and bt["th"]["online"] == 1, "th counts %r" % bt["th"])
    check(bt["gdtx"]["deployed"] == 0, "gdtx counts %r" % bt["gdtx"])
    bp = {r["unit"]: r for r in rep["by_phong"]}
    check(bp["pgd-k"]["expected"] == 2 and bp["pgd-k"]["online"] == 2, "pgd-k %r" % bp["pgd-k"])
    check(bp["pgd-l"]["expected"] == 1 and bp["pgd-l"]["deployed"] == 0, "pgd-l %r" % bp["pgd-l"])
    never = sorted(u["unit"] for u in rep["never_seen"])
    check(never == ["gdtx-k4", "pgd-l", "thcs-l1"], "never_seen %r" % never)
    st = status(so)
    check(st["children"]["expected"] == 4 and st["children"]["online"] == 2 and st["children"]["never_seen"] == 2,
          "children counts %r" % st["children"])
    # last_seen survives a restart of the Sở; stopped units go offline
    n["mn-k2"].stop()
    so.stop()
    so.start()
    t = wait_until(lambda: (lambda t: t if state_of(t, "th-k1") == "online" else None)(topology(so)),
                   timeout=10, what="th-k1 online after restart")
    check(find(t, "mn-k2")["last_seen"] is not None, "last_seen of mn-k2 lost in restart")
    wait_until(lambda: state_of(topology(so), "mn-k2") == "offline", timeout=10, what="mn-k2 offline")


# ---- pipelined pushes: the parent commits a child's batches in its log order ----
# (aggregator/agg.c, "Pipelining"; Push.after/restart in proto/wire.proto). The
# child is edunet-testpeer's `pushes` mode: a SPEC AFTER:UPTO[:r] is one Push of
# the records ORIGIN:AFTER+1..UPTO; SPECs joined by '+' are in flight at once.

def pushes(url, unit, *specs, gap_ms=0, origin=None, title=None):
    """[(spec, outcome, ms)] in the order the replies came, and the exit code."""
    # a fixed time: the same SPEC sends the same records again (a restart may repeat them)
    args = [TESTPEER, "--time", "1700000000", "--gap-ms", str(gap_ms)] + (["--title", title] if title else [])
    args += [url, unit, "pushes", origin or unit] + list(specs)
    r = subprocess.run(args, capture_output=True, timeout=60)
    out = r.stdout.decode("utf-8", "replace")
    got = []
    for line in out.splitlines():
        if not line.startswith("push "):
            continue
        head, _, rest = line[len("push "):].partition(": ")
        outcome, _, ms = rest.rpartition(" (")
        got.append((head, outcome, int(ms.rstrip(" ms)"))))
    check(got or r.returncode == 0, "pushes %s: exit %d, %s %s" % (specs, r.returncode, out,
                                                                  r.stderr.decode("utf-8", "replace")))
    return got, r.returncode, out


def outcome(got, spec):
    for s, o, ms in got:
        if s == spec:
            return o, ms
    raise Failure("no outcome for push %s in %r" % (spec, got))


def one_phong(c, phong, schools):
    """A Sở and one Phòng (no school started); returns (Phòng, its downlink URL)."""
    n = tree(c, {phong: schools}, start=False)
    n[SO].start()
    n[phong].start()
    return n[phong], "tcp://127.0.0.1:%d" % n[phong].down_port


def stored(ph, unit, seqs):
    return [s for s in seqs if item_at(ph, "%s:%d" % (unit, s)) is not None]


def order_gap(c):
    ph, url = one_phong(c, "pgd-o", ["th-o1"])
    u = "th-o1"
    # a run starts with a restart: a continuation of nothing is refused
    got, rc, out = pushes(url, u, "2:3")
    check(rc == 3 and outcome(got, "2:3")[0].startswith("OUT_OF_ORDER"), "continuation before any run: %s" % out)
    check(not stored(ph, u, [3]), "refused batch stored")
    got, rc, out = pushes(url, u, "0:3:r")
    check(rc == 0 and outcome(got, "0:3:r")[0] == "acked", "restart 0:3: %s" % out)
    # a gap (the batch before 5:8 is nowhere): refused soon, nothing of it stored
    got, rc, out = pushes(url, u, "5:8")
    o, ms = outcome(got, "5:8")
    check(rc == 3 and o.startswith("OUT_OF_ORDER"), "batch after a gap: %s" % out)
    check(ms < 1500, "OUT_OF_ORDER took %d ms (the parent waits 200 ms for a missing predecessor)" % ms)
    check(stored(ph, u, [1, 2, 3]) == [1, 2, 3], "restart batch stored: %r" % stored(ph, u, [1, 2, 3]))
    check(not stored(ph, u, [4, 5, 6, 7, 8]), "refused batch stored: %r" % stored(ph, u, range(4, 9)))
    # the refusal did not move where the child stands: 3:8 continues the run
    got, rc, out = pushes(url, u, "3:8")
    check(rc == 0 and outcome(got, "3:8")[0] == "acked", "3:8 after the refusal: %s" % out)
    check(stored(ph, u, range(1, 9)) == list(range(1, 9)), "1..8 at the Phòng: %r" % stored(ph, u, range(1, 9)))
    # a repeat of a committed batch is not where the child stands either
    got, rc, out = pushes(url, u, "5:8")
    check(rc == 3 and outcome(got, "5:8")[0].startswith("OUT_OF_ORDER"), "replayed 5:8: %s" % out)
    # and a restart repeating records is taken (a resend after a lost ack)
    got, rc, out = pushes(url, u, "6:9:r", "9:10")
    check(rc == 0 and all(o == "acked" for _, o, _ in got) and len(got) == 2, "restart with repeats: %s" % out)
    check(stored(ph, u, range(1, 11)) == list(range(1, 11)), "1..10 at the Phòng")


def fake_parent_of(c, phong, school):
    """A Phòng whose uplink reaches an edunet-testpeer fake parent (registry:
    so-fake > phong > school); returns (Phòng, its downlink URL, fake parent Popen)."""
    root = "so-fake"
    path = os.path.join(c.dir, "units.csv")
    with open(path, "w", encoding="utf-8") as f:
        f.write("id,name,type,parent\n%s,Sở giả,so,\n%s,Phòng %s,phong,%s\n%s,Trường %s,th,%s\n" % (
            root, phong, phong, root, school, school, phong))
    port = free_port()
    fake = subprocess.Popen([TESTPEER, "--self", root, "parent", "tcp://127.0.0.1:%d" % port, "20"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    ph = c.node(phong, role="phong", registry=path, parent_port=port, sections={"uplink": {"parent_unit": root}})
    try:
        ph.start()
    except Exception:
        fake.kill()
        fake.wait()
        raise
    return ph, "tcp://127.0.0.1:%d" % ph.down_port, fake


def upward_order(out, unit):
    """Records of unit in the order the Phòng's own change log holds them, read
    from the fake parent's lines (batches by upto; repeats after a restart dropped)."""
    batches = []
    for line in out.splitlines():
        if not line.startswith("push after "):
            continue
        head, _, recs = line.partition(": ")
        upto = int(head.split()[4])
        batches.append((upto, recs.split(":", 1)[1].split() if ":" in recs else []))
    seen, order = set(), []
    for _, recs in sorted(batches, key=lambda b: b[0]):
        for r in recs:
            if r.startswith(unit + ":") and r not in seen:
                seen.add(r)
                order.append(int(r.split(":")[1]))
    return order


def order_swap(c):
    u = "th-p1"
    ph, url, fake = fake_parent_of(c, "pgd-p", u)
    out = ""
    try:
        got, rc, txt = pushes(url, u, "0:2:r")
        check(rc == 0, "restart 0:2: %s" % txt)
        # the successor first; its predecessor 50 ms later, both in flight at once
        got, rc, txt = pushes(url, u, "4:6+2:4", gap_ms=50)
        check(rc == 0 and outcome(got, "4:6")[0] == "acked" and outcome(got, "2:4")[0] == "acked",
              "swapped pair: %s" % txt)
        # 2:4 left 50 ms after 4:6: an answer to 4:6 sooner means it did not wait for its predecessor
        check(outcome(got, "4:6")[1] >= 45, "4:6 answered before its predecessor was sent: %s" % txt)
        wait_until(lambda: stored(ph, u, range(1, 7)) == list(range(1, 7)), timeout=3, what="1..6 at the Phòng")
        wait_until(lambda: status(ph)["uplink"]["backlog"] == 0 and status(ph)["uplink"]["state"] == "online",
                   timeout=5, what="the Phòng's uplink drained to the fake parent")
    finally:
        fake.terminate()
        out = fake.communicate(timeout=10)[0].decode("utf-8", "replace")
    order = upward_order(out, u)
    check(order == [1, 2, 3, 4, 5, 6], "the Phòng's change log holds %s:%s (want 1..6 in order); fake parent:\n%s" % (
        u, order, out))
    print("order_swap: successor sent first, both acked; the Phòng's log order %s" % order)


def order_busy(c):
    ph, url = one_phong(c, "pgd-q", ["th-q1"])
    u = "th-q1"
    # five batches whose predecessors are nowhere: each of the first four holds
    # one of the child's four slots for the 200 ms the parent waits for its
    # predecessor, so one of the five (sent within a few ms) finds none free
    got, rc, txt = pushes(url, u, "10:11+20:21+30:31+40:41+50:51")
    codes = sorted(o.split(":")[0] for _, o, _ in got)
    check(rc == 3 and codes == ["BUSY"] + ["OUT_OF_ORDER"] * 4, "five in flight: %s" % txt)
    # BUSY is answered at once, the others after the parent's 200 ms wait: it
    # comes back first (no bound in ms: a loaded CI machine may be slow)
    check(got[0][1].startswith("BUSY"), "BUSY not answered first: %s" % txt)
    check(not stored(ph, u, [11, 21, 31, 41, 51]), "refused batches stored")
    # the slots are free again: a run of four in flight at once is taken whole
    got, rc, txt = pushes(url, u, "0:1:r+1:2+2:3+3:4")
    check(rc == 0 and len(got) == 4, "four in flight after BUSY: %s" % txt)
    check(stored(ph, u, range(1, 5)) == [1, 2, 3, 4], "1..4 at the Phòng")


def legacy_push(c):
    ph, url = one_phong(c, "pgd-r", ["th-r1"])
    u = "th-r1"
    rc, out = peer(url, u, "push", u, "100", "Tin một lần một lô")
    check(rc == 0 and "acked" in out, "legacy push: %d %s" % (rc, out))
    check(item_at(ph, u + ":100") is not None, "legacy item stored")
    # neither after nor restart: taken as it comes, with no run before it
    got, rc, txt = pushes(url, u, "0:3")
    check(rc == 0 and outcome(got, "0:3")[0] == "acked", "legacy batch of three: %s" % txt)
    check(stored(ph, u, [1, 2, 3]) == [1, 2, 3], "legacy batch stored")
    # and alongside a pipelined run of the same child
    got, rc, txt = pushes(url, u, "0:4:r+0:5+4:6")
    check(rc == 0 and len(got) == 3, "legacy beside a run: %s" % txt)
    check(stored(ph, u, range(1, 7)) == list(range(1, 7)), "1..6 at the Phòng")


def order_failed_commit(c):
    """A commit that fails (the Phòng's map is full) leaves the child with no
    position: no continuation is taken, from the failed batch nor from the one
    before it, until a restart (else a later batch could land past a hole)."""
    u = "th-s1"
    reg = registry(c, {"pgd-s": [u]})
    so = c.node(SO, role="so", registry=reg).start()
    ph = c.node("pgd-s", role="phong", registry=reg, parent_port=so.down_port,
                sections={"node": {"map_size_mb": "1", "map_max_mb": "1"}}).start()
    url = "tcp://127.0.0.1:%d" % ph.down_port
    title = ("Thông báo rất dài về lịch học của trường " * 8)[:290]

    def big(*specs):
        return pushes(url, u, *specs, title=title)
    got, rc, txt = big("0:1:r")
    check(rc == 0, "restart 0:1: %s" % txt)
    good, failed = 1, None
    for k in range(8):  # 512 records of ~600 bytes each: the 1 MiB map is full within a few
        spec = "%d:%d" % (good, good + 512)
        got, rc, txt = big(spec)
        o = outcome(got, spec)[0]
        if o == "acked":
            good += 512
            continue
        check(o.startswith("INTERNAL"), "a batch into a full map: %s" % txt)
        failed = good + 512
        break
    check(failed, "the map never filled after %d records" % good)
    check(not stored(ph, u, [good + 1, failed]), "records of the failed batch stored")
    # a small continuation of the failed batch would fit, but must not be taken
    got, rc, txt = pushes(url, u, "%d:%d" % (failed, failed + 1))
    check(rc == 3 and got[0][1].startswith("OUT_OF_ORDER"), "continuation of a failed batch: %s" % txt)
    check(not stored(ph, u, [failed + 1]), "a record past the hole stored")
    # nor one from the last committed batch: the child must restart its run
    got, rc, txt = pushes(url, u, "%d:%d" % (good, good + 1))
    check(rc == 3 and got[0][1].startswith("OUT_OF_ORDER"), "non-restart after a failed commit: %s" % txt)
    check(not stored(ph, u, [good + 1]), "a non-restart batch after a failed commit stored")
    # a restart (repeating a stored record: it needs no room) puts the child
    # back where it stands, so the next batch is its continuation again (room
    # or not: the map is nearly full)
    got, rc, txt = big("%d:%d:r" % (good - 1, good))
    check(rc == 0, "restart after a failed commit: %s" % txt)
    got, rc, txt = pushes(url, u, "%d:%d" % (good, good + 1))
    o = got[0][1] if got else txt
    check(o == "acked" or o.startswith("INTERNAL"), "continuation of the restarted run: %s" % txt)
    check((o == "acked") == bool(stored(ph, u, [good + 1])), "%d stored after %s" % (good + 1, o))
    print("order_failed_commit: %d records committed, the batch up to %d failed (map full); run restarted" % (
        good, failed))


if __name__ == "__main__":
    run([propagate, burst_kill, so_down, refused, sigstop, views, order_gap, order_swap, order_busy, order_failed_commit,
     legacy_push])
