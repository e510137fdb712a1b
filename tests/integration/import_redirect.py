"""Old portal links keep working (import, part 2): after an import, the node
answers each old path recorded as an item's source_url with a 301 to the
item's page /i/{id}. Not registered in import.cmake until the http/store side
has the exact source_url lookup (see the importer's report)."""
import http.client
import json
import os
import shutil
import sys
from urllib.parse import quote, urlsplit

sys.path.insert(0, os.path.dirname(__file__))
from harness import SRC_DIR, check, run  # noqa: E402

FIX = os.path.join(SRC_DIR, "tests", "fixtures", "import")


def raw_get(n, path):
    """GET without following redirects: (status, Location)."""
    c = http.client.HTTPConnection("127.0.0.1", n.http_port, timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    r.read()
    loc = r.getheader("Location")
    c.close()
    return r.status, loc


def test_redirects(c):
    n = c.node("thcs-an-binh-a", name="Trường THCS An Bình A")
    n.start()
    f = os.path.join(c.dir, "wxr-vi.xml")
    shutil.copy(os.path.join(FIX, "wxr-vi.xml"), f)
    r = n.ctl("import", "--format", "wxr", f, json_out=True)
    check(r.returncode == 0, r.stderr)
    rep = json.loads(r.stdout)
    imported = [e for e in rep["entries"] if e["status"] == "imported"]
    check(len(imported) == 5, rep)
    for e in imported:
        u = urlsplit(e["source_url"])
        path = u.path + ("?" + u.query if u.query else "")
        st, loc = raw_get(n, path)
        check(st == 301, "%s: HTTP %s" % (path, st))
        check(loc in ("/i/" + e["id"], "/i/" + quote(e["id"], safe="")) or
              loc.endswith("/i/" + e["id"]) or loc.endswith("/i/" + quote(e["id"], safe="")),
              "%s → %s, want /i/%s" % (path, loc, e["id"]))
        # a trailing slash more or less finds the same item
        alt = path[:-1] if path.endswith("/") else path + "/"
        if "?" not in path:
            st, loc2 = raw_get(n, alt)
            check(st == 301 and loc2 == loc, "%s: %s %s" % (alt, st, loc2))
    # unknown old paths and skipped entries (draft, trash) stay 404
    for p in ("/2023/01/01/tin-cu/", "/khong-co/"):
        st, _ = raw_get(n, p)
        check(st == 404, "%s: %s" % (p, st))
    # the node's own paths are never shadowed by an old link
    st, _ = raw_get(n, "/healthz")
    check(st == 200, "healthz %s" % st)


if __name__ == "__main__":
    run([test_redirects])
