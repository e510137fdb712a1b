#!/usr/bin/python3
"""Batch create on one school node: POST /api/v1/items with a JSON array.
256 items in one request readable through the API, search and every feed;
valid and invalid items mixed; oversize and empty arrays; kill -9 during a
burst of batch requests keeps every acknowledged item."""
import json
import os
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from harness import check, free_port, http, run  # noqa: E402

import feedparser  # Debian's python3-feedparser  # noqa: E402

BATCH_MAX = 256


def school(c, unit="th-lo-lon", **kw):
    return c.node(unit, role="school", name="Trường Lô Lớn", parent_port=free_port(), **kw).start()


def search_all(n, q):
    found, cursor = set(), None
    while True:
        path = "/api/v1/items?limit=100&q=" + urllib.parse.quote(q)
        st, doc, _ = n.api("GET", path + ("&before=" + cursor if cursor else ""), token=False)
        check(st == 200, "search %s" % st)
        found.update(i["id"] for i in doc["items"])
        cursor = doc["next"]
        if not cursor:
            return found


def batch_full(c):
    n = school(c)
    items = [{"kind": "news", "title": "Bản tin lô %d" % i, "body": "Nội dung **%d**" % i,
              "tags": ["lô"]} for i in range(BATCH_MAX)]
    st, doc, _ = n.api("POST", "/api/v1/items", items)
    check(st == 201, "batch of 256: %s %s" % (st, doc))
    check(doc["created"] == BATCH_MAX and doc["failed"] == 0, "counts %r" % {k: doc[k] for k in ("created", "failed")})
    ids = [r["id"] for r in doc["items"]]
    check(len(set(ids)) == BATCH_MAX, "ids not distinct")
    check(all(r["version"] == 1 and r["published"].endswith("+07:00") for r in doc["items"]), "reply fields")
    for i in range(0, BATCH_MAX, 17):
        st, it, _ = n.api("GET", "/api/v1/items/" + ids[i], token=False)
        check(st == 200 and it["title"] == "Bản tin lô %d" % i, "item %d: %s %r" % (i, st, it))
    found = search_all(n, "ban tin lo")
    check(found == set(ids), "search found %d of 256" % len(found & set(ids)))
    # Every feed lists the newest of them (100 at most per page).
    for path in ["/feed.atom", "/feed.rss"]:
        st, _, body = http(n.url + path + "?limit=100")
        f = feedparser.parse(body)
        check(st == 200 and f.bozo == 0 and len(f.entries) == 100, "%s: %s %d entries" % (path, st, len(f.entries)))
        check(all(e.title.startswith("Bản tin lô ") for e in f.entries), "%s titles" % path)
    st, _, body = http(n.url + "/feed.json?limit=100")
    jf = json.loads(body)
    check(st == 200 and len(jf["items"]) == 100, "json feed %s" % st)
    st, s, _ = n.api("GET", "/api/v1/status", token=False)
    check(s["items_own"] == BATCH_MAX, "status items_own %r" % s["items_own"])
    # A single object keeps the single-item answer.
    st, one, hdrs = n.api("POST", "/api/v1/items", {"kind": "news", "title": "Một mình"})
    check(st == 201 and set(one) == {"id", "version", "published"} and hdrs.get("location") ==
          "/api/v1/items/" + one["id"], "single create %s %r" % (st, one))


