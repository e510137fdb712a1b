/* Human renderings of the node's JSON. Tolerant: a missing or mistyped key
 * prints as "-" rather than failing, so newer nodes still render. */
#include "ctl.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include "core/timefmt.h"

size_t ctl_display_width(const char *s)
{
	size_t w = 0;
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_ssize_t left = (utf8proc_ssize_t)strlen(s);
	while (left > 0) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
		if (n <= 0) { /* a stray byte takes one column, as terminals show U+FFFD */
			w++;
			p++;
			left--;
			continue;
		}
		int cw = utf8proc_charwidth(cp);
		w += cw > 0 ? (size_t)cw : 0;
		p += n;
		left -= n;
	}
	return w;
}

static void pad(FILE *f, size_t n)
{
	while (n--)
		fputc(' ', f);
}

void ctl_table(FILE *f, const char *const *head, size_t n_cols, const char *const *cells,
               size_t n_rows, const bool *right)
{
	size_t *w = calloc(n_cols ? n_cols : 1, sizeof *w);
	if (!w)
		return;
	for (size_t c = 0; c < n_cols; c++)
		w[c] = ctl_display_width(head[c]);
	for (size_t r = 0; r < n_rows; r++)
		for (size_t c = 0; c < n_cols; c++) {
			const char *s = cells[r * n_cols + c];
			size_t cw = ctl_display_width(s ? s : "");
			if (cw > w[c])
				w[c] = cw;
		}
	for (size_t r = 0; r <= n_rows; r++) {
		const char *const *row = r == 0 ? head : cells + (r - 1) * n_cols;
		for (size_t c = 0; c < n_cols; c++) {
			const char *s = row[c] ? row[c] : "";
			size_t gap = w[c] - ctl_display_width(s);
			bool last = c + 1 == n_cols;
			if (right && right[c])
				pad(f, gap);
			fputs(s, f);
			if (!last && !(right && right[c]))
				pad(f, gap);
			fputs(last ? "\n" : "  ", f);
		}
	}
	free(w);
}

void ctl_format_ago(char *out, size_t len, int64_t s)
{
	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(out, len, "%" PRId64 " s", s);
	else if (s < 2 * 3600)
		snprintf(out, len, "%" PRId64 " min", s / 60);
	else if (s < 2 * 86400)
		snprintf(out, len, "%" PRId64 " h", s / 3600);
	else
		snprintf(out, len, "%" PRId64 " ngày", s / 86400);
}

const char *ctl_media_type(const char *name)
{
	static const struct { const char *ext, *type; } t[] = {
		{"pdf", "application/pdf"}, {"doc", "application/msword"},
		{"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
		{"xls", "application/vnd.ms-excel"},
		{"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
		{"ppt", "application/vnd.ms-powerpoint"},
		{"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
		{"odt", "application/vnd.oasis.opendocument.text"},
		{"ods", "application/vnd.oasis.opendocument.spreadsheet"},
		{"odp", "application/vnd.oasis.opendocument.presentation"},
		{"rtf", "application/rtf"}, {"txt", "text/plain"}, {"csv", "text/csv"},
		{"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"}, {"png", "image/png"},
		{"gif", "image/gif"}, {"webp", "image/webp"}, {"zip", "application/zip"},
		{"rar", "application/vnd.rar"}, {"7z", "application/x-7z-compressed"},
		{"mp3", "audio/mpeg"}, {"mp4", "video/mp4"},
	};
	const char *dot = strrchr(name, '.');
	const char *slash = strrchr(name, '/');
	if (dot && (!slash || dot > slash))
		for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
			if (strcasecmp(dot + 1, t[i].ext) == 0)
				return t[i].type;
	return "application/octet-stream";
}

/* A JSON scalar as text in buf ("-" for missing or null). */
static const char *scalar(const json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v))
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%g", json_real_value(v));
	else if (json_is_true(v))
		snprintf(buf, len, "có");
	else if (json_is_false(v))
		snprintf(buf, len, "không");
	else
		snprintf(buf, len, "-");
	return buf;
}

static const char *get(const json_t *o, const char *key, char *buf, size_t len)
{
	return scalar(json_object_get(o, key), buf, len);
}

void ctl_render_items(FILE *f, const json_t *items)
{
	static const char *const head[] = {"ID", "LOẠI", "NGÀY", "ĐƠN VỊ", "TIÊU ĐỀ"};
	enum { NC = 5, CELL = 48 };
	size_t n = json_array_size(items);
	const char **cells = calloc(n * NC + 1, sizeof *cells);
	char (*num)[CELL] = calloc(n * NC + 1, CELL);
	if (!cells || !num)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const json_t *it = json_array_get(items, i);
		const char **row = cells + i * NC;
		char (*b)[CELL] = num + i * NC;
		row[0] = get(it, "id", b[0], CELL);
		row[1] = get(it, "kind", b[1], CELL);
		const char *pub = get(it, "published", b[2], CELL);
		if (pub != b[2]) { /* a string: keep "YYYY-MM-DD HH:MM" */
			snprintf(b[2], CELL, "%.10s%s%.5s", pub, strlen(pub) >= 16 ? " " : "",
			         strlen(pub) >= 16 ? pub + 11 : "");
		}
		row[2] = b[2];
		row[3] = get(it, "unit", b[3], CELL);
		row[4] = get(it, "title", b[4], CELL);
		if (json_is_true(json_object_get(it, "deleted"))) {
			snprintf(b[4], CELL, "(đã xoá)");
			row[4] = b[4];
		}
	}
	ctl_table(f, head, NC, cells, n, NULL);
	fprintf(f, "(%zu mục)\n", n);
out:
	free(cells);
	free(num);
}

