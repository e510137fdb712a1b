#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <cmocka.h>

#include <libxml/HTMLparser.h>
#include <libxml/xmlerror.h>
#include <libxml/xpath.h>

#include "core/buf.h"
#include "item/item.h"
#include "pages/pages.h"

#define T_PUB 1796025845 /* 2026-11-30T08:04:05Z = 15:04 at +07:00 */

/* Fixtures ---------------------------------------------------------------- */

static const char *names_lookup(const char *unit, void *arg)
{
	(void)arg;
	if (strcmp(unit, "so-dongthap") == 0)
		return "Sở GDĐT Đồng Tháp";
	if (strcmp(unit, "thpt-nguyen-quang-dieu") == 0)
		return "Trường THPT Nguyễn Quang Diêu";
	if (strcmp(unit, "pgd-tanhong") == 0)
		return "Phòng GDĐT Tân Hồng";
	return NULL;
}

static const edu_pages_unit units[] = {
    {"so-dongthap", "Sở GDĐT Đồng Tháp"},
    {"pgd-tanhong", "Phòng GDĐT Tân Hồng"},
    {"thpt-nguyen-quang-dieu", "Trường THPT Nguyễn Quang Diêu"},
};

static edu_pages_ctx ctx(void)
{
	edu_pages_ctx c = {"so-dongthap", "Sở GDĐT Đồng Tháp", "so", names_lookup, NULL, units, 3, NULL, 0};
	return c;
}

static char *no_tags[] = {NULL};

static edu_item mk(const char *unit, uint64_t seq, edu_kind kind, const char *title,
    const char *summary, const char *body)
{
	edu_item it;
	memset(&it, 0, sizeof it);
	it.unit = (char *)unit;
	it.seq = seq;
	it.version = 1;
	it.kind = kind;
	it.title = (char *)title;
	it.summary = (char *)summary;
	it.body = (char *)body;
	it.tags = no_tags;
	it.author = "";
	it.published = T_PUB;
	it.updated = T_PUB;
	it.tz_offset_min = 420;
	it.doc_number = it.doc_date = it.signer = it.location = "";
	it.unit_name = it.source_url = "";
	return it;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0, l = strlen(needle);
	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + l, needle))
		n++;
	return n;
}

/* A tiny tag scanner ------------------------------------------------------ */

static const char *const ok_tags[] = {"html", "head", "meta", "title", "link", "body", "header",
    "div", "span", "a", "nav", "ul", "ol", "li", "form", "label", "input", "button", "main",
    "section", "article", "h1", "h2", "h3", "h4", "h5", "h6", "p", "select", "option", "footer",
    "dl", "dt", "dd", "time", "code", "strong", "em", "pre", "blockquote", "hr", "br", "img",
    "del", "sup", "sub", "small", "table", "thead", "tbody", "tr", "th", "td", NULL};
static const char *const ok_attrs[] = {"lang", "charset", "name", "content", "rel", "type", "title",
    "href", "class", "aria-label", "action", "method", "role", "for", "id", "placeholder",
    "value", "selected", "datetime", "src", "alt", "start", NULL};
static const char *const url_attrs[] = {"href", "src", "action", NULL};

static int in_list(const char *const *l, const char *s)
{
	for (; *l; l++)
		if (strcmp(*l, s) == 0)
			return 1;
	return 0;
}

/* Decodes the character references a browser would decode in an attribute. */
static void decode_attr(const char *v, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 5 < cap;) {
		if (v[i] != '&') {
			out[o++] = v[i++];
			continue;
		}
		if (i + 1 < n && v[i + 1] == '#') {
			size_t j = i + 2;
			int hex = j < n && (v[j] == 'x' || v[j] == 'X');
			if (hex)
				j++;
			unsigned long cp = 0;
			size_t d0 = j;
			while (j < n && (hex ? strchr("0123456789abcdefABCDEF", v[j]) != NULL :
						(v[j] >= '0' && v[j] <= '9'))) {
				cp = cp * (hex ? 16 : 10) +
				    (unsigned long)(v[j] <= '9' ? v[j] - '0' : (v[j] | 32) - 'a' + 10);
				if (cp > 0x10FFFF)
					cp = 0x10FFFF;
				j++;
			}
			if (j > d0) {
				if (j < n && v[j] == ';')
					j++;
				out[o++] = cp < 0x80 ? (char)cp : '?';
				i = j;
				continue;
			}
		}
		static const struct {
			const char *name;
			char ch;
		} named[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'},
		    {"&apos;", '\''}, {"&colon;", ':'}, {"&Tab;", '\t'}, {"&NewLine;", '\n'},
		    {"&nbsp;", ' '}};
		size_t k;
		for (k = 0; k < sizeof named / sizeof named[0]; k++) {
			size_t l = strlen(named[k].name);
			if (i + l <= n && strncmp(v + i, named[k].name, l) == 0) {
				out[o++] = named[k].ch;
				i += l;
				break;
			}
		}
		if (k == sizeof named / sizeof named[0])
			out[o++] = v[i++];
	}
	out[o] = '\0';
}

/* What a browser would treat as the URL's scheme must not be script or HTML. */
static void check_url(const char *tag, const char *attr, const char *raw, size_t n)
{
	char dec[4096], norm[4096];
	decode_attr(raw, n < 4000 ? n : 4000, dec, sizeof dec);
	size_t o = 0;
	const char *p = dec;
	while (*p && (unsigned char)*p <= 0x20)
		p++;
	for (; *p && o + 1 < sizeof norm; p++) {
		if (*p == '\t' || *p == '\n' || *p == '\r')
			continue;
		norm[o++] = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
	}
	norm[o] = '\0';
	if (strncmp(norm, "javascript:", 11) == 0 || strncmp(norm, "vbscript:", 9) == 0 ||
	    strncmp(norm, "livescript:", 11) == 0 || strncmp(norm, "data:text/html", 14) == 0 ||
	    (strncmp(norm, "data:", 5) == 0 && strncmp(norm, "data:image/png", 14) != 0 &&
		strncmp(norm, "data:image/gif", 14) != 0 && strncmp(norm, "data:image/jpeg", 15) != 0 &&
		strncmp(norm, "data:image/webp", 15) != 0))
		fail_msg("<%s %s=\"%.*s\"> carries a dangerous URL", tag, attr, (int)n, raw);
}

/* Walks every tag of html: each '<' must open a known tag, an end tag, a
 * comment or the doctype; every attribute must be a known, double-quoted,
 * non-handler, non-style attribute; URL attributes must be safe. Returns the
 * number of tags seen. */
