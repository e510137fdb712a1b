/* Imported HTML → CommonMark through an allow-list, on libxml2's HTML parser.
 *
 * Only structure we know is kept: paragraphs, line breaks, headings, lists,
 * block quotes, code, emphasis, links (http/https/mailto/relative), images
 * (http/https/relative) and tables (as GFM-style pipe rows, which cmark core
 * shows as readable text). Every other element is unwrapped to its text;
 * script, style, iframe, object, embed, svg, math, template, noscript and the
 * like are dropped with their content. No attribute other than a[href],
 * img[src] and img[alt] is ever read, so handlers and styles cannot pass.
 * Text is escaped so that the stored Markdown cannot carry raw HTML (the
 * renderer runs cmark in safe mode too: two layers). */
#include "import.h"
#include "import_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include "core/buf.h"
#include "text/text.h"

#define LIST_DEPTH_MAX 16 /* deeper lists are flattened into their parent */

typedef struct list_level {
	bool ordered;
	int n;          /* next number of an ordered list */
	size_t indent;  /* content column of this level's items */
} list_level;

typedef struct conv {
	edu_buf out;       /* finished blocks */
	edu_buf line;      /* inline Markdown of the open block; '\n' marks a hard break */
	int quote;         /* blockquote depth */
	list_level lists[LIST_DEPTH_MAX];
	int n_lists;
	bool li_open;      /* inside an li whose marker has not been written */
	char marker[16];   /* that marker ("- ", "3. ") */
	bool in_li;        /* inside some li: continuation lines are indented */
	int heading;       /* 1..6 while inside h1..h6 */
	int inline_only;   /* > 0 inside table cells: blocks become spaces */
	int depth;
	edu_err rv;
} conv;

static const char *const dropped[] = {
	"script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math",
	"template", "noscript", "head", "title", "meta", "link", "base", "form", "input", "button",
	"select", "textarea", "option", "audio", "video", "canvas", "param", "source", "track", "noembed",
	"noframes", "xmp", "plaintext", "portal", "dialog",
};

static const char *const blocks[] = {
	"div", "section", "article", "header", "footer", "nav", "main", "aside", "address", "figure",
	"figcaption", "dl", "dt", "dd", "center", "caption", "fieldset", "details", "summary", "html",
	"body", "legend", "hgroup",
};

static bool in_set(const char *name, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(name, set[i]) == 0)
			return true;
	return false;
}

static bool is_dropped(const char *name) { return in_set(name, dropped, sizeof dropped / sizeof dropped[0]); }

static bool is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcasecmp((const char *)n->name, name) == 0;
}

static void put(conv *c, edu_buf *b, const char *s, size_t len)
{
	if (c->rv == EDU_OK)
		c->rv = edu_buf_append(b, s, len);
}

static void puts_(conv *c, edu_buf *b, const char *s) { put(c, b, s, strlen(s)); }

static bool ends_blank(const edu_buf *b)
{
	return b->len == 0 || b->p[b->len - 1] == ' ' || b->p[b->len - 1] == '\n';
}

/* Appends text with HTML whitespace collapsed and Markdown escaped. */
static void add_text(conv *c, const char *s, size_t len)
{
	for (size_t i = 0; i < len && c->rv == EDU_OK; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v') {
			if (!ends_blank(&c->line))
				put(c, &c->line, " ", 1);
			continue;
		}
		if (ch < 0x20 || ch == 0x7f)
			continue; /* control characters never reach an item */
		bool esc = strchr("\\`*_[]<>|~", ch) != NULL ||
		    (ch == '&' && i + 1 < len && (isalnum((unsigned char)s[i + 1]) || s[i + 1] == '#'));
		if (esc)
			put(c, &c->line, "\\", 1);
		put(c, &c->line, (const char *)&s[i], 1);
	}
}

static void quote_prefix(conv *c, edu_buf *b)
{
	for (int i = 0; i < c->quote; i++)
		puts_(c, b, "> ");
}

static size_t cur_indent(const conv *c) { return c->n_lists ? c->lists[c->n_lists - 1].indent : 0; }

