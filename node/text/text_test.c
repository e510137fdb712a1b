#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <utf8proc.h>

#include "text/text.h"
#include "text/text_ref.h"

#define S(lit) lit, sizeof(lit) - 1

static void utf8_valid(void **st)
{
	assert_true(edu_text_utf8_valid(S("")));
	assert_true(edu_text_utf8_valid(S("Học sinh Đồng Tháp")));
	assert_true(edu_text_utf8_valid(S("\xF0\x9F\x98\x80")));        /* U+1F600 */
	assert_true(edu_text_utf8_valid(S("\xF4\x8F\xBF\xBF")));        /* U+10FFFF */
	assert_false(edu_text_utf8_valid(S("a\0b")));                   /* NUL */
	assert_false(edu_text_utf8_valid(S("\xC0\xAF")));               /* overlong '/' */
	assert_false(edu_text_utf8_valid(S("\xE0\x80\xAF")));           /* overlong 3-byte */
	assert_false(edu_text_utf8_valid(S("\xF0\x80\x80\xAF")));       /* overlong 4-byte */
	assert_false(edu_text_utf8_valid(S("\xC0\x80")));               /* overlong NUL */
	assert_false(edu_text_utf8_valid(S("\xED\xA0\x80")));           /* surrogate D800 */
	assert_false(edu_text_utf8_valid(S("\xED\xBF\xBF")));           /* surrogate DFFF */
	assert_false(edu_text_utf8_valid(S("\xF4\x90\x80\x80")));       /* > U+10FFFF */
	assert_false(edu_text_utf8_valid(S("\xE1\xBB")));               /* truncated */
	assert_false(edu_text_utf8_valid(S("\x80")));                   /* stray continuation */
	assert_false(edu_text_utf8_valid(S("\xFF")));
}

static void nfc(void **st)
{
	char *out = NULL;
	/* "Học" decomposed: o + U+0323 (dot below) → U+1ECD */
	assert_int_equal(edu_text_nfc(S("Ho\xCC\xA3" "c"), &out), EDU_OK);
	assert_string_equal(out, "H\xE1\xBB\x8D" "c");
	free(out);
	assert_int_equal(edu_text_nfc(S(""), &out), EDU_OK);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(edu_text_nfc(S("\xED\xA0\x80"), &out), EDU_EINVAL);
	assert_null(out);
	assert_int_equal(edu_text_nfc(S("a\0b"), &out), EDU_EINVAL);
	assert_null(out);
}

static void chars(void **st)
{
	assert_int_equal(edu_text_chars(""), 0);
	assert_int_equal(edu_text_chars("abc"), 3);
	assert_int_equal(edu_text_chars("Đồng Tháp"), 9);
	assert_int_equal(edu_text_chars("\xF0\x9F\x98\x80"), 1);
}

static void has_ctl(void **st)
{
	assert_false(edu_text_has_ctl("Tin tức\tmới", false));
	assert_true(edu_text_has_ctl("a\nb", false));
	assert_false(edu_text_has_ctl("a\r\nb", true));
	assert_true(edu_text_has_ctl("a\x1b[31m", true));
	assert_true(edu_text_has_ctl("a\x7f", true));
	assert_true(edu_text_has_ctl("\x01", true));
}

static void check_fold(const char *in, const char *want)
{
	char *out = NULL;
	assert_int_equal(edu_text_fold(in, strlen(in), &out), EDU_OK);
	assert_string_equal(out, want);
	free(out);
}

static void fold(void **st)
{
	check_fold("Học sinh", "hoc sinh");
	check_fold("Đồng Tháp", "dong thap");
	check_fold("đường ĐI", "duong di");
	check_fold("Trường THPT Nguyễn Quang Diêu", "truong thpt nguyen quang dieu");
	check_fold("Ho\xCC\xA3" "c", "hoc");               /* decomposed input */
	check_fold("ＡＢＣ①", "abc1");                      /* compatibility forms */
	check_fold("Straße", "strasse");
	char *out = NULL;
	assert_int_equal(edu_text_fold(S("\xC0\xAF"), &out), EDU_EINVAL);
	assert_null(out);
}

