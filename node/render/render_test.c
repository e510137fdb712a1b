#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "render/render.h"

static char *render(const char *md)
{
	edu_buf b = EDU_BUF_INIT;
	assert_int_equal(edu_render_markdown(md, strlen(md), &b), EDU_OK);
	return b.p ? b.p : strdup("");
}

static void basic(void **st)
{
	char *h = render("# Tiêu đề\n\nHọc sinh **giỏi** và *chăm*.\n\n- một\n- hai\n");
	assert_non_null(strstr(h, "<h1>Tiêu đề</h1>"));
	assert_non_null(strstr(h, "<strong>giỏi</strong>"));
	assert_non_null(strstr(h, "<li>một</li>"));
	free(h);
	/* Appends to what is already there. */
	edu_buf b = EDU_BUF_INIT;
	edu_buf_puts(&b, "<div>");
	assert_int_equal(edu_render_markdown("x", 1, &b), EDU_OK);
	assert_string_equal(b.p, "<div><p>x</p>\n");
	edu_buf_free(&b);
	/* Invalid UTF-8 and NUL are replaced, never passed through. */
	h = render("a\xFF" "b");
	assert_non_null(strstr(h, "a\xEF\xBF\xBD" "b"));
	free(h);
	b = (edu_buf)EDU_BUF_INIT;
	assert_int_equal(edu_render_markdown("a\0b", 3, &b), EDU_OK);
	assert_non_null(strstr(b.p, "a\xEF\xBF\xBD" "b"));
	edu_buf_free(&b);
}

