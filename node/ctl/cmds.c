/* The commands: each turns parsed arguments into API calls and output. */
#include "ctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>
#include "core/timefmt.h"
#include "item/item.h" /* limits only: EDU_BODY_MAX, EDU_ATTACH_MAX */

static bool kind_ok(const char *k)
{
	static const char *const kinds[] = {"news", "announcement", "document", "event"};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (strcmp(k, kinds[i]) == 0)
			return true;
	return false;
}

static int usage_err(ctl *c, const ctl_args *a, const char *why)
{
	fprintf(c->err, "edunetctl %s: %s\n", a->cmd->name, why);
	ctl_usage(c->err, a->cmd);
	return CTL_EXIT_USAGE;
}

static void print_json(ctl *c, const json_t *doc)
{
	json_dumpf(doc, c->out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', c->out);
}

/* GET path; prints JSON with --json or calls render. */
static int get_and_render(ctl *c, const char *path, void (*render)(ctl *, const json_t *, const ctl_args *),
                          const ctl_args *a)
{
	json_t *doc = NULL;
	int rv = ctl_api(c, "GET", path, NULL, NULL, 0, &doc);
	if (rv == CTL_EXIT_OK) {
		if (c->json)
			print_json(c, doc);
		else
			render(c, doc, a);
	}
	json_decref(doc);
	return rv;
}

static void r_status(ctl *c, const json_t *d, const ctl_args *a) { ctl_render_status(c->out, d); }
static void r_item(ctl *c, const json_t *d, const ctl_args *a) { ctl_render_item(c->out, d); }
static void r_topology(ctl *c, const json_t *d, const ctl_args *a)
{
	ctl_render_topology(c->out, d, (int64_t)time(NULL));
}
static void r_report(ctl *c, const json_t *d, const ctl_args *a)
{
	ctl_render_report(c->out, d, ctl_opt(a, "csv") != NULL);
}

static int cmd_status(ctl *c, const ctl_args *a)
{
	return get_and_render(c, "/api/v1/status", r_status, a);
}

static int cmd_topology(ctl *c, const ctl_args *a)
{
	return get_and_render(c, "/api/v1/topology", r_topology, a);
}

static int cmd_report(ctl *c, const ctl_args *a)
{
	if (strcmp(a->pos[0], "deployment") != 0)
		return usage_err(c, a, "chỉ có báo cáo: deployment");
	return get_and_render(c, "/api/v1/report/deployment", r_report, a);
}

static char *item_path(const char *id)
{
	char *e = ctl_encode(id);
	char *p = NULL;
	if (e && (p = malloc(strlen(e) + 32)))
		sprintf(p, "/api/v1/items/%s", e);
	free(e);
	return p;
}

static int cmd_show(ctl *c, const ctl_args *a)
{
	char *p = item_path(a->pos[0]);
	int rv = p ? get_and_render(c, p, r_item, a) : CTL_EXIT_FAIL;
	free(p);
	return rv;
}

/* One store copy into path (via path.part, fsynced, then renamed, so a
 * failed download never leaves a file that looks like a backup). *bytes gets
 * the size; *absent is set when the node has no such store (404). */
static int fetch_copy(ctl *c, const char *db, const char *path, long long *bytes, bool *absent)
{
	char part[4400], api[64];
	edu_buf resp = EDU_BUF_INIT;
	int status = 0, rv;
	*bytes = 0;
	*absent = false;
	snprintf(part, sizeof part, "%s.part", path);
	snprintf(api, sizeof api, "/api/v1/backup?db=%s", db);
	FILE *f = fopen(part, "wb");
	if (!f) {
		fprintf(c->err, "lỗi: %s: %s\n", part, strerror(errno));
		return CTL_EXIT_FAIL;
	}
	c->sink = f;
	c->sink_err = 0;
	rv = ctl_http(c, "POST", api, NULL, NULL, 0, &status, &resp);
	c->sink = NULL;
	if (rv == CTL_EXIT_OK && status == 200 && !c->sink_err && fflush(f) == 0 && fsync(fileno(f)) == 0) {
		*bytes = (long long)ftell(f);
		fclose(f);
		if (rename(part, path) != 0) {
			fprintf(c->err, "lỗi: %s: %s\n", path, strerror(errno));
			rv = CTL_EXIT_FAIL;
		}
		goto out;
	}
	fclose(f);
	unlink(part);
	if (rv == CTL_EXIT_OK && status == 404 && strcmp(db, "directives") == 0) {
		*absent = true;
	} else if (rv == CTL_EXIT_OK) {
		json_t *j = resp.p ? json_loads(resp.p, 0, NULL) : NULL;
		const char *m = j ? json_string_value(json_object_get(j, "message")) : NULL;
		if (c->sink_err)
			fprintf(c->err, "lỗi: %s: %s\n", part, strerror(c->sink_err));
		else
			fprintf(c->err, "lỗi: %s (HTTP %d)\n", m ? m : "sao lưu thất bại", status);
		json_decref(j);
		rv = CTL_EXIT_FAIL;
	}
out:
	edu_buf_free(&resp);
	return rv;
}

int ctl_cmd_backup(ctl *c, const ctl_args *a)
{
	const char *dir = ctl_opt(a, "out");
	char p1[4200], p2[4300], sub[4100]; /* dir is checked to be < 4000 bytes */
	long long n1 = 0, n2 = 0;
	bool absent1, absent2 = true;
	if (!dir || !*dir || strlen(dir) >= 4000) {
		fprintf(c->err, "edunetctl: backup needs --out DIR\n");
		return CTL_EXIT_USAGE;
	}
	snprintf(sub, sizeof sub, "%s/directives", dir);
	if ((mkdir(dir, 0700) != 0 && errno != EEXIST) || (mkdir(sub, 0700) != 0 && errno != EEXIST)) {
		fprintf(c->err, "lỗi: %s: %s\n", dir, strerror(errno));
		return CTL_EXIT_FAIL;
	}
	snprintf(p1, sizeof p1, "%s/data.mdb", dir);
	snprintf(p2, sizeof p2, "%s/data.mdb", sub);
	int rv = fetch_copy(c, "store", p1, &n1, &absent1);
	if (rv == CTL_EXIT_OK)
		rv = fetch_copy(c, "directives", p2, &n2, &absent2);
	if (rv != CTL_EXIT_OK)
		return rv;
	if (c->json) {
		json_t *doc = json_pack("{s:s,s:I,s:I}", "out", dir, "store_bytes", (json_int_t)n1,
		    "directives_bytes", (json_int_t)n2);
		print_json(c, doc);
		json_decref(doc);
	} else {
		fprintf(c->out, "đã sao lưu vào %s: data.mdb %lld byte, directives/data.mdb %s\n", dir, n1,
		    absent2 ? "(không có)" : "");
		if (!absent2)
			fprintf(c->out, "  directives/data.mdb %lld byte\n", n2);
		fprintf(c->out, "khôi phục: dừng node, chép data.mdb vào <data_dir>/ và directives/data.mdb "
		    "vào <data_dir>/directives/, rồi khởi động lại\n");
	}
	return CTL_EXIT_OK;
}

static int cmd_delete(ctl *c, const ctl_args *a)
{
	char *p = item_path(a->pos[0]);
	json_t *doc = NULL;
	int rv = p ? ctl_api(c, "DELETE", p, NULL, NULL, 0, NULL) : CTL_EXIT_FAIL;
	if (rv == CTL_EXIT_OK) {
		if (c->json) {
			doc = json_pack("{s:s,s:b}", "id", a->pos[0], "deleted", 1);
			print_json(c, doc);
		} else {
			fprintf(c->out, "đã xoá %s\n", a->pos[0]);
		}
	}
	json_decref(doc);
	free(p);
	return rv;
}

static int cmd_items(ctl *c, const ctl_args *a)
{
	int rv = CTL_EXIT_FAIL;
	json_t *all = json_array(), *doc = NULL, *next = NULL;
	edu_buf q = EDU_BUF_INIT;
	const char *lim = ctl_opt(a, "limit");
	bool follow = ctl_opt(a, "all") != NULL;
	if (lim) {
		char *end;
		long v = strtol(lim, &end, 10);
		if (*lim == '\0' || *end != '\0' || v < 1 || v > 1000) {
			rv = usage_err(c, a, "--limit: một số từ 1 đến 1000");
			goto out;
		}
	}
	if (ctl_opt(a, "kind") && !kind_ok(ctl_opt(a, "kind"))) {
		rv = usage_err(c, a, "--kind: news | announcement | document | event");
		goto out;
	}
	if (!all)
		goto out;
	for (size_t page = 0; page < CTL_MAX_PAGES; page++) {
		static const char *const params[] = {"unit", "kind", "q", "limit"};
		edu_buf_reset(&q);
		edu_buf_puts(&q, "/api/v1/items");
		char sep = '?';
		for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
			const char *v = ctl_opt(a, params[i]);
			if (!v)
				continue;
			char *e = ctl_encode(v);
			if (!e || edu_buf_printf(&q, "%c%s=%s", sep, params[i], e) != EDU_OK) {
				free(e);
				goto out;
			}
			free(e);
			sep = '&';
		}
		if (next) {
			char *e = ctl_encode(json_string_value(next));
			if (!e || edu_buf_printf(&q, "%cbefore=%s", sep, e) != EDU_OK) {
				free(e);
				goto out;
			}
			free(e);
		}
		json_decref(doc);
		doc = NULL;
		if ((rv = ctl_api(c, "GET", q.p, NULL, NULL, 0, &doc)) != CTL_EXIT_OK)
			goto out;
		json_t *items = json_object_get(doc, "items");
		if (!json_is_array(items)) {
			fprintf(c->err, "lỗi: phản hồi không có \"items\"\n");
			rv = CTL_EXIT_FAIL;
			goto out;
		}
		json_array_extend(all, items);
		next = json_object_get(doc, "next");
		if (!follow || !json_is_string(next) || json_array_size(items) == 0)
			break;
	}
	if (c->json) {
		if (follow) {
			json_t *o = json_pack("{s:O,s:n}", "items", all, "next");
			print_json(c, o);
			json_decref(o);
		} else {
			print_json(c, doc);
		}
	} else {
		ctl_render_items(c->out, all);
		if (!follow && json_is_string(next))
			fprintf(c->out, "(còn nữa: dùng --all để xem tất cả)\n");
	}
	rv = CTL_EXIT_OK;
out:
	json_decref(all);
	json_decref(doc);
	edu_buf_free(&q);
	return rv;
}