static void spaces(conv *c, edu_buf *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put(c, b, " ", 1);
}

/* A blank line between blocks (inside quotes: a bare ">"). */
static void separator(conv *c)
{
	if (c->out.len == 0)
		return;
	/* already after a separator line ("" or ">")? text never has a bare '>' */
	size_t end = c->out.len - 1, ls = end;
	while (ls && c->out.p[ls - 1] != '\n')
		ls--;
	if (strspn(c->out.p + ls, "> ") >= end - ls)
		return;
	for (int i = 0; i < c->quote; i++)
		puts_(c, &c->out, i ? " >" : ">");
	puts_(c, &c->out, "\n");
}

/* Writes one line of a block, escaping what would start a block there. */
static void emit_segment(conv *c, const char *s, size_t len)
{
	if (len && strchr("#+-=", s[0])) {
		put(c, &c->out, "\\", 1);
	} else {
		size_t d = 0;
		while (d < len && d < 9 && isdigit((unsigned char)s[d]))
			d++;
		if (d && d < len && (s[d] == '.' || s[d] == ')')) {
			put(c, &c->out, s, d);
			put(c, &c->out, "\\", 1);
			s += d;
			len -= d;
		}
	}
	put(c, &c->out, s, len);
}

/* Closes the open block: its lines go to out with the right prefixes. */
static void flush(conv *c)
{
	const char *p = c->line.p ? c->line.p : "";
	size_t len = c->line.len;
	/* trim spaces and breaks at both ends */
	while (len && (*p == ' ' || *p == '\n'))
		p++, len--;
	while (len && (p[len - 1] == ' ' || p[len - 1] == '\n'))
		len--;
	if (len == 0 || c->rv != EDU_OK) {
		edu_buf_reset(&c->line);
		return;
	}
	bool item_line = c->li_open;
	if (!c->in_li || !item_line)
		separator(c);
	quote_prefix(c, &c->out);
	if (item_line) {
		spaces(c, &c->out, cur_indent(c) - strlen(c->marker));
		puts_(c, &c->out, c->marker);
		c->li_open = false;
	} else {
		spaces(c, &c->out, c->in_li ? cur_indent(c) : 0);
	}
	for (int i = 0; i < c->heading; i++)
		put(c, &c->out, "#", 1);
	if (c->heading)
		put(c, &c->out, " ", 1);
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && p[i] != '\n')
			continue;
		const char *seg = p + start;
		size_t sl = i - start;
		while (sl && *seg == ' ')
			seg++, sl--;
		while (sl && seg[sl - 1] == ' ')
			sl--;
		if (start > 0) {
			/* headings cannot hold a hard break: the next line joins with a space */
			if (c->heading) {
				put(c, &c->out, " ", 1);
			} else {
				puts_(c, &c->out, "\\\n");
				quote_prefix(c, &c->out);
				spaces(c, &c->out, c->in_li ? cur_indent(c) : 0);
			}
		}
		if (c->heading && start > 0)
			put(c, &c->out, seg, sl);
		else
			emit_segment(c, seg, sl);
		start = i + 1;
	}
	puts_(c, &c->out, "\n");
	edu_buf_reset(&c->line);
}

static void walk(conv *c, xmlNode *n);

static void walk_children(conv *c, xmlNode *n)
{
	for (xmlNode *k = n->children; k && c->rv == EDU_OK; k = k->next)
		walk(c, k);
}

static bool is_blockish(const char *name)
{
	static const char *const more[] = {"p", "li", "td", "th", "tr", "h1", "h2", "h3", "h4", "h5",
	                                   "h6", "ul", "ol", "blockquote", "pre", "table", "hr"};
	return in_set(name, blocks, sizeof blocks / sizeof blocks[0]) ||
	    in_set(name, more, sizeof more / sizeof more[0]);
}

/* Text of a subtree without the dropped elements (for code and plain text);
 * spaced: block elements are set apart by a space. */