struct toks {
	char t[16][EDU_TEXT_TOKEN_MAX + 1];
	size_t n;
	size_t total;
	size_t maxlen;
};

static edu_err collect(const char *tok, size_t len, void *arg)
{
	struct toks *k = arg;
	assert_true(len > 0 && len <= EDU_TEXT_TOKEN_MAX);
	if (k->n < 16) {
		memcpy(k->t[k->n], tok, len);
		k->t[k->n][len] = '\0';
		k->n++;
	}
	k->total++;
	if (len > k->maxlen)
		k->maxlen = len;
	return EDU_OK;
}

static void tokens(void **st)
{
	struct toks k = {0};
	const char *s = "Thông báo: Học sinh lớp 10A1 (Đồng Tháp) — năm 2025-2026!";
	assert_int_equal(edu_text_tokens(s, strlen(s), collect, &k), EDU_OK);
	const char *want[] = {"thong", "bao", "hoc", "sinh", "lop", "10a1", "dong", "thap",
	    "nam", "2025", "2026"};
	assert_int_equal(k.n, 11);
	for (size_t i = 0; i < 11; i++)
		assert_string_equal(k.t[i], want[i]);

	memset(&k, 0, sizeof k);
	assert_int_equal(edu_text_tokens(S("  ...  "), collect, &k), EDU_OK);
	assert_int_equal(k.n, 0);
	assert_int_equal(edu_text_tokens(S("a\xFF"), collect, &k), EDU_EINVAL);
}

static edu_err stop_at_two(const char *tok, size_t len, void *arg)
{
	size_t *n = arg;
	return ++*n == 2 ? EDU_ECLOSED : EDU_OK;
}

static void tokens_limits(void **st)
{
	/* A long Latin word is cut at 64 bytes; a CJK word at a character boundary. */
	char word[1024] = "";
	for (int i = 0; i < 100; i++)
		strcat(word, "é");  /* folds to 'e' */
	strcat(word, " ");
	for (int i = 0; i < 100; i++)
		strcat(word, "中"); /* 3-byte CJK letter, not a multiple of 64 */
	struct toks k = {0};
	assert_int_equal(edu_text_tokens(word, strlen(word), collect, &k), EDU_OK);
	assert_int_equal(k.n, 2);
	assert_int_equal(strlen(k.t[0]), 64);
	assert_int_equal(strlen(k.t[1]), 63); /* 21 whole characters */

	/* Token count is capped. */
	size_t big = (EDU_TEXT_TOKENS_MAX + 100) * 2;
	char *many = malloc(big + 1);
	assert_non_null(many);
	for (size_t i = 0; i < big; i += 2) {
		many[i] = 'x';
		many[i + 1] = ' ';
	}
	many[big] = '\0';
	memset(&k, 0, sizeof k);
	assert_int_equal(edu_text_tokens(many, big, collect, &k), EDU_OK);
	assert_int_equal(k.total, EDU_TEXT_TOKENS_MAX);
	free(many);

	size_t n = 0;
	assert_int_equal(edu_text_tokens(S("a b c d"), stop_at_two, &n), EDU_ECLOSED);
	assert_int_equal(n, 2);
}

/* ---- NFC quick check against utf8proc_NFC ---------------------------------- */

static size_t put_cp(char *dst, int32_t cp)
{
	return (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)dst);
}

/* The quick check may say "maybe" freely, but "NFC already" only when
 * utf8proc_NFC leaves the string alone; edu_text_nfc must equal utf8proc_NFC. */
