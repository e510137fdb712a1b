#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "ctl/ctl.h"

#define ARGV(...) ((char *[]){"edunetctl", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"edunetctl", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(a, why, ...) ctl_parse(a, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), why, sizeof why)

/* Captures what a renderer prints. */
typedef struct cap {
	char *text;
	size_t len;
	FILE *f;
} cap;
static void cap_open(cap *c) { c->text = NULL; c->len = 0; c->f = open_memstream(&c->text, &c->len); }
static const char *cap_close(cap *c) { fclose(c->f); return c->text; }

static json_t *J(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);
	if (!j)
		fail_msg("bad test JSON: %s", e.text);
	return j;
}

static void parse_global(void **st)
{
	ctl_args a;
	char why[200];
	assert_int_equal(PARSE(&a, why, "--node", "http://h:1", "--token-file=/t", "status"), CTL_EXIT_OK);
	assert_string_equal(a.node, "http://h:1");
	assert_string_equal(a.token_file, "/t");
	assert_false(a.json);
	assert_string_equal(a.cmd->name, "status");
	/* global options also after the command */
	assert_int_equal(PARSE(&a, why, "items", "--json", "--node=http://x"), CTL_EXIT_OK);
	assert_true(a.json);
	assert_string_equal(a.node, "http://x");
	assert_int_equal(PARSE(&a, why, "--version"), CTL_EXIT_OK);
	assert_true(a.version);
	assert_int_equal(PARSE(&a, why, "--help"), CTL_EXIT_OK);
	assert_true(a.help);
	assert_null(a.cmd);
	assert_int_equal(PARSE(&a, why, "publish", "-h"), CTL_EXIT_OK);
	assert_true(a.help);
	assert_string_equal(a.cmd->name, "publish");
}

static void parse_options(void **st)
{
	ctl_args a;
	char why[200];
	assert_int_equal(PARSE(&a, why, "publish", "--title=Thông báo", "--tag", "a", "--body-file", "-",
	                       "--tag", "b c", "--attach", "x.pdf", "--kind", "event"), CTL_EXIT_OK);
	assert_string_equal(ctl_opt(&a, "title"), "Thông báo");
	assert_string_equal(ctl_opt(&a, "body-file"), "-");
	assert_string_equal(ctl_opt(&a, "kind"), "event");
	assert_null(ctl_opt(&a, "summary"));
	assert_string_equal(ctl_opt_multi(&a, "tag", 0), "a");
	assert_string_equal(ctl_opt_multi(&a, "tag", 1), "b c");
	assert_null(ctl_opt_multi(&a, "tag", 2));
	assert_string_equal(ctl_opt_multi(&a, "attach", 0), "x.pdf");
	assert_null(ctl_opt_multi(&a, "attach", 1));
	assert_int_equal(PARSE(&a, why, "items", "--all", "--limit", "5"), CTL_EXIT_OK);
	assert_non_null(ctl_opt(&a, "all"));
	assert_string_equal(ctl_opt(&a, "limit"), "5");
	assert_null(ctl_opt(&a, "unit"));
	assert_int_equal(PARSE(&a, why, "show", "thcs-a:12"), CTL_EXIT_OK);
	assert_int_equal(a.n_pos, 1);
	assert_string_equal(a.pos[0], "thcs-a:12");
	assert_int_equal(PARSE(&a, why, "report", "deployment", "--csv"), CTL_EXIT_OK);
	assert_non_null(ctl_opt(&a, "csv"));
	/* "--" ends options */
	assert_int_equal(PARSE(&a, why, "show", "--", "--odd"), CTL_EXIT_OK);
	assert_string_equal(a.pos[0], "--odd");
}

