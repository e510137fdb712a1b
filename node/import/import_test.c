/* Unit tests of the import parsers and the HTML → Markdown allow-list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>
#include <jansson.h>
#include <libxml/HTMLparser.h>
#include "core/buf.h"
#include "core/timefmt.h"
#include "import/import.h"
#include "render/render.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures/import"
#endif

static char *md(const char *html)
{
	char *o = NULL;
	assert_int_equal(edu_import_html_to_md(html, strlen(html), &o), EDU_OK);
	assert_non_null(o);
	return o;
}

static void has(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("\"%s\" not found in:\n%s", needle, hay);
}

static void hasnt(const char *hay, const char *needle)
{
	if (strcasestr(hay, needle))
		fail_msg("\"%s\" must not be in:\n%s", needle, hay);
}

static char *slurp(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", FIXTURES, name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = malloc(1 << 20);
	assert_non_null(buf);
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

static edu_import_feed *parse_file(const char *name, edu_import_format f, const char *enc)
{
	size_t len;
	char *data = slurp(name, &len), why[256];
	edu_import_opts o = {.encoding = enc, .default_tz_min = EDU_TZ_VN_MIN};
	edu_import_feed *feed = NULL;
	edu_err rv = edu_import_parse(&feed, f, data, len, &o, why, sizeof why);
	free(data);
	if (rv != EDU_OK)
		fail_msg("%s: %s", name, why);
	return feed;
}

/* ---- the XSS corpus ---- */

static const char *const xss[] = {
	"<script>alert(1)</script>",
	"<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
	"<img src=x onerror=alert(1)>",
	"<img src=\"javascript:alert(1)\">",
	"<a href=\"javascript:alert(1)\">x</a>",
	"<a href=\"JaVaScRiPt:alert(1)\">x</a>",
	"<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
	"<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">x</a>",
	"<a href=\" javascript:alert(1)\">x</a>",
	"<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
	"<img src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\">",
	"<iframe src=\"https://evil.example\"></iframe>",
	"<svg onload=alert(1)><script>alert(1)</script></svg>",
	"<math><mtext><script>alert(1)</script></mtext></math>",
	"<style>body{background:url(javascript:alert(1))}</style>",
	"<div style=\"background:url(javascript:alert(1))\">chữ</div>",
	"<body onload=alert(1)>",
	"<object data=\"javascript:alert(1)\"></object>",
	"<embed src=\"javascript:alert(1)\">",
	"<form action=\"javascript:alert(1)\"><input type=submit></form>",
	"<p onclick=\"alert(1)\">bấm</p>",
	"<a href=\"vbscript:msgbox(1)\">x</a>",
	"<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
	"<link rel=stylesheet href=\"javascript:alert(1)\">",
	"<base href=\"javascript:alert(1)//\">",
	"<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
	"<template><script>alert(1)</script></template>",
	"<scr<script>ipt>alert(1)</scr</script>ipt>",
	"&lt;script&gt;alert(1)&lt;/script&gt;",
	"<a href=\"java\nscript:alert(1)\">x</a>",
	"<img src=\"/a.png\" alt=\"&quot; onerror=alert(1)\">",
	"<details open ontoggle=alert(1)>x</details>",
	"<video><source onerror=\"alert(1)\"></video>",
	"<a href=\"  data:text/html,<script>alert(1)</script>\">x</a>",
	"[x](javascript:alert(1)) <http://a> ![i](javascript:alert(1))",
	"<![CDATA[<script>alert(1)</script>]]>",
	"<img src=`javascript:alert(1)`>",
	"<marquee onstart=alert(1)>x</marquee>",
	"<frameset onload=alert(1)><frame src=\"javascript:alert(1)\"></frameset>",
	"<a href=\"&#0000106avascript:alert(1)\">x</a>",
	"<a href=\"\\\\evil.example\">x</a>",
	"<table><tr><td onclick=alert(1)><script>alert(1)</script>ô</td></tr></table>",
	"<ul><li><a href=\"javascript:alert(1)\">x</a></li></ul>",
	"<h1 style=\"x\" onmouseover=alert(1)>t</h1>",
	"<blockquote><iframe srcdoc=\"<script>alert(1)</script>\"></iframe></blockquote>",
};
#define N_XSS (sizeof xss / sizeof xss[0])

/* Walks rendered HTML: fails on a dangerous element, a handler, a style or a bad URL. */
static void check_dom(xmlNode *n, const char *ctx)
{
	static const char *const bad_el[] = {"script", "iframe", "object", "embed", "svg", "math", "form", "style",
	                                     "base", "meta", "link", "frame", "frameset", "template", "noscript"};
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		for (size_t i = 0; i < sizeof bad_el / sizeof bad_el[0]; i++)
			if (strcasecmp((const char *)n->name, bad_el[i]) == 0 && strcmp((const char *)n->name, "html") &&
			    strcmp((const char *)n->name, "body"))
				fail_msg("<%s> survived: %s", n->name, ctx);
		for (xmlAttr *a = n->properties; a; a = a->next) {
			const char *an = (const char *)a->name;
			if (strncasecmp(an, "on", 2) == 0 || strcasecmp(an, "style") == 0)
				fail_msg("attribute %s survived: %s", an, ctx);
			if (strcasecmp(an, "href") == 0 || strcasecmp(an, "src") == 0) {
				xmlChar *v = xmlNodeGetContent((xmlNode *)a);
				if (!edu_import_url_ok((const char *)v, true))
					fail_msg("%s=\"%s\" survived: %s", an, v, ctx);
				xmlFree(v);
			}
		}
		check_dom(n->children, ctx);
	}
}