static size_t scan_tags(const char *html)
{
	size_t tags = 0;
	const char *p = html;
	while ((p = strchr(p, '<')) != NULL) {
		if (strncmp(p, "<!--", 4) == 0) {
			const char *e = strstr(p + 4, "-->");
			if (e == NULL)
				fail_msg("unterminated comment");
			p = e + 3;
			continue;
		}
		if (strncasecmp(p, "<!DOCTYPE html>", 15) == 0) {
			p += 15;
			continue;
		}
		int closing = p[1] == '/';
		const char *q = p + 1 + closing;
		char name[32];
		size_t nl = 0;
		while (((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9')) &&
		    nl + 1 < sizeof name) {
			name[nl++] = (char)((*q >= 'A' && *q <= 'Z') ? *q + 32 : *q);
			q++;
		}
		name[nl] = '\0';
		if (nl == 0)
			fail_msg("raw '<' in text: %.40s", p);
		if (!in_list(ok_tags, name))
			fail_msg("unexpected tag <%s%s> near: %.60s", closing ? "/" : "", name, p);
		tags++;
		if (closing) {
			if (*q != '>')
				fail_msg("junk in end tag: %.40s", p);
			p = q + 1;
			continue;
		}
		for (;;) {
			while (*q == ' ' || *q == '\n' || *q == '\t')
				q++;
			if (*q == '>')
				break;
			if (*q == '\0')
				fail_msg("unterminated tag <%s", name);
			if (q[0] == '/' && q[1] == '>') {
				q++;
				break;
			}
			char an[32];
			size_t al = 0;
			while (*q && *q != '=' && *q != '>' && *q != ' ' && *q != '/' && *q != '\n' &&
			    al + 1 < sizeof an) {
				an[al++] = (char)((*q >= 'A' && *q <= 'Z') ? *q + 32 : *q);
				q++;
			}
			an[al] = '\0';
			if (al == 0)
				fail_msg("junk in <%s>: %.40s", name, q);
			if (strncmp(an, "on", 2) == 0)
				fail_msg("event handler %s in <%s>", an, name);
			if (strcmp(an, "style") == 0)
				fail_msg("style attribute in <%s>", name);
			if (!in_list(ok_attrs, an))
				fail_msg("unexpected attribute %s in <%s> (break-out?) near %.60s", an, name, p);
			if (*q != '=')
				continue; /* boolean attribute */
			q++;
			if (*q != '"')
				fail_msg("unquoted value of %s in <%s>", an, name);
			const char *v = ++q;
			const char *e = strchr(v, '"');
			if (e == NULL)
				fail_msg("unterminated value of %s in <%s>", an, name);
			if (memchr(v, '<', (size_t)(e - v)) != NULL)
				fail_msg("raw '<' in %s of <%s>", an, name);
			if (in_list(url_attrs, an))
				check_url(name, an, v, (size_t)(e - v));
			q = e + 1;
		}
		p = q + 1;
	}
	return tags;
}

/* The basic promises of every page. */
static void check_page(const char *html)
{
	assert_non_null(strstr(html, "<!DOCTYPE html>\n<html lang=\"vi\">"));
	assert_non_null(strstr(html, "<meta charset=\"utf-8\">"));
	assert_non_null(strstr(html, "<meta name=\"viewport\""));
	assert_non_null(strstr(html, "<link rel=\"stylesheet\" href=\"/static/style.css\">"));
	assert_non_null(strstr(html, "type=\"application/atom+xml\""));
	assert_non_null(strstr(html, "type=\"application/rss+xml\""));
	assert_non_null(strstr(html, "type=\"application/feed+json\""));
	assert_non_null(strstr(html, "Sở GDĐT Đồng Tháp"));
	assert_non_null(strstr(html, "href=\"/\">Trang chủ</a>"));
	assert_non_null(strstr(html, "<form class=\"search\" action=\"/search\" method=\"get\""));
	assert_non_null(strstr(html, "<footer"));
	assert_true(strlen(html) > 0 && html[strlen(html) - 1] == '\n');
	assert_null(strcasestr(html, "<script"));
	assert_null(strcasestr(html, "<style"));
	assert_int_equal(count(html, "<html"), 1);
	assert_int_equal(count(html, "</html>"), 1);
	assert_true(scan_tags(html) > 20);
}

/* Pages --------------------------------------------------------------------- */

static void home(void **st)
{
	edu_pages_ctx c = ctx();
	edu_item news[2] = {
	    mk("thpt-nguyen-quang-dieu", 7, EDU_KIND_NEWS, "Học sinh đạt giải Nhất học sinh giỏi",
		"Em Nguyễn Văn A đạt giải Nhất môn Toán.", "Nội dung"),
	    mk("pgd-tanhong", 3, EDU_KIND_NEWS, "Tập huấn giáo viên", "",
		"Phòng **tổ chức** tập huấn cho *giáo viên* tiểu học."),
	};
	edu_item ann = mk("so-dongthap", 12, EDU_KIND_ANNOUNCEMENT, "Thông báo tuyển sinh lớp 10",
	    "Lịch tuyển sinh năm học 2026–2027.", "");
	edu_item *const nk[] = {&news[0], &news[1]};
	edu_item *const ak[] = {&ann};
	edu_item *const *const by_kind[EDU_KIND_COUNT] = {NULL, nk, ak, NULL, NULL};
	const size_t n_by_kind[EDU_KIND_COUNT] = {0, 2, 1, 0, 0};
	edu_buf b = EDU_BUF_INIT;

	assert_int_equal(edu_pages_home(&c, by_kind, n_by_kind, "", &b), EDU_OK);
	check_page(b.p);
	const char *h2[] = {"<h2>Tin tức</h2>", "<h2>Thông báo</h2>", "<h2>Văn bản</h2>",
	    "<h2>Lịch công tác</h2>"};
	const char *prev = b.p;
	for (int i = 0; i < 4; i++) { /* the four sections, in kind order */
		const char *at = strstr(b.p, h2[i]);
		assert_non_null(at);
		assert_true(at > prev);
		prev = at;
	}
	assert_non_null(strstr(b.p, "<span class=\"role\">Sở GDĐT</span>"));
	assert_non_null(strstr(b.p, "href=\"/i/thpt-nguyen-quang-dieu:7\">Học sinh đạt giải Nhất học sinh giỏi</a>"));
	assert_non_null(strstr(b.p, "href=\"/u/thpt-nguyen-quang-dieu\">Trường THPT Nguyễn Quang Diêu</a>"));
	assert_non_null(strstr(b.p, "<time datetime=\"2026-11-30T15:04:05+07:00\">30/11/2026 15:04</time>"));
	assert_non_null(strstr(b.p, "Em Nguyễn Văn A đạt giải Nhất môn Toán."));
	/* no summary: a plain-text excerpt of the body, without markup */
	assert_non_null(strstr(b.p, "tổ chức"));
	assert_null(strstr(b.p, "**tổ chức**"));
	assert_null(strstr(b.p, "<strong>tổ chức"));
	assert_non_null(strstr(b.p, "href=\"/i/so-dongthap:12\">Thông báo tuyển sinh lớp 10</a>"));
	assert_int_equal(count(b.p, "Chưa có tin."), 2);
	/* the unit filter: every unit offered, "all" selected */
	assert_non_null(strstr(b.p, "<form class=\"filter\" action=\"/\" method=\"get\">"));
	assert_non_null(strstr(b.p, "<select id=\"unit\" name=\"unit\">"));
	assert_non_null(strstr(b.p, "<option value=\"\" selected>Tất cả đơn vị</option>"));
	assert_non_null(strstr(b.p, "<option value=\"pgd-tanhong\">Phòng GDĐT Tân Hồng</option>"));
	assert_int_equal(count(b.p, "<option"), 4);
	assert_int_equal(count(b.p, " selected"), 1);
	assert_non_null(strstr(b.p, "href=\"/feed.atom\""));
	assert_null(strstr(b.p, "?unit="));

	/* appends after existing content */
	edu_buf_reset(&b);
	edu_buf_puts(&b, "X");
	assert_int_equal(edu_pages_home(&c, by_kind, n_by_kind, NULL, &b), EDU_OK);
	assert_memory_equal(b.p, "X<!DOCTYPE html>", 16);
	edu_buf_free(&b);
}

static void home_filter(void **st)
{
	edu_pages_ctx c = ctx();
	edu_item ev = mk("pgd-tanhong", 5, EDU_KIND_EVENT, "Họp giao ban", "Họp giao ban tháng 12.", "");
	ev.starts = T_PUB;
	edu_item *const ek[] = {&ev};
	edu_item *const *const by_kind[EDU_KIND_COUNT] = {NULL, NULL, NULL, NULL, ek};
	const size_t n_by_kind[EDU_KIND_COUNT] = {0, 0, 0, 0, 1};
	edu_buf b = EDU_BUF_INIT;

	assert_int_equal(edu_pages_home(&c, by_kind, n_by_kind, "pgd-tanhong", &b), EDU_OK);
	check_page(b.p);
	assert_non_null(strstr(b.p, "<option value=\"pgd-tanhong\" selected>Phòng GDĐT Tân Hồng</option>"));
	assert_int_equal(count(b.p, " selected"), 1);
	assert_non_null(strstr(b.p, "<h1>Tin mới của Phòng GDĐT Tân Hồng</h1>"));
	assert_non_null(strstr(b.p, "href=\"/feed.atom?unit=pgd-tanhong\""));
	assert_non_null(strstr(b.p, "href=\"/feed.rss?unit=pgd-tanhong\""));
	assert_non_null(strstr(b.p, "href=\"/feed.json?unit=pgd-tanhong\""));
	assert_non_null(strstr(b.p, "<h2>Lịch công tác</h2>"));
	assert_non_null(strstr(b.p, "Họp giao ban tháng 12."));
	assert_int_equal(count(b.p, "Chưa có tin."), 3);

	/* a filter outside the offered list stays visible as the selection */
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_home(&c, by_kind, n_by_kind, "th-an-binh", &b), EDU_OK);
	assert_non_null(strstr(b.p, "<option value=\"th-an-binh\" selected>th-an-binh</option>"));
	assert_int_equal(count(b.p, " selected"), 1);

	/* no units offered at all */
	c.units = NULL;
	c.n_units = 0;
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_home(&c, by_kind, n_by_kind, "", &b), EDU_OK);
	assert_int_equal(count(b.p, "<option"), 1);
	edu_buf_free(&b);
}