static void parse_errors(void **st)
{
	ctl_args a;
	char why[200];
	assert_int_equal(PARSE(&a, why, "frobnicate"), CTL_EXIT_USAGE);
	assert_non_null(strstr(why, "frobnicate"));
	assert_int_equal(ctl_parse(&a, 1, (char *[]){"edunetctl", NULL}, why, sizeof why), CTL_EXIT_USAGE);
	assert_int_equal(PARSE(&a, why, "items", "--colour"), CTL_EXIT_USAGE);
	assert_non_null(strstr(why, "--colour"));
	assert_int_equal(PARSE(&a, why, "publish", "--title"), CTL_EXIT_USAGE);
	assert_non_null(strstr(why, "--title"));
	assert_int_equal(PARSE(&a, why, "items", "--all=yes"), CTL_EXIT_USAGE);
	assert_int_equal(PARSE(&a, why, "publish", "--title", "a", "--title", "b"), CTL_EXIT_USAGE);
	assert_int_equal(PARSE(&a, why, "show"), CTL_EXIT_USAGE);
	assert_int_equal(PARSE(&a, why, "show", "a:1", "b:2"), CTL_EXIT_USAGE);
	assert_int_equal(PARSE(&a, why, "status", "extra"), CTL_EXIT_USAGE);
	assert_int_equal(PARSE(&a, why, "-x", "status"), CTL_EXIT_USAGE);
	assert_int_equal(PARSE(&a, why, "--title", "x", "publish"), CTL_EXIT_USAGE); /* command options after it */
	char *many[CTL_MAX_ARGS + 3];
	many[0] = "edunetctl";
	many[1] = "show";
	for (int i = 2; i < CTL_MAX_ARGS + 2; i++)
		many[i] = "x";
	many[CTL_MAX_ARGS + 2] = NULL;
	assert_int_equal(ctl_parse(&a, CTL_MAX_ARGS + 2, many, why, sizeof why), CTL_EXIT_USAGE);
}

static void width(void **st)
{
	assert_int_equal(ctl_display_width(""), 0);
	assert_int_equal(ctl_display_width("abc"), 3);
	assert_int_equal(ctl_display_width("Trường"), 6);          /* NFC: one column per code point */
	assert_int_equal(strlen("Trường"), 9);
	assert_int_equal(ctl_display_width("Đồng Tháp"), 9);
	assert_int_equal(ctl_display_width("e\xcc\x81"), 1);     /* e + combining acute */
	assert_int_equal(ctl_display_width("\xe4\xb8\xad"), 2);  /* wide CJK */
	assert_int_equal(ctl_display_width("a\xff"), 2);         /* stray byte: one column */
}

/* Display column where needle starts in line. */
static size_t col_of(const char *line, const char *needle)
{
	const char *p = strstr(line, needle);
	if (!p)
		fail_msg("'%s' not in '%s'", needle, line);
	char tmp[512];
	snprintf(tmp, sizeof tmp, "%.*s", (int)(p - line), line);
	return ctl_display_width(tmp);
}

static void table(void **st)
{
	cap c;
	cap_open(&c);
	const char *head[] = {"A", "TÊN", "N"};
	const char *cells[] = {"x", "Trường THCS Đồng Tháp", "5", "yy", "ab", "123", "z", NULL, "7"};
	const bool right[] = {false, false, true};
	ctl_table(c.f, head, 3, cells, 3, right);
	const char *out = cap_close(&c);
	assert_string_equal(out,
	    "A   TÊN                      N\n"
	    "x   Trường THCS Đồng Tháp    5\n"
	    "yy  ab                     123\n"
	    "z                            7\n");
	free(c.text);
}