/* Markdown must not hide raw HTML, and its rendering must be clean. */
static void assert_clean(const char *mdtext, const char *ctx)
{
	edu_buf html = EDU_BUF_INIT;
	assert_int_equal(edu_render_markdown(mdtext, strlen(mdtext), &html), EDU_OK);
	/* cmark in unsafe mode would pass raw HTML: the Markdown itself must carry none */
	for (const char *p = mdtext; (p = strchr(p, '<')) != NULL; p++)
		if (p == mdtext || (p[-1] != '\\' && p[-1] != '('))
			fail_msg("raw '<' in Markdown for %s:\n%s", ctx, mdtext);
	hasnt(mdtext, "](<javascript");
	hasnt(mdtext, "](<data:");
	hasnt(mdtext, "](<vbscript");
	if (html.len) {
		htmlDocPtr d = htmlReadMemory(html.p, (int)html.len, NULL, "UTF-8",
		    HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_RECOVER);
		if (d) {
			check_dom(xmlDocGetRootElement(d), ctx);
			xmlFreeDoc(d);
		}
	}
	edu_buf_free(&html);
}

static void assert_entry_clean(const edu_import_entry *e, const char *ctx)
{
	assert_clean(e->body, ctx);
	hasnt(e->title, "<script");
	hasnt(e->title, "onerror");
	hasnt(e->summary, "<script");
	hasnt(e->summary, "<iframe");
}

/* ---- cases ---- */

static void t_formats(void **s)
{
	assert_int_equal(edu_import_format_parse("rss"), EDU_IMPORT_RSS);
	assert_int_equal(edu_import_format_parse("ATOM"), EDU_IMPORT_ATOM);
	assert_int_equal(edu_import_format_parse("jsonfeed"), EDU_IMPORT_JSONFEED);
	assert_int_equal(edu_import_format_parse("wxr"), EDU_IMPORT_WXR);
	assert_int_equal(edu_import_format_parse("yaml"), EDU_IMPORT_NONE);
	assert_int_equal(edu_import_format_parse(NULL), EDU_IMPORT_NONE);
}

static void date_is(const char *in, const char *want)
{
	int64_t t;
	int tz;
	char out[EDU_RFC3339_LEN];
	if (edu_import_parse_date(in, EDU_TZ_VN_MIN, &t, &tz) != EDU_OK)
		fail_msg("cannot parse \"%s\"", in);
	edu_time_format(out, t, tz);
	if (strcmp(out, want) != 0)
		fail_msg("\"%s\" → %s, want %s", in, out, want);
}

