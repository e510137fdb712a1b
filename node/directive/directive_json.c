/* JSON views of directives and receipts (API, CLI, pages read these). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "core/timefmt.h"
#include "directive_internal.h"
#include "registry.h"

static json_t *time_json(int64_t ms)
{
	char buf[EDU_RFC3339_LEN];
	if (ms <= 0)
		return json_null();
	edu_time_format(buf, ms / 1000, 0);
	return json_string(buf);
}

static json_t *atts_json(Edunet__Dir__DirAttachment **a, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < n; i++) {
		char hex[65];
		sodium_bin2hex(hex, sizeof hex, a[i]->sha256.data, a[i]->sha256.len == 32 ? 32 : 0);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:I, s:s}", "name", a[i]->name, "media_type",
		    a[i]->media_type, "size", (json_int_t)a[i]->size, "sha256", hex));
	}
	return arr;
}

static json_t *strs_json(char **v, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, json_string(v[i]));
	return arr;
}

static Edunet__Dir__ReceiptState *state_get(edu_dir *d, MDB_txn *t, const char *id, const char *unit)
{
	char k[EDU_DIR_ID_MAX + 48];
	int n = snprintf(k, sizeof k, "%s%c%s", id, '\0', unit);
	MDB_val v;
	if (dir_get(t, d->receipts, k, (size_t)n, &v) != EDU_OK)
		return NULL;
	return dir_unpack_state(v.mv_data, v.mv_size);
}

/* Common fields of a directive. */
static json_t *head_json(edu_dir *d, const Edunet__Dir__Directive *x, const Edunet__Dir__SignedDirective *sd)
{
	char id[EDU_DIR_ID_MAX];
	dir_id_of(x, id);
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:b, s:o, s:o, s:s, s:o, s:o}", "id", id,
	    "issuer", x->issuer, "issuer_name", x->issuer_name[0] ? x->issuer_name : x->issuer, "title", x->title,
	    "doc_number", x->doc_number, "doc_date", x->doc_date, "signer", x->signer, "published",
	    time_json(x->published_ms), "report_requested", x->report_requested, "deadline",
	    time_json(x->deadline * 1000), "audience",
	    json_pack("{s:o, s:o}", "types", strs_json(x->audience_types, x->n_audience_types), "units",
	        strs_json(x->audience_units, x->n_audience_units)),
	    "direction", strcmp(x->issuer, d->self) == 0 ? "sent" : "received", "targets",
	    json_integer((json_int_t)x->n_targets), "signature",
	    sd->sig.len ? json_pack("{s:s, s:b}", "unit", x->issuer, "verified", 1) : json_null());
	return j;
}

static json_t *receipt_json(const Edunet__Dir__ReceiptState *s, int64_t at_ms)
{
	int64_t r = s ? s->received_ms : 0, a = s ? s->acked_ms : 0, p = s ? s->reported_ms : 0;
	return json_pack("{s:o, s:o, s:o}", "received", time_json(r && r <= at_ms ? r : 0), "acknowledged",
	    time_json(a && a <= at_ms ? a : 0), "reported", time_json(p && p <= at_ms ? p : 0));
}

typedef struct tally {
	size_t total, received, acked, reported, pending, on_time, late, missing;
} tally;

static void tally_add(tally *t, const Edunet__Dir__ReceiptState *s, const char *state, int64_t at_ms)
{
	t->total++;
	if (s && s->received_ms && s->received_ms <= at_ms)
		t->received++;
	if (s && s->acked_ms && s->acked_ms <= at_ms)
		t->acked++;
	if (s && s->reported_ms && s->reported_ms <= at_ms)
		t->reported++;
	if (strcmp(state, "pending") == 0)
		t->pending++;
	else if (strcmp(state, "on_time") == 0)
		t->on_time++;
	else if (strcmp(state, "late") == 0)
		t->late++;
	else
		t->missing++;
}

static json_t *tally_json(const tally *t)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "units", (json_int_t)t->total, "received",
	    (json_int_t)t->received, "acknowledged", (json_int_t)t->acked, "reported", (json_int_t)t->reported,
	    "pending", (json_int_t)t->pending, "on_time", (json_int_t)t->on_time, "late", (json_int_t)t->late,
	    "missing", (json_int_t)t->missing);
}