static void collect_text(conv *c, xmlNode *n, edu_buf *b, int depth, bool spaced)
{
	for (xmlNode *k = n; k && c->rv == EDU_OK; k = k->next) {
		if (k->type == XML_TEXT_NODE || k->type == XML_CDATA_SECTION_NODE) {
			if (k->content)
				puts_(c, b, (const char *)k->content);
		} else if (k->type == XML_ELEMENT_NODE && !is_dropped((const char *)k->name) &&
		           depth < EDU_IMPORT_HTML_DEPTH_MAX) {
			bool sp = spaced && is_blockish((const char *)k->name);
			if (is(k, "br") || sp)
				puts_(c, b, spaced ? " " : "\n");
			collect_text(c, k->children, b, depth + 1, spaced);
			if (sp)
				puts_(c, b, " ");
		}
	}
}

static size_t longest_run(const char *s, size_t len, char ch)
{
	size_t best = 0, run = 0;
	for (size_t i = 0; i < len; i++) {
		run = s[i] == ch ? run + 1 : 0;
		if (run > best)
			best = run;
	}
	return best;
}

/* Renders n's children into a fresh line buffer; *inner gets it (trimmed) and
 * *lead / *trail say whether spaces were cut at either end. */
static void render_inline(conv *c, xmlNode *n, edu_buf *inner, bool *lead, bool *trail)
{
	edu_buf saved = c->line;
	c->line = (edu_buf)EDU_BUF_INIT;
	walk_children(c, n);
	*inner = c->line;
	c->line = saved;
	*lead = inner->len && inner->p[0] == ' ';
	*trail = inner->len && inner->p[inner->len - 1] == ' ';
	size_t s = 0, e = inner->len;
	while (s < e && inner->p[s] == ' ')
		s++;
	while (e > s && inner->p[e - 1] == ' ')
		e--;
	if (s)
		memmove(inner->p, inner->p + s, e - s);
	inner->len = e - s;
	if (inner->p)
		inner->p[inner->len] = '\0';
}

static void wrap(conv *c, xmlNode *n, const char *mark)
{
	edu_buf in;
	bool lead, trail;
	render_inline(c, n, &in, &lead, &trail);
	if (lead && !ends_blank(&c->line))
		put(c, &c->line, " ", 1);
	if (in.len) {
		puts_(c, &c->line, mark);
		put(c, &c->line, in.p, in.len);
		puts_(c, &c->line, mark);
	}
	if (trail)
		put(c, &c->line, " ", 1);
	edu_buf_free(&in);
}

/* A link or image destination: <...> with spaces, brackets, backslashes and
 * controls percent-encoded. The URL was checked by edu_import_url_ok. */
static void put_dest(conv *c, const char *u)
{
	puts_(c, &c->line, "(<");
	for (const unsigned char *p = (const unsigned char *)u; *p; p++) {
		if (*p <= 0x20 || *p == 0x7f || *p == '<' || *p == '>' || *p == '\\') {
			char hex[4];
			snprintf(hex, sizeof hex, "%%%02X", *p);
			puts_(c, &c->line, hex);
		} else {
			put(c, &c->line, (const char *)p, 1);
		}
	}
	puts_(c, &c->line, ">)");
}

/* Trims ASCII whitespace around an attribute value (xmlFree the result). */
static char *attr(xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	if (!v)
		return NULL;
	char *s = (char *)v;
	size_t len = strlen(s), st = 0;
	while (st < len && isspace((unsigned char)s[st]))
		st++;
	while (len > st && isspace((unsigned char)s[len - 1]))
		len--;
	memmove(s, s + st, len - st);
	s[len - st] = '\0';
	return s;
}