static void unit(void **st)
{
	edu_pages_ctx c = ctx();
	edu_item a = mk("thpt-nguyen-quang-dieu", 9, EDU_KIND_DOCUMENT, "Kế hoạch năm học mới", "Tóm tắt A", "");
	edu_item b2 = mk("thpt-nguyen-quang-dieu", 8, EDU_KIND_NEWS, "Khai giảng năm học", "Tóm tắt B", "");
	b2.published = T_PUB - 86400;
	edu_item *const items[] = {&a, &b2};
	edu_buf b = EDU_BUF_INIT;

	assert_int_equal(edu_pages_unit_page(&c, "thpt-nguyen-quang-dieu", items, 2, "MTc5NjAyNTg0NQ==", &b),
	    EDU_OK);
	check_page(b.p);
	assert_non_null(strstr(b.p, "<h1>Trường THPT Nguyễn Quang Diêu</h1>"));
	assert_non_null(strstr(b.p, "<title>Trường THPT Nguyễn Quang Diêu – Sở GDĐT Đồng Tháp</title>"));
	const char *pa = strstr(b.p, "/i/thpt-nguyen-quang-dieu:9");
	const char *pb = strstr(b.p, "/i/thpt-nguyen-quang-dieu:8");
	assert_non_null(pa);
	assert_non_null(pb);
	assert_true(pa < pb); /* the caller's order (newest first) is kept */
	assert_non_null(strstr(b.p, "<span class=\"kind\">Văn bản</span>"));
	assert_non_null(strstr(b.p, "29/11/2026 15:04"));
	assert_non_null(strstr(b.p, "href=\"/u/thpt-nguyen-quang-dieu?before=MTc5NjAyNTg0NQ%3D%3D\">Trang sau"));
	assert_non_null(strstr(b.p, "href=\"/feed.atom?unit=thpt-nguyen-quang-dieu\""));

	/* last page: no "Trang sau"; empty unit; name from the item when not in the registry */
	edu_item d = mk("th-an-binh", 1, EDU_KIND_NEWS, "Tin trường", "", "");
	d.unit_name = "Trường Tiểu học An Bình";
	edu_item *const di[] = {&d};
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_unit_page(&c, "th-an-binh", di, 1, NULL, &b), EDU_OK);
	assert_null(strstr(b.p, "Trang sau"));
	assert_non_null(strstr(b.p, "<h1>Trường Tiểu học An Bình</h1>"));
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_unit_page(&c, "mn-hoa-sen", NULL, 0, NULL, &b), EDU_OK);
	check_page(b.p);
	assert_non_null(strstr(b.p, "<h1>mn-hoa-sen</h1>"));
	assert_non_null(strstr(b.p, "Chưa có tin."));
	edu_buf_free(&b);
}

static void item(void **st)
{
	edu_pages_ctx c = ctx();
	edu_item it = mk("thpt-nguyen-quang-dieu", 42, EDU_KIND_NEWS, "Lễ khai giảng năm học 2026–2027",
	    "Sáng 5/9, trường tổ chức lễ khai giảng.",
	    "# Chào năm học mới\n\nToàn thể **học sinh** và *giáo viên* tham dự.\n\n"
	    "- Chào cờ\n- Đánh trống khai trường\n\n[Xem ảnh](https://example.edu.vn/anh)\n");
	char *tags[] = {"khai giảng", "năm học mới"};
	edu_attachment at[2] = {{"Kế hoạch tổ chức.pdf", "application/pdf", 1258291, {0}},
	    {"anh.jpg", "image/jpeg", 512, {0}}};
	it.tags = tags;
	it.n_tags = 2;
	it.author = "Trần Thị Bích";
	it.version = 3;
	it.updated = T_PUB + 3600;
	it.attachments = at;
	it.n_attachments = 2;
	it.source_url = "https://thpt-nqd.edu.vn/tin/42";
	edu_buf b = EDU_BUF_INIT;

	assert_int_equal(edu_pages_item(&c, &it, &b), EDU_OK);
	check_page(b.p);
	assert_non_null(strstr(b.p, "<title>Lễ khai giảng năm học 2026–2027 – Sở GDĐT Đồng Tháp</title>"));
	assert_non_null(strstr(b.p, "<h1>Lễ khai giảng năm học 2026–2027</h1>"));
	assert_non_null(strstr(b.p, "<p class=\"kind\">Tin tức</p>"));
	assert_non_null(strstr(b.p, "<a href=\"/u/thpt-nguyen-quang-dieu\">Trường THPT Nguyễn Quang Diêu</a>"));
	assert_non_null(strstr(b.p, "(thpt-nguyen-quang-dieu)"));
	assert_non_null(strstr(b.p, "<dt>Tác giả</dt><dd>Trần Thị Bích</dd>"));
	assert_non_null(strstr(b.p, "<dt>Ngày đăng</dt><dd><time datetime=\"2026-11-30T15:04:05+07:00\">30/11/2026 15:04</time>"));
	assert_non_null(strstr(b.p, "<dt>Cập nhật</dt><dd><time datetime=\"2026-11-30T16:04:05+07:00\">30/11/2026 16:04</time>"));
	assert_non_null(strstr(b.p, "<dt>Phiên bản</dt><dd>3</dd>"));
	assert_non_null(strstr(b.p, "Sáng 5/9, trường tổ chức lễ khai giảng."));
	/* the body went through the Markdown renderer */
	assert_non_null(strstr(b.p, "<strong>học sinh</strong>"));
	assert_non_null(strstr(b.p, "<em>giáo viên</em>"));
	assert_non_null(strstr(b.p, "<li>Chào cờ</li>"));
	assert_non_null(strstr(b.p, "href=\"https://example.edu.vn/anh\""));
	assert_null(strstr(b.p, "**học sinh**"));
	/* attachments */
	assert_non_null(strstr(b.p, "<h2>Tệp đính kèm</h2>"));
	assert_non_null(strstr(b.p, "<a href=\"/i/thpt-nguyen-quang-dieu:42/a/0\">Kế hoạch tổ chức.pdf</a> "
				    "<span class=\"size\">1,2 MB</span> <span class=\"type\">application/pdf</span>"));
	assert_non_null(strstr(b.p, "<a href=\"/i/thpt-nguyen-quang-dieu:42/a/1\">anh.jpg</a> "
				    "<span class=\"size\">512 B</span>"));
	/* tags link to a search for them */
	assert_non_null(strstr(b.p, "<a href=\"/search?q=khai%20gi%E1%BA%A3ng\">khai giảng</a>"));
	assert_non_null(strstr(b.p, "href=\"https://thpt-nqd.edu.vn/tin/42\">Nguồn gốc</a>"));
	/* no document/event rows for a news item */
	assert_null(strstr(b.p, "Số hiệu"));
	assert_null(strstr(b.p, "Bắt đầu"));

	/* a source URL that is not http(s) is not linked */
	it.source_url = "javascript:alert(1)";
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_item(&c, &it, &b), EDU_OK);
	assert_null(strstr(b.p, "Nguồn gốc"));
	assert_null(strstr(b.p, "javascript:"));
	edu_buf_free(&b);
}