static void t_dates(void **s)
{
	date_is("Tue, 05 Mar 2024 08:30:00 +0700", "2024-03-05T08:30:00+07:00");
	date_is("Fri, 02 Feb 2024 02:00:00 GMT", "2024-02-02T02:00:00Z");
	date_is("Mon, 15 Jan 2024 16:45:00 ICT", "2024-01-15T16:45:00+07:00");
	date_is("Mon, 1 Apr 2024 07:00 +0700", "2024-04-01T07:00:00+07:00");
	date_is("5 Mar 24 08:30:00 UT", "2024-03-05T08:30:00Z");
	date_is("Tue, 05 Mar 2024 08:30:00 -0500", "2024-03-05T08:30:00-05:00");
	date_is("Tue, 05 Mar 2024 08:30:00 +07:00", "2024-03-05T08:30:00+07:00");
	date_is("2024-11-18T09:15:00+07:00", "2024-11-18T09:15:00+07:00");
	date_is("2024-10-01T07:00:00Z", "2024-10-01T07:00:00Z");
	date_is("2024-12-02 08:30:00", "2024-12-02T08:30:00+07:00"); /* WXR local: default offset */
	date_is("  Sat, 29 Feb 2020 23:59:59 +0000  ", "2020-02-29T23:59:59Z");
	int64_t t;
	static const char *const bad[] = {"", "hôm qua", "Tue, 30 Feb 2024 08:00:00 +0700", "Tue, 05 Foo 2024 08:00 GMT",
	                                  "Tue, 05 Mar 2024 25:00:00 +0700", "Tue, 05 Mar 2024 08:00:00 XYZ",
	                                  "0000-00-00 00:00:00", "2024-13-01T00:00:00Z", "Mon, 30 Nov -0001 00:00:00 +0000",
	                                  "Tue, 05 Mar 2024 08:00:00 +0700 rác"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (edu_import_parse_date(bad[i], 420, &t, NULL) == EDU_OK)
			fail_msg("\"%s\" was accepted", bad[i]);
}

static void t_kinds(void **s)
{
	const char *a[] = {"Tin tức", "THÔNG BÁO chung"};
	assert_int_equal(edu_import_kind_for(a, 2, NULL, 0, EDU_KIND_NEWS), EDU_KIND_ANNOUNCEMENT);
	const char *b[] = {"Văn bản – Công văn"};
	assert_int_equal(edu_import_kind_for(b, 1, NULL, 0, EDU_KIND_NEWS), EDU_KIND_DOCUMENT);
	const char *c[] = {"Công văn đến"};
	assert_int_equal(edu_import_kind_for(c, 1, NULL, 0, EDU_KIND_NEWS), EDU_KIND_DOCUMENT);
	const char *d[] = {"Lịch công tác"};
	assert_int_equal(edu_import_kind_for(d, 1, NULL, 0, EDU_KIND_NEWS), EDU_KIND_EVENT);
	const char *e[] = {"Lịch sử địa phương"};
	assert_int_equal(edu_import_kind_for(e, 1, NULL, 0, EDU_KIND_NEWS), EDU_KIND_NEWS);
	const char *f[] = {"Hoạt động"};
	assert_int_equal(edu_import_kind_for(f, 1, NULL, 0, EDU_KIND_NEWS), EDU_KIND_NEWS);
	/* operator rules first, case-insensitive, exact */
	edu_import_map m[] = {{"hoạt động", EDU_KIND_EVENT}, {"Thông báo", EDU_KIND_NEWS}};
	assert_int_equal(edu_import_kind_for(f, 1, m, 2, EDU_KIND_NEWS), EDU_KIND_EVENT);
	const char *g[] = {"thông báo"};
	assert_int_equal(edu_import_kind_for(g, 1, m, 2, EDU_KIND_DOCUMENT), EDU_KIND_NEWS);
	assert_int_equal(edu_import_kind_for(NULL, 0, m, 2, EDU_KIND_DOCUMENT), EDU_KIND_DOCUMENT);
}

static void t_map_parse(void **s)
{
	edu_import_map m;
	char *cat = NULL, why[200];
	assert_int_equal(edu_import_map_parse("Hoạt động=event", &m, &cat, why, sizeof why), EDU_OK);
	assert_string_equal(m.category, "Hoạt động");
	assert_int_equal(m.kind, EDU_KIND_EVENT);
	free(cat);
	assert_int_equal(edu_import_map_parse("@page=news", &m, &cat, why, sizeof why), EDU_OK);
	free(cat);
	assert_int_equal(edu_import_map_parse("Tin=blog", &m, &cat, why, sizeof why), EDU_EINVAL);
	has(why, "kind");
	assert_int_equal(edu_import_map_parse("=news", &m, &cat, why, sizeof why), EDU_EINVAL);
	assert_int_equal(edu_import_map_parse("không dấu bằng", &m, &cat, why, sizeof why), EDU_EINVAL);
	assert_null(cat);
}

static void t_urls(void **s)
{
	static const char *const good[] = {"https://a.vn/x", "HTTP://a.vn", "/duong-dan", "anh.png", "?q=1", "#muc",
	                                   "//cdn.example/x.png", "a/b:c"};
	static const char *const bad[] = {"javascript:alert(1)", " JavaScript:x", "java\tscript:x", "java\nscript:x",
	                                  "data:text/html,x", "vbscript:x", "file:///etc/passwd", "\\\\evil",
	                                  "", "mailto:a@b.vn", "feed:https://x"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		if (!edu_import_url_ok(good[i], false))
			fail_msg("refused %s", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (edu_import_url_ok(bad[i], false))
			fail_msg("accepted %s", bad[i]);
	assert_true(edu_import_url_ok("mailto:a@b.vn", true));
}

static void t_html_structure(void **s)
{
	char *o = md("<h1>Tiêu đề</h1><h3>Mục <em>nhỏ</em></h3><p>Đoạn <strong>đậm</strong> và <i>nghiêng</i>,"
	             " <a href=\"https://x.vn/a b\" title=\"t\">liên kết</a>.</p><p>Dòng 1<br>Dòng 2</p>"
	             "<p><img src=\"/anh.png\" alt=\"Ảnh\"></p><blockquote><p>trích</p></blockquote>"
	             "<pre><code>int a = 1;\n  b();</code></pre><p>mã <code>x`y</code></p><hr><p>cuối</p>");
	has(o, "# Tiêu đề\n");
	has(o, "### Mục *nhỏ*\n");
	has(o, "Đoạn **đậm** và *nghiêng*, [liên kết](<https://x.vn/a%20b>).");
	has(o, "Dòng 1\\\nDòng 2");
	has(o, "![Ảnh](</anh.png>)");
	has(o, "> trích");
	has(o, "```\nint a = 1;\n  b();\n```");
	has(o, "``x`y``");
	has(o, "***\n");
	edu_buf h = EDU_BUF_INIT;
	assert_int_equal(edu_render_markdown(o, strlen(o), &h), EDU_OK);
	has(h.p, "<h1>Tiêu đề</h1>");
	has(h.p, "<strong>đậm</strong>");
	has(h.p, "<a href=\"https://x.vn/a%20b\">liên kết</a>");
	has(h.p, "<img src=\"/anh.png\" alt=\"Ảnh\"");
	has(h.p, "<blockquote>");
	has(h.p, "<code>int a = 1;");
	edu_buf_free(&h);
	free(o);
	/* unknown elements unwrap to their text; entities decode; whitespace collapses */
	o = md("<div><span class=x>Học&nbsp;sinh</span>   <font color=red>giỏi</font> &amp; &#7843;nh</div>");
	has(o, "Học\u00a0sinh giỏi & ảnh");
	free(o);
	/* empty and text-only input */
	o = md("");
	assert_string_equal(o, "");
	free(o);
	o = md("chỉ là chữ");
	assert_string_equal(o, "chỉ là chữ");
	free(o);
}

static void t_html_escape(void **s)
{
	char *o = md("<p># không phải tiêu đề</p><p>- không phải danh sách</p><p>1. không phải số</p>"
	             "<p>*sao* _gạch_ `huyền` [ngoặc](x) &lt;b&gt; | ống ~ &amp;amp; \\ chéo</p><p>+ cộng<br>= bằng</p>");
	has(o, "\\# không phải tiêu đề");
	has(o, "\\- không phải danh sách");
	has(o, "1\\. không phải số");
	has(o, "\\*sao\\* \\_gạch\\_ \\`huyền\\` \\[ngoặc\\](x) \\<b\\> \\| ống \\~ \\&amp; \\\\ chéo");
	has(o, "\\+ cộng\\\n\\= bằng");
	edu_buf h = EDU_BUF_INIT;
	assert_int_equal(edu_render_markdown(o, strlen(o), &h), EDU_OK);
	/* what the reader sees is what the source said */
	has(h.p, "# không phải tiêu đề");
	has(h.p, "*sao* _gạch_ `huyền` [ngoặc](x) &lt;b&gt; | ống ~ &amp;amp; \\ chéo");
	hasnt(h.p, "<h1>");
	hasnt(h.p, "<ul>");
	hasnt(h.p, "<ol>");
	hasnt(h.p, "<em>");
	edu_buf_free(&h);
	free(o);
}

static void t_html_tables(void **s)
{
	char *o = md("<table><caption>Lịch thi</caption><thead><tr><th>Ngày</th><th>Môn</th></tr></thead><tbody>"
	             "<tr><td>16/12</td><td>Ngữ <b>văn</b></td></tr><tr><td>17/12</td><td>Toán | Lý<br>chiều</td>"
	             "<td>thêm</td></tr></tbody></table><p>sau</p>");
	has(o, "Lịch thi\n\n| Ngày | Môn |  |\n| --- | --- | --- |\n| 16/12 | Ngữ **văn** |  |\n"
	       "| 17/12 | Toán \\| Lý chiều | thêm |\n\nsau");
	free(o);
	/* a table inside a cell flattens to text */
	o = md("<table><tr><td><table><tr><td>trong</td></tr></table></td></tr></table>");
	has(o, "| trong |");
	free(o);
}

static void t_html_lists(void **s)
{
	char *o = md("<ul><li>Một</li><li>Hai<ul><li>Hai.1</li></ul></li></ul><ol start=\"3\"><li>ba</li>"
	             "<li><p>bốn</p><p>năm</p></li></ol><ul><li>- gạch</li></ul>");
	has(o, "- Một\n- Hai\n  - Hai.1\n");
	has(o, "3. ba\n4. bốn\\\n   năm\n");
	has(o, "- \\- gạch");
	edu_buf h = EDU_BUF_INIT;
	assert_int_equal(edu_render_markdown(o, strlen(o), &h), EDU_OK);
	has(h.p, "<li>Hai\n<ul>\n<li>Hai.1</li>");
	has(h.p, "<ol start=\"3\">");
	edu_buf_free(&h);
	free(o);
	/* hostile nesting stops at the depth limit instead of recursing forever */
	edu_buf deep = EDU_BUF_INIT;
	for (int i = 0; i < 5000; i++)
		edu_buf_puts(&deep, "<ul><li>");
	edu_buf_puts(&deep, "đáy");
	o = md(deep.p);
	assert_true(strlen(o) < 4096);
	free(o);
	edu_buf_free(&deep);
}

static void t_text_to_md(void **s)
{
	const char *t = "Dòng một\nDòng hai <script>alert(1)</script>\n\n# đoạn hai *x*";
	char *o = NULL;
	assert_int_equal(edu_import_text_to_md(t, strlen(t), &o), EDU_OK);
	assert_string_equal(o, "Dòng một\\\nDòng hai \\<script\\>alert(1)\\</script\\>\n\n\\# đoạn hai \\*x\\*");
	assert_clean(o, "text_to_md");
	free(o);
	char *x = NULL;
	const char *h = "<p>Tiêu <b>đề</b></p><script>alert(1)</script>\n  mới";
	assert_int_equal(edu_import_html_to_text(h, strlen(h), &x), EDU_OK);
	assert_string_equal(x, "Tiêu đề mới");
	free(x);
	assert_int_equal(edu_import_html_to_text("a < b", 5, &x), EDU_OK);
	assert_string_equal(x, "a < b");
	free(x);
	/* NFC: decomposed Vietnamese comes out composed */
	const char *nfd = "Ho\xcc\xa3\x63 sinh";
	assert_int_equal(edu_import_html_to_md(nfd, strlen(nfd), &x), EDU_OK);
	assert_string_equal(x, "Học sinh");
	free(x);
}

static void t_xss_html(void **s)
{
	for (size_t i = 0; i < N_XSS; i++) {
		char *o = md(xss[i]);
		char ctx[64];
		snprintf(ctx, sizeof ctx, "payload %zu", i);
		assert_clean(o, ctx);
		free(o);
	}
	/* all of them together, around real content that must survive */
	edu_buf all = EDU_BUF_INIT;
	edu_buf_puts(&all, "<h2>Giữ lại</h2><ul><li>mục</li></ul><table><tr><td>ô</td></tr></table>"
	                   "<a href=\"https://ok.vn\">tốt</a><img src=\"https://ok.vn/a.png\" alt=\"a\">");
	for (size_t i = 0; i < N_XSS; i++)
		edu_buf_puts(&all, xss[i]);
	char *o = md(all.p);
	assert_clean(o, "all payloads");
	has(o, "## Giữ lại");
	has(o, "- mục");
	has(o, "| ô |");
	has(o, "[tốt](<https://ok.vn>)");
	has(o, "![a](<https://ok.vn/a.png>)");
	free(o);
	edu_buf_free(&all);
}

/* XML text escaping for payloads placed in element content. */
static void xml_escape(edu_buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': edu_buf_puts(b, "&lt;"); break;
		case '>': edu_buf_puts(b, "&gt;"); break;
		case '&': edu_buf_puts(b, "&amp;"); break;
		case '"': edu_buf_puts(b, "&quot;"); break;
		default: edu_buf_append(b, s, 1);
		}
	}
}

static void check_feed(edu_buf *doc, edu_import_format f, const char *what)
{
	edu_import_feed *feed = NULL;
	char why[256];
	assert_int_equal(edu_import_parse(&feed, f, doc->p, doc->len, NULL, why, sizeof why), EDU_OK);
	assert_int_equal(feed->n, N_XSS);
	for (size_t i = 0; i < feed->n; i++) {
		char ctx[64];
		snprintf(ctx, sizeof ctx, "%s payload %zu", what, i);
		assert_null(feed->entries[i].fail);
		assert_entry_clean(&feed->entries[i], ctx);
		has(feed->entries[i].body, "Giữ lại");
	}
	edu_import_feed_free(feed);
}

static void t_xss_rss(void **s)
{
	edu_buf d = EDU_BUF_INIT;
	edu_buf_puts(&d, "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>x</title>");
	for (size_t i = 0; i < N_XSS; i++) {
		edu_buf_printf(&d, "<item><title>");
		xml_escape(&d, xss[i]);
		edu_buf_printf(&d, "Tin %zu</title><guid>x-%zu</guid><description>", i, i);
		edu_buf t = EDU_BUF_INIT;
		edu_buf_printf(&t, "<p>Giữ lại</p>%s", xss[i]);
		xml_escape(&d, t.p);
		edu_buf_free(&t);
		edu_buf_puts(&d, "</description></item>");
	}
	edu_buf_puts(&d, "</channel></rss>");
	check_feed(&d, EDU_IMPORT_RSS, "rss");
	edu_buf_free(&d);
}

static void t_xss_atom(void **s)
{
	edu_buf d = EDU_BUF_INIT;
	edu_buf_puts(&d, "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>x</title>");
	for (size_t i = 0; i < N_XSS; i++) {
		edu_buf_printf(&d, "<entry><id>a-%zu</id><title type=\"html\">", i);
		xml_escape(&d, xss[i]);
		edu_buf_printf(&d, "Tin</title><summary type=\"html\">");
		xml_escape(&d, xss[i]);
		edu_buf_puts(&d, "</summary><content type=\"html\">");
		edu_buf t = EDU_BUF_INIT;
		edu_buf_printf(&t, "<p>Giữ lại</p>%s", xss[i]);
		xml_escape(&d, t.p);
		edu_buf_free(&t);
		edu_buf_puts(&d, "</content></entry>");
	}
	/* XHTML content: the attack as real elements in the XHTML namespace */
	edu_buf_puts(&d, "</feed>");
	check_feed(&d, EDU_IMPORT_ATOM, "atom");
	edu_buf_free(&d);
	const char *x = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><id>1</id><title>t</title>"
	                "<content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\"><p onclick=\"a()\">Giữ lại</p>"
	                "<script>alert(1)</script><a href=\"javascript:x\">b</a><iframe src=\"https://e\"/>"
	                "<img src=\"data:x\" alt=\"d\"/><ul><li>m</li></ul></div></content></entry></feed>";
	edu_import_feed *feed = NULL;
	char why[200];
	assert_int_equal(edu_import_parse(&feed, EDU_IMPORT_ATOM, x, strlen(x), NULL, why, sizeof why), EDU_OK);
	assert_int_equal(feed->n, 1);
	assert_entry_clean(&feed->entries[0], "xhtml");
	has(feed->entries[0].body, "Giữ lại\n\nbd\n\n- m");
	edu_import_feed_free(feed);
}

static void t_xss_jsonfeed(void **s)
{
	json_t *items = json_array();
	for (size_t i = 0; i < N_XSS; i++) {
		char id[32], html[1024];
		snprintf(id, sizeof id, "j-%zu", i);
		snprintf(html, sizeof html, "<p>Giữ lại</p>%s", xss[i]);
		json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:s}", "id", id, "title", xss[i], "content_html",
		                                       html, "summary", xss[i]));
	}
	json_t *root = json_pack("{s:s, s:s, s:o}", "version", "https://jsonfeed.org/version/1.1", "title", "x",
	                         "items", items);
	char *text = json_dumps(root, 0);
	edu_buf d = EDU_BUF_INIT;
	edu_buf_puts(&d, text);
	/* summary is plain text in JSON Feed: escaped by the renderer, never parsed as HTML;
	 * titles go through the HTML text extractor */
	edu_import_feed *feed = NULL;
	char why[200];
	assert_int_equal(edu_import_parse(&feed, EDU_IMPORT_JSONFEED, d.p, d.len, NULL, why, sizeof why), EDU_OK);
	assert_int_equal(feed->n, N_XSS);
	for (size_t i = 0; i < feed->n; i++) {
		char ctx[64];
		snprintf(ctx, sizeof ctx, "jsonfeed payload %zu", i);
		assert_clean(feed->entries[i].body, ctx);
		has(feed->entries[i].body, "Giữ lại");
		hasnt(feed->entries[i].title, "<script");
	}
	edu_import_feed_free(feed);
	edu_buf_free(&d);
	free(text);
	json_decref(root);
}

