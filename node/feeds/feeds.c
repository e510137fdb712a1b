/* Feed generators. Writing goes through a sticky-error writer so each
 * generator reads top to bottom like the document it produces. */
#include "feeds.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/timefmt.h"
#include "render/render.h"

#define TAG_PREFIX "tag:edunet,2018:"
#define SUMMARY_CHARS 300 /* derived summary length when the item has none */

typedef struct writer {
	edu_buf *b;
	edu_err rv;
} writer;

static void w_raw(writer *w, const char *s)
{
	if (w->rv == EDU_OK)
		w->rv = edu_buf_puts(w->b, s);
}

static void w_fmt(writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void w_fmt(writer *w, const char *fmt, ...)
{
	if (w->rv != EDU_OK)
		return;
	char small[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof small)
		w->rv = EDU_EINTERNAL; /* callers only format short, bounded pieces */
	else
		w->rv = edu_buf_append(w->b, small, (size_t)n);
}

/* XML 1.0 Char production: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]. */
static bool xml_char(int32_t c)
{
	return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
	    (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

static const char *xml_entity(char c)
{
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&#39;";
	default: return NULL;
	}
}

/* Appends s[0..len), dropping invalid UTF-8 and characters XML 1.0 forbids,
 * and escaping markup characters when escape is set. Copies in runs. */
static void w_clean(writer *w, const char *s, size_t len, bool escape)
{
	size_t i = 0, run = 0;
	while (i < len && w->rv == EDU_OK) {
		unsigned char b = (unsigned char)s[i];
		const char *ent = NULL;
		size_t n = 1;
		bool keep;
		if (b < 0x80) { /* ASCII fast path: the bulk of rendered HTML */
			ent = escape ? xml_entity((char)b) : NULL;
			keep = b >= 0x20 || b == 0x9 || b == 0xA || b == 0xD;
		} else {
			utf8proc_int32_t c;
			utf8proc_ssize_t r = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
			    (utf8proc_ssize_t)(len - i), &c);
			keep = r > 0 && xml_char(c);
			n = r > 0 ? (size_t)r : 1;
		}
		if (keep && ent == NULL) {
			i += n;
			continue;
		}
		w->rv = edu_buf_append(w->b, s + run, i - run);
		if (ent && w->rv == EDU_OK)
			w->rv = edu_buf_puts(w->b, ent);
		i += n;
		run = i;
	}
	if (w->rv == EDU_OK)
		w->rv = edu_buf_append(w->b, s + run, len - run);
}

static void w_text(writer *w, const char *s) { w_clean(w, s ? s : "", s ? strlen(s) : 0, true); }

/* <tag>escaped text</tag> */
static void w_elem(writer *w, const char *tag, const char *text)
{
	w_fmt(w, "<%s>", tag);
	w_text(w, text);
	w_fmt(w, "</%s>\n", tag);
}

/* "<unit>:<seq>" escaped: items normally carry valid unit ids, but the
 * output must stay well-formed whatever the caller passes. */
static void w_item_id(writer *w, const edu_item *it)
{
	w_text(w, it->unit);
	w_fmt(w, ":%llu", (unsigned long long)it->seq);
}

/* ---- shared item facts ---- */

typedef struct feed_ctx {
	const edu_feed_meta *m;
	edu_buf html;     /* scratch: rendered body of the current item */
	edu_buf summary;  /* scratch: derived plain summary (HTML-escaped) */
} feed_ctx;

static const char *unit_label(const edu_feed_meta *m, const edu_item *it)
{
	const char *r = m->unit_name ? m->unit_name(it->unit, m->arg) : NULL;
	if (r && *r)
		return r;
	return it->unit_name && *it->unit_name ? it->unit_name : it->unit;
}

static int64_t item_updated(const edu_item *it)
{
	return it->updated > it->published ? it->updated : it->published;
}

/* Newest updated among the live items, or meta->now. */
static int64_t feed_updated(const edu_feed_meta *m, edu_item *const *items, size_t n, int *tz)
{
	int64_t best = -1;
	*tz = 0;
	for (size_t i = 0; i < n; i++) {
		if (items[i]->deleted || item_updated(items[i]) <= best)
			continue;
		best = item_updated(items[i]);
		*tz = items[i]->tz_offset_min;
	}
	return best >= 0 ? best : m->now;
}

/* Fills c->html (the body, or the summary as a paragraph when there is no
 * body) and c->summary (derived from the body when the item has none). */
static edu_err render_item(feed_ctx *c, const edu_item *it)
{
	edu_buf_reset(&c->html);
	edu_buf_reset(&c->summary);
	const char *body = it->body ? it->body : "", *sum = it->summary ? it->summary : "";
	edu_render_opts o = {c->m->base_url, SUMMARY_CHARS};
	edu_err rv = edu_render_document(body, strlen(body), &o, &c->html, *sum ? NULL : &c->summary);
	if (rv == EDU_OK && c->html.len == 0 && *sum) {
		rv = edu_buf_puts(&c->html, "<p>");
		if (rv == EDU_OK)
			rv = edu_buf_escape_html(&c->html, sum, strlen(sum));
		if (rv == EDU_OK)
			rv = edu_buf_puts(&c->html, "</p>\n");
	}
	return rv;
}

static const char *buf_str(const edu_buf *b) { return b->p ? b->p : ""; }

static edu_err check_args(const edu_feed_meta *m, edu_item *const *items, size_t n)
{
	if (m == NULL || m->base_url == NULL || (n && items == NULL))
		return EDU_EINVAL;
	if (n > EDU_FEED_ITEMS_MAX)
		return EDU_ETOOBIG;
	for (size_t i = 0; i < n; i++)
		if (items[i] == NULL)
			return EDU_EINVAL;
	return EDU_OK;
}

static const char *or_empty(const char *s) { return s ? s : ""; }

typedef void (*entry_fn)(writer *w, feed_ctx *c, const edu_item *it);

/* Runs the per-format head, entries and tail; restores *out on failure. */
static edu_err generate(const edu_feed_meta *m, edu_item *const *items, size_t n, edu_buf *out,
    void (*head)(writer *, const edu_feed_meta *, edu_item *const *, size_t), entry_fn entry,
    const char *tail)
{
	edu_err rv = check_args(m, items, n);
	if (rv != EDU_OK)
		return rv;
	size_t mark = out->len;
	feed_ctx c = {m, EDU_BUF_INIT, EDU_BUF_INIT};
	writer w = {out, EDU_OK};
	head(&w, m, items, n);
	for (size_t i = 0; i < n && w.rv == EDU_OK; i++) {
		if (items[i]->deleted)
			continue;
		w.rv = render_item(&c, items[i]);
		entry(&w, &c, items[i]);
	}
	w_raw(&w, tail);
	edu_buf_free(&c.html);
	edu_buf_free(&c.summary);
	if (w.rv != EDU_OK && out->p) {
		out->len = mark;
		out->p[mark] = '\0';
	}
	return w.rv;
}

/* ---- Atom 1.0 (RFC 4287) ---- */

static void w_time_elem(writer *w, const char *tag, int64_t t, int tz)
{
	char ts[EDU_RFC3339_LEN];
	edu_time_format(ts, t, tz);
	w_fmt(w, "<%s>%s</%s>\n", tag, ts, tag);
}

static void atom_head(writer *w, const edu_feed_meta *m, edu_item *const *items, size_t n)
{
	int tz;
	int64_t upd = feed_updated(m, items, n, &tz);
	w_raw(w, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	         "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"vi\" xml:base=\"");
	w_text(w, m->base_url);
	w_raw(w, "/\">\n<id>" TAG_PREFIX);
	w_text(w, m->node_id);
	w_raw(w, ":feed");
	w_text(w, m->self_path);
	w_raw(w, "</id>\n");
	w_elem(w, "title", m->title ? m->title : m->node_id);
	w_time_elem(w, "updated", upd, tz);
	w_raw(w, "<author><name>");
	w_text(w, m->title ? m->title : m->node_id);
	w_raw(w, "</name></author>\n<link rel=\"self\" type=\"application/atom+xml\" href=\"");
	w_text(w, m->base_url);
	w_text(w, m->self_path);
	w_raw(w, "\"/>\n<link rel=\"alternate\" type=\"text/html\" href=\"");
	w_text(w, m->base_url);
	w_raw(w, "/\"/>\n<generator>edunet</generator>\n");
}

static void atom_categories(writer *w, const edu_item *it)
{
	w_fmt(w, "<category term=\"%s\" label=\"", edu_kind_name(it->kind));
	w_text(w, edu_kind_label_vi(it->kind));
	w_raw(w, "\"/>\n");
	for (size_t i = 0; i < it->n_tags; i++) {
		w_raw(w, "<category term=\"");
		w_text(w, it->tags[i]);
		w_raw(w, "\"/>\n");
	}
}

static void atom_entry(writer *w, feed_ctx *c, const edu_item *it)
{
	const edu_feed_meta *m = c->m;
	const char *who = unit_label(m, it);
	w_raw(w, "<entry>\n");
	w_raw(w, "<id>" TAG_PREFIX);
	w_item_id(w, it);
	w_raw(w, "</id>\n");
	w_elem(w, "title", it->title);
	w_time_elem(w, "updated", item_updated(it), it->tz_offset_min);
	w_time_elem(w, "published", it->published, it->tz_offset_min);
	w_raw(w, "<author><name>");
	w_text(w, who);
	w_raw(w, "</name><uri>");
	w_text(w, m->base_url);
	w_raw(w, "/u/");
	w_text(w, it->unit);
	w_raw(w, "</uri></author>\n");
	if (it->author && *it->author) {
		w_raw(w, "<contributor><name>");
		w_text(w, it->author);
		w_raw(w, "</name></contributor>\n");
	}
	w_raw(w, "<link rel=\"alternate\" type=\"text/html\" href=\"");
	w_text(w, m->base_url);
	w_raw(w, "/i/");
	w_item_id(w, it);
	w_raw(w, "\"/>\n");
	atom_categories(w, it);
	/* The item's summary is plain text; the derived one is escaped HTML. */
	if (it->summary && *it->summary) {
		w_raw(w, "<summary type=\"text\">");
		w_text(w, it->summary);
	} else {
		w_raw(w, "<summary type=\"html\">");
		w_text(w, buf_str(&c->summary));
	}
	w_raw(w, "</summary>\n<content type=\"html\">");
	w_text(w, buf_str(&c->html));
	w_raw(w, "</content>\n<source><id>" TAG_PREFIX);
	w_text(w, it->unit);
	w_raw(w, "</id><title>");
	w_text(w, who);
	w_raw(w, "</title><link rel=\"alternate\" type=\"text/html\" href=\"");
	w_text(w, m->base_url);
	w_raw(w, "/u/");
	w_text(w, it->unit);
	w_raw(w, "\"/>");
	w_time_elem(w, "updated", item_updated(it), it->tz_offset_min);
	w_raw(w, "</source>\n</entry>\n");
}

edu_err edu_feed_atom(const edu_feed_meta *m, edu_item *const *items, size_t n, edu_buf *out)
{
	return generate(m, items, n, out, atom_head, atom_entry, "</feed>\n");
}

/* ---- RSS 2.0 ---- */

static void w_http_elem(writer *w, const char *tag, int64_t t)
{
	char ts[EDU_RFC3339_LEN];
	edu_time_format_http(ts, t);
	w_fmt(w, "<%s>%s</%s>\n", tag, ts, tag);
}

static void rss_head(writer *w, const edu_feed_meta *m, edu_item *const *items, size_t n)
{
	int tz;
	const char *title = m->title ? m->title : or_empty(m->node_id);
	w_raw(w, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	         "<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\" "
	         "xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n<channel>\n");
	w_elem(w, "title", title);
	w_raw(w, "<link>");
	w_text(w, m->base_url);
	w_raw(w, "/</link>\n<description>Tin tức, thông báo, văn bản và lịch công tác: ");
	w_text(w, title);
	w_raw(w, "</description>\n<language>vi</language>\n<generator>edunet</generator>\n");
	w_http_elem(w, "lastBuildDate", feed_updated(m, items, n, &tz));
	w_raw(w, "<atom:link rel=\"self\" type=\"application/rss+xml\" href=\"");
	w_text(w, m->base_url);
	w_text(w, m->self_path);
	w_raw(w, "\"/>\n");
}

static void rss_entry(writer *w, feed_ctx *c, const edu_item *it)
{
	const edu_feed_meta *m = c->m;
	w_raw(w, "<item>\n");
	w_elem(w, "title", it->title);
	w_raw(w, "<link>");
	w_text(w, m->base_url);
	w_raw(w, "/i/");
	w_item_id(w, it);
	w_raw(w, "</link>\n");
	w_elem(w, "description", buf_str(&c->html));
	w_raw(w, "<guid isPermaLink=\"false\">" TAG_PREFIX);
	w_item_id(w, it);
	w_raw(w, "</guid>\n");
	w_http_elem(w, "pubDate", it->published);
	w_elem(w, "dc:creator", unit_label(m, it));
	w_elem(w, "category", edu_kind_label_vi(it->kind));
	for (size_t i = 0; i < it->n_tags; i++)
		w_elem(w, "category", it->tags[i]);
	w_raw(w, "</item>\n");
}

edu_err edu_feed_rss(const edu_feed_meta *m, edu_item *const *items, size_t n, edu_buf *out)
{
	return generate(m, items, n, out, rss_head, rss_entry, "</channel>\n</rss>\n");
}

/* ---- JSON Feed 1.1 ---- */

/* A JSON string of s with invalid UTF-8 dropped (jansson refuses it). */
static json_t *jstr(const char *s)
{
	edu_buf b = EDU_BUF_INIT;
	writer w = {&b, EDU_OK};
	w_clean(&w, s ? s : "", s ? strlen(s) : 0, false);
	json_t *j = w.rv == EDU_OK ? json_stringn(b.p ? b.p : "", b.len) : NULL;
	edu_buf_free(&b);
	return j;
}

static json_t *jtime(int64_t t, int tz)
{
	char ts[EDU_RFC3339_LEN];
	edu_time_format(ts, t, tz);
	return json_string(ts);
}

/* base + path as a JSON string. */
static json_t *jurl(const char *base, const char *path)
{
	edu_buf b = EDU_BUF_INIT;
	writer w = {&b, EDU_OK};
	w_raw(&w, base);
	w_raw(&w, path ? path : "");
	json_t *j = w.rv == EDU_OK ? jstr(b.p) : NULL;
	edu_buf_free(&b);
	return j;
}

/* Sets obj[key] = v (stealing v); false when v is NULL or on failure. */
static bool jset(json_t *obj, const char *key, json_t *v)
{
	return v != NULL && json_object_set_new(obj, key, v) == 0;
}

static json_t *jauthors(const char *name)
{
	json_t *a = json_object();
	if (!jset(a, "name", jstr(name))) {
		json_decref(a);
		return NULL;
	}
	json_t *arr = json_array();
	if (json_array_append_new(arr, a) != 0) { /* takes a even on failure */
		json_decref(arr);
		return NULL;
	}
	return arr;
}

static json_t *jtags(const edu_item *it)
{
	json_t *tags = json_array();
	bool ok = json_array_append_new(tags, json_string(edu_kind_label_vi(it->kind))) == 0;
	for (size_t i = 0; ok && i < it->n_tags; i++)
		ok = json_array_append_new(tags, jstr(it->tags[i])) == 0;
	if (!ok) {
		json_decref(tags);
		return NULL;
	}
	return tags;
}

static json_t *json_entry(feed_ctx *c, const edu_item *it)
{
	char id[EDU_ITEM_ID_MAX + sizeof TAG_PREFIX], path[EDU_ITEM_ID_MAX + 4];
	snprintf(id, sizeof id, TAG_PREFIX "%s:%llu", it->unit, (unsigned long long)it->seq);
	snprintf(path, sizeof path, "/i/%s:%llu", it->unit, (unsigned long long)it->seq);
	json_t *e = json_object();
	bool ok = jset(e, "id", jstr(id)) && jset(e, "url", jurl(c->m->base_url, path)) &&
	    jset(e, "title", jstr(it->title)) &&
	    jset(e, "content_html", jstr(buf_str(&c->html))) &&
	    (!(it->summary && *it->summary) || jset(e, "summary", jstr(it->summary))) &&
	    jset(e, "date_published", jtime(it->published, it->tz_offset_min)) &&
	    jset(e, "date_modified", jtime(item_updated(it), it->tz_offset_min)) &&
	    jset(e, "authors", jauthors(unit_label(c->m, it))) && jset(e, "tags", jtags(it)) &&
	    jset(e, "_edunet", json_pack("{s:o, s:s}", "unit", jstr(it->unit), "kind",
	        edu_kind_name(it->kind)));
	if (!ok) {
		json_decref(e);
		return NULL;
	}
	return e;
}

static json_t *json_head(const edu_feed_meta *m, const char *title)
{
	json_t *j = json_object();
	bool ok = jset(j, "version", json_string("https://jsonfeed.org/version/1.1")) &&
	    jset(j, "title", jstr(title)) && jset(j, "home_page_url", jurl(m->base_url, "/")) &&
	    jset(j, "feed_url", jurl(m->base_url, m->self_path)) &&
	    jset(j, "language", json_string("vi")) && jset(j, "authors", jauthors(title)) &&
	    jset(j, "items", json_array());
	if (!ok) {
		json_decref(j);
		return NULL;
	}
	return j;
}

edu_err edu_feed_json(const edu_feed_meta *m, edu_item *const *items, size_t n, edu_buf *out)
{
	edu_err rv = check_args(m, items, n);
	if (rv != EDU_OK)
		return rv;
	feed_ctx c = {m, EDU_BUF_INIT, EDU_BUF_INIT};
	char *text = NULL;
	json_t *root = json_head(m, m->title ? m->title : or_empty(m->node_id));
	json_t *arr = root ? json_object_get(root, "items") : NULL;
	if (arr == NULL) {
		rv = EDU_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && rv == EDU_OK; i++) {
		if (items[i]->deleted)
			continue;
		if ((rv = render_item(&c, items[i])) != EDU_OK)
			break;
		if (json_array_append_new(arr, json_entry(&c, items[i])) != 0)
			rv = EDU_ENOMEM;
	}
	if (rv != EDU_OK)
		goto out;
	if ((text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER)) == NULL) {
		rv = EDU_ENOMEM;
		goto out;
	}
	rv = edu_buf_puts(out, text);
	if (rv == EDU_OK)
		rv = edu_buf_puts(out, "\n");
out:
	free(text);
	json_decref(root);
	edu_buf_free(&c.html);
	edu_buf_free(&c.summary);
	return rv;
}
