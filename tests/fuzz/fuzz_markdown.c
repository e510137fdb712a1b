/* Fuzzes CommonMark rendering (node/render) and checks its safety promise
 * (SPEC §2) the way a browser would read the output: no script, style,
 * iframe-like element, no on* event attribute, and no href/src whose scheme
 * (after entity decoding and the whitespace a browser strips) is other than
 * http, https or mailto. A bypass abort()s, so it is reported as a crash.
 * The output must also be valid UTF-8, and the plain summary free of tags. */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include "fuzz.h"
#include "render/render.h"
#include "text/text.h"

static bool ieq_prefix(const char *s, size_t n, const char *lit)
{
	size_t l = strlen(lit);
	if (n < l)
		return false;
	for (size_t i = 0; i < l; i++)
		if (tolower((unsigned char)s[i]) != lit[i])
			return false;
	return true;
}

/* Decodes the character references a browser decodes in attribute values
 * (numeric, and the named ones that matter for schemes), dropping what a URL
 * parser strips (ASCII tab/newline anywhere, C0 controls and spaces at the
 * ends). Result lowercased into out. */
static void url_as_browser(const char *v, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 8 < cap;) {
		unsigned long cp = (unsigned char)v[i];
		size_t adv = 1;
		if (v[i] == '&') {
			size_t k = i + 1;
			if (k < n && v[k] == '#') {
				k++;
				int base = 10;
				if (k < n && (v[k] == 'x' || v[k] == 'X'))
					base = 16, k++;
				unsigned long num = 0;
				size_t d0 = k;
				while (k < n && (base == 16 ? isxdigit((unsigned char)v[k]) : isdigit((unsigned char)v[k]))) {
					if (num < 0x110000)
						num = num * base + (unsigned long)(isdigit((unsigned char)v[k]) ? v[k] - '0'
						    : tolower((unsigned char)v[k]) - 'a' + 10);
					k++;
				}
				if (k > d0) {
					cp = num;
					if (k < n && v[k] == ';')
						k++;
					adv = k - i;
				}
			} else {
				static const struct { const char *name; char ch; } named[] = {
					{"colon;", ':'}, {"tab;", '\t'}, {"newline;", '\n'}, {"amp;", '&'},
					{"quot;", '"'}, {"apos;", '\''}, {"lt;", '<'}, {"gt;", '>'},
				};
				for (size_t m = 0; m < sizeof named / sizeof named[0]; m++) {
					if (ieq_prefix(v + k, n - k, named[m].name)) {
						cp = (unsigned char)named[m].ch;
						adv = 1 + strlen(named[m].name);
						break;
					}
				}
			}
		}
		i += adv;
		if (cp == '\t' || cp == '\n' || cp == '\r')
			continue;
		if (cp <= ' ' && o == 0)
			continue; /* leading C0/space */
		out[o++] = cp < 0x80 ? (char)tolower((int)cp) : '?';
	}
	while (o > 0 && (unsigned char)out[o - 1] <= ' ')
		o--;
	out[o] = '\0';
}

static void check_url(const char *v, size_t n, const char *html)
{
	char u[4096];
	url_as_browser(v, n, u, sizeof u);
	/* A scheme is [a-z][a-z0-9+.-]* before the first ':' */
	size_t i = 0;
	if (!isalpha((unsigned char)u[0]))
		return; /* relative, fragment, or no scheme */
	while (isalnum((unsigned char)u[i]) || u[i] == '+' || u[i] == '-' || u[i] == '.')
		i++;
	if (u[i] != ':')
		return;
	bool ok = (i == 4 && !strncmp(u, "http", 4)) || (i == 5 && !strncmp(u, "https", 5)) ||
	    (i == 6 && !strncmp(u, "mailto", 6));
	FUZZ_CHECK(ok, "URL with scheme '%.*s' in the output: %.*s\n--- html ---\n%s", (int)i, u, (int)n, v, html);
}