static void t_xss_wxr(void **s)
{
	edu_buf d = EDU_BUF_INIT;
	edu_buf_puts(&d, "<?xml version=\"1.0\"?><rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" "
	                 "xmlns:wp=\"http://wordpress.org/export/1.2/\"><channel><title>x</title><wp:wxr_version>1.2</wp:wxr_version>");
	for (size_t i = 0; i < N_XSS; i++) {
		edu_buf_printf(&d, "<item><title>Tin %zu</title><guid>w-%zu</guid><wp:post_id>%zu</wp:post_id>"
		                   "<wp:post_type>post</wp:post_type><wp:status>publish</wp:status><content:encoded>",
		               i, i, i + 1);
		edu_buf t = EDU_BUF_INIT;
		edu_buf_printf(&t, "<p>Giữ lại</p>%s", xss[i]);
		xml_escape(&d, t.p);
		edu_buf_free(&t);
		edu_buf_puts(&d, "</content:encoded></item>");
	}
	edu_buf_puts(&d, "</channel></rss>");
	check_feed(&d, EDU_IMPORT_WXR, "wxr");
	edu_buf_free(&d);
}

static void t_rss_keys(void **s)
{
	edu_import_feed *f = parse_file("rss-guids.xml", EDU_IMPORT_RSS, NULL);
	assert_int_equal(f->n, 6);
	assert_string_equal(f->entries[0].key, "id:pgd-tin-2024-001");
	assert_string_equal(f->entries[1].key, "link:http://pgdtanhong.old-portal.vn/thong-bao/nghi-tet-2024.html");
	assert_true(strncmp(f->entries[2].key, "hash:", 5) == 0 && strlen(f->entries[2].key) == 5 + 64);
	assert_string_equal(f->entries[3].skip, "duplicate key");
	assert_string_equal(f->entries[0].tag + 0, f->entries[3].tag);
	assert_true(strncmp(f->entries[0].tag, "import:", 7) == 0 && strlen(f->entries[0].tag) == 7 + 16);
	assert_string_equal(f->entries[0].title, "Hội thi giáo viên dạy giỏi cấp huyện & cấp trường");
	assert_string_equal(f->entries[0].author, "Văn phòng PGD");
	assert_int_equal(f->entries[0].n_atts, 1);
	assert_string_equal(f->entries[0].atts[0].name, "ke-hoach-hoi-thi.pdf");
	assert_string_equal(f->entries[0].atts[0].media_type, "application/pdf");
	assert_int_equal(f->entries[0].atts[0].size, 48213);
	has(f->entries[0].body, "## Tệp đính kèm (nguồn cũ)\n\n- [ke-hoach-hoi-thi.pdf](<http://pgdtanhong.old-portal.vn/uploads/ke-hoach-hoi-thi.pdf>)");
	assert_int_equal(f->entries[1].kind, EDU_KIND_ANNOUNCEMENT);
	assert_int_equal(f->entries[4].kind, EDU_KIND_EVENT);
	assert_int_equal(f->entries[5].kind, EDU_KIND_DOCUMENT);
	assert_string_equal(f->entries[5].summary, "Ban hành kèm theo công văn số 88/PGDĐT.");
	has(f->entries[5].body, "\\<script\\>đây là chữ");
	assert_string_equal(f->entries[2].link, "");
	for (size_t i = 0; i < f->n; i++)
		assert_entry_clean(&f->entries[i], "rss-guids.xml");
	/* the same file parsed twice gives the same keys (hash keys too) */
	edu_import_feed *g = parse_file("rss-guids.xml", EDU_IMPORT_RSS, NULL);
	for (size_t i = 0; i < f->n; i++)
		assert_string_equal(f->entries[i].key, g->entries[i].key);
	edu_import_feed_free(g);
	edu_import_feed_free(f);
}

