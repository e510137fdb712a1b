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
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