static void check_quick(const char *s, size_t len)
{
	char *want = (char *)utf8proc_NFC((const utf8proc_uint8_t *)s);
	assert_non_null(want);
	if (edu_text_is_nfc_quick(s, len) && (strlen(want) != len || memcmp(want, s, len) != 0))
		fail_msg("quick check says NFC but NFC differs for %zu bytes starting %02x %02x %02x",
		    len, (unsigned char)s[0], len > 1 ? (unsigned char)s[1] : 0, len > 2 ? (unsigned char)s[2] : 0);
	char *got = NULL;
	assert_int_equal(edu_text_nfc(s, len, &got), EDU_OK);
	assert_string_equal(got, want);
	free(got);
	free(want);
}

static bool scalar(int32_t cp)
{
	return cp > 0 && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
}

static void nfc_quick(void **st)
{
	/* Usual texts are recognized; decomposed ones and singletons are not. */
	assert_true(edu_text_is_nfc_quick(S("Trường THPT Nguyễn Quang Diêu, Đồng Tháp")));
	assert_true(edu_text_is_nfc_quick(S("plain ASCII")));
	assert_true(edu_text_is_nfc_quick(S("")));
	assert_true(edu_text_is_nfc_quick(S("\xEA\xB0\x80")));       /* 가 U+AC00 */
	assert_false(edu_text_is_nfc_quick(S("Ho\xCC\xA3" "c")));    /* o + U+0323 */
	assert_false(edu_text_is_nfc_quick(S("\xE2\x84\xAB")));      /* U+212B ANGSTROM SIGN */
	assert_false(edu_text_is_nfc_quick(S("\xEA\xB0\x80\xE1\x86\xA8"))); /* 가 + jamo T U+11A8 */
	assert_false(edu_text_is_nfc_quick(S("\xE0\xBD\xB3")));      /* U+0F73 */
	assert_false(edu_text_is_nfc_quick(S("a\xFF")));
	assert_false(edu_text_is_nfc_quick(S("a\0b")));

	char buf[64];
	/* Every code point alone, and after "a" (a starter many marks compose with). */
	for (int32_t cp = 1; cp <= 0x10FFFF; cp++) {
		if (!scalar(cp))
			continue;
		if (cp >= 0x40000 && cp < 0xE0000)
			cp = 0xE0000; /* planes 4-13 are unassigned */
		size_t n = put_cp(buf, cp);
		buf[n] = '\0';
		if (edu_text_is_nfc_quick(buf, n))
			check_quick(buf, n);
		buf[0] = 'a';
		n = 1 + put_cp(buf + 1, cp);
		buf[n] = '\0';
		if (edu_text_is_nfc_quick(buf, n))
			check_quick(buf, n);
	}
	/* Every code point that ends a primary composite's decomposition composes
	 * with what precedes it: the quick check must never call it stable. */
	size_t seconds = 0;
	for (int32_t cp = 1; cp < 0x30000; cp++) {
		if (!scalar(cp))
			continue;
		utf8proc_int32_t d[8];
		int last = 0;
		utf8proc_ssize_t n = utf8proc_decompose_char(cp, d, 8, UTF8PROC_DECOMPOSE, &last);
		if (n < 2 || n > 8)
			continue;
		size_t len = 0;
		for (utf8proc_ssize_t i = 0; i < n; i++)
			len += put_cp(buf + len, d[i]);
		buf[len] = '\0';
		char *c = (char *)utf8proc_NFC((const utf8proc_uint8_t *)buf);
		assert_non_null(c);
		char self[8];
		size_t sl = put_cp(self, cp);
		self[sl] = '\0';
		if (strcmp(c, self) == 0) { /* cp is a primary composite */
			size_t k = put_cp(buf, d[n - 1]);
			if (edu_text_is_nfc_quick(buf, k))
				fail_msg("U+%04X composes as a second element", (unsigned)d[n - 1]);
			seconds++;
		}
		free(c);
	}
	assert_true(seconds > 1000); /* Latin, Greek, Cyrillic, Indic, Hangul ... */

	/* Random short strings from a pool heavy in Vietnamese letters, marks and jamo. */
	static const int32_t pool[] = {'a', 'e', 'o', 'u', 'A', 'D', ' ', 0xE2, 0xEA, 0xF4, 0x1A1, 0x1B0,
	    0x111, 0x110, 0x1EA1, 0x1EBF, 0x1EDD, 0x1EF1, 0x300, 0x301, 0x303, 0x309, 0x323, 0x302, 0x306,
	    0x31B, 0x308, 0x212B, 0x2126, 0x340, 0x344, 0x1100, 0x1161, 0x11A8, 0xAC00, 0xAC01, 0x0F71,
	    0x0F72, 0x0F73, 0x0CD5, 0x0CBF, 0x0DCF, 0x0DD9, 0x1B35, 0x3099, 0x304B, 0xFB2A, 0x0958};
	uint32_t r = 12345;
	for (int iter = 0; iter < 200000; iter++) {
		size_t len = 0;
		int k = 1 + (int)(iter % 6);
		for (int i = 0; i < k; i++) {
			r = r * 1103515245u + 12345u;
			int32_t cp;
			if ((r >> 16) % 4 == 0) { /* any BMP or SMP code point */
				r = r * 1103515245u + 12345u;
				cp = (int32_t)((r >> 8) % 0x20000);
				if (!scalar(cp))
					cp = 'x';
			} else {
				cp = pool[(r >> 16) % (sizeof pool / sizeof pool[0])];
			}
			len += put_cp(buf + len, cp);
		}
		buf[len] = '\0';
		check_quick(buf, len);
	}
}