static void do_link(conv *c, xmlNode *n)
{
	char *href = attr(n, "href");
	if (!href || !*href || !edu_import_url_ok(href, true)) {
		walk_children(c, n); /* unwrap to its text */
		xmlFree(href);
		return;
	}
	edu_buf in;
	bool lead, trail;
	render_inline(c, n, &in, &lead, &trail);
	if (lead && !ends_blank(&c->line))
		put(c, &c->line, " ", 1);
	/* a break inside link text would split the link: make it a space */
	for (size_t i = 0; i < in.len; i++)
		if (in.p[i] == '\n')
			in.p[i] = ' ';
	puts_(c, &c->line, "[");
	if (in.len) {
		put(c, &c->line, in.p, in.len);
	} else {
		edu_buf saved = c->line;
		c->line = (edu_buf)EDU_BUF_INIT;
		add_text(c, href, strlen(href));
		edu_buf t = c->line;
		c->line = saved;
		put(c, &c->line, t.p ? t.p : "", t.len);
		edu_buf_free(&t);
	}
	puts_(c, &c->line, "]");
	put_dest(c, href);
	if (trail)
		put(c, &c->line, " ", 1);
	edu_buf_free(&in);
	xmlFree(href);
}

static void do_image(conv *c, xmlNode *n)
{
	char *src = attr(n, "src"), *alt = attr(n, "alt");
	if (src && *src && edu_import_url_ok(src, false)) {
		puts_(c, &c->line, "![");
		if (alt) {
			edu_buf saved = c->line;
			c->line = (edu_buf)EDU_BUF_INIT;
			add_text(c, alt, strlen(alt));
			edu_buf t = c->line;
			c->line = saved;
			put(c, &c->line, t.p ? t.p : "", t.len);
			edu_buf_free(&t);
		}
		puts_(c, &c->line, "]");
		put_dest(c, src);
	} else if (alt && *alt) {
		add_text(c, alt, strlen(alt)); /* a dangerous source keeps only its description */
	}
	xmlFree(src);
	xmlFree(alt);
}

static void do_code(conv *c, xmlNode *n)
{
	edu_buf t = EDU_BUF_INIT;
	collect_text(c, n->children, &t, c->depth, false);
	for (size_t i = 0; i < t.len; i++)
		if (t.p[i] == '\n' || t.p[i] == '\r' || t.p[i] == '\t' || (unsigned char)t.p[i] < 0x20)
			t.p[i] = ' ';
	if (t.len && c->rv == EDU_OK) {
		size_t ticks = longest_run(t.p, t.len, '`') + 1;
		bool pad = t.p[0] == '`' || t.p[t.len - 1] == '`' || t.p[0] == ' ';
		for (size_t i = 0; i < ticks; i++)
			put(c, &c->line, "`", 1);
		if (pad)
			put(c, &c->line, " ", 1);
		put(c, &c->line, t.p, t.len);
		if (pad)
			put(c, &c->line, " ", 1);
		for (size_t i = 0; i < ticks; i++)
			put(c, &c->line, "`", 1);
	}
	edu_buf_free(&t);
}

static void do_pre(conv *c, xmlNode *n)
{
	edu_buf t = EDU_BUF_INIT;
	flush(c);
	collect_text(c, n->children, &t, c->depth, false);
	if (c->rv != EDU_OK || t.len == 0) {
		edu_buf_free(&t);
		return;
	}
	const char *p = t.p;
	size_t len = t.len;
	if (*p == '\n')
		p++, len--;
	while (len && (p[len - 1] == '\n' || p[len - 1] == ' '))
		len--;
	size_t ticks = longest_run(p, len, '`') + 1;
	if (ticks < 3)
		ticks = 3;
	separator(c);
	size_t ind = c->in_li ? cur_indent(c) : 0;
	quote_prefix(c, &c->out);
	spaces(c, &c->out, ind);
	for (size_t i = 0; i < ticks; i++)
		put(c, &c->out, "`", 1);
	puts_(c, &c->out, "\n");
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && p[i] != '\n')
			continue;
		quote_prefix(c, &c->out);
		spaces(c, &c->out, ind);
		for (size_t j = start; j < i; j++)
			if ((unsigned char)p[j] >= 0x20 || p[j] == '\t')
				put(c, &c->out, &p[j], 1);
		puts_(c, &c->out, "\n");
		start = i + 1;
	}
	quote_prefix(c, &c->out);
	spaces(c, &c->out, ind);
	for (size_t i = 0; i < ticks; i++)
		put(c, &c->out, "`", 1);
	puts_(c, &c->out, "\n");
	edu_buf_free(&t);
}

