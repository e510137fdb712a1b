/* Export parsers: RSS 2.0, Atom 1.0 and WordPress WXR on libxml2 (no
 * network, no DTD loading, no entity declarations), JSON Feed on jansson.
 * Every entry becomes an edu_import_entry with NFC text and a sanitized
 * Markdown body; the file as a whole fails only when it cannot be read. */
#include "import.h"
#include "import_internal.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <sodium.h>
#include <utf8proc.h>
#include "core/buf.h"
#include "core/timefmt.h"
#include "text/text.h"

#define NS_ATOM "http://www.w3.org/2005/Atom"
#define NS_CONTENT "http://purl.org/rss/1.0/modules/content/"
#define NS_DC "http://purl.org/dc/elements/1.1/"
#define NS_WP "http://wordpress.org/export/" /* + "1.0/", "1.1/", "1.2/" */
#define NS_EXCERPT "http://wordpress.org/export/1." /* + "N/excerpt/" */
#define NS_XHTML "http://www.w3.org/1999/xhtml"
#define TITLE_FALLBACK_CHARS 80 /* a title made from the text when the source has none */

/* Writes the reason and yields rv: `return fail(why, len, EDU_EINVAL, "...", ...);` */
#define fail(why, whylen, rv, ...) (edu_whyf((why), (whylen), __VA_ARGS__), (rv))

edu_import_format edu_import_format_parse(const char *s)
{
	static const struct { const char *name; edu_import_format f; } names[] = {
		{"rss", EDU_IMPORT_RSS}, {"atom", EDU_IMPORT_ATOM}, {"jsonfeed", EDU_IMPORT_JSONFEED},
		{"json", EDU_IMPORT_JSONFEED}, {"wxr", EDU_IMPORT_WXR}, {"wordpress", EDU_IMPORT_WXR},
	};
	for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
		if (strcasecmp(s, names[i].name) == 0)
			return names[i].f;
	return EDU_IMPORT_NONE;
}

/* ---- dates ------------------------------------------------------------------ */

static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool civil_ok(int y, int mo, int d, int h, int mi, int s)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return y >= 1900 && y <= 9999 && mo >= 1 && mo <= 12 && d >= 1 && d <= mdays[mo - 1] &&
	    !(mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) && h >= 0 && h <= 23 &&
	    mi >= 0 && mi <= 59 && s >= 0 && s <= 60;
}

static int64_t to_unix(int y, int mo, int d, int h, int mi, int s, int tz)
{
	return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - (int64_t)tz * 60;
}

static edu_err parse_rfc822(const char *s, int64_t *t, int *tz_out)
{
	static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun",
	                                     "jul", "aug", "sep", "oct", "nov", "dec"};
	static const struct { const char *name; int min; } zones[] = {
		{"GMT", 0}, {"UT", 0}, {"UTC", 0}, {"Z", 0}, {"ICT", 420}, {"EST", -300}, {"EDT", -240},
		{"CST", -360}, {"CDT", -300}, {"MST", -420}, {"MDT", -360}, {"PST", -480}, {"PDT", -420},
	};
	const char *p = s;
	while (isspace((unsigned char)*p))
		p++;
	if (isalpha((unsigned char)*p)) { /* optional day name */
		while (isalpha((unsigned char)*p))
			p++;
		if (*p == ',')
			p++;
		while (isspace((unsigned char)*p))
			p++;
	}
	char *end;
	long d = strtol(p, &end, 10);
	if (end == p)
		return EDU_EINVAL;
	p = end;
	while (isspace((unsigned char)*p) || *p == '-')
		p++;
	int mo = 0;
	for (int i = 0; i < 12; i++)
		if (strncasecmp(p, months[i], 3) == 0)
			mo = i + 1;
	if (!mo)
		return EDU_EINVAL;
	while (isalpha((unsigned char)*p) || *p == '.')
		p++;
	while (isspace((unsigned char)*p) || *p == '-')
		p++;
	const char *ys = p;
	long y = strtol(p, &end, 10);
	if (end == p)
		return EDU_EINVAL;
	if (end - ys <= 2)
		y += y < 50 ? 2000 : 1900;
	p = end;
	long h = 0, mi = 0, sec = 0;
	if (sscanf(p, " %2ld:%2ld", &h, &mi) != 2)
		return EDU_EINVAL;
	while (isspace((unsigned char)*p))
		p++;
	p += strspn(p, "0123456789");
	p += 1;
	p += strspn(p, "0123456789");
	if (*p == ':') {
		p++;
		sec = strtol(p, &end, 10);
		if (end == p)
			return EDU_EINVAL;
		p = end;
	}
	while (isspace((unsigned char)*p))
		p++;
	int tz = 0;
	if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;
		p++;
		size_t nd = strspn(p, "0123456789");
		int hh, mm;
		if (nd == 4) {
			hh = (p[0] - '0') * 10 + (p[1] - '0');
			mm = (p[2] - '0') * 10 + (p[3] - '0');
		} else if (nd == 2 && p[2] == ':' && isdigit((unsigned char)p[3]) && isdigit((unsigned char)p[4])) {
			hh = (p[0] - '0') * 10 + (p[1] - '0');
			mm = (p[3] - '0') * 10 + (p[4] - '0');
			nd = 5;
		} else {
			return EDU_EINVAL;
		}
		if (hh > 23 || mm > 59)
			return EDU_EINVAL;
		tz = sign * (hh * 60 + mm);
		p += nd;
	} else if (*p) {
		size_t nl = 0;
		while (isalpha((unsigned char)p[nl]))
			nl++;
		bool known = false;
		for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++)
			if (strlen(zones[i].name) == nl && strncasecmp(p, zones[i].name, nl) == 0) {
				tz = zones[i].min;
				known = true;
			}
		if (!known)
			return EDU_EINVAL;
		p += nl;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p && *p != '(') /* "(ICT)" style comments may follow */
		return EDU_EINVAL;
	if (!civil_ok((int)y, mo, (int)d, (int)h, (int)mi, (int)sec))
		return EDU_EINVAL;
	*t = to_unix((int)y, mo, (int)d, (int)h, (int)mi, (int)(sec == 60 ? 59 : sec), tz);
	if (tz_out)
		*tz_out = tz;
	return EDU_OK;
}

