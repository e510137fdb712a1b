/* `edunetctl directive send|list|show|ack|report|status`: wraps /api/v1/directives. */
#include "ctl.h"

#include <stdlib.h>
#include <string.h>
#include "item/item.h" /* limits only */

static int d_usage(ctl *c, const ctl_args *a, const char *why)
{
	fprintf(c->err, "edunetctl directive: %s\n", why);
	ctl_usage(c->err, a->cmd);
	return CTL_EXIT_USAGE;
}

static int read_text(ctl *c, const char *path, size_t max, char **out)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	edu_buf b = EDU_BUF_INIT;
	char chunk[8192];
	size_t n;
	*out = NULL;
	if (!f) {
		fprintf(c->err, "lỗi: không mở được %s\n", path);
		return CTL_EXIT_FAIL;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (b.len + n > max) {
			fprintf(c->err, "lỗi: %s lớn hơn %zu byte\n", path, max);
			if (f != stdin)
				fclose(f);
			edu_buf_free(&b);
			return CTL_EXIT_FAIL;
		}
		edu_buf_append(&b, chunk, n);
	}
	if (f != stdin)
		fclose(f);
	edu_buf_append(&b, "", 1);
	*out = edu_buf_detach(&b, &n);
	return *out ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

static void print_doc(ctl *c, const json_t *doc)
{
	json_dumpf(doc, c->out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', c->out);
}

static const char *s_or(const json_t *o, const char *k, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : dflt;
}

static char *dir_path(const char *id, const char *suffix)
{
	char *e = ctl_encode(id);
	char *p = e ? malloc(strlen(e) + strlen(suffix) + 32) : NULL;
	if (p)
		sprintf(p, "/api/v1/directives/%s%s", e, suffix);
	free(e);
	return p;
}

static int send_cmd(ctl *c, const ctl_args *a)
{
	json_t *o = json_object(), *aud = json_object(), *types = json_array(), *units = json_array(), *doc = NULL;
	char *body = NULL, *text = NULL;
	const char *v;
	int rv = CTL_EXIT_FAIL;
	if (!ctl_opt(a, "title")) {
		rv = d_usage(c, a, "send needs --title");
		goto out;
	}
	json_object_set_new(o, "title", json_string(ctl_opt(a, "title")));
	if (ctl_opt(a, "body-file")) {
		if (read_text(c, ctl_opt(a, "body-file"), EDU_BODY_MAX, &body) != CTL_EXIT_OK)
			goto out;
		json_object_set_new(o, "body", json_string(body));
	}
	if ((v = ctl_opt(a, "doc-number")))
		json_object_set_new(o, "doc_number", json_string(v));
	if ((v = ctl_opt(a, "doc-date")))
		json_object_set_new(o, "doc_date", json_string(v));
	if ((v = ctl_opt(a, "signer")))
		json_object_set_new(o, "signer", json_string(v));
	if ((v = ctl_opt(a, "deadline")))
		json_object_set_new(o, "deadline", json_string(v));
	json_object_set_new(o, "report_requested", json_boolean(ctl_opt(a, "report") != NULL));
	for (size_t i = 0; (v = ctl_opt_multi(a, "type", i)); i++)
		json_array_append_new(types, json_string(v));
	for (size_t i = 0; (v = ctl_opt_multi(a, "unit", i)); i++)
		json_array_append_new(units, json_string(v));
	json_object_set(aud, "types", types);
	json_object_set(aud, "units", units);
	json_object_set(o, "audience", aud);
	for (size_t i = 0; (v = ctl_opt_multi(a, "attach", i)); i++) {
		json_t *atts = json_object_get(o, "attachments");
		if (!atts)
			json_object_set_new(o, "attachments", atts = json_array());
		if ((rv = ctl_upload(c, v, atts)) != CTL_EXIT_OK)
			goto out;
	}
	if (!(text = json_dumps(o, JSON_COMPACT))) {
		fprintf(c->err, "lỗi: tham số không phải UTF-8 hợp lệ\n");
		rv = CTL_EXIT_FAIL;
		goto out;
	}
	rv = ctl_api(c, "POST", "/api/v1/directives", "application/json", text, strlen(text), &doc);
	if (rv == CTL_EXIT_OK) {
		if (c->json)
			print_doc(c, doc);
		else
			fprintf(c->out, "%s\n", s_or(doc, "id", "?"));
	}
out:
	free(body);
	free(text);
	json_decref(o);
	json_decref(aud);
	json_decref(types);
	json_decref(units);
	json_decref(doc);
	return rv;
}

static int list_cmd(ctl *c, const ctl_args *a)
{
	json_t *doc = NULL, *arr, *d;
	size_t i, n = 0;
	int rv = ctl_api(c, "GET", "/api/v1/directives", NULL, NULL, 0, &doc);
	if (rv != CTL_EXIT_OK)
		goto out;
	if (c->json) {
		print_doc(c, doc);
		goto out;
	}
	arr = json_object_get(doc, "directives");
	static const char *const head[] = {"ID", "HƯỚNG", "SỐ", "HẠN", "HOÀN THÀNH", "TIÊU ĐỀ"};
	const char **cells = calloc(json_array_size(arr) * 6 + 1, sizeof *cells);
	char (*buf)[64] = calloc(json_array_size(arr) + 1, 64);
	if (!cells || !buf) {
		free(cells);
		free(buf);
		rv = CTL_EXIT_FAIL;
		goto out;
	}
	json_array_foreach(arr, i, d) {
		if (!ctl_opt(a, "all") && !json_is_true(json_object_get(d, "open")))
			continue;
		const json_t *cp = json_object_get(d, "completion");
		if (cp)
			snprintf(buf[n], 64, "%lld/%lld báo cáo, %lld đã nhận",
			    (long long)json_integer_value(json_object_get(cp, json_is_true(json_object_get(d,
			    "report_requested")) ? "reported" : "acknowledged")),
			    (long long)json_integer_value(json_object_get(cp, "units")),
			    (long long)json_integer_value(json_object_get(cp, "received")));
		else
			snprintf(buf[n], 64, "%s", s_or(d, "state", ""));
		const char **row = &cells[n * 6];
		row[0] = s_or(d, "id", "");
		row[1] = strcmp(s_or(d, "direction", ""), "sent") == 0 ? "gửi" : "nhận";
		row[2] = s_or(d, "doc_number", "");
		row[3] = s_or(d, "deadline", "-");
		row[4] = buf[n];
		row[5] = s_or(d, "title", "");
		n++;
	}
	if (n == 0)
		fprintf(c->out, "Không có văn bản chỉ đạo nào đang mở%s.\n", ctl_opt(a, "all") ? "" : " (--all: tất cả)");
	else
		ctl_table(c->out, head, 6, cells, n, NULL);
	free(cells);
	free(buf);
out:
	json_decref(doc);
	return rv;
}

static int show_cmd(ctl *c, const ctl_args *a, const char *id)
{
	json_t *doc = NULL;
	char *p = dir_path(id, "");
	int rv = p ? ctl_api(c, "GET", p, NULL, NULL, 0, &doc) : CTL_EXIT_FAIL;
	if (rv == CTL_EXIT_OK) {
		if (c->json) {
			print_doc(c, doc);
		} else {
			fprintf(c->out, "%s  %s\nSố: %s  Ngày: %s  Người ký: %s\nNơi ban hành: %s (%s)\nHạn: %s  Yêu cầu báo cáo: %s\n\n%s\n",
			    s_or(doc, "id", ""), s_or(doc, "title", ""), s_or(doc, "doc_number", "-"), s_or(doc, "doc_date", "-"),
			    s_or(doc, "signer", "-"), s_or(doc, "issuer_name", ""), s_or(doc, "issuer", ""),
			    s_or(doc, "deadline", "-"), json_is_true(json_object_get(doc, "report_requested")) ? "có" : "không",
			    s_or(doc, "body", ""));
			if (json_object_get(doc, "state"))
				fprintf(c->out, "Trạng thái tại đơn vị: %s\n", s_or(doc, "state", ""));
		}
	}
	free(p);
	json_decref(doc);
	return rv;
}

static int ack_cmd(ctl *c, const ctl_args *a, const char *id)
{
	json_t *doc = NULL;
	char *p = dir_path(id, "/ack");
	int rv = p ? ctl_api(c, "POST", p, "application/json", "{}", 2, &doc) : CTL_EXIT_FAIL;
	if (rv == CTL_EXIT_OK) {
		if (c->json)
			print_doc(c, doc);
		else
			fprintf(c->out, "đã xác nhận %s\n", id);
	}
	free(p);
	json_decref(doc);
	return rv;
}

static int report_cmd(ctl *c, const ctl_args *a, const char *id)
{
	json_t *o = json_object(), *doc = NULL;
	char *text = NULL, *body = NULL, *p = NULL;
	const char *v;
	int rv = CTL_EXIT_FAIL;
	if (!ctl_opt(a, "file")) {
		rv = d_usage(c, a, "report needs --file F (the report's text; - for stdin)");
		goto out;
	}
	if (read_text(c, ctl_opt(a, "file"), 64 * 1024, &text) != CTL_EXIT_OK)
		goto out;
	json_object_set_new(o, "text", json_string(text));
	for (size_t i = 0; (v = ctl_opt_multi(a, "attach", i)); i++) {
		json_t *atts = json_object_get(o, "attachments");
		if (!atts)
			json_object_set_new(o, "attachments", atts = json_array());
		if ((rv = ctl_upload(c, v, atts)) != CTL_EXIT_OK)
			goto out;
	}
	rv = CTL_EXIT_FAIL;
	if (!json_object_get(o, "text") || !(body = json_dumps(o, JSON_COMPACT))) {
		fprintf(c->err, "lỗi: báo cáo không phải UTF-8 hợp lệ\n");
		goto out;
	}
	if (!(p = dir_path(id, "/report")))
		goto out;
	rv = ctl_api(c, "POST", p, "application/json", body, strlen(body), &doc);
	if (rv == CTL_EXIT_OK) {
		if (c->json)
			print_doc(c, doc);
		else
			fprintf(c->out, "đã gửi báo cáo cho %s\n", id);
	}
out:
	free(text);
	free(body);
	free(p);
	json_decref(o);
	json_decref(doc);
	return rv;
}

static const char *state_vi(const char *s)
{
	if (strcmp(s, "on_time") == 0)
		return "đúng hạn";
	if (strcmp(s, "late") == 0)
		return "trễ hạn";
	if (strcmp(s, "missing") == 0)
		return "chưa nộp (quá hạn)";
	return "đang chờ";
}

static void csv_cell(FILE *f, const char *s, bool last)
{
	bool q = strpbrk(s, ",\"\n\r") != NULL;
	if (q) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
	fputc(last ? '\n' : ',', f);
}

static void rollup_table(ctl *c, const json_t *arr, const char *key, const char *label, bool csv)
{
	size_t i, n = json_array_size(arr);
	const json_t *g;
	static const char *const cols[] = {"units", "received", "acknowledged", "reported", "on_time", "late",
	                                   "missing", "pending"};
	const char *head[9] = {label, "ĐƠN VỊ", "ĐÃ NHẬN", "ĐÃ XÁC NHẬN", "ĐÃ BÁO CÁO", "ĐÚNG HẠN", "TRỄ",
	                       "THIẾU", "CHỜ"};
	const char **cells = calloc(n * 9 + 1, sizeof *cells);
	char (*buf)[24] = calloc(n * 9 + 1, 24);
	if (!cells || !buf)
		goto out;
	json_array_foreach(arr, i, g) {
		cells[i * 9] = s_or(g, key, "-");
		for (size_t k = 0; k < 8; k++) {
			snprintf(buf[i * 9 + k + 1], 24, "%lld", (long long)json_integer_value(json_object_get(g, cols[k])));
			cells[i * 9 + k + 1] = buf[i * 9 + k + 1];
		}
		if (csv) {
			csv_cell(c->out, strcmp(key, "type") == 0 ? "type" : "phong", false);
			csv_cell(c->out, cells[i * 9], false);
			for (size_t k = 1; k < 9; k++)
				csv_cell(c->out, cells[i * 9 + k], k == 8);
		}
	}
	if (!csv)
		ctl_table(c->out, head, 9, cells, n, NULL);
out:
	free(cells);
	free(buf);
}

static int status_cmd(ctl *c, const ctl_args *a, const char *id)
{
	json_t *doc = NULL, *units, *u;
	char *p = NULL, *q = NULL;
	size_t i, n;
	bool csv = ctl_opt(a, "csv") != NULL;
	int rv = CTL_EXIT_FAIL;
	if (ctl_opt(a, "at")) {
		char *e = ctl_encode(ctl_opt(a, "at"));
		if (!e || !(q = malloc(strlen(e) + sizeof "/status?at=")))
			goto out0;
		sprintf(q, "/status?at=%s", e);
		free(e);
	}
	if (!(p = dir_path(id, q ? q : "/status")))
		goto out0;
	if ((rv = ctl_api(c, "GET", p, NULL, NULL, 0, &doc)) != CTL_EXIT_OK)
		goto out0;
	if (c->json) {
		print_doc(c, doc);
		goto out0;
	}
	units = json_object_get(doc, "units");
	n = json_array_size(units);
	if (csv) {
		static const char *const head[] = {"scope", "unit", "name", "type", "phong", "received", "acknowledged",
		                                   "reported", "state"};
		for (size_t k = 0; k < 9; k++)
			csv_cell(c->out, head[k], k == 8);
		json_array_foreach(units, i, u) {
			csv_cell(c->out, "unit", false);
			csv_cell(c->out, s_or(u, "unit", ""), false);
			csv_cell(c->out, s_or(u, "name", ""), false);
			csv_cell(c->out, s_or(u, "type", ""), false);
			csv_cell(c->out, s_or(u, "phong", ""), false);
			csv_cell(c->out, s_or(u, "received", ""), false);
			csv_cell(c->out, s_or(u, "acknowledged", ""), false);
			csv_cell(c->out, s_or(u, "reported", ""), false);
			csv_cell(c->out, s_or(u, "state", ""), true);
		}
		rollup_table(c, json_object_get(json_object_get(doc, "rollup"), "by_phong"), "phong", "PHÒNG", true);
		rollup_table(c, json_object_get(json_object_get(doc, "rollup"), "by_type"), "type", "LOẠI", true);
		goto out0;
	}
	fprintf(c->out, "%s  %s (hạn: %s, tính tại %s)\n\n", s_or(doc, "id", ""), s_or(doc, "title", ""),
	    s_or(doc, "deadline", "không"), s_or(doc, "at", ""));
	{
		static const char *const head[] = {"ĐƠN VỊ", "LOẠI", "PHÒNG", "ĐÃ NHẬN", "ĐÃ XÁC NHẬN", "ĐÃ BÁO CÁO",
		                                   "TRẠNG THÁI"};
		const char **cells = calloc(n * 7 + 1, sizeof *cells);
		if (!cells) {
			rv = CTL_EXIT_FAIL;
			goto out0;
		}
		json_array_foreach(units, i, u) {
			cells[i * 7] = s_or(u, "unit", "");
			cells[i * 7 + 1] = s_or(u, "type", "");
			cells[i * 7 + 2] = s_or(u, "phong", "-");
			cells[i * 7 + 3] = s_or(u, "received", "-");
			cells[i * 7 + 4] = s_or(u, "acknowledged", "-");
			cells[i * 7 + 5] = s_or(u, "reported", "-");
			cells[i * 7 + 6] = state_vi(s_or(u, "state", ""));
		}
		ctl_table(c->out, head, 7, cells, n, NULL);
		free(cells);
	}
	fputs("\nTheo Phòng:\n", c->out);
	rollup_table(c, json_object_get(json_object_get(doc, "rollup"), "by_phong"), "phong", "PHÒNG", false);
	fputs("\nTheo loại đơn vị:\n", c->out);
	rollup_table(c, json_object_get(json_object_get(doc, "rollup"), "by_type"), "type", "LOẠI", false);
out0:
	free(p);
	free(q);
	json_decref(doc);
	return rv;
}

int ctl_cmd_directive(ctl *c, const ctl_args *a)
{
	const char *sub = a->pos[0];
	bool needs_id = strcmp(sub, "send") != 0 && strcmp(sub, "list") != 0;
	if (needs_id && a->n_pos != 2)
		return d_usage(c, a, "this subcommand needs a directive ID");
	if (!needs_id && a->n_pos != 1)
		return d_usage(c, a, "this subcommand takes no ID");
	if (strcmp(sub, "send") == 0)
		return send_cmd(c, a);
	if (strcmp(sub, "list") == 0)
		return list_cmd(c, a);
	if (strcmp(sub, "show") == 0)
		return show_cmd(c, a, a->pos[1]);
	if (strcmp(sub, "ack") == 0)
		return ack_cmd(c, a, a->pos[1]);
	if (strcmp(sub, "report") == 0)
		return report_cmd(c, a, a->pos[1]);
	if (strcmp(sub, "status") == 0)
		return status_cmd(c, a, a->pos[1]);
	return d_usage(c, a, "subcommands: send, list, show, ack, report, status");
}
