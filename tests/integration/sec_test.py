#!/usr/bin/python3
"""Security tests against real edunetd processes: authentication of writes,
oversized declared bodies and headers, slowloris, CR/LF/NUL injection,
methods, an oversized nng frame on a Phòng's downlink, and XSS payloads
loaded in headless Chromium (see sec_xss.py). Each case stays under ~30 s."""
import os
import socket
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from harness import Failure, check, free_port, http, run, wait_until  # noqa: E402

MIB = 1024 * 1024


def school(c, unit="th-hoa-an", name="Trường Tiểu học Hòa An", **kw):
    # The parent port has no listener: the uplink stays disconnected (SPEC §6.3).
    return c.node(unit, role="school", name=name, parent_port=free_port(), **kw).start()


def proc_kib(node, field):
    """VmRSS / VmHWM of the node's process, in KiB."""
    with open("/proc/%d/status" % node.proc.pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise Failure("no %s in /proc/%d/status" % (field, node.proc.pid))


def raw_request(port, data, timeout=5.0, read_max=1 * MIB):
    """Sends data on a new connection and reads until close or timeout.
    Returns (status or None, {lowercased header: [values]}, raw header text, elapsed s)."""
    t0 = time.time()
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    got = b""
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused while we were still sending: read what it said
        deadline = t0 + timeout
        while len(got) < read_max and time.time() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            got += chunk
            if b"\r\n\r\n" in got:
                break  # headers are what these tests look at
    finally:
        s.close()
    head = got.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.split("\r\n")
    status = None
    if lines and lines[0].startswith("HTTP/1."):
        try:
            status = int(lines[0].split()[1])
        except (IndexError, ValueError):
            pass
    hdrs = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            hdrs.setdefault(k.strip().lower(), []).append(v.strip())
    return status, hdrs, head, time.time() - t0


def still_serves(n, what):
    t0 = time.time()
    st, _, _ = http(n.url + "/healthz", timeout=5)
    check(st == 200, "%s: /healthz answered %s" % (what, st))
    check(time.time() - t0 < 2, "%s: /healthz took %.1fs" % (what, time.time() - t0))
    n.publish("Vẫn hoạt động sau " + what)


# ---------------------------------------------------------------------------

def auth(c):
    """Every write needs the admin token: none, wrong, malformed -> 401, nothing stored."""
    n = school(c)
    iid = n.publish("Bài có sẵn")
    good = {"kind": "news", "title": "Không được phép"}
    wrong = [None, "Bearer " + n.token + "x", "Bearer " + n.token[:-1], "Bearer", "Bearer ",
             "Basic " + n.token, "bearer" + n.token, n.token, "Bearer  " + n.token + " x"]
    # (A trailing tab or space is optional whitespace around the header value: HTTP strips it.)
    for auth_value in wrong:
        h = {} if auth_value is None else {"Authorization": auth_value}
        for method, path, body in [("POST", "/api/v1/items", good), ("PUT", "/api/v1/items/" + iid, good),
                                   ("DELETE", "/api/v1/items/" + iid, None),
                                   ("POST", "/api/v1/attachments", None)]:
            st, doc, _ = n.api(method, path, body, token=False, headers=h,
                               raw=b"x" if body is None and method == "POST" else None)
            check(st == 401, "%s %s with Authorization %r: %s %r" % (method, path, auth_value, st, doc))
    # The token in a query string or a cookie is not a token.
    st, _, _ = http(n.url + "/api/v1/items?token=" + n.token, method="POST", data=b"{}",
                    headers={"Content-Type": "application/json", "Cookie": "token=" + n.token})
    check(st == 401, "token in query/cookie accepted: %s" % st)
    st, doc, _ = n.api("GET", "/api/v1/items", token=False)
    check(st == 200 and [i["id"] for i in doc["items"]] == [iid], "unauthorized writes changed the store: %r" % doc)
    st, doc, _ = n.api("GET", "/api/v1/items/" + iid, token=False)
    check(st == 200 and doc["version"] == 1, "item changed: %r" % doc)


def huge_content_length(c):
    """Content-Length: 2147483648 (and more) is refused at once, nothing is allocated."""
    n = school(c, sections={"http": {"timeout_s": "5"}})
    n.publish("Trước")
    hwm0 = proc_kib(n, "VmHWM")
    for length in ["2147483648", "9223372036854775807", "18446744073709551616", "-1", "99999999999999999999"]:
        for path, auth_hdr in [("/api/v1/items", "Authorization: Bearer %s\r\n" % n.token), ("/", ""),
                               ("/api/v1/attachments", "Authorization: Bearer %s\r\n" % n.token)]:
            req = ("POST %s HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\n"
                   "Content-Length: %s\r\n\r\n" % (path, auth_hdr, length)).encode() + b"{" * 4096
            st, _, head, dt = raw_request(n.http_port, req, timeout=4)
            check(st in (400, 413), "Content-Length %s on %s: answered %r" % (length, path, head[:200]))
            check(dt < 2.5, "Content-Length %s on %s: refusal took %.1fs" % (length, path, dt))
            print("Content-Length %s on %s: %s in %.2fs" % (length, path, st, dt))
    # A chunked body declaring a 2 GiB chunk: refused too.
    req = ("POST /api/v1/items HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
           "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n80000000\r\n" % n.token
           ).encode() + b"{" * 65536
    st, _, head, dt = raw_request(n.http_port, req, timeout=4)
    check(st in (400, 413) or st is None, "2 GiB chunk: %r" % head[:200])
    print("2 GiB chunk: %s in %.2fs" % (st, dt))
    hwm1 = proc_kib(n, "VmHWM")
    check(hwm1 - hwm0 < 64 * 1024, "peak RSS grew by %d KiB on declared lengths" % (hwm1 - hwm0))
    check(proc_kib(n, "VmRSS") < 200 * 1024, "RSS %d KiB" % proc_kib(n, "VmRSS"))
    still_serves(n, "huge Content-Length")


def huge_header(c):
    """A 1 MiB header (one line, or many) is refused quickly; the node is fine."""
    n = school(c)
    hwm0 = proc_kib(n, "VmHWM")
    for what, extra in [("one 1 MiB header", "X-Filler: " + "a" * MIB + "\r\n"),
                        ("20000 small headers", "".join("X-H%d: v\r\n" % i for i in range(20000))),
                        ("1 MiB request line", None)]:
        if extra is None:
            req = ("GET /" + "a" * MIB + " HTTP/1.1\r\nHost: x\r\n\r\n").encode()
        else:
            req = ("GET / HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n").encode()
        st, _, head, dt = raw_request(n.http_port, req, timeout=5)
        # libevent answers 400/413/431 or, mid-transfer, just closes: never 200.
        check(st in (400, 413, 414, 431) or st is None, "%s: answered %r" % (what, head[:200]))
        check(dt < 3, "%s: took %.1fs" % (what, dt))
        print("%s: %s in %.2fs" % (what, st, dt))
    check(proc_kib(n, "VmHWM") - hwm0 < 32 * 1024, "peak RSS grew by %d KiB" % (proc_kib(n, "VmHWM") - hwm0))
    still_serves(n, "huge header")


SLOW_CONNS = 200


def _slow_clients(port, gap, stop, closed_at, t0):
    """Opens SLOW_CONNS connections that send one header byte every `gap` s;
    records when the node closed each one."""
    socks = []
    for _ in range(SLOW_CONNS):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.setblocking(False)
        socks.append(s)
    msg = b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 4096
    pos = [0] * len(socks)
    while not stop.is_set() and len(closed_at) < len(socks):
        for i, s in enumerate(socks):
            if i in closed_at:
                continue
            try:
                if s.recv(4096) == b"":
                    closed_at[i] = time.time() - t0
                    continue
            except BlockingIOError:
                pass
            except OSError:
                closed_at[i] = time.time() - t0
                continue
            try:
                s.send(msg[pos[i] % len(msg):pos[i] % len(msg) + 1])
                pos[i] += 1
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                closed_at[i] = time.time() - t0
        stop.wait(gap)
    for s in socks:
        s.close()


def _slowloris(c, gap):
    timeout = 2
    n = school(c, sections={"http": {"timeout_s": str(timeout)}})
    n.publish("Trang chủ vẫn nhanh")
    stop = threading.Event()
    closed_at = {}
    t0 = time.time()
    th = threading.Thread(target=_slow_clients, args=(n.http_port, gap, stop, closed_at, t0), daemon=True)
    th.start()
    try:
        time.sleep(0.5)
        worst = 0.0
        for _ in range(20):  # normal requests during the attack stay fast
            t = time.time()
            st, _, body = http(n.url + "/", timeout=5)
            worst = max(worst, time.time() - t)
            check(st == 200 and "Trang chủ vẫn nhanh" in body.decode(), "home page during slowloris: %s" % st)
            time.sleep(0.1)
        check(worst < 1.0, "a normal request took %.2fs during slowloris" % worst)
        limit = timeout * 3 + 2
        wait_until(lambda: len(closed_at) == SLOW_CONNS or time.time() - t0 > limit, timeout=limit + 2,
                   interval=0.2, what="slow connections closed")
        check(len(closed_at) == SLOW_CONNS,
              "%d of %d slow connections (one byte every %.1fs) still open %.0fs after they began; "
              "timeout_s = %d" % (SLOW_CONNS - len(closed_at), SLOW_CONNS, gap, time.time() - t0, timeout))
    finally:
        stop.set()
        th.join(10)
    still_serves(n, "slowloris")


def slowloris_idle(c):
    """200 connections that pause longer than timeout_s between header bytes are dropped."""
    _slowloris(c, gap=3.0)


def slowloris(c):
    """200 connections sending one header byte every second (under timeout_s = 2): the node
    keeps serving others fast and drops them within a few timeouts (a header deadline, not
    only an idle timeout)."""
    _slowloris(c, gap=1.0)


# The last two: overlong CR/LF, and 20 x U+1EAF (60 bytes; an error message that cuts
# the echoed value at a byte count must not split a character).
INJECT = ["a%0d%0aX-Injected:%201", "a%0aX-Injected:%201", "a%0dX-Injected:%201", "a%00b",
          "%0d%0aSet-Cookie:%20edu=1", "a%E5%98%8A%E5%98%8DX-Injected:%201", "a%c0%8d%c0%8aX-Injected:1",
          urllib.parse.quote("\u1eaf" * 20)]


def _no_injected_header(hdrs, head, what):
    check("x-injected" not in hdrs and "set-cookie" not in hdrs,
          "%s: injected header in the answer:\n%s" % (what, head))
    for k, vals in hdrs.items():
        for v in vals:
            check("\x00" not in v and "X-Injected" not in v, "%s: header %s carries input: %r" % (what, k, v))


def injection(c):
    """CR, LF and NUL in paths, query parameters and JSON strings: 400 (or 404 for a path
    naming nothing), never echoed into a response header; JSON strings refused."""
    n = school(c)
    iid = n.publish("Có sẵn", summary="Tóm tắt")
    wrong = []
    for inj in INJECT:
        cases = [("/api/v1/items?unit=" + inj, (400,)), ("/api/v1/items?kind=" + inj, (400,)),
                 ("/api/v1/items?limit=" + inj, (400,)), ("/api/v1/items?before=" + inj, (400,)),
                 ("/feed.atom?unit=" + inj, (400,)), ("/feed.json?kind=" + inj, (400,)),
                 ("/feed.rss?limit=" + inj, (400,)), ("/?unit=" + inj, (400,)),
                 ("/u/" + inj, (400, 404)), ("/i/" + inj, (400, 404)), ("/i/" + iid + "/" + inj, (400, 404)),
                 ("/api/v1/items/" + inj, (400, 404)), ("/search?q=" + inj, (200, 400))]
        for path, want in cases:
            req = ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode()
            st, hdrs, head, _ = raw_request(n.http_port, req)
            if st not in want:  # collected, so one run lists every wrong answer
                wrong.append("GET %s: %r (want %s)" % (path, head.split("\r\n")[0], want))
            _no_injected_header(hdrs, head, "GET " + path)
    # raw CR/LF/NUL bytes in the request line itself
    for raw in [b"GET /u/a\rX-Injected: 1 HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET /search?q=a\x00b HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET /search?q=a\nX-Injected: 1 HTTP/1.1\r\nHost: x\r\n\r\n"]:
        st, hdrs, head, _ = raw_request(n.http_port, raw)
        check(st is None or 400 <= st < 500, "raw %r: %r" % (raw, head[:100]))
        _no_injected_header(hdrs, head, repr(raw))
    # The search answer escapes what it shows of the query.
    st, _, body = http(n.url + "/search?q=" + urllib.parse.quote("<script>x</script>\"'"))
    check(st in (200, 400) and b"<script>x" not in body, "search echoes markup: %s" % st)
    # JSON strings: CR/LF/NUL in one-line fields, NUL anywhere, are refused (a summary may
    # hold line breaks). Nothing of it reaches a response header.
    for field in ["title", "summary", "author", "tags", "doc_number", "signer", "location"]:
        for bad in ["a\r\nX-Injected: 1", "a\x00b", "a\rb", "a\nb", "a\u2028b\u0085c\x1b[31m"]:
            body = {"kind": "document" if field in ("doc_number", "signer") else
                    "event" if field == "location" else "news", "title": "Tiêu đề"}
            if field == "location":
                body.update({"starts": "2025-01-02T08:00:00+07:00", "ends": "2025-01-02T09:00:00+07:00"})
            body[field] = [bad] if field == "tags" else bad
            st, doc, hdrs = n.api("POST", "/api/v1/items", body)
            _no_injected_header({k: [v] for k, v in hdrs.items()}, repr(hdrs), "POST %s=%r" % (field, bad))
            if "\x1b" in bad:
                want = (201, 400)  # ESC is a control character: refusing it is fine too
            elif field == "summary" and "\x00" not in bad:
                want = (201, 400)
            else:
                want = (400,)
            if st not in want:
                wrong.append("POST %s=%r: %s %r (want %s)" % (field, bad, st, doc, want))
    check(not wrong, "%d wrong answers:\n%s" % (len(wrong), "\n".join(wrong)))
    st, doc, _ = n.api("GET", "/api/v1/items", token=False)
    for it in doc["items"]:
        for k in ("title", "summary", "author"):
            check("\r" not in it.get(k, "") and "\x00" not in it.get(k, ""), "stored %s %r" % (k, it.get(k)))
    still_serves(n, "injection")


def methods(c):
    """Public paths answer GET/HEAD only (405 with Allow); TRACE, CONNECT and odd methods
    are refused and never echo the request."""
    n = school(c)
    iid = n.publish("Phương thức")
    public = ["/", "/u/th-hoa-an", "/i/" + iid, "/search?q=a", "/feed.atom", "/feed.rss", "/feed.json",
              "/healthz", "/metrics", "/static/style.css"]
    for path in public:
        st, _, _ = http(n.url + path, method="HEAD")
        check(st == 200, "HEAD %s: %s" % (path, st))
        for m in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]:
            st, hdrs, _ = http(n.url + path, method=m, data=b"x" if m in ("POST", "PUT", "PATCH") else None)
            want = (405,) if m in ("POST", "PUT", "DELETE") else (405, 501)
            check(st in want, "%s %s: %s" % (m, path, st))
            if st == 405:
                allow = hdrs.get("allow", "")
                check("GET" in allow and "POST" not in allow and "DELETE" not in allow,
                      "%s %s: Allow %r" % (m, path, allow))
    for raw in [b"TRACE / HTTP/1.1\r\nHost: x\r\nX-Secret: s3cr3t\r\nConnection: close\r\n\r\n",
                b"TRACE /api/v1/items HTTP/1.1\r\nHost: x\r\nCookie: s3cr3t\r\nConnection: close\r\n\r\n",
                b"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\nConnection: close\r\n\r\n",
                b"CONNECT / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                b"FOO / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                b"get / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                b"GET / HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n",
                b"GET http://evil.example/ HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"]:
        s = socket.create_connection(("127.0.0.1", n.http_port), timeout=3)
        s.sendall(raw)
        got = b""
        try:  # headers, then Content-Length bytes (libevent keeps a CONNECT open after its 501)
            while len(got) < 65536:
                ch = s.recv(65536)
                if not ch:
                    break
                got += ch
                head, sep, rest = got.partition(b"\r\n\r\n")
                if sep:
                    clen = [ln.split(b":", 1)[1] for ln in head.split(b"\r\n")
                            if ln.lower().startswith(b"content-length:")]
                    if clen and len(rest) >= int(clen[0]):
                        break
        except socket.timeout:
            pass
        s.close()
        first = got.split(b"\r\n", 1)[0]
        method = raw.split(b" ", 1)[0]
        if method in (b"TRACE", b"CONNECT", b"FOO", b"get"):
            check(not first or first.split(b" ")[1:2] in ([b"400"], [b"401"], [b"403"], [b"405"], [b"501"]),
                  "%r: %r" % (raw[:30], first))
        else:
            check(not first or b" 200 " not in first or method == b"GET", "%r: %r" % (raw[:30], first))
        check(b"s3cr3t" not in got, "%r echoed the request: %r" % (raw[:30], got[:300]))
    still_serves(n, "methods")