static void do_list(conv *c, xmlNode *n, bool ordered)
{
	if (c->inline_only || c->n_lists >= LIST_DEPTH_MAX) {
		put(c, &c->line, " ", 1);
		walk_children(c, n);
		put(c, &c->line, " ", 1);
		return;
	}
	flush(c);
	if (c->n_lists == 0)
		separator(c);
	char *start = ordered ? attr(n, "start") : NULL;
	long first = start ? strtol(start, NULL, 10) : 1;
	xmlFree(start);
	if (first < 0 || first > 999999)
		first = 1;
	size_t parent = cur_indent(c);
	c->lists[c->n_lists++] = (list_level){ordered, (int)first, parent};
	bool saved_li = c->in_li;
	for (xmlNode *k = n->children; k && c->rv == EDU_OK; k = k->next) {
		if (!is(k, "li")) {
			walk(c, k);
			continue;
		}
		list_level *lv = &c->lists[c->n_lists - 1];
		if (lv->ordered)
			snprintf(c->marker, sizeof c->marker, "%d. ", lv->n++);
		else
			snprintf(c->marker, sizeof c->marker, "- ");
		lv->indent = parent + strlen(c->marker);
		flush(c);
		c->li_open = true;
		c->in_li = true;
		walk_children(c, k);
		if (c->li_open && c->line.len == 0)
			puts_(c, &c->line, " "); /* keep empty items: flush writes nothing for them */
		flush(c);
		c->li_open = false;
	}
	flush(c);
	c->in_li = saved_li;
	c->n_lists--;
	if (c->n_lists == 0)
		separator(c);
}

/* Renders one table cell's content on one line, pipes escaped by add_text. */
static void cell_text(conv *c, xmlNode *cell, edu_buf *out)
{
	edu_buf in;
	bool lead, trail;
	c->inline_only++;
	render_inline(c, cell, &in, &lead, &trail);
	c->inline_only--;
	for (size_t i = 0; i < in.len; i++)
		if (in.p[i] == '\n')
			in.p[i] = ' ';
	put(c, out, in.p ? in.p : "", in.len);
	edu_buf_free(&in);
}

static void table_rows(conv *c, xmlNode *n, edu_buf *rows, size_t *n_rows, size_t *max_cols, int depth)
{
	for (xmlNode *k = n->children; k && c->rv == EDU_OK; k = k->next) {
		if (is(k, "thead") || is(k, "tbody") || is(k, "tfoot")) {
			if (depth < 4)
				table_rows(c, k, rows, n_rows, max_cols, depth + 1);
			continue;
		}
		if (!is(k, "tr"))
			continue;
		size_t cols = 0;
		edu_buf row = EDU_BUF_INIT;
		puts_(c, &row, "|");
		for (xmlNode *cell = k->children; cell && c->rv == EDU_OK; cell = cell->next) {
			if (!is(cell, "td") && !is(cell, "th"))
				continue;
			puts_(c, &row, " ");
			cell_text(c, cell, &row);
			puts_(c, &row, " |");
			cols++;
		}
		if (cols) {
			if (cols > *max_cols)
				*max_cols = cols;
			/* rows are kept one per line; the column count is prefixed for padding */
			char head[24];
			snprintf(head, sizeof head, "%zu\t", cols);
			puts_(c, rows, head);
			put(c, rows, row.p, row.len);
			puts_(c, rows, "\n");
			(*n_rows)++;
		}
		edu_buf_free(&row);
	}
}

