#!/usr/bin/python3
"""XSS in a real browser: payloads published as titles, summaries and bodies are
loaded in headless Chromium (Debian's `chromium`) from the portal's pages and
feeds. Three detectors, each enough to fail the test:
  1. a hit listener: every payload, if it ran or loaded anything, contacts
     http://127.0.0.1:PORT/hit?N;
  2. the same page bytes served again by the listener WITHOUT the node's CSP
     (so escaping is tested on its own, not hidden behind the CSP);
  3. the DOM as Chromium built it (--dump-dom), searched for script, event
     attributes, dangerous URL schemes and elements no portal page needs.
Also checks the CSP header on every page and the feeds' content types."""
import html.parser
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(__file__))
from harness import Failure, check, free_port, http, run  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' https: data:; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")

# {J}: JavaScript that contacts the listener; {H}: the listener URL. Both carry the
# payload's number. Markdown links and images never point at {H} with an allowed
# scheme (a plain http link to it would be legitimate, not an injection).
PAYLOADS = [
    "<script>{J}</script>",
    "<img src=x onerror=\"{J}\">",
    "<svg onload=\"{J}\">",
    "<svg><script>{J}</script></svg>",
    "<iframe src=\"javascript:{J}\"></iframe>",
    "<body onload=\"{J}\">",
    "<input autofocus onfocus=\"{J}\">",
    "<details open ontoggle=\"{J}\">x</details>",
    "<a href=\"javascript:{J}\">bấm</a>",
    "[bấm](javascript:{J})",
    "[bấm](JaVaScRiPt:{J})",
    "[bấm](&#106;avascript:{J})",
    "[bấm](java&#x09;script:{J})",
    "[bấm](javascript&colon;{J})",
    "[bấm](%6Aavascript:{J})",
    "[bấm](data:text/html,<script>{J}</script>)",
    "![ảnh](javascript:{J})",
    "<javascript:{J}>",
    "[bấm](vbscript:{J})",
    "\"><script>{J}</script>",
    "'><img src=x onerror=\"{J}\">",
    "</title><script>{J}</script>",
    "</textarea></style></script><script>{J}</script>",
    "<style>@import '{H}';</style>",
    "<div style=\"background:url({H})\">x</div>",
    "<link rel=stylesheet href=\"{H}\">",
    "<meta http-equiv=\"refresh\" content=\"0;url={H}\">",
    "<object data=\"{H}\"></object>",
    "<embed src=\"{H}\">",
    "<img src=\"{H}\">",
    "<math><mtext><table><mglyph><style><img src=x onerror=\"{J}\">",
    "<noscript><p title=\"</noscript><img src=x onerror=\\\"{J}\\\">\">",
    "[bấm](http://x \"\\\" onmouseover=\\\"{J}\")",
    "<form action=\"{H}\"><button autofocus>gửi</button></form>",
    "<a href=\"&#x6A;avascript&colon;{J}\">bấm</a>",
    "[ref]\n\n[ref]: javascript:{J}",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">bấm</a>",
    "javascript:/*--></title></style></textarea></script><svg/onload='+/\"/+/onmouseover=1/+/[*/[]/+{J}//'>",
    "<img src=x:y onerror=&#x6E;ew&#x20;Image().src='{H}'>",
    "<video><source onerror=\"{J}\"></video>",
    "<base href=\"{H}/\">",
    "<a href=\"  \x01javascript:{J}\">bấm</a>",
]


class Hits:
    def __init__(self):
        self.lock = threading.Lock()
        self.hits = []      # (payload number or path, user agent)
        self.pages = {}     # name -> bytes served without CSP

    def add(self, what):
        with self.lock:
            self.hits.append(what)


def start_listener(hits):
    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            if u.path.startswith("/hit"):
                hits.add(self.path)
                self.send_response(204)
                self.end_headers()
                return
            if u.path.startswith("/page/"):
                body = hits.pages.get(u.path[6:])
                if body is not None:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.end_headers()
                    self.wfile.write(body)
                    return
            if u.path == "/all":
                frames = "".join('<iframe src="/page/%s" width=800 height=600></iframe>' % k
                                 for k in sorted(hits.pages))
                body = ("<!DOCTYPE html><html><body>%s</body></html>" % frames).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_response(404)
            self.end_headers()

        do_POST = do_GET

    srv = ThreadingHTTPServer(("127.0.0.1", free_port()), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def chromium_dom(url, timeout=60):
    """The DOM Chromium built for url, after running it for 3 s of virtual time."""
    d = tempfile.mkdtemp(prefix="edunet-chromium-")
    try:
        r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                            "--no-first-run", "--disable-background-networking", "--disable-component-update",
                            "--disable-sync", "--disable-dev-shm-usage", "--user-data-dir=" + d,
                            "--virtual-time-budget=3000", "--dump-dom", url],
                           capture_output=True, timeout=timeout)
        check(r.returncode == 0 and r.stdout, "chromium failed on %s: %s" % (url, r.stderr[-500:]))
        return r.stdout.decode("utf-8", "replace")
    finally:
        shutil.rmtree(d, ignore_errors=True)