static void item_document_event(void **st)
{
	edu_pages_ctx c = ctx();
	edu_item d = mk("so-dongthap", 101, EDU_KIND_DOCUMENT, "Hướng dẫn nhiệm vụ năm học", "", "");
	d.doc_number = "1234/SGDĐT-GDTrH";
	d.doc_date = "2026-08-15";
	d.signer = "Phó Giám đốc Lê Văn C";
	edu_buf b = EDU_BUF_INIT;
	assert_int_equal(edu_pages_item(&c, &d, &b), EDU_OK);
	check_page(b.p);
	assert_non_null(strstr(b.p, "<p class=\"kind\">Văn bản</p>"));
	assert_non_null(strstr(b.p, "<dt>Số hiệu</dt><dd>1234/SGDĐT-GDTrH</dd>"));
	assert_non_null(strstr(b.p, "<dt>Ngày ban hành</dt><dd>2026-08-15</dd>"));
	assert_non_null(strstr(b.p, "<dt>Người ký</dt><dd>Phó Giám đốc Lê Văn C</dd>"));
	assert_null(strstr(b.p, "Cập nhật")); /* updated == published */
	assert_null(strstr(b.p, "Tệp đính kèm"));
	assert_null(strstr(b.p, "class=\"body\""));

	edu_item e = mk("pgd-tanhong", 2, EDU_KIND_EVENT, "Hội nghị cán bộ quản lý", "", "");
	e.starts = T_PUB;
	e.ends = T_PUB + 2 * 3600 + 30 * 60;
	e.location = "Hội trường Phòng GDĐT";
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_item(&c, &e, &b), EDU_OK);
	check_page(b.p);
	assert_non_null(strstr(b.p, "<p class=\"kind\">Lịch công tác</p>"));
	assert_non_null(strstr(b.p, "<dt>Bắt đầu</dt><dd><time datetime=\"2026-11-30T15:04:05+07:00\">30/11/2026 15:04</time>"));
	assert_non_null(strstr(b.p, "<dt>Kết thúc</dt><dd><time datetime=\"2026-11-30T17:34:05+07:00\">30/11/2026 17:34</time>"));
	assert_non_null(strstr(b.p, "<dt>Địa điểm</dt><dd>Hội trường Phòng GDĐT</dd>"));
	assert_null(strstr(b.p, "Số hiệu"));
	edu_buf_free(&b);
}

static void tombstone(void **st)
{
	edu_pages_ctx c = ctx();
	edu_item it = mk("thpt-nguyen-quang-dieu", 5, EDU_KIND_NEWS, "Tiêu đề bí mật", "Tóm tắt bí mật",
	    "Nội dung bí mật");
	edu_attachment at = {"bimat.pdf", "application/pdf", 10, {0}};
	char *tags[] = {"thẻbímật"};
	it.attachments = &at;
	it.n_attachments = 1;
	it.tags = tags;
	it.n_tags = 1;
	it.author = "Tác giả bí mật";
	it.deleted = true;
	it.version = 4;
	edu_buf b = EDU_BUF_INIT;
	assert_int_equal(edu_pages_item(&c, &it, &b), EDU_OK);
	check_page(b.p);
	assert_non_null(strstr(b.p, "<h1>Tin này đã bị gỡ</h1>"));
	assert_non_null(strstr(b.p, "thpt-nguyen-quang-dieu:5"));
	assert_null(strstr(b.p, "bí mật"));
	assert_null(strstr(b.p, "bimat"));
	assert_null(strstr(b.p, "bímật"));

	/* in a listing a tombstone shows the notice only */
	edu_item *const items[] = {&it};
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_unit_page(&c, "thpt-nguyen-quang-dieu", items, 1, NULL, &b), EDU_OK);
	check_page(b.p);
	assert_non_null(strstr(b.p, "Tin này đã bị gỡ"));
	assert_null(strstr(b.p, "bí mật"));
	edu_buf_free(&b);
}

static void search(void **st)
{
	edu_pages_ctx c = ctx();
	edu_item a = mk("pgd-tanhong", 4, EDU_KIND_ANNOUNCEMENT, "Danh sách học sinh giỏi cấp huyện",
	    "Công bố danh sách học sinh giỏi.", "");
	edu_item *const items[] = {&a};
	edu_buf b = EDU_BUF_INIT;
	assert_int_equal(edu_pages_search(&c, "hoc sinh \"gioi\"", items, 1, "abc/=", &b), EDU_OK);
	check_page(b.p);
	assert_non_null(strstr(b.p, "name=\"q\" placeholder=\"Nhập từ khoá…\" value=\"hoc sinh &quot;gioi&quot;\">"));
	assert_non_null(strstr(b.p, "<title>Tìm kiếm: hoc sinh &quot;gioi&quot; – Sở GDĐT Đồng Tháp</title>"));
	assert_non_null(strstr(b.p, "1 kết quả"));
	assert_non_null(strstr(b.p, "href=\"/i/pgd-tanhong:4\">Danh sách học sinh giỏi cấp huyện</a>"));
	assert_non_null(strstr(b.p, "<span class=\"kind\">Thông báo</span>"));
	assert_non_null(strstr(b.p, "href=\"/search?q=hoc%20sinh%20%22gioi%22&amp;before=abc%2F%3D\">Trang sau"));
	assert_null(strstr(b.p, "Không tìm thấy"));
	edu_buf_free(&b);
}

static void search_empty(void **st)
{
	edu_pages_ctx c = ctx();
	edu_buf b = EDU_BUF_INIT;
	assert_int_equal(edu_pages_search(&c, "xyzzy", NULL, 0, NULL, &b), EDU_OK);
	check_page(b.p);
	assert_non_null(strstr(b.p, "Không tìm thấy kết quả"));
	assert_non_null(strstr(b.p, "0 kết quả"));
	assert_null(strstr(b.p, "Trang sau"));
	/* no query yet: a prompt, not "no results" */
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_search(&c, "", NULL, 0, NULL, &b), EDU_OK);
	check_page(b.p);
	assert_null(strstr(b.p, "Không tìm thấy kết quả"));
	assert_non_null(strstr(b.p, "Nhập từ khoá"));
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_search(&c, NULL, NULL, 0, NULL, &b), EDU_OK);
	check_page(b.p);
	edu_buf_free(&b);
}

static void error(void **st)
{
	edu_pages_ctx c = ctx();
	edu_buf b = EDU_BUF_INIT;
	assert_int_equal(edu_pages_error(&c, 404, "Không có tin thpt-a:99", &b), EDU_OK);
	check_page(b.p);
	assert_non_null(strstr(b.p, "<title>404 Không tìm thấy trang – Sở GDĐT Đồng Tháp</title>"));
	assert_non_null(strstr(b.p, "Lỗi 404"));
	assert_non_null(strstr(b.p, "<h1>Không tìm thấy trang</h1>"));
	assert_non_null(strstr(b.p, "Không có tin thpt-a:99"));
	assert_non_null(strstr(b.p, "Về trang chủ"));
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_error(&c, 400, NULL, &b), EDU_OK);
	assert_non_null(strstr(b.p, "<h1>Yêu cầu không hợp lệ</h1>"));
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_error(&c, 500, "<b>x</b>", &b), EDU_OK);
	assert_non_null(strstr(b.p, "<h1>Lỗi máy chủ</h1>"));
	assert_non_null(strstr(b.p, "&lt;b&gt;x&lt;/b&gt;"));
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_error(&c, 12345, "", &b), EDU_OK); /* nonsense status → 500 */
	assert_non_null(strstr(b.p, "Lỗi 500"));

	/* a school node's header; node name missing → id */
	edu_pages_ctx s = {"th-an-binh", NULL, "school", NULL, NULL, NULL, 0, NULL, 0};
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_error(&s, 413, "Quá lớn", &b), EDU_OK);
	assert_non_null(strstr(b.p, "<span class=\"role\">Trường</span>"));
	assert_non_null(strstr(b.p, "class=\"node\" href=\"/\">th-an-binh</a>"));
	assert_non_null(strstr(b.p, "<h1>Yêu cầu quá lớn</h1>"));
	s.role = "phong";
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_error(&s, 404, "", &b), EDU_OK);
	assert_non_null(strstr(b.p, "<span class=\"role\">Phòng GDĐT</span>"));
	edu_buf_free(&b);
}

