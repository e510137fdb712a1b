/* The Vietnamese HTML portal pages (SPEC §5).
 *
 * Every page is appended to the caller's edu_buf through a small writer whose
 * error is sticky: the first failed append stops all later writes, and the
 * public functions then cut the buffer back to where the page began, so a
 * caller never serves half a page. Strings from items, the context and the
 * request are always HTML-escaped; URLs built from ids and cursors are
 * percent-encoded to a safe ASCII set (which needs no HTML escaping); bodies
 * only reach the page through edu_render_markdown (safe mode). */
#include "pages.h"

#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "render/render.h"

#define SUMMARY_EXCERPT_CHARS 240 /* plain-text excerpt of a body when an item has no summary */
#define DATE_MIN_S (-62135596800LL) /* 0001-01-01T00:00:00Z */
#define DATE_MAX_S 253402300799LL   /* 9999-12-31T23:59:59Z */
#define TZ_MAX_MIN (18 * 60)        /* RFC 3339 offsets stay within ±18:00 in practice */

typedef struct writer {
	edu_buf *b;
	edu_err rv;
} writer;

static void put(writer *w, const char *s, size_t n)
{
	if (w->rv == EDU_OK)
		w->rv = edu_buf_append(w->b, s, n);
}

/* Literal strings: their length is known at compile time. */
#define LIT(w, s) put((w), "" s, sizeof(s) - 1)

static void puts_raw(writer *w, const char *s)
{
	if (s != NULL)
		put(w, s, strlen(s));
}

static void esc(writer *w, const char *s)
{
	if (s != NULL && w->rv == EDU_OK)
		w->rv = edu_buf_escape_html(w->b, s, strlen(s));
}

static void put_u64(writer *w, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof tmp;
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put(w, tmp + i, sizeof tmp - i);
}

/* Percent-encodes s so the result is plain ASCII from [A-Za-z0-9-._~%] (plus
 * ':' when keep_colon): safe inside a quoted HTML attribute and in a URL path
 * segment or query value. */
static void url_enc(writer *w, const char *s, int keep_colon)
{
	static const char hex[] = "0123456789ABCDEF";
	if (s == NULL || w->rv != EDU_OK)
		return;
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *run = p;
	for (; *p; p++) {
		unsigned char ch = *p;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '.' || ch == '_' || ch == '~' || (keep_colon && ch == ':'))
			continue;
		put(w, (const char *)run, (size_t)(p - run));
		char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
		put(w, e, 3);
		run = p + 1;
	}
	put(w, (const char *)run, (size_t)(p - run));
}

static const char *nz(const char *s) { return s != NULL ? s : ""; }

/* Dates ------------------------------------------------------------------- */

typedef struct civil {
	int64_t y;
	unsigned mo, d, h, mi, s;
} civil;

/* Unix seconds at an offset → calendar fields (proleptic Gregorian), without
 * gmtime so that any int64 input is safe. Returns 0 when out of range. */