static void do_table(conv *c, xmlNode *n)
{
	if (c->inline_only) {
		put(c, &c->line, " ", 1);
		walk_children(c, n);
		put(c, &c->line, " ", 1);
		return;
	}
	flush(c);
	/* a caption comes first, as its own paragraph */
	for (xmlNode *k = n->children; k; k = k->next)
		if (is(k, "caption")) {
			walk_children(c, k);
			flush(c);
		}
	edu_buf rows = EDU_BUF_INIT;
	size_t n_rows = 0, max_cols = 0;
	table_rows(c, n, &rows, &n_rows, &max_cols, 0);
	if (n_rows && c->rv == EDU_OK) {
		separator(c);
		size_t ind = c->in_li ? cur_indent(c) : 0;
		char *p = rows.p;
		for (size_t r = 0; r < n_rows; r++) {
			size_t cols = strtoul(p, &p, 10);
			p++; /* tab */
			char *nl = strchr(p, '\n');
			quote_prefix(c, &c->out);
			spaces(c, &c->out, ind);
			put(c, &c->out, p, (size_t)(nl - p));
			for (size_t i = cols; i < max_cols; i++)
				puts_(c, &c->out, "  |");
			puts_(c, &c->out, "\n");
			if (r == 0) {
				quote_prefix(c, &c->out);
				spaces(c, &c->out, ind);
				puts_(c, &c->out, "|");
				for (size_t i = 0; i < max_cols; i++)
					puts_(c, &c->out, " --- |");
				puts_(c, &c->out, "\n");
			}
			p = nl + 1;
		}
	}
	edu_buf_free(&rows);
}

static void do_element(conv *c, xmlNode *n)
{
	const char *name = (const char *)n->name;
	if (is_dropped(name))
		return;
	if (strcasecmp(name, "br") == 0) {
		put(c, &c->line, c->inline_only ? " " : "\n", 1);
	} else if (strcasecmp(name, "hr") == 0) {
		if (c->inline_only)
			return;
		flush(c);
		separator(c);
		quote_prefix(c, &c->out);
		puts_(c, &c->out, "***\n");
	} else if (strcasecmp(name, "p") == 0 || in_set(name, blocks, sizeof blocks / sizeof blocks[0])) {
		if (c->inline_only) {
			put(c, &c->line, " ", 1);
			walk_children(c, n);
			put(c, &c->line, " ", 1);
		} else if (c->li_open) {
			/* a paragraph inside an item continues its first line */
			if (c->line.len)
				put(c, &c->line, "\n", 1);
			walk_children(c, n);
		} else {
			flush(c);
			walk_children(c, n);
			flush(c);
		}
	} else if (strlen(name) == 2 && tolower((unsigned char)name[0]) == 'h' && name[1] >= '1' &&
	           name[1] <= '6') {
		if (c->inline_only || c->li_open) {
			wrap(c, n, "**");
			return;
		}
		flush(c);
		c->heading = name[1] - '0';
		walk_children(c, n);
		flush(c);
		c->heading = 0;
	} else if (strcasecmp(name, "ul") == 0 || strcasecmp(name, "ol") == 0 ||
	           strcasecmp(name, "menu") == 0) {
		do_list(c, n, strcasecmp(name, "ol") == 0);
	} else if (strcasecmp(name, "li") == 0) {
		/* an li outside any list: a paragraph */
		flush(c);
		walk_children(c, n);
		flush(c);
	} else if (strcasecmp(name, "blockquote") == 0) {
		if (c->inline_only) {
			walk_children(c, n);
			return;
		}
		flush(c);
		separator(c);
		c->quote++;
		walk_children(c, n);
		flush(c);
		c->quote--;
	} else if (strcasecmp(name, "pre") == 0) {
		if (c->inline_only)
			do_code(c, n);
		else
			do_pre(c, n);
	} else if (strcasecmp(name, "code") == 0 || strcasecmp(name, "kbd") == 0 ||
	           strcasecmp(name, "samp") == 0 || strcasecmp(name, "tt") == 0) {
		do_code(c, n);
	} else if (strcasecmp(name, "em") == 0 || strcasecmp(name, "i") == 0 || strcasecmp(name, "cite") == 0) {
		wrap(c, n, "*");
	} else if (strcasecmp(name, "strong") == 0 || strcasecmp(name, "b") == 0) {
		wrap(c, n, "**");
	} else if (strcasecmp(name, "a") == 0) {
		do_link(c, n);
	} else if (strcasecmp(name, "img") == 0) {
		do_image(c, n);
	} else if (strcasecmp(name, "table") == 0) {
		do_table(c, n);
	} else if (strcasecmp(name, "td") == 0 || strcasecmp(name, "th") == 0) {
		put(c, &c->line, " ", 1);
		walk_children(c, n);
		put(c, &c->line, " ", 1);
	} else {
		walk_children(c, n); /* unknown element: its text only */
	}
}