static void css(void **st)
{
	size_t len = 0;
	const char *s = edu_pages_css(&len);
	assert_non_null(s);
	assert_int_equal(len, strlen(s));
	assert_true(len > 500 && len < 16384);
	assert_non_null(strstr(s, "font-family:system-ui"));
	assert_non_null(strstr(s, "@media"));
	assert_null(strstr(s, "expression("));
	assert_null(strstr(s, "url("));
	assert_null(strstr(s, "@import"));
	/* braces balance */
	int depth = 0;
	for (const char *p = s; *p; p++) {
		depth += *p == '{';
		depth -= *p == '}';
		assert_true(depth >= 0);
	}
	assert_int_equal(depth, 0);
	assert_ptr_equal(edu_pages_css(NULL), s);
}

static void formats(void **st)
{
	edu_pages_ctx c = ctx();
	static const struct {
		uint64_t size;
		const char *text;
	} sizes[] = {{0, ">0 B<"}, {1023, ">1023 B<"}, {1024, ">1,0 KB<"}, {1536, ">1,5 KB<"},
	    {1258291, ">1,2 MB<"}, {10u * 1024 * 1024, ">10,0 MB<"}, {150u * 1024 * 1024, ">150 MB<"},
	    {1048575, ">1,0 MB<"}, {(uint64_t)5 << 40, ">5,0 TB<"}, {UINT64_MAX, "TB<"}};
	edu_attachment at[sizeof sizes / sizeof sizes[0]];
	memset(at, 0, sizeof at);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		at[i].name = "f";
		at[i].media_type = "";
		at[i].size = sizes[i].size;
	}
	edu_item it = mk("so-dongthap", 1, EDU_KIND_NEWS, "Tệp", "", "");
	it.attachments = at;
	it.n_attachments = sizeof sizes / sizeof sizes[0];
	/* dates: other offsets, before 1970, and out of any calendar */
	it.published = 0;
	it.tz_offset_min = -90;
	it.updated = INT64_MAX;
	edu_buf b = EDU_BUF_INIT;
	assert_int_equal(edu_pages_item(&c, &it, &b), EDU_OK);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		if (strstr(b.p, sizes[i].text) == NULL)
			fail_msg("size %llu: %s not found", (unsigned long long)sizes[i].size, sizes[i].text);
	assert_non_null(strstr(b.p, "<time datetime=\"1969-12-31T22:30:00-01:30\">31/12/1969 22:30</time>"));
	assert_non_null(strstr(b.p, "<dt>Cập nhật</dt><dd>—</dd>"));
	assert_null(strstr(b.p, "type\""));

	it.tz_offset_min = 0;
	it.published = 951782400; /* 2000-02-29 */
	it.updated = -86400LL * 365 * 3000; /* before year 1 */
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_item(&c, &it, &b), EDU_OK);
	assert_non_null(strstr(b.p, "<time datetime=\"2000-02-29T00:00:00Z\">29/02/2000 00:00</time>"));
	assert_non_null(strstr(b.p, "<dt>Cập nhật</dt><dd>—</dd>"));
	it.tz_offset_min = 100000; /* nonsense offset → UTC */
	it.published = INT64_MIN;
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_item(&c, &it, &b), EDU_OK);
	assert_non_null(strstr(b.p, "<dt>Ngày đăng</dt><dd>—</dd>"));
	edu_buf_free(&b);
}

static void url_encoding(void **st)
{
	/* unit ids are validated elsewhere, but URLs built here never trust that */
	edu_pages_ctx c = ctx();
	edu_item it = mk("a b\"<'&é", 3, EDU_KIND_NEWS, "T", "", "");
	edu_item *const items[] = {&it};
	edu_buf b = EDU_BUF_INIT;
	assert_int_equal(edu_pages_unit_page(&c, "a b\"<'&é", items, 1, "x y&z", &b), EDU_OK);
	assert_non_null(strstr(b.p, "href=\"/i/a%20b%22%3C%27%26%C3%A9:3\""));
	assert_non_null(strstr(b.p, "href=\"/u/a%20b%22%3C%27%26%C3%A9\""));
	assert_non_null(strstr(b.p, "href=\"/u/a%20b%22%3C%27%26%C3%A9?before=x%20y%26z\""));
	assert_non_null(strstr(b.p, "href=\"/feed.atom?unit=a%20b%22%3C%27%26%C3%A9\""));
	assert_non_null(strstr(b.p, "<h1>a b&quot;&lt;&#39;&amp;é</h1>"));
	scan_tags(b.p);
	edu_buf_free(&b);
}

static void bad_args(void **st)
{
	edu_pages_ctx c = ctx();
	edu_buf b = EDU_BUF_INIT;
	edu_item it = mk("so-dongthap", 1, EDU_KIND_NEWS, "T", "", "");
	const size_t n_by_kind[EDU_KIND_COUNT] = {0, 1, 0, 0, 0};
	edu_item *const *const none[EDU_KIND_COUNT] = {NULL, NULL, NULL, NULL, NULL};
	edu_buf_puts(&b, "keep");
	assert_int_equal(edu_pages_home(NULL, none, n_by_kind, "", &b), EDU_EINVAL);
	assert_int_equal(edu_pages_home(&c, none, n_by_kind, "", &b), EDU_EINVAL);
	assert_int_equal(edu_pages_home(&c, NULL, n_by_kind, "", &b), EDU_EINVAL);
	assert_int_equal(edu_pages_home(&c, none, n_by_kind, "", NULL), EDU_EINVAL);
	assert_int_equal(edu_pages_unit_page(&c, NULL, NULL, 0, NULL, &b), EDU_EINVAL);
	assert_int_equal(edu_pages_unit_page(&c, "x", NULL, 2, NULL, &b), EDU_EINVAL);
	assert_int_equal(edu_pages_item(&c, NULL, &b), EDU_EINVAL);
	assert_int_equal(edu_pages_item(NULL, &it, &b), EDU_EINVAL);
	assert_int_equal(edu_pages_search(&c, "q", NULL, 1, NULL, &b), EDU_EINVAL);
	assert_int_equal(edu_pages_error(&c, 404, "", NULL), EDU_EINVAL);
	edu_pages_ctx broken = c;
	broken.units = NULL; /* n_units 3 */
	assert_int_equal(edu_pages_home(&broken, none, NULL, "", &b), EDU_EINVAL);
	assert_string_equal(b.p, "keep");
	assert_int_equal(b.len, 4);
	/* NULL counts mean empty sections; NULL items inside a list are skipped */
	assert_int_equal(edu_pages_home(&c, NULL, NULL, "", &b), EDU_OK);
	assert_int_equal(count(b.p, "Chưa có tin."), 4);
	edu_item *const holes[] = {NULL, &it, NULL};
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_unit_page(&c, "so-dongthap", holes, 3, NULL, &b), EDU_OK);
	assert_int_equal(count(b.p, "<li class=\"entry\">"), 1);
	edu_buf_free(&b);
}

/* XSS battery ---------------------------------------------------------------- */

static const char *const payloads[] = {
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//xss.example/x.js></SCRIPT>",
    "\"><script>alert(1)</script>",
    "'><script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script href=data:,alert(1) />",
    "' onmouseover='alert(1)",
    "\" onmouseover=\"alert(1)",
    "\" onfocus=alert(1) autofocus x=\"",
    "` onmouseover=alert(1) `",
    "</title><script>alert(1)</script>",
    "</textarea><script>alert(1)</script>",
    "</option></select><img src=x onerror=alert(1)>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "x\" style=\"width:expression(alert(1))",
    "<div style=\"width: expression(alert(1))\">x</div>",
    "javascript:alert(1)",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\" &#14;  javascript:alert(1)\">x</a>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<object data=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\"></object>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"javascript:alert(1)//\">",
    "<link rel=stylesheet href=javascript:alert(1)>",
    "<form action=javascript:alert(1)><button>x</button></form>",
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<!--<script>alert(1)//-->",
    "]]><script>alert(1)</script>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "+ADw-script+AD4-alert(1)+ADw-/script+AD4-",
    "<img src=\"x",
    "<a href='javascript&colon;alert(1)'>x</a>",
    "\xef\xbc\x9cscript\xef\xbc\x9e alert(1)",
};

