#!/usr/bin/python3
"""Small clients for the benchmarks (Debian python3, standard library only).

  edubench.py publish URL TOKEN N [BODY_BYTES]
      N items through POST /api/v1/items on one keep-alive connection.
  edubench.py probe SCHOOL_URL TOKEN SO_URL SAMPLES INTERVAL_S
      publish-to-Sở latency: publishes one item at the school, then polls the
      Sở for it every millisecond; prints one latency in ms per sample.
  edubench.py wait-count URL FIELD TARGET TIMEOUT_S
      polls /api/v1/status until FIELD >= TARGET; prints the Unix time (s, float)
      when it first was, or exits 1 on timeout.
  edubench.py mqtt-lines N SIZE [FIRST]
      N lines "SEQ SEND_NS xxxx…" of SIZE bytes (newline excluded) for mosquitto_pub -l,
      SEQ from FIRST (default 1).
  edubench.py mqtt-probe-lines N INTERVAL_S
      like mqtt-lines (1 KiB), paced: one line every INTERVAL_S, flushed, so
      that the send time is the time the publisher gets the message.
  edubench.py mqtt-check N FILE T0
      reads mosquitto_sub -F '@s@N %p' output; prints received, unique, dups,
      missing, items/s (from T0 to the last arrival) and p50/p99 latency.
"""
import http.client
import json
import sys
import time
import urllib.parse


def conn_for(url):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=30)


def post_item(c, token, body):
    c.request("POST", "/api/v1/items", body=body, headers={
        "Authorization": "Bearer " + token, "Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    if r.status != 201:
        raise SystemExit("publish failed: HTTP %d %s" % (r.status, data[:200]))
    return json.loads(data)["id"]


def item_body(i, size):
    doc = {"kind": "news", "title": "Bản tin thử nghiệm số %d" % i,
           "summary": "Tin thử nghiệm hiệu năng", "body": ""}
    base = len(json.dumps(doc).encode())
    doc["body"] = "x" * max(0, size - base)
    return json.dumps(doc).encode()


def cmd_publish(url, token, n, size=1024):
    c = conn_for(url)
    for i in range(1, int(n) + 1):
        post_item(c, token, item_body(i, int(size)))
    c.close()


def cmd_probe(school, token, so, samples, interval):
    pc, gc = conn_for(school), conn_for(so)
    for i in range(int(samples)):
        t0 = time.monotonic()
        iid = post_item(pc, token, item_body(i, 1024))
        path = "/api/v1/items/" + urllib.parse.quote(iid, safe="")
        deadline = t0 + 30
        while True:
            gc.request("GET", path)
            r = gc.getresponse()
            r.read()
            if r.status == 200:
                print("%.3f" % ((time.monotonic() - t0) * 1000), flush=True)
                break
            if time.monotonic() > deadline:
                print("timeout", flush=True)
                break
            time.sleep(0.001)
        time.sleep(float(interval))


def cmd_wait_count(url, field, target, timeout):
    c = conn_for(url)
    deadline = time.time() + float(timeout)
    while time.time() < deadline:
        c.request("GET", "/api/v1/status")
        r = c.getresponse()
        doc = json.loads(r.read())
        if int(doc[field]) >= int(target):
            print("%.3f" % time.time())
            return
        time.sleep(0.02)
    sys.exit(1)


def cmd_mqtt_lines(n, size, first=1):
    out = sys.stdout.buffer
    size, first = int(size), int(first)
    for i in range(first, first + int(n)):
        head = b"%d %d " % (i, time.time_ns())
        out.write(head + b"x" * (size - len(head)) + b"\n")
    out.flush()


def cmd_mqtt_probe_lines(n, interval):
    out = sys.stdout.buffer
    for i in range(1, int(n) + 1):
        head = b"%d %d " % (i, time.time_ns())
        out.write(head + b"x" * (1024 - len(head)) + b"\n")
        out.flush()
        time.sleep(float(interval))


def pct(vals, p):
    if not vals:
        return float("nan")
    vals = sorted(vals)
    return vals[min(len(vals) - 1, int(len(vals) * p / 100))]


def cmd_mqtt_check(n, path, t0):
    n, t0 = int(n), float(t0)
    seen, dups, lat, last = set(), 0, [], 0.0
    with open(path, "rb") as f:
        for line in f:
            parts = line.split(b" ", 3)
            if len(parts) < 3:
                continue
            recv = int(parts[0]) / 1e9 if len(parts[0]) > 12 else float(parts[0])
            seq, sent = int(parts[1]), int(parts[2]) / 1e9
            if seq in seen:
                dups += 1
            seen.add(seq)
            lat.append((recv - sent) * 1000)
            last = max(last, recv)
    missing = len(set(range(1, n + 1)) - seen)
    rate = len(seen) / (last - t0) if last > t0 else 0
    print("received %d unique %d dups %d missing %d rate %.0f p50 %.1f p99 %.1f" % (
        len(seen) + dups, len(seen), dups, missing, rate, pct(lat, 50), pct(lat, 99)))


if __name__ == "__main__":
    cmds = {"publish": cmd_publish, "probe": cmd_probe, "wait-count": cmd_wait_count,
            "mqtt-lines": cmd_mqtt_lines, "mqtt-probe-lines": cmd_mqtt_probe_lines, "mqtt-check": cmd_mqtt_check}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](*sys.argv[2:])