def batch_mixed(c):
    n = school(c)
    body = [{"kind": "news", "title": "Hợp lệ 1"},
            {"kind": "rumour", "title": "Loại sai"},
            "không phải đối tượng",
            {"kind": "news", "title": "x" * 5000},
            {"kind": "event", "title": "Hợp lệ 2", "location": "Sân trường"},
            {"kind": "news", "title": "Khóa lạ", "colour": "red"}]
    st, doc, _ = n.api("POST", "/api/v1/items", body)
    check(st == 201 and doc["created"] == 2 and doc["failed"] == 4, "mixed: %s %r" % (st, doc))
    res = doc["items"]
    check(len(res) == len(body), "one result per input")
    for i in (1, 2, 3, 5):
        check("error" in res[i] and "message" in res[i] and "id" not in res[i], "item %d: %r" % (i, res[i]))
    check(res[3]["error"] in ("bad_request", "too_large"), "long title %r" % res[3])
    for i in (0, 4):
        st, it, _ = n.api("GET", "/api/v1/items/" + res[i]["id"], token=False)
        check(st == 200 and it["title"] == body[i]["title"], "valid %d stored: %s" % (i, st))
    # Invalid items took no seq: the valid ones are consecutive.
    check([res[0]["id"], res[4]["id"]] == ["th-lo-lon:1", "th-lo-lon:2"], "ids %r" % [res[0]["id"], res[4]["id"]])
    st, doc, _ = n.api("POST", "/api/v1/items", [{"kind": "news"}, 7])
    check(st == 400 and doc["error"] == "bad_request" and doc["created"] == 0 and len(doc["items"]) == 2,
          "all invalid: %s %r" % (st, doc))


def batch_limits(c):
    n = school(c)
    items = [{"kind": "news", "title": "Quá nhiều %d" % i} for i in range(BATCH_MAX + 1)]
    st, doc, _ = n.api("POST", "/api/v1/items", items)
    check(st == 413 and doc["error"] == "too_large", "257 items: %s %r" % (st, doc))
    st, doc, _ = n.api("POST", "/api/v1/items", [])
    check(st == 400, "empty array: %s" % st)
    st, doc, _ = n.api("POST", "/api/v1/items", [{"kind": "news", "title": "a"}], token=False)
    check(st == 401, "no token: %s" % st)
    # Bigger than [http] max_body (64 KiB here): refused before parsing.
    n.stop()
    n.conf["http"]["max_body_kb"] = "64"
    n.write_config()
    n.start()
    big = [{"kind": "news", "title": "Lớn %d" % i, "body": "y" * 1000} for i in range(100)]
    st, _, _ = n.api("POST", "/api/v1/items", big)
    check(st == 413, "over max_body: %s" % st)
    st, doc, _ = n.api("GET", "/api/v1/items", token=False)
    check(st == 200 and doc["items"] == [], "nothing stored: %r" % doc["items"][:2])


def batch_crash(c):
    n = school(c)
    acked, lock, stop = [], threading.Lock(), threading.Event()

    def worker(w):
        k = 0
        while not stop.is_set():
            body = [{"kind": "news", "title": "Lô đột ngột w%d k%d i%d" % (w, k, i)} for i in range(32)]
            try:
                st, doc, _ = n.api("POST", "/api/v1/items", body)
            except OSError:
                return
            if st == 201:
                check(doc["created"] == 32, "burst batch created %r" % doc["created"])
                with lock:
                    acked.extend(r["id"] for r in doc["items"])
            k += 1

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    n.kill9()
    stop.set()
    for t in threads:
        t.join()
    check(len(acked) >= 64, "only %d items acknowledged before the kill" % len(acked))
    n.start()
    found = search_all(n, "lo dot ngot")
    missing = [i for i in acked if i not in found]
    check(not missing, "%d acknowledged items missing after kill -9: %s" % (len(missing), missing[:5]))
    for iid in acked[:: max(1, len(acked) // 20)]:
        st, _, _ = n.api("GET", "/api/v1/items/" + iid, token=False)
        check(st == 200, "acknowledged %s missing after restart" % iid)
    st, doc, _ = n.api("POST", "/api/v1/items", [{"kind": "news", "title": "Sau khởi động"}])
    check(st == 201 and doc["items"][0]["id"] not in found, "seq reused after restart: %r" % doc)
    print("batch_crash: %d acknowledged, all present" % len(acked))


if __name__ == "__main__":
    run([batch_full, batch_mixed, batch_limits, batch_crash])