/* Markdown bodies that try to smuggle script through links and images. */
static const char *const md_payloads[] = {
    "[a](javascript:alert(1))",
    "[a](JaVaScRiPt:alert(1))",
    "[a](javascript&#58;alert(1))",
    "[a](&#106;avascript:alert(1))",
    "[a](&#x6A;avascript:alert(1))",
    "[a](&#X6a;&#x61;&#x76;&#x61;script:alert(1))",
    "[a](javascript&colon;alert(1))",
    "[a](<javascript:alert(1)>)",
    "[a](<java\tscript:alert(1)>)",
    "[a](jav&#x0A;ascript:alert(1))",
    "[a](&#x09;javascript:alert(1))",
    "[a](%6Aavascript:alert(1))",
    "[a](vbscript:msgbox(1))",
    "[a](VBScript:msgbox(1))",
    "[a](livescript:alert(1))",
    "[a](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[a](DATA:text/html,<script>alert(1)</script>)",
    "![x](javascript:alert(1))",
    "![x](data:text/html,<script>alert(1)</script>)",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "[a][r]\n\n[r]: javascript:alert(1)",
    "[a][r]\n\n[r]: <data:text/html,x> \"t\"",
    "[a](javascript:alert(1) \"\\\" onmouseover=\\\"alert(1)\")",
    "[a](https://ok.example/\" onmouseover=\"alert(1))",
    "![x\" onerror=\"alert(1)](https://ok.example/a.png)",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<svg onload=alert(1)>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "```html\n<script>alert(1)</script>\n```",
    "`<script>alert(1)</script>`",
    "*<img src=x onerror=alert(1)>*",
    "> <script>alert(1)</script>",
};

static const char *payload_name(const char *unit, void *arg)
{
	(void)unit;
	return (const char *)arg;
}

static void check_hostile(const char *html, const char *what, const char *payload)
{
	scan_tags(html); /* first: it names what broke out */
	if (strcasestr(html, "<script") != NULL || strcasestr(html, "<style") != NULL ||
	    strcasestr(html, "<iframe") != NULL || strcasestr(html, "<svg") != NULL)
		fail_msg("%s: raw tag from payload %s", what, payload);
}

static void xss(void **st)
{
	size_t np = sizeof payloads / sizeof payloads[0];
	size_t nm = sizeof md_payloads / sizeof md_payloads[0];
	assert_true(np + nm >= 60);
	edu_buf b = EDU_BUF_INIT;
	for (size_t i = 0; i < np + nm; i++) {
		const char *p = i < np ? payloads[i] : md_payloads[i - np];
		const char *body = i < np ? p : md_payloads[i - np];
		edu_pages_unit us[] = {{"so-dongthap", p}, {p, p}};
		edu_pages_ctx c = {"so-dongthap", p, "so", payload_name, (void *)p, us, 2, NULL, 0};
		char *tags[] = {(char *)p, "an toàn"};
		edu_attachment at[] = {{(char *)p, (char *)p, 2048, {0}}};
		edu_item full = mk(p, 1, EDU_KIND_DOCUMENT, p, p, body);
		full.tags = tags;
		full.n_tags = 2;
		full.author = (char *)p;
		full.doc_number = full.doc_date = full.signer = full.location = (char *)p;
		full.unit_name = full.source_url = (char *)p;
		full.attachments = at;
		full.n_attachments = 1;
		full.starts = T_PUB;
		edu_item nosum = full;
		nosum.summary = ""; /* listing shows a plain excerpt of the hostile body */
		nosum.kind = EDU_KIND_NEWS;
		edu_item *const list[] = {&full, &nosum};
		edu_item *const *const by_kind[EDU_KIND_COUNT] = {NULL, list, list, list, list};
		const size_t n_by_kind[EDU_KIND_COUNT] = {0, 2, 2, 2, 2};

		edu_buf_reset(&b);
		assert_int_equal(edu_pages_home(&c, by_kind, n_by_kind, p, &b), EDU_OK);
		check_hostile(b.p, "home", p);
		edu_buf_reset(&b);
		assert_int_equal(edu_pages_unit_page(&c, p, list, 2, p, &b), EDU_OK);
		check_hostile(b.p, "unit", p);
		edu_buf_reset(&b);
		assert_int_equal(edu_pages_item(&c, &full, &b), EDU_OK);
		check_hostile(b.p, "item", p);
		edu_buf_reset(&b);
		assert_int_equal(edu_pages_search(&c, p, list, 2, p, &b), EDU_OK);
		check_hostile(b.p, "search", p);
		edu_buf_reset(&b);
		assert_int_equal(edu_pages_error(&c, 404, p, &b), EDU_OK);
		check_hostile(b.p, "error", p);
	}
	/* the plain payloads survive as visible, escaped text */
	edu_pages_ctx c = ctx();
	edu_item it = mk("so-dongthap", 1, EDU_KIND_NEWS, "<script>alert(1)</script>",
	    "\"><img src=x onerror=alert(1)>", "");
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_item(&c, &it, &b), EDU_OK);
	assert_non_null(strstr(b.p, "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>"));
	assert_non_null(strstr(b.p, "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_search(&c, "' onmouseover='alert(1)", NULL, 0, NULL, &b), EDU_OK);
	assert_non_null(strstr(b.p, "value=\"&#39; onmouseover=&#39;alert(1)\""));
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_search(&c, "&lt;script&gt;", NULL, 0, NULL, &b), EDU_OK);
	assert_non_null(strstr(b.p, "value=\"&amp;lt;script&amp;gt;\""));
	edu_buf_free(&b);
}

/* Directives ("Văn bản chỉ đạo") ------------------------------------------------ */

static const char *const dir_types[] = {"thcs", "th"};
static const char *const dir_units[] = {"pgd-tanhong"};
static const edu_pages_dir_file dir_files[] = {
    {"Công văn 125.pdf", "application/pdf", 204800},
    {"phụ lục.docx", NULL, 512},
};

static edu_pages_dir mk_dir(const char *id, const char *title)
{
	edu_pages_dir d = {
	    .id = id, .issuer = "so-dongthap", .issuer_name = "Sở GDĐT Đồng Tháp", .title = title,
	    .doc_number = "125/SGDĐT-VP", .doc_date = "2026-11-28", .signer = "Nguyễn Văn A",
	    .published = T_PUB, .deadline = T_PUB + 7 * 86400, .report_requested = true,
	    .aud_types = dir_types, .n_aud_types = 2, .aud_units = dir_units, .n_aud_units = 1,
	    .n_targets = 42, .body = "Đề nghị các đơn vị **báo cáo** trước hạn.\n\n- một\n- hai\n",
	    .files = dir_files, .n_files = 2, .tz_offset_min = 420,
	};
	return d;
}

static void parse_page(const char *what, const edu_buf *b);