/* ---- fold fast path against utf8proc's whole-string map ------------------- */

static utf8proc_int32_t d_stroke(utf8proc_int32_t cp, void *data)
{
	return (cp == 0x0110 || cp == 0x0111) ? 'd' : cp;
}

static void check_fold_ref(const char *s, size_t len)
{
	utf8proc_uint8_t *want = NULL;
	utf8proc_ssize_t n = utf8proc_map_custom((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &want,
	    UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_STRIPMARK | UTF8PROC_CASEFOLD,
	    d_stroke, NULL);
	assert_true(n >= 0);
	char *got = NULL;
	assert_int_equal(edu_text_fold(s, len, &got), EDU_OK);
	if (strcmp(got, (char *)want) != 0)
		fail_msg("fold differs for %zu bytes starting %02x %02x %02x: \"%s\" vs \"%s\"", len,
		    (unsigned char)s[0], len > 1 ? (unsigned char)s[1] : 0, len > 2 ? (unsigned char)s[2] : 0,
		    got, (char *)want);
	free(got);
	free(want);
}

static void fold_fast(void **st)
{
	/* The fast path covers U+0000-024F, U+0300-036F and U+1E00-1EFF; test a
	 * margin around them too, alone and next to marks and letters. */
	static const int32_t ranges[][2] = {{1, 0x2FF}, {0x300, 0x3FF}, {0x1100, 0x11FF}, {0x1DC0, 0x1FFF},
	    {0xAC00, 0xAC10}};
	static const int32_t ctx[] = {'a', 'O', ' ', 0x300, 0x301, 0x323, 0x302, 0x306, 0x31B, 0x1EA0, 0x111,
	    0xDF, 0x1E9E, 0x345, 0x3099, 0x1100, 0x1161, 0x11A8};
	char buf[64];
	for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++)
		for (int32_t cp = ranges[r][0]; cp <= ranges[r][1]; cp++) {
			size_t n = put_cp(buf, cp);
			check_fold_ref(buf, n);
			for (size_t k = 0; k < sizeof ctx / sizeof ctx[0]; k++) {
				size_t m = put_cp(buf, ctx[k]);
				m += put_cp(buf + m, cp);
				m += put_cp(buf + m, ctx[(k + 1) % (sizeof ctx / sizeof ctx[0])]);
				check_fold_ref(buf, m);
			}
		}
	uint32_t x = 99;
	for (int iter = 0; iter < 50000; iter++) {
		size_t len = 0;
		for (int i = 0; i < 1 + iter % 10; i++) {
			x = x * 1103515245u + 12345u;
			int32_t cp = (x >> 16) % 2 ? (int32_t)((x >> 8) % 0x250) + 1 :
			    (x >> 16) % 4 == 0 ? 0x300 + (int32_t)((x >> 4) % 0x70) : 0x1E00 + (int32_t)((x >> 4) % 0x100);
			len += put_cp(buf + len, cp);
		}
		check_fold_ref(buf, len);
	}
}

