/* `edunetctl import`: brings another portal's export into this node's unit.
 *
 * Idempotence lives on the node: every imported item carries the tag
 * "import:<16 hex of sha256(source key)>" and its old URL as source_url. On
 * start the unit's items are listed and the map tag → item is rebuilt, so a
 * re-run from any machine finds what is already there. A local state file
 * (FILE.import-state.json, rewritten atomically after each item) only saves
 * work: it remembers the content hash last sent, so unchanged entries are
 * skipped without reading the item back, and it finds items deleted on the
 * node (tombstones are not listed) so they are not brought back. */
#include "ctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "core/timefmt.h"
#include "import/import.h"

#define STATE_FORMAT 1            /* version of FILE.import-state.json this build writes and reads */
#define STATE_SUFFIX ".import-state.json"
#define STATE_MAX (64u * 1024 * 1024) /* bytes of a state file we read */
#define LIST_PAGE 100             /* items per page when rebuilding the map (the API's maximum) */

typedef struct run {
	ctl *c;
	const char *unit;
	const char *files_dir;
	json_t *nodemap;  /* import tag → listed item (no body) */
	json_t *rows;     /* report entries */
	json_t *files;    /* per-file notes */
	size_t found, imported, updated, skipped, failed;
	long limit;       /* entries to process at most; < 0: all */
	size_t done;
} run;

static void row(run *r, const char *file, const edu_import_entry *e, const char *status, const char *id,
                const char *reason)
{
	json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s}", "file", file, "index", (json_int_t)e->index, "key",
	                      e->key ? e->key : "", "title", e->title ? e->title : "", "status", status);
	if (!o)
		return;
	if (id)
		json_object_set_new(o, "id", json_string(id));
	if (e->link && *e->link)
		json_object_set_new(o, "source_url", json_string(e->link));
	if (reason)
		json_object_set_new(o, "reason", json_string(reason));
	json_array_append_new(r->rows, o);
	if (strcmp(status, "imported") == 0)
		r->imported++;
	else if (strcmp(status, "updated") == 0)
		r->updated++;
	else if (strcmp(status, "skipped") == 0)
		r->skipped++;
	else
		r->failed++;
}

/* One API call whose HTTP errors become a reason instead of output.
 * CTL_EXIT_UNREACH on transport failure; otherwise OK with *status. */
static int call(run *r, const char *method, const char *path, const char *ct, const void *body, size_t len,
                int *status, json_t **doc, char *why, size_t whylen)
{
	edu_buf resp = EDU_BUF_INIT;
	*doc = NULL;
	int rv = ctl_http(r->c, method, path, ct, body, len, status, &resp);
	if (rv == CTL_EXIT_OK) {
		json_error_t je;
		*doc = resp.len ? json_loadb(resp.p, resp.len, 0, &je) : NULL;
		if (*status >= 300) {
			const char *m = json_string_value(json_object_get(*doc, "message"));
			snprintf(why, whylen, "HTTP %d: %s", *status, m ? m : "(không có thông báo)");
		} else if (!*doc) {
			snprintf(why, whylen, "phản hồi của node không phải JSON (HTTP %d)", *status);
			*status = 502;
		}
	}
	edu_buf_free(&resp);
	return rv;
}

