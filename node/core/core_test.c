#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/timefmt.h"
#include "core/unitid.h"

static void time_parse(void **st)
{
	int64_t t;
	int tz;
	assert_int_equal(edu_time_parse("2026-11-30T15:04:05+07:00", &t, &tz), EDU_OK);
	assert_int_equal(tz, 420);
	assert_int_equal(t, 1796025845); /* 08:04:05Z */
	assert_int_equal(edu_time_parse("2026-11-30T08:04:05.123Z", &t, &tz), EDU_OK);
	assert_int_equal(t, 1796025845);
	assert_int_equal(tz, 0);
	assert_int_equal(edu_time_parse("1970-01-01T00:00:00Z", &t, NULL), EDU_OK);
	assert_int_equal(t, 0);
	assert_int_not_equal(edu_time_parse("2026-02-29T00:00:00Z", &t, NULL), EDU_OK);
	assert_int_not_equal(edu_time_parse("2026-11-30 08:04:05", &t, NULL), EDU_OK);
	assert_int_not_equal(edu_time_parse("2026-11-30T08:04:05+0700", &t, NULL), EDU_OK);
	assert_int_not_equal(edu_time_parse("2026-13-30T08:04:05Z", &t, NULL), EDU_OK);
	assert_int_not_equal(edu_time_parse("2026-11-30T08:04:05Zjunk", &t, NULL), EDU_OK);
	assert_int_not_equal(edu_time_parse(NULL, &t, NULL), EDU_OK);
}

static void time_format(void **st)
{
	char b[EDU_RFC3339_LEN];
	edu_time_format(b, 1796025845, 420);
	assert_string_equal(b, "2026-11-30T15:04:05+07:00");
	edu_time_format(b, 1796025845, 0);
	assert_string_equal(b, "2026-11-30T08:04:05Z");
	edu_time_format(b, 0, -90);
	assert_string_equal(b, "1969-12-31T22:30:00-01:30");
	edu_time_format_http(b, 1796025845);
	assert_string_equal(b, "Mon, 30 Nov 2026 08:04:05 GMT");
}

static void buf_escape(void **st)
{
	edu_buf b = EDU_BUF_INIT;
	const char *s = "<a href=\"x\" onclick='y'>&</a>";
	assert_int_equal(edu_buf_escape_html(&b, s, strlen(s)), EDU_OK);
	assert_string_equal(b.p, "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
	edu_buf_reset(&b);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(edu_buf_printf(&b, "%d,", i), EDU_OK);
	assert_true(b.len > 3000);
	assert_memory_equal(b.p, "0,1,2,", 6);
	edu_buf_free(&b);
}

static void strerror_all(void **st)
{
	for (int e = 0; e < EDU_ERR_COUNT; e++)
		assert_true(strlen(edu_strerror((edu_err)e)) > 0);
	assert_string_equal(edu_strerror((edu_err)999), "unknown error");
}

static void unit_ids(void **st)
{
	assert_true(edu_unit_id_valid("so-dongthap"));
	assert_true(edu_unit_id_valid("a1"));
	assert_true(edu_unit_id_valid("0123456789012345678901234567890123456789")); /* 40 */
	assert_false(edu_unit_id_valid("01234567890123456789012345678901234567890")); /* 41 */
	assert_false(edu_unit_id_valid("a"));
	assert_false(edu_unit_id_valid(""));
	assert_false(edu_unit_id_valid(NULL));
	assert_false(edu_unit_id_valid("So-dongthap"));
	assert_false(edu_unit_id_valid("so dongthap"));
	assert_false(edu_unit_id_valid("../evil"));
	assert_false(edu_unit_id_valid("th\xc3\xa0"));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(time_parse),
		cmocka_unit_test(time_format),
		cmocka_unit_test(buf_escape),
		cmocka_unit_test(unit_ids),
		cmocka_unit_test_setup_teardown(strerror_all, NULL, NULL),
	};
	if (argc > 1)
		cmocka_set_test_filter(strcmp(argv[1], "strerror") == 0 ? "strerror_all" : argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