static int to_civil(int64_t t, int tz_min, civil *c)
{
	if (tz_min < -TZ_MAX_MIN || tz_min > TZ_MAX_MIN)
		tz_min = 0;
	if (t < DATE_MIN_S || t > DATE_MAX_S)
		return 0;
	t += (int64_t)tz_min * 60;
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t sod = t - days * 86400;
	c->h = (unsigned)(sod / 3600);
	c->mi = (unsigned)(sod % 3600 / 60);
	c->s = (unsigned)(sod % 60);
	/* H. Hinnant's civil_from_days */
	days += 719468;
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	unsigned doe = (unsigned)(days - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	c->d = doy - (153 * mp + 2) / 5 + 1;
	c->mo = mp < 10 ? mp + 3 : mp - 9;
	c->y = (int64_t)yoe + era * 400 + (c->mo <= 2);
	return 1;
}

static void put_2(writer *w, unsigned v)
{
	char t[2] = {(char)('0' + v / 10 % 10), (char)('0' + v % 10)};
	put(w, t, 2);
}

static void put_4(writer *w, int64_t y)
{
	char t[4] = {(char)('0' + y / 1000 % 10), (char)('0' + y / 100 % 10),
	    (char)('0' + y / 10 % 10), (char)('0' + y % 10)};
	put(w, t, 4);
}

/* <time datetime="2026-11-30T15:04:05+07:00">30/11/2026 15:04</time> */
static void put_time(writer *w, int64_t t, int tz_min)
{
	civil c;
	if (!to_civil(t, tz_min, &c)) {
		LIT(w, "—");
		return;
	}
	if (tz_min < -TZ_MAX_MIN || tz_min > TZ_MAX_MIN)
		tz_min = 0;
	LIT(w, "<time datetime=\"");
	put_4(w, c.y);
	LIT(w, "-");
	put_2(w, c.mo);
	LIT(w, "-");
	put_2(w, c.d);
	LIT(w, "T");
	put_2(w, c.h);
	LIT(w, ":");
	put_2(w, c.mi);
	LIT(w, ":");
	put_2(w, c.s);
	if (tz_min == 0) {
		LIT(w, "Z");
	} else {
		unsigned a = (unsigned)(tz_min < 0 ? -tz_min : tz_min);
		put(w, tz_min < 0 ? "-" : "+", 1);
		put_2(w, a / 60);
		LIT(w, ":");
		put_2(w, a % 60);
	}
	LIT(w, "\">");
	put_2(w, c.d);
	LIT(w, "/");
	put_2(w, c.mo);
	LIT(w, "/");
	put_4(w, c.y);
	LIT(w, " ");
	put_2(w, c.h);
	LIT(w, ":");
	put_2(w, c.mi);
	LIT(w, "</time>");
}

/* Sizes: "512 B", "1,2 MB" (Vietnamese decimal comma, binary multiples). */
static void put_size(writer *w, uint64_t size)
{
	static const char *const unit[] = {" B", " KB", " MB", " GB", " TB"};
	if (size < 1024) {
		put_u64(w, size);
		puts_raw(w, unit[0]);
		return;
	}
	unsigned k = 1;
	uint64_t div = 1024;
	while (k < 4 && size / div >= 1024) {
		div *= 1024;
		k++;
	}
	uint64_t whole = size / div;
	uint64_t tenths = ((size % div) * 10 + div / 2) / div;
	if (tenths >= 10) {
		whole++;
		tenths = 0;
	}
	if (whole >= 1024 && k < 4) { /* 1023,95 KB rounds to 1,0 MB, not 1024 KB */
		whole = 1;
		k++;
	}
	put_u64(w, whole);
	if (whole < 100) {
		LIT(w, ",");
		put_u64(w, tenths);
	}
	puts_raw(w, unit[k]);
}

/* Names ------------------------------------------------------------------- */

static const char *role_vi(const char *role)
{
	if (role == NULL)
		return "";
	if (strcmp(role, "so") == 0)
		return "Sở GDĐT";
	if (strcmp(role, "phong") == 0 || strcmp(role, "xa") == 0)
		return "Phòng GDĐT";
	if (strcmp(role, "school") == 0)
		return "Trường";
	return "";
}

static const char *kind_label(edu_kind k)
{
	const char *s = (k > EDU_KIND_NONE && k < EDU_KIND_COUNT) ? edu_kind_label_vi(k) : NULL;
	return s != NULL && *s ? s : "Tin";
}

static const char *kind_slug(edu_kind k)
{
	const char *s = (k > EDU_KIND_NONE && k < EDU_KIND_COUNT) ? edu_kind_name(k) : NULL;
	return s != NULL && *s ? s : "other";
}

/* Registry name, then the item's own unit_name (when it is that unit's
 * item), then the id itself. */
static const char *unit_display(const edu_pages_ctx *c, const char *unit, const edu_item *it)
{
	const char *n = NULL;
	if (unit == NULL)
		return "";
	if (c->unit_name != NULL)
		n = c->unit_name(unit, c->arg);
	if ((n == NULL || *n == '\0') && it != NULL && it->unit_name != NULL && *it->unit_name &&
	    it->unit != NULL && strcmp(it->unit, unit) == 0)
		n = it->unit_name;
	return n != NULL && *n ? n : unit;
}

static int is_http_url(const char *u)
{
	return u != NULL && (strncasecmp(u, "https://", 8) == 0 || strncasecmp(u, "http://", 7) == 0);
}

/* Page frame -------------------------------------------------------------- */

/* Writes up to and including "<title>"; the caller writes the title text. */
static void head_begin(writer *w)
{
	LIT(w, "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n"
	       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
}

static void feed_href(writer *w, const char *ext, const char *unit)
{
	LIT(w, "/feed.");
	puts_raw(w, ext);
	if (unit != NULL && *unit) {
		LIT(w, "?unit=");
		url_enc(w, unit, 0);
	}
}

/* Closes <title>, writes the head links, the site header with the search form
 * (q is echoed when non-NULL) and opens <main>. feed_unit scopes the feeds. */
static void head_end(writer *w, const edu_pages_ctx *c, const char *feed_unit, const char *q)
{
	static const struct {
		const char *ext, *type, *title;
	} feeds[] = {
	    {"atom", "application/atom+xml", "Atom"},
	    {"rss", "application/rss+xml", "RSS"},
	    {"json", "application/feed+json", "JSON Feed"},
	};
	const char *name = c->node_name != NULL && *c->node_name ? c->node_name : nz(c->node_id);
	const char *role = role_vi(c->role);

	LIT(w, " – ");
	esc(w, name);
	LIT(w, "</title>\n<link rel=\"stylesheet\" href=\"/static/style.css\">\n");
	for (size_t i = 0; i < sizeof feeds / sizeof feeds[0]; i++) {
		LIT(w, "<link rel=\"alternate\" type=\"");
		puts_raw(w, feeds[i].type);
		LIT(w, "\" title=\"");
		puts_raw(w, feeds[i].title);
		LIT(w, "\" href=\"");
		feed_href(w, feeds[i].ext, feed_unit);
		LIT(w, "\">\n");
	}
	LIT(w, "</head>\n<body>\n<header class=\"site\">\n<div class=\"wrap bar\">\n"
	       "<div class=\"brand\"><span class=\"portal\">Cổng thông tin điện tử ngành GDĐT</span>\n"
	       "<a class=\"node\" href=\"/\">");
	esc(w, name);
	LIT(w, "</a>");
	if (*role) {
		LIT(w, " <span class=\"role\">");
		puts_raw(w, role);
		LIT(w, "</span>");
	}
	LIT(w, "</div>\n<nav aria-label=\"Điều hướng chính\">\n<ul class=\"menu\">\n"
	       "<li><a href=\"/\">Trang chủ</a></li>\n<li><a href=\"");
	feed_href(w, "atom", feed_unit);
	LIT(w, "\">Atom</a></li>\n<li><a href=\"");
	feed_href(w, "rss", feed_unit);
	LIT(w, "\">RSS</a></li>\n<li><a href=\"");
	feed_href(w, "json", feed_unit);
	LIT(w, "\">JSON</a></li>\n</ul>\n"
	       "<form class=\"search\" action=\"/search\" method=\"get\" role=\"search\">\n"
	       "<label for=\"q\">Tìm kiếm</label>\n"
	       "<input type=\"search\" id=\"q\" name=\"q\" placeholder=\"Nhập từ khoá…\" value=\"");
	esc(w, q);
	LIT(w, "\">\n<button type=\"submit\">Tìm</button>\n</form>\n</nav>\n</div>\n</header>\n"
	       "<main class=\"wrap\">\n");
}

static void page_end(writer *w, const edu_pages_ctx *c)
{
	const char *name = c->node_name != NULL && *c->node_name ? c->node_name : nz(c->node_id);
	LIT(w, "</main>\n<footer class=\"site\">\n<div class=\"wrap\">\n<p>");
	esc(w, name);
	LIT(w, " · Cổng thông tin điện tử ngành Giáo dục và Đào tạo</p>\n"
	       "<p>Nguồn tin: <a href=\"/feed.atom\">Atom</a> · <a href=\"/feed.rss\">RSS</a> · "
	       "<a href=\"/feed.json\">JSON Feed</a></p>\n</div>\n</footer>\n</body>\n</html>\n");
}

/* Listings ---------------------------------------------------------------- */

/* The rest of one attachment entry after its owner's href: "/a/N">name</a>,
 * size and type (items and directives list attachments alike). */
static void attachment_rest(writer *w, size_t i, const char *name, uint64_t size, const char *type)
{
	LIT(w, "/a/");
	put_u64(w, i);
	LIT(w, "\">");
	esc(w, name != NULL && *name ? name : "tệp");
	LIT(w, "</a> <span class=\"size\">");
	put_size(w, size);
	LIT(w, "</span>");
	if (type != NULL && *type) {
		LIT(w, " <span class=\"type\">");
		esc(w, type);
		LIT(w, "</span>");
	}
	LIT(w, "</li>\n");
}

static void item_href(writer *w, const edu_item *it)
{
	LIT(w, "/i/");
	url_enc(w, it->unit, 0);
	LIT(w, ":");
	put_u64(w, it->seq);
}

/* A plain-text excerpt of a body, for listing items without a summary. The
 * renderer appends it already HTML-escaped; an empty excerpt leaves nothing. */
static void excerpt(writer *w, const char *body)
{
	if (w->rv != EDU_OK)
		return;
	size_t mark = w->b->len;
	LIT(w, "<p class=\"summary\">");
	size_t text = w->b->len;
	if (w->rv == EDU_OK)
		w->rv = edu_render_plain_summary(body, strlen(body), SUMMARY_EXCERPT_CHARS, w->b);
	if (w->rv == EDU_OK && w->b->len == text) {
		w->b->len = mark;
		w->b->p[mark] = '\0';
		return;
	}
	LIT(w, "</p>\n");
}

/* One <li> of a listing. */
static void list_item(writer *w, const edu_pages_ctx *c, const edu_item *it, int show_kind)
{
	LIT(w, "<li class=\"entry\">\n");
	if (it->deleted) {
		LIT(w, "<p class=\"gone\"><a href=\"");
		item_href(w, it);
		LIT(w, "\">Tin này đã bị gỡ</a></p>\n</li>\n");
		return;
	}
	LIT(w, "<h3><a href=\"");
	item_href(w, it);
	LIT(w, "\">");
	esc(w, it->title);
	LIT(w, "</a></h3>\n<p class=\"meta\">");
	if (show_kind) {
		LIT(w, "<span class=\"kind\">");
		puts_raw(w, kind_label(it->kind));
		LIT(w, "</span> · ");
	}
	LIT(w, "<a class=\"unit\" href=\"/u/");
	url_enc(w, it->unit, 0);
	LIT(w, "\">");
	esc(w, unit_display(c, it->unit, it));
	LIT(w, "</a> · ");
	put_time(w, it->published, it->tz_offset_min);
	LIT(w, "</p>\n");
	if (it->summary != NULL && *it->summary) {
		LIT(w, "<p class=\"summary\">");
		esc(w, it->summary);
		LIT(w, "</p>\n");
	} else if (it->body != NULL && *it->body) {
		excerpt(w, it->body);
	}
	LIT(w, "</li>\n");
}

static edu_err list_items(writer *w, const edu_pages_ctx *c, edu_item *const *items, size_t n,
    int show_kind)
{
	if (n > 0 && items == NULL)
		return EDU_EINVAL;
	LIT(w, "<ul class=\"entries\">\n");
	for (size_t i = 0; i < n && w->rv == EDU_OK; i++)
		if (items[i] != NULL)
			list_item(w, c, items[i], show_kind);
	LIT(w, "</ul>\n");
	return EDU_OK;
}

/* Finishing: on failure the buffer is cut back to where the page began. */
static edu_err finish(writer *w, size_t start)
{
	if (w->rv != EDU_OK && w->b->p != NULL) {
		w->b->len = start;
		w->b->p[start] = '\0';
	}
	return w->rv;
}

/* Pages ------------------------------------------------------------------- */

static edu_err dir_list(writer *w, const edu_pages_dir *dirs, size_t n);

edu_err edu_pages_home(const edu_pages_ctx *c, edu_item *const *const by_kind[EDU_KIND_COUNT],
    const size_t n_by_kind[EDU_KIND_COUNT], const char *unit_filter, edu_buf *out)
{
	if (c == NULL || out == NULL)
		return EDU_EINVAL;
	for (int k = EDU_KIND_NEWS; k < EDU_KIND_COUNT; k++)
		if (n_by_kind != NULL && n_by_kind[k] > 0 && (by_kind == NULL || by_kind[k] == NULL))
			return EDU_EINVAL;
	if (c->n_units > 0 && c->units == NULL)
		return EDU_EINVAL;
	writer w = {out, EDU_OK};
	size_t start = out->len;
	const char *uf = nz(unit_filter);

	head_begin(&w);
	if (*uf) {
		esc(&w, unit_display(c, uf, NULL));
		LIT(&w, " – Trang chủ");
	} else {
		LIT(&w, "Trang chủ");
	}
	head_end(&w, c, uf, NULL);

	LIT(&w, "<div class=\"page-head\">\n<h1>");
	if (*uf) {
		LIT(&w, "Tin mới của ");
		esc(&w, unit_display(c, uf, NULL));
	} else {
		LIT(&w, "Tin mới");
	}
	LIT(&w, "</h1>\n<form class=\"filter\" action=\"/\" method=\"get\">\n"
	        "<label for=\"unit\">Đơn vị</label>\n<select id=\"unit\" name=\"unit\">\n"
	        "<option value=\"\"");
	if (!*uf)
		LIT(&w, " selected");
	LIT(&w, ">Tất cả đơn vị</option>\n");
	int listed = 0;
	for (size_t i = 0; i < c->n_units; i++) {
		const edu_pages_unit *u = &c->units[i];
		if (u->id == NULL)
			continue;
		int sel = *uf && strcmp(u->id, uf) == 0;
		listed |= sel;
		LIT(&w, "<option value=\"");
		esc(&w, u->id);
		LIT(&w, "\"");
		if (sel)
			LIT(&w, " selected");
		LIT(&w, ">");
		esc(&w, u->name != NULL && *u->name ? u->name : u->id);
		LIT(&w, "</option>\n");
	}
	if (*uf && !listed) { /* keep an unlisted filter visible as the selection */
		LIT(&w, "<option value=\"");
		esc(&w, uf);
		LIT(&w, "\" selected>");
		esc(&w, unit_display(c, uf, NULL));
		LIT(&w, "</option>\n");
	}
	LIT(&w, "</select>\n<button type=\"submit\">Lọc</button>\n</form>\n</div>\n");

	edu_err rv = EDU_OK;
	if (c->n_dirs > 0) {
		LIT(&w, "<section class=\"group directives\">\n<h2><a href=\"/d\">Văn bản chỉ đạo</a></h2>\n");
		rv = dir_list(&w, c->dirs, c->n_dirs);
		LIT(&w, "</section>\n");
	}
	LIT(&w, "<div class=\"kinds\">\n");
	for (int k = EDU_KIND_NEWS; k < EDU_KIND_COUNT && rv == EDU_OK; k++) {
		size_t n = n_by_kind != NULL ? n_by_kind[k] : 0;
		LIT(&w, "<section class=\"group kind-");
		puts_raw(&w, kind_slug((edu_kind)k));
		LIT(&w, "\">\n<h2>");
		puts_raw(&w, kind_label((edu_kind)k));
		LIT(&w, "</h2>\n");
		if (n == 0)
			LIT(&w, "<p class=\"empty\">Chưa có tin.</p>\n");
		else
			rv = list_items(&w, c, by_kind[k], n, 0);
		LIT(&w, "</section>\n");
	}
	LIT(&w, "</div>\n");
	page_end(&w, c);
	if (w.rv == EDU_OK)
		w.rv = rv;
	return finish(&w, start);
}

edu_err edu_pages_unit_page(const edu_pages_ctx *c, const char *unit, edu_item *const *items, size_t n,
    const char *next_cursor, edu_buf *out)
{
	if (c == NULL || out == NULL || unit == NULL || (n > 0 && items == NULL))
		return EDU_EINVAL;
	writer w = {out, EDU_OK};
	size_t start = out->len;
	const edu_item *first = n > 0 ? items[0] : NULL;
	const char *name = unit_display(c, unit, first);

	head_begin(&w);
	esc(&w, name);
	head_end(&w, c, unit, NULL);
	LIT(&w, "<div class=\"page-head\">\n<h1>");
	esc(&w, name);
	LIT(&w, "</h1>\n<p class=\"unit-id\">Mã đơn vị: <code>");
	esc(&w, unit);
	LIT(&w, "</code></p>\n</div>\n");
	edu_err rv = EDU_OK;
	if (n == 0)
		LIT(&w, "<p class=\"empty\">Chưa có tin.</p>\n");
	else
		rv = list_items(&w, c, items, n, 1);
	if (next_cursor != NULL && *next_cursor) {
		LIT(&w, "<nav class=\"pager\" aria-label=\"Phân trang\"><a rel=\"next\" href=\"/u/");
		url_enc(&w, unit, 0);
		LIT(&w, "?before=");
		url_enc(&w, next_cursor, 0);
		LIT(&w, "\">Trang sau →</a></nav>\n");
	}
	page_end(&w, c);
	if (w.rv == EDU_OK)
		w.rv = rv;
	return finish(&w, start);
}

static void dt_dd_text(writer *w, const char *label, const char *value)
{
	if (value == NULL || *value == '\0')
		return;
	LIT(w, "<dt>");
	puts_raw(w, label);
	LIT(w, "</dt><dd>");
	esc(w, value);
	LIT(w, "</dd>\n");
}

static void dt_dd_time(writer *w, const char *label, int64_t t, int tz)
{
	LIT(w, "<dt>");
	puts_raw(w, label);
	LIT(w, "</dt><dd>");
	put_time(w, t, tz);
	LIT(w, "</dd>\n");
}

edu_err edu_pages_item(const edu_pages_ctx *c, const edu_item *it, edu_buf *out)
{
	if (c == NULL || it == NULL || out == NULL || it->unit == NULL)
		return EDU_EINVAL;
	writer w = {out, EDU_OK};
	size_t start = out->len;
	const char *uname = unit_display(c, it->unit, it);

	head_begin(&w);
	if (it->deleted)
		LIT(&w, "Tin đã bị gỡ");
	else
		esc(&w, it->title);
	head_end(&w, c, it->unit, NULL);

	if (it->deleted) {
		LIT(&w, "<article class=\"item deleted\">\n<h1>Tin này đã bị gỡ</h1>\n<p class=\"meta\">Mã tin: "
		        "<code>");
		esc(&w, it->unit);
		LIT(&w, ":");
		put_u64(&w, it->seq);
		LIT(&w, "</code> · Phiên bản ");
		put_u64(&w, it->version);
		LIT(&w, " · Đơn vị: <a href=\"/u/");
		url_enc(&w, it->unit, 0);
		LIT(&w, "\">");
		esc(&w, uname);
		LIT(&w, "</a></p>\n</article>\n");
		page_end(&w, c);
		return finish(&w, start);
	}

	LIT(&w, "<article class=\"item kind-");
	puts_raw(&w, kind_slug(it->kind));
	LIT(&w, "\">\n<p class=\"kind\">");
	puts_raw(&w, kind_label(it->kind));
	LIT(&w, "</p>\n<h1>");
	esc(&w, it->title);
	LIT(&w, "</h1>\n<dl class=\"facts\">\n<dt>Đơn vị</dt><dd><a href=\"/u/");
	url_enc(&w, it->unit, 0);
	LIT(&w, "\">");
	esc(&w, uname);
	LIT(&w, "</a> <span class=\"unit-id\">(");
	esc(&w, it->unit);
	LIT(&w, ")</span></dd>\n");
	dt_dd_text(&w, "Tác giả", it->author);
	dt_dd_time(&w, "Ngày đăng", it->published, it->tz_offset_min);
	if (it->updated != 0 && it->updated != it->published)
		dt_dd_time(&w, "Cập nhật", it->updated, it->tz_offset_min);
	LIT(&w, "<dt>Phiên bản</dt><dd>");
	put_u64(&w, it->version);
	LIT(&w, "</dd>\n");
	dt_dd_text(&w, "Số hiệu", it->doc_number);
	dt_dd_text(&w, "Ngày ban hành", it->doc_date);
	dt_dd_text(&w, "Người ký", it->signer);
	if (it->starts != 0)
		dt_dd_time(&w, "Bắt đầu", it->starts, it->tz_offset_min);
	if (it->ends != 0)
		dt_dd_time(&w, "Kết thúc", it->ends, it->tz_offset_min);
	dt_dd_text(&w, "Địa điểm", it->location);
	LIT(&w, "</dl>\n");

	if (it->summary != NULL && *it->summary) {
		LIT(&w, "<p class=\"lead\">");
		esc(&w, it->summary);
		LIT(&w, "</p>\n");
	}
	if (it->body != NULL && *it->body) {
		/* A renderer failure fails the page, which finish() cuts back. */
		LIT(&w, "<div class=\"body\">\n");
		if (w.rv == EDU_OK)
			w.rv = edu_render_markdown(it->body, strlen(it->body), w.b);
		LIT(&w, "</div>\n");
	}
	if (it->n_attachments > 0 && it->attachments != NULL) {
		LIT(&w, "<section class=\"attachments\">\n<h2>Tệp đính kèm</h2>\n<ul>\n");
		for (size_t i = 0; i < it->n_attachments; i++) {
			const edu_attachment *a = &it->attachments[i];
			LIT(&w, "<li><a href=\"");
			item_href(&w, it);
			attachment_rest(&w, i, a->name, a->size, a->media_type);
		}
		LIT(&w, "</ul>\n</section>\n");
	}
	if (it->n_tags > 0 && it->tags != NULL) {
		LIT(&w, "<ul class=\"tags\" aria-label=\"Thẻ\">\n");
		for (size_t i = 0; i < it->n_tags; i++) {
			if (it->tags[i] == NULL || *it->tags[i] == '\0')
				continue;
			LIT(&w, "<li><a href=\"/search?q=");
			url_enc(&w, it->tags[i], 0);
			LIT(&w, "\">");
			esc(&w, it->tags[i]);
			LIT(&w, "</a></li>\n");
		}
		LIT(&w, "</ul>\n");
	}
	if (is_http_url(it->source_url)) {
		LIT(&w, "<p class=\"source\"><a rel=\"nofollow noopener\" href=\"");
		esc(&w, it->source_url);
		LIT(&w, "\">Nguồn gốc</a></p>\n");
	}
	LIT(&w, "</article>\n");
	page_end(&w, c);
	return finish(&w, start);
}

/* Directives ("Văn bản chỉ đạo") ------------------------------------------ */

static void dir_href(writer *w, const edu_pages_dir *d)
{
	LIT(w, "/d/");
	url_enc(w, d->id, 1);
}

static const char *dir_issuer(const edu_pages_dir *d)
{
	return d->issuer_name != NULL && *d->issuer_name ? d->issuer_name : nz(d->issuer);
}

/* One <li>: issuer, number, date, title, deadline. */
static void dir_entry(writer *w, const edu_pages_dir *d)
{
	LIT(w, "<li class=\"entry directive\">\n<h3><a href=\"");
	dir_href(w, d);
	LIT(w, "\">");
	esc(w, d->title != NULL && *d->title ? d->title : "(không có tiêu đề)");
	LIT(w, "</a></h3>\n<p class=\"meta\"><span class=\"issuer\">");
	esc(w, dir_issuer(d));
	LIT(w, "</span>");
	if (d->doc_number != NULL && *d->doc_number) {
		LIT(w, " · Số ");
		esc(w, d->doc_number);
	}
	if (d->doc_date != NULL && *d->doc_date) {
		LIT(w, " · Ngày ");
		esc(w, d->doc_date);
	} else if (d->published != 0) {
		LIT(w, " · ");
		put_time(w, d->published, d->tz_offset_min);
	}
	if (d->deadline != 0) {
		LIT(w, " · <span class=\"deadline\">Hạn: ");
		put_time(w, d->deadline, d->tz_offset_min);
		LIT(w, "</span>");
	}
	LIT(w, "</p>\n</li>\n");
}

static edu_err dir_list(writer *w, const edu_pages_dir *dirs, size_t n)
{
	if (n > 0 && dirs == NULL)
		return EDU_EINVAL;
	LIT(w, "<ul class=\"entries directives\">\n");
	for (size_t i = 0; i < n && w->rv == EDU_OK; i++)
		dir_entry(w, &dirs[i]);
	LIT(w, "</ul>\n");
	return EDU_OK;
}

edu_err edu_pages_directives(const edu_pages_ctx *c, const edu_pages_dir *dirs, size_t n, edu_buf *out)
{
	if (c == NULL || out == NULL || (n > 0 && dirs == NULL))
		return EDU_EINVAL;
	writer w = {out, EDU_OK};
	size_t start = out->len;
	head_begin(&w);
	LIT(&w, "Văn bản chỉ đạo");
	head_end(&w, c, NULL, NULL);
	LIT(&w, "<div class=\"page-head\">\n<h1>Văn bản chỉ đạo</h1>\n</div>\n<section class=\"group directives\">\n");
	edu_err rv = EDU_OK;
	if (n == 0)
		LIT(&w, "<p class=\"empty\">Chưa có văn bản chỉ đạo.</p>\n");
	else
		rv = dir_list(&w, dirs, n);
	LIT(&w, "</section>\n");
	page_end(&w, c);
	if (w.rv == EDU_OK)
		w.rv = rv;
	return finish(&w, start);
}

/* "Các trường THCS, TH; 3 đơn vị (12 đơn vị nhận)" */
static void audience(writer *w, const edu_pages_dir *d)
{
	const char *sep = "";
	if (d->n_aud_types == 0 && d->n_aud_units == 0) {
		LIT(w, "Tất cả đơn vị trực thuộc");
	}
	if (d->n_aud_types > 0) {
		LIT(w, "Loại đơn vị: ");
		for (size_t i = 0; i < d->n_aud_types; i++) {
			if (i)
				LIT(w, ", ");
			esc(w, nz(d->aud_types[i]));
		}
		sep = "; ";
	}
	if (d->n_aud_units > 0) {
		puts_raw(w, sep);
		LIT(w, "Đơn vị: ");
		for (size_t i = 0; i < d->n_aud_units; i++) {
			if (i)
				LIT(w, ", ");
			esc(w, nz(d->aud_units[i]));
		}
	}
	if (d->n_targets > 0) {
		LIT(w, " (");
		put_u64(w, d->n_targets);
		LIT(w, " đơn vị nhận)");
	}
}

edu_err edu_pages_directive(const edu_pages_ctx *c, const edu_pages_dir *d, edu_buf *out)
{
	if (c == NULL || d == NULL || out == NULL || d->id == NULL || (d->n_files > 0 && d->files == NULL) ||
	    (d->n_aud_types > 0 && d->aud_types == NULL) || (d->n_aud_units > 0 && d->aud_units == NULL))
		return EDU_EINVAL;
	writer w = {out, EDU_OK};
	size_t start = out->len;
	const char *title = d->title != NULL && *d->title ? d->title : "(không có tiêu đề)";
	head_begin(&w);
	esc(&w, title);
	head_end(&w, c, NULL, NULL);
	LIT(&w, "<article class=\"item directive\">\n<p class=\"kind\"><a href=\"/d\">Văn bản chỉ đạo</a>");
	puts_raw(&w, d->sent ? " · đã gửi" : " · đã nhận");
	LIT(&w, "</p>\n<h1>");
	esc(&w, title);
	LIT(&w, "</h1>\n<dl class=\"facts\">\n<dt>Cơ quan ban hành</dt><dd>");
	esc(&w, dir_issuer(d));
	if (d->issuer != NULL && *d->issuer) {
		LIT(&w, " <span class=\"unit-id\">(");
		esc(&w, d->issuer);
		LIT(&w, ")</span>");
	}
	LIT(&w, "</dd>\n");
	dt_dd_text(&w, "Số hiệu", d->doc_number);
	dt_dd_text(&w, "Ngày ban hành", d->doc_date);
	dt_dd_text(&w, "Người ký", d->signer);
	if (d->published != 0)
		dt_dd_time(&w, "Ngày gửi", d->published, d->tz_offset_min);
	LIT(&w, "<dt>Nơi nhận</dt><dd>");
	audience(&w, d);
	LIT(&w, "</dd>\n");
	if (d->deadline != 0)
		dt_dd_time(&w, "Hạn", d->deadline, d->tz_offset_min);
	LIT(&w, "<dt>Báo cáo</dt><dd>");
	puts_raw(&w, d->report_requested ? "Yêu cầu báo cáo" : "Không yêu cầu báo cáo");
	LIT(&w, "</dd>\n<dt>Mã văn bản</dt><dd><code>");
	esc(&w, d->id);
	LIT(&w, "</code></dd>\n</dl>\n");
	if (d->body != NULL && *d->body) {
		LIT(&w, "<div class=\"body\">\n");
		if (w.rv == EDU_OK)
			w.rv = edu_render_markdown(d->body, strlen(d->body), w.b);
		LIT(&w, "</div>\n");
	}
	if (d->n_files > 0) {
		LIT(&w, "<section class=\"attachments\">\n<h2>Tệp đính kèm</h2>\n<ul>\n");
		for (size_t i = 0; i < d->n_files; i++) {
			const edu_pages_dir_file *f = &d->files[i];
			LIT(&w, "<li><a href=\"");
			dir_href(&w, d);
			attachment_rest(&w, i, f->name, f->size, f->media_type);
		}
		LIT(&w, "</ul>\n</section>\n");
	}
	LIT(&w, "</article>\n");
	page_end(&w, c);
	return finish(&w, start);
}

edu_err edu_pages_search(const edu_pages_ctx *c, const char *q, edu_item *const *items, size_t n,
    const char *next_cursor, edu_buf *out)
{
	if (c == NULL || out == NULL || (n > 0 && items == NULL))
		return EDU_EINVAL;
	writer w = {out, EDU_OK};
	size_t start = out->len;
	q = nz(q);

	head_begin(&w);
	LIT(&w, "Tìm kiếm");
	if (*q) {
		LIT(&w, ": ");
		esc(&w, q);
	}
	head_end(&w, c, NULL, q);
	LIT(&w, "<div class=\"page-head\">\n<h1>Tìm kiếm</h1>\n");
	edu_err rv = EDU_OK;
	if (*q == '\0' && n == 0) {
		LIT(&w, "<p class=\"count\">Nhập từ khoá vào ô tìm kiếm, ví dụ “học sinh”.</p>\n</div>\n");
	} else {
		LIT(&w, "<p class=\"count\">");
		put_u64(&w, n);
		LIT(&w, " kết quả cho “<strong>");
		esc(&w, q);
		LIT(&w, "</strong>”</p>\n</div>\n");
		if (n == 0)
			LIT(&w, "<p class=\"empty\">Không tìm thấy kết quả.</p>\n");
		else
			rv = list_items(&w, c, items, n, 1);
	}
	if (next_cursor != NULL && *next_cursor) {
		LIT(&w, "<nav class=\"pager\" aria-label=\"Phân trang\"><a rel=\"next\" href=\"/search?q=");
		url_enc(&w, q, 0);
		LIT(&w, "&amp;before=");
		url_enc(&w, next_cursor, 0);
		LIT(&w, "\">Trang sau →</a></nav>\n");
	}
	page_end(&w, c);
	if (w.rv == EDU_OK)
		w.rv = rv;
	return finish(&w, start);
}

static const char *status_vi(int status)
{
	switch (status) {
	case 400: return "Yêu cầu không hợp lệ";
	case 401: return "Cần đăng nhập";
	case 403: return "Không có quyền truy cập";
	case 404: return "Không tìm thấy trang";
	case 405: return "Phương thức không được hỗ trợ";
	case 408: return "Hết thời gian chờ yêu cầu";
	case 409: return "Xung đột dữ liệu";
	case 410: return "Nội dung đã bị gỡ";
	case 413: return "Yêu cầu quá lớn";
	case 414: return "Địa chỉ quá dài";
	case 429: return "Quá nhiều yêu cầu";
	case 500: return "Lỗi máy chủ";
	case 503: return "Dịch vụ tạm thời không khả dụng";
	case 507: return "Máy chủ hết dung lượng lưu trữ";
	default: return status >= 500 ? "Lỗi máy chủ" : "Yêu cầu không thực hiện được";
	}
}

edu_err edu_pages_error(const edu_pages_ctx *c, int status, const char *message, edu_buf *out)
{
	if (c == NULL || out == NULL)
		return EDU_EINVAL;
	if (status < 100 || status > 999)
		status = 500;
	writer w = {out, EDU_OK};
	size_t start = out->len;
	const char *label = status_vi(status);

	head_begin(&w);
	put_u64(&w, (uint64_t)status);
	LIT(&w, " ");
	puts_raw(&w, label);
	head_end(&w, c, NULL, NULL);
	LIT(&w, "<section class=\"error\">\n<p class=\"status\">Lỗi ");
	put_u64(&w, (uint64_t)status);
	LIT(&w, "</p>\n<h1>");
	puts_raw(&w, label);
	LIT(&w, "</h1>\n");
	if (message != NULL && *message) {
		LIT(&w, "<p class=\"message\">");
		esc(&w, message);
		LIT(&w, "</p>\n");
	}
	LIT(&w, "<p><a href=\"/\">← Về trang chủ</a></p>\n</section>\n");
	page_end(&w, c);
	return finish(&w, start);
}

static const char css[] =
    ":root{--fg:#1d2330;--muted:#5b6474;--line:#dde2ea;--bg:#f6f7f9;--card:#fff;"
    "--accent:#0b4f9c;--accent-fg:#fff;--warn:#a3261b}\n"
    "*{box-sizing:border-box}\n"
    "html{-webkit-text-size-adjust:100%;text-size-adjust:100%}\n"
    "body{margin:0;background:var(--bg);color:var(--fg);line-height:1.55;font-size:16px;"
    "font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,\"Noto Sans\",\"Helvetica Neue\","
    "Arial,\"Liberation Sans\",sans-serif}\n"
    "a{color:var(--accent);text-decoration:none}\n"
    "a:hover,a:focus{text-decoration:underline}\n"
    ".wrap{max-width:72rem;margin:0 auto;padding:0 1rem}\n"
    "header.site{background:var(--accent);color:var(--accent-fg)}\n"
    "header.site a{color:var(--accent-fg)}\n"
    ".bar{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;"
    "gap:.5rem 1.5rem;padding-top:.75rem;padding-bottom:.75rem}\n"
    ".brand .portal{display:block;font-size:.8rem;opacity:.85;text-transform:uppercase;"
    "letter-spacing:.03em}\n"
    ".brand .node{font-size:1.35rem;font-weight:700}\n"
    ".brand .role{font-size:.8rem;margin-left:.4rem;padding:.1rem .45rem;border:1px solid "
    "currentColor;border-radius:1rem;vertical-align:middle}\n"
    "nav{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem}\n"
    ".menu{display:flex;flex-wrap:wrap;gap:.25rem 1rem;list-style:none;margin:0;padding:0}\n"
    "form.search,form.filter{display:flex;align-items:center;gap:.4rem;margin:0}\n"
    "form.search label{position:absolute;width:1px;height:1px;overflow:hidden;"
    "clip:rect(0 0 0 0);white-space:nowrap}\n"
    "input,select,button{font:inherit;padding:.35rem .6rem;border:1px solid var(--line);"
    "border-radius:.35rem;background:#fff;color:var(--fg)}\n"
    "input[type=search]{min-width:12rem}\n"
    "button{background:var(--fg);color:#fff;border-color:var(--fg);cursor:pointer}\n"
    "main.wrap{padding-top:1.25rem;padding-bottom:2rem}\n"
    ".page-head{display:flex;flex-wrap:wrap;align-items:baseline;justify-content:space-between;"
    "gap:.5rem 1rem;margin-bottom:1rem}\n"
    "h1{font-size:1.6rem;line-height:1.3;margin:0 0 .5rem}\n"
    "h2{font-size:1.2rem;margin:0 0 .6rem}\n"
    "h3{font-size:1.05rem;margin:0 0 .2rem;line-height:1.35}\n"
    ".kinds{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,26rem),1fr));gap:1rem}\n"
    "section.group,article.item,section.error,.entries>li{background:var(--card);"
    "border:1px solid var(--line);border-radius:.5rem}\n"
    "section.group{padding:1rem}\n"
    "section.group h2{border-bottom:2px solid var(--accent);padding-bottom:.3rem}\n"
    "section.group .entries>li{border:0;border-bottom:1px solid var(--line);border-radius:0;"
    "padding:.6rem 0}\n"
    "section.group .entries>li:last-child{border-bottom:0}\n"
    ".entries{list-style:none;margin:0;padding:0;display:grid;gap:.6rem}\n"
    ".entries>li{padding:.8rem 1rem}\n"
    ".meta,.unit-id,.count,.size,.type{color:var(--muted);font-size:.88rem}\n"
    ".meta{margin:0 0 .3rem}\n"
    ".summary{margin:0;display:-webkit-box;-webkit-line-clamp:3;-webkit-box-orient:vertical;"
    "overflow:hidden}\n"
    ".meta .kind{font-weight:600}\nlabel{white-space:nowrap}\nselect{min-width:0;max-width:100%}\n"
    "p.kind{margin:0 0 .3rem;color:var(--accent);text-transform:uppercase;font-size:.85rem}\n"
    ".empty,.gone{color:var(--muted);font-style:italic;margin:0}\n"
    "article.item,section.error{padding:1.25rem 1.5rem;max-width:52rem}\n"
    ".facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0 0 1rem;"
    "font-size:.93rem}\n"
    ".facts dt{color:var(--muted)}\n"
    ".facts dd{margin:0}\n"
    ".lead{font-weight:600}\n"
    ".body{overflow-wrap:anywhere}\n"
    ".body img{max-width:100%;height:auto}\n"
    ".body pre{overflow:auto;background:var(--bg);padding:.75rem;border-radius:.35rem}\n"
    ".body table{border-collapse:collapse}\n"
    ".body td,.body th{border:1px solid var(--line);padding:.3rem .5rem}\n"
    ".body blockquote{margin:0;padding-left:1rem;border-left:3px solid var(--line);"
    "color:var(--muted)}\n"
    ".attachments ul{padding-left:1.2rem}\n"
    ".tags{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.4rem}\n"
    ".tags a{display:inline-block;padding:.1rem .6rem;border-radius:1rem;background:var(--bg);"
    "border:1px solid var(--line);font-size:.85rem}\n"
    ".pager{margin-top:1rem}\n"
    ".deleted h1,.error .status{color:var(--warn)}\n"
    "footer.site{border-top:1px solid var(--line);color:var(--muted);font-size:.88rem;"
    "padding:1rem 0}\n"
    "footer.site p{margin:.2rem 0}\n"
    "@media (max-width:40rem){.bar{display:block}nav{margin-top:.5rem}"
    "input[type=search],.filter select{min-width:0;flex:1}form.search,form.filter{width:100%}h1{font-size:1.35rem}"
    ".facts{grid-template-columns:1fr}.facts dd{margin-bottom:.3rem}}\n";

const char *edu_pages_css(size_t *len)
{
	if (len != NULL)
		*len = sizeof css - 1;
	return css;
}
