#include "render.h"

#include <cmark.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* cmark 0.30 is safe by default; CMARK_OPT_SAFE documents the intent. */
#define CMARK_OPTS (CMARK_OPT_SAFE | CMARK_OPT_VALIDATE_UTF8)
#define BLOCKED_LINK_TEXT "[liên kết bị chặn]"

static int hexval(int h)
{
	if (h >= '0' && h <= '9')
		return h - '0';
	h = tolower(h);
	return h >= 'a' && h <= 'f' ? h - 'a' + 10 : -1;
}

/* Browsers ignore ASCII whitespace and controls inside a scheme, and we
 * refuse to guess how %XX might be decoded later: judge the URL after
 * stripping the former and decoding the latter. Returns the first of
 * ':' '/' '?' '#' (0 when none); scheme gets what precedes it, lower-cased,
 * or "" when that does not fit. */
static int first_delim(const char *url, char *scheme, size_t cap)
{
	size_t n = 0;
	bool fits = true;
	for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
		int c = *p;
		if (c == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
			c = hexval(p[1]) << 4 | hexval(p[2]);
			p += 2;
		}
		if (c <= 0x20 || c == 0x7f)
			continue;
		if (c == ':' || c == '/' || c == '?' || c == '#') {
			scheme[fits ? n : 0] = '\0';
			return c;
		}
		if (n + 1 < cap)
			scheme[n++] = (char)tolower(c);
		else
			fits = false;
	}
	scheme[0] = '\0';
	return 0;
}

bool edu_render_url_allowed(const char *url)
{
	if (url == NULL)
		return false;
	char scheme[16];
	int d = first_delim(url, scheme, sizeof scheme);
	if (d != ':')
		return true; /* relative path, query or fragment */
	return !strcmp(scheme, "http") || !strcmp(scheme, "https") || !strcmp(scheme, "mailto");
}

/* ---- AST walk ---- */

typedef struct node_list {
	cmark_node **v;
	size_t n, cap;
} node_list;

static edu_err list_push(node_list *l, cmark_node *node)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		cmark_node **v = realloc(l->v, cap * sizeof *v);
		if (v == NULL)
			return EDU_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = node;
	return EDU_OK;
}

/* An autolink shows its URL as text; a blocked one must not. */
static void neutralize_link(cmark_node *link)
{
	const char *url = cmark_node_get_url(link);
	cmark_node *child = cmark_node_first_child(link);
	if (child && cmark_node_get_type(child) == CMARK_NODE_TEXT && url &&
	    cmark_node_next(child) == NULL) {
		const char *text = cmark_node_get_literal(child);
		if (text && (strcmp(text, url) == 0 || !edu_render_url_allowed(text)))
			cmark_node_set_literal(child, BLOCKED_LINK_TEXT);
	}
	cmark_node_set_url(link, "#");
}

/* An image with a refused source is replaced by its alt text. */
static void drop_image(cmark_node *img)
{
	cmark_node *child;
	while ((child = cmark_node_first_child(img)) != NULL)
		cmark_node_insert_before(img, child);
	cmark_node_free(img);
}

/* "/path" (not "//host") gets base_url in front, so the HTML still works
 * where it is read away from this node (feed readers). */
static edu_err absolutize(cmark_node *node, const char *base_url)
{
	const char *url = cmark_node_get_url(node);
	if (base_url == NULL || url == NULL || url[0] != '/' || url[1] == '/' || url[1] == '\\')
		return EDU_OK;
	edu_buf b = EDU_BUF_INIT;
	edu_err rv = edu_buf_puts(&b, base_url);
	if (rv == EDU_OK)
		rv = edu_buf_puts(&b, url);
	if (rv == EDU_OK && !cmark_node_set_url(node, b.p))
		rv = EDU_ENOMEM;
	edu_buf_free(&b);
	return rv;
}

/* Collects refused links and images first: cmark's iterator must not see
 * nodes vanish under it. */