/* Reads a whole file ("-" = stdin) up to max bytes. */
static int read_all(ctl *c, const char *path, size_t max, char **out, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	int rv = CTL_EXIT_FAIL;
	*out = NULL;
	*len = 0;
	if (!f) {
		fprintf(c->err, "lỗi: %s: %s\n", path, strerror(errno));
		return rv;
	}
	char *buf = malloc(max + 1);
	if (!buf) {
		fprintf(c->err, "edunetctl: out of memory\n");
		goto out;
	}
	size_t n = fread(buf, 1, max + 1, f);
	if (ferror(f)) {
		fprintf(c->err, "lỗi: %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (n > max) {
		fprintf(c->err, "lỗi: %s: lớn hơn giới hạn %zu byte\n", strcmp(path, "-") ? path : "stdin", max);
		goto out;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
	rv = CTL_EXIT_OK;
out:
	free(buf);
	if (f != stdin)
		fclose(f);
	return rv;
}

static bool valid_date(const char *s)
{
	int64_t t;
	char full[40];
	if (strlen(s) != 10)
		return false;
	snprintf(full, sizeof full, "%sT00:00:00Z", s);
	return edu_time_parse(full, &t, NULL) == EDU_OK;
}

/* Uploads one file; appends {name, media_type, size, sha256} to atts. */
int ctl_upload(ctl *c, const char *path, json_t *atts)
{
	char *data = NULL, *e = NULL, *q = NULL;
	size_t len;
	json_t *doc = NULL;
	struct stat st;
	int rv = CTL_EXIT_FAIL;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size > EDU_ATTACH_MAX) {
		fprintf(c->err, "lỗi: %s: %lld byte, lớn hơn giới hạn %u byte của một tệp đính kèm\n", path,
		        (long long)st.st_size, EDU_ATTACH_MAX);
		return rv;
	}
	if ((rv = read_all(c, path, EDU_ATTACH_MAX, &data, &len)) != CTL_EXIT_OK)
		goto out;
	rv = CTL_EXIT_FAIL;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	const char *mt = ctl_media_type(base);
	if (!(e = ctl_encode(base)) || !(q = malloc(strlen(e) + 32)))
		goto out;
	sprintf(q, "/api/v1/attachments?name=%s", e);
	if ((rv = ctl_api(c, "POST", q, mt, data, len, &doc)) != CTL_EXIT_OK)
		goto out;
	const char *sha = json_string_value(json_object_get(doc, "sha256"));
	if (!sha) {
		fprintf(c->err, "lỗi: node không trả về sha256 cho %s\n", path);
		rv = CTL_EXIT_FAIL;
		goto out;
	}
	const json_t *sz = json_object_get(doc, "size");
	const char *name = json_string_value(json_object_get(doc, "name"));
	const char *rmt = json_string_value(json_object_get(doc, "media_type"));
	json_array_append_new(atts, json_pack("{s:s,s:s,s:I,s:s}", "name", name ? name : base,
	    "media_type", rmt ? rmt : mt, "size", json_is_integer(sz) ? json_integer_value(sz) : (json_int_t)len,
	    "sha256", sha));
	rv = CTL_EXIT_OK;
out:
	free(data);
	free(e);
	free(q);
	json_decref(doc);
	return rv;
}

static int cmd_publish(ctl *c, const ctl_args *a)
{
	int rv = CTL_EXIT_FAIL;
	char *body = NULL, *text = NULL;
	size_t blen = 0;
	json_t *o = json_object(), *doc = NULL;
	const char *kind = ctl_opt(a, "kind") ? ctl_opt(a, "kind") : "news";
	bool is_doc = strcmp(kind, "document") == 0, is_event = strcmp(kind, "event") == 0;
	if (!o)
		goto out;
	if (!kind_ok(kind)) {
		rv = usage_err(c, a, "--kind: news | announcement | document | event");
		goto out;
	}
	if (!ctl_opt(a, "title") || !*ctl_opt(a, "title")) {
		rv = usage_err(c, a, "cần --title");
		goto out;
	}
	static const char *const doc_opts[] = {"doc-number", "doc-date", "signer"};
	static const char *const ev_opts[] = {"starts", "ends", "location"};
	for (size_t i = 0; i < 3; i++) {
		if (ctl_opt(a, doc_opts[i]) && !is_doc) {
			rv = usage_err(c, a, "--doc-number, --doc-date và --signer chỉ dùng với --kind document");
			goto out;
		}
		if (ctl_opt(a, ev_opts[i]) && !is_event) {
			rv = usage_err(c, a, "--starts, --ends và --location chỉ dùng với --kind event");
			goto out;
		}
	}
	if (ctl_opt(a, "doc-date") && !valid_date(ctl_opt(a, "doc-date"))) {
		rv = usage_err(c, a, "--doc-date: cần dạng YYYY-MM-DD");
		goto out;
	}
	for (size_t i = 0; i < 2; i++) {
		int64_t t;
		const char *v = ctl_opt(a, ev_opts[i]);
		if (v && edu_time_parse(v, &t, NULL) != EDU_OK) {
			char why[160];
			snprintf(why, sizeof why, "--%s: cần dạng RFC 3339, ví dụ 2026-11-30T08:00:00+07:00", ev_opts[i]);
			rv = usage_err(c, a, why);
			goto out;
		}
	}
	if (ctl_opt(a, "body-file") && read_all(c, ctl_opt(a, "body-file"), EDU_BODY_MAX, &body, &blen) != CTL_EXIT_OK)
		goto out;
	if (body && strlen(body) != blen) {
		fprintf(c->err, "lỗi: nội dung chứa byte NUL\n");
		goto out;
	}
	json_object_set_new(o, "kind", json_string(kind));
	json_object_set_new(o, "title", json_string(ctl_opt(a, "title")));
	static const struct { const char *opt, *key; } strs[] = {
		{"summary", "summary"}, {"author", "author"}, {"doc-number", "doc_number"},
		{"doc-date", "doc_date"}, {"signer", "signer"}, {"starts", "starts"}, {"ends", "ends"},
		{"location", "location"},
	};
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
		if (ctl_opt(a, strs[i].opt))
			json_object_set_new(o, strs[i].key, json_string(ctl_opt(a, strs[i].opt)));
	if (body) {
		json_t *b = json_stringn(body, blen);
		if (!b) {
			fprintf(c->err, "lỗi: nội dung không phải UTF-8 hợp lệ\n");
			goto out;
		}
		json_object_set_new(o, "body", b);
	}
	for (size_t i = 0; ctl_opt_multi(a, "tag", i); i++) {
		json_t *tags = json_object_get(o, "tags");
		if (!tags)
			json_object_set_new(o, "tags", tags = json_array());
		json_array_append_new(tags, json_string(ctl_opt_multi(a, "tag", i)));
	}
	for (size_t i = 0; ctl_opt_multi(a, "attach", i); i++) {
		json_t *atts = json_object_get(o, "attachments");
		if (!atts)
			json_object_set_new(o, "attachments", atts = json_array());
		if ((rv = ctl_upload(c, ctl_opt_multi(a, "attach", i), atts)) != CTL_EXIT_OK)
			goto out;
	}
	/* json_string returns NULL for invalid UTF-8 in an argument */
	if (!json_object_get(o, "title") || json_object_size(o) < 2) {
		fprintf(c->err, "lỗi: tham số không phải UTF-8 hợp lệ\n");
		rv = CTL_EXIT_FAIL;
		goto out;
	}
	if (!(text = json_dumps(o, JSON_COMPACT)))
		goto out;
	if ((rv = ctl_api(c, "POST", "/api/v1/items", "application/json", text, strlen(text), &doc)) != CTL_EXIT_OK)
		goto out;
	if (c->json)
		print_json(c, doc);
	else
		fprintf(c->out, "%s\n", json_string_value(json_object_get(doc, "id")) ?
		        json_string_value(json_object_get(doc, "id")) : "(node không trả về id)");
	rv = CTL_EXIT_OK;
out:
	free(body);
	free(text);
	json_decref(o);
	json_decref(doc);
	return rv;
}

static const ctl_optspec no_opts[] = {{NULL, 0}};
static const ctl_optspec publish_opts[] = {
	{"title", CTL_ARG}, {"kind", CTL_ARG}, {"summary", CTL_ARG}, {"body-file", CTL_ARG},
	{"tag", CTL_ARG | CTL_MULTI}, {"author", CTL_ARG}, {"doc-number", CTL_ARG}, {"doc-date", CTL_ARG},
	{"signer", CTL_ARG}, {"starts", CTL_ARG}, {"ends", CTL_ARG}, {"location", CTL_ARG},
	{"attach", CTL_ARG | CTL_MULTI}, {NULL, 0},
};
static const ctl_optspec items_opts[] = {
	{"unit", CTL_ARG}, {"kind", CTL_ARG}, {"q", CTL_ARG}, {"limit", CTL_ARG}, {"all", 0}, {NULL, 0},
};
static const ctl_optspec report_opts[] = {{"csv", 0}, {NULL, 0}};
static const ctl_optspec backup_opts[] = {{"out", CTL_ARG}, {NULL, 0}};
static const ctl_optspec import_opts[] = {
	{"format", CTL_ARG}, {"unit", CTL_ARG}, {"map", CTL_ARG | CTL_MULTI}, {"encoding", CTL_ARG},
	{"files", CTL_ARG}, {"limit", CTL_ARG}, {NULL, 0},
};

static const ctl_optspec directive_opts[] = {
	{"title", CTL_ARG}, {"body-file", CTL_ARG}, {"doc-number", CTL_ARG}, {"doc-date", CTL_ARG},
	{"signer", CTL_ARG}, {"type", CTL_ARG | CTL_MULTI}, {"unit", CTL_ARG | CTL_MULTI}, {"report", 0},
	{"deadline", CTL_ARG}, {"attach", CTL_ARG | CTL_MULTI}, {"file", CTL_ARG}, {"csv", 0}, {"at", CTL_ARG},
	{"all", 0}, {NULL, 0},
};

const ctl_cmd ctl_cmds[] = {
	{"status", no_opts, 0, 0, "", cmd_status},
	{"publish", publish_opts, 0, 0,
	 "--title T [--kind news|announcement|document|event] [--summary S] [--body-file F|-] [--tag X]... "
	 "[--author A] [--doc-number N --doc-date YYYY-MM-DD --signer S] [--starts T --ends T --location L] "
	 "[--attach FILE]...", cmd_publish},
	{"items", items_opts, 0, 0, "[--unit U] [--kind K] [--q TEXT] [--limit N] [--all]", cmd_items},
	{"show", no_opts, 1, 1, "ID", cmd_show},
	{"delete", no_opts, 1, 1, "ID", cmd_delete},
	{"topology", no_opts, 0, 0, "", cmd_topology},
	{"report", report_opts, 1, 1, "deployment [--csv]", cmd_report},
	{"backup", backup_opts, 0, 0, "--out DIR   (consistent copies of the node's stores; admin token)",
	 ctl_cmd_backup},
	{"import", import_opts, 1, CTL_MAX_ARGS, "--format rss|atom|jsonfeed|wxr [--unit ID] "
	 "[--map CATEGORY=KIND]... [--encoding windows-1258] [--files DIR] [--limit N] FILE...", ctl_cmd_import},
	{"directive", directive_opts, 1, 2,
	 "send --title T [--body-file F|-] [--doc-number N] [--doc-date YYYY-MM-DD] [--signer S] [--type T]... "
	 "[--unit ID]... [--report] [--deadline RFC3339] [--attach FILE]... | list [--all] | show ID | ack ID | "
	 "report ID --file F [--attach FILE]... | status ID [--csv] [--at RFC3339]", ctl_cmd_directive},
	{NULL, NULL, 0, 0, NULL, NULL},
};
