#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf/conf.h"
#include "core/log.h"

/* Each case works in its own temp dir holding a token, a registry and TLS files. */
typedef struct fx {
	char dir[64];
	char path[128];
	char why[512];
} fx;

static void put(const char *dir, const char *name, const char *text, mode_t mode)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(p, mode), 0);
}

static int setup(void **st)
{
	fx *x = calloc(1, sizeof *x);
	strcpy(x->dir, "/tmp/edu-conf-XXXXXX");
	if (!mkdtemp(x->dir))
		return -1;
	snprintf(x->path, sizeof x->path, "%s/node.ini", x->dir);
	put(x->dir, "admin.token", "  s3cret-token-0123456789abcdef \n", 0600);
	put(x->dir, "units.csv", "id,name,type,parent\n", 0644);
	put(x->dir, "ca.pem", "x", 0644);
	put(x->dir, "node.crt", "x", 0644);
	put(x->dir, "node.key", "x", 0600);
	put(x->dir, "node.ed25519", "x", 0600);
	edu_log_set_level(LOG_ERR); /* keep the expected warnings quiet */
	*st = x;
	return 0;
}

static int teardown(void **st)
{
	fx *x = *st;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", x->dir);
	int r = system(cmd);
	free(x);
	return r == 0 ? 0 : -1;
}

/* Writes the config text and loads it. */
static edu_err load(fx *x, edu_conf **c, const char *text)
{
	put(x->dir, "node.ini", text, 0644);
	x->why[0] = '\0';
	return edu_conf_load(c, x->path, x->why, sizeof x->why);
}

/* Loading must fail with a message that contains "node.ini:LINE: " and want. */
static void expect_error(fx *x, const char *text, int line, const char *want)
{
	edu_conf *c = (edu_conf *)1;
	assert_int_not_equal(load(x, &c, text), EDU_OK);
	assert_null(c);
	char prefix[200];
	if (line > 0)
		snprintf(prefix, sizeof prefix, "%s:%d: ", x->path, line);
	else
		snprintf(prefix, sizeof prefix, "%s: ", x->path);
	if (strncmp(x->why, prefix, strlen(prefix)) != 0 || !strstr(x->why, want))
		fail_msg("got \"%s\", want prefix \"%s\" and \"%s\"", x->why, prefix, want);
}