static edu_err sanitize_urls(cmark_node *doc, const char *base_url)
{
	node_list bad = {NULL, 0, 0};
	edu_err rv = EDU_OK;
	cmark_iter *it = cmark_iter_new(doc);
	if (it == NULL)
		return EDU_ENOMEM;
	cmark_event_type ev;
	while (rv == EDU_OK && (ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *node = cmark_iter_get_node(it);
		cmark_node_type t = cmark_node_get_type(node);
		if (ev != CMARK_EVENT_ENTER || (t != CMARK_NODE_LINK && t != CMARK_NODE_IMAGE))
			continue;
		if (edu_render_url_allowed(cmark_node_get_url(node)))
			rv = absolutize(node, base_url);
		else
			rv = list_push(&bad, node);
	}
	cmark_iter_free(it);
	/* Links cannot nest, and an image inside a refused link survives its
	 * parent's URL change, so the order of the fixes does not matter. */
	for (size_t i = 0; rv == EDU_OK && i < bad.n; i++) {
		if (cmark_node_get_type(bad.v[i]) == CMARK_NODE_LINK)
			neutralize_link(bad.v[i]);
		else
			drop_image(bad.v[i]);
	}
	free(bad.v);
	return rv;
}

static edu_err parse(const char *md, size_t len, cmark_node **doc)
{
	*doc = NULL;
	if (md == NULL && len > 0)
		return EDU_EINVAL;
	if (len > EDU_RENDER_INPUT_MAX)
		return EDU_ETOOBIG;
	*doc = cmark_parse_document(md ? md : "", len, CMARK_OPTS);
	return *doc ? EDU_OK : EDU_ENOMEM;
}

/* ---- plain text ---- */

typedef struct plain {
	edu_buf text;
	size_t cap;  /* stop collecting past this many bytes */
	bool space;  /* a separator is pending */
} plain;

/* Appends s with every run of whitespace and control characters as one space. */
static edu_err plain_put(plain *p, const char *s)
{
	edu_err rv = EDU_OK;
	while (*s && rv == EDU_OK && p->text.len <= p->cap) {
		size_t word = 0;
		while (s[word] && !((unsigned char)s[word] <= 0x20 || s[word] == 0x7f))
			word++;
		if (word && p->space)
			rv = edu_buf_append(&p->text, " ", 1);
		if (word) {
			p->space = false;
			if (rv == EDU_OK)
				rv = edu_buf_append(&p->text, s, word);
			s += word;
		}
		while (*s && ((unsigned char)*s <= 0x20 || *s == 0x7f)) {
			p->space = p->text.len > 0;
			s++;
		}
	}
	return rv;
}

static edu_err collect_text(cmark_node *doc, plain *p)
{
	cmark_iter *it = cmark_iter_new(doc);
	if (it == NULL)
		return EDU_ENOMEM;
	edu_err rv = EDU_OK;
	cmark_event_type ev;
	while (rv == EDU_OK && p->text.len <= p->cap && (ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *node = cmark_iter_get_node(it);
		switch (cmark_node_get_type(node)) {
		case CMARK_NODE_TEXT: case CMARK_NODE_CODE: case CMARK_NODE_CODE_BLOCK:
			rv = plain_put(p, cmark_node_get_literal(node));
			break;
		case CMARK_NODE_SOFTBREAK: case CMARK_NODE_LINEBREAK:
			p->space = p->text.len > 0;
			break;
		default:
			/* Block boundaries separate words; raw HTML is skipped. */
			if (cmark_node_get_type(node) <= CMARK_NODE_LAST_BLOCK && p->text.len > 0)
				p->space = true;
			break;
		}
	}
	cmark_iter_free(it);
	return rv;
}

/* Byte length of the first max_chars code points of s (all of it when shorter). */
static size_t prefix_bytes(const char *s, size_t len, size_t max_chars, bool *cut)
{
	size_t chars = 0;
	*cut = false;
	for (size_t i = 0; i < len; i++) {
		if (((unsigned char)s[i] & 0xC0) == 0x80)
			continue;
		if (chars == max_chars) {
			*cut = true;
			return i;
		}
		chars++;
	}
	return len;
}

static edu_err append_summary(cmark_node *doc, size_t max_chars, edu_buf *out)
{
	/* A character is at most 4 bytes: collect just enough to cut. */
	plain p = {EDU_BUF_INIT, max_chars ? max_chars * 4 + 4 : SIZE_MAX, false};
	edu_err rv = collect_text(doc, &p);
	if (rv != EDU_OK || p.text.len == 0)
		goto out;
	bool cut = false;
	size_t n = max_chars ? prefix_bytes(p.text.p, p.text.len, max_chars, &cut) : p.text.len;
	if (cut && p.text.p[n] != ' ') { /* do not end on half a word */
		size_t w = n;
		while (w > 0 && p.text.p[w - 1] != ' ')
			w--;
		if (w > 0)
			n = w;
	}
	while (cut && n > 0 && p.text.p[n - 1] == ' ')
		n--;
	rv = edu_buf_escape_html(out, p.text.p, n);
	if (rv == EDU_OK && cut)
		rv = edu_buf_puts(out, "…");
out:
	edu_buf_free(&p.text);
	return rv;
}

static edu_err append_html(cmark_node *doc, const char *base_url, edu_buf *out)
{
	edu_err rv = sanitize_urls(doc, base_url);
	if (rv != EDU_OK)
		return rv;
	char *html = cmark_render_html(doc, CMARK_OPTS);
	if (html == NULL)
		return EDU_ENOMEM;
	rv = edu_buf_puts(out, html);
	free(html);
	return rv;
}

edu_err edu_render_document(const char *md, size_t len, const edu_render_opts *o, edu_buf *html,
    edu_buf *summary)
{
	cmark_node *doc = NULL;
	size_t html_mark = html ? html->len : 0, sum_mark = summary ? summary->len : 0;
	edu_err rv = parse(md, len, &doc);
	/* The summary first: the URL pass rewrites link text. */
	if (rv == EDU_OK && summary)
		rv = append_summary(doc, o ? o->summary_chars : 0, summary);
	if (rv == EDU_OK && html)
		rv = append_html(doc, o ? o->base_url : NULL, html);
	if (rv != EDU_OK) {
		if (html && html->p)
			html->p[html->len = html_mark] = '\0';
		if (summary && summary->p)
			summary->p[summary->len = sum_mark] = '\0';
	}
	if (doc)
		cmark_node_free(doc);
	return rv;
}

edu_err edu_render_markdown(const char *md, size_t len, edu_buf *out)
{
	return edu_render_document(md, len, NULL, out, NULL);
}

edu_err edu_render_plain_summary(const char *md, size_t len, size_t max_chars, edu_buf *out)
{
	edu_render_opts o = {NULL, max_chars};
	return edu_render_document(md, len, &o, NULL, out);
}