/* ---- word-at-a-time scanners against the old byte loops (text_ref.h) ------ */

static void dump(char *out, size_t cap, const char *s, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < len && o + 4 < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%02x ", (unsigned char)s[i]);
	out[o] = '\0';
}

#define DISAGREE(what, s, len, shift) do { \
	char hex_[200]; \
	dump(hex_, sizeof hex_, (s), (len)); \
	fail_msg("%s disagrees (len %zu, shift %zu): %s", (what), (size_t)(len), (size_t)(shift), hex_); \
} while (0)

/* Runs every scanner on src[0..len) placed shift bytes past a malloc'd (so
 * aligned) block: once ending exactly at the block's end, so a read past len
 * is a heap overflow under ASan, and once NUL-terminated for the functions
 * that take C strings. All must agree with the references; with_nfc also
 * checks the NFC entry points' validity answer (and output) against utf8proc. */
static void agree(const char *src, size_t len, size_t shift, bool with_nfc)
{
	char *exact_blk = malloc(shift + len > 0 ? shift + len : 1);
	char *z_blk = malloc(shift + len + 1);
	assert_non_null(exact_blk);
	assert_non_null(z_blk);
	char *exact = exact_blk + shift; /* ends where the block ends */
	char *z = z_blk + shift;
	memcpy(exact, src, len);
	memcpy(z, src, len);
	z[len] = '\0';

	bool v = ref_utf8_valid(src, len);
	if (edu_text_utf8_valid(exact, len) != v)
		DISAGREE("edu_text_utf8_valid", src, len, shift);
	for (int nl = 0; nl < 2; nl++) {
		bool c = ref_has_ctl(z, nl);
		if (edu_text_has_ctl(z, nl) != c)
			DISAGREE(nl ? "edu_text_has_ctl(newlines)" : "edu_text_has_ctl", src, len, shift);
		size_t chars = 12345;
		bool ctl = !c;
		edu_err rv = edu_text_check(exact, len, nl, &chars, &ctl);
		edu_err want = v && !c ? EDU_OK : EDU_EINVAL;
		bool want_ctl = v && c;
		size_t want_chars = v && !c ? ref_chars(z) : 12345;
		if (rv != want || ctl != want_ctl || chars != want_chars)
			DISAGREE(nl ? "edu_text_check(newlines)" : "edu_text_check", src, len, shift);
	}
	if (with_nfc) {
		char *got = NULL;
		edu_err rv = edu_text_nfc(exact, len, &got);
		if ((rv == EDU_OK) != v)
			DISAGREE("edu_text_nfc", src, len, shift);
		bool quick = edu_text_is_nfc_quick(exact, len);
		if (quick && !v)
			DISAGREE("edu_text_is_nfc_quick", src, len, shift);
		if (v) {
			char *want = (char *)utf8proc_NFC((const utf8proc_uint8_t *)z);
			assert_non_null(want);
			if (strcmp(got, want) != 0 || (quick && strcmp(want, z) != 0))
				DISAGREE("edu_text_nfc output", src, len, shift);
			free(want);
		}
		free(got);
	}
	free(exact_blk);
	free(z_blk);
}