edu_err edu_import_parse_date(const char *s, int default_tz_min, int64_t *unix_s, int *tz_min)
{
	while (s && isspace((unsigned char)*s))
		s++;
	if (!s || !*s || strlen(s) > 64)
		return EDU_EINVAL;
	char buf[72];
	snprintf(buf, sizeof buf, "%s", s);
	size_t n = strlen(buf);
	while (n && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	if (n >= 10 && isdigit((unsigned char)buf[0]) && buf[4] == '-') {
		int64_t t;
		int tz;
		if (edu_time_parse(buf, &t, &tz) == EDU_OK) {
			if (t < 0 || t > EDU_TIME_MAX)
				return EDU_EINVAL;
			*unix_s = t;
			if (tz_min)
				*tz_min = tz;
			return EDU_OK;
		}
		/* zone-less "YYYY-MM-DD[ T]HH:MM[:SS]" (WXR post_date) at the default offset */
		int y, mo, d, h = 0, mi = 0, sec = 0, used = 0;
		if (sscanf(buf, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3)
			return EDU_EINVAL;
		if (buf[used] == ' ' || buf[used] == 'T') {
			int u2 = 0;
			if (sscanf(buf + used + 1, "%2d:%2d%n", &h, &mi, &u2) != 2)
				return EDU_EINVAL;
			used += 1 + u2;
			if (buf[used] == ':') {
				int u3 = 0;
				if (sscanf(buf + used + 1, "%2d%n", &sec, &u3) != 1)
					return EDU_EINVAL;
				used += 1 + u3;
			}
		}
		if (buf[used] != '\0' || !civil_ok(y, mo, d, h, mi, sec))
			return EDU_EINVAL;
		*unix_s = to_unix(y, mo, d, h, mi, sec == 60 ? 59 : sec, default_tz_min);
		if (tz_min)
			*tz_min = default_tz_min;
		return *unix_s >= 0 ? EDU_OK : EDU_EINVAL;
	}
	int64_t t;
	edu_err rv = parse_rfc822(buf, &t, tz_min);
	if (rv == EDU_OK && (t < 0 || t > EDU_TIME_MAX))
		return EDU_EINVAL;
	if (rv == EDU_OK)
		*unix_s = t;
	return rv;
}

/* ---- kinds ------------------------------------------------------------------ */

/* Case-folded NFC copy (caller frees); NULL when not UTF-8. */
static char *fold_case(const char *s)
{
	utf8proc_uint8_t *o = NULL;
	if (utf8proc_map((const utf8proc_uint8_t *)s, 0, &o,
	                 UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD) < 0)
		return NULL;
	return (char *)o;
}

edu_kind edu_import_kind_for(const char *const *cats, size_t n, const edu_import_map *maps, size_t n_maps,
                             edu_kind dflt)
{
	edu_kind k = EDU_KIND_NONE;
	char **f = n ? calloc(n, sizeof *f) : NULL;
	if (n && !f)
		return dflt;
	for (size_t i = 0; i < n; i++)
		f[i] = fold_case(cats[i] ? cats[i] : "");
	for (size_t m = 0; m < n_maps && !k; m++) {
		char *mf = fold_case(maps[m].category);
		for (size_t i = 0; mf && i < n && !k; i++)
			if (f[i] && strcmp(f[i], mf) == 0)
				k = maps[m].kind;
		free(mf);
	}
	static const struct { const char *needle; edu_kind kind; } defaults[] = {
		{"thông báo", EDU_KIND_ANNOUNCEMENT}, {"văn bản", EDU_KIND_DOCUMENT},
		{"công văn", EDU_KIND_DOCUMENT}, {"lịch", EDU_KIND_EVENT},
	};
	for (size_t i = 0; i < n && !k; i++) {
		for (size_t d = 0; f[i] && d < sizeof defaults / sizeof defaults[0] && !k; d++) {
			const char *hit = strstr(f[i], defaults[d].needle);
			/* "lịch sử" (history) is a subject, not a schedule */
			if (hit && defaults[d].kind == EDU_KIND_EVENT && strncmp(hit, "lịch sử", strlen("lịch sử")) == 0)
				continue;
			if (hit)
				k = defaults[d].kind;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(f[i]);
	free(f);
	return k ? k : dflt;
}

edu_err edu_import_map_parse(const char *s, edu_import_map *out, char **cat_out, char *why, size_t whylen)
{
	*cat_out = NULL;
	const char *eq = strrchr(s, '=');
	if (!eq || eq == s)
		return fail(why, whylen, EDU_EINVAL, "--map: cần dạng \"chuyên mục=kind\", được \"%.80s\"", s);
	edu_kind k = edu_kind_parse(eq + 1);
	if (k == EDU_KIND_NONE)
		return fail(why, whylen, EDU_EINVAL, "--map %.80s: kind phải là news, announcement, document hoặc event", s);
	char *cat = NULL;
	if (edu_text_nfc(s, (size_t)(eq - s), &cat) != EDU_OK)
		return fail(why, whylen, EDU_EINVAL, "--map: chuyên mục không phải UTF-8 hợp lệ");
	*cat_out = cat;
	out->category = cat;
	out->kind = k;
	return EDU_OK;
}

/* ---- entries ----------------------------------------------------------------- */

static void entry_clear(edu_import_entry *e)
{
	free(e->key);
	free(e->title);
	free(e->summary);
	free(e->body);
	free(e->author);
	free(e->link);
	for (size_t i = 0; i < e->n_tags; i++)
		free(e->tags[i]);
	free(e->tags);
	for (size_t i = 0; i < e->n_atts; i++) {
		free(e->atts[i].url);
		free(e->atts[i].name);
		free(e->atts[i].media_type);
	}
	free(e->atts);
	free(e->fail);
}

void edu_import_feed_free(edu_import_feed *feed)
{
	if (!feed)
		return;
	for (size_t i = 0; i < feed->n; i++)
		entry_clear(&feed->entries[i]);
	free(feed->entries);
	free(feed);
}

/* What a parser collects for one entry before it is finished. */
typedef struct raw {
	const char *id;          /* guid / id */
	const char *link;
	const char *title;
	bool title_html;
	const char *summary;     /* HTML or text */
	bool summary_html;
	const char *content;     /* HTML or text; NULL when xcontent is used */
	bool content_html;
	xmlNode *xcontent;       /* Atom inline XHTML */
	const char *author;
	const char *published, *updated;
	const char *cats[EDU_TAGS_MAX]; /* kind hints and tags */
	size_t n_cats;
	const char *tags[EDU_TAGS_MAX]; /* tags only */
	size_t n_tags;
	edu_kind dflt;
	bool use_cats_for_kind;
	const char *skip;
} raw;

typedef struct pctx {
	edu_import_feed *feed;
	const edu_import_opts *o;
	edu_err rv;
} pctx;

static void entry_fail(edu_import_entry *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void entry_fail(edu_import_entry *e, const char *fmt, ...)
{
	if (e->fail)
		return;
	char buf[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	e->fail = strdup(buf);
}

/* NFC copy of s with whitespace collapsed (one line); "" for NULL. */
static char *one_line(const char *s)
{
	char *t = NULL;
	if (edu_import_html_to_text(s ? s : "", s ? strlen(s) : 0, &t) != EDU_OK)
		return NULL;
	/* Double-escaped markup ("&lt;script&gt;") is text now, but titles and
	 * summaries end up in feeds whose readers often treat them as HTML:
	 * what still looks like a tag is stripped once more. */
	for (const char *p = t; (p = strchr(p, '<')) != NULL; p++) {
		if (isalpha((unsigned char)p[1]) || p[1] == '/' || p[1] == '!' || p[1] == '?') {
			char *u = NULL;
			if (edu_import_html_to_text(t, strlen(t), &u) != EDU_OK) {
				free(t);
				return NULL;
			}
			free(t);
			return u;
		}
	}
	return t;
}

/* Plain text (no markup expected) → collapsed NFC. */
static char *plain_line(const char *s)
{
	edu_buf b = EDU_BUF_INIT;
	bool sp = true;
	for (const char *p = s ? s : ""; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (isspace(ch) || ch < 0x20 || ch == 0x7f) {
			if (!sp && edu_buf_append(&b, " ", 1) != EDU_OK)
				goto fail;
			sp = true;
			continue;
		}
		sp = false;
		if (edu_buf_append(&b, p, 1) != EDU_OK)
			goto fail;
	}
	while (b.len && b.p[b.len - 1] == ' ')
		b.len--;
	char *out = NULL;
	if (edu_text_nfc(b.p ? b.p : "", b.len, &out) != EDU_OK)
		out = NULL;
	edu_buf_free(&b);
	return out;
fail:
	edu_buf_free(&b);
	return NULL;
}

/* Cuts s to at most max code points (in place), adding "…" when cut. */
static void cut_chars(char *s, size_t max)
{
	size_t chars = 0, i = 0;
	while (s[i]) {
		if (chars == max - 1) {
			size_t rest = i;
			size_t more = 0;
			while (s[rest]) {
				if (((unsigned char)s[rest] & 0xc0) != 0x80)
					more++;
				rest++;
			}
			if (more <= 1)
				return;
			strcpy(s + i, "…");
			return;
		}
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			chars++;
		i++;
		while (s[i] && ((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
	}
}

static bool url_usable(const char *u)
{
	if (!u || !*u || strlen(u) > EDU_URL_MAX || edu_text_has_ctl(u, false) || strchr(u, ' '))
		return false;
	return strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0 || u[0] == '/';
}

static void hex16(char out[17], const uint8_t *h)
{
	static const char dig[] = "0123456789abcdef";
	for (int i = 0; i < 8; i++) {
		out[2 * i] = dig[h[i] >> 4];
		out[2 * i + 1] = dig[h[i] & 15];
	}
	out[16] = '\0';
}

static void set_key(edu_import_entry *e, const char *prefix, const char *v, size_t vlen)
{
	if (vlen > EDU_IMPORT_KEY_MAX)
		vlen = EDU_IMPORT_KEY_MAX;
	size_t pl = strlen(prefix);
	if (!(e->key = malloc(pl + vlen + 1)))
		return;
	memcpy(e->key, prefix, pl);
	memcpy(e->key + pl, v, vlen);
	e->key[pl + vlen] = '\0';
	uint8_t h[32];
	char hx[17];
	crypto_hash_sha256(h, (const unsigned char *)e->key, strlen(e->key));
	hex16(hx, h);
	snprintf(e->tag, sizeof e->tag, EDU_IMPORT_TAG_PREFIX "%s", hx);
}

static edu_err add_tag(edu_import_entry *e, const char *t)
{
	if (!t)
		return EDU_OK;
	char *s = plain_line(t);
	if (!s)
		return EDU_OK; /* not UTF-8: the tag is left out */
	if (!*s || edu_text_chars(s) > EDU_SHORT_MAX || e->n_tags >= EDU_TAGS_MAX - 1 ||
	    strncmp(s, EDU_IMPORT_TAG_PREFIX, strlen(EDU_IMPORT_TAG_PREFIX)) == 0) {
		free(s);
		return EDU_OK;
	}
	for (size_t i = 0; i < e->n_tags; i++)
		if (strcmp(e->tags[i], s) == 0) {
			free(s);
			return EDU_OK;
		}
	char **n = realloc(e->tags, (e->n_tags + 1) * sizeof *n);
	if (!n) {
		free(s);
		return EDU_ENOMEM;
	}
	e->tags = n;
	e->tags[e->n_tags++] = s;
	return EDU_OK;
}

/* File name from a URL's last path segment, percent-decoded when that gives UTF-8. */
static char *url_file_name(const char *url)
{
	const char *end = url + strcspn(url, "?#");
	const char *st = end;
	while (st > url && st[-1] != '/')
		st--;
	edu_buf b = EDU_BUF_INIT;
	for (const char *p = st; p < end; p++) {
		unsigned v;
		if (*p == '%' && p + 2 < end && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2]) &&
		    sscanf(p + 1, "%2x", &v) == 1 && v != 0) {
			char ch = (char)v;
			edu_buf_append(&b, &ch, 1);
			p += 2;
		} else {
			edu_buf_append(&b, p, 1);
		}
	}
	char *name = NULL;
	if (b.len && !memchr(b.p, '/', b.len) && !memchr(b.p, '\\', b.len) && strcmp(b.p, ".") && strcmp(b.p, "..") &&
	    edu_text_nfc(b.p, b.len, &name) == EDU_OK && (edu_text_has_ctl(name, false) || edu_text_chars(name) > EDU_SHORT_MAX)) {
		free(name);
		name = NULL;
	}
	edu_buf_free(&b);
	return name ? name : strdup("tep-dinh-kem");
}

static edu_err add_att(edu_import_entry *e, const char *url, const char *type, uint64_t size)
{
	if (!url || !*url || e->n_atts >= EDU_IMPORT_ATTACH_MAX || strlen(url) > EDU_URL_MAX)
		return EDU_OK;
	for (size_t i = 0; i < e->n_atts; i++)
		if (strcmp(e->atts[i].url, url) == 0)
			return EDU_OK;
	edu_import_attachment *n = realloc(e->atts, (e->n_atts + 1) * sizeof *n);
	if (!n)
		return EDU_ENOMEM;
	e->atts = n;
	edu_import_attachment *a = &e->atts[e->n_atts];
	a->url = plain_line(url);
	a->name = url_file_name(url);
	a->media_type = plain_line(type ? type : "");
	a->size = size;
	if (!a->url || !a->name || !a->media_type) {
		free(a->url);
		free(a->name);
		free(a->media_type);
		return EDU_ENOMEM;
	}
	e->n_atts++;
	return EDU_OK;
}

static edu_err set_date(edu_import_entry *e, const char *s, int dtz, int64_t *t, int *tz, const char *what)
{
	if (!s || !*s)
		return EDU_OK;
	if (edu_import_parse_date(s, dtz, t, tz) != EDU_OK)
		entry_fail(e, "ngày %s không đọc được: \"%.60s\"", what, s);
	return EDU_OK;
}

/* Finishes e from r: text, key, kind, dates, body with its attachments list. */
static edu_err finish_entry(pctx *p, edu_import_entry *e, const raw *r)
{
	edu_err rv = EDU_OK;
	char *content = NULL;
	edu_buf body = EDU_BUF_INIT;
	int dtz = p->o ? p->o->default_tz_min : EDU_TZ_VN_MIN;
	e->skip = r->skip;
	/* text */
	e->title = r->title_html ? one_line(r->title) : plain_line(r->title);
	if (r->summary && *r->summary)
		e->summary = r->summary_html ? one_line(r->summary) : plain_line(r->summary);
	else
		e->summary = strdup("");
	e->author = plain_line(r->author);
	e->link = strdup(url_usable(r->link) ? r->link : "");
	if (!e->title || !e->summary || !e->author || !e->link) {
		entry_fail(e, "văn bản không phải UTF-8 hợp lệ");
		if (!e->title)
			e->title = strdup("");
		if (!e->summary)
			e->summary = strdup("");
		if (!e->author)
			e->author = strdup("");
		if (!e->link)
			e->link = strdup("");
		if (!e->title || !e->summary || !e->author || !e->link)
			return EDU_ENOMEM;
	}
	if (r->xcontent)
		rv = edu_import_md_from_nodes(r->xcontent, &content);
	else if (r->content && r->content_html)
		rv = edu_import_html_to_md(r->content, strlen(r->content), &content);
	else if (r->content)
		rv = edu_import_text_to_md(r->content, strlen(r->content), &content);
	else
		content = strdup("");
	if (rv == EDU_ENOMEM || (rv == EDU_OK && !content)) {
		rv = EDU_ENOMEM;
		goto out;
	}
	if (rv != EDU_OK) {
		entry_fail(e, "nội dung không đọc được: %s", edu_strerror(rv));
		rv = EDU_OK;
		free(content);
		content = strdup("");
		if (!content) {
			rv = EDU_ENOMEM;
			goto out;
		}
	}
	/* a title from the text when the source has none (JSON Feed allows that) */
	if (!*e->title) {
		char *t = NULL;
		if (*e->summary)
			t = strdup(e->summary);
		else if (r->xcontent && edu_import_text_from_nodes(r->xcontent, &t) == EDU_OK)
			; /* t set */
		else if (r->content)
			t = r->content_html ? one_line(r->content) : plain_line(r->content);
		if (t && strchr(t, '<')) {
			char *u = one_line(t);
			free(t);
			t = u;
		}
		if (t && *t) {
			cut_chars(t, TITLE_FALLBACK_CHARS);
			free(e->title);
			e->title = t;
		} else {
			free(t);
			entry_fail(e, "không có tiêu đề");
		}
	}
	cut_chars(e->title, EDU_TITLE_MAX);
	cut_chars(e->summary, EDU_SUMMARY_MAX);
	if (edu_text_chars(e->author) > EDU_SHORT_MAX)
		cut_chars(e->author, EDU_SHORT_MAX);
	/* key: guid/id, else link, else a hash of what the entry says */
	if (r->id && *r->id) {
		char *id = plain_line(r->id);
		if (id && *id)
			set_key(e, "id:", id, strlen(id));
		free(id);
	}
	if (!e->key && e->link[0])
		set_key(e, "link:", e->link, strlen(e->link));
	if (!e->key) {
		uint8_t h[32];
		char hx[65];
		crypto_hash_sha256_state st;
		crypto_hash_sha256_init(&st);
		const char *parts[] = {e->title, "\n", r->published ? r->published : "", "\n", content};
		for (size_t i = 0; i < 5; i++)
			crypto_hash_sha256_update(&st, (const unsigned char *)parts[i], strlen(parts[i]));
		crypto_hash_sha256_final(&st, h);
		sodium_bin2hex(hx, sizeof hx, h, sizeof h);
		set_key(e, "hash:", hx, 64);
	}
	if (!e->key) {
		rv = EDU_ENOMEM;
		goto out;
	}
	/* dates */
	set_date(e, r->published, dtz, &e->published, &e->tz_min, "đăng");
	int utz = dtz;
	set_date(e, r->updated, dtz, &e->updated, &utz, "cập nhật");
	if (!e->published && e->updated) {
		e->published = e->updated;
		e->tz_min = utz;
	} else if (!r->published || !*r->published) {
		e->tz_min = dtz;
	}
	if (e->updated && e->updated < e->published)
		e->updated = e->published;
	/* kind and tags */
	e->kind = r->use_cats_for_kind ? edu_import_kind_for(r->cats, r->n_cats, p->o ? p->o->maps : NULL,
	                                                       p->o ? p->o->n_maps : 0, r->dflt)
	                               : r->dflt;
	for (size_t i = 0; i < r->n_cats && rv == EDU_OK; i++)
		rv = add_tag(e, r->cats[i]);
	for (size_t i = 0; i < r->n_tags && rv == EDU_OK; i++)
		rv = add_tag(e, r->tags[i]);
	if (rv != EDU_OK)
		goto out;
	if ((rv = edu_buf_puts(&body, content)) != EDU_OK)
		goto out;
out:
	free(e->body);
	e->body = NULL;
	if (rv == EDU_OK)
		e->body = edu_buf_detach(&body, NULL);
	if (rv == EDU_OK && !e->body)
		e->body = strdup("");
	if (rv == EDU_OK && !e->body)
		rv = EDU_ENOMEM;
	edu_buf_free(&body);
	free(content);
	return rv;
}

/* Adds the "Tệp đính kèm (nguồn cũ)" list to the body once attachments are known. */
static edu_err finish_body(edu_import_entry *e)
{
	edu_buf b = EDU_BUF_INIT;
	edu_err rv = edu_buf_puts(&b, e->body);
	if (e->n_atts) {
		if (rv == EDU_OK && b.len)
			rv = edu_buf_puts(&b, "\n\n");
		if (rv == EDU_OK)
			rv = edu_buf_puts(&b, "## Tệp đính kèm (nguồn cũ)\n\n");
		for (size_t i = 0; i < e->n_atts && rv == EDU_OK; i++) {
			rv = edu_buf_puts(&b, "- ");
			if (rv == EDU_OK)
				rv = edu_import_md_link(&b, e->atts[i].name, e->atts[i].url);
			if (rv == EDU_OK && !edu_import_url_ok(e->atts[i].url, false)) {
				/* not linkable: still name the old address, as text */
				rv = edu_buf_puts(&b, ": ");
				if (rv == EDU_OK)
					rv = edu_import_md_link(&b, e->atts[i].url, NULL);
			}
			if (rv == EDU_OK)
				rv = edu_buf_puts(&b, "\n");
		}
	}
	if (rv == EDU_OK) {
		if (b.len > EDU_BODY_MAX)
			entry_fail(e, "nội dung %zu byte, quá giới hạn %d byte", b.len, EDU_BODY_MAX);
		char *nb = edu_buf_detach(&b, NULL);
		if (nb) {
			free(e->body);
			e->body = nb;
		}
	}
	edu_buf_free(&b);
	return rv;
}

static edu_import_entry *new_entry(pctx *p)
{
	edu_import_feed *f = p->feed;
	if (f->n >= EDU_IMPORT_ENTRIES_MAX)
		return NULL;
	edu_import_entry *n = realloc(f->entries, (f->n + 1) * sizeof *n);
	if (!n)
		return NULL;
	f->entries = n;
	memset(&n[f->n], 0, sizeof *n);
	n[f->n].index = f->n;
	return &n[f->n++];
}

/* ---- XML helpers -------------------------------------------------------------- */

static bool ns_is(const xmlNode *n, const char *href_prefix)
{
	if (!href_prefix)
		return n->ns == NULL || n->ns->href == NULL || n->ns->href[0] == '\0';
	return n->ns && n->ns->href && strncmp((const char *)n->ns->href, href_prefix, strlen(href_prefix)) == 0;
}

static bool el(const xmlNode *n, const char *ns, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0 && ns_is(n, ns);
}

static xmlNode *child(xmlNode *n, const char *ns, const char *name)
{
	for (xmlNode *k = n ? n->children : NULL; k; k = k->next)
		if (el(k, ns, name))
			return k;
	return NULL;
}

/* Text content owned by the arena (freed with the document pass). */
typedef struct arena {
	xmlChar *s[256];
	size_t n;
} arena;

static const char *keep(arena *a, xmlChar *s)
{
	if (!s)
		return NULL;
	if (a->n >= sizeof a->s / sizeof a->s[0]) {
		xmlFree(s);
		return NULL;
	}
	a->s[a->n++] = s;
	return (const char *)s;
}

static void arena_free(arena *a)
{
	for (size_t i = 0; i < a->n; i++)
		xmlFree(a->s[i]);
	a->n = 0;
}

static const char *text_of(arena *a, xmlNode *n)
{
	return n ? keep(a, xmlNodeGetContent(n)) : NULL;
}

static const char *child_text(arena *a, xmlNode *n, const char *ns, const char *name)
{
	return text_of(a, child(n, ns, name));
}

static const char *prop(arena *a, xmlNode *n, const char *name)
{
	return n ? keep(a, xmlGetProp(n, (const xmlChar *)name)) : NULL;
}

static edu_err read_xml(xmlDocPtr *out, const char *data, size_t len, const edu_import_opts *o, bool *recovered,
                        char *why, size_t whylen)
{
	*out = NULL;
	*recovered = false;
	if (len > EDU_IMPORT_INPUT_MAX)
		return fail(why, whylen, EDU_ETOOBIG, "tệp %zu byte, quá giới hạn %u byte", len, EDU_IMPORT_INPUT_MAX);
	/* No NOENT (no entity substitution into the tree from DTDs), no DTDLOAD,
	 * NONET: nothing outside the bytes is ever read. */
	int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;
	const char *enc = o && o->encoding ? o->encoding : NULL;
	xmlParserCtxtPtr ctx = xmlNewParserCtxt();
	if (!ctx)
		return EDU_ENOMEM;
	xmlDocPtr doc = xmlCtxtReadMemory(ctx, data, (int)len, NULL, enc, opts);
	char msg[200] = "";
	if (!doc) {
		const xmlError *e = xmlCtxtGetLastError(ctx);
		if (e && !enc && (e->code == XML_ERR_INVALID_CHAR || e->code == XML_ERR_INVALID_ENCODING)) {
			/* recovery would only garble the text: a legacy file needs its encoding named */
			int line = e->line;
			xmlFreeParserCtxt(ctx);
			return fail(why, whylen, EDU_EINVAL, "dòng %d: tệp không phải UTF-8 và không khai báo bảng mã; "
			            "hãy dùng --encoding (ví dụ windows-1258)", line);
		}
		snprintf(msg, sizeof msg, "dòng %d: %s", e ? e->line : 0, e && e->message ? e->message : "?");
		size_t ml = strlen(msg);
		while (ml && (msg[ml - 1] == '\n' || msg[ml - 1] == ' '))
			msg[--ml] = '\0';
		xmlCtxtReset(ctx);
		/* broken feeds are common: read what can be read, and say so */
		doc = xmlCtxtReadMemory(ctx, data, (int)len, NULL, enc, opts | XML_PARSE_RECOVER);
		*recovered = doc != NULL;
	}
	xmlFreeParserCtxt(ctx);
	if (!doc || !xmlDocGetRootElement(doc)) {
		xmlFreeDoc(doc);
		return fail(why, whylen, EDU_EINVAL, "không phải XML đọc được (%s)", msg[0] ? msg : "tệp rỗng");
	}
	/* Entity declarations are how XXE and "billion laughs" start: refuse them. */
	if ((doc->intSubset && doc->intSubset->entities) || (doc->extSubset && doc->extSubset->entities)) {
		xmlFreeDoc(doc);
		return fail(why, whylen, EDU_EINVAL, "tệp khai báo entity trong DTD: không nhận (XXE)");
	}
	if (*recovered && why && whylen)
		snprintf(why, whylen, "XML hỏng, đã đọc ở chế độ phục hồi (%s)", msg);
	*out = doc;
	return EDU_OK;
}

/* ---- RSS 2.0 and WXR ------------------------------------------------------------ */

typedef struct wp_author {
	const char *login, *name;
} wp_author;

static const char *rss_author(arena *a, xmlNode *item)
{
	const char *au = child_text(a, item, NS_DC, "creator");
	if (au && *au)
		return au;
	au = child_text(a, item, NULL, "author");
	if (au) { /* "email@example.com (Name)" → Name */
		const char *lp = strchr(au, '('), *rp = strrchr(au, ')');
		if (lp && rp && rp > lp + 1) {
			xmlChar *nm = xmlStrndup((const xmlChar *)lp + 1, (int)(rp - lp - 1));
			const char *k = keep(a, nm);
			if (k)
				return k;
		}
	}
	return au;
}

static edu_err parse_rss_item(pctx *p, xmlNode *item, bool wxr, const wp_author *authors, size_t n_authors)
{
	arena a = {.n = 0};
	raw r = {.dflt = EDU_KIND_NEWS, .use_cats_for_kind = true};
	edu_import_entry *e = new_entry(p);
	if (!e)
		return p->feed->n >= EDU_IMPORT_ENTRIES_MAX ? EDU_ETOOBIG : EDU_ENOMEM;
	xmlNode *guid = child(item, NULL, "guid");
	r.id = text_of(&a, guid);
	r.link = child_text(&a, item, NULL, "link");
	if ((!r.link || !*r.link) && r.id && guid) {
		const char *perma = prop(&a, guid, "isPermaLink");
		if (!perma || strcasecmp(perma, "false") != 0)
			r.link = r.id;
	}
	r.title = child_text(&a, item, NULL, "title");
	r.title_html = true;
	const char *desc = child_text(&a, item, NULL, "description");
	const char *encoded = child_text(&a, item, NS_CONTENT, "encoded");
	if (encoded && *encoded) {
		r.content = encoded;
		if (desc && *desc) {
			r.summary = desc;
			r.summary_html = true;
		}
	} else {
		r.content = desc;
	}
	r.content_html = true;
	r.author = rss_author(&a, item);
	r.published = child_text(&a, item, NULL, "pubDate");
	for (xmlNode *k = item->children; k; k = k->next) {
		if (!el(k, NULL, "category"))
			continue;
		const char *dom = prop(&a, k, "domain");
		const char *t = text_of(&a, k);
		if (!t)
			continue;
		if (wxr && dom && strcmp(dom, "post_tag") == 0) {
			if (r.n_tags < EDU_TAGS_MAX)
				r.tags[r.n_tags++] = t;
		} else if (!wxr || !dom || strcmp(dom, "category") == 0) {
			if (r.n_cats < EDU_TAGS_MAX)
				r.cats[r.n_cats++] = t;
		}
	}
	if (wxr) {
		const char *type = child_text(&a, item, NS_WP, "post_type");
		const char *status = child_text(&a, item, NS_WP, "status");
		const char *gmt = child_text(&a, item, NS_WP, "post_date_gmt");
		const char *local = child_text(&a, item, NS_WP, "post_date");
		const char *mgmt = child_text(&a, item, NS_WP, "post_modified_gmt");
		const char *excerpt = NULL;
		for (xmlNode *k = item->children; k; k = k->next)
			if (el(k, NS_EXCERPT, "encoded"))
				excerpt = text_of(&a, k);
		r.summary = excerpt && *excerpt ? excerpt : NULL;
		r.summary_html = true;
		r.content = encoded ? encoded : "";
		/* WordPress writes 0000-00-00 for dates it never set (drafts) */
		if (gmt && strncmp(gmt, "0000", 4) != 0) {
			r.published = gmt; /* re-read as GMT after finish_entry */
		} else if (local && strncmp(local, "0000", 4) != 0) {
			r.published = local;
		}
		r.updated = mgmt && strncmp(mgmt, "0000", 4) != 0 ? mgmt : NULL;
		if (r.author)
			for (size_t i = 0; i < n_authors; i++)
				if (authors[i].login && strcmp(authors[i].login, r.author) == 0 && authors[i].name &&
				    *authors[i].name)
					r.author = authors[i].name;
		if (type && strcmp(type, "page") == 0) {
			r.use_cats_for_kind = false;
			const char *page[] = {"@page"};
			r.dflt = edu_import_kind_for(page, 1, p->o ? p->o->maps : NULL, p->o ? p->o->n_maps : 0,
			                             EDU_KIND_ANNOUNCEMENT);
			/* categories still map posts; pages use @page only */
		} else if (type && strcmp(type, "post") == 0) {
			const char *post[] = {"@post"};
			r.dflt = edu_import_kind_for(post, 1, p->o ? p->o->maps : NULL, p->o ? p->o->n_maps : 0,
			                             EDU_KIND_NEWS);
		} else if (type) {
			r.skip = "post type";
		}
		if (status && (strcmp(status, "draft") == 0 || strcmp(status, "auto-draft") == 0 ||
		               strcmp(status, "pending") == 0))
			r.skip = "draft";
		else if (status && strcmp(status, "trash") == 0)
			r.skip = "trash";
		else if (status && strcmp(status, "private") == 0)
			r.skip = "private";
		else if (status && strcmp(status, "future") == 0)
			r.skip = "scheduled";
		/* WXR dates are "YYYY-MM-DD HH:MM:SS": post_date_gmt in GMT, post_date local */
		edu_err rv = finish_entry(p, e, &r);
		if (rv == EDU_OK && gmt && r.published == gmt) {
			int64_t t;
			if (edu_import_parse_date(gmt, 0, &t, NULL) == EDU_OK) {
				e->published = t;
				e->tz_min = p->o ? p->o->default_tz_min : EDU_TZ_VN_MIN;
				if (e->updated < e->published)
					e->updated = e->published;
			}
		}
		if (rv == EDU_OK && mgmt && r.updated == mgmt) {
			int64_t t;
			if (edu_import_parse_date(mgmt, 0, &t, NULL) == EDU_OK)
				e->updated = t > e->published ? t : e->published;
		}
		if (rv == EDU_OK && type && strcmp(type, "post") && strcmp(type, "page") && !e->fail) {
			/* a reason with the type's name, kept static */
			static const char *const known[] = {"nav_menu_item", "revision", "custom_css", "wp_block",
			                                    "wp_template", "wp_global_styles", "customize_changeset"};
			e->skip = "post type";
			for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
				if (strcmp(type, known[i]) == 0)
					e->skip = known[i];
		}
		arena_free(&a);
		return rv;
	}
	xmlNode *enc;
	edu_err rv = finish_entry(p, e, &r);
	for (enc = item->children; enc && rv == EDU_OK; enc = enc->next) {
		if (!el(enc, NULL, "enclosure"))
			continue;
		const char *len = prop(&a, enc, "length");
		rv = add_att(e, prop(&a, enc, "url"), prop(&a, enc, "type"), len ? strtoull(len, NULL, 10) : 0);
	}
	arena_free(&a);
	return rv;
}

static edu_err parse_rss(pctx *p, xmlDocPtr doc, bool wxr, char *why, size_t whylen)
{
	xmlNode *root = xmlDocGetRootElement(doc);
	if (!el(root, NULL, "rss"))
		return fail(why, whylen, EDU_EINVAL, "không phải %s: phần tử gốc là <%s>", wxr ? "WXR (WordPress)" : "RSS 2.0",
		            (const char *)root->name);
	xmlNode *ch = child(root, NULL, "channel");
	if (!ch)
		return fail(why, whylen, EDU_EINVAL, "RSS không có <channel>");
	if (wxr && !child(ch, NS_WP, "wxr_version"))
		return fail(why, whylen, EDU_EINVAL, "không phải WXR: thiếu <wp:wxr_version>");
	arena a = {.n = 0};
	wp_author authors[64];
	size_t n_authors = 0;
	edu_err rv = EDU_OK;
	if (wxr) {
		for (xmlNode *k = ch->children; k && n_authors < 64; k = k->next)
			if (el(k, NS_WP, "author")) {
				authors[n_authors].login = child_text(&a, k, NS_WP, "author_login");
				authors[n_authors].name = child_text(&a, k, NS_WP, "author_display_name");
				n_authors++;
			}
	}
	/* WXR attachments hang on their parent post (wp:post_parent = wp:post_id) */
	typedef struct { xmlNode *item; long parent; } wxr_att;
	wxr_att *atts = NULL;
	size_t n_atts = 0;
	long *post_ids = NULL;
	for (xmlNode *k = ch->children; k && rv == EDU_OK; k = k->next) {
		if (!el(k, NULL, "item"))
			continue;
		if (wxr) {
			xmlChar *type = xmlNodeGetContent(child(k, NS_WP, "post_type"));
			bool is_att = type && strcmp((const char *)type, "attachment") == 0;
			xmlFree(type);
			if (is_att) {
				xmlChar *par = xmlNodeGetContent(child(k, NS_WP, "post_parent"));
				wxr_att *na = realloc(atts, (n_atts + 1) * sizeof *na);
				if (!na) {
					xmlFree(par);
					rv = EDU_ENOMEM;
					break;
				}
				atts = na;
				atts[n_atts].item = k;
				atts[n_atts].parent = par ? strtol((const char *)par, NULL, 10) : 0;
				n_atts++;
				xmlFree(par);
				continue;
			}
		}
		rv = parse_rss_item(p, k, wxr, authors, n_authors);
		if (rv == EDU_OK && wxr) {
			long *np = realloc(post_ids, p->feed->n * sizeof *np);
			if (!np) {
				rv = EDU_ENOMEM;
				break;
			}
			post_ids = np;
			xmlChar *id = xmlNodeGetContent(child(k, NS_WP, "post_id"));
			post_ids[p->feed->n - 1] = id ? strtol((const char *)id, NULL, 10) : -1;
			xmlFree(id);
		}
	}
	if (rv == EDU_ETOOBIG)
		rv = fail(why, whylen, rv, "hơn %d mục", EDU_IMPORT_ENTRIES_MAX);
	p->feed->n_wxr_attachments = n_atts;
	for (size_t i = 0; i < n_atts && rv == EDU_OK; i++) {
		xmlChar *url = xmlNodeGetContent(child(atts[i].item, NS_WP, "attachment_url"));
		if (!url || !*url) {
			xmlFree(url);
			url = xmlNodeGetContent(child(atts[i].item, NULL, "guid"));
		}
		for (size_t j = 0; j < p->feed->n && atts[i].parent > 0; j++)
			if (post_ids && post_ids[j] == atts[i].parent)
				rv = add_att(&p->feed->entries[j], (const char *)url, NULL, 0);
		xmlFree(url);
	}
	free(atts);
	free(post_ids);
	arena_free(&a);
	return rv;
}

/* ---- Atom 1.0 ------------------------------------------------------------------ */

static const char *atom_text(arena *a, xmlNode *n, bool *html, xmlNode **xhtml)
{
	*html = false;
	if (xhtml)
		*xhtml = NULL;
	if (!n)
		return NULL;
	const char *type = prop(a, n, "type");
	if (type && strcmp(type, "xhtml") == 0) {
		xmlNode *div = child(n, NS_XHTML, "div");
		if (xhtml && div) {
			*xhtml = div->children;
			return NULL;
		}
		*html = true;
		/* a title in XHTML: its text */
		return text_of(a, div ? div : n);
	}
	if (type && (strcmp(type, "html") == 0 || strcmp(type, "text/html") == 0))
		*html = true;
	return text_of(a, n);
}

static const char *atom_author(arena *a, xmlNode *n)
{
	xmlNode *au = child(n, NS_ATOM, "author");
	return au ? child_text(a, au, NS_ATOM, "name") : NULL;
}

static edu_err parse_atom(pctx *p, xmlDocPtr doc, char *why, size_t whylen)
{
	xmlNode *root = xmlDocGetRootElement(doc);
	if (!el(root, NS_ATOM, "feed"))
		return fail(why, whylen, EDU_EINVAL, "không phải Atom 1.0: phần tử gốc là <%s>", (const char *)root->name);
	arena fa = {.n = 0};
	const char *feed_author = atom_author(&fa, root);
	edu_err rv = EDU_OK;
	for (xmlNode *k = root->children; k && rv == EDU_OK; k = k->next) {
		if (!el(k, NS_ATOM, "entry"))
			continue;
		arena a = {.n = 0};
		raw r = {.dflt = EDU_KIND_NEWS, .use_cats_for_kind = true};
		edu_import_entry *e = new_entry(p);
		if (!e) {
			rv = p->feed->n >= EDU_IMPORT_ENTRIES_MAX ? fail(why, whylen, EDU_ETOOBIG, "hơn %d mục",
			                                                 EDU_IMPORT_ENTRIES_MAX) : EDU_ENOMEM;
			break;
		}
		r.id = child_text(&a, k, NS_ATOM, "id");
		xmlNode *enclosures[EDU_IMPORT_ATTACH_MAX];
		size_t n_enc = 0;
		for (xmlNode *l = k->children; l; l = l->next) {
			if (!el(l, NS_ATOM, "link"))
				continue;
			const char *rel = prop(&a, l, "rel");
			if (!rel || strcmp(rel, "alternate") == 0) {
				if (!r.link)
					r.link = prop(&a, l, "href");
			} else if (strcmp(rel, "enclosure") == 0 && n_enc < EDU_IMPORT_ATTACH_MAX) {
				enclosures[n_enc++] = l;
			}
		}
		bool html;
		r.title = atom_text(&a, child(k, NS_ATOM, "title"), &html, NULL);
		r.title_html = html;
		r.summary = atom_text(&a, child(k, NS_ATOM, "summary"), &html, NULL);
		r.summary_html = html;
		xmlNode *xc = NULL;
		xmlNode *content = child(k, NS_ATOM, "content");
		if (content && prop(&a, content, "src")) {
			r.content = NULL; /* out-of-line content is never fetched */
		} else {
			r.content = atom_text(&a, content, &html, &xc);
			r.content_html = html;
			r.xcontent = xc;
		}
		if (!content) {
			/* no content: the summary is the body */
			bool sh = r.summary_html;
			xmlNode *sx = NULL;
			r.content = atom_text(&a, child(k, NS_ATOM, "summary"), &sh, &sx);
			r.content_html = sh;
			r.xcontent = sx;
			r.summary = NULL;
		}
		r.author = atom_author(&a, k);
		if (!r.author || !*r.author)
			r.author = feed_author;
		r.published = child_text(&a, k, NS_ATOM, "published");
		r.updated = child_text(&a, k, NS_ATOM, "updated");
		for (xmlNode *l = k->children; l; l = l->next) {
			if (!el(l, NS_ATOM, "category") || r.n_cats >= EDU_TAGS_MAX)
				continue;
			const char *label = prop(&a, l, "label"), *term = prop(&a, l, "term");
			if ((label && *label) || (term && *term))
				r.cats[r.n_cats++] = label && *label ? label : term;
		}
		rv = finish_entry(p, e, &r);
		for (size_t i = 0; i < n_enc && rv == EDU_OK; i++) {
			const char *len = prop(&a, enclosures[i], "length");
			rv = add_att(e, prop(&a, enclosures[i], "href"), prop(&a, enclosures[i], "type"),
			             len ? strtoull(len, NULL, 10) : 0);
		}
		arena_free(&a);
	}
	arena_free(&fa);
	return rv;
}

/* ---- JSON Feed 1.x -------------------------------------------------------------- */

static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s;
}

static const char *json_author(const json_t *o)
{
	const json_t *authors = json_object_get(o, "authors");
	if (json_is_array(authors) && json_array_size(authors))
		return jstr(json_array_get(authors, 0), "name");
	return jstr(json_object_get(o, "author"), "name"); /* JSON Feed 1.0 */
}

static edu_err parse_jsonfeed(pctx *p, const char *data, size_t len, char *why, size_t whylen)
{
	json_error_t je;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return fail(why, whylen, EDU_EINVAL, "JSON hỏng, dòng %d: %s", je.line, je.text);
	edu_err rv = EDU_OK;
	const char *ver = jstr(root, "version");
	const json_t *items = json_object_get(root, "items");
	if (!json_is_object(root) || !ver || strncmp(ver, "https://jsonfeed.org/version/1", 30) != 0) {
		rv = fail(why, whylen, EDU_EINVAL, "không phải JSON Feed 1.x: thiếu \"version\": \"https://jsonfeed.org/version/1.1\"");
		goto out;
	}
	if (!json_is_array(items)) {
		rv = fail(why, whylen, EDU_EINVAL, "JSON Feed không có mảng \"items\"");
		goto out;
	}
	if (json_array_size(items) > EDU_IMPORT_ENTRIES_MAX) {
		rv = fail(why, whylen, EDU_ETOOBIG, "hơn %d mục", EDU_IMPORT_ENTRIES_MAX);
		goto out;
	}
	const char *feed_author = json_author(root);
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it) {
		raw r = {.dflt = EDU_KIND_NEWS, .use_cats_for_kind = true};
		edu_import_entry *e = new_entry(p);
		if (!e) {
			rv = EDU_ENOMEM;
			break;
		}
		if (!json_is_object(it)) {
			entry_fail(e, "mục không phải một đối tượng JSON");
			it = NULL;
		}
		char idbuf[32];
		const json_t *id = json_object_get(it, "id");
		if (json_is_integer(id)) { /* 1.0 feeds sometimes use numbers */
			snprintf(idbuf, sizeof idbuf, "%lld", (long long)json_integer_value(id));
			r.id = idbuf;
		} else {
			r.id = json_string_value(id);
		}
		r.link = jstr(it, "url");
		if (!r.link)
			r.link = jstr(it, "external_url");
		r.title = jstr(it, "title");
		r.title_html = true;
		r.summary = jstr(it, "summary");
		r.summary_html = true; /* plain text by the spec; tag-like text is stripped all the same */
		if (jstr(it, "content_html")) {
			r.content = jstr(it, "content_html");
			r.content_html = true;
		} else {
			r.content = jstr(it, "content_text");
		}
		r.author = json_author(it);
		if (!r.author)
			r.author = feed_author;
		r.published = jstr(it, "date_published");
		r.updated = jstr(it, "date_modified");
		const json_t *tags = json_object_get(it, "tags");
		for (size_t t = 0; json_is_array(tags) && t < json_array_size(tags) && r.n_cats < EDU_TAGS_MAX; t++)
			if (json_string_value(json_array_get(tags, t)))
				r.cats[r.n_cats++] = json_string_value(json_array_get(tags, t));
		if ((rv = finish_entry(p, e, &r)) != EDU_OK)
			break;
		const json_t *atts = json_object_get(it, "attachments");
		for (size_t t = 0; json_is_array(atts) && t < json_array_size(atts) && rv == EDU_OK; t++) {
			const json_t *at = json_array_get(atts, t);
			const json_t *sz = json_object_get(at, "size_in_bytes");
			rv = add_att(e, jstr(at, "url"), jstr(at, "mime_type"),
			             json_is_integer(sz) && json_integer_value(sz) > 0 ? (uint64_t)json_integer_value(sz) : 0);
		}
		if (rv != EDU_OK)
			break;
	}
out:
	json_decref(root);
	return rv;
}

/* ---- encodings ---------------------------------------------------------------- */

/* Legacy bytes → UTF-8 through iconv (JSON has no declaration of its own). */
static edu_err to_utf8(const char *enc, const char *in, size_t len, char **out, size_t *out_len, char *why, size_t whylen)
{
	iconv_t cd = iconv_open("UTF-8", enc);
	if (cd == (iconv_t)-1)
		return fail(why, whylen, EDU_EINVAL, "không biết bảng mã \"%.40s\"", enc);
	size_t cap = len * 4 + 16;
	char *buf = malloc(cap);
	if (!buf) {
		iconv_close(cd);
		return EDU_ENOMEM;
	}
	char *ip = (char *)in, *op = buf;
	size_t il = len, ol = cap - 1;
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1) {
		size_t at = (size_t)(ip - in);
		iconv_close(cd);
		free(buf);
		return fail(why, whylen, EDU_EINVAL, "byte %zu không hợp lệ trong bảng mã %.40s", at, enc);
	}
	iconv_close(cd);
	*op = '\0';
	*out = buf;
	*out_len = (size_t)(op - buf);
	return EDU_OK;
}

edu_err edu_import_parse(edu_import_feed **out, edu_import_format f, const char *data, size_t len,
                         const edu_import_opts *o, char *why, size_t whylen)
{
	static const edu_import_opts defaults = {.default_tz_min = EDU_TZ_VN_MIN};
	*out = NULL;
	if (why && whylen)
		why[0] = '\0';
	if (!o)
		o = &defaults;
	if (len > EDU_IMPORT_INPUT_MAX)
		return fail(why, whylen, EDU_ETOOBIG, "tệp %zu byte, quá giới hạn %u byte", len, EDU_IMPORT_INPUT_MAX);
	pctx p = {.o = o};
	if (!(p.feed = calloc(1, sizeof *p.feed)))
		return EDU_ENOMEM;
	edu_err rv;
	char *conv = NULL;
	if (f == EDU_IMPORT_JSONFEED) {
		if (o->encoding && strcasecmp(o->encoding, "utf-8") != 0) {
			size_t cl = 0;
			if ((rv = to_utf8(o->encoding, data, len, &conv, &cl, why, whylen)) != EDU_OK)
				goto out;
			data = conv;
			len = cl;
		}
		if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
			data += 3, len -= 3; /* a UTF-8 BOM */
		rv = parse_jsonfeed(&p, data, len, why, whylen);
	} else if (f == EDU_IMPORT_RSS || f == EDU_IMPORT_ATOM || f == EDU_IMPORT_WXR) {
		xmlDocPtr doc = NULL;
		bool recovered = false;
		char rwhy[256] = "";
		if ((rv = read_xml(&doc, data, len, o, &recovered, rwhy, sizeof rwhy)) != EDU_OK) {
			edu_whyf(why, whylen, "%s", rwhy);
			goto out;
		}
		p.feed->recovered = recovered;
		rv = f == EDU_IMPORT_ATOM ? parse_atom(&p, doc, why, whylen)
		                          : parse_rss(&p, doc, f == EDU_IMPORT_WXR, why, whylen);
		xmlFreeDoc(doc);
		if (rv == EDU_OK && recovered)
			edu_whyf(why, whylen, "%s", rwhy); /* a warning for the report */
	} else {
		rv = fail(why, whylen, EDU_EINVAL, "định dạng không biết");
	}
	/* bodies get their attachment lists; later duplicates of a key are skipped */
	for (size_t i = 0; rv == EDU_OK && i < p.feed->n; i++) {
		edu_import_entry *e = &p.feed->entries[i];
		rv = finish_body(e);
		for (size_t j = 0; rv == EDU_OK && j < i; j++)
			if (e->key && p.feed->entries[j].key && strcmp(e->key, p.feed->entries[j].key) == 0 && !e->skip) {
				e->skip = "duplicate key";
				break;
			}
	}
out:
	free(conv);
	if (rv != EDU_OK) {
		edu_import_feed_free(p.feed);
		return rv;
	}
	*out = p.feed;
	return EDU_OK;
}

/* ---- the item body ----------------------------------------------------------------- */

struct json_t *edu_import_entry_json(const edu_import_entry *e, const struct json_t *uploaded)
{
	json_t *o = json_object(), *tags = json_array();
	if (!o || !tags)
		goto fail;
	for (size_t i = 0; i < e->n_tags; i++)
		if (json_array_append_new(tags, json_string(e->tags[i])) != 0)
			goto fail;
	if (json_array_append_new(tags, json_string(e->tag)) != 0)
		goto fail;
	char pub[EDU_RFC3339_LEN], upd[EDU_RFC3339_LEN];
	bool bad = false;
	bad |= json_object_set_new(o, "kind", json_string(edu_kind_name(e->kind))) != 0;
	bad |= json_object_set_new(o, "title", json_string(e->title)) != 0;
	bad |= json_object_set_new(o, "summary", json_string(e->summary)) != 0;
	bad |= json_object_set_new(o, "body", json_string(e->body)) != 0;
	bad |= json_object_set_new(o, "author", json_string(e->author)) != 0;
	bad |= json_object_set_new(o, "source_url", json_string(e->link)) != 0;
	bad |= json_object_set_new(o, "tags", tags) != 0;
	tags = NULL;
	if (e->published) {
		edu_time_format(pub, e->published, e->tz_min);
		edu_time_format(upd, e->updated ? e->updated : e->published, e->tz_min);
		bad |= json_object_set_new(o, "published", json_string(pub)) != 0;
		bad |= json_object_set_new(o, "updated", json_string(upd)) != 0;
	}
	if (uploaded && json_array_size(uploaded))
		bad |= json_object_set_new(o, "attachments", json_deep_copy(uploaded)) != 0;
	if (bad)
		goto fail;
	return o;
fail:
	json_decref(tags);
	json_decref(o);
	return NULL;
}