static void directives(void **st)
{
	edu_pages_ctx c = ctx();
	edu_buf b = EDU_BUF_INIT;
	edu_pages_dir ds[] = {mk_dir("so-dongthap:d2", "Về việc tổ chức Hội khỏe Phù Đổng"),
	    mk_dir("so-dongthap:d1", "Kế hoạch thi học kỳ I")};
	ds[1].deadline = 0;
	ds[1].doc_date = NULL;

	/* home: the section appears only with directives, newest first, linked */
	edu_item *const *const by_kind[EDU_KIND_COUNT] = {NULL};
	const size_t n_by_kind[EDU_KIND_COUNT] = {0};
	assert_int_equal(edu_pages_home(&c, by_kind, n_by_kind, "", &b), EDU_OK);
	assert_null(strstr(b.p, "Văn bản chỉ đạo"));
	c.dirs = ds;
	c.n_dirs = 2;
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_home(&c, by_kind, n_by_kind, "", &b), EDU_OK);
	check_page(b.p);
	parse_page("home+directives", &b);
	const char *sec = strstr(b.p, "<h2><a href=\"/d\">Văn bản chỉ đạo</a></h2>");
	assert_non_null(sec);
	const char *d2 = strstr(sec, "href=\"/d/so-dongthap:d2\">Về việc tổ chức Hội khỏe Phù Đổng</a>");
	const char *d1 = strstr(sec, "href=\"/d/so-dongthap:d1\">Kế hoạch thi học kỳ I</a>");
	assert_non_null(d2);
	assert_non_null(d1);
	assert_true(d2 < d1);
	assert_non_null(strstr(sec, "<span class=\"issuer\">Sở GDĐT Đồng Tháp</span> · Số 125/SGDĐT-VP · Ngày 2026-11-28"
	                            " · <span class=\"deadline\">Hạn: <time datetime=\"2026-12-07T15:04:05+07:00\">"));
	/* no doc_date: the sending time; no deadline: none shown */
	assert_non_null(strstr(d1, "Số 125/SGDĐT-VP · <time datetime=\"2026-11-30T15:04:05+07:00\">"));
	assert_int_equal(count(sec, "class=\"deadline\""), 1);

	/* /d */
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_directives(&c, ds, 2, &b), EDU_OK);
	check_page(b.p);
	parse_page("directives", &b);
	assert_non_null(strstr(b.p, "<h1>Văn bản chỉ đạo</h1>"));
	assert_int_equal(count(b.p, "<li class=\"entry directive\">"), 2);
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_directives(&c, NULL, 0, &b), EDU_OK);
	assert_non_null(strstr(b.p, "Chưa có văn bản chỉ đạo."));

	/* /d/{id} */
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_directive(&c, &ds[0], &b), EDU_OK);
	check_page(b.p);
	parse_page("directive", &b);
	assert_non_null(strstr(b.p, "<h1>Về việc tổ chức Hội khỏe Phù Đổng</h1>"));
	assert_non_null(strstr(b.p, "<dt>Cơ quan ban hành</dt><dd>Sở GDĐT Đồng Tháp <span class=\"unit-id\">(so-dongthap)</span></dd>"));
	assert_non_null(strstr(b.p, "<dt>Số hiệu</dt><dd>125/SGDĐT-VP</dd>"));
	assert_non_null(strstr(b.p, "<dt>Ngày ban hành</dt><dd>2026-11-28</dd>"));
	assert_non_null(strstr(b.p, "<dt>Người ký</dt><dd>Nguyễn Văn A</dd>"));
	assert_non_null(strstr(b.p, "<dt>Nơi nhận</dt><dd>Loại đơn vị: thcs, th; Đơn vị: pgd-tanhong (42 đơn vị nhận)</dd>"));
	assert_non_null(strstr(b.p, "<dt>Hạn</dt><dd><time datetime=\"2026-12-07T15:04:05+07:00\">07/12/2026 15:04</time></dd>"));
	assert_non_null(strstr(b.p, "<dt>Báo cáo</dt><dd>Yêu cầu báo cáo</dd>"));
	assert_non_null(strstr(b.p, "<strong>báo cáo</strong>"));
	assert_non_null(strstr(b.p, "<li>một</li>"));
	assert_non_null(strstr(b.p, "<a href=\"/d/so-dongthap:d2/a/0\">Công văn 125.pdf</a> <span class=\"size\">200 KB</span>"
	                            " <span class=\"type\">application/pdf</span>"));
	assert_non_null(strstr(b.p, "<a href=\"/d/so-dongthap:d2/a/1\">phụ lục.docx</a>"));
	assert_non_null(strstr(b.p, "· đã nhận"));
	/* everything optional absent */
	edu_pages_dir bare = {.id = "pgd-tanhong:d9"};
	bare.sent = true;
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_directive(&c, &bare, &b), EDU_OK);
	parse_page("bare directive", &b);
	assert_non_null(strstr(b.p, "<dt>Nơi nhận</dt><dd>Tất cả đơn vị trực thuộc</dd>"));
	assert_non_null(strstr(b.p, "Không yêu cầu báo cáo"));
	assert_non_null(strstr(b.p, "· đã gửi"));
	assert_null(strstr(b.p, "<dt>Hạn</dt>"));
	assert_null(strstr(b.p, "class=\"attachments\""));
	/* bad arguments */
	assert_int_equal(edu_pages_directive(&c, NULL, &b), EDU_EINVAL);
	bare.id = NULL;
	assert_int_equal(edu_pages_directive(&c, &bare, &b), EDU_EINVAL);
	bare.id = "x:d1";
	bare.n_files = 1;
	assert_int_equal(edu_pages_directive(&c, &bare, &b), EDU_EINVAL);
	assert_int_equal(edu_pages_directives(&c, NULL, 1, &b), EDU_EINVAL);
	edu_buf_free(&b);
}

/* Every directive string escaped, the body only through the safe renderer. */
static void directive_xss(void **st)
{
	size_t np = sizeof payloads / sizeof payloads[0];
	size_t nm = sizeof md_payloads / sizeof md_payloads[0];
	edu_buf b = EDU_BUF_INIT;
	for (size_t i = 0; i < np + nm; i++) {
		const char *p = i < np ? payloads[i] : md_payloads[i - np];
		const char *const strs[] = {p, p};
		edu_pages_dir_file f[] = {{p, p, 10}};
		edu_pages_dir d = {
		    .id = p, .issuer = p, .issuer_name = p, .title = p, .doc_number = p, .doc_date = p,
		    .signer = p, .published = T_PUB, .deadline = T_PUB, .aud_types = strs, .n_aud_types = 2,
		    .aud_units = strs, .n_aud_units = 2, .n_targets = 3, .body = p, .files = f, .n_files = 1,
		    .tz_offset_min = 420,
		};
		edu_pages_dir nameless = d;
		nameless.issuer_name = NULL;
		edu_pages_dir both[] = {d, nameless};
		edu_pages_ctx c = ctx();
		c.dirs = both;
		c.n_dirs = 2;
		edu_item *const *const by_kind[EDU_KIND_COUNT] = {NULL};
		const size_t n_by_kind[EDU_KIND_COUNT] = {0};

		edu_buf_reset(&b);
		assert_int_equal(edu_pages_home(&c, by_kind, n_by_kind, "", &b), EDU_OK);
		check_hostile(b.p, "home directives", p);
		parse_page("home directives", &b);
		edu_buf_reset(&b);
		assert_int_equal(edu_pages_directives(&c, both, 2, &b), EDU_OK);
		check_hostile(b.p, "directives", p);
		parse_page("directives", &b);
		edu_buf_reset(&b);
		assert_int_equal(edu_pages_directive(&c, &d, &b), EDU_OK);
		check_hostile(b.p, "directive", p);
		parse_page("directive", &b);
		edu_buf_reset(&b);
		assert_int_equal(edu_pages_directive(&c, &nameless, &b), EDU_OK);
		check_hostile(b.p, "directive", p);
	}
	/* the text survives escaped; the body is Markdown, never raw HTML */
	edu_pages_ctx c = ctx();
	edu_pages_dir d = mk_dir("so-dongthap:d3", "<script>alert(1)</script>");
	d.signer = "\"><img src=x onerror=alert(1)>";
	d.body = "<b onclick=alert(1)>x</b> [a](javascript:alert(1))";
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_directive(&c, &d, &b), EDU_OK);
	assert_non_null(strstr(b.p, "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>"));
	assert_non_null(strstr(b.p, "<dd>&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</dd>"));
	assert_null(strstr(b.p, "onclick"));
	assert_null(strstr(b.p, "javascript:"));
	/* an id with hostile characters is percent-encoded in links */
	d.id = "a\"b<c>:d1";
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_directive(&c, &d, &b), EDU_OK);
	assert_non_null(strstr(b.p, "href=\"/d/a%22b%3Cc%3E:d1/a/0\""));
	edu_buf_free(&b);
}

/* libxml2 ------------------------------------------------------------------- */

typedef struct xml_errs {
	int bad;
	char first[256];
} xml_errs;

