"""edunetctl import against a real edunetd (a standalone school node): each
fixture format is imported and checked through the API (counts, kinds, dates,
text, attachments, no XSS), a second import changes nothing, and an import
interrupted by --limit or by SIGKILL resumes to the same result without
duplicates, also when the local state file is lost."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unicodedata

sys.path.insert(0, os.path.dirname(__file__))
from harness import EDUNETCTL, SRC_DIR, check, http, run, wait_until  # noqa: E402
from html.parser import HTMLParser  # noqa: E402

FIX = os.path.join(SRC_DIR, "tests", "fixtures", "import")


def school(c):
    # role=school without a parent: a standalone node.
    n = c.node("thcs-an-binh-a", name="Trường THCS An Bình A")
    n.start()
    return n


def copy(c, name):
    dst = os.path.join(c.dir, name)
    shutil.copy(os.path.join(FIX, name), dst)
    return dst


def imp(n, *args):
    r = n.ctl("import", *args, json_out=True)
    out = r.stdout.decode()
    try:
        rep = json.loads(out) if out.strip() else None
    except ValueError:
        rep = None
    return r.returncode, rep, r.stderr.decode()


def items(n):
    out, before = [], None
    while True:
        q = "/api/v1/items?unit=%s&limit=100" % n.unit + ("&before=" + before if before else "")
        st, doc, _ = n.api("GET", q, token=False)
        check(st == 200, "list: %s %s" % (st, doc))
        out += doc["items"]
        before = doc["next"]
        if not before:
            return out


def full(n, iid):
    st, doc, _ = n.api("GET", "/api/v1/items/" + iid, token=False)
    check(st == 200, "get %s: %s" % (iid, st))
    return doc


class PageCheck(HTMLParser):
    """Collects what must never come out of an imported body: dangerous
    elements, event handlers, style attributes and non-web URLs."""
    DANGER = {"script", "iframe", "object", "embed", "svg", "math", "form", "style", "base", "meta", "link",
              "frame", "frameset", "template", "noscript"}

    def __init__(self):
        super().__init__()
        self.bad = []
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        if tag == "article" or self.depth:
            self.depth += tag not in ("img", "br", "hr")
        if not self.depth:
            return
        if tag in self.DANGER:
            self.bad.append("<%s>" % tag)
        for k, v in attrs:
            if k.startswith("on") or k == "style":
                self.bad.append("%s=%r" % (k, v))
            if k in ("href", "src") and v and re.match(r"\s*(javascript|vbscript|data):", v, re.I):
                self.bad.append("%s=%r" % (k, v))

    def handle_endtag(self, tag):
        if self.depth and tag not in ("img", "br", "hr"):
            self.depth -= 1


def no_xss(n, its):
    probe = PageCheck()
    probe.feed('<article><p onclick="x">a</p><a href=" javascript:x">b</a><script>c</script></article>')
    check(len(probe.bad) == 3, "the page checker itself is broken: %s" % probe.bad)
    for it in its:
        d = full(n, it["id"])
        # Markdown: no raw tag (escaped text "\\<script\\>" is fine), no dangerous destination
        for k in ("title", "summary", "body", "author"):
            v = d.get(k, "")
            check(not re.search(r"(?<!\\)<\s*[a-z]", re.sub(r"\]\(<[^>]*>\)", "", v), re.I),
                  "raw HTML in %s.%s: %r" % (it["id"], k, v))
            check(not re.search(r"\]\(<\s*(javascript|vbscript|data):", v, re.I), "bad link in %s: %r" % (k, v))
        st, _, html = http(n.url + "/i/" + it["id"])
        check(st == 200, "page /i/%s: %s" % (it["id"], st))
        pc = PageCheck()
        pc.feed(html.decode())
        check(not pc.bad, "page /i/%s carries %s" % (it["id"], pc.bad))


def counts(rep):
    return {k: rep[k] for k in ("found", "imported", "updated", "skipped", "failed")}


def test_wxr(c):
    n = school(c)
    f = copy(c, "wxr-vi.xml")
    rc, rep, err = imp(n, "--format", "wxr", "--files", os.path.join(FIX, "files"), f)
    check(rc == 0, "import exit %d: %s %s" % (rc, rep, err))
    check(counts(rep) == {"found": 8, "imported": 5, "updated": 0, "skipped": 3, "failed": 0}, rep)
    reasons = sorted(e["reason"] for e in rep["entries"] if e["status"] == "skipped")
    check(reasons == ["draft", "nav_menu_item", "trash"], reasons)
    its = items(n)
    check(len(its) == 5, "items: %d" % len(its))
    by = {i["title"]: i for i in its}
    t = by["Thông báo lịch thi học kỳ I năm học 2024 – 2025"]
    check(t["kind"] == "announcement" and t["published"] == "2024-12-02T08:30:00+07:00" and
          t["updated"] == "2024-12-03T09:00:00+07:00" and t["author"] == "Ban biên tập", t)
    check(t["source_url"] == "https://thcsanbinha.old-portal.vn/2024/12/02/thong-bao-lich-thi-hoc-ky-i/", t)
    check({"Thông báo", "thi", "học kỳ I"} <= set(t["tags"]), t["tags"])
    d = full(n, t["id"])
    check(len(d["attachments"]) == 1 and d["attachments"][0]["name"] == "lich-thi.pdf", d["attachments"])
    check("| 16/12/2024 | Ngữ văn |" in d["body"] and "lich-thi.pdf" in d["body"] and
          "## Lịch thi học kỳ I" in d["body"], d["body"])
    k = by["Lễ khai giảng năm học mới"]
    check(k["kind"] == "news" and k["author"] == "Cô Nguyễn Thị Thu", k)
    kb = full(n, k["id"])["body"]
    check("Hơn 600 học sinh tham dự." in kb and unicodedata.is_normalized("NFC", kb), "NFC: %r" % kb)
    check(by["Công văn số 125/PGDĐT về việc tổ chức Hội khỏe Phù Đổng"]["kind"] == "document", by)
    check(by["Lịch công tác tuần 15"]["kind"] == "event", by)
    check(by["Giới thiệu nhà trường"]["kind"] == "announcement", by)
    no_xss(n, its)
    # a second import changes nothing, even without the local state file
    for drop_state in (False, True):
        if drop_state:
            os.unlink(f + ".import-state.json")
        rc, rep, err = imp(n, "--format", "wxr", "--files", os.path.join(FIX, "files"), f)
        check(rc == 0 and counts(rep) == {"found": 8, "imported": 0, "updated": 0, "skipped": 8, "failed": 0},
              "re-import: %s %s" % (rep, err))
    after = items(n)
    check(sorted((i["id"], i["version"]) for i in after) == sorted((i["id"], i["version"]) for i in its),
          "re-import changed items")
    # the human table
    r = n.ctl("import", "--format", "wxr", f)
    out = r.stdout.decode()
    check(r.returncode == 0 and "Lễ khai giảng năm học mới" in out and "bỏ qua 8" in out, out)


def test_rss(c):
    n = school(c)
    f = copy(c, "rss-guids.xml")
    rc, rep, err = imp(n, "--format", "rss", f)
    check(rc == 0 and counts(rep) == {"found": 6, "imported": 5, "updated": 0, "skipped": 1, "failed": 0},
          "%s %s" % (rep, err))
    dup = [e for e in rep["entries"] if e["status"] == "skipped"]
    check(dup[0]["reason"] == "duplicate key" and dup[0]["index"] == 3, dup)
    its = items(n)
    by = {i["title"]: i for i in its}
    check(len(its) == 5, len(its))
    a = by["Hội thi giáo viên dạy giỏi cấp huyện & cấp trường"]
    check(a["published"] == "2024-03-05T08:30:00+07:00" and a["author"] == "Văn phòng PGD", a)
    check(by["Thông báo nghỉ Tết Nguyên đán Giáp Thìn"]["kind"] == "announcement", by)
    g = by["Thông báo nghỉ Tết Nguyên đán Giáp Thìn"]["published"]
    check(g in ("2024-02-02T02:00:00Z", "2024-02-02T02:00:00+00:00"), g)
    check(by["Kết quả kỳ thi học sinh giỏi lớp 9"]["published"] == "2024-01-15T16:45:00+07:00", by)
    check(by["Lịch tiếp công dân tháng 4"]["kind"] == "event", by)
    check(by["Công văn hướng dẫn nhiệm vụ năm học"]["source_url"] == "/van-ban/cv-huong-dan-nhiem-vu-nam-hoc.html", by)
    no_xss(n, its)
    rc, rep, _ = imp(n, "--format", "rss", f)
    check(rc == 0 and rep["imported"] == 0 and rep["updated"] == 0 and rep["skipped"] == 6, rep)
    check(len(items(n)) == 5, "duplicates after re-import")


def test_atom_jsonfeed(c):
    n = school(c)
    rc, rep, err = imp(n, "--format", "atom", copy(c, "atom-html-xhtml.xml"))
    check(rc == 0 and counts(rep) == {"found": 4, "imported": 4, "updated": 0, "skipped": 0, "failed": 0},
          "%s %s" % (rep, err))
    rc, rep, err = imp(n, "--format", "jsonfeed", "--map", "thư viện=event", copy(c, "jsonfeed.json"))
    check(rc == 0 and counts(rep) == {"found": 4, "imported": 4, "updated": 0, "skipped": 0, "failed": 0},
          "%s %s" % (rep, err))
    its = items(n)
    by = {i["title"]: i for i in its}
    check(len(its) == 8, len(its))
    x = full(n, by["Thông báo tuyển sinh lớp 10 năm học 2025 – 2026"]["id"])
    check(x["kind"] == "announcement" and "- 10 lớp chuyên" in x["body"] and "## Chỉ tiêu" in x["body"], x)
    h = by["Học sinh đạt giải Nhất cấp tỉnh"]
    check(h["published"] == "2024-11-18T09:15:00+07:00" and h["updated"] == "2024-11-19T14:00:00+07:00", h)
    check(by["Ngày hội đọc sách"]["kind"] == "event", "--map thư viện=event not applied")
    check(by["Thông báo họp phụ huynh cuối năm"]["kind"] == "announcement", by)
    no_xss(n, its)


def test_encodings_and_errors(c):
    n = school(c)
    rc, rep, err = imp(n, "--format", "rss", copy(c, "rss-windows1258.xml"))
    check(rc == 0 and rep["imported"] == 2, "%s %s" % (rep, err))
    titles = {i["title"] for i in items(n)}
    check("Học sinh Đồng Tháp đạt giải cao" in titles, titles)
    rc, rep, err = imp(n, "--format", "rss", copy(c, "rss-bom.xml"))
    check(rc == 0 and rep["skipped"] == 2 and rep["imported"] == 0, "BOM file = same guids: %s" % rep)
    f = copy(c, "rss-1258-undeclared.xml")
    rc, rep, err = imp(n, "--format", "rss", f)
    check(rc == 1 and "encoding" in rep["files"][0]["error"], rep)
    rc, rep, err = imp(n, "--format", "rss", "--encoding", "windows-1258", f)
    check(rc == 0 and rep["skipped"] == 2, rep)
    rc, rep, err = imp(n, "--format", "rss", copy(c, "rss-xxe.xml"))
    check(rc == 1 and "XXE" in rep["files"][0]["error"], rep)
    rc, rep, err = imp(n, "--format", "rss", copy(c, "rss-broken.xml"))
    check(rc == 0 and rep["files"][0]["recovered"] is True and rep["imported"] == 2, rep)
    r = n.ctl("import", "--format", "yaml", f)
    check(r.returncode == 2, "bad format: %d" % r.returncode)
    r = n.ctl("import", "--format", "rss", "--unit", "thpt-khac", f)
    check(r.returncode == 1 and b"thcs-an-binh-a" in r.stderr, r.stderr)


def test_resume(c):
    n = school(c)
    f = copy(c, "wxr-vi.xml")
    rc, rep, _ = imp(n, "--format", "wxr", "--limit", "2", f)
    check(rc == 0 and rep["imported"] == 2 and rep["found"] == 2, rep)
    # lose the local state of the second item: the node still knows it
    st = json.load(open(f + ".import-state.json"))
    st["entries"].pop(sorted(st["entries"])[0])
    json.dump(st, open(f + ".import-state.json", "w"))
    rc, rep, _ = imp(n, "--format", "wxr", f)
    check(rc == 0 and counts(rep) == {"found": 8, "imported": 3, "updated": 0, "skipped": 5, "failed": 0}, rep)
    check(len(items(n)) == 5, "resume duplicated items")

    # a real kill: SIGKILL the import while it runs, then run it again
    n2 = c.node("thcs-an-binh-b", name="Trường THCS An Bình B")
    n2.start()
    big = os.path.join(c.dir, "big.xml")
    with open(os.path.join(FIX, "rss-guids.xml"), encoding="utf-8") as src:
        head, rest = src.read().split("<item>", 1)
    entries = "".join(
        "<item><title>Tin số %d</title><guid>big-%d</guid><pubDate>Tue, 05 Mar 2024 08:%02d:00 +0700</pubDate>"
        "<description><![CDATA[<p>Nội dung %d</p><script>alert(%d)</script>]]></description></item>\n"
        % (i, i, i % 60, i, i) for i in range(120))
    with open(big, "w", encoding="utf-8") as out:
        out.write(head + entries + "</channel></rss>\n")
    cmd = [EDUNETCTL, "--node", n2.url, "--token-file", n2.token_file, "import", "--format", "rss", big]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: p.poll() is not None or os.path.exists(big + ".import-state.json") and
               len(json.load(open(big + ".import-state.json"))["entries"]) >= 10, timeout=30, what="10 items")
    killed = p.poll() is None
    if killed:
        p.send_signal(signal.SIGKILL)
    p.wait()
    partial = len(items(n2))
    rc, rep, _ = imp(n2, "--format", "rss", big)
    check(rc == 0 and rep["found"] == 120 and rep["imported"] + rep["skipped"] == 120 and rep["failed"] == 0, rep)
    check(rep["skipped"] >= partial, "resume: %d on the node before, %s" % (partial, counts(rep)))
    its = items(n2)
    check(len(its) == 120 and len({i["title"] for i in its}) == 120, "after resume: %d items" % len(its))
    rc, rep, _ = imp(n2, "--format", "rss", big)
    check(rc == 0 and rep["skipped"] == 120, rep)
    print("killed midway: %s, items before resume: %d" % (killed, partial))


def test_update(c):
    n = school(c)
    f = copy(c, "jsonfeed.json")
    rc, rep, _ = imp(n, "--format", "jsonfeed", f)
    check(rc == 0 and rep["imported"] == 4, rep)
    doc = json.load(open(f, encoding="utf-8"))
    doc["items"][2]["content_text"] = "Các em học sinh rước đèn, phá cỗ và xem múa lân."
    doc["items"][2]["date_modified"] = "2024-09-18T08:00:00+07:00"
    json.dump(doc, open(f, "w", encoding="utf-8"), ensure_ascii=False)
    rc, rep, _ = imp(n, "--format", "jsonfeed", f)
    check(rc == 0 and counts(rep) == {"found": 4, "imported": 0, "updated": 1, "skipped": 3, "failed": 0}, rep)
    up = [e for e in rep["entries"] if e["status"] == "updated"][0]
    d = full(n, up["id"])
    check(d["version"] == 2 and "múa lân" in d["body"] and d["updated"] == "2024-09-18T08:00:00+07:00", d)
    check(len(items(n)) == 4, "update duplicated")


if __name__ == "__main__":
    run([test_wxr, test_rss, test_atom_jsonfeed, test_encodings_and_errors, test_resume, test_update])