static void t_atom_content(void **s)
{
	edu_import_feed *f = parse_file("atom-html-xhtml.xml", EDU_IMPORT_ATOM, NULL);
	assert_int_equal(f->n, 4);
	edu_import_entry *e = f->entries;
	assert_string_equal(e[0].title, "Học sinh đạt giải Nhất cấp tỉnh");
	assert_string_equal(e[0].author, "Ban truyền thông"); /* the feed's author */
	assert_string_equal(e[0].link, "https://thptnqd.old-portal.vn/tin/hsg-cap-tinh-2024");
	has(e[0].body, "Em **Trần Minh Khoa** lớp 12A1");
	assert_int_equal(e[0].n_atts, 1);
	char out[EDU_RFC3339_LEN];
	edu_time_format(out, e[0].published, e[0].tz_min);
	assert_string_equal(out, "2024-11-18T09:15:00+07:00");
	edu_time_format(out, e[0].updated, e[0].tz_min);
	assert_string_equal(out, "2024-11-19T14:00:00+07:00");
	has(e[1].body, "## Chỉ tiêu\n\n- 10 lớp chuyên\n- 8 lớp thường");
	has(e[1].body, "[văn phòng](<https://thptnqd.old-portal.vn/tuyen-sinh>)");
	assert_int_equal(e[1].kind, EDU_KIND_ANNOUNCEMENT);
	assert_string_equal(e[1].author, "Hiệu trưởng");
	has(e[2].body, "Ngày 10/10: Toán, Ngữ văn.\\\nNgày 11/10: Tiếng Anh.");
	assert_int_equal(e[2].published, e[2].updated); /* only <updated>: it is also the publication */
	has(e[3].body, "Chủ đề: *An toàn giao thông*.");
	for (size_t i = 0; i < f->n; i++)
		assert_entry_clean(&e[i], "atom fixture");
	edu_import_feed_free(f);
}