static void url_allowed(void **st)
{
	const char *ok[] = {"http://x.vn", "HTTPS://X.VN/a?b#c", "mailto:a@b.vn", "/i/ab:1",
	    "i/ab:1", "../x", "#top", "?q=a:b", "", "//cdn.example/x", "a-very-long-relative-path-name",
	    "./a:b", "tin-tuc/2025/bai-viet:1"};
	const char *bad[] = {"javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:x",
	    "java\tscript:x", "java\nscript:x", "jav\x01" "ascript:x", "%6A%61vascript:x",
	    "javascript%3Aalert(1)", "vbscript:x", "data:text/html,x", "DATA:image/png;base64,AA",
	    "file:///etc/passwd", "foo:bar", ":x", "a-very-long-scheme-name-here:x"};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (!edu_render_url_allowed(ok[i]))
			fail_msg("refused %s", ok[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (edu_render_url_allowed(bad[i]))
			fail_msg("allowed %s", bad[i]);
	assert_false(edu_render_url_allowed(NULL));
}

/* Attribute names cmark emits; anything else (on*, style, srcdoc…) is a leak. */
static bool attr_ok(const char *name, size_t n)
{
	static const char *const allowed[] = {"href", "src", "alt", "title", "class", "start"};
	for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
		if (strlen(allowed[i]) == n && strncasecmp(name, allowed[i], n) == 0)
			return true;
	return false;
}

static bool value_dangerous(const char *v, size_t n)
{
	char buf[64];
	size_t k = 0;
	for (size_t i = 0; i < n && k < sizeof buf - 1; i++)
		if (!isspace((unsigned char)v[i]))
			buf[k++] = (char)tolower((unsigned char)v[i]);
	buf[k] = '\0';
	return !strncmp(buf, "javascript", 10) || !strncmp(buf, "vbscript", 8) ||
	    !strncmp(buf, "data", 4) || !strncmp(buf, "file", 4) || strstr(buf, "script:");
}

/* Walks every tag of the output: element names and attributes must be harmless. */
static void assert_tags_safe(const char *in, const char *h)
{
	static const char *const elems[] = {"p", "a", "img", "em", "strong", "code", "pre", "h1",
	    "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "hr", "br", "!--"};
	for (const char *p = strchr(h, '<'); p; p = strchr(p + 1, '<')) {
		const char *q = p + 1 + (p[1] == '/');
		size_t n = strcspn(q, " >/");
		bool known = false;
		for (size_t i = 0; i < sizeof elems / sizeof elems[0]; i++)
			known |= strlen(elems[i]) == n && !strncmp(q, elems[i], n);
		if (!known)
			fail_msg("input %s: element %.*s in %s", in, (int)n, q, h);
		if (!strncmp(q, "!--", 3))
			continue;
		const char *a = q + n;
		while (*a && *a != '>') {
			while (*a == ' ' || *a == '/')
				a++;
			if (*a == '>' || !*a)
				break;
			size_t an = strcspn(a, "= >");
			if (!attr_ok(a, an))
				fail_msg("input %s: attribute %.*s in %s", in, (int)an, a, h);
			bool is_url = (an == 4 && !strncmp(a, "href", 4)) || (an == 3 && !strncmp(a, "src", 3));
			a += an;
			if (*a == '=') {
				assert_true(a[1] == '"'); /* cmark always quotes */
				const char *v = a + 2, *e = strchr(v, '"');
				assert_non_null(e);
				if (is_url && value_dangerous(v, (size_t)(e - v)))
					fail_msg("input %s: url %.*s", in, (int)(e - v), v);
				a = e + 1;
			}
		}
	}
}

static void assert_no_substr(const char *in, const char *h, const char *bad)
{
	size_t n = strlen(bad);
	for (const char *p = h; *p; p++)
		if (strncasecmp(p, bad, n) == 0)
			fail_msg("input %s: found %s in %s", in, bad, h);
}

/* An event handler is an on* attribute: look inside tags, outside quoted values. */
static void assert_no_handler(const char *in, const char *h)
{
	bool in_tag = false, in_value = false;
	for (const char *p = h; *p; p++) {
		if (in_value) {
			in_value = *p != '"';
			continue;
		}
		if (*p == '<' || *p == '>') {
			in_tag = *p == '<';
			continue;
		}
		if (in_tag && *p == '"') {
			in_value = true;
			continue;
		}
		if (!in_tag || !isspace((unsigned char)p[0]) || strncasecmp(p + 1, "on", 2) != 0)
			continue;
		const char *q = p + 3;
		while (isalpha((unsigned char)*q))
			q++;
		if (q > p + 3 && *q == '=')
			fail_msg("input %s: handler at %s", in, p);
	}
}

static const char *const hostile_md[] = {
	"<script>alert(1)</script>",
	"<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
	"<scr<script>ipt>alert(1)</script>",
	"text <script>alert(1)</script> inline",
	"<img src=x onerror=alert(1)>",
	"<IMG SRC=\"x\" ONERROR=\"alert(1)\">",
	"<svg onload=alert(1)>",
	"<svg><script>alert(1)</script></svg>",
	"<iframe src=\"https://evil.example\"></iframe>",
	"<iframe srcdoc=\"<script>alert(1)</script>\">",
	"<div style=\"background:url(javascript:alert(1))\">x</div>",
	"<p style=\"color:red\">red</p>",
	"<a href=\"javascript:alert(1)\">x</a>",
	"<object data=\"data:text/html,<script>alert(1)</script>\"></object>",
	"<body onload=alert(1)>",
	"<details open ontoggle=alert(1)>",
	"<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
	"[x](javascript:alert(1))",
	"[x](JaVaScRiPt:alert(1))",
	"[x]( javascript:alert(1))",
	"[x](jav&#x09;ascript:alert(1))",
	"[x](jav&#9;ascript:alert(1))",
	"[x](&#106;avascript:alert(1))",
	"[x](&#x6A;&#x61;&#x76;&#x61;script:alert(1))",
	"[x](java&Tab;script:alert(1))",
	"[x](%6A%61vascript:alert(1))",
	"[x](javascript%3Aalert(1))",
	"[x](<javascript:alert(1)>)",
	"[x](java\\\nscript:alert(1))",
	"[x](vbscript:msgbox(1))",
	"[x](VBScript:msgbox(1))",
	"[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
	"[x](DATA:text/html,<script>alert(1)</script>)",
	"[x](file:///etc/passwd)",
	"![x](javascript:alert(1))",
	"![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
	"![x](data:image/png;base64,iVBORw0KGgo=)",
	"<javascript:alert(1)>",
	"<JAVASCRIPT:alert(1)>",
	"<vbscript:msgbox(1)>",
	"<data:text/html,x>",
	"[x][r]\n\n[r]: javascript:alert(1)",
	"[x][r]\n\n[r]: <data:text/html,x> \"t\"",
	"[x](http://ok.example \"t\\\" onmouseover=\\\"alert(1)\")",
	"```\" onload=\"alert(1)\n<script>x</script>\n```",
	"`<script>alert(1)</script>`",
	"    <iframe src=x></iframe>",
	"> <svg/onload=alert(1)>",
	"* <style>body{display:none}</style>",
	"[<img src=x onerror=alert(1)>](https://ok.example)",
	"![<svg onload=alert(1)>](javascript:x)",
	"[![x](javascript:a)](javascript:b)",
	"<a href=\"http://ok\" onclick=\"alert(1)\">x</a>",
	"<!-- --><script>alert(1)</script><!-- -->",
	"<form action=javascript:alert(1)><button>x</button></form>",
	"<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
	"<base href=\"javascript:/\">",
	"<link rel=stylesheet href=data:text/css,x>",
};

static void hostile(void **st)
{
	for (size_t i = 0; i < sizeof hostile_md / sizeof hostile_md[0]; i++) {
		char *h = render(hostile_md[i]);
		assert_tags_safe(hostile_md[i], h);
		assert_no_handler(hostile_md[i], h);
		const char *subs[] = {"<script", "<iframe", "<svg", "<style", "<object", "<form",
		    "<meta", "<base", "<link", "<math", "style=", "javascript:", "vbscript:", "data:",
		    "file:"};
		for (size_t k = 0; k < sizeof subs / sizeof subs[0]; k++)
			assert_no_substr(hostile_md[i], h, subs[k]);
		free(h);
	}
	assert_true(sizeof hostile_md / sizeof hostile_md[0] >= 30);
}

static void links_kept(void **st)
{
	char *h = render("[Sở](https://so.dongthap.edu.vn/tin?a=1&b=2) [tin](/i/ab:1) "
	    "[mục](#muc) [thư](mailto:vanphong@dongthap.edu.vn) <https://x.vn>");
	assert_non_null(strstr(h, "href=\"https://so.dongthap.edu.vn/tin?a=1&amp;b=2\""));
	assert_non_null(strstr(h, "href=\"/i/ab:1\""));
	assert_non_null(strstr(h, "href=\"#muc\""));
	assert_non_null(strstr(h, "href=\"mailto:vanphong@dongthap.edu.vn\""));
	assert_non_null(strstr(h, "<a href=\"https://x.vn\">https://x.vn</a>"));
	free(h);
	h = render("[bấm vào đây](javascript:alert(1))");
	assert_string_equal(h, "<p><a href=\"#\">bấm vào đây</a></p>\n");
	free(h);
	h = render("<javascript:alert(1)>");
	assert_non_null(strstr(h, "<a href=\"#\">"));
	free(h);
}

static void images(void **st)
{
	char *h = render("![Ảnh trường](/files/a.jpg \"Trường\")");
	assert_non_null(strstr(h, "<img src=\"/files/a.jpg\" alt=\"Ảnh trường\" title=\"Trường\" />"));
	free(h);
	h = render("trước ![ảnh *đẹp*](data:image/png;base64,AA) sau");
	assert_null(strstr(h, "<img"));
	assert_non_null(strstr(h, "trước ảnh <em>đẹp</em> sau"));
	free(h);
	h = render("[![logo](javascript:x)](https://ok.vn)");
	assert_string_equal(h, "<p><a href=\"https://ok.vn\">logo</a></p>\n");
	free(h);
}

static char *summary(const char *md, size_t max)
{
	edu_buf b = EDU_BUF_INIT;
	assert_int_equal(edu_render_plain_summary(md, strlen(md), max, &b), EDU_OK);
	return b.p ? b.p : strdup("");
}

static void plain_summary(void **st)
{
	char *s = summary("# Tiêu đề\n\nHọc   sinh **giỏi**\nlớp [10A](/x).\n\n<script>x</script>\n\n"
	    "- a & b\n- 1 < 2\n", 0);
	assert_string_equal(s, "Tiêu đề Học sinh giỏi lớp 10A. a &amp; b 1 &lt; 2");
	free(s);
	s = summary("Đồng Tháp xanh", 6);
	assert_string_equal(s, "Đồng…");
	free(s);
	s = summary("Đồng Tháp", 9);
	assert_string_equal(s, "Đồng Tháp");
	free(s);
	s = summary("", 10);
	assert_string_equal(s, "");
	free(s);
	s = summary("a\x01\x7f" "b `x<y`", 0);
	assert_string_equal(s, "a b x&lt;y");
	free(s);
}

static void document(void **st)
{
	const char *md = "Xem [tin](/i/ab:1), [ngoài](//cdn.vn/x), [mục](#a), [tương đối](b/c) "
	    "![ảnh](/f/a.png) và <javascript:x> thêm chữ cho dài";
	edu_render_opts o = {"http://127.0.0.1:8080", 20};
	edu_buf html = EDU_BUF_INIT, sum = EDU_BUF_INIT;
	assert_int_equal(edu_render_document(md, strlen(md), &o, &html, &sum), EDU_OK);
	assert_non_null(strstr(html.p, "href=\"http://127.0.0.1:8080/i/ab:1\""));
	assert_non_null(strstr(html.p, "src=\"http://127.0.0.1:8080/f/a.png\""));
	assert_non_null(strstr(html.p, "href=\"//cdn.vn/x\""));
	assert_non_null(strstr(html.p, "href=\"#a\""));
	assert_non_null(strstr(html.p, "href=\"b/c\""));
	assert_non_null(strstr(html.p, "<a href=\"#\">[liên kết bị chặn]</a>"));
	assert_string_equal(sum.p, "Xem tin, ngoài, mục,…");
	/* Either output may be skipped; failures leave both untouched. */
	edu_buf_reset(&html);
	assert_int_equal(edu_render_document(md, strlen(md), NULL, &html, NULL), EDU_OK);
	assert_non_null(strstr(html.p, "href=\"/i/ab:1\""));
	edu_buf_reset(&html);
	edu_buf_reset(&sum);
	edu_buf_puts(&html, "a");
	edu_buf_puts(&sum, "b");
	assert_int_equal(edu_render_document(md, EDU_RENDER_INPUT_MAX + 1, &o, &html, &sum),
	    EDU_ETOOBIG);
	assert_string_equal(html.p, "a");
	assert_string_equal(sum.p, "b");
	edu_buf_free(&html);
	edu_buf_free(&sum);
}

static void limits(void **st)
{
	edu_buf b = EDU_BUF_INIT;
	char *big = malloc(EDU_RENDER_INPUT_MAX + 1);
	memset(big, '>', EDU_RENDER_INPUT_MAX + 1);
	assert_int_equal(edu_render_markdown(big, EDU_RENDER_INPUT_MAX + 1, &b), EDU_ETOOBIG);
	assert_int_equal(edu_render_plain_summary(big, EDU_RENDER_INPUT_MAX + 1, 10, &b), EDU_ETOOBIG);
	/* Deep nesting stays linear and does not crash. */
	size_t n = 100000;
	memset(big, '>', n);
	big[n] = 'x';
	assert_int_equal(edu_render_markdown(big, n + 1, &b), EDU_OK);
	edu_buf_reset(&b);
	for (size_t i = 0; i < n; i += 2) {
		big[i] = '[';
		big[i + 1] = '(';
	}
	assert_int_equal(edu_render_markdown(big, n, &b), EDU_OK);
	assert_int_equal(edu_render_markdown(NULL, 1, &b), EDU_EINVAL);
	free(big);
	edu_buf_free(&b);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(basic),
		cmocka_unit_test(url_allowed),
		cmocka_unit_test(hostile),
		cmocka_unit_test(links_kept),
		cmocka_unit_test(images),
		cmocka_unit_test(plain_summary),
		cmocka_unit_test(document),
		cmocka_unit_test(limits),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
