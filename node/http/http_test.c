/* Unit tests for node/http's cache and request/response helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "http/http.h"
#include "http/http_internal.h"

static void cache_hit_miss(void **state)
{
	http_cache *c = http_cache_new(4, 1 << 20);
	assert_non_null(c);
	assert_null(http_cache_get(c, "/feed.atom", 1));
	http_entry *e = http_cache_put(c, "/feed.atom", 1, 200, "text/plain", "abc", 3, "\"e\"", "x");
	assert_non_null(e);
	http_entry_unref(e);
	http_entry *g = http_cache_get(c, "/feed.atom", 1);
	assert_non_null(g);
	assert_int_equal(g->len, 3);
	assert_memory_equal(g->body, "abc", 3);
	assert_string_equal(g->etag, "\"e\"");
	assert_null(http_cache_get(c, "/feed.atom?limit=5", 1));
	http_entry_unref(g);
	http_cache_free(c);
}

static void cache_generation(void **state)
{
	http_cache *c = http_cache_new(4, 1 << 20);
	http_entry_unref(http_cache_put(c, "/", 7, 200, "t", "old", 3, "", ""));
	/* A held reference survives the entry being dropped as stale. */
	http_entry *held = http_cache_get(c, "/", 7);
	assert_non_null(held);
	assert_null(http_cache_get(c, "/", 8));
	size_t n, bytes;
	http_cache_stats(c, &n, &bytes);
	assert_int_equal(n, 0);
	assert_int_equal(bytes, 0);
	assert_memory_equal(held->body, "old", 3);
	http_entry_unref(held);
	http_cache_free(c);
}

static void cache_evict(void **state)
{
	http_cache *c = http_cache_new(3, 1 << 20);
	http_entry_unref(http_cache_put(c, "/a", 1, 200, "t", "a", 1, "", ""));
	http_entry_unref(http_cache_put(c, "/b", 1, 200, "t", "b", 1, "", ""));
	http_entry_unref(http_cache_put(c, "/c", 1, 200, "t", "c", 1, "", ""));
	http_entry_unref(http_cache_get(c, "/a", 1)); /* /b is now least recently used */
	http_entry_unref(http_cache_put(c, "/d", 1, 200, "t", "d", 1, "", ""));
	http_entry *e;
	assert_null(http_cache_get(c, "/b", 1));
	assert_non_null(e = http_cache_get(c, "/a", 1));
	http_entry_unref(e);
	assert_non_null(e = http_cache_get(c, "/d", 1));
	http_entry_unref(e);
	size_t n, bytes;
	http_cache_stats(c, &n, &bytes);
	assert_int_equal(n, 3);
	/* Replacing a key keeps one entry for it. */
	http_entry_unref(http_cache_put(c, "/d", 1, 200, "t", "dd", 2, "", ""));
	http_cache_stats(c, &n, &bytes);
	assert_int_equal(n, 3);
	assert_non_null(e = http_cache_get(c, "/d", 1));
	assert_int_equal(e->len, 2);
	http_entry_unref(e);
	http_cache_free(c);
}

static void cache_too_big(void **state)
{
	http_cache *c = http_cache_new(8, 1000);
	char big[2000];
	memset(big, 'x', sizeof big);
	http_entry *e = http_cache_put(c, "/big", 1, 200, "t", big, sizeof big, "", "");
	assert_non_null(e); /* served, not kept */
	http_entry_unref(e);
	assert_null(http_cache_get(c, "/big", 1));
	/* The byte bound evicts older entries. */
	http_entry_unref(http_cache_put(c, "/1", 1, 200, "t", big, 500, "", ""));
	http_entry_unref(http_cache_put(c, "/2", 1, 200, "t", big, 500, "", ""));
	size_t n, bytes;
	http_cache_stats(c, &n, &bytes);
	assert_int_equal(n, 1);
	assert_true(bytes <= 1000);
	http_cache_free(c);
}

static void etag_match(void **state)
{
	assert_true(http_etag_match("\"abc\"", "\"abc\""));
	assert_true(http_etag_match("W/\"abc\"", "\"abc\""));
	assert_true(http_etag_match("\"x\", W/\"abc\" ", "W/\"abc\""));
	assert_true(http_etag_match("*", "\"q\""));
	assert_false(http_etag_match("\"abcd\"", "\"abc\""));
	assert_false(http_etag_match("", "\"abc\""));
	assert_false(http_etag_match("\"ab\", \"c\"", "\"abc\""));
}

