"""Directives on the portal ("Văn bản chỉ đạo", node/pages + node/http).

A directive sent at the Sở for THCS schools reaches a school over a real
Sở -> Phòng -> school tree and shows on that school's home page, on /d and
on /d/{id} with its issuer, number, date, signer and rendered body; its
attachment downloads from /d/{id}/a/0 with the stored media type,
Content-Disposition and nosniff. Hostile text in the title, number, signer
and body stays inert. A Phòng that only relays it does not publish it.
"""
import html
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import check, http, run, wait_until  # noqa: E402

SO, PHONG, THCS, TH = "so-thu", "pgd-a", "thcs-a1", "th-a1"
XSS = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>"


def start_tree(c):
    rows = ["id,name,type,parent", "%s,Sở GD&ĐT Thử,so," % SO, "%s,Phòng GD&ĐT A,phong,%s" % (PHONG, SO),
            "%s,Trường THCS A1,thcs,%s" % (THCS, PHONG), "%s,Trường TH A1,th,%s" % (TH, PHONG)]
    reg = os.path.join(c.dir, "units.csv")
    with open(reg, "w", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")
    n = {SO: c.node(SO, role="so", registry=reg, name="Sở GD&ĐT Thử").start()}
    n[PHONG] = c.node(PHONG, role="phong", registry=reg, parent_port=n[SO].down_port).start()
    for s in (THCS, TH):
        n[s] = c.node(s, role="school", parent_port=n[PHONG].down_port).start()
    return n


def get(node, path):
    st, hd, body = http("http://127.0.0.1:%d%s" % (node.http_port, path))
    return st, hd, body.decode("utf-8", "replace")


def inert(page, what):
    low = page.lower()
    check("<script" not in low and "<img src=x" not in low and "onerror=" not in low.replace("onerror=alert(2)&gt;", ""),
          "%s: payload not inert" % what)
    check("javascript:" not in low, "%s: javascript: link" % what)


def portal(c):
    n = start_tree(c)
    so = n[SO]
    st, doc, _ = so.api("POST", "/api/v1/attachments?name=ke-hoach.pdf", raw=b"%PDF-1.4 ke hoach",
                        headers={"Content-Type": "application/pdf"})
    check(st in (200, 201), "upload: %s %r" % (st, doc))
    body = {"title": "Kế hoạch kiểm tra " + XSS, "doc_number": "125/SGDĐT " + XSS, "doc_date": "2024-05-02",
            "signer": "Nguyễn Văn A " + XSS, "audience": {"types": ["thcs"], "units": []},
            "report_requested": True, "deadline": "2031-01-01T00:00:00Z",
            "body": "Các trường **THCS** báo cáo.\n\n" + XSS + "\n\n[bấm](javascript:alert(3))\n",
            "attachments": [{"sha256": doc["sha256"], "name": "ke-hoach.pdf", "media_type": "application/pdf"}]}
    st, doc, _ = so.api("POST", "/api/v1/directives", body)
    check(st == 201, "publish: %s %r" % (st, doc))
    did = doc["id"]
    school = n[THCS]

    # the school's home page lists it (within the portal's directive refresh)
    def on_home():
        st, _, page = get(school, "/")
        return st == 200 and ("/d/%s\"" % did) in page and page
    page = wait_until(on_home, timeout=10, what="directive on the school's home page")
    check("Văn bản chỉ đạo" in page, "home section title")
    check(html.escape("Kế hoạch kiểm tra <script>", quote=False) in page, "escaped title on home")
    check("Sở GD&amp;ĐT Thử" in page, "issuer name on home")
    check("2024-05-02" in page and "Hạn:" in page, "date and deadline on home")
    inert(page, "home")

    st, _, page = get(school, "/d")
    check(st == 200 and ("/d/%s\"" % did) in page, "/d lists it: %s" % st)
    inert(page, "/d")

    st, hd, page = get(school, "/d/" + did)
    check(st == 200, "/d/{id}: %s" % st)
    check("content-security-policy" in hd, "CSP on the directive page")
    for want in ("<strong>THCS</strong>", "Nguyễn Văn A", "125/SGDĐT", "Yêu cầu báo cáo", "2024-05-02",
                 "Sở GD&amp;ĐT Thử", "Loại đơn vị: thcs", "/d/%s/a/0" % did, "ke-hoach.pdf"):
        check(want in page, "directive page lacks %r" % want)
    inert(page, "/d/{id}")

    st, hd, data = http("http://127.0.0.1:%d/d/%s/a/0" % (school.http_port, did))
    check(st == 200 and data == b"%PDF-1.4 ke hoach", "attachment: %s %r" % (st, data[:40]))
    check(hd.get("content-type") == "application/pdf", "media type %r" % hd.get("content-type"))
    check(hd.get("x-content-type-options") == "nosniff", "nosniff")
    check("attachment" in hd.get("content-disposition", ""), "disposition %r" % hd.get("content-disposition"))
    st, _, _ = get(school, "/d/%s/a/1" % did)
    check(st == 404, "missing attachment: %s" % st)
    st, _, _ = get(school, "/d/%s/a/x" % did)
    check(st == 404, "bad attachment index: %s" % st)

    # the issuer shows what it sent; the TH school and the relaying Phòng do not show it
    st, _, page = get(so, "/d/" + did)
    check(st == 200 and "đã gửi" in page, "issuer's page: %s" % st)
    st, _, page = get(so, "/")
    check(("/d/%s\"" % did) in page, "issuer's home lists it")
    for u in (TH, PHONG):
        st, _, page = get(n[u], "/d/" + did)
        check(st == 404, "%s shows %s: %s" % (u, did, st))
        st, _, page = get(n[u], "/")
        check(("/d/%s\"" % did) not in page, "%s home lists %s" % (u, did))
    st, _, _ = get(school, "/d/%s:d999" % SO)
    check(st == 404, "unknown directive: %s" % st)
    st, _, page = get(n[TH], "/d")
    check(st == 200 and "Chưa có văn bản chỉ đạo" in page, "empty /d at the TH school")


if __name__ == "__main__":
    run([portal])