static bool is_open(const Edunet__Dir__Directive *x, const tally *t, int64_t at_ms)
{
	if (x->deadline && at_ms > x->deadline * 1000)
		return false;
	return t->on_time + t->late < t->total;
}

edu_err edu_dir_list_json(edu_dir *d, int64_t at_ms, json_t **out)
{
	MDB_txn *t = NULL;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	json_t *arr = json_array();
	edu_err rv = EDU_OK;
	int rc;
	if (!at_ms)
		at_ms = edu_time_now_ms();
	*out = NULL;
	if (!arr)
		return EDU_ENOMEM;
	pthread_mutex_lock(&d->mu);
	if ((rc = mdb_txn_begin(d->env, NULL, MDB_RDONLY, &t)) != 0 || mdb_cursor_open(t, d->down, &c) != 0) {
		rv = edu_err_from_mdb(rc ? rc : MDB_PANIC);
		goto out;
	}
	/* the down log holds every directive this node has, in arrival order: newest first */
	for (rc = mdb_cursor_get(c, &k, &v, MDB_LAST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_PREV)) {
		char id[EDU_DIR_ID_MAX];
		Edunet__Dir__SignedDirective *sd = NULL;
		Edunet__Dir__Directive *x = NULL;
		tally ty = {0};
		json_t *j;
		bool mine, forme;
		if (v.mv_size >= sizeof id)
			continue;
		memcpy(id, v.mv_data, v.mv_size);
		id[v.mv_size] = '\0';
		if (dir_load(d, t, id, &sd, &x) != EDU_OK)
			continue;
		mine = strcmp(x->issuer, d->self) == 0;
		forme = dir_targets(x, d->self);
		if (!mine && !forme) {
			dir_free(sd, x);
			continue; /* only passing through this node */
		}
		j = head_json(d, x, sd);
		if (mine) {
			for (size_t i = 0; i < x->n_targets; i++) {
				Edunet__Dir__ReceiptState *s = state_get(d, t, id, x->targets[i]);
				tally_add(&ty, s, edu_dir_state(x->report_requested, x->deadline, s ? s->acked_ms : 0,
				    s ? s->reported_ms : 0, at_ms), at_ms);
				if (s)
					edunet__dir__receipt_state__free_unpacked(s, NULL);
			}
			json_object_set_new(j, "completion", tally_json(&ty));
			json_object_set_new(j, "open", json_boolean(is_open(x, &ty, at_ms)));
		} else {
			Edunet__Dir__ReceiptState *s = state_get(d, t, id, d->self);
			const char *st = edu_dir_state(x->report_requested, x->deadline, s ? s->acked_ms : 0,
			    s ? s->reported_ms : 0, at_ms);
			json_object_set_new(j, "receipt", receipt_json(s, at_ms));
			json_object_set_new(j, "state", json_string(st));
			json_object_set_new(j, "open", json_boolean(strcmp(st, "pending") == 0));
			if (s)
				edunet__dir__receipt_state__free_unpacked(s, NULL);
		}
		json_array_append_new(arr, j);
		dir_free(sd, x);
	}
out:
	if (c)
		mdb_cursor_close(c);
	if (t)
		mdb_txn_abort(t);
	pthread_mutex_unlock(&d->mu);
	if (rv != EDU_OK) {
		json_decref(arr);
		return rv;
	}
	*out = json_pack("{s:o}", "directives", arr);
	return *out ? EDU_OK : EDU_ENOMEM;
}