void ctl_render_item(FILE *f, const json_t *item)
{
	static const struct { const char *key, *label; } fields[] = {
		{"id", "ID"}, {"unit", "Đơn vị"}, {"unit_name", "Tên đơn vị"}, {"kind", "Loại"},
		{"title", "Tiêu đề"}, {"summary", "Tóm tắt"}, {"author", "Tác giả"},
		{"published", "Đăng lúc"}, {"updated", "Cập nhật"}, {"version", "Phiên bản"},
		{"deleted", "Đã xoá"}, {"doc_number", "Số văn bản"}, {"doc_date", "Ngày văn bản"},
		{"signer", "Người ký"}, {"starts", "Bắt đầu"}, {"ends", "Kết thúc"},
		{"location", "Địa điểm"}, {"source_url", "Nguồn"},
	};
	char b[64];
	size_t wmax = 0;
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (ctl_display_width(fields[i].label) > wmax)
			wmax = ctl_display_width(fields[i].label);
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		const json_t *v = json_object_get(item, fields[i].key);
		if (!v || json_is_null(v) || (json_is_string(v) && !*json_string_value(v)))
			continue;
		fprintf(f, "%s:", fields[i].label);
		pad(f, wmax + 1 - ctl_display_width(fields[i].label));
		fprintf(f, "%s\n", scalar(v, b, sizeof b));
	}
	const json_t *tags = json_object_get(item, "tags");
	if (json_array_size(tags) > 0) {
		fprintf(f, "Thẻ:");
		pad(f, wmax + 1 - ctl_display_width("Thẻ"));
		for (size_t i = 0; i < json_array_size(tags); i++)
			fprintf(f, "%s%s", i ? ", " : "", scalar(json_array_get(tags, i), b, sizeof b));
		fputc('\n', f);
	}
	const json_t *att = json_object_get(item, "attachments");
	for (size_t i = 0; i < json_array_size(att); i++) {
		const json_t *a = json_array_get(att, i);
		char b1[64], b2[64], b3[64], b4[80];
		fprintf(f, "Tệp đính kèm: %s (%s, %s byte, sha256 %s)\n", get(a, "name", b1, sizeof b1),
		        get(a, "media_type", b2, sizeof b2), get(a, "size", b3, sizeof b3),
		        get(a, "sha256", b4, sizeof b4));
	}
	const char *body = json_string_value(json_object_get(item, "body"));
	if (body && *body)
		fprintf(f, "\n%s%s", body, body[strlen(body) - 1] == '\n' ? "" : "\n");
}

/* Flattens nested objects into "a.b" keys; arrays print as JSON. */
static void flatten(const json_t *o, const char *prefix, const char ***keys, const char ***vals,
                    size_t *n, size_t *cap, char **owned, size_t *n_owned)
{
	const char *k;
	const json_t *v;
	json_object_foreach((json_t *)o, k, v) {
		char name[256];
		snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", k);
		if (json_is_object(v)) {
			flatten(v, name, keys, vals, n, cap, owned, n_owned);
			continue;
		}
		if (*n == *cap || *n_owned + 2 > 2 * *cap)
			return; /* bounded by the caller's capacity */
		char b[64];
		char *val = json_is_array(v) ? json_dumps(v, JSON_COMPACT) : strdup(scalar(v, b, sizeof b));
		char *key = strdup(name);
		if (!val || !key) {
			free(val);
			free(key);
			return;
		}
		owned[(*n_owned)++] = key;
		owned[(*n_owned)++] = val;
		(*keys)[*n] = key;
		(*vals)[*n] = val;
		(*n)++;
	}
}