static void check_api(void **st)
{
	size_t n = 99;
	bool ctl = true;
	assert_int_equal(edu_text_check(S(""), false, &n, &ctl), EDU_OK);
	assert_int_equal(n, 0);
	assert_false(ctl);
	assert_int_equal(edu_text_check(NULL, 0, false, &n, &ctl), EDU_OK);
	assert_int_equal(edu_text_check(NULL, 1, false, &n, &ctl), EDU_EINVAL);
	assert_int_equal(edu_text_check(S("Trường THCS Sa Rài, Đồng Tháp"), false, &n, &ctl), EDU_OK);
	assert_int_equal(n, 29);
	assert_int_equal(edu_text_check(S("\xF0\x9F\x98\x80 ok"), false, NULL, NULL), EDU_OK);
	/* Newlines only when allowed; tab always. */
	assert_int_equal(edu_text_check(S("dòng 1\r\ndòng 2\tx"), false, &n, &ctl), EDU_EINVAL);
	assert_true(ctl);
	n = 7;
	assert_int_equal(edu_text_check(S("dòng 1\r\ndòng 2\tx"), true, &n, &ctl), EDU_OK);
	assert_false(ctl);
	assert_int_equal(n, 16);
	assert_int_equal(edu_text_check(S("abcdefgh\x7f"), true, &n, &ctl), EDU_EINVAL);
	assert_true(ctl);
	/* Invalid UTF-8 wins over a control character before it; NUL is invalid. */
	assert_int_equal(edu_text_check(S("a\x1b[31m \xC0\xAF"), true, &n, &ctl), EDU_EINVAL);
	assert_false(ctl);
	assert_int_equal(edu_text_check(S("abc\0def"), true, &n, &ctl), EDU_EINVAL);
	assert_false(ctl);
	/* len bounds the scan: no terminator needed, bytes past len ignored. */
	assert_int_equal(edu_text_check("abc\x01\xFF", 3, false, &n, &ctl), EDU_OK);
	assert_int_equal(n, 3);
}

/* Continuation candidates: each side of every range edge in Table 3-7, ASCII,
 * controls and leads. */
static const unsigned char edge[] = {0x00, 0x09, 0x0A, 0x1F, 0x41, 0x7F, 0x80, 0x81, 0x8F, 0x90,
    0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF};

/* Places seq[0..k) after a prefix and before a suffix that vary with idx, so
 * sequences start at every offset mod 8 and sometimes end the string (where a
 * sequence is cut short). */
static void agree_placed(const unsigned char *seq, size_t k, size_t idx, bool with_nfc)
{
	static const char *const pre[] = {"", "a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg",
	    "abcdefgh", "\xE1\xBB\x9D", "x\xC3\xA0", "tab\t"};
	static const char *const suf[] = {"", "z", "zzzzzzz", "\xE1\xBA\xA3ng", "\n"};
	char buf[64];
	const char *p = pre[idx % (sizeof pre / sizeof pre[0])];
	const char *q = suf[(idx / 3) % (sizeof suf / sizeof suf[0])];
	size_t n = strlen(p);
	memcpy(buf, p, n);
	memcpy(buf + n, seq, k);
	n += k;
	memcpy(buf + n, q, strlen(q));
	n += strlen(q);
	agree(buf, n, idx % 8, with_nfc);
	agree((const char *)seq, k, (idx / 8) % 8, false);
}