static void date_parse(void **state)
{
	int64_t t;
	assert_int_equal(http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", &t), EDU_OK);
	assert_int_equal(t, 784111777);
	assert_int_equal(http_date_parse("Sun, 06 Nov 1994 08:49:37", &t), EDU_EINVAL);
	assert_int_equal(http_date_parse("yesterday", &t), EDU_EINVAL);
	assert_int_equal(http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT trailing", &t), EDU_EINVAL);
}

static void limit_parse(void **state)
{
	size_t v;
	assert_int_equal(http_parse_limit(NULL, 20, 100, &v), EDU_OK);
	assert_int_equal(v, 20);
	assert_int_equal(http_parse_limit("100", 20, 100, &v), EDU_OK);
	assert_int_equal(v, 100);
	assert_int_equal(http_parse_limit("101", 20, 100, &v), EDU_EINVAL);
	assert_int_equal(http_parse_limit("0", 20, 100, &v), EDU_EINVAL);
	assert_int_equal(http_parse_limit("-1", 20, 100, &v), EDU_EINVAL);
	assert_int_equal(http_parse_limit("5x", 20, 100, &v), EDU_EINVAL);
	assert_int_equal(http_parse_limit("99999999999999999999", 20, 100, &v), EDU_EINVAL);
}

static void attachment_path(void **state)
{
	char id[64];
	size_t n;
	assert_int_equal(http_parse_attachment_path("th-a:12/a/3", id, sizeof id, &n), EDU_OK);
	assert_string_equal(id, "th-a:12");
	assert_int_equal(n, 3);
	assert_int_equal(http_parse_attachment_path("th-a:12/a/", id, sizeof id, &n), EDU_EINVAL);
	assert_int_equal(http_parse_attachment_path("th-a:12/b/1", id, sizeof id, &n), EDU_EINVAL);
	assert_int_equal(http_parse_attachment_path("th-a:12/a/1/x", id, sizeof id, &n), EDU_EINVAL);
	assert_int_equal(http_parse_attachment_path("/a/1", id, sizeof id, &n), EDU_EINVAL);
	assert_int_equal(http_parse_attachment_path("x/a/99999", id, sizeof id, &n), EDU_EINVAL);
	char longid[200];
	memset(longid, 'a', 150);
	strcpy(longid + 150, "/a/1");
	assert_int_equal(http_parse_attachment_path(longid, id, sizeof id, &n), EDU_EINVAL);
}

static void disposition(void **state)
{
	char out[256];
	assert_int_equal(http_disposition("Kế hoạch 2025.pdf", out, sizeof out), EDU_OK);
	assert_string_equal(out, "attachment; filename*=UTF-8''K%E1%BA%BF%20ho%E1%BA%A1ch%202025.pdf");
	assert_int_equal(http_disposition("a\"b\r\n;c", out, sizeof out), EDU_OK);
	assert_null(strpbrk(out + strlen("attachment; filename*=UTF-8''"), "\"\r\n;"));
	char small[32];
	assert_int_equal(http_disposition("a-rather-long-file-name.pdf", small, sizeof small), EDU_ETOOBIG);
}

static void cursor_roundtrip(void **state)
{
	char c[EDU_HTTP_CURSOR_MAX], unit[EDU_UNIT_ID_MAX + 1];
	int64_t ts;
	uint64_t seq;
	edu_http_cursor_encode(c, 1764486245, "thcs-an-binh-a", 42);
	assert_null(strpbrk(c, "+/=.:"));
	assert_int_equal(edu_http_cursor_decode(c, &ts, unit, &seq), EDU_OK);
	assert_int_equal(ts, 1764486245);
	assert_string_equal(unit, "thcs-an-binh-a");
	assert_int_equal(seq, 42);
	edu_http_cursor_encode(c, -5, "so-dongthap", 18446744073709551615ull);
	assert_int_equal(edu_http_cursor_decode(c, &ts, unit, &seq), EDU_OK);
	assert_int_equal(ts, -5);
	assert_int_equal(seq, 18446744073709551615ull);
}

static void cursor_reject(void **state)
{
	char unit[EDU_UNIT_ID_MAX + 1];
	int64_t ts;
	uint64_t seq;
	const char *bad[] = {"", "!!!", "MTIz", /* "123" */
	    "MTIzLkFCQy41", /* "123.ABC.5": bad unit */
	    "MTIzLmFiLg",   /* "123.ab.": no seq */
	    "MTIzLmFiLjV4", /* "123.ab.5x" */
	    "KzEyLmFiLjU",  /* "+12.ab.5" */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(edu_http_cursor_decode(bad[i], &ts, unit, &seq), EDU_EINVAL);
	char huge[400];
	memset(huge, 'A', sizeof huge - 1);
	huge[sizeof huge - 1] = '\0';
	assert_int_equal(edu_http_cursor_decode(huge, &ts, unit, &seq), EDU_EINVAL);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cache_hit_miss), cmocka_unit_test(cache_generation),
		cmocka_unit_test(cache_evict), cmocka_unit_test(cache_too_big),
		cmocka_unit_test(etag_match), cmocka_unit_test(date_parse),
		cmocka_unit_test(limit_parse), cmocka_unit_test(attachment_path),
		cmocka_unit_test(disposition), cmocka_unit_test(cursor_roundtrip),
		cmocka_unit_test(cursor_reject),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