static void items_table(void **st)
{
	json_t *items = J("[{\"id\":\"thcs-an-binh-a:2\",\"kind\":\"announcement\",\"unit\":\"thcs-an-binh-a\","
	    "\"published\":\"2026-11-30T15:04:05+07:00\",\"title\":\"Thông báo nghỉ học\"},"
	    "{\"id\":\"th-b:1\",\"kind\":\"news\",\"unit\":\"th-b\",\"published\":\"2026-11-29T08:00:00+07:00\","
	    "\"title\":\"Khai giảng\"},"
	    "{\"id\":\"th-b:3\",\"kind\":\"news\",\"deleted\":true},"
	    "{\"kind\":42}]");
	cap c;
	cap_open(&c);
	ctl_render_items(c.f, items);
	char *out = (char *)cap_close(&c);
	char *lines[8] = {0};
	size_t n = 0;
	for (char *s = strtok(out, "\n"); s && n < 8; s = strtok(NULL, "\n"))
		lines[n++] = s;
	assert_int_equal(n, 6);
	assert_non_null(strstr(lines[0], "ĐƠN VỊ"));
	size_t tcol = col_of(lines[0], "TIÊU ĐỀ");
	assert_int_equal(col_of(lines[1], "Thông báo nghỉ học"), tcol);
	assert_int_equal(col_of(lines[2], "Khai giảng"), tcol);
	assert_int_equal(col_of(lines[3], "(đã xoá)"), tcol);
	assert_int_equal(col_of(lines[1], "2026-11-30 15:04"), col_of(lines[0], "NGÀY"));
	assert_int_equal(col_of(lines[2], "th-b   "), col_of(lines[0], "ĐƠN VỊ"));
	assert_non_null(strstr(lines[4], "42")); /* tolerant of odd types */
	assert_string_equal(lines[5], "(4 mục)");
	free(c.text);
	json_decref(items);
}

static void item_show(void **st)
{
	json_t *it = J("{\"id\":\"th-b:1\",\"unit\":\"th-b\",\"kind\":\"document\",\"title\":\"Quyết định\","
	    "\"summary\":\"\",\"version\":2,\"deleted\":false,\"doc_number\":\"12/QĐ-SGD\",\"tags\":[\"a\",\"b\"],"
	    "\"attachments\":[{\"name\":\"qd.pdf\",\"media_type\":\"application/pdf\",\"size\":10,\"sha256\":\"ab\"}],"
	    "\"body\":\"# Tiêu đề\\n\\nNội dung.\"}");
	cap c;
	cap_open(&c);
	ctl_render_item(c.f, it);
	const char *out = cap_close(&c);
	assert_non_null(strstr(out, "ID:           th-b:1\n"));
	assert_non_null(strstr(out, "th-b:1\n"));
	assert_non_null(strstr(out, "\nSố văn bản:   12/QĐ-SGD\n"));
	assert_non_null(strstr(out, " 12/QĐ-SGD\n"));
	assert_null(strstr(out, "Tóm tắt")); /* empty fields are left out */
	assert_non_null(strstr(out, "Phiên bản:    2\n"));
	assert_non_null(strstr(out, "a, b\n"));
	assert_non_null(strstr(out, "Tệp đính kèm: qd.pdf (application/pdf, 10 byte, sha256 ab)\n"));
	assert_non_null(strstr(out, "\n\n# Tiêu đề\n\nNội dung.\n"));
	free(c.text);
	json_decref(it);
}

static void status_table(void **st)
{
	json_t *s = J("{\"id\":\"th-b\",\"role\":\"school\",\"version\":\"0.1.0\",\"uptime_s\":7300,"
	    "\"items_total\":3,\"uplink\":{\"state\":\"online\",\"backlog\":0,\"last_ack\":null},"
	    "\"children\":{\"online\":1}}");
	cap c;
	cap_open(&c);
	ctl_render_status(c.f, s);
	const char *out = cap_close(&c);
	assert_non_null(strstr(out, "id               th-b\n"));
	assert_non_null(strstr(out, "uptime_s         2 h\n"));
	assert_non_null(strstr(out, "uplink.state     online\n"));
	assert_non_null(strstr(out, "uplink.last_ack  -\n"));
	assert_non_null(strstr(out, "children.online  1\n"));
	free(c.text);
	json_decref(s);
}