static void t_jsonfeed(void **s)
{
	edu_import_feed *f = parse_file("jsonfeed.json", EDU_IMPORT_JSONFEED, NULL);
	assert_int_equal(f->n, 4);
	edu_import_entry *e = f->entries;
	assert_string_equal(e[0].author, "Cô Lê Thị Hoa");
	assert_string_equal(e[0].summary, "Ngày hội đọc sách năm 2024");
	assert_int_equal(e[0].n_tags, 2);
	assert_string_equal(e[1].author, "Tổ văn phòng");
	assert_int_equal(e[1].kind, EDU_KIND_ANNOUNCEMENT);
	assert_int_equal(e[1].n_atts, 1);
	assert_int_equal(e[1].atts[0].size, 20480);
	assert_string_equal(e[3].title, "Quy chế chi tiêu nội bộ năm 2024 của nhà trường."); /* from the text */
	assert_int_equal(e[3].kind, EDU_KIND_DOCUMENT);
	for (size_t i = 0; i < f->n; i++)
		assert_entry_clean(&e[i], "jsonfeed fixture");
	edu_import_feed_free(f);
	char why[200];
	edu_import_feed *g = NULL;
	const char *bad[] = {"{\"version\":\"x\",\"items\":[]}", "[1,2]", "{\"version\":\"https://jsonfeed.org/version/1.1\"}",
	                     "{\"a\":1,\"a\":2}", "{"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(edu_import_parse(&g, EDU_IMPORT_JSONFEED, bad[i], strlen(bad[i]), NULL, why, sizeof why),
		                 EDU_EINVAL);
		assert_null(g);
		assert_true(why[0] != '\0');
	}
	/* an item that is not an object fails alone */
	const char *one = "{\"version\":\"https://jsonfeed.org/version/1\",\"items\":[7,{\"id\":\"a\",\"title\":\"t\","
	                  "\"content_text\":\"x\"}]}";
	assert_int_equal(edu_import_parse(&g, EDU_IMPORT_JSONFEED, one, strlen(one), NULL, why, sizeof why), EDU_OK);
	assert_int_equal(g->n, 2);
	assert_non_null(g->entries[0].fail);
	assert_null(g->entries[1].fail);
	edu_import_feed_free(g);
}

