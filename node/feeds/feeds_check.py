"""Parses a generated feed with feedparser (Atom, RSS) or json (JSON Feed 1.1)
and compares it with the expectations the C test wrote.
Usage: feeds_check.py atom|rss|json FEED_FILE EXPECT_JSON
EXPECT_JSON: {"titles": [...], "authors": [...], "ids": [...], "links": [...]}
Exit status 0 when everything matches; the reason is printed otherwise."""
import json
import sys


def fail(msg):
    print("feeds_check: " + msg)
    sys.exit(1)


def check_xml(kind, path, exp):
    import feedparser
    d = feedparser.parse(path)
    if d.bozo:
        fail("%s: bozo set: %r" % (kind, d.bozo_exception))
    want = "atom10" if kind == "atom" else "rss20"
    if d.version != want:
        fail("%s: version %r, want %r" % (kind, d.version, want))
    if not d.feed.get("title"):
        fail("%s: feed has no title" % kind)
    if len(d.entries) != len(exp["titles"]):
        fail("%s: %d entries, want %d" % (kind, len(d.entries), len(exp["titles"])))
    for i, e in enumerate(d.entries):
        if e.get("title") != exp["titles"][i]:
            fail("%s: entry %d title %r, want %r" % (kind, i, e.get("title"), exp["titles"][i]))
        if e.get("id") != exp["ids"][i]:
            fail("%s: entry %d id %r, want %r" % (kind, i, e.get("id"), exp["ids"][i]))
        if e.get("link") != exp["links"][i]:
            fail("%s: entry %d link %r, want %r" % (kind, i, e.get("link"), exp["links"][i]))
        if e.get("author") != exp["authors"][i]:
            fail("%s: entry %d author %r, want %r" % (kind, i, e.get("author"), exp["authors"][i]))
        if not e.get("updated_parsed") and not e.get("published_parsed"):
            fail("%s: entry %d has no parsable date" % (kind, i))
        body = (e.get("content") or [{}])[0].get("value", "") + e.get("summary", "")
        for bad in ("<script", "javascript:", "onerror=", "onload="):
            if bad in body.lower():
                fail("%s: entry %d carries %r" % (kind, i, bad))
    if kind == "atom":
        if not any(l.get("rel") == "self" for l in d.feed.get("links", [])):
            fail("atom: no rel=self link")
        for i, e in enumerate(d.entries):
            if e.get("source", {}).get("title") != exp["authors"][i]:
                fail("atom: entry %d source title %r" % (i, e.get("source", {}).get("title")))


def check_json(path, exp):
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    if d.get("version") != "https://jsonfeed.org/version/1.1":
        fail("json: version %r" % d.get("version"))
    for k in ("title", "home_page_url", "feed_url"):
        if not isinstance(d.get(k), str) or not d[k]:
            fail("json: missing %s" % k)
    items = d.get("items")
    if not isinstance(items, list) or len(items) != len(exp["titles"]):
        fail("json: items %r" % (None if items is None else len(items)))
    for i, it in enumerate(items):
        if it.get("id") != exp["ids"][i] or it.get("title") != exp["titles"][i]:
            fail("json: item %d id/title %r/%r" % (i, it.get("id"), it.get("title")))
        if it.get("url") != exp["links"][i]:
            fail("json: item %d url %r" % (i, it.get("url")))
        if it.get("authors") != [{"name": exp["authors"][i]}]:
            fail("json: item %d authors %r" % (i, it.get("authors")))
        if not isinstance(it.get("content_html"), str):
            fail("json: item %d content_html" % i)
        for k in ("date_published", "date_modified"):
            if not isinstance(it.get(k), str) or "T" not in it[k]:
                fail("json: item %d %s %r" % (i, k, it.get(k)))
        if not isinstance(it.get("tags"), list):
            fail("json: item %d tags" % i)


def main():
    if len(sys.argv) != 4:
        fail("usage: feeds_check.py atom|rss|json FEED EXPECT")
    kind, path = sys.argv[1], sys.argv[2]
    with open(sys.argv[3], encoding="utf-8") as f:
        exp = json.load(f)
    if kind == "json":
        check_json(path, exp)
    else:
        check_xml(kind, path, exp)
    print("feeds_check: %s ok (%d entries)" % (kind, len(exp["titles"])))


main()