static void topology(void **st)
{
	json_t *t = J("{\"unit\":\"so-dt\",\"name\":\"Sở GD&ĐT Đồng Tháp\",\"type\":\"so\",\"state\":\"online\","
	    "\"last_seen\":\"2026-01-01T00:00:00Z\",\"items_total\":10,\"backlog\":0,\"version\":\"0.1.0\","
	    "\"children\":[{\"unit\":\"pgd-a\",\"name\":\"Phòng A\",\"state\":\"offline\",\"last_seen\":1767225000000,"
	    "\"items_total\":4,\"backlog\":2,\"children\":[{\"unit\":\"th-x\",\"name\":\"Trường X\",\"state\":\"online\","
	    "\"last_seen\":1767225590}]},"
	    "{\"unit\":\"thpt-b\",\"name\":\"THPT B\",\"state\":\"never_seen\",\"last_seen\":null}]}");
	cap c;
	cap_open(&c);
	ctl_render_topology(c.f, t, 1767225600); /* 2026-01-01T00:00:00Z */
	const char *out = cap_close(&c);
	assert_string_equal(out,
	    "so-dt  Sở GD&ĐT Đồng Tháp  [online]  0 s trước  items 10  backlog 0  v0.1.0\n"
	    "├─ pgd-a  Phòng A  [offline]  10 min trước  items 4  backlog 2\n"
	    "│  └─ th-x  Trường X  [online]  10 s trước  items -  backlog -\n"
	    "└─ thpt-b  THPT B  [never_seen]  chưa thấy  items -  backlog -\n");
	free(c.text);
	json_decref(t);
	/* Not even an object: still prints something and does not crash. */
	t = J("[1, {\"children\": 5}]");
	cap_open(&c);
	ctl_render_topology(c.f, t, 0);
	cap_close(&c);
	free(c.text);
	json_decref(t);
}

static const char *REPORT = "{\"by_type\":[{\"type\":\"thcs\",\"expected\":12,\"deployed\":10,\"online\":9,"
    "\"stale\":1},{\"type\":\"th\",\"expected\":3,\"deployed\":0,\"online\":0,\"stale\":0}],"
    "\"by_phong\":[{\"unit\":\"pgd-tanhong\",\"name\":\"Phòng GD Tân Hồng\",\"expected\":15,\"deployed\":10,"
    "\"online\":9,\"stale\":1}],"
    "\"never_seen\":[{\"unit\":\"th-c\",\"name\":\"Trường \\\"C\\\", xã B\",\"type\":\"th\",\"parent\":\"pgd-tanhong\"}]}";

static void report(void **st)
{
	json_t *r = J(REPORT);
	cap c;
	cap_open(&c);
	ctl_render_report(c.f, r, false);
	const char *out = cap_close(&c);
	assert_non_null(strstr(out, "Theo loại đơn vị:\n"
	    "LOẠI  DỰ KIẾN  ĐÃ TRIỂN KHAI  TRỰC TUYẾN  CHẬM\n"
	    "thcs       12             10           9     1\n"
	    "th          3              0           0     0\n"));
	assert_non_null(strstr(out, "PHÒNG        TÊN                DỰ KIẾN"));
	assert_non_null(strstr(out, "pgd-tanhong  Phòng GD Tân Hồng       15"));
	assert_non_null(strstr(out, "Chưa từng kết nối (1):\n"));
	assert_non_null(strstr(out, "th-c    Trường \"C\", xã B  th    pgd-tanhong\n"));
	free(c.text);
	json_decref(r);
	/* Missing keys: empty tables, no crash. */
	r = J("{}");
	cap_open(&c);
	ctl_render_report(c.f, r, false);
	out = cap_close(&c);
	assert_non_null(strstr(out, "Chưa từng kết nối (0):"));
	free(c.text);
	json_decref(r);
}

static void report_csv(void **st)
{
	json_t *r = J(REPORT);
	cap c;
	cap_open(&c);
	ctl_render_report(c.f, r, true);
	const char *out = cap_close(&c);
	assert_string_equal(out,
	    "scope,unit,name,type,expected,deployed,online,stale,parent\r\n"
	    "type,,,thcs,12,10,9,1,\r\n"
	    "type,,,th,3,0,0,0,\r\n"
	    "phong,pgd-tanhong,Phòng GD Tân Hồng,,15,10,9,1,\r\n"
	    "never_seen,th-c,\"Trường \"\"C\"\", xã B\",th,,,,,pgd-tanhong\r\n");
	free(c.text);
	json_decref(r);
}