static void school(void **st)
{
	fx *x = *st;
	edu_conf *c = NULL;
	assert_int_equal(load(x, &c,
	    "; a school\n"
	    "[node]\n"
	    "id = thcs-an-binh-a\n"
	    "role = school\n"
	    "name = Trường THCS An Bình A\n"
	    "data_dir = data\n"
	    "[uplink]\n"
	    "parent = tls+tcp://pgd.example:7443\n"
	    "[tls]\n"
	    "ca = ca.pem\n"
	    "cert = node.crt\n"
	    "key = node.key\n"
	    "ed25519 = node.ed25519\n"
	    "[admin]\n"
	    "token_file = admin.token\n"), EDU_OK);
	assert_non_null(c);
	assert_string_equal(c->id, "thcs-an-binh-a");
	assert_int_equal(c->role, EDU_ROLE_SCHOOL);
	assert_string_equal(c->name, "Trường THCS An Bình A");
	char p[256];
	snprintf(p, sizeof p, "%s/data", x->dir);
	assert_string_equal(c->data_dir, p);
	struct stat sb;
	assert_int_equal(stat(p, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_string_equal(c->uplink_parent, "tls+tcp://pgd.example:7443");
	assert_null(c->downlink_listen);
	assert_null(c->registry);
	snprintf(p, sizeof p, "%s/ca.pem", x->dir);
	assert_string_equal(c->tls_ca, p);
	assert_null(c->tls_revoked);
	assert_true(edu_conf_has_identity(c));
	assert_string_equal(c->admin_token, "s3cret-token-0123456789abcdef");
	assert_string_equal(c->path, x->path);
	assert_string_equal(edu_role_name(c->role), "school");
	edu_conf_free(c);
}

static void phong(void **st)
{
	fx *x = *st;
	edu_conf *c = NULL;
	char text[1024];
	snprintf(text, sizeof text,
	    "[node]\n"
	    "  id = pgd-tanhong\n"   /* indented keys are plain keys */
	    "role = phong\n"
	    "data_dir = %s/pdata/deep\n"
	    "registry = units.csv\n"
	    "[uplink]\n"
	    "parent = tcp://127.0.0.1:7000\n"
	    "[downlink]\n"
	    "listen = tcp://0.0.0.0:7001\n"
	    "[http]\n"
	    "listen = [::1]:8081\n", x->dir);
	assert_int_equal(load(x, &c, text), EDU_OK);
	assert_int_equal(c->role, EDU_ROLE_PHONG);
	assert_string_equal(c->id, "pgd-tanhong");
	assert_string_equal(c->name, "pgd-tanhong"); /* defaults to the id */
	assert_string_equal(c->downlink_listen, "tcp://0.0.0.0:7001");
	assert_string_equal(c->http_listen_host, "::1");
	assert_int_equal(c->http_listen_port, 8081);
	assert_string_equal(c->http_base_url, "http://[::1]:8081");
	assert_null(c->admin_token_file);
	assert_null(c->admin_token);
	assert_non_null(strstr(c->registry, "/units.csv"));
	edu_conf_free(c);
}

static void so(void **st)
{
	fx *x = *st;
	edu_conf *c = NULL;
	assert_int_equal(load(x, &c,
	    "[node]\nid = so-dongthap\nrole = so\nname = Sở GD&ĐT Đồng Tháp\ndata_dir = d\n"
	    "registry = units.csv\nlog_level = debug\ntimezone = -01:30\n"
	    "[downlink]\nlisten = tls+tcp://0.0.0.0:7443\n"
	    "[tls]\nca = ca.pem\ncert = node.crt\nkey = node.key\ned25519 = node.ed25519\nrevoked = ca.pem\n"
	    "[http]\nbase_url = https://so.example.edu.vn/\nthreads = 4\n"), EDU_OK);
	assert_int_equal(c->role, EDU_ROLE_SO);
	assert_null(c->uplink_parent);
	assert_int_equal(c->log_level, LOG_DEBUG);
	assert_int_equal(c->tz_offset_min, -90);
	assert_string_equal(c->http_base_url, "https://so.example.edu.vn");
	assert_int_equal(c->http_threads, 4);
	assert_non_null(c->tls_revoked);
	edu_conf_free(c);
}

static void defaults(void **st)
{
	fx *x = *st;
	edu_conf *c = NULL;
	assert_int_equal(load(x, &c, "[node]\nid = th-a\nrole = school\ndata_dir = d\n"
	                                "[uplink]\nparent = tcp://h:1\n"), EDU_OK);
	assert_int_equal(c->log_level, LOG_INFO);
	assert_int_equal(c->tz_offset_min, 420);
	assert_int_equal(c->map_size, 64ull << 20);
	assert_int_equal(c->map_max, 0);
	assert_string_equal(c->http_listen_host, "127.0.0.1");
	assert_int_equal(c->http_listen_port, 8080);
	assert_string_equal(c->http_base_url, "http://127.0.0.1:8080");
	assert_int_equal(c->http_threads, 2);
	assert_int_equal(c->http_max_body, 11264ull * 1024);
	assert_int_equal(c->http_timeout_s, 30);
	assert_null(c->tls_ca);
	edu_conf_free(c);
	edu_conf_free(NULL);
}

static void sample_roundtrip(void **st)
{
	fx *x = *st;
	/* The sample names relative files; create them beside it. */
	assert_int_equal(mkdir(strcat(strcpy((char[128]){0}, x->dir), "/tls"), 0700), 0);
	put(x->dir, "tls/ca.crt", "x", 0644);
	put(x->dir, "tls/node.crt", "x", 0644);
	put(x->dir, "tls/node.key", "x", 0600);
	put(x->dir, "tls/node.ed25519", "x", 0600);
	FILE *f = fopen(x->path, "w");
	assert_non_null(f);
	edu_conf_write_sample(f);
	fclose(f);
	edu_conf *c = NULL;
	if (edu_conf_load(&c, x->path, x->why, sizeof x->why) != EDU_OK)
		fail_msg("sample does not load: %s", x->why);
	assert_string_equal(c->id, "thcs-an-binh-a");
	assert_int_equal(c->http_listen_port, 8080);
	assert_string_equal(c->admin_token, "s3cret-token-0123456789abcdef");
	edu_conf_free(c);
	/* Every key of the table appears in the sample with its doc line. */
	char *text = NULL;
	size_t len = 0;
	f = open_memstream(&text, &len);
	edu_conf_write_sample(f);
	fclose(f);
	static const char *const all[] = {"id =", "role =", "name =", "data_dir =", "registry =",
	    "log_level = info", "timezone = +07:00", "map_size_mb = 64", "map_max_mb = 0", "parent =",
	    "listen = 127.0.0.1:8080", ";listen = tls+tcp://", "base_url =", "threads = 2",
	    "max_body_kb = 11264", "timeout_s = 30", "ca =", "cert =", "key =", "ed25519 =", "revoked =",
	    "parent_unit =", "token_file ="};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		if (!strstr(text, all[i]))
			fail_msg("sample lacks \"%s\"", all[i]);
	assert_non_null(strstr(text, "(default: 64)"));
	free(text);
}

static void effective(void **st)
{
	fx *x = *st;
	edu_conf *c = NULL;
	assert_int_equal(load(x, &c, "[node]\nid = th-a\nrole = school\ndata_dir = d\nmap_size_mb = 128\n"
	                                "[uplink]\nparent = tcp://h:1\n[admin]\ntoken_file = admin.token\n"), EDU_OK);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	edu_conf_write_effective(c, f);
	fclose(f);
	assert_non_null(strstr(text, "[node]\nid = th-a\nrole = school\n"));
	assert_non_null(strstr(text, "map_size_mb = 128\n"));
	assert_non_null(strstr(text, "timezone = +07:00\n"));
	assert_non_null(strstr(text, "listen = 127.0.0.1:8080\n"));
	assert_non_null(strstr(text, ";listen =\n")); /* downlink unset */
	assert_null(strstr(text, "s3cret")); /* the token never leaks */
	free(text);
	edu_conf_free(c);
}

#define SCHOOL_HEAD "[node]\nid = th-a\nrole = school\ndata_dir = d\n[uplink]\nparent = tcp://h:1\n"

static void unknown_key(void **st)
{
	fx *x = *st;
	expect_error(x, SCHOOL_HEAD "[http]\nlisten = 127.0.0.1:1\nthread = 2\n", 9, "[http] thread: unknown key");
	expect_error(x, "[node]\nid = th-a\n\n[nodes]\nid = x\n", 4, "[nodes]: unknown section");
	expect_error(x, "id = th-a\n", 1, "outside any section");
}

static void duplicate_key(void **st)
{
	fx *x = *st;
	expect_error(x, SCHOOL_HEAD "[node]\nid = th-b\n", 8, "[node] id: duplicate key (first set on line 2)");
}

static void bad_values(void **st)
{
	fx *x = *st;
	expect_error(x, "[node]\nid = TH_A\n", 2, "[node] id: bad value 'TH_A'");
	expect_error(x, "[node]\nid = a\n", 2, "[node] id: bad value");
	expect_error(x, "[node]\nrole = xa\n", 2, "[node] role: bad value 'xa': expected school | phong | so");
	expect_error(x, "[node]\nlog_level = loud\n", 2, "[node] log_level: bad value");
	expect_error(x, "[node]\ntimezone = +7\n", 2, "[node] timezone: bad value");
	expect_error(x, "[node]\nmap_size_mb = 0\n", 2, "from 1 to");
	expect_error(x, "[node]\nmap_size_mb = 12abc\n", 2, "[node] map_size_mb: bad value");
	expect_error(x, "[http]\nthreads = 65\n", 2, "[http] threads: bad value '65'");
	expect_error(x, "[http]\nlisten = 127.0.0.1\n", 2, "[http] listen: bad value");
	expect_error(x, "[http]\nlisten = 127.0.0.1:70000\n", 2, "[http] listen: bad value");
	expect_error(x, "[http]\nlisten = :8080\n", 2, "[http] listen: bad value");
	expect_error(x, "[http]\nbase_url = ftp://x\n", 2, "[http] base_url: bad value");
	expect_error(x, "[uplink]\nparent = http://h:1\n", 2, "[uplink] parent: bad value");
	expect_error(x, "[uplink]\nparent = tcp://h:port\n", 2, "[uplink] parent: bad value");
	expect_error(x, "[node]\nname =\n", 2, "[node] name: empty value");
	expect_error(x, "[node]\nname = a\xc3\n", 2, "not valid UTF-8");
}

static void missing_required(void **st)
{
	fx *x = *st;
	expect_error(x, "; c\n[node]\nrole = school\ndata_dir = d\n", 2, "[node] id: missing (required)");
	expect_error(x, "[node]\nid = pgd-a\nrole = phong\ndata_dir = d\nregistry = units.csv\n"
	                "[downlink]\nlisten = tcp://h:1\n", 0,
	             "[uplink] parent: missing (required when role = phong)");
	expect_error(x, "[node]\nid = pgd-a\nrole = phong\ndata_dir = d\nregistry = units.csv\n"
	                "[uplink]\nparent = tcp://h:1\n\n[downlink]\n", 9,
	             "[downlink] listen: missing (required when role = phong)");
	expect_error(x, "[node]\nid = so-a\nrole = so\ndata_dir = d\n[downlink]\nlisten = tcp://h:1\n", 1,
	             "[node] registry: missing (required when role = so)");
}

static void missing_file(void **st)
{
	fx *x = *st;
	expect_error(x, "[node]\nid = pgd-a\nrole = phong\nregistry = nope.csv\n", 4,
	             "[node] registry: ");
	assert_non_null(strstr(x->why, "nope.csv: No such file or directory"));
	expect_error(x, SCHOOL_HEAD "[tls]\nca = /nonexistent/ca.pem\n", 8, "[tls] ca: /nonexistent/ca.pem: No such file");
	expect_error(x, SCHOOL_HEAD "[tls]\nca = .\n", 8, "not a regular file");
	/* The config itself. */
	edu_conf *c = NULL;
	char why[256];
	assert_int_equal(edu_conf_load(&c, "/nonexistent/node.ini", why, sizeof why), EDU_ENOENT);
	assert_null(c);
	assert_string_equal(why, "/nonexistent/node.ini: cannot open: No such file or directory");
}

static void cross_checks(void **st)
{
	fx *x = *st;
	expect_error(x, "[node]\nid = so-a\nrole = so\ndata_dir = d\nregistry = units.csv\n"
	                "[downlink]\nlisten = tcp://h:1\n[uplink]\nparent = tcp://h:2\n", 9,
	             "[uplink] parent: not allowed when role = so");
	expect_error(x, "[node]\nid = th-a\nrole = school\ndata_dir = d\n[uplink]\nparent = tls+tcp://h:1\n"
	                "[tls]\nca = ca.pem\ncert = node.crt\n", 6,
	             "[uplink] parent: a tls+tcp:// URL needs [tls] key");
	expect_error(x, "[node]\nid = th-a\nrole = school\ndata_dir = d\nmap_size_mb = 64\nmap_max_mb = 32\n"
	                "[uplink]\nparent = tcp://h:1\n", 6, "map_max_mb: smaller than map_size_mb");
}

/* [tls] is all or nothing; without it a node runs unsigned over tcp:// only. */
static void identity(void **st)
{
	fx *x = *st;
	edu_conf *c = NULL;
	expect_error(x, "[node]\nid = th-a\nrole = school\ndata_dir = d\n[uplink]\nparent = tcp://h:1\n"
	                "[tls]\nca = ca.pem\ncert = node.crt\nkey = node.key\n", 7,
	             "[tls] ed25519: missing (a node with [tls] needs ca, cert, key and ed25519)");
	expect_error(x, "[node]\nid = th-a\nrole = school\ndata_dir = d\n[tls]\nrevoked = ca.pem\n", 5,
	             "[tls] ca: missing");
	expect_error(x, "[node]\nid = th-a\nrole = school\ndata_dir = d\n[uplink]\nparent = tls+tcp://h:1\n"
	                "[tls]\nca = ca.pem\ncert = node.crt\nkey = node.key\n", 6,
	             "[uplink] parent: a tls+tcp:// URL needs [tls] ed25519");
	expect_error(x, "[node]\nid = th-a\nrole = school\ndata_dir = d\n[uplink]\nparent = tcp://h:1\n"
	                "parent_unit = PGD_A\n", 7, "[uplink] parent_unit: ");
	expect_error(x, "[node]\nid = so-a\nrole = so\ndata_dir = d\nregistry = units.csv\n"
	                "[downlink]\nlisten = tcp://h:1\n[uplink]\nparent_unit = pgd-a\n", 9,
	             "[uplink] parent_unit: not allowed when role = so");
	/* identity over plain tcp:// is allowed (authenticated, not encrypted) */
	assert_int_equal(load(x, &c, "[node]\nid = th-a\nrole = school\ndata_dir = d\n[uplink]\n"
	    "parent = tcp://h:1\nparent_unit = pgd-a\n[tls]\nca = ca.pem\ncert = node.crt\nkey = node.key\n"
	    "ed25519 = node.ed25519\nrevoked = ca.pem\n"), EDU_OK);
	assert_true(edu_conf_has_identity(c));
	assert_string_equal(c->uplink_parent_unit, "pgd-a");
	assert_non_null(strstr(c->tls_ed25519, "/node.ed25519"));
	edu_conf_free(c);
	/* test mode */
	assert_int_equal(load(x, &c, "[node]\nid = th-a\nrole = school\ndata_dir = d\n[uplink]\n"
	    "parent = tcp://h:1\n"), EDU_OK);
	assert_false(edu_conf_has_identity(c));
	assert_null(c->uplink_parent_unit);
	edu_conf_free(c);
}

static void token_file(void **st)
{
	fx *x = *st;
	put(x->dir, "open.token", "abc-def-ghi-jkl-mno\n", 0644);
	expect_error(x, SCHOOL_HEAD "[admin]\ntoken_file = open.token\n", 8, "readable by everyone");
	put(x->dir, "empty.token", " \n\n", 0600);
	expect_error(x, SCHOOL_HEAD "[admin]\ntoken_file = empty.token\n", 8, "the token file is empty");
	put(x->dir, "two.token", "abc def\n", 0600);
	expect_error(x, SCHOOL_HEAD "[admin]\ntoken_file = two.token\n", 8, "one word");
	expect_error(x, SCHOOL_HEAD "[admin]\ntoken_file = none.token\n", 8, "No such file");
	/* Group-readable is accepted (with a warning). */
	put(x->dir, "grp.token", "abc-def-ghi-jkl-mno\n", 0640);
	edu_conf *c = NULL;
	assert_int_equal(load(x, &c, SCHOOL_HEAD "[admin]\ntoken_file = grp.token\n"), EDU_OK);
	assert_string_equal(c->admin_token, "abc-def-ghi-jkl-mno");
	edu_conf_free(c);
}

static void long_line(void **st)
{
	fx *x = *st;
	char text[1024];
	char name[300];
	memset(name, 'a', 250);
	name[250] = '\0';
	snprintf(text, sizeof text, "[node]\nid = th-a\n; comment\nname = %s\n", name);
	expect_error(x, text, 4, "line too long");
	/* Just under the limit is fine. */
	name[198 - 7] = '\0';
	snprintf(text, sizeof text, SCHOOL_HEAD "[node]\nname = %s\nid = th-b\n", name);
	expect_error(x, text, 9, "[node] id: duplicate key"); /* line 8 was read whole */
	name[198 - 7] = 'a';
	name[198 - 6] = '\0';
	snprintf(text, sizeof text, SCHOOL_HEAD "[node]\n  name = %s\n", name); /* blanks don't count */
	expect_error(x, text, 8, "line too long (199 bytes; the limit is 198)");
}

static void syntax(void **st)
{
	fx *x = *st;
	expect_error(x, "[node]\nid = th-a\nthis is not a key\n", 3, "syntax error");
	expect_error(x, "[node\nid = th-a\n", 1, "syntax error");
	expect_error(x, "[node]\nid = th-a\nrole = school\n[uplink\nparent = tcp://h:1\n", 4, "syntax error");
}

static void data_dir(void **st)
{
	fx *x = *st;
	put(x->dir, "file", "x", 0644);
	expect_error(x, "[node]\nid = th-a\nrole = school\ndata_dir = file/sub\n[uplink]\nparent = tcp://h:1\n", 4,
	             "[node] data_dir: cannot create");
	expect_error(x, "[node]\nid = th-a\nrole = school\ndata_dir = file\n[uplink]\nparent = tcp://h:1\n", 4,
	             "not a directory");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(school, setup, teardown),
		cmocka_unit_test_setup_teardown(phong, setup, teardown),
		cmocka_unit_test_setup_teardown(so, setup, teardown),
		cmocka_unit_test_setup_teardown(defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(sample_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(effective, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_key, setup, teardown),
		cmocka_unit_test_setup_teardown(duplicate_key, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_values, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_required, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(cross_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(identity, setup, teardown),
		cmocka_unit_test_setup_teardown(token_file, setup, teardown),
		cmocka_unit_test_setup_teardown(long_line, setup, teardown),
		cmocka_unit_test_setup_teardown(syntax, setup, teardown),
		cmocka_unit_test_setup_teardown(data_dir, setup, teardown),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