edu_err edu_dir_get_json(edu_dir *d, const char *id, json_t **out)
{
	MDB_txn *t = NULL;
	Edunet__Dir__SignedDirective *sd = NULL;
	Edunet__Dir__Directive *x = NULL;
	edu_err rv;
	int rc;
	*out = NULL;
	if (!id || strlen(id) >= EDU_DIR_ID_MAX)
		return EDU_ENOENT;
	pthread_mutex_lock(&d->mu);
	if ((rc = mdb_txn_begin(d->env, NULL, MDB_RDONLY, &t)) != 0) {
		rv = edu_err_from_mdb(rc);
		goto out;
	}
	if ((rv = dir_load(d, t, id, &sd, &x)) != EDU_OK)
		goto out;
	*out = head_json(d, x, sd);
	json_object_set_new(*out, "body", json_string(x->body));
	json_object_set_new(*out, "attachments", atts_json(x->attachments, x->n_attachments));
	if (strcmp(x->issuer, d->self) == 0) {
		json_object_set_new(*out, "target_units", strs_json(x->targets, x->n_targets));
	} else if (dir_targets(x, d->self)) {
		Edunet__Dir__ReceiptState *s = state_get(d, t, id, d->self);
		int64_t now = edu_time_now_ms();
		json_t *r = receipt_json(s, now);
		if (s && s->reported_ms) {
			json_object_set_new(r, "report_text", json_string(s->report_text));
			json_object_set_new(r, "report_attachments", atts_json(s->attachments, s->n_attachments));
		}
		json_object_set_new(*out, "receipt", r);
		json_object_set_new(*out, "state", json_string(edu_dir_state(x->report_requested, x->deadline,
		    s ? s->acked_ms : 0, s ? s->reported_ms : 0, now)));
		if (s)
			edunet__dir__receipt_state__free_unpacked(s, NULL);
	}
	rv = *out ? EDU_OK : EDU_ENOMEM;
out:
	dir_free(sd, x);
	if (t)
		mdb_txn_abort(t);
	pthread_mutex_unlock(&d->mu);
	return rv;
}

/* The Phòng (or xa) a unit belongs to: its nearest aggregating ancestor
 * below the issuer; the issuer itself for units directly under it. */
static const edu_reg_unit *group_of(const struct edu_registry *reg, int idx, int issuer)
{
	const edu_reg_unit *u = edu_registry_unit(reg, idx);
	const edu_reg_unit *best = edu_registry_unit(reg, issuer);
	int p = u ? u->parent : -1;
	while (p >= 0 && p != issuer) {
		const edu_reg_unit *pu = edu_registry_unit(reg, p);
		if (pu->type == EDU_UT_PHONG || pu->type == EDU_UT_XA) {
			best = pu;
			break;
		}
		p = pu->parent;
	}
	if (u && (u->type == EDU_UT_PHONG || u->type == EDU_UT_XA))
		best = u;
	return best;
}

typedef struct group {
	const char *key, *name;
	tally t;
} group;

static group *group_find(group *g, size_t *n, const char *key, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(g[i].key, key) == 0)
			return &g[i];
	g[*n] = (group){key, name, {0}};
	return &g[(*n)++];
}

