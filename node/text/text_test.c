#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

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

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(utf8_valid),
		cmocka_unit_test(nfc),
		cmocka_unit_test(chars),
		cmocka_unit_test(has_ctl),
		cmocka_unit_test(fold),
		cmocka_unit_test(tokens),
		cmocka_unit_test(tokens_limits),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
