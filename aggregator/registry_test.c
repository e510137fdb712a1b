#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "registry.h"

static const char SAMPLE[] =
    "\xEF\xBB\xBFid,name,type,parent\r\n"
    "so-dongthap,Sở GD&ĐT Đồng Tháp,so,\r\n"
    "pgd-tanhong,\"Phòng GD&ĐT Tân Hồng, huyện\",phong,so-dongthap\r\n"
    "\r\n"
    "thcs-an-binh-a,\"Trường THCS \"\"An Bình A\"\"\",thcs,pgd-tanhong\r\n"
    "th-an-phuoc,Trường TH An Phước,th,pgd-tanhong\r\n"
    "thpt-nguyen-quang-dieu,Trường THPT Nguyễn Quang Diêu,thpt,so-dongthap\r\n"
    "xa-my-an,UBND xã Mỹ An,xa,so-dongthap\r\n"
    "mn-my-an,Trường MN Mỹ An,mn,xa-my-an\r\n"
    "th-truc-tiep,Trường TH trực thuộc Sở,th,so-dongthap\n";

static edu_registry *parse_ok(const char *s)
{
	edu_registry *r = NULL;
	char why[300] = "";
	edu_err rv = edu_registry_parse(&r, "t.csv", s, strlen(s), why, sizeof why);
	if (rv != EDU_OK)
		fail_msg("parse failed: %s", why);
	return r;
}

static void expect_err(const char *s, const char *fragment)
{
	edu_registry *r = NULL;
	char why[300] = "";
	edu_err rv = edu_registry_parse(&r, "t.csv", s, strlen(s), why, sizeof why);
	assert_int_not_equal(rv, EDU_OK);
	assert_null(r);
	if (!strstr(why, fragment))
		fail_msg("expected \"%s\" in \"%s\"", fragment, why);
}

static void basic(void **state)
{
	edu_registry *r = parse_ok(SAMPLE);
	int so, pgd, thcs, mn, xa, *sub;
	size_t n;
	assert_int_equal(edu_registry_count(r), 8);
	so = edu_registry_find(r, "so-dongthap");
	pgd = edu_registry_find(r, "pgd-tanhong");
	thcs = edu_registry_find(r, "thcs-an-binh-a");
	mn = edu_registry_find(r, "mn-my-an");
	xa = edu_registry_find(r, "xa-my-an");
	assert_int_equal(edu_registry_root(r), so);
	assert_int_equal(edu_registry_find(r, "nope"), -1);
	assert_string_equal(edu_registry_unit(r, so)->name, "Sở GD&ĐT Đồng Tháp");
	assert_string_equal(edu_registry_unit(r, pgd)->name, "Phòng GD&ĐT Tân Hồng, huyện");
	assert_string_equal(edu_registry_unit(r, thcs)->name, "Trường THCS \"An Bình A\"");
	assert_int_equal(edu_registry_unit(r, thcs)->type, EDU_UT_THCS);
	assert_int_equal(edu_registry_unit(r, thcs)->parent, pgd);
	assert_int_equal(edu_registry_unit(r, thcs)->depth, 2);
	assert_int_equal(edu_registry_unit(r, thcs)->line, 5);
	assert_true(edu_registry_is_under(r, thcs, pgd));
	assert_true(edu_registry_is_under(r, thcs, so));
	assert_true(edu_registry_is_under(r, pgd, pgd));
	assert_false(edu_registry_is_under(r, pgd, thcs));
	assert_false(edu_registry_is_under(r, mn, pgd));
	assert_true(edu_registry_is_under(r, mn, xa));
	assert_int_equal(edu_registry_subtree(r, pgd, &sub, &n), EDU_OK);
	assert_int_equal(n, 3);
	assert_int_equal(sub[0], pgd);
	assert_int_equal(sub[1], thcs);
	assert_string_equal(edu_registry_unit(r, sub[2])->id, "th-an-phuoc");
	free(sub);
	assert_int_equal(edu_registry_subtree(r, so, &sub, &n), EDU_OK);
	assert_int_equal(n, 8);
	free(sub);
	assert_int_equal(edu_registry_subtree(r, mn, &sub, &n), EDU_OK);
	assert_int_equal(n, 1);
	free(sub);
	edu_registry_free(r);
}

static void header(void **state)
{
	expect_err("", "empty");
	expect_err("so-x,S,so,\n", "t.csv:1: header must be id,name,type,parent");
	expect_err("id,name,type\nso-x,S,so\n", "t.csv:1: header");
	expect_err("id,name,type,parent\n", "no units");
	edu_registry_free(parse_ok("ID, Name ,type,Parent\nso-x,S,so,\n"));
}

static void bad_id(void **state)
{
	expect_err("id,name,type,parent\nso-x,S,so,\nPGD-A,P,phong,so-x\n", "t.csv:3: bad id \"PGD-A\"");
	expect_err("id,name,type,parent\nso-x,S,so,\na,P,phong,so-x\n", "t.csv:3: bad id");
	expect_err("id,name,type,parent\nso-x,S,so,\npgd-a,P,phong,So X\n", "t.csv:3: unit pgd-a: bad parent id");
	expect_err("id,name,type,parent\nso-x,,so,\n", "t.csv:2: unit so-x: name empty");
}

static void unknown_type(void **state)
{
	expect_err("id,name,type,parent\nso-x,S,so,\npgd-a,P,district,so-x\n", "t.csv:3: unit pgd-a: unknown type \"district\"");
}

static void unknown_parent(void **state)
{
	expect_err("id,name,type,parent\nso-x,S,so,\n\nth-a,T,th,pgd-missing\n", "t.csv:4: unit th-a: unknown parent pgd-missing");
	/* a parent defined later in the file is fine */
	edu_registry_free(parse_ok("id,name,type,parent\nth-a,T,th,pgd-a\npgd-a,P,phong,so-x\nso-x,S,so,\n"));
}