/* Lists the unit's items and keeps those with an import tag. */
static int build_map(run *r)
{
	char *next = NULL, why[300];
	int rv = CTL_EXIT_OK;
	char *eu = ctl_encode(r->unit);
	if (!eu)
		return CTL_EXIT_FAIL;
	for (size_t page = 0; page < CTL_MAX_PAGES; page++) {
		char *en = next ? ctl_encode(next) : NULL;
		edu_buf q = EDU_BUF_INIT;
		edu_buf_printf(&q, "/api/v1/items?unit=%s&limit=%d%s%s", eu, LIST_PAGE, en ? "&before=" : "", en ? en : "");
		free(en);
		int st;
		json_t *doc = NULL;
		rv = q.p ? call(r, "GET", q.p, NULL, NULL, 0, &st, &doc, why, sizeof why) : CTL_EXIT_FAIL;
		edu_buf_free(&q);
		if (rv == CTL_EXIT_OK && st >= 300) {
			fprintf(r->c->err, "lỗi: không liệt kê được tin của %s: %s\n", r->unit, why);
			rv = CTL_EXIT_FAIL;
		}
		json_t *items = json_object_get(doc, "items");
		if (rv == CTL_EXIT_OK && !json_is_array(items)) {
			fprintf(r->c->err, "lỗi: phản hồi không có \"items\"\n");
			rv = CTL_EXIT_FAIL;
		}
		if (rv != CTL_EXIT_OK) {
			json_decref(doc);
			break;
		}
		size_t i;
		json_t *it;
		json_array_foreach(items, i, it) {
			const char *unit = json_string_value(json_object_get(it, "unit"));
			if (!unit || strcmp(unit, r->unit) != 0)
				continue;
			size_t k;
			json_t *tag;
			json_array_foreach(json_object_get(it, "tags"), k, tag) {
				const char *t = json_string_value(tag);
				if (t && strncmp(t, EDU_IMPORT_TAG_PREFIX, strlen(EDU_IMPORT_TAG_PREFIX)) == 0)
					json_object_set(r->nodemap, t, it);
			}
		}
		free(next);
		next = NULL;
		const char *nx = json_string_value(json_object_get(doc, "next"));
		if (nx && json_array_size(items))
			next = strdup(nx);
		json_decref(doc);
		if (!next)
			break;
	}
	free(next);
	free(eu);
	return rv;
}

/* ---- the local state file ---- */

static json_t *state_load(ctl *c, const char *path, const char *unit)
{
	struct stat st;
	json_error_t je;
	if (stat(path, &st) != 0)
		return json_object();
	json_t *doc = (uint64_t)st.st_size <= STATE_MAX ? json_load_file(path, 0, &je) : NULL;
	json_t *entries = json_object_get(doc, "entries");
	if (!doc || json_integer_value(json_object_get(doc, "format")) != STATE_FORMAT || !json_is_object(entries) ||
	    !json_string_value(json_object_get(doc, "unit")) ||
	    strcmp(json_string_value(json_object_get(doc, "unit")), unit) != 0) {
		fprintf(c->err, "cảnh báo: bỏ qua tệp trạng thái %s (hỏng, khác phiên bản hoặc của đơn vị khác)\n", path);
		json_decref(doc);
		return json_object();
	}
	json_incref(entries);
	json_decref(doc);
	return entries;
}

/* Written to PATH.tmp, flushed to disk, renamed over PATH: a kill leaves the old or the new file. */
static void state_save(ctl *c, const char *path, const char *unit, json_t *entries)
{
	char *tmp = malloc(strlen(path) + 8);
	json_t *doc = json_pack("{s:i, s:s, s:O}", "format", STATE_FORMAT, "unit", unit, "entries", entries);
	FILE *f = NULL;
	if (!tmp || !doc)
		goto out;
	sprintf(tmp, "%s.tmp", path);
	if (!(f = fopen(tmp, "w")) || json_dumpf(doc, f, JSON_COMPACT) != 0 || fflush(f) != 0 || fsync(fileno(f)) != 0) {
		fprintf(c->err, "cảnh báo: không ghi được %s: %s\n", tmp, strerror(errno));
		goto out;
	}
	fclose(f);
	f = NULL;
	if (rename(tmp, path) != 0)
		fprintf(c->err, "cảnh báo: không ghi được %s: %s\n", path, strerror(errno));
out:
	if (f)
		fclose(f);
	json_decref(doc);
	free(tmp);
}

/* ---- comparison with what the node has ---- */