URL_ATTRS = {"href", "src", "action", "formaction", "data", "poster", "background", "xlink:href",
             "srcset", "codebase", "cite", "ping", "manifest", "icon"}
BAD_ELEMENTS = {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "svg",
                "math", "template", "style", "video", "audio", "source", "portal", "noscript", "details"}


class DomCheck(html.parser.HTMLParser):
    """Collects what must never be in a portal page's DOM."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []

    def handle_starttag(self, tag, attrs):
        tag = tag.lower()
        if tag in BAD_ELEMENTS:
            self.problems.append("<%s> element" % tag)
        a = {k.lower(): (v or "") for k, v in attrs}
        for k, v in a.items():
            if k.startswith("on"):
                self.problems.append("<%s %s=%r>" % (tag, k, v[:80]))
            if k in ("style", "srcdoc", "autofocus", "formaction"):
                self.problems.append("<%s %s=%r>" % (tag, k, v[:80]))
            if k in URL_ATTRS:
                u = "".join(ch for ch in v if ch not in "\t\n\r").strip(" \x00\x01\x02\x03\x04\x05\x06\x07"
                                                                        "\x08\x0b\x0c\x0e\x0f\x10\x11\x12"
                                                                        "\x13\x14\x15\x16\x17\x18\x19\x1a"
                                                                        "\x1b\x1c\x1d\x1e\x1f").lower()
                scheme = u.split(":", 1)[0] if ":" in u and not any(ch in u.split(":", 1)[0] for ch in "/?#") \
                    else ""
                if scheme not in ("", "http", "https", "mailto"):
                    self.problems.append("<%s %s=%r>" % (tag, k, v[:80]))
        if tag == "meta" and ("http-equiv" in a or "content" in a and "url" in a.get("content", "").lower()):
            self.problems.append("<meta %r>" % a)
        if tag == "link" and not (a.get("rel") == "stylesheet" and a.get("href", "").startswith("/static/")) \
                and a.get("rel") not in ("alternate", "canonical", "icon"):
            self.problems.append("<link %r>" % a)
        if tag == "form" and not a.get("action", "").startswith("/"):
            self.problems.append("<form %r>" % a)


def strip_ctl(s):
    return "".join(ch for ch in s if ch in "\t\n" or ord(ch) >= 0x20)


def xss_browser(c):
    """≥ 30 payloads as titles, summaries and bodies; pages and feeds in headless Chromium."""
    check(os.access(CHROMIUM, os.X_OK), "chromium is not installed (apt install chromium)")
    hits = Hits()
    srv = start_listener(hits)
    try:
        port = srv.server_address[1]
        t0 = time.time()
        n = c.node("th-hoa-an", role="school", name="Trường <b>Hòa</b> An \"&'",
                   parent_port=free_port()).start()

        def fill(i):
            h = "http://127.0.0.1:%d/hit?%d" % (port, i)
            return PAYLOADS[i].replace("{J}", "new Image().src='%s'" % h).replace("{H}", h)

        texts = [fill(i) for i in range(len(PAYLOADS))]
        body_blocks = "\n\n".join(texts)
        body_inline = " ".join(t.replace("\n", " ") for t in texts)
        body_nested = "\n".join("> - %s" % t.replace("\n", " ") for t in texts)
        ids = []
        k = len(texts)
        for i, t in enumerate(texts):
            body = [body_blocks, body_inline, body_nested][i] if i < 3 else t
            doc = {"kind": "news" if i % 2 else "announcement", "title": t.replace("\n", " "),
                   "summary": texts[(i + 7) % k].replace("\n", " "), "body": body,
                   "author": texts[(i + 13) % k].replace("\n", " ")[:200], "tags": [texts[(i + 3) % k][:200]]}
            st, out, _ = n.api("POST", "/api/v1/items", doc)
            if st != 201:  # control characters are refused (fine): try without them
                doc = {k: ([strip_ctl(x) for x in v] if isinstance(v, list) else strip_ctl(v))
                       for k, v in doc.items()}
                st, out, _ = n.api("POST", "/api/v1/items", doc)
            if st != 201:  # a text the API refuses is fine; fall back to a plain title
                doc["title"] = "Bài %d" % i
                doc["author"] = ""
                doc["tags"] = []
                st, out, _ = n.api("POST", "/api/v1/items", doc)
            check(st == 201, "publish payload %d: %s %r" % (i, st, out))
            ids.append(out["id"])
        check(len(ids) >= 30, "only %d payloads published" % len(ids))

        t_pub = time.time() - t0
        pages = {"home": "/", "unit": "/u/th-hoa-an",
                 "search": "/search?q=" + urllib.parse.quote("script img svg"),
                 "item0": "/i/" + ids[0], "item1": "/i/" + ids[1], "item2": "/i/" + ids[2]}
        for name, path in pages.items():
            st, hdrs, body = http(n.url + path)
            check(st == 200, "%s: %s" % (path, st))
            check(hdrs.get("content-type", "").startswith("text/html"), "%s: content type" % path)
            check(hdrs.get("content-security-policy") == CSP, "%s: CSP %r" % (path, hdrs.get(
                "content-security-policy")))
            check(hdrs.get("x-content-type-options") == "nosniff", "%s: nosniff" % path)
            hits.pages[name] = body
        for path, want in [("/feed.atom", "application/atom+xml"), ("/feed.rss", "application/rss+xml"),
                           ("/feed.json", "application/feed+json")]:
            st, hdrs, body = http(n.url + path)
            ct = hdrs.get("content-type", "")
            check(st == 200 and not ct.startswith("text/html") and "html" not in ct.split(";")[0],
                  "%s: %s %r" % (path, st, ct))
            check(ct.startswith(want) or ct.startswith("application/xml") or ct.startswith("application/json"),
                  "%s: content type %r" % (path, ct))
            check(hdrs.get("x-content-type-options") == "nosniff", "%s: nosniff missing" % path)

        # Feeds are not pages, but an XML feed that embedded markup unescaped could
        # still run script when opened: Atom and RSS are loaded too.
        urls = [n.url + p for p in pages.values()] + [n.url + "/feed.atom", n.url + "/feed.rss",
                                                       "http://127.0.0.1:%d/all" % port]
        t1 = time.time()
        with ThreadPoolExecutor(max_workers=2) as ex:
            doms = list(ex.map(chromium_dom, urls))
        time.sleep(0.3)  # a last beacon in flight
        print("published %d payloads in %.1fs; %d Chromium loads in %.1fs" % (
            len(ids), t_pub, len(urls), time.time() - t1))
        problems = []
        for url, dom in zip(urls, doms):
            if url.startswith(n.url) and not url.endswith((".atom", ".rss", ".json")):
                p = DomCheck()
                p.feed(dom)
                check("th-hoa-an" in dom or "Hòa" in dom, "%s: page did not render: %r" % (url, dom[:300]))
                problems += ["%s: %s" % (url, x) for x in p.problems]
        check(not problems, "dangerous DOM:\n" + "\n".join(problems[:40]))
        # The payloads were shown (as text), not dropped: most appear on the home page.
        shown = set(re.findall(r"hit\?(\d+)", doms[0]))
        check(len(shown) >= 25, "home page shows only %d payloads" % len(shown))
        # (In bodies raw HTML is dropped, so only the Markdown payloads show there.)
        shown = set(re.findall(r"hit\?(\d+)", doms[list(pages).index("item0")]))
        check("0" in shown and len(shown) >= 10, "item page shows only payloads %s" % sorted(shown))
        check(not hits.hits, "payloads executed or loaded: %s" % sorted(set(hits.hits)))
    finally:
        srv.shutdown()


def xss_detector_works(c):
    """The detectors themselves: an unescaped page served by the listener must score hits
    and DOM problems (so a silent Chromium cannot make xss_browser pass)."""
    check(os.access(CHROMIUM, os.X_OK), "chromium is not installed (apt install chromium)")
    hits = Hits()
    srv = start_listener(hits)
    try:
        port = srv.server_address[1]
        h = "http://127.0.0.1:%d/hit?" % port
        hits.pages["raw"] = ("<!DOCTYPE html><title>t</title><p>x</p><img src=x onerror=\"new Image().src='%s1'\">"
                             "<script>new Image().src='%s2'</script>" % (h, h)).encode()
        dom = chromium_dom("http://127.0.0.1:%d/page/raw" % port)
        time.sleep(0.3)
        p = DomCheck()
        p.feed(dom)
        check(any("onerror" in x for x in p.problems) and any("<script>" in x for x in p.problems),
              "DOM check missed the raw payloads: %r" % p.problems)
        got = {x.split("?")[1] for x in hits.hits}
        check(got == {"1", "2"}, "listener saw %r, want hits 1 and 2" % hits.hits)
    finally:
        srv.shutdown()


if __name__ == "__main__":
    run([xss_detector_works, xss_browser])