static void duplicate(void **state)
{
	expect_err("id,name,type,parent\nso-x,S,so,\nth-a,T,th,so-x\nth-a,T2,th,so-x\n", "t.csv:4: duplicate id th-a (first on line 3)");
}

static void cycle(void **state)
{
	expect_err("id,name,type,parent\nso-x,S,so,\npgd-a,P,phong,pgd-b\npgd-b,P,phong,pgd-a\n", "cycle");
	expect_err("id,name,type,parent\nso-x,S,so,\npgd-a,P,phong,pgd-a\n", "t.csv:3: unit pgd-a is its own parent");
}

static void roots(void **state)
{
	expect_err("id,name,type,parent\nso-x,S,so,\nso-y,S2,so,\n", "t.csv:3: unit so-y has no parent, but so-x (line 2) is already the root");
	expect_err("id,name,type,parent\npgd-a,P,phong,\n", "root pgd-a must have type so");
}

static void type_rules(void **state)
{
	expect_err("id,name,type,parent\nso-x,S,so,\npgd-a,P,phong,so-x\npgd-b,P,phong,pgd-a\n", "t.csv:4: unit pgd-b of type phong must report to the so");
	expect_err("id,name,type,parent\nso-x,S,so,\nth-a,T,th,so-x\nmn-a,M,mn,th-a\n", "t.csv:4: unit mn-a: parent th-a is a th");
	expect_err("id,name,type,parent\nso-x,S,so,\npgd-a,P,phong,so-x\nso-y,S,so,pgd-a\n", "so must be the root");
	/* schools under phong, xa or the so directly: all accepted */
	edu_registry_free(parse_ok(SAMPLE));
}

static void hostile(void **state)
{
	char *big;
	edu_registry *r = NULL;
	char why[300];
	expect_err("id,name,type,parent\nso-x,\"S,so,\n", "t.csv:2: line break inside a quoted field");
	expect_err("id,name,type,parent\nso-x,\"S", "t.csv:2: unterminated quoted field");
	expect_err("id,name,type,parent\nso-x,\"S\"x,so,\n", "t.csv:2: text after a closing quote");
	expect_err("id,name,type,parent\nso-x,S\"x,so,\n", "t.csv:2: quote inside an unquoted field");
	expect_err("id,name,type,parent\nso-x,S,so,,,,,,,,,,,\n", "t.csv:2: too many fields");
	expect_err("id,name,type,parent\nso-x,S,so\n", "t.csv:2: 3 fields");
	expect_err("id,name,type,parent\nso-x,S\xC3(,so,\n", "not valid UTF-8");
	expect_err("id,name,type,parent\nso-x,S\x01,so,\n", "control characters");
	big = malloc(EDU_REGISTRY_FILE_MAX + 2);
	memset(big, 'a', EDU_REGISTRY_FILE_MAX + 1);
	assert_int_equal(edu_registry_parse(&r, "t.csv", big, EDU_REGISTRY_FILE_MAX + 1, why, sizeof why), EDU_ETOOBIG);
	free(big);
}

static void load_file(void **state)
{
	char path[] = "/tmp/edu-registry-test-XXXXXX";
	int fd = mkstemp(path);
	edu_registry *r = NULL;
	char why[300];
	assert_true(fd >= 0);
	assert_int_equal(write(fd, SAMPLE, strlen(SAMPLE)), (ssize_t)strlen(SAMPLE));
	close(fd);
	assert_int_equal(edu_registry_load(&r, path, why, sizeof why), EDU_OK);
	assert_int_equal(edu_registry_count(r), 8);
	edu_registry_free(r);
	unlink(path);
	assert_int_equal(edu_registry_load(&r, path, why, sizeof why), EDU_ENOENT);
	assert_non_null(strstr(why, path));
}

static void large(void **state)
{
	/* A province-sized file: 1 so, 20 phong, 2000 schools. */
	size_t cap = 256 * 1024, len = 0;
	char *s = malloc(cap);
	int i, j, *sub;
	size_t n;
	edu_registry *r;
	len += (size_t)snprintf(s + len, cap - len, "id,name,type,parent\nso-x,S,so,\n");
	for (i = 0; i < 20; i++) {
		len += (size_t)snprintf(s + len, cap - len, "pgd-%d,Phòng %d,phong,so-x\n", i, i);
		for (j = 0; j < 100; j++)
			len += (size_t)snprintf(s + len, cap - len, "th-%d-%d,\"Trường TH %d, %d\",th,pgd-%d\n", i, j, i, j, i);
	}
	r = parse_ok(s);
	assert_int_equal(edu_registry_count(r), 2021);
	assert_true(edu_registry_is_under(r, edu_registry_find(r, "th-7-99"), edu_registry_find(r, "pgd-7")));
	assert_false(edu_registry_is_under(r, edu_registry_find(r, "th-7-99"), edu_registry_find(r, "pgd-8")));
	assert_int_equal(edu_registry_subtree(r, edu_registry_find(r, "pgd-3"), &sub, &n), EDU_OK);
	assert_int_equal(n, 101);
	free(sub);
	edu_registry_free(r);
	free(s);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(basic),
		cmocka_unit_test(header),
		cmocka_unit_test(bad_id),
		cmocka_unit_test(unknown_type),
		cmocka_unit_test(unknown_parent),
		cmocka_unit_test(duplicate),
		cmocka_unit_test(cycle),
		cmocka_unit_test(roots),
		cmocka_unit_test(type_rules),
		cmocka_unit_test(hostile),
		cmocka_unit_test(load_file),
		cmocka_unit_test(large),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