void ctl_render_status(FILE *f, const json_t *st)
{
	enum { CAP = 128 };
	const char *kbuf[CAP], *vbuf[CAP];
	const char **keys = kbuf, **vals = vbuf;
	char *owned[2 * CAP];
	size_t n = 0, cap = CAP, n_owned = 0;
	flatten(st, "", &keys, &vals, &n, &cap, owned, &n_owned);
	const char *cells[2 * CAP];
	char up[64];
	for (size_t i = 0; i < n; i++) {
		cells[2 * i] = keys[i];
		cells[2 * i + 1] = vals[i];
		if (strcmp(keys[i], "uptime_s") == 0) {
			ctl_format_ago(up, sizeof up, strtoll(vals[i], NULL, 10));
			cells[2 * i + 1] = up;
		}
	}
	static const char *const head[] = {"TRƯỜNG", "GIÁ TRỊ"};
	ctl_table(f, head, 2, cells, n, NULL);
	for (size_t i = 0; i < n_owned; i++)
		free(owned[i]);
}

/* Seconds since last_seen: RFC 3339 text, Unix ms or s, or an explicit age. */
static bool seen_age(const json_t *u, int64_t now_s, int64_t *age)
{
	const json_t *v = json_object_get(u, "last_seen_age_s");
	if (json_is_integer(v)) {
		*age = json_integer_value(v);
		return true;
	}
	v = json_object_get(u, "last_seen");
	int64_t t;
	if (json_is_string(v) && edu_time_parse(json_string_value(v), &t, NULL) == EDU_OK) {
		*age = now_s - t;
		return true;
	}
	if (json_is_integer(v) && json_integer_value(v) > 0) {
		t = json_integer_value(v);
		*age = now_s - (t > 100000000000LL ? t / 1000 : t);
		return true;
	}
	return false;
}

static void tree_node(FILE *f, const json_t *u, int64_t now_s, char *indent, size_t ilen, int depth,
                      bool last, bool root)
{
	char b1[64], b2[256], b3[64], b4[64], b5[64], ago[48];
	int64_t age;
	const char *state = get(u, "state", b3, sizeof b3);
	if (seen_age(u, now_s, &age)) {
		char a[32];
		ctl_format_ago(a, sizeof a, age);
		snprintf(ago, sizeof ago, "%s trước", a);
	} else {
		snprintf(ago, sizeof ago, "chưa thấy");
	}
	fprintf(f, "%s%s%s  %s  [%s]  %s  items %s  backlog %s", indent, root ? "" : last ? "└─ " : "├─ ",
	        get(u, "unit", b1, sizeof b1), get(u, "name", b2, sizeof b2), state, ago,
	        get(u, "items_total", b4, sizeof b4), get(u, "backlog", b5, sizeof b5));
	const json_t *ver = json_object_get(u, "version");
	if (json_is_string(ver) && *json_string_value(ver))
		fprintf(f, "  v%s", json_string_value(ver));
	fputc('\n', f);
	const json_t *kids = json_object_get(u, "children");
	size_t n = json_array_size(kids);
	if (n == 0)
		return;
	size_t at = strlen(indent);
	if (depth + 1 >= CTL_TREE_DEPTH_MAX || at + 8 >= ilen) {
		fprintf(f, "%s   … %zu đơn vị con không hiển thị\n", indent, n);
		return;
	}
	if (!root)
		strcat(indent, last ? "   " : "│  ");
	for (size_t i = 0; i < n; i++)
		tree_node(f, json_array_get(kids, i), now_s, indent, ilen, depth + 1, i + 1 == n, false);
	indent[at] = '\0';
}

void ctl_render_topology(FILE *f, const json_t *tree, int64_t now_s)
{
	char indent[8 * CTL_TREE_DEPTH_MAX + 8] = "";
	if (json_is_array(tree)) {
		for (size_t i = 0; i < json_array_size(tree); i++)
			tree_node(f, json_array_get(tree, i), now_s, indent, sizeof indent, 0, true, true);
		return;
	}
	/* {"tree": {...}} or the tree itself */
	const json_t *t = json_object_get(tree, "tree");
	tree_node(f, json_is_object(t) ? t : tree, now_s, indent, sizeof indent, 0, true, true);
}