static void t_wxr(void **s)
{
	edu_import_feed *f = parse_file("wxr-vi.xml", EDU_IMPORT_WXR, NULL);
	assert_int_equal(f->n, 8);
	assert_int_equal(f->n_wxr_attachments, 2);
	edu_import_entry *e = f->entries;
	assert_string_equal(e[0].title, "Thông báo lịch thi học kỳ I năm học 2024 – 2025");
	assert_int_equal(e[0].kind, EDU_KIND_ANNOUNCEMENT);
	assert_string_equal(e[0].author, "Ban biên tập");
	char out[EDU_RFC3339_LEN];
	edu_time_format(out, e[0].published, e[0].tz_min);
	assert_string_equal(out, "2024-12-02T08:30:00+07:00");
	edu_time_format(out, e[0].updated, e[0].tz_min);
	assert_string_equal(out, "2024-12-03T09:00:00+07:00");
	assert_int_equal(e[0].n_tags, 3);
	assert_int_equal(e[0].n_atts, 1);
	assert_string_equal(e[0].atts[0].name, "lich-thi.pdf");
	has(e[0].body, "| 16/12/2024 | Ngữ văn |");
	assert_string_equal(e[1].author, "Cô Nguyễn Thị Thu");
	has(e[1].body, "Hơn 600 học sinh tham dự."); /* decomposed in the file, NFC here */
	assert_int_equal(e[2].kind, EDU_KIND_DOCUMENT);
	assert_int_equal(e[3].kind, EDU_KIND_EVENT);
	assert_int_equal(e[4].kind, EDU_KIND_ANNOUNCEMENT); /* a page */
	assert_string_equal(e[5].skip, "draft");
	assert_string_equal(e[6].skip, "trash");
	assert_string_equal(e[7].skip, "nav_menu_item");
	for (size_t i = 0; i < 5; i++) {
		assert_null(e[i].skip);
		assert_null(e[i].fail);
		assert_entry_clean(&e[i], "wxr fixture");
	}
	edu_import_feed_free(f);
	/* --map @page=news and a category rule */
	size_t len;
	char *data = slurp("wxr-vi.xml", &len), why[200];
	edu_import_map m[] = {{"@page", EDU_KIND_NEWS}, {"Tin tức", EDU_KIND_EVENT}};
	edu_import_opts o = {.maps = m, .n_maps = 2, .default_tz_min = 420};
	assert_int_equal(edu_import_parse(&f, EDU_IMPORT_WXR, data, len, &o, why, sizeof why), EDU_OK);
	assert_int_equal(f->entries[4].kind, EDU_KIND_NEWS);
	assert_int_equal(f->entries[1].kind, EDU_KIND_EVENT);
	edu_import_feed_free(f);
	/* an RSS file is not a WXR file */
	assert_int_equal(edu_import_parse(&f, EDU_IMPORT_ATOM, data, len, NULL, why, sizeof why), EDU_EINVAL);
	has(why, "Atom");
	free(data);
	data = slurp("rss-guids.xml", &len);
	assert_int_equal(edu_import_parse(&f, EDU_IMPORT_WXR, data, len, NULL, why, sizeof why), EDU_EINVAL);
	has(why, "wxr_version");
	free(data);
}

static void t_broken_xml(void **s)
{
	size_t len;
	char *data = slurp("rss-broken.xml", &len), why[256];
	edu_import_feed *f = NULL;
	assert_int_equal(edu_import_parse(&f, EDU_IMPORT_RSS, data, len, NULL, why, sizeof why), EDU_OK);
	assert_true(f->recovered);
	has(why, "phục hồi");
	assert_int_equal(f->n, 2);
	for (size_t i = 0; i < f->n; i++)
		assert_entry_clean(&f->entries[i], "broken");
	edu_import_feed_free(f);
	free(data);
	/* nothing readable at all */
	const char *junk[] = {"", "không phải XML", "\x00\x01\x02"};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(edu_import_parse(&f, EDU_IMPORT_RSS, junk[i], i == 2 ? 3 : strlen(junk[i]), NULL, why,
		                                  sizeof why), EDU_EINVAL);
		assert_null(f);
	}
	/* truncation at every tenth byte never crashes */
	data = slurp("wxr-vi.xml", &len);
	for (size_t cut = 0; cut < len; cut += len / 40) {
		if (edu_import_parse(&f, EDU_IMPORT_WXR, data, cut, NULL, why, sizeof why) == EDU_OK)
			edu_import_feed_free(f);
	}
	free(data);
}

static void t_xxe(void **s)
{
	size_t len;
	char *data = slurp("rss-xxe.xml", &len), why[256];
	edu_import_feed *f = NULL;
	assert_int_equal(edu_import_parse(&f, EDU_IMPORT_RSS, data, len, NULL, why, sizeof why), EDU_EINVAL);
	has(why, "XXE");
	free(data);
	const char *laughs = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;\">]>"
	                     "<rss version=\"2.0\"><channel><item><title>&b;</title></item></channel></rss>";
	assert_int_equal(edu_import_parse(&f, EDU_IMPORT_RSS, laughs, strlen(laughs), NULL, why, sizeof why), EDU_EINVAL);
	const char *ext = "<?xml version=\"1.0\"?><!DOCTYPE rss SYSTEM \"http://evil.example/x.dtd\">"
	                  "<rss version=\"2.0\"><channel><item><title>t</title><guid>1</guid></item></channel></rss>";
	/* an external DTD is never fetched (NONET, no DTDLOAD): the feed reads as is */
	assert_int_equal(edu_import_parse(&f, EDU_IMPORT_RSS, ext, strlen(ext), NULL, why, sizeof why), EDU_OK);
	assert_int_equal(f->n, 1);
	edu_import_feed_free(f);
}

static void t_windows1258(void **s)
{
	edu_import_feed *a = parse_file("rss-windows1258.xml", EDU_IMPORT_RSS, NULL);
	edu_import_feed *b = parse_file("rss-bom.xml", EDU_IMPORT_RSS, NULL);
	edu_import_feed *c = parse_file("rss-1258-undeclared.xml", EDU_IMPORT_RSS, "windows-1258");
	assert_int_equal(a->n, 2);
	assert_string_equal(a->entries[0].title, "Học sinh Đồng Tháp đạt giải cao");
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(a->entries[i].title, b->entries[i].title);
		assert_string_equal(a->entries[i].body, b->entries[i].body);
		assert_string_equal(a->entries[i].title, c->entries[i].title);
		assert_string_equal(a->entries[i].key, c->entries[i].key);
		assert_entry_clean(&a->entries[i], "1258");
	}
	edu_import_feed_free(a);
	edu_import_feed_free(b);
	edu_import_feed_free(c);
	size_t len;
	char *data = slurp("rss-1258-undeclared.xml", &len), why[256];
	edu_import_feed *f = NULL;
	assert_int_equal(edu_import_parse(&f, EDU_IMPORT_RSS, data, len, NULL, why, sizeof why), EDU_EINVAL);
	has(why, "--encoding");
	edu_import_opts o = {.encoding = "no-such-charset", .default_tz_min = 420};
	assert_int_equal(edu_import_parse(&f, EDU_IMPORT_JSONFEED, data, len, &o, why, sizeof why), EDU_EINVAL);
	free(data);
}

/* What the node's API does with an entry edunetctl posts: the text of the
 * entry's JSON through the item parser. */
static edu_err node_accepts(edu_item *it, const json_t *j, char *why, size_t whylen)
{
	char *s = json_dumps(j, JSON_COMPACT);
	assert_non_null(s);
	edu_err rv = edu_item_from_json_text(it, s, strlen(s), why, whylen);
	free(s);
	return rv;
}