static void walk(conv *c, xmlNode *n)
{
	if (c->rv != EDU_OK)
		return;
	switch (n->type) {
	case XML_TEXT_NODE:
	case XML_CDATA_SECTION_NODE:
		if (n->content)
			add_text(c, (const char *)n->content, strlen((const char *)n->content));
		break;
	case XML_ELEMENT_NODE:
		if (c->depth >= EDU_IMPORT_HTML_DEPTH_MAX)
			break; /* hostile nesting: the subtree is dropped */
		c->depth++;
		do_element(c, n);
		c->depth--;
		break;
	default:
		break; /* comments, processing instructions, DTD nodes */
	}
}

static edu_err finish(conv *c, char **out)
{
	flush(c);
	edu_err rv = c->rv;
	if (rv == EDU_OK) {
		/* drop trailing separator lines ("" or ">"): text never has a bare '>' */
		for (;;) {
			while (c->out.len && c->out.p[c->out.len - 1] == '\n')
				c->out.len--;
			size_t ls = c->out.len;
			while (ls && c->out.p[ls - 1] != '\n')
				ls--;
			if (ls == c->out.len || strspn(c->out.p + ls, "> ") < c->out.len - ls)
				break;
			c->out.len = ls;
		}
		if (c->out.p)
			c->out.p[c->out.len] = '\0';
		rv = edu_text_nfc(c->out.p ? c->out.p : "", c->out.len, out);
	}
	edu_buf_free(&c->out);
	edu_buf_free(&c->line);
	return rv;
}

edu_err edu_import_md_from_nodes(xmlNode *first, char **out)
{
	conv c = {.rv = EDU_OK};
	for (xmlNode *k = first; k && c.rv == EDU_OK; k = k->next)
		walk(&c, k);
	return finish(&c, out);
}

static htmlDocPtr parse_html(const char *html, size_t len)
{
	if (len > EDU_IMPORT_INPUT_MAX || len > (size_t)INT32_MAX)
		return NULL;
	return htmlReadMemory(html, (int)len, NULL, "UTF-8",
	    HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_RECOVER |
	    HTML_PARSE_NOBLANKS);
}

edu_err edu_import_html_to_md(const char *html, size_t len, char **out)
{
	*out = NULL;
	if (len > EDU_IMPORT_INPUT_MAX)
		return EDU_ETOOBIG;
	if (len == 0)
		return (*out = strdup("")) ? EDU_OK : EDU_ENOMEM;
	htmlDocPtr doc = parse_html(html, len);
	if (!doc)
		return (*out = strdup("")) ? EDU_OK : EDU_ENOMEM; /* nothing the parser could read */
	edu_err rv = edu_import_md_from_nodes(xmlDocGetRootElement(doc), out);
	xmlFreeDoc(doc);
	return rv;
}

edu_err edu_import_text_from_nodes(xmlNode *first, char **out)
{
	conv c = {.rv = EDU_OK};
	edu_buf t = EDU_BUF_INIT, o = EDU_BUF_INIT;
	collect_text(&c, first, &t, 0, true);
	bool sp = true;
	for (size_t i = 0; i < t.len && c.rv == EDU_OK; i++) {
		unsigned char ch = (unsigned char)t.p[i];
		if (isspace(ch) || ch < 0x20 || ch == 0x7f) {
			if (!sp)
				c.rv = edu_buf_append(&o, " ", 1);
			sp = true;
			continue;
		}
		sp = false;
		c.rv = edu_buf_append(&o, &t.p[i], 1);
	}
	while (o.len && o.p[o.len - 1] == ' ')
		o.len--;
	edu_err rv = c.rv;
	if (rv == EDU_OK)
		rv = edu_text_nfc(o.p ? o.p : "", o.len, out);
	edu_buf_free(&t);
	edu_buf_free(&o);
	return rv;
}