static void check_boundaries(void **st)
{
	unsigned char s[4];
	size_t idx = 0;
	for (unsigned a = 0; a < 256; a++) {
		s[0] = (unsigned char)a;
		agree_placed(s, 1, idx++, true);
	}
	/* Every two-byte string with a non-ASCII first byte. */
	for (unsigned a = 0x80; a < 256; a++)
		for (unsigned b = 0; b < 256; b++) {
			s[0] = (unsigned char)a;
			s[1] = (unsigned char)b;
			agree_placed(s, 2, idx++, b % 16 == 0 || (a >= 0xC2 && a < 0xE0));
		}
	/* Leads C0-FF, every second byte, third byte around every edge. */
	for (unsigned a = 0xC0; a < 256; a++)
		for (unsigned b = 0; b < 256; b++)
			for (size_t c = 0; c < sizeof edge; c++) {
				s[0] = (unsigned char)a;
				s[1] = (unsigned char)b;
				s[2] = edge[c];
				agree_placed(s, 3, idx++, a >= 0xE0 && a < 0xF0 && c % 4 == 0);
			}
	/* Leads E0-FF, every second byte, third and fourth bytes at the edges. */
	static const unsigned char few[] = {0x00, 0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xFF};
	for (unsigned a = 0xE0; a < 256; a++)
		for (unsigned b = 0; b < 256; b++)
			for (size_t c = 0; c < sizeof few; c++)
				for (size_t d = 0; d < sizeof few; d++) {
					s[0] = (unsigned char)a;
					s[1] = (unsigned char)b;
					s[2] = few[c];
					s[3] = few[d];
					agree_placed(s, 4, idx++, a >= 0xF0 && a <= 0xF4 && c == 3 && d == 4);
				}
	/* Spot checks against Table 3-7 itself, not only the reference. */
	static const struct { const char *s; bool ok; } table[] = {
		{"\xC2\x80", true}, {"\xDF\xBF", true}, {"\xC1\xBF", false}, {"\xE0\xA0\x80", true},
		{"\xE0\x9F\xBF", false}, {"\xED\x9F\xBF", true}, {"\xED\xA0\x80", false}, {"\xEE\x80\x80", true},
		{"\xEF\xBF\xBF", true}, {"\xF0\x90\x80\x80", true}, {"\xF0\x8F\xBF\xBF", false},
		{"\xF4\x8F\xBF\xBF", true}, {"\xF4\x90\x80\x80", false}, {"\xF5\x80\x80\x80", false},
		{"\xE1\xBB\x9D\xE1\xBB", false}, {"\xBB", false}};
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		assert_int_equal(edu_text_utf8_valid(table[i].s, strlen(table[i].s)), table[i].ok);
}

static const char viet[] =
    "Tr\xC6\xB0\xE1\xBB\x9Dng THCS Sa R\xC3\xA0i t\xE1\xBB\x95 ch\xE1\xBB\xA9" "c l\xE1\xBB\x85 khai gi\xE1\xBA\xA3ng "
    "n\xC4\x83m h\xE1\xBB\x8D" "c 2025-2026.\n\xC4\x90\xE1\xBB\x93ng Th\xC3\xA1p, ng\xC3\xA0y 5/9:\tH\xE1\xBB\x8D" "c sinh "
    "l\xE1\xBB\x9Bp 10A1 \xC4\x91\xC6\xB0\xE1\xBB\xA3" "c khen th\xC6\xB0\xE1\xBB\x9Fng \xE2\x80\x94 \xF0\x9F\x8E\x89 "
    "Ph\xC3\xB2ng Gi\xC3\xA1o d\xE1\xBB\xA5" "c v\xC3\xA0 \xC4\x90\xC3\xA0o t\xE1\xBA\xA1o huy\xE1\xBB\x87n T\xC3\xA2n H\xE1\xBB\x93ng\r\n"
    "Ho\xCC\xA3" "c (decomposed) \xC3\x9F \xE2\x84\xAB x\xC3\xA9t tuy\xE1\xBB\x83n \xC6\xAF\xC6\xA0 \xE1\xBB\xB9 \xE1\xBA\xA0.";