static void t_entry_json(void **s)
{
	edu_import_feed *f = parse_file("wxr-vi.xml", EDU_IMPORT_WXR, NULL);
	json_t *up = json_pack("[{s:s, s:s, s:i, s:s}]", "name", "lich-thi.pdf", "media_type", "application/pdf", "size",
	                       97, "sha256", "dfba4654d6c25fadfe70f3703aabba055764e11787fea53cebcf719590266b13");
	json_t *j = edu_import_entry_json(&f->entries[0], up);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "announcement");
	assert_string_equal(json_string_value(json_object_get(j, "published")), "2024-12-02T08:30:00+07:00");
	assert_string_equal(json_string_value(json_object_get(j, "updated")), "2024-12-03T09:00:00+07:00");
	assert_string_equal(json_string_value(json_object_get(j, "source_url")),
	                    "https://thcsanbinha.old-portal.vn/2024/12/02/thong-bao-lich-thi-hoc-ky-i/");
	json_t *tags = json_object_get(j, "tags");
	assert_int_equal(json_array_size(tags), 4);
	assert_string_equal(json_string_value(json_array_get(tags, 3)), f->entries[0].tag);
	assert_int_equal(json_array_size(json_object_get(j, "attachments")), 1);
	/* the node's own parser accepts it as an item */
	edu_item *it = edu_item_new();
	char why[256];
	assert_int_equal(node_accepts(it, j, why, sizeof why), EDU_OK);
	free(it->unit);
	it->unit = strdup("thcs-an-binh-a");
	it->seq = 1;
	it->version = 1;
	assert_int_equal(edu_item_validate(it, why, sizeof why), EDU_OK);
	edu_item_free(it);
	json_decref(j);
	j = edu_import_entry_json(&f->entries[1], NULL);
	assert_null(json_object_get(j, "attachments"));
	json_decref(j);
	json_decref(up);
	edu_import_feed_free(f);
}

static void t_limits(void **s)
{
	char why[200];
	edu_import_feed *f = NULL;
	/* a body over the item limit fails that entry, not the file */
	edu_buf d = EDU_BUF_INIT;
	edu_buf_puts(&d, "{\"version\":\"https://jsonfeed.org/version/1.1\",\"items\":[{\"id\":\"big\",\"title\":\"t\","
	                 "\"content_text\":\"");
	for (size_t i = 0; i < EDU_BODY_MAX / 8 + 10; i++)
		edu_buf_puts(&d, "chữ*chữ ");
	edu_buf_puts(&d, "\"},{\"id\":\"ok\",\"title\":\"t2\",\"content_text\":\"x\"}]}");
	assert_int_equal(edu_import_parse(&f, EDU_IMPORT_JSONFEED, d.p, d.len, NULL, why, sizeof why), EDU_OK);
	assert_int_equal(f->n, 2);
	assert_non_null(f->entries[0].fail);
	has(f->entries[0].fail, "quá giới hạn");
	assert_null(f->entries[1].fail);
	edu_import_feed_free(f);
	edu_buf_free(&d);
	/* too big a file */
	assert_int_equal(edu_import_parse(&f, EDU_IMPORT_RSS, "x", EDU_IMPORT_INPUT_MAX + 1, NULL, why, sizeof why),
	                 EDU_ETOOBIG);
	/* titles and summaries are cut at their limits, on a character boundary */
	edu_buf_puts(&d, "{\"version\":\"https://jsonfeed.org/version/1.1\",\"items\":[{\"id\":\"a\",\"title\":\"");
	for (int i = 0; i < 400; i++)
		edu_buf_puts(&d, "ệ");
	edu_buf_puts(&d, "\",\"summary\":\"");
	for (int i = 0; i < 1200; i++)
		edu_buf_puts(&d, "ư");
	edu_buf_puts(&d, "\",\"content_text\":\"x\",\"tags\":[");
	for (int i = 0; i < 50; i++)
		edu_buf_printf(&d, "%s\"t%d\"", i ? "," : "", i);
	edu_buf_puts(&d, ",\"import:giả\"]}]}");
	assert_int_equal(edu_import_parse(&f, EDU_IMPORT_JSONFEED, d.p, d.len, NULL, why, sizeof why), EDU_OK);
	json_t *j = edu_import_entry_json(&f->entries[0], NULL);
	edu_item *it = edu_item_new();
	assert_int_equal(node_accepts(it, j, why, sizeof why), EDU_OK);
	free(it->unit);
	it->unit = strdup("thcs-an-binh-a");
	it->seq = 1;
	it->version = 1;
	if (edu_item_validate(it, why, sizeof why) != EDU_OK)
		fail_msg("over-long entry not cut to the item limits: %s", why);
	assert_int_equal(it->n_tags, EDU_TAGS_MAX); /* 31 source tags + the import tag; the fake one dropped */
	edu_item_free(it);
	json_decref(j);
	edu_import_feed_free(f);
	edu_buf_free(&d);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_formats), cmocka_unit_test(t_dates), cmocka_unit_test(t_kinds),
		cmocka_unit_test(t_map_parse), cmocka_unit_test(t_urls), cmocka_unit_test(t_html_structure),
		cmocka_unit_test(t_html_escape), cmocka_unit_test(t_html_tables), cmocka_unit_test(t_html_lists),
		cmocka_unit_test(t_text_to_md), cmocka_unit_test(t_xss_html), cmocka_unit_test(t_xss_rss),
		cmocka_unit_test(t_xss_atom), cmocka_unit_test(t_xss_jsonfeed), cmocka_unit_test(t_xss_wxr),
		cmocka_unit_test(t_rss_keys), cmocka_unit_test(t_atom_content), cmocka_unit_test(t_jsonfeed),
		cmocka_unit_test(t_wxr), cmocka_unit_test(t_broken_xml), cmocka_unit_test(t_xxe),
		cmocka_unit_test(t_windows1258), cmocka_unit_test(t_entry_json), cmocka_unit_test(t_limits),
	};
	if (argc > 1) {
		char name[64];
		snprintf(name, sizeof name, "t_%s", argv[1]);
		cmocka_set_test_filter(name);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