edu_err edu_import_html_to_text(const char *html, size_t len, char **out)
{
	*out = NULL;
	if (len > EDU_IMPORT_INPUT_MAX)
		return EDU_ETOOBIG;
	/* plain text needs no parser (and "a < b" must stay as written) */
	if (!memchr(html, '<', len) && !memchr(html, '&', len)) {
		edu_buf o = EDU_BUF_INIT;
		edu_err rv = EDU_OK;
		bool sp = true;
		for (size_t i = 0; i < len && rv == EDU_OK; i++) {
			unsigned char ch = (unsigned char)html[i];
			if (isspace(ch) || ch < 0x20 || ch == 0x7f) {
				if (!sp)
					rv = edu_buf_append(&o, " ", 1);
				sp = true;
				continue;
			}
			sp = false;
			rv = edu_buf_append(&o, &html[i], 1);
		}
		while (o.len && o.p[o.len - 1] == ' ')
			o.len--;
		if (rv == EDU_OK)
			rv = edu_text_nfc(o.p ? o.p : "", o.len, out);
		edu_buf_free(&o);
		return rv;
	}
	htmlDocPtr doc = parse_html(html, len);
	if (!doc)
		return (*out = strdup("")) ? EDU_OK : EDU_ENOMEM;
	edu_err rv = edu_import_text_from_nodes(xmlDocGetRootElement(doc), out);
	xmlFreeDoc(doc);
	return rv;
}

edu_err edu_import_text_to_md(const char *text, size_t len, char **out)
{
	conv c = {.rv = EDU_OK};
	*out = NULL;
	if (len > EDU_IMPORT_INPUT_MAX)
		return EDU_ETOOBIG;
	size_t start = 0;
	for (size_t i = 0; i <= len && c.rv == EDU_OK; i++) {
		if (i < len && text[i] != '\n')
			continue;
		const char *l = text + start;
		size_t ll = i - start;
		size_t blank = 0;
		while (blank < ll && isspace((unsigned char)l[blank]))
			blank++;
		if (blank == ll) {
			flush(&c); /* an empty line ends the paragraph */
		} else {
			if (c.line.len)
				put(&c, &c.line, "\n", 1);
			add_text(&c, l, ll);
		}
		start = i + 1;
	}
	return finish(&c, out);
}

bool edu_import_url_ok(const char *url, bool mail)
{
	size_t len = strlen(url);
	if (len == 0 || len > EDU_URL_MAX || strchr(url, '\\'))
		return false; /* browsers read '\\' as '/': "\\\\evil" would be a host */
	/* browsers ignore controls and whitespace inside a scheme ("java\tscript:") */
	char clean[EDU_URL_MAX + 1];
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p > 0x20 && *p != 0x7f)
			clean[n++] = (char)tolower(*p);
	clean[n] = '\0';
	if (n == 0)
		return false;
	if (strncmp(clean, "http://", 7) == 0 || strncmp(clean, "https://", 8) == 0)
		return true;
	if (mail && strncmp(clean, "mailto:", 7) == 0)
		return true;
	/* relative: no scheme, i.e. no ':' before the first '/', '?' or '#' */
	size_t span = strcspn(clean, "/?#");
	return memchr(clean, ':', span) == NULL;
}

edu_err edu_import_md_link(edu_buf *b, const char *text, const char *url)
{
	conv c = {.rv = EDU_OK};
	bool ok = url && edu_import_url_ok(url, false);
	if (ok)
		put(&c, &c.line, "[", 1);
	add_text(&c, text, strlen(text));
	if (ok) {
		put(&c, &c.line, "]", 1);
		put_dest(&c, url);
	}
	if (c.rv == EDU_OK)
		c.rv = edu_buf_append(b, c.line.p ? c.line.p : "", c.line.len);
	edu_buf_free(&c.line);
	return c.rv;
}