static uint32_t rnd(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void check_random(void **st)
{
	const size_t vlen = sizeof viet - 1;
	char buf[512];
	assert_true(edu_text_utf8_valid(viet, vlen));
	/* Every truncation, from either end. */
	for (size_t i = 0; i <= vlen; i++) {
		agree(viet, i, i % 8, true);
		agree(viet + i, vlen - i, (i / 8) % 8, true);
	}
	uint32_t x = 2463534242u;
	for (int iter = 0; iter < 300000; iter++) {
		size_t start = rnd(&x) % vlen;
		if (rnd(&x) % 4 != 0)
			while (start > 0 && (viet[start] & 0xC0) == 0x80)
				start--; /* mostly start on a character */
		size_t len = rnd(&x) % 4 == 0 ? rnd(&x) % (vlen - start + 1) : rnd(&x) % 40;
		if (len > vlen - start)
			len = vlen - start;
		memcpy(buf, viet + start, len);
		int muts = (int)(rnd(&x) % 4);
		for (int m = 0; m < muts && len > 0 && len < sizeof buf - 1; m++) {
			size_t at = rnd(&x) % len;
			switch (rnd(&x) % 6) {
			case 0: /* any byte */
				buf[at] = (char)rnd(&x);
				break;
			case 1: /* an edge byte or a control */
				buf[at] = (char)edge[rnd(&x) % sizeof edge];
				break;
			case 2: /* insert an edge byte */
				memmove(buf + at + 1, buf + at, len - at);
				buf[at] = (char)edge[rnd(&x) % sizeof edge];
				len++;
				break;
			case 3: /* delete a byte */
				memmove(buf + at, buf + at + 1, len - at - 1);
				len--;
				break;
			case 4: /* flip one bit */
				buf[at] = (char)(buf[at] ^ (1 << (rnd(&x) % 8)));
				break;
			default: /* swap neighbours */
				if (at + 1 < len) {
					char t = buf[at];
					buf[at] = buf[at + 1];
					buf[at + 1] = t;
				}
				break;
			}
		}
		agree(buf, len, (size_t)iter % 8, iter % 8 == 0);
	}
}

static void check_ctl_nul(void **st)
{
	static const unsigned char ins[] = {0x00, 0x01, 0x08, 0x09, 0x0A, 0x0B, 0x0D, 0x1B, 0x1F, 0x20,
	    0x7E, 0x7F, 0x80};
	const size_t vlen = sizeof viet - 1;
	char buf[512];
	/* A NUL or control byte replacing, then inserted before, every byte of the
	 * Vietnamese text, from every start offset mod 8. */
	for (size_t pos = 0; pos <= vlen; pos++)
		for (size_t k = 0; k < sizeof ins; k++) {
			memcpy(buf, viet, vlen);
			if (pos < vlen) {
				buf[pos] = (char)ins[k];
				agree(buf, vlen, (pos + k) % 8, false);
			}
			memcpy(buf, viet, pos);
			buf[pos] = (char)ins[k];
			memcpy(buf + pos + 1, viet + pos, vlen - pos);
			agree(buf, vlen + 1, (pos + k + 3) % 8, false);
		}
	/* In plain ASCII, the answer is known exactly: every control byte at
	 * every offset of a 40-byte string, from every alignment. */
	for (unsigned c = 0; c < 0x80; c++)
		for (size_t pos = 0; pos < 40; pos++)
			for (size_t shift = 0; shift < 8; shift++) {
				memset(buf, 'a', 40);
				buf[pos] = (char)c;
				agree(buf, 40, shift, false);
				bool is_ctl = c < 0x20 || c == 0x7F;
				bool nl_ok = c == '\t' || c == '\n' || c == '\r';
				size_t n = 0;
				bool ctl = false;
				edu_err want = c == 0 || (is_ctl && c != '\t') ? EDU_EINVAL : EDU_OK;
				assert_int_equal(edu_text_check(buf, 40, false, &n, &ctl), want);
				assert_int_equal(ctl, is_ctl && c != 0 && c != '\t');
				want = c == 0 || (is_ctl && !nl_ok) ? EDU_EINVAL : EDU_OK;
				assert_int_equal(edu_text_check(buf, 40, true, &n, &ctl), want);
				assert_int_equal(ctl, is_ctl && c != 0 && !nl_ok);
				assert_int_equal(edu_text_utf8_valid(buf, 40), c != 0);
			}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(utf8_valid),
		cmocka_unit_test(nfc),
		cmocka_unit_test(nfc_quick),
		cmocka_unit_test(chars),
		cmocka_unit_test(has_ctl),
		cmocka_unit_test(fold),
		cmocka_unit_test(fold_fast),
		cmocka_unit_test(tokens),
		cmocka_unit_test(tokens_limits),
		cmocka_unit_test(check_api),
		cmocka_unit_test(check_boundaries),
		cmocka_unit_test(check_random),
		cmocka_unit_test(check_ctl_nul),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