static void on_xml_error(void *arg, xmlErrorPtr e)
{
	xml_errs *x = arg;
	/* HTML5 elements (header, nav, main, time, ...) are unknown to libxml2's
	 * HTML 4 parser; every other complaint is a real structure error. */
	if (e->code == XML_HTML_UNKNOWN_TAG)
		return;
	if (x->bad++ == 0)
		snprintf(x->first, sizeof x->first, "line %d code %d: %s", e->line, e->code,
		    e->message != NULL ? e->message : "?");
}

static double xpath_num(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr xc = xmlXPathNewContext(doc);
	assert_non_null(xc);
	xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)expr, xc);
	assert_non_null(o);
	double v = xmlXPathCastToNumber(o);
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(xc);
	return v;
}

static void parse_page(const char *what, const edu_buf *b)
{
	xml_errs x = {0, ""};
	xmlSetStructuredErrorFunc(&x, on_xml_error);
	htmlDocPtr doc = htmlReadMemory(b->p, (int)b->len, "page.html", "UTF-8", HTML_PARSE_NONET);
	xmlSetStructuredErrorFunc(NULL, NULL);
	if (doc == NULL)
		fail_msg("%s: not parsed", what);
	if (x.bad)
		fail_msg("%s: %d parse errors, first %s", what, x.bad, x.first);
	assert_int_equal((int)xpath_num(doc, "count(/html[@lang='vi'])"), 1);
	assert_int_equal((int)xpath_num(doc, "count(/html/head/title)"), 1);
	assert_int_equal((int)xpath_num(doc, "count(/html/head/link[@rel='stylesheet'][@href='/static/style.css'])"), 1);
	assert_int_equal((int)xpath_num(doc, "count(/html/head/link[@rel='alternate'])"), 3);
	assert_int_equal((int)xpath_num(doc, "count(/html/body/header//form[@action='/search']//input[@name='q'])"), 1);
	assert_int_equal((int)xpath_num(doc, "count(/html/body/main)"), 1);
	assert_int_equal((int)xpath_num(doc, "count(/html/body/footer)"), 1);
	assert_int_equal((int)xpath_num(doc, "count(//script|//style|//iframe|//@style)"), 0);
	assert_int_equal((int)xpath_num(doc, "count(//@*[starts-with(name(), 'on')])"), 0);
	assert_int_equal((int)xpath_num(doc,
			     "count(//@href[starts-with(translate(normalize-space(.), 'JAVSCRIPT', 'javscript'), 'javascript:')])"),
	    0);
	xmlFreeDoc(doc);
}

static void well_formed(void **st)
{
	edu_pages_ctx c = ctx();
	edu_item n = mk("thpt-nguyen-quang-dieu", 7, EDU_KIND_NEWS, "Học sinh <giỏi> & \"chăm\"",
	    "Tóm tắt", "# Tiêu đề\n\nĐoạn **một**.\n\n> trích dẫn\n\n1. a\n2. b\n\n```\ncode <x>\n```\n\n"
		       "<div>raw html</div>\n\n---\n\n![ảnh](https://e.vn/a.png \"t\")\n\nline  \nbreak\n");
	edu_item d = mk("so-dongthap", 3, EDU_KIND_DOCUMENT, "Văn bản", "", "Nội dung *văn bản*.");
	d.doc_number = "12/SGDĐT";
	edu_item e = mk("pgd-tanhong", 4, EDU_KIND_EVENT, "Lịch", "Họp", "");
	e.starts = T_PUB;
	e.location = "Hội trường";
	char *tags[] = {"thẻ"};
	edu_attachment at = {"a.pdf", "application/pdf", 99999, {0}};
	n.tags = tags;
	n.n_tags = 1;
	n.attachments = &at;
	n.n_attachments = 1;
	n.author = "Tác giả";
	edu_item gone = n;
	gone.deleted = true;
	edu_item *const nk[] = {&n, &gone};
	edu_item *const dk[] = {&d};
	edu_item *const ek[] = {&e};
	edu_item *const *const by_kind[EDU_KIND_COUNT] = {NULL, nk, NULL, dk, ek};
	const size_t n_by_kind[EDU_KIND_COUNT] = {0, 2, 0, 1, 1};
	edu_buf b = EDU_BUF_INIT;

	assert_int_equal(edu_pages_home(&c, by_kind, n_by_kind, "pgd-tanhong", &b), EDU_OK);
	parse_page("home", &b);
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_unit_page(&c, "thpt-nguyen-quang-dieu", nk, 2, "cur", &b), EDU_OK);
	parse_page("unit", &b);
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_item(&c, &n, &b), EDU_OK);
	parse_page("item", &b);
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_item(&c, &d, &b), EDU_OK);
	parse_page("document", &b);
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_item(&c, &e, &b), EDU_OK);
	parse_page("event", &b);
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_item(&c, &gone, &b), EDU_OK);
	parse_page("tombstone", &b);
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_search(&c, "học sinh", nk, 2, "cur", &b), EDU_OK);
	parse_page("search", &b);
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_search(&c, "không có", NULL, 0, NULL, &b), EDU_OK);
	parse_page("search-empty", &b);
	edu_buf_reset(&b);
	assert_int_equal(edu_pages_error(&c, 404, "Không tìm thấy", &b), EDU_OK);
	parse_page("error", &b);
	/* hostile content still gives a well-formed document */
	for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
		edu_item h = mk("so-dongthap", 1, EDU_KIND_NEWS, payloads[i], payloads[i], payloads[i]);
		h.author = (char *)payloads[i];
		edu_buf_reset(&b);
		assert_int_equal(edu_pages_item(&c, &h, &b), EDU_OK);
		parse_page(payloads[i], &b);
	}
	edu_buf_free(&b);
}

/* Speed: a home page of 4 × 10 items renders in well under a millisecond. */
static void speed(void **st)
{
	edu_pages_ctx c = ctx();
	edu_item items[4][10];
	edu_item *ptrs[4][10];
	char titles[4][10][96];
	for (int k = 0; k < 4; k++)
		for (int i = 0; i < 10; i++) {
			snprintf(titles[k][i], sizeof titles[k][i],
			    "Tin số %d: Học sinh trường THPT Nguyễn Quang Diêu đạt giải \"Nhất\"", i);
			items[k][i] = mk("thpt-nguyen-quang-dieu", (uint64_t)(k * 10 + i + 1),
			    (edu_kind)(k + 1), titles[k][i],
			    "Sáng nay, Sở GDĐT Đồng Tháp tổ chức lễ tổng kết & trao giải cho học sinh "
			    "đạt thành tích cao trong kỳ thi học sinh giỏi cấp tỉnh năm học 2026–2027.",
			    "");
			ptrs[k][i] = &items[k][i];
		}
	edu_item *const *const by_kind[EDU_KIND_COUNT] = {NULL, ptrs[0], ptrs[1], ptrs[2], ptrs[3]};
	const size_t n_by_kind[EDU_KIND_COUNT] = {0, 10, 10, 10, 10};
	edu_buf b = EDU_BUF_INIT;
	double best = 1e9;
	for (int r = 0; r < 200; r++) {
		struct timespec t0, t1;
		edu_buf_reset(&b);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(edu_pages_home(&c, by_kind, n_by_kind, "", &b), EDU_OK);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double us = (double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
		if (us < best)
			best = us;
	}
	assert_int_equal(count(b.p, "<li class=\"entry\">"), 40);
	print_message("home 4x10: best %.1f us, %zu bytes\n", best, b.len);
	assert_true(best < 1000.0);
	edu_buf_free(&b);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(home),
	    cmocka_unit_test(home_filter),
	    cmocka_unit_test(unit),
	    cmocka_unit_test(item),
	    cmocka_unit_test(item_document_event),
	    cmocka_unit_test(tombstone),
	    cmocka_unit_test(search),
	    cmocka_unit_test(search_empty),
	    cmocka_unit_test(error),
	    cmocka_unit_test(css),
	    cmocka_unit_test(formats),
	    cmocka_unit_test(url_encoding),
	    cmocka_unit_test(bad_args),
	    cmocka_unit_test(xss),
	    cmocka_unit_test(directives),
	    cmocka_unit_test(directive_xss),
	    cmocka_unit_test(well_formed),
	    cmocka_unit_test(speed),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