def _registry(c):
    rows = ["id,name,type,parent", "so-thu,Sở Thử,so,", "pgd-a,Phòng A,phong,so-thu",
            "th-a,Trường A,th,pgd-a", "th-b,Trường B,th,pgd-a"]
    path = os.path.join(c.dir, "units.csv")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")
    return path


def _at(n, iid):
    st, doc, _ = n.api("GET", "/api/v1/items/" + iid, token=False)
    return st == 200


def nng_oversize(c):
    """A raw peer speaks the SP handshake on a Phòng's downlink and declares a 100 MiB
    message: the Phòng drops the connection without allocating it and keeps serving its
    children and HTTP."""
    reg = _registry(c)
    ph = c.node("pgd-a", role="phong", registry=reg, parent_port=free_port()).start()
    sa = c.node("th-a", role="school", parent_port=ph.down_port).start()
    iid = sa.publish("Trước khi bị tấn công")
    wait_until(lambda: _at(ph, iid), timeout=10, what="first item at the Phòng")
    rss0 = proc_kib(ph, "VmRSS")

    def attack(declared, stream):
        s = socket.create_connection(("127.0.0.1", ph.down_port), timeout=5)
        s.sendall(b"\x00SP\x00\x00\x30\x00\x00")  # req0 (48), reserved
        hello = b""
        while len(hello) < 8:
            ch = s.recv(8 - len(hello))
            check(ch, "the Phòng closed before its SP header")
            hello += ch
        check(hello == b"\x00SP\x00\x00\x31\x00\x00", "SP header from the Phòng %r (want rep0)" % hello)
        s.sendall(declared.to_bytes(8, "big"))
        sent, t0, dropped = 0, time.time(), False
        chunk = os.urandom(64 * 1024)
        s.settimeout(0.5)
        while sent < stream and time.time() - t0 < 15:
            try:
                sent += s.send(chunk)
            except socket.timeout:
                continue
            except (BrokenPipeError, ConnectionResetError):
                dropped = True
                break
        if not dropped:
            s.settimeout(5)
            try:
                dropped = s.recv(1) == b""
            except (ConnectionResetError, socket.timeout):
                dropped = True
        s.close()
        return dropped, sent

    dropped, sent = attack(100 * MIB, 100 * MIB)
    print("100 MiB frame: dropped after %d KiB were sent" % (sent // 1024))
    check(dropped, "the Phòng kept a connection declaring 100 MiB (accepted %d bytes)" % sent)
    check(sent < 64 * MIB, "the Phòng took %d MiB of a 100 MiB frame before dropping it" % (sent // MIB))
    dropped, sent = attack((1 << 63) + 1, 4 * MIB)  # a length no size_t holds
    check(dropped, "the Phòng kept a connection declaring 2^63+1 bytes")
    rss1 = proc_kib(ph, "VmRSS")
    print("Phòng RSS %d -> %d KiB" % (rss0, rss1))
    check(rss1 - rss0 < 48 * 1024, "the Phòng's RSS grew from %d to %d KiB" % (rss0, rss1))
    # Siblings and HTTP unaffected: an existing child replicates, a new one connects.
    iid2 = sa.publish("Sau cuộc tấn công")
    wait_until(lambda: _at(ph, iid2), timeout=10, what="item after the attack at the Phòng")
    sb = c.node("th-b", role="school", parent_port=ph.down_port).start()
    iid3 = sb.publish("Trường B")
    wait_until(lambda: _at(ph, iid3), timeout=10, what="a new child's item at the Phòng")
    still_serves(ph, "oversized nng frame")


if __name__ == "__main__":
    run([auth, huge_content_length, huge_header, slowloris_idle, slowloris, injection, methods, nng_oversize])
