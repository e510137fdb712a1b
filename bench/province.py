#!/usr/bin/python3
"""Helpers for bench/province.sh (Debian python3, standard library only).

  province.py gen DIR REGISTRY SCHEME SCHOOLS
      one config per unit of REGISTRY under DIR/<unit>/ (node.ini, admin.token,
      data/), ports bind-tested below the kernel's ephemeral range; writes
      DIR/units.tsv "unit role parent http_port" (Sở, then Phòng/xã, then
      schools). SCHEME: tcp or tls (tls adds [tls] pointing at DIR/<unit>/tls,
      issued by the caller). SCHOOLS: 0 = every school, N = N schools spread
      over the province (aggregating units are always all started).
  province.py wait-health TIMEOUT_S PORT:PID...
      until every /healthz answers 200; exits 1 naming the ports that did not
      (and the PIDs that exited).
  province.py wait-online SO_URL DIR TIMEOUT_S
      polls the Sở's /api/v1/report/deployment and /api/v1/topology until every
      unit of DIR/units.tsv is online there; prints "SECONDS ONLINE" (seconds
      since this call), or, after TIMEOUT_S, "timeout ONLINE" and the missing
      units (unit, state) on stderr, exit 1.
  province.py probe SO_URL DIR N
      publishes one item at each of N schools spread over the province, then
      polls the Sở until it has all; prints one latency in ms per item
      ("timeout" for items not there after 60 s).
  province.py measure DIR IDLE_S
      reads DIR/pids.tsv "unit role pid"; samples utime+stime of every PID,
      sleeps IDLE_S, samples again, and prints `metric value unit` lines for
      RSS, CPU, threads and fds.
"""
import csv
import http.client
import json
import os
import random
import socket
import sys
import time
import urllib.parse

AGG = {"so": "so", "phong": "phong", "xa": "phong"}  # registry type -> role


