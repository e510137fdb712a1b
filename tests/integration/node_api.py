#!/usr/bin/python3
"""One school node end to end: the JSON API, the portal pages, the feeds,
conditional GET, attachments, error answers, paging, and a crash during a
burst of concurrent publishes."""
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from harness import EDUNETD, check, free_port, http, run, wait_until  # noqa: E402

import feedparser  # Debian's python3-feedparser  # noqa: E402

CSP = ("default-src 'none'; style-src 'self'; img-src 'self' https: data:; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


def school(c, unit="th-hoa-an", name="Trường Tiểu học Hòa An", **kw):
    # A school must name a parent; nobody listens there, so the uplink stays
    # disconnected and the node works on its own (SPEC §6.3).
    return c.node(unit, role="school", name=name, parent_port=free_port(), **kw).start()


def get(n, path, headers=None, method="GET"):
    return http(n.url + path, method=method, headers=headers)


def check_common(hdrs, ctype_prefix, what):
    ct = hdrs.get("content-type", "")
    check(ct.startswith(ctype_prefix) and "charset=utf-8" in ct, "%s: content-type %r" % (what, ct))
    check(hdrs.get("x-content-type-options") == "nosniff", "%s: nosniff missing" % what)
    check(hdrs.get("referrer-policy") == "same-origin", "%s: referrer-policy missing" % what)
    if ctype_prefix == "text/html":
        check(hdrs.get("content-security-policy") == CSP, "%s: CSP %r" % (what, hdrs.get(
            "content-security-policy")))


def publish_read(c):
    n = school(c)
    iid = n.publish("Học sinh giỏi cấp tỉnh năm 2025", kind="news",
                    body="Chúc mừng **các em** học sinh.\n\n<script>alert(1)</script>",
                    summary="Tin vui", tags=["thi đua"], author="Ban giám hiệu")
    check(iid == "th-hoa-an:1", "first id %r" % iid)
    st, doc, _ = n.api("GET", "/api/v1/items/" + iid, token=False)
    check(st == 200, "get item %s" % st)
    check(doc["title"] == "Học sinh giỏi cấp tỉnh năm 2025" and doc["version"] == 1, "item %r" % doc)
    check(doc["unit"] == "th-hoa-an" and doc["unit_name"] == "Trường Tiểu học Hòa An", "unit %r" % doc)
    check(doc["published"].endswith("+07:00"), "published %r" % doc["published"])
    check(doc["tags"] == ["thi đua"] and doc["author"] == "Ban giám hiệu", "fields %r" % doc)

    for path in ["/i/" + iid, "/u/th-hoa-an", "/", "/search?q=" + urllib.parse.quote("hoc sinh")]:
        st, hdrs, body = get(n, path)
        check(st == 200, "%s: %s" % (path, st))
        check_common(hdrs, "text/html", path)
        text = body.decode()
        check("Học sinh giỏi cấp tỉnh" in text, "%s lacks the title" % path)
        check("<script>alert" not in text, "%s leaks raw HTML" % path)
        check(hdrs.get("etag") and hdrs.get("last-modified"), "%s: no validators" % path)
    st, hdrs, body = get(n, "/search?q=" + urllib.parse.quote("khong co gi"))
    check(st == 200 and "Học sinh giỏi" not in body.decode(), "search miss")
    st, doc, _ = n.api("GET", "/api/v1/items?q=" + urllib.parse.quote("HOC SINH"), token=False)
    check(st == 200 and [i["id"] for i in doc["items"]] == [iid] and doc["next"] is None, "api q %r" % doc)

    st, hdrs, body = get(n, "/static/style.css")
    check(st == 200 and hdrs["content-type"].startswith("text/css"), "css %s" % st)
    st, hdrs, body = get(n, "/healthz")
    check(st == 200, "healthz")
    st, hdrs, body = get(n, "/metrics")
    text = body.decode()
    check(st == 200 and "edunet_items_total 1\n" in text and "edunet_items_own 1\n" in text, "metrics")
    check('edunet_http_responses_total{class="2xx"}' in text, "metrics by class")
    st, hdrs, body = get(n, "/nope")
    check(st == 404, "404 page %s" % st)
    check_common(hdrs, "text/html", "404 page")
    st, hdrs, body = get(n, "/i/th-hoa-an:99")
    check(st == 404, "missing item %s" % st)
    st, hdrs, body = get(n, "/", method="HEAD")
    check(st == 200 and body == b"" and int(hdrs.get("content-length", "0")) > 0, "HEAD %s %r" % (st, hdrs))

    st, doc, _ = n.api("GET", "/api/v1/status", token=False)
    check(st == 200 and doc["id"] == "th-hoa-an" and doc["role"] == "school", "status %r" % doc)
    check(doc["items_total"] == 1 and doc["items_own"] == 1 and doc["uplink"]["state"] in ("connecting", "offline"),
          "status counts %r" % doc)
    st, doc, _ = n.api("GET", "/api/v1/topology", token=False)
    check(st == 200 and doc["id"] == "th-hoa-an" and doc["children"] == [], "topology %r" % doc)
    st, doc, _ = n.api("GET", "/api/v1/report/deployment", token=False)
    check(st == 404 and doc["error"] == "not_found" and "aggregating" in doc["message"], "report %r" % doc)


def feeds(c):
    n = school(c)
    n.publish("Thông báo nghỉ lễ", kind="announcement", body="Nghỉ **2 ngày**.")
    n.publish("Quyết định số 12", kind="document", doc_number="12/QĐ-THHA", signer="Hiệu trưởng")
    n.publish("Họp phụ huynh", kind="event", starts="2025-12-01T08:00:00+07:00",
              ends="2025-12-01T10:00:00+07:00", location="Hội trường")
    for path, ct in [("/feed.atom", "application/atom+xml"), ("/feed.rss", "application/rss+xml"),
                     ("/feed.json", "application/feed+json")]:
        st, hdrs, body = get(n, path)
        check(st == 200, "%s: %s" % (path, st))
        check_common(hdrs, ct, path)
        if path == "/feed.json":
            doc = json.loads(body)
            check(doc["version"] == "https://jsonfeed.org/version/1.1" and len(doc["items"]) == 3, "json feed")
        else:
            f = feedparser.parse(body)
            check(f.bozo == 0, "%s not well-formed: %r" % (path, f.get("bozo_exception")))
            check(len(f.entries) == 3, "%s has %d entries" % (path, len(f.entries)))
            check(f.entries[0].title == "Họp phụ huynh", "%s newest first: %r" % (path, f.entries[0].title))
        st, _, body = get(n, path + "?kind=document")
        f = feedparser.parse(body) if path != "/feed.json" else None
        if f is not None:
            check(st == 200 and f.bozo == 0 and [e.title for e in f.entries] == ["Quyết định số 12"],
                  "%s kind filter" % path)
        st, _, body = get(n, path + "?limit=2&unit=th-hoa-an")
        if f is not None:
            check(st == 200 and len(feedparser.parse(body).entries) == 2, "%s limit" % path)
        st, _, body = get(n, path + "?unit=th-khac")
        if f is not None:
            check(st == 200 and len(feedparser.parse(body).entries) == 0, "%s other unit" % path)
        for bad in ["?limit=101", "?limit=0", "?kind=gossip", "?unit=BAD!"]:
            st, _, _ = get(n, path + bad)
            check(st == 400, "%s%s gave %s" % (path, bad, st))


def update_delete(c):
    n = school(c)
    iid = n.publish("Bản nháp", body="v1")
    st, doc, _ = n.api("PUT", "/api/v1/items/" + iid, {"title": "Bản chính thức", "body": "v2"})
    check(st == 200 and doc["version"] == 2 and doc["title"] == "Bản chính thức", "put %s %r" % (st, doc))
    st, doc, _ = n.api("GET", "/api/v1/items/" + iid, token=False)
    check(doc["version"] == 2 and doc["body"] == "v2" and doc["kind"] == "news", "after put %r" % doc)
    st, _, body = get(n, "/i/" + iid)
    check("Bản chính thức" in body.decode(), "page shows the update")
    st, doc, _ = n.api("PUT", "/api/v1/items/th-khac:1", {"title": "x"})
    check(st == 403, "put on another unit's item: %s" % st)
    st, doc, _ = n.api("PUT", "/api/v1/items/" + iid, {"title": "x", "colour": "red"})
    check(st == 400 and "colour" in doc["message"], "unknown key in put %r" % doc)
    st, doc, _ = n.api("PUT", "/api/v1/items/th-hoa-an:77", {"title": "x"})
    check(st == 404, "put missing %s" % st)
    st, doc, _ = n.api("DELETE", "/api/v1/items/" + iid)
    check(st == 200 and doc == {"id": iid, "version": 3, "deleted": True}, "delete %s %r" % (st, doc))
    st, doc, _ = n.api("GET", "/api/v1/items/" + iid, token=False)
    check(st == 200 and doc["deleted"] is True and doc["version"] == 3, "tombstone %r" % doc)
    st, _, _ = get(n, "/i/" + iid)
    check(st == 404, "deleted page %s" % st)
    st, doc, _ = n.api("GET", "/api/v1/items", token=False)
    check(doc["items"] == [], "deleted item listed")
    st, doc, _ = n.api("DELETE", "/api/v1/items/" + iid)
    check(st == 404, "second delete %s" % st)
    st, doc, _ = n.api("PUT", "/api/v1/items/" + iid, {"title": "again"})
    check(st == 404, "put on deleted %s" % st)
    iid2 = n.publish("Bài mới")
    check(iid2 == "th-hoa-an:2", "seq continues: %r" % iid2)
    # Concurrent updates: each succeeds with its own version or gets 409.
    results = []
    lock = threading.Lock()

    def put(w):
        st, doc, _ = n.api("PUT", "/api/v1/items/" + iid2, {"title": "Sửa bởi %d" % w})
        with lock:
            results.append((st, doc.get("version") if st == 200 else None))
    ts = [threading.Thread(target=put, args=(w,)) for w in range(12)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(all(st in (200, 409) for st, _ in results), "concurrent PUTs: %r" % results)
    versions = sorted(v for st, v in results if st == 200)
    print("concurrent PUTs: %d applied, %d conflicts" % (len(versions), len(results) - len(versions)))
    check(len(versions) == len(set(versions)), "two PUTs got the same version: %r" % results)
    st, doc, _ = n.api("GET", "/api/v1/items/" + iid2, token=False)
    check(doc["version"] == 1 + len(versions) and doc["version"] == versions[-1],
          "final version %s after %r" % (doc["version"], results))


def paging(c):
    n = school(c)
    ids = []
    for i in range(120):
        ids.append(n.publish("Bài số %d" % i, published="2025-11-%02dT08:%02d:00+07:00" % (1 + i % 28, i % 60)))
    seen = []
    cursor = None
    pages = 0
    while True:
        path = "/api/v1/items?limit=25" + ("&before=" + cursor if cursor else "")
        st, doc, _ = n.api("GET", path, token=False)
        check(st == 200, "page %s" % st)
        seen += [(i["published"], i["id"]) for i in doc["items"]]
        pages += 1
        cursor = doc["next"]
        if cursor is None:
            break
        check(pages < 10, "too many pages")
    got = [i for _, i in seen]
    check(len(got) == 120 and set(got) == set(ids), "paging saw %d items, %d unique" % (len(got), len(set(got))))
    check(pages == 5, "pages %d" % pages)
    pubs = [p for p, _ in seen]
    check(pubs == sorted(pubs, reverse=True), "not newest first")
    # The portal pages by the same cursor.
    st, _, body = get(n, "/u/th-hoa-an")
    text = body.decode()
    check(st == 200 and "before=" in text, "unit page has a next link")
    st, doc, _ = n.api("GET", "/api/v1/items?before=%21%21", token=False)
    check(st == 400, "bad cursor %s" % st)
    st, doc, _ = n.api("GET", "/api/v1/items?limit=1000", token=False)
    check(st == 400, "limit too big %s" % st)


def errors(c):
    n = school(c)
    good = {"kind": "news", "title": "Tiêu đề"}
    st, doc, _ = n.api("POST", "/api/v1/items", good, token=False)
    check(st == 401 and doc["error"] == "unauthorized", "no token %s %r" % (st, doc))
    st, doc, _ = n.api("POST", "/api/v1/items", good, token=False,
                       headers={"Authorization": "Bearer " + n.token + "x"})
    check(st == 401, "wrong token %s" % st)
    st, doc, _ = n.api("DELETE", "/api/v1/items/th-hoa-an:1", token=False)
    check(st == 401, "delete without token %s" % st)
    big = {"kind": "news", "title": "x", "body": "a" * (3 * 1024 * 1024)}
    st, doc, _ = n.api("POST", "/api/v1/items", big)
    check(st == 413 and doc["error"] == "too_large", "oversize %s %r" % (st, doc))
    body_too_big = {"kind": "news", "title": "x", "body": "a" * (300 * 1024)}
    st, doc, _ = n.api("POST", "/api/v1/items", body_too_big)
    check(st in (400, 413), "item body over 256 KiB: %s" % st)
    hdr = {"Content-Type": "application/json"}
    for raw, what in [(b"{", "truncated"), (b"[1,2]", "array"), (b"{\"kind\":\"news\",\"title\":\"x\",\"x\":1}",
                      "unknown key"), (b"{\"kind\":\"news\",\"title\":\"a\x00b\"}", "NUL"),
                      (b"{\"kind\":\"news\",\"title\":\"\\u0000\"}", "escaped NUL"),
                      (b"{\"kind\":\"news\",\"title\":\"\xff\"}", "bad UTF-8"),
                      (b"{\"kind\":\"news\",\"title\":\"\"}", "empty title"),
                      (b"{\"kind\":\"gossip\",\"title\":\"x\"}", "bad kind"),
                      (b"{\"kind\":\"news\",\"title\":\"x\",\"title\":\"y\"}", "duplicate key")]:
        st, doc, _ = n.api("POST", "/api/v1/items", raw=raw, headers=hdr)
        check(st == 400 and doc and doc["error"] == "bad_request" and doc["message"], "%s: %s %r" % (what, st, doc))
    st, doc, _ = n.api("POST", "/api/v1/items", raw=b"{}", headers={"Content-Type": "text/plain"})
    check(st == 415, "text/plain body %s" % st)
    for path in ["/", "/feed.atom", "/i/th-hoa-an:1", "/healthz"]:
        st, hdrs, _ = http(n.url + path, method="POST", data=b"x")
        check(st == 405 and "GET" in hdrs.get("allow", ""), "POST %s: %s" % (path, st))
    st, hdrs, _ = http(n.url + "/", method="OPTIONS")
    check(st in (405, 501), "OPTIONS %s" % st)
    st, doc, _ = n.api("PATCH", "/api/v1/items")
    check(st in (405, 501), "PATCH %s" % st)
    st, doc, _ = n.api("GET", "/api/v1/nothing", token=False)
    check(st == 404 and doc["error"] == "not_found", "api 404 %r" % doc)
    st, doc, _ = n.api("GET", "/api/v1/items/not-an-id", token=False)
    check(st == 404, "bad id %s" % st)
    st, doc, _ = n.api("PUT", "/api/v1/items")
    check(st == 405, "PUT on collection %s" % st)
    huge_header = {"X-Filler": "a" * (20 * 1024)}
    st, _, _ = http(n.url + "/", headers=huge_header)
    check(st in (400, 431), "huge header %s" % st)
    n.publish("Vẫn hoạt động")  # still healthy after all that


def conditional(c):
    n = school(c)
    n.publish("Một")
    for path in ["/feed.atom", "/", "/i/th-hoa-an:1", "/feed.json?limit=5"]:
        st, hdrs, body = get(n, path)
        etag, lm = hdrs["etag"], hdrs["last-modified"]
        st, h2, body = get(n, path, headers={"If-None-Match": etag})
        check(st == 304 and body == b"", "%s If-None-Match: %s" % (path, st))
        st, h2, body = get(n, path, headers={"If-Modified-Since": lm})
        check(st == 304, "%s If-Modified-Since: %s" % (path, st))
        st, h2, body = get(n, path, headers={"If-None-Match": '"other"'})
        check(st == 200 and len(body) > 0, "%s other etag: %s" % (path, st))
    st, hdrs, _ = get(n, "/feed.atom")
    old_etag, old_lm = hdrs["etag"], hdrs["last-modified"]
    n.publish("Hai")
    st, hdrs, body = get(n, "/feed.atom", headers={"If-None-Match": old_etag})
    check(st == 200 and hdrs["etag"] != old_etag and "Hai" in body.decode(), "after a change: %s" % st)
    st, hdrs, body = get(n, "/feed.atom", headers={"If-Modified-Since": old_lm})
    check(st == 200, "If-Modified-Since after a change: %s" % st)


def attachments(c):
    n = school(c)
    data = os.urandom(200 * 1024) + b"<html><script>alert(1)</script>"
    name = "Kế hoạch năm học.pdf"
    st, doc, _ = n.api("POST", "/api/v1/attachments?name=" + urllib.parse.quote(name), raw=data,
                       headers={"Content-Type": "application/pdf"})
    check(st == 201 and doc["size"] == len(data) and doc["media_type"] == "application/pdf"
          and doc["name"] == name and len(doc["sha256"]) == 64, "upload %s %r" % (st, doc))
    iid = n.publish("Kế hoạch", attachments=[doc])
    st, hdrs, body = get(n, "/i/" + iid + "/a/0")
    check(st == 200 and body == data, "download %s (%d bytes)" % (st, len(body)))
    check(hdrs["content-type"] == "application/pdf", "type %r" % hdrs["content-type"])
    check(hdrs["x-content-type-options"] == "nosniff", "nosniff")
    check(hdrs["content-disposition"] ==
          "attachment; filename*=UTF-8''K%E1%BA%BF%20ho%E1%BA%A1ch%20n%C4%83m%20h%E1%BB%8Dc.pdf",
          "disposition %r" % hdrs["content-disposition"])
    st, h2, body = get(n, "/i/" + iid + "/a/0", headers={"If-None-Match": hdrs["etag"]})
    check(st == 304, "attachment 304: %s" % st)
    st, _, page = get(n, "/i/" + iid)
    check(("/i/%s/a/0" % iid) in page.decode(), "page links the attachment")
    st, _, _ = get(n, "/i/" + iid + "/a/1")
    check(st == 404, "attachment out of range %s" % st)
    fake = dict(doc, sha256="ab" * 32)
    st, doc2, _ = n.api("POST", "/api/v1/items", {"kind": "news", "title": "x", "attachments": [fake]})
    check(st == 400, "unknown blob %s %r" % (st, doc2))
    st, doc2, _ = n.api("POST", "/api/v1/attachments?name=a.bin", raw=b"x" * (10 * 1024 * 1024 + 1),
                        headers={"Content-Type": "application/octet-stream"})
    check(st == 413, "attachment over 10 MiB: %s" % st)
    st, doc2, _ = n.api("POST", "/api/v1/attachments?name=a.bin", raw=b"abc",
                        headers={"Content-Type": "no media type"})
    check(st == 415, "attachment with a bad media type: %s" % st)
    st, doc2, _ = n.api("POST", "/api/v1/attachments", raw=b"abc", headers={"Content-Type": "text/plain"})
    check(st == 400, "attachment without a name: %s" % st)
    st, doc2, _ = n.api("POST", "/api/v1/attachments?name=a.txt", raw=b"abc", token=False,
                        headers={"Content-Type": "text/plain"})
    check(st == 401, "attachment without a token: %s" % st)


def crash_burst(c):
    n = school(c)
    acked = []
    lock = threading.Lock()
    stop = threading.Event()

    def worker(w):
        k = 0
        while not stop.is_set():
            try:
                st, doc, _ = n.api("POST", "/api/v1/items",
                                   {"kind": "news", "title": "Kiểm tra đột ngột w%d k%d" % (w, k)})
            except OSError:
                return
            if st == 201:
                with lock:
                    acked.append(doc["id"])
            k += 1

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(16)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    n.kill9()
    stop.set()
    for t in threads:
        t.join()
    check(len(acked) >= 16, "only %d publishes acknowledged before the kill" % len(acked))
    n.start()
    found = set()
    cursor = None
    while True:
        q = "/api/v1/items?limit=100&q=" + urllib.parse.quote("kiem tra dot ngot")
        st, doc, _ = n.api("GET", q + ("&before=" + cursor if cursor else ""), token=False)
        check(st == 200, "search after restart %s" % st)
        found.update(i["id"] for i in doc["items"])
        cursor = doc["next"]
        if not cursor:
            break
    missing = [i for i in acked if i not in found]
    check(not missing, "%d acknowledged items missing from search after kill -9: %s" % (len(missing), missing[:5]))
    for iid in acked[:: max(1, len(acked) // 20)]:
        st, _, _ = n.api("GET", "/api/v1/items/" + iid, token=False)
        check(st == 200, "acknowledged %s missing after restart" % iid)
    newid = n.publish("Sau khi khởi động lại")
    check(newid not in found, "seq reused after restart: %s" % newid)
    print("crash_burst: %d acknowledged, all present" % len(acked))


def check_config(c):
    n = c.node("th-cfg", role="school", parent_port=free_port())
    bad = os.path.join(n.dir, "bad.ini")
    with open(bad, "w") as f:
        f.write("[node]\nid = th-cfg\ncolour = red\nrole = school\n")
    r = subprocess.run([EDUNETD, "--check-config", "-c", bad], capture_output=True, timeout=20)
    err = r.stderr.decode()
    check(r.returncode != 0 and "bad.ini:3" in err, "bad config: rc=%s stderr=%r" % (r.returncode, err))
    r = subprocess.run([EDUNETD, "--check-config", "-c", n.config_path], capture_output=True, timeout=20)
    check(r.returncode == 0, "good config rejected: %r" % r.stderr)
    r = subprocess.run([EDUNETD, "--version"], capture_output=True, timeout=20)
    check(r.returncode == 0 and r.stdout.decode().startswith("edunetd "), "version %r" % r.stdout)
    r = subprocess.run([EDUNETD, "-c", bad], capture_output=True, timeout=20)
    check(r.returncode != 0 and "bad.ini:3" in r.stderr.decode(), "start with a bad config must fail")
    r = subprocess.run([EDUNETD], capture_output=True, timeout=20)
    check(r.returncode == 2, "no arguments: rc %s" % r.returncode)
    # SIGTERM ends a running node cleanly (exit 0).
    n.start()
    n.publish("Trước khi dừng")
    p = n.proc
    p.terminate()
    rc = p.wait(15)
    check(rc == 0, "exit after SIGTERM: %s\n%s" % (rc, n.tail()))
    n.proc = None
    n.log.close()
    n.start()
    st, doc, _ = n.api("GET", "/api/v1/items/th-cfg:1", token=False)
    check(st == 200, "item survives a clean restart")


def slow_clients(c):
    """timeout_s drops a client that never finishes its headers (slowloris) and idle connections."""
    n = school(c, sections={"http": {"timeout_s": "1"}})
    t0 = time.time()
    slow = socket.create_connection(("127.0.0.1", n.http_port))
    slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    idle = socket.create_connection(("127.0.0.1", n.http_port))
    slow.settimeout(10)
    idle.settimeout(10)
    while slow.recv(4096):  # an error answer may come first; the close is what matters
        pass
    check(idle.recv(4096) == b"", "idle connection kept open")
    check(time.time() - t0 < 8, "connections dropped only after %.1fs" % (time.time() - t0))
    st, _, _ = get(n, "/healthz")
    check(st == 200, "node still serves")


def aggregating(c):
    """The node wiring on aggregating roles: so <- phong <- school."""
    reg = os.path.join(c.dir, "units.csv")
    with open(reg, "w") as f:
        f.write("id,name,type,parent\n"
                "so-thu,Sở GDĐT Thử,so,\n"
                "pgd-thu,Phòng GDĐT Thử,phong,so-thu\n"
                "th-con,Trường Tiểu học Con,th,pgd-thu\n"
                "th-chua,Trường Tiểu học Chưa,th,pgd-thu\n")
    so = c.node("so-thu", role="so", name="Sở GDĐT Thử", registry=reg).start()
    ph = c.node("pgd-thu", role="phong", name="Phòng GDĐT Thử", registry=reg,
                parent_port=so.down_port).start()
    th = c.node("th-con", role="school", name="Trường Tiểu học Con", parent_port=ph.down_port).start()
    iid = th.publish("Học sinh trường con")
    ph.publish("Tin của phòng")

    def at_so():
        st, doc, _ = so.api("GET", "/api/v1/items?unit=pgd-thu", token=False)
        return st == 200 and sorted(i["id"] for i in doc["items"]) == sorted([iid, "pgd-thu:1"])
    wait_until(at_so, timeout=15, what="items at the so")
    st, doc, _ = so.api("GET", "/api/v1/items?unit=th-con", token=False)
    check([i["id"] for i in doc["items"]] == [iid], "unit filter at so %r" % doc)
    st, _, body = get(so, "/feed.atom?unit=pgd-thu")
    f = feedparser.parse(body)
    check(st == 200 and f.bozo == 0 and len(f.entries) == 2, "subtree feed at so")
    st, _, body = get(so, "/u/pgd-thu")
    check(st == 200 and "Học sinh trường con" in body.decode(), "unit page at so")
    st, _, body = get(so, "/search?q=hoc+sinh+truong+con")
    check(st == 200 and "Học sinh trường con" in body.decode(), "search at so")

    def children_online():
        st, doc, _ = ph.api("GET", "/api/v1/status", token=False)
        return st == 200 and doc["children"]["online"] == 1 and doc["uplink"]["state"] == "online" and doc
    doc = wait_until(children_online, timeout=15, what="phong status")
    check(doc["role"] == "phong" and doc["children"]["expected"] == 2, "phong status %r" % doc)
    st, doc, _ = so.api("GET", "/api/v1/status", token=False)
    check(st == 200 and doc["uplink"]["state"] == "none" and doc["items_total"] >= 2, "so status %r" % doc)
    st, doc, _ = so.api("GET", "/api/v1/topology", token=False)
    check(st == 200 and doc, "topology at so")
    st, doc, _ = so.api("GET", "/api/v1/report/deployment", token=False)
    check(st == 200 and doc, "report at so")


if __name__ == "__main__":
    run([publish_read, feeds, update_delete, paging, errors, conditional, attachments, crash_burst,
         check_config, slow_clients, aggregating])