static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void csv_row(FILE *f, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		csv_field(f, v[i] ? v[i] : "");
	}
	fputs("\r\n", f);
}

/* One counts table: key columns first, then expected/deployed/online/stale. */
static void counts_table(FILE *f, const json_t *arr, const char *const *keys, const char *const *labels,
                         size_t nk, bool csv, const char *scope)
{
	static const char *const counts[] = {"expected", "deployed", "online", "stale"};
	static const char *const count_labels[] = {"DỰ KIẾN", "ĐÃ TRIỂN KHAI", "TRỰC TUYẾN", "CHẬM"};
	enum { CELL = 256, MAXC = 8 };
	size_t nc = nk + 4, n = json_array_size(arr);
	const char **cells = calloc(n * nc + 1, sizeof *cells);
	char (*buf)[CELL] = calloc(n * nc + 1, CELL);
	const char *head[MAXC];
	bool right[MAXC] = {false};
	if (!cells || !buf || nc > MAXC)
		goto out;
	for (size_t c = 0; c < nk; c++)
		head[c] = labels[c];
	for (size_t c = 0; c < 4; c++) {
		head[nk + c] = count_labels[c];
		right[nk + c] = true;
	}
	for (size_t r = 0; r < n; r++) {
		const json_t *o = json_array_get(arr, r);
		for (size_t c = 0; c < nc; c++)
			cells[r * nc + c] = get(o, c < nk ? keys[c] : counts[c - nk], buf[r * nc + c], CELL);
	}
	if (csv) {
		for (size_t r = 0; r < n; r++) {
			const char *row[9] = {scope};
			const char *const *cr = cells + r * nc;
			/* scope,unit,name,type,expected,deployed,online,stale */
			row[1] = nk == 1 ? "" : cr[0];
			row[2] = nk == 1 ? "" : cr[1];
			row[3] = nk == 1 ? cr[0] : "";
			for (size_t c = 0; c < 4; c++)
				row[4 + c] = cr[nk + c];
			csv_row(f, row, 9);
		}
	} else {
		ctl_table(f, head, nc, cells, n, right);
	}
out:
	free(cells);
	free(buf);
}

void ctl_render_report(FILE *f, const json_t *rep, bool csv)
{
	static const char *const type_keys[] = {"type"}, *const type_labels[] = {"LOẠI"};
	static const char *const ph_keys[] = {"unit", "name"}, *const ph_labels[] = {"PHÒNG", "TÊN"};
	if (csv) {
		static const char *const head[] = {"scope", "unit", "name", "type", "expected", "deployed",
		                                   "online", "stale", "parent"};
		csv_row(f, head, 9);
	}
	if (!csv)
		fputs("Theo loại đơn vị:\n", f);
	counts_table(f, json_object_get(rep, "by_type"), type_keys, type_labels, 1, csv, "type");
	if (!csv)
		fputs("\nTheo Phòng:\n", f);
	counts_table(f, json_object_get(rep, "by_phong"), ph_keys, ph_labels, 2, csv, "phong");
	const json_t *never = json_object_get(rep, "never_seen");
	size_t n = json_array_size(never);
	if (!csv)
		fprintf(f, "\nChưa từng kết nối (%zu):\n", n);
	enum { CELL = 256 };
	const char **cells = calloc(n * 4 + 1, sizeof *cells);
	char (*buf)[CELL] = calloc(n * 4 + 1, CELL);
	if (!cells || !buf)
		goto out;
	static const char *const keys[] = {"unit", "name", "type", "parent"};
	for (size_t r = 0; r < n; r++)
		for (size_t c = 0; c < 4; c++)
			cells[r * 4 + c] = get(json_array_get(never, r), keys[c], buf[r * 4 + c], CELL);
	if (csv) {
		for (size_t r = 0; r < n; r++) {
			const char *row[9] = {"never_seen", cells[r * 4], cells[r * 4 + 1], cells[r * 4 + 2],
			                      "", "", "", "", cells[r * 4 + 3]};
			csv_row(f, row, 9);
		}
	} else if (n > 0) {
		static const char *const head[] = {"ĐƠN VỊ", "TÊN", "LOẠI", "CẤP TRÊN"};
		ctl_table(f, head, 4, cells, n, NULL);
	}
out:
	free(cells);
	free(buf);
}