edu_err edu_dir_status_json(edu_dir *d, const char *id, int64_t at_ms, json_t **out)
{
	MDB_txn *t = NULL;
	Edunet__Dir__SignedDirective *sd = NULL;
	Edunet__Dir__Directive *x = NULL;
	group *by_phong = NULL, *by_type = NULL;
	size_t np = 0, nty = 0;
	tally all = {0};
	json_t *units = NULL, *j;
	edu_err rv;
	int rc, issuer_idx = -1;
	*out = NULL;
	if (!at_ms)
		at_ms = edu_time_now_ms();
	if (!id || strlen(id) >= EDU_DIR_ID_MAX)
		return EDU_ENOENT;
	pthread_mutex_lock(&d->mu);
	if ((rc = mdb_txn_begin(d->env, NULL, MDB_RDONLY, &t)) != 0) {
		rv = edu_err_from_mdb(rc);
		goto out;
	}
	if ((rv = dir_load(d, t, id, &sd, &x)) != EDU_OK)
		goto out;
	if (strcmp(x->issuer, d->self) != 0) {
		rv = EDU_EPERM;
		goto out;
	}
	if (d->reg)
		issuer_idx = edu_registry_find(d->reg, d->self);
	if (!(units = json_array()) || !(by_phong = calloc(x->n_targets, sizeof *by_phong)) ||
	    !(by_type = calloc(x->n_targets, sizeof *by_type))) {
		rv = EDU_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < x->n_targets; i++) {
		const char *u = x->targets[i];
		Edunet__Dir__ReceiptState *s = state_get(d, t, id, u);
		const char *st = edu_dir_state(x->report_requested, x->deadline, s ? s->acked_ms : 0,
		    s ? s->reported_ms : 0, at_ms);
		int idx = d->reg ? edu_registry_find(d->reg, u) : -1;
		const edu_reg_unit *ru = idx >= 0 ? edu_registry_unit(d->reg, idx) : NULL;
		const edu_reg_unit *g = ru && issuer_idx >= 0 ? group_of(d->reg, idx, issuer_idx) : NULL;
		const char *type = ru ? edu_unit_type_name(ru->type) : "?";
		j = receipt_json(s, at_ms);
		json_object_set_new(j, "unit", json_string(u));
		json_object_set_new(j, "name", json_string(ru ? ru->name : u));
		json_object_set_new(j, "type", json_string(type));
		json_object_set_new(j, "phong", g ? json_string(g->id) : json_null());
		json_object_set_new(j, "state", json_string(st));
		if (s && s->reported_ms && s->reported_ms <= at_ms) {
			json_object_set_new(j, "report_text", json_string(s->report_text));
			json_object_set_new(j, "report_attachments", atts_json(s->attachments, s->n_attachments));
		}
		json_array_append_new(units, j);
		tally_add(&all, s, st, at_ms);
		tally_add(&group_find(by_phong, &np, g ? g->id : "-", g ? g->name : "-")->t, s, st, at_ms);
		tally_add(&group_find(by_type, &nty, type, type)->t, s, st, at_ms);
		if (s)
			edunet__dir__receipt_state__free_unpacked(s, NULL);
	}
	{
		json_t *ph = json_array(), *ty = json_array();
		for (size_t i = 0; i < np; i++) {
			j = tally_json(&by_phong[i].t);
			json_object_set_new(j, "phong", json_string(by_phong[i].key));
			json_object_set_new(j, "name", json_string(by_phong[i].name));
			json_array_append_new(ph, j);
		}
		for (size_t i = 0; i < nty; i++) {
			j = tally_json(&by_type[i].t);
			json_object_set_new(j, "type", json_string(by_type[i].key));
			json_array_append_new(ty, j);
		}
		*out = json_pack("{s:s, s:s, s:o, s:b, s:o, s:o, s:o, s:{s:o, s:o, s:o}}", "id", id, "title", x->title,
		    "deadline", time_json(x->deadline * 1000), "report_requested", x->report_requested, "at",
		    time_json(at_ms), "units", units, "total", tally_json(&all), "rollup", "by_phong", ph, "by_type", ty,
		    "total", tally_json(&all));
		units = NULL;
	}
	rv = *out ? EDU_OK : EDU_ENOMEM;
out:
	json_decref(units);
	free(by_phong);
	free(by_type);
	dir_free(sd, x);
	if (t)
		mdb_txn_abort(t);
	pthread_mutex_unlock(&d->mu);
	return rv;
}

edu_err edu_dir_attachment(edu_dir *d, const char *id, const char *unit, size_t n, uint8_t **data, size_t *len,
    char **name, char **media_type)
{
	MDB_txn *t = NULL;
	Edunet__Dir__SignedDirective *sd = NULL;
	Edunet__Dir__Directive *x = NULL;
	Edunet__Dir__ReceiptState *s = NULL;
	Edunet__Dir__DirAttachment *a = NULL;
	edu_err rv;
	int rc;
	*data = NULL;
	*name = *media_type = NULL;
	if (!id || strlen(id) >= EDU_DIR_ID_MAX)
		return EDU_ENOENT;
	pthread_mutex_lock(&d->mu);
	if ((rc = mdb_txn_begin(d->env, NULL, MDB_RDONLY, &t)) != 0) {
		rv = edu_err_from_mdb(rc);
		goto out;
	}
	if ((rv = dir_load(d, t, id, &sd, &x)) != EDU_OK)
		goto out;
	rv = EDU_ENOENT;
	if (!unit) {
		if (n < x->n_attachments)
			a = x->attachments[n];
	} else if ((s = state_get(d, t, id, unit)) && n < s->n_attachments) {
		a = s->attachments[n];
	}
	if (!a)
		goto out;
	if (!(*data = malloc(a->data.len ? a->data.len : 1)) || !(*name = strdup(a->name)) ||
	    !(*media_type = strdup(a->media_type))) {
		free(*data);
		free(*name);
		*data = NULL;
		*name = NULL;
		rv = EDU_ENOMEM;
		goto out;
	}
	memcpy(*data, a->data.data, a->data.len);
	*len = a->data.len;
	rv = EDU_OK;
out:
	if (s)
		edunet__dir__receipt_state__free_unpacked(s, NULL);
	dir_free(sd, x);
	if (t)
		mdb_txn_abort(t);
	pthread_mutex_unlock(&d->mu);
	return rv;
}