def read_units(d):
    with open(os.path.join(d, "units.tsv"), encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def spread(items, n):
    """n items taken evenly from items (keeps their order)."""
    if n <= 0 or n >= len(items):
        return list(items)
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def pick_ports(n):
    """n TCP ports on 127.0.0.1, each bind-tested, below the ephemeral range
    (outgoing connections of 667 nodes take ephemeral ports and could steal
    a port handed out here before its node binds it)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            eph_lo = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        eph_lo = 32768
    lo, hi = 10000, eph_lo
    if hi - lo < n * 2:
        sys.exit("province: only %d ports below the ephemeral range %d" % (hi - lo, eph_lo))
    start = random.randrange(lo, hi)
    out = []
    for k in range(hi - lo):
        p = lo + (start - lo + k) % (hi - lo)
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            continue
        finally:
            s.close()
        out.append(p)
        if len(out) == n:
            return out
    sys.exit("province: found only %d free ports of %d" % (len(out), n))


def cmd_gen(d, registry, scheme, schools):
    with open(registry, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    by_id = {r["id"]: r for r in rows}
    so = [r for r in rows if r["type"] == "so"]
    agg = [r for r in rows if r["type"] in ("phong", "xa")]
    sch = spread([r for r in rows if r["type"] not in AGG], int(schools))
    if len(so) != 1:
        sys.exit("province: %s has %d units of type so (want 1)" % (registry, len(so)))
    units = so + agg + sch
    ports = pick_ports(len(units) + len(so) + len(agg))
    http_port, down_port = {}, {}
    for r in units:
        http_port[r["id"]] = ports.pop()
    for r in so + agg:
        down_port[r["id"]] = ports.pop()
    url = "tls+tcp" if scheme == "tls" else "tcp"
    with open(os.path.join(d, "units.tsv"), "w", encoding="utf-8") as tsv:
        for r in units:
            u, role = r["id"], AGG.get(r["type"], "school")
            parent = r["parent"]
            if parent and parent not in by_id:
                sys.exit("province: %s: parent %s not in the registry" % (u, parent))
            ud = os.path.join(d, u)
            os.makedirs(os.path.join(ud, "data"), exist_ok=True)
            tok = os.path.join(ud, "admin.token")
            fd = os.open(tok, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.write(fd, ("province-%s-%s\n" % (u, os.urandom(12).hex())).encode())
            os.close(fd)
            L = ["[node]", "id = " + u, "role = " + role, "name = " + r["name"],
                 "data_dir = %s/data" % ud, "log_level = warning"]
            if role == "school":
                L += ["map_size_mb = 4"]  # 667 nodes: keep each LMDB map small
            else:
                L += ["registry = %s/units.csv" % d, "map_size_mb = 16"]
            if parent:
                L += ["", "[uplink]", "parent = %s://127.0.0.1:%d" % (url, down_port[parent]),
                      "parent_unit = " + parent]
            if role != "school":
                L += ["", "[downlink]", "listen = %s://127.0.0.1:%d" % (url, down_port[u])]
            if scheme == "tls":
                t = os.path.join(ud, "tls")
                L += ["", "[tls]", "ca = %s/ca.crt" % t, "cert = %s/%s.crt" % (t, u),
                      "key = %s/%s.key" % (t, u), "ed25519 = %s/%s.ed25519" % (t, u),
                      "revoked = %s/ca/revoked.list" % d]
            L += ["", "[http]", "listen = 127.0.0.1:%d" % http_port[u],
                  "", "[admin]", "token_file = " + tok, ""]
            with open(os.path.join(ud, "node.ini"), "w", encoding="utf-8") as f:
                f.write("\n".join(L))
            tsv.write("%s\t%s\t%s\t%d\n" % (u, role, parent or "-", http_port[u]))
    print(len(units))


def get(c, path):
    c.request("GET", path)
    r = c.getresponse()
    return r.status, r.read()


def conn(port_or_url, timeout=5):
    if isinstance(port_or_url, int):
        return http.client.HTTPConnection("127.0.0.1", port_or_url, timeout=timeout)
    u = urllib.parse.urlsplit(port_or_url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)


def exited(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def cmd_wait_health(timeout, *pairs):
    pending = {}
    for pp in pairs:
        port, pid = pp.split(":")
        pending[int(port)] = int(pid)
    deadline = time.monotonic() + float(timeout)
    dead = set()
    while pending and time.monotonic() < deadline:
        for port, pid in list(pending.items()):
            try:
                c = conn(port, 1)
                st, _ = get(c, "/healthz")
                c.close()
                if st == 200:
                    del pending[port]
                    continue
            except (OSError, http.client.HTTPException):
                pass
            if exited(pid):
                dead.add(pid)
                del pending[port]
        if pending:
            time.sleep(0.05)
    for port, pid in pending.items():
        print("port %d (pid %d) not healthy after %s s" % (port, pid, timeout), file=sys.stderr)
    for pid in sorted(dead):
        print("pid %d exited during start-up" % pid, file=sys.stderr)
    sys.exit(1 if pending or dead else 0)


def topo_states(doc, out):
    out[doc["unit"]] = doc["state"]
    for k in doc.get("children", []):
        topo_states(k, out)
    return out


def cmd_wait_online(so_url, d, timeout):
    want = [u[0] for u in read_units(d)]
    t0 = time.monotonic()
    deadline = t0 + float(timeout)
    states, online, report = {}, 0, None
    while True:
        try:
            c = conn(so_url, 10)
            st, body = get(c, "/api/v1/report/deployment")
            if st == 200:
                report = json.loads(body)
                online = sum(int(t["online"]) for t in report["by_type"])
                # The report counts the whole registry; the topology says which
                # of the started units are there (they differ with --schools).
                if online >= len(want):
                    st, body = get(c, "/api/v1/topology")
                    states = topo_states(json.loads(body), {}) if st == 200 else {}
                    if all(states.get(u) == "online" for u in want):
                        print("%.1f %d" % (time.monotonic() - t0, sum(states.get(u) == "online" for u in want)))
                        return
            c.close()
        except (OSError, http.client.HTTPException, ValueError, KeyError):
            pass
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    try:
        c = conn(so_url, 10)
        st, body = get(c, "/api/v1/topology")
        states = topo_states(json.loads(body), {}) if st == 200 else {}
    except (OSError, http.client.HTTPException, ValueError):
        states = {}
    missing = [u for u in want if states.get(u) != "online"]
    print("timeout %d" % (len(want) - len(missing)))
    print("province: %d of %d started units not online at the Sở after %s s:" % (
        len(missing), len(want), timeout), file=sys.stderr)
    for u in missing:
        print("  %s %s" % (u, states.get(u, "absent")), file=sys.stderr)
    if report:
        print("  report by_type: %s" % json.dumps(report.get("by_type")), file=sys.stderr)
    sys.exit(1)


def cmd_probe(so_url, d, n):
    schools = spread([u for u in read_units(d) if u[1] == "school"], int(n))
    sent = []
    for unit, _, _, port in schools:
        with open(os.path.join(d, unit, "admin.token")) as f:
            tok = f.readline().strip()
        body = json.dumps({"kind": "news", "title": "Tin thử nghiệm toàn tỉnh từ %s" % unit,
                           "summary": "Kiểm tra thời gian từ trường đến Sở", "body": "Nội dung **thử**."})
        c = conn(int(port), 10)
        t0 = time.monotonic()
        c.request("POST", "/api/v1/items", body=body.encode(), headers={
            "Authorization": "Bearer " + tok, "Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        c.close()
        if r.status != 201:
            sys.exit("province: publish at %s failed: HTTP %d %s" % (unit, r.status, data[:200]))
        sent.append((unit, json.loads(data)["id"], t0))
    gc = conn(so_url, 10)
    lat = {}
    deadline = time.monotonic() + 60
    while len(lat) < len(sent) and time.monotonic() < deadline:
        for unit, iid, t0 in sent:
            if iid in lat:
                continue
            st, _ = get(gc, "/api/v1/items/" + urllib.parse.quote(iid, safe=""))
            if st == 200:
                lat[iid] = (time.monotonic() - t0) * 1000
        time.sleep(0.002)
    for unit, iid, _ in sent:
        print("%.1f" % lat[iid] if iid in lat else "timeout")


def proc_sample(pid):
    """(rss_kib, threads, ticks, fds) of pid, or None when it is gone."""
    try:
        rss = thr = 0
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("Threads:"):
                    thr = int(line.split()[1])
        with open("/proc/%d/stat" % pid) as f:
            rest = f.read().rsplit(")", 1)[1].split()
        if rest[0] in ("Z", "X"):
            return None
        ticks = int(rest[11]) + int(rest[12])  # utime, stime (fields 14, 15)
        fds = len(os.listdir("/proc/%d/fd" % pid))
        return rss, thr, ticks, fds
    except (OSError, ValueError, IndexError):
        return None


def pct(vals, p):
    vals = sorted(vals)
    return vals[min(len(vals) - 1, int(len(vals) * p / 100))] if vals else float("nan")


def cmd_measure(d, idle):
    hz = os.sysconf("SC_CLK_TCK")
    procs = []
    with open(os.path.join(d, "pids.tsv")) as f:
        for line in f:
            u, role, pid = line.split()
            procs.append((u, role, int(pid)))
    a = {p: proc_sample(p) for _, _, p in procs}
    t0 = time.monotonic()
    time.sleep(float(idle))
    b = {p: proc_sample(p) for _, _, p in procs}
    dt = time.monotonic() - t0
    gone = [u for u, _, p in procs if a[p] is None or b[p] is None]
    live = [(u, r, p) for u, r, p in procs if a[p] is not None and b[p] is not None]
    mib = lambda k: k / 1024.0
    rss = {p: b[p][0] for _, _, p in live}
    cpu = {p: (b[p][2] - a[p][2]) / hz / dt * 100 for _, _, p in live}
    sch = [p for _, r, p in live if r == "school"]
    phg = [p for _, r, p in live if r == "phong"]
    so = [p for _, r, p in live if r == "so"]
    busiest = max(live, key=lambda x: cpu[x[2]]) if live else ("-", "-", 0)
    M = lambda n, v, unit, note=None: print("%s %s %s%s" % (n, v, unit, "  # " + note if note else ""))
    M("nodes_alive_after_idle", len(live), "processes", "exited: " + " ".join(gone) if gone else None)
    M("total_rss_mib", "%.1f" % mib(sum(rss.values())), "MiB", "sum of VmRSS over every edunetd")
    if sch:
        M("rss_per_school_mib_mean", "%.2f" % mib(sum(rss[p] for p in sch) / len(sch)), "MiB")
        big = max((x for x in live if x[1] == "school"), key=lambda x: rss[x[2]])
        M("rss_per_school_mib_max", "%.2f" % mib(rss[big[2]]), "MiB", big[0])
        try:  # where that memory is, for a look afterwards (with --keep)
            with open("/proc/%d/smaps" % big[2]) as f, open(os.path.join(d, big[0], "smaps.txt"), "w") as o:
                o.write(f.read())
        except OSError:
            pass
    if phg:
        M("rss_per_phong_mib_mean", "%.2f" % mib(sum(rss[p] for p in phg) / len(phg)), "MiB",
          "Phòng and xã nodes")
    if so:
        M("rss_so_mib", "%.2f" % mib(rss[so[0]]), "MiB")
    M("idle_cpu_percent_total", "%.1f" % sum(cpu.values()), "%",
      "utime+stime over %.0f s idle, %% of one core" % dt)
    if live:
        M("idle_cpu_percent_per_node", "%.3f" % (sum(cpu.values()) / len(live)), "%", "mean")
        if sch:
            M("idle_cpu_percent_per_school", "%.3f" % (sum(cpu[p] for p in sch) / len(sch)), "%", "mean")
        if so:
            M("idle_cpu_percent_so", "%.2f" % cpu[so[0]], "%")
        M("idle_cpu_percent_max_node", "%.2f" % cpu[busiest[2]], "%", busiest[0])
    M("threads_total", sum(b[p][1] for _, _, p in live), "threads")
    if sch:
        M("threads_per_school", "%.1f" % (sum(b[p][1] for p in sch) / len(sch)), "threads", "mean")
    M("fds_total", sum(b[p][3] for _, _, p in live), "fds")
    if so:
        M("fds_so", b[so[0]][3], "fds")
    if gone:
        sys.exit(1)


if __name__ == "__main__":
    cmds = {"gen": cmd_gen, "wait-health": cmd_wait_health, "wait-online": cmd_wait_online,
            "probe": cmd_probe, "measure": cmd_measure}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](*sys.argv[2:])