static const char *sv(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static bool same_time(const char *a, const char *b)
{
	int64_t ta, tb;
	if (!*a)
		return true; /* the source gave none: whatever the node chose */
	return edu_time_parse(a, &ta, NULL) == EDU_OK && edu_time_parse(b, &tb, NULL) == EDU_OK && ta == tb;
}

static bool same_content(const json_t *have, const json_t *want)
{
	static const char *const strs[] = {"kind", "title", "summary", "body", "author", "source_url"};
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
		if (strcmp(sv(have, strs[i]), sv(want, strs[i])) != 0)
			return false;
	if (!same_time(sv(want, "published"), sv(have, "published")) || !same_time(sv(want, "updated"), sv(have, "updated")))
		return false;
	if (!json_equal(json_object_get(have, "tags"), json_object_get(want, "tags")))
		return false;
	/* no files given this time: the node keeps what earlier runs uploaded */
	const json_t *ha = json_object_get(have, "attachments"), *wa = json_object_get(want, "attachments");
	if (!wa)
		return true;
	if (json_array_size(ha) != json_array_size(wa))
		return false;
	for (size_t i = 0; i < json_array_size(wa); i++)
		if (strcmp(sv(json_array_get(ha, i), "sha256"), sv(json_array_get(wa, i), "sha256")) != 0)
			return false;
	return true;
}

static void content_hash(const json_t *want, char hex[65])
{
	char *s = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
	uint8_t h[32];
	crypto_hash_sha256(h, (const unsigned char *)(s ? s : ""), s ? strlen(s) : 0);
	sodium_bin2hex(hex, 65, h, sizeof h);
	free(s);
}

/* ---- attachments given as local files ---- */

/* DIR + the old URL's path (percent-decoded), else DIR + its file name; NULL when neither is a file. */
static char *local_file(const char *dir, const char *url)
{
	const char *p = strstr(url, "://");
	p = p ? strchr(p + 3, '/') : (url[0] == '/' ? url : NULL);
	if (!p)
		return NULL;
	size_t n = strcspn(p, "?#");
	char *path = malloc(n + 1), *cand = NULL;
	size_t o = 0;
	if (!path)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (p[i] == '%' && i + 2 < n + 1 && sscanf(p + i + 1, "%2x", &v) == 1 && v != 0) {
			path[o++] = (char)v;
			i += 2;
		} else {
			path[o++] = p[i];
		}
	}
	path[o] = '\0';
	if (strstr(path, "/../") || (o >= 3 && strcmp(path + o - 3, "/..") == 0) || strchr(path, '\\'))
		goto out;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	const char *tries[2] = {path, base};
	for (int t = 0; t < 2 && !cand; t++) {
		if (!*tries[t] || strcmp(tries[t], "..") == 0)
			continue;
		cand = malloc(strlen(dir) + strlen(tries[t]) + 2);
		if (!cand)
			break;
		sprintf(cand, "%s%s%s", dir, tries[t][0] == '/' ? "" : "/", tries[t]);
		struct stat st;
		if (stat(cand, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(cand);
			cand = NULL;
		}
	}
out:
	free(path);
	return cand;
}

/* Uploads the entry's attachments found under --files. */
static int upload_atts(run *r, const edu_import_entry *e, json_t *uploaded, char *why, size_t whylen)
{
	for (size_t i = 0; r->files_dir && i < e->n_atts; i++) {
		char *f = local_file(r->files_dir, e->atts[i].url);
		if (!f)
			continue;
		if (json_array_size(uploaded) >= EDU_ATTACH_MAX_COUNT) {
			free(f);
			break;
		}
		int rv = ctl_upload(r->c, f, uploaded);
		if (rv != CTL_EXIT_OK) {
			snprintf(why, whylen, "không tải lên được tệp đính kèm %s", f);
			free(f);
			return rv;
		}
		free(f);
	}
	return CTL_EXIT_OK;
}

/* ---- one entry ---- */

static int one(run *r, const char *file, const edu_import_entry *e, json_t *state, const char *state_path)
{
	char why[400] = "", hash[65];
	json_t *uploaded = json_array(), *want = NULL, *doc = NULL, *have = NULL;
	char *text = NULL, *path = NULL;
	int st = 0, rv = CTL_EXIT_OK;
	r->found++;
	if (e->skip) {
		row(r, file, e, "skipped", NULL, e->skip);
		goto out;
	}
	if (e->fail) {
		row(r, file, e, "failed", NULL, e->fail);
		goto out;
	}
	if (!uploaded || (rv = upload_atts(r, e, uploaded, why, sizeof why)) != CTL_EXIT_OK) {
		if (rv != CTL_EXIT_UNREACH) {
			row(r, file, e, "failed", NULL, why[0] ? why : "hết bộ nhớ");
			rv = CTL_EXIT_OK;
		}
		goto out;
	}
	if (!(want = edu_import_entry_json(e, uploaded)) || !(text = json_dumps(want, JSON_COMPACT))) {
		row(r, file, e, "failed", NULL, "hết bộ nhớ");
		goto out;
	}
	content_hash(want, hash);
	json_t *known = json_object_get(state, e->key);
	json_t *listed = json_object_get(r->nodemap, e->tag);
	const char *id = listed ? sv(listed, "id") : sv(known, "id");
	if (*id) {
		/* the node's copy decides; the state file only spares reading it back */
		if (listed && known && strcmp(sv(known, "hash"), hash) == 0 && strcmp(sv(known, "id"), id) == 0 &&
		    json_integer_value(json_object_get(known, "version")) == json_integer_value(json_object_get(listed, "version"))) {
			row(r, file, e, "skipped", id, "unchanged");
			goto out;
		}
		char *eid = ctl_encode(id);
		if (!eid || !(path = malloc(strlen(eid) + 32))) {
			free(eid);
			row(r, file, e, "failed", NULL, "hết bộ nhớ");
			goto out;
		}
		sprintf(path, "/api/v1/items/%s", eid);
		free(eid);
		if ((rv = call(r, "GET", path, NULL, NULL, 0, &st, &have, why, sizeof why)) != CTL_EXIT_OK)
			goto out;
		if (st == 404) {
			id = ""; /* gone without a trace: import again */
		} else if (st >= 300) {
			row(r, file, e, "failed", id, why);
			goto out;
		} else if (json_is_true(json_object_get(have, "deleted"))) {
			row(r, file, e, "skipped", id, "deleted on node");
			goto out;
		}
	}
	const char *status;
	if (*id && same_content(have, want)) {
		status = "skipped";
		doc = json_incref(have);
	} else if (*id) {
		status = "updated";
		if ((rv = call(r, "PUT", path, "application/json", text, strlen(text), &st, &doc, why, sizeof why)) != CTL_EXIT_OK)
			goto out;
	} else {
		status = "imported";
		if ((rv = call(r, "POST", "/api/v1/items", "application/json", text, strlen(text), &st, &doc, why,
		               sizeof why)) != CTL_EXIT_OK)
			goto out;
	}
	if (st >= 300) {
		row(r, file, e, "failed", *id ? id : NULL, why);
		goto out;
	}
	const char *nid = sv(doc, "id");
	row(r, file, e, status, nid, strcmp(status, "skipped") == 0 ? "unchanged" : NULL);
	json_t *rec = json_pack("{s:s, s:I, s:s}", "id", nid, "version",
	                        json_integer_value(json_object_get(doc, "version")), "hash", hash);
	if (rec) {
		json_object_set_new(state, e->key, rec);
		if (state_path)
			state_save(r->c, state_path, r->unit, state);
	}
	/* later duplicates in other files find it */
	json_t *l = json_deep_copy(doc);
	if (l) {
		json_object_del(l, "body");
		json_object_set_new(r->nodemap, e->tag, l);
	}
out:
	json_decref(uploaded);
	json_decref(want);
	json_decref(doc);
	json_decref(have);
	free(text);
	free(path);
	return rv;
}

/* ---- report ---- */

static void print_report(run *r)
{
	ctl *c = r->c;
	if (c->json) {
		json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:O, s:O}", "unit", r->unit, "found",
		    (json_int_t)r->found, "imported", (json_int_t)r->imported, "updated", (json_int_t)r->updated,
		    "skipped", (json_int_t)r->skipped, "failed", (json_int_t)r->failed, "files", r->files,
		    "entries", r->rows);
		if (o) {
			json_dumpf(o, c->out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			fputc('\n', c->out);
		}
		json_decref(o);
		return;
	}
	size_t n = json_array_size(r->rows);
	const char **cells = calloc(n ? n * 5 : 1, sizeof *cells);
	char (*idx)[24] = calloc(n ? n : 1, sizeof *idx);
	if (cells && idx) {
		for (size_t i = 0; i < n; i++) {
			const json_t *e = json_array_get(r->rows, i);
			snprintf(idx[i], sizeof idx[i], "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(e, "index")) + 1);
			cells[i * 5 + 0] = idx[i];
			cells[i * 5 + 1] = sv(e, "status");
			cells[i * 5 + 2] = sv(e, "id");
			cells[i * 5 + 3] = sv(e, "reason");
			cells[i * 5 + 4] = sv(e, "title");
		}
		static const char *const head[] = {"#", "KẾT QUẢ", "ID", "LÝ DO", "TIÊU ĐỀ"};
		static const bool right[] = {true, false, false, false, false};
		ctl_table(c->out, head, 5, cells, n, right);
	}
	free(cells);
	free(idx);
	size_t i;
	json_t *f;
	json_array_foreach(r->files, i, f) {
		if (json_object_get(f, "warning"))
			fprintf(c->out, "cảnh báo (%s): %s\n", sv(f, "file"), sv(f, "warning"));
		if (json_object_get(f, "error"))
			fprintf(c->out, "lỗi (%s): %s\n", sv(f, "file"), sv(f, "error"));
	}
	fprintf(c->out, "tìm thấy %zu · nhập mới %zu · cập nhật %zu · bỏ qua %zu · lỗi %zu\n", r->found, r->imported,
	        r->updated, r->skipped, r->failed);
}

/* ---- the command ---- */

static int read_file(ctl *c, const char *path, char **out, size_t *len, char *why, size_t whylen)
{
	FILE *f = fopen(path, "rb");
	*out = NULL;
	if (!f) {
		snprintf(why, whylen, "%s", strerror(errno));
		return CTL_EXIT_FAIL;
	}
	char *buf = malloc(EDU_IMPORT_INPUT_MAX + 1);
	size_t n = buf ? fread(buf, 1, EDU_IMPORT_INPUT_MAX + 1, f) : 0;
	int rv = CTL_EXIT_FAIL;
	if (!buf)
		snprintf(why, whylen, "hết bộ nhớ");
	else if (ferror(f))
		snprintf(why, whylen, "%s", strerror(errno));
	else if (n > EDU_IMPORT_INPUT_MAX)
		snprintf(why, whylen, "lớn hơn giới hạn %u byte", EDU_IMPORT_INPUT_MAX);
	else
		rv = CTL_EXIT_OK;
	fclose(f);
	if (rv == CTL_EXIT_OK) {
		*out = buf;
		*len = n;
	} else {
		free(buf);
	}
	return rv;
}

static int usage(ctl *c, const ctl_args *a, const char *why)
{
	fprintf(c->err, "edunetctl %s: %s\n", a->cmd->name, why);
	ctl_usage(c->err, a->cmd);
	return CTL_EXIT_USAGE;
}

int ctl_cmd_import(ctl *c, const ctl_args *a)
{
	int rv = CTL_EXIT_FAIL;
	run r = {.c = c, .limit = -1};
	edu_import_map maps[EDU_IMPORT_MAPS_MAX];
	char *map_cats[EDU_IMPORT_MAPS_MAX] = {0};
	size_t n_maps = 0;
	json_t *status = NULL;
	char why[300];
	edu_import_format fmt = edu_import_format_parse(ctl_opt(a, "format"));
	if (!ctl_opt(a, "format"))
		return usage(c, a, "cần --format rss|atom|jsonfeed|wxr");
	if (fmt == EDU_IMPORT_NONE)
		return usage(c, a, "--format: rss | atom | jsonfeed | wxr");
	for (size_t i = 0; ctl_opt_multi(a, "map", i); i++) {
		if (n_maps == EDU_IMPORT_MAPS_MAX) {
			rv = usage(c, a, "quá nhiều --map");
			goto out;
		}
		if (edu_import_map_parse(ctl_opt_multi(a, "map", i), &maps[n_maps], &map_cats[n_maps], why, sizeof why) !=
		    EDU_OK) {
			rv = usage(c, a, why);
			goto out;
		}
		n_maps++;
	}
	if (ctl_opt(a, "limit")) {
		char *end;
		r.limit = strtol(ctl_opt(a, "limit"), &end, 10);
		if (*end || r.limit < 0) {
			rv = usage(c, a, "--limit: một số >= 0");
			goto out;
		}
	}
	if ((r.files_dir = ctl_opt(a, "files")) != NULL) {
		struct stat st;
		if (stat(r.files_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
			fprintf(c->err, "lỗi: --files %s: không phải thư mục\n", r.files_dir);
			goto out;
		}
	}
	/* the node's own unit: items are created there, and only there */
	if ((rv = ctl_api(c, "GET", "/api/v1/status", NULL, NULL, 0, &status)) != CTL_EXIT_OK)
		goto out;
	rv = CTL_EXIT_FAIL;
	const char *self = json_string_value(json_object_get(status, "id"));
	if (!self) {
		fprintf(c->err, "lỗi: node không cho biết id của nó\n");
		goto out;
	}
	if (ctl_opt(a, "unit") && strcmp(ctl_opt(a, "unit"), self) != 0) {
		fprintf(c->err, "lỗi: node này là %s; chỉ nhập được vào đơn vị của chính node (--unit %s)\n", self,
		        ctl_opt(a, "unit"));
		goto out;
	}
	r.unit = self;
	r.nodemap = json_object();
	r.rows = json_array();
	r.files = json_array();
	if (!r.nodemap || !r.rows || !r.files)
		goto out;
	if ((rv = build_map(&r)) != CTL_EXIT_OK)
		goto out;
	edu_import_opts o = {.encoding = ctl_opt(a, "encoding"), .maps = maps, .n_maps = n_maps,
	                     .default_tz_min = EDU_TZ_VN_MIN};
	bool file_failed = false;
	for (size_t fi = 0; fi < a->n_pos && rv == CTL_EXIT_OK; fi++) {
		const char *file = a->pos[fi];
		char *data = NULL, *state_path = NULL;
		size_t len = 0;
		edu_import_feed *feed = NULL;
		json_t *note = json_pack("{s:s, s:s}", "file", file, "format", ctl_opt(a, "format"));
		json_t *state = NULL;
		why[0] = '\0';
		if (read_file(c, file, &data, &len, why, sizeof why) != CTL_EXIT_OK ||
		    edu_import_parse(&feed, fmt, data, len, &o, why, sizeof why) != EDU_OK) {
			json_object_set_new(note, "error", json_string(why));
			file_failed = true;
		} else {
			if (why[0])
				json_object_set_new(note, "warning", json_string(why));
			json_object_set_new(note, "recovered", json_boolean(feed->recovered));
			json_object_set_new(note, "entries", json_integer((json_int_t)feed->n));
			if (fmt == EDU_IMPORT_WXR)
				json_object_set_new(note, "wxr_attachments", json_integer((json_int_t)feed->n_wxr_attachments));
			if ((state_path = malloc(strlen(file) + sizeof STATE_SUFFIX)))
				sprintf(state_path, "%s%s", file, STATE_SUFFIX);
			state = state_path ? state_load(c, state_path, r.unit) : json_object();
			for (size_t i = 0; state && i < feed->n && rv == CTL_EXIT_OK; i++) {
				if (r.limit >= 0 && r.done >= (size_t)r.limit) {
					json_object_set_new(note, "stopped", json_string("--limit"));
					break;
				}
				rv = one(&r, file, &feed->entries[i], state, state_path);
				r.done++;
			}
		}
		json_array_append_new(r.files, note);
		json_decref(state);
		edu_import_feed_free(feed);
		free(data);
		free(state_path);
	}
	if (rv != CTL_EXIT_OK)
		goto out; /* node unreachable midway: the state file lets the next run resume */
	print_report(&r);
	rv = r.failed || file_failed ? CTL_EXIT_FAIL : CTL_EXIT_OK;
out:
	for (size_t i = 0; i < n_maps; i++)
		free(map_cats[i]);
	json_decref(status);
	json_decref(r.nodemap);
	json_decref(r.rows);
	json_decref(r.files);
	return rv;
}