static void media_type(void **st)
{
	assert_string_equal(ctl_media_type("a/b/Quyết định.PDF"), "application/pdf");
	assert_string_equal(ctl_media_type("x.docx"),
	    "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
	assert_string_equal(ctl_media_type("photo.jpeg"), "image/jpeg");
	assert_string_equal(ctl_media_type("noext"), "application/octet-stream");
	assert_string_equal(ctl_media_type("dir.pdf/file"), "application/octet-stream");
	assert_string_equal(ctl_media_type("x.exe"), "application/octet-stream");
}

static void ago(void **st)
{
	char b[32];
	ctl_format_ago(b, sizeof b, 5);
	assert_string_equal(b, "5 s");
	ctl_format_ago(b, sizeof b, 119);
	assert_string_equal(b, "119 s");
	ctl_format_ago(b, sizeof b, 600);
	assert_string_equal(b, "10 min");
	ctl_format_ago(b, sizeof b, 3 * 3600);
	assert_string_equal(b, "3 h");
	ctl_format_ago(b, sizeof b, 5 * 86400);
	assert_string_equal(b, "5 ngày");
	ctl_format_ago(b, sizeof b, -4);
	assert_string_equal(b, "0 s");
}

static void token_file(void **st)
{
	char path[] = "/tmp/edu-ctl-tok-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "  tok-123 \n", 11), 11);
	close(fd);
	char *tok = NULL, why[200];
	assert_int_equal(ctl_read_token(path, &tok, why, sizeof why), CTL_EXIT_OK);
	assert_string_equal(tok, "tok-123");
	free(tok);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "\n\n", 2), 2);
	close(fd);
	assert_int_equal(ctl_read_token(path, &tok, why, sizeof why), CTL_EXIT_FAIL);
	assert_null(tok);
	unlink(path);
	assert_int_equal(ctl_read_token(path, &tok, why, sizeof why), CTL_EXIT_FAIL);
	assert_non_null(strstr(why, "No such file"));
}

static void unreachable(void **st)
{
	/* A port that was just free: nothing listens there. */
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof sa;
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
	close(s);
	char url[64], why[200];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/base/", ntohs(sa.sin_port));
	ctl_args a;
	assert_int_equal(PARSE(&a, why, "--node", url, "status"), CTL_EXIT_OK);
	ctl c;
	cap out, err;
	cap_open(&out);
	cap_open(&err);
	assert_int_equal(ctl_init(&c, &a, out.f, err.f), CTL_EXIT_OK);
	assert_string_equal(c.prefix, "/base");
	assert_int_equal(c.port, ntohs(sa.sin_port));
	assert_int_equal(a.cmd->run(&c, &a), CTL_EXIT_UNREACH);
	ctl_fini(&c);
	cap_close(&out);
	const char *msg = cap_close(&err);
	char want[128];
	snprintf(want, sizeof want, "không kết nối được tới node %s: Connection refused\n", url);
	assert_string_equal(msg, want);
	free(out.text);
	free(err.text);
	/* Bad node URLs are usage errors. */
	char *bad[] = {"https://h", "h:80", "http://", "ftp://h/"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(PARSE(&a, why, "--node", bad[i], "status"), CTL_EXIT_OK);
		cap_open(&err);
		assert_int_equal(ctl_init(&c, &a, stdout, err.f), CTL_EXIT_USAGE);
		ctl_fini(&c);
		cap_close(&err);
		free(err.text);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_global), cmocka_unit_test(parse_options), cmocka_unit_test(parse_errors),
		cmocka_unit_test(width), cmocka_unit_test(table), cmocka_unit_test(items_table),
		cmocka_unit_test(item_show), cmocka_unit_test(status_table), cmocka_unit_test(topology),
		cmocka_unit_test(report), cmocka_unit_test(report_csv), cmocka_unit_test(media_type),
		cmocka_unit_test(ago), cmocka_unit_test(token_file), cmocka_unit_test(unreachable),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