static void check_html(const char *h, size_t len)
{
	FUZZ_CHECK(edu_text_utf8_valid(h, len), "output is not valid UTF-8 (or has NUL)");
	for (size_t i = 0; i < len; i++) {
		if (h[i] != '<')
			continue;
		size_t k = i + 1;
		if (k < len && (h[k] == '/' || h[k] == '!'))
			k++;
		size_t t0 = k;
		while (k < len && isalnum((unsigned char)h[k]))
			k++;
		const char *tag = h + t0;
		size_t tl = k - t0;
		static const char *const bad[] = {"script", "style", "iframe", "frame", "object", "embed",
			"link", "meta", "base", "form", "svg", "math", "template", "applet", "input", "button",
			"textarea", "select", "noscript", "xmp", "plaintext", "frameset"};
		for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++)
			FUZZ_CHECK(!(tl == strlen(bad[b]) && ieq_prefix(tag, tl, bad[b])), "<%s> element in the output:\n%s",
			    bad[b], h);
		/* attributes up to '>' */
		while (k < len && h[k] != '>') {
			while (k < len && (isspace((unsigned char)h[k]) || h[k] == '/'))
				k++;
			size_t a0 = k;
			while (k < len && !isspace((unsigned char)h[k]) && h[k] != '=' && h[k] != '>' && h[k] != '/')
				k++;
			const char *an = h + a0;
			size_t al = k - a0;
			FUZZ_CHECK(!(al >= 2 && ieq_prefix(an, al, "on")), "event attribute %.*s in the output:\n%s",
			    (int)al, an, h);
			FUZZ_CHECK(!(al == 5 && ieq_prefix(an, al, "style")), "style attribute in the output:\n%s", h);
			while (k < len && isspace((unsigned char)h[k]))
				k++;
			if (k >= len || h[k] != '=') {
				if (al == 0 && k < len && h[k] != '>')
					k++;
				continue;
			}
			k++;
			while (k < len && isspace((unsigned char)h[k]))
				k++;
			size_t v0, v1;
			if (k < len && (h[k] == '"' || h[k] == '\'')) {
				char q = h[k++];
				v0 = k;
				while (k < len && h[k] != q)
					k++;
				v1 = k;
				if (k < len)
					k++;
			} else {
				v0 = k;
				while (k < len && !isspace((unsigned char)h[k]) && h[k] != '>')
					k++;
				v1 = k;
			}
			if ((al == 4 && ieq_prefix(an, al, "href")) || (al == 3 && ieq_prefix(an, al, "src")) ||
			    (al == 6 && ieq_prefix(an, al, "action")) || (al == 10 && ieq_prefix(an, al, "formaction")) ||
			    (al == 10 && ieq_prefix(an, al, "xlink:href")) || (al == 6 && ieq_prefix(an, al, "poster")) ||
			    (al == 10 && ieq_prefix(an, al, "background")))
				check_url(h + v0, v1 - v0, h);
		}
		i = k;
	}
}

/* Characters of escaped text as a reader sees them: "&lt;" is one. */
static size_t summary_chars(const char *s)
{
	size_t n = 0;
	for (; *s; n++) {
		const char *semi;
		if (*s == '&' && (semi = strchr(s, ';')) != NULL && semi - s <= 8) {
			s = semi + 1;
			continue;
		}
		s++;
		while ((*s & 0xC0) == 0x80)
			s++;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet();
	const char *md = (const char *)data;
	edu_buf html = EDU_BUF_INIT, sum = EDU_BUF_INIT, html2 = EDU_BUF_INIT;
	edu_err e = edu_render_markdown(md, size, &html);
	if (e == EDU_OK)
		check_html(html.p ? html.p : "", html.len);
	else
		FUZZ_CHECK(size > EDU_RENDER_INPUT_MAX || e == EDU_ENOMEM, "render failed: %s", edu_strerror(e));

	edu_render_opts o = {.base_url = "http://127.0.0.1:8080", .summary_chars = 200};
	if (edu_render_document(md, size, &o, &html2, &sum) == EDU_OK) {
		check_html(html2.p ? html2.p : "", html2.len);
		FUZZ_CHECK(edu_text_utf8_valid(sum.p ? sum.p : "", sum.len), "summary not valid UTF-8");
		FUZZ_CHECK(!sum.p || !memchr(sum.p, '<', sum.len), "summary contains '<': %s", sum.p);
		FUZZ_CHECK(summary_chars(sum.p ? sum.p : "") <= 201, "summary of %zu characters: %s",
		    summary_chars(sum.p ? sum.p : ""), sum.p);
	}
	edu_buf_free(&html);
	edu_buf_free(&html2);
	edu_buf_free(&sum);
	return 0;
}
