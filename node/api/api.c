/* /api/v1 handlers. Reads run on the request's loop thread inside one LMDB
 * read transaction; writes build a store batch, submit it through
 * edu_http_submit and answer from the completion, once durable. */
#include <ctype.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/queue.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <cJSON.h>
#include <jansson.h>
#include <sodium.h>

#include "api.h"
#include "aggregator/agg.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "directive/directive.h"
#include "item/item.h"
#include "text/text.h"

#define CT_JSON "application/json; charset=utf-8"
#define MEDIA_TYPE_MAX 127 /* bytes of an attachment's Content-Type */
#define QUERY_TEXT_MAX 2048

struct edu_api {
	edu_store *store;
	struct edu_agg *agg;
	char *self_unit, *self_name;
	uint8_t token_hash[crypto_generichash_BYTES];
	bool has_token;
	int tz;
	void (*self_status)(edu_node_status *out, void *arg);
	void *self_status_arg;
	void (*sign)(const void *msg, size_t len, uint8_t sig[64], void *arg);
	void *sign_arg;
	struct edu_dir *dirs;
};

/* The API shape of an item plus who vouches for it: "signature" names the
 * origin unit whose signature verified at this node (the store keeps only
 * records that verified on arrival, or that this node signed itself), or is
 * null for an unsigned record (test/demo mode). */
static json_t *item_json(const edu_item *it, bool with_body)
{
	json_t *j = edu_item_to_json(it, with_body);
	if (j)
		json_object_set_new(j, "signature", it->signed_ok
		    ? json_pack("{s:s, s:b}", "unit", it->unit, "verified", 1) : json_null());
	return j;
}

/* ---- replies ---------------------------------------------------------------- */

static void reply_json(edu_http_loop *l, struct evhttp_request *req, int status, json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!s) {
		static const char oom[] = "{\"error\":\"internal\",\"message\":\"out of memory\"}";
		edu_http_reply(l, req, 500, CT_JSON, oom, sizeof oom - 1);
		return;
	}
	size_t len = strlen(s);
	s[len] = '\n'; /* replaces the NUL: we pass the length */
	edu_http_reply(l, req, status, CT_JSON, s, len + 1);
	free(s);
}

static const char *code_of(int status)
{
	switch (status) {
	case 400: return "bad_request";
	case 401: return "unauthorized";
	case 403: return "forbidden";
	case 404: return "not_found";
	case 405: return "method_not_allowed";
	case 409: return "conflict";
	case 413: return "too_large";
	case 415: return "unsupported_media_type";
	case 503: return "unavailable";
	case 507: return "insufficient_storage";
	default: return "internal";
	}
}

static void reply_err(edu_http_loop *l, struct evhttp_request *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void reply_err(edu_http_loop *l, struct evhttp_request *req, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	edu_text_scrub(msg); /* may quote what the client sent: keep jansson able to encode it */
	if (status == 401)
		evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
		    "Bearer realm=\"edunet\"");
	reply_json(l, req, status, json_pack("{s:s, s:s}", "error", code_of(status), "message", msg));
}

static void reply_store_err(edu_http_loop *l, struct evhttp_request *req, edu_err rv)
{
	if (rv == EDU_ENOSPC)
		reply_err(l, req, 507, "the node's storage is full");
	else if (rv == EDU_ECLOSED)
		reply_err(l, req, 503, "the node is shutting down");
	else
		reply_err(l, req, 500, "store: %s", edu_strerror(rv));
}

static void method_not_allowed(edu_http_loop *l, struct evhttp_request *req, const char *allow)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
	reply_err(l, req, 405, "method not allowed here (allowed: %s)", allow);
}

/* ---- request helpers ------------------------------------------------------- */

static bool authorized(edu_api *a, struct evhttp_request *req)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	if (!a->has_token || !h || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	const char *tok = h + 7;
	while (*tok == ' ')
		tok++;
	/* Hashing first makes the comparison constant-time in the token's length too. */
	uint8_t got[crypto_generichash_BYTES];
	crypto_generichash(got, sizeof got, (const unsigned char *)tok, strlen(tok), NULL, 0);
	return sodium_memcmp(got, a->token_hash, sizeof got) == 0;
}

/* The request body as one contiguous block (owned by the request), or NULL
 * with *status set (413 when above max). */
static const char *body_of(struct evhttp_request *req, size_t max, size_t *len, int *status)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	*len = evbuffer_get_length(in);
	if (*len > max) {
		*status = 413;
		return NULL;
	}
	if (*len == 0)
		return "";
	const char *p = (const char *)evbuffer_pullup(in, -1);
	if (!p)
		*status = 500;
	return p;
}

typedef edu_http_query query;

static bool is_json_type(struct evhttp_request *req)
{
	const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	if (!ct)
		return true; /* curl -d without -H: accept, the body is still parsed strictly */
	size_t n = strcspn(ct, ";");
	while (n && ct[n - 1] == ' ')
		n--;
	return (n == 16 && strncasecmp(ct, "application/json", 16) == 0);
}

/* The request body, checked for type and size: NULL after replying
 * 415/413/500. With array_ok the body may be a JSON array (a batch create,
 * bounded only by [http] max_body) when above EDU_API_JSON_MAX. */
static const char *body_text(edu_http_loop *l, struct evhttp_request *req, bool array_ok, size_t *len)
{
	int status = 0;
	if (!is_json_type(req)) {
		reply_err(l, req, 415, "send the item as application/json");
		return NULL;
	}
	/* The HTTP server already refused bodies over [http] max_body. */
	const char *p = body_of(req, array_ok ? SIZE_MAX : EDU_API_JSON_MAX, len, &status);
	if (!p) {
		if (status == 413)
			reply_err(l, req, 413, "body larger than %u bytes", EDU_API_JSON_MAX);
		else
			reply_err(l, req, 500, "cannot read the body");
		return NULL;
	}
	if (array_ok && *len > EDU_API_JSON_MAX) {
		size_t ws = 0; /* the body is not NUL-terminated */
		while (ws < *len && (p[ws] == ' ' || p[ws] == '\t' || p[ws] == '\r' || p[ws] == '\n'))
			ws++;
		if (ws >= *len || p[ws] != '[') {
			reply_err(l, req, 413, "body larger than %u bytes", EDU_API_JSON_MAX);
			return NULL;
		}
	}
	return p;
}

/* Parses the request body as one JSON object (jansson): 400/413/415 on
 * failure. Item bodies go through item_body instead. */
static json_t *json_body(edu_http_loop *l, struct evhttp_request *req)
{
	size_t len;
	const char *p = body_text(l, req, false, &len);
	if (!p)
		return NULL;
	if (!edu_text_utf8_valid(p, len)) {
		reply_err(l, req, 400, "body is not valid UTF-8 or contains NUL");
		return NULL;
	}
	json_error_t err;
	json_t *j = json_loadb(p, len, JSON_REJECT_DUPLICATES, &err);
	if (!j) {
		reply_err(l, req, 400, "bad JSON at line %d column %d: %s", err.line, err.column, err.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		reply_err(l, req, 400, "the body must be a JSON object");
		return NULL;
	}
	return j;
}

/* An item create/update body (or, with array_ok, an array: a batch create)
 * parsed with cJSON, the ingest hot path (see item.h): 400/413/415 on
 * failure. */
static cJSON *item_body(edu_http_loop *l, struct evhttp_request *req, bool array_ok)
{
	size_t len;
	char why[160];
	cJSON *j = NULL;
	const char *p = body_text(l, req, array_ok, &len);
	if (!p)
		return NULL;
	if (edu_item_json_parse(p, len, &j, why, sizeof why) != EDU_OK) {
		reply_err(l, req, 400, "%s", why);
		return NULL;
	}
	if (!cJSON_IsObject(j) && !(array_ok && cJSON_IsArray(j))) {
		cJSON_Delete(j);
		if (array_ok)
			reply_err(l, req, 400, "the body must be a JSON object or an array of 1..%d objects",
			    EDU_API_BATCH_MAX);
		else
			reply_err(l, req, 400, "the body must be a JSON object");
		return NULL;
	}
	return j;
}

/* ---- reads ----------------------------------------------------------------- */

static void list_items(edu_api *a, edu_http_loop *l, struct evhttp_request *req)
{
	query q;
	edu_http_query_parse(req, &q);
	edu_store_rd *rd = NULL;
	edu_item **items = NULL;
	size_t n = 0, n_units = 0;
	const char **units = NULL;
	bool more = false;
	char cunit[EDU_UNIT_ID_MAX + 1];
	edu_query eq = {.limit = EDU_API_LIMIT_DEFAULT};
	edu_err rv = EDU_OK;
	if (!q.ok) {
		reply_err(l, req, 400, "malformed query string");
		goto out;
	}
	const char *unit = evhttp_find_header(&q.kv, "unit");
	const char *kind = evhttp_find_header(&q.kv, "kind");
	const char *text = evhttp_find_header(&q.kv, "q");
	const char *limit = evhttp_find_header(&q.kv, "limit");
	const char *before = evhttp_find_header(&q.kv, "before");
	if (limit && *limit) {
		char *end;
		long v = strtol(limit, &end, 10);
		if (*end || v < 1 || v > EDU_API_LIMIT_MAX) {
			reply_err(l, req, 400, "limit must be 1..%d", EDU_API_LIMIT_MAX);
			goto out;
		}
		eq.limit = (size_t)v;
	}
	if (kind && *kind && (eq.kind = edu_kind_parse(kind)) == EDU_KIND_NONE) {
		reply_err(l, req, 400, "unknown kind \"%.40s\"", kind);
		goto out;
	}
	if (text && strlen(text) > QUERY_TEXT_MAX) {
		reply_err(l, req, 400, "q is longer than %d bytes", QUERY_TEXT_MAX);
		goto out;
	}
	if (text && !edu_text_utf8_valid(text, strlen(text))) {
		reply_err(l, req, 400, "q is not valid UTF-8");
		goto out;
	}
	eq.q = text;
	if (before && *before) {
		if (edu_http_cursor_decode(before, &eq.before_ts, cunit, &eq.before_seq) != EDU_OK) {
			reply_err(l, req, 400, "bad cursor in before=");
			goto out;
		}
		eq.before_unit = cunit;
	}
	if (unit && *unit) {
		if (!edu_unit_id_valid(unit)) {
			reply_err(l, req, 400, "bad unit id");
			goto out;
		}
		if ((rv = edu_http_subtree(edu_http_of(l), unit, &units, &n_units)) != EDU_OK)
			goto fail;
		eq.units = units;
		eq.n_units = n_units;
	}
	if ((rv = edu_store_read_begin(a->store, &rd)) != EDU_OK)
		goto fail;
	rv = edu_store_query(rd, &eq, &items, &n, &more);
	edu_store_read_end(rd);
	if (rv != EDU_OK)
		goto fail;
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, item_json(items[i], false));
	json_t *next = json_null();
	if (more && n > 0) {
		char c[EDU_HTTP_CURSOR_MAX];
		edu_http_cursor_encode(c, items[n - 1]->published, items[n - 1]->unit, items[n - 1]->seq);
		next = json_string(c);
	}
	reply_json(l, req, 200, json_pack("{s:o, s:o}", "items", arr, "next", next));
	goto out;
fail:
	reply_store_err(l, req, rv);
out:
	edu_store_items_free(items, n);
	free(units);
	evhttp_clear_headers(&q.kv);
}

/* Reads one item (tombstones included); replies 404 itself when absent. */
static edu_item *load_item(edu_api *a, edu_http_loop *l, struct evhttp_request *req, const char *id,
    char unit[EDU_UNIT_ID_MAX + 1], uint64_t *seq)
{
	edu_store_rd *rd = NULL;
	edu_item *it = NULL;
	if (edu_item_id_parse(id, unit, seq) != EDU_OK) {
		reply_err(l, req, 404, "no item \"%.80s\"", id);
		return NULL;
	}
	edu_err rv = edu_store_read_begin(a->store, &rd);
	if (rv == EDU_OK)
		rv = edu_store_get(rd, unit, *seq, &it);
	edu_store_read_end(rd);
	if (rv == EDU_ENOENT)
		reply_err(l, req, 404, "no item \"%.80s\"", id);
	else if (rv != EDU_OK)
		reply_store_err(l, req, rv);
	return rv == EDU_OK ? it : NULL;
}

static void get_item(edu_api *a, edu_http_loop *l, struct evhttp_request *req, const char *id)
{
	char unit[EDU_UNIT_ID_MAX + 1];
	uint64_t seq;
	edu_item *it = load_item(a, l, req, id, unit, &seq);
	if (!it)
		return;
	reply_json(l, req, 200, item_json(it, true));
	edu_item_free(it);
}

static void json_status(edu_api *a, edu_http_loop *l, struct evhttp_request *req)
{
	edu_node_status st;
	memset(&st, 0, sizeof st);
	a->self_status(&st, a->self_status_arg);
	int64_t now = edu_time_now_ms();
	char last_ack[EDU_RFC3339_LEN];
	json_t *ack = json_null();
	if (st.last_ack_ms > 0) {
		edu_time_format(last_ack, st.last_ack_ms / 1000, a->tz);
		ack = json_string(last_ack);
	}
	int64_t age = st.oldest_unacked_ms > 0 && now > st.oldest_unacked_ms ? (now - st.oldest_unacked_ms) / 1000 : 0;
	json_t *children = a->agg ? edu_agg_children_json(a->agg)
	    : json_pack("{s:i, s:i, s:i, s:i}", "expected", 0, "online", 0, "offline", 0, "never_seen", 0);
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:b, s:{s:s, s:I, s:o, s:I}, s:o}",
	    "id", a->self_unit, "role", st.role, "name", a->self_name, "version", st.version,
	    "uptime_s", (json_int_t)st.uptime_s, "items_total", (json_int_t)st.items_total,
	    "items_own", (json_int_t)st.items_own, "rejected_total", (json_int_t)st.rejected_total,
	    "signed", a->sign != NULL,
	    "uplink", "state", st.uplink_state, "backlog", (json_int_t)st.backlog, "last_ack", ack,
	    "oldest_unacked_age_s", (json_int_t)age,
	    "children", children ? children : json_null());
	reply_json(l, req, 200, j);
}

static void json_topology(edu_api *a, edu_http_loop *l, struct evhttp_request *req)
{
	if (a->agg) {
		reply_json(l, req, 200, edu_agg_topology_json(a->agg));
		return;
	}
	/* A school is a tree of one. */
	edu_node_status st;
	memset(&st, 0, sizeof st);
	a->self_status(&st, a->self_status_arg);
	char now[EDU_RFC3339_LEN];
	edu_time_format(now, edu_time_now_ms() / 1000, a->tz);
	reply_json(l, req, 200, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:[]}",
	    "id", a->self_unit, "name", a->self_name, "role", st.role, "state", "online", "last_seen", now,
	    "items_total", (json_int_t)st.items_total, "backlog", (json_int_t)st.backlog,
	    "version", st.version, "children"));
}

/* ---- writes ------------------------------------------------------------------ */

typedef enum op_kind { OP_CREATE, OP_UPDATE, OP_DELETE, OP_BLOB } op_kind;

typedef struct op {
	edu_api *a;
	edu_http_loop *l;
	struct evhttp_request *req;
	op_kind kind;
	edu_item *it;   /* item ops: what was written */
	json_t *reply;  /* OP_BLOB */
} op;

static void op_free(op *o)
{
	edu_item_free(o->it);
	json_decref(o->reply);
	free(o);
}

static void op_done(edu_store_batch *b, edu_err rv, void *arg)
{
	op *o = arg;
	if (rv != EDU_OK) {
		edu_log(LOG_WARNING, "api: write failed: %s", edu_strerror(rv));
		reply_store_err(o->l, o->req, rv);
		goto out;
	}
	if (o->kind == OP_BLOB) {
		reply_json(o->l, o->req, 201, json_incref(o->reply));
		goto out;
	}
	char id[EDU_ITEM_ID_MAX];
	edu_item_id_format(id, o->it->unit, o->it->seq);
	switch (edu_store_batch_result(b, 0, NULL)) {
	case EDU_PUT_APPLIED:
	case EDU_PUT_DUPLICATE:
		if (o->kind == OP_CREATE) {
			char loc[EDU_ITEM_ID_MAX + 32];
			snprintf(loc, sizeof loc, "/api/v1/items/%s", id);
			evhttp_add_header(evhttp_request_get_output_headers(o->req), "Location", loc);
			/* The publisher holds what it sent: echoing the whole item (body
			 * included) cost ~13% of a publish. Location names the full item. */
			char pub[EDU_RFC3339_LEN];
			edu_time_format(pub, o->it->published, o->it->tz_offset_min);
			reply_json(o->l, o->req, 201, json_pack("{s:s, s:I, s:s}", "id", id, "version",
			    (json_int_t)o->it->version, "published", pub));
		} else if (o->kind == OP_UPDATE) {
			reply_json(o->l, o->req, 200, item_json(o->it, true));
		} else {
			reply_json(o->l, o->req, 200, json_pack("{s:s, s:I, s:b}", "id", id, "version",
			    (json_int_t)o->it->version, "deleted", 1));
		}
		/* Per item: DEBUG (an INFO line per publish cost ~25% of throughput). */
		edu_log(LOG_DEBUG, "api: %s %s v%" PRIu32,
		    o->kind == OP_CREATE ? "created" : o->kind == OP_UPDATE ? "updated" : "deleted", id,
		    o->it->version);
		break;
	case EDU_PUT_STALE:
	case EDU_PUT_CONFLICT:
		reply_err(o->l, o->req, 409, "%s was changed concurrently; read it again and retry", id);
		break;
	case EDU_PUT_MISSING_BLOB:
		reply_err(o->l, o->req, 400, "an attachment's blob was not uploaded (POST /api/v1/attachments)");
		break;
	default:
		reply_err(o->l, o->req, 400, "the store rejected the item as invalid");
		break;
	}
out:
	edu_store_batch_free(b);
	op_free(o);
}

/* HTTP status and message for a store failure of the whole request. */
static int store_err_status(edu_err rv, char *why, size_t whylen)
{
	if (rv == EDU_ENOSPC) {
		snprintf(why, whylen, "the node's storage is full");
		return 507;
	}
	if (rv == EDU_ECLOSED) {
		snprintf(why, whylen, "the node is shutting down");
		return 503;
	}
	snprintf(why, whylen, "store: %s", edu_strerror(rv));
	return 500;
}

/* Normalizes and validates it and checks that its attachments were uploaded:
 * 0, or the HTTP status with the reason in why. */
static int check_item(edu_api *a, edu_item *it, char *why, size_t whylen)
{
	edu_err rv;
	if (edu_item_normalize(it) != EDU_OK) {
		snprintf(why, whylen, "text is not valid UTF-8");
		return 400;
	}
	why[0] = '\0';
	if ((rv = edu_item_validate(it, why, whylen)) != EDU_OK) {
		if (!why[0])
			snprintf(why, whylen, "%s", edu_strerror(rv));
		return rv == EDU_ETOOBIG ? 413 : 400;
	}
	if (it->n_attachments && !it->deleted) {
		edu_store_rd *rd = NULL;
		if ((rv = edu_store_read_begin(a->store, &rd)) != EDU_OK)
			return store_err_status(rv, why, whylen);
		size_t missing = it->n_attachments;
		for (size_t i = 0; i < it->n_attachments; i++) {
			if (!edu_store_blob_has(rd, it->attachments[i].sha256)) {
				missing = i;
				break;
			}
		}
		edu_store_read_end(rd);
		if (missing < it->n_attachments) {
			snprintf(why, whylen, "attachments[%zu]: no uploaded file with that sha256 "
			    "(POST /api/v1/attachments first)", missing);
			return 400;
		}
	}
	return 0;
}

/* Encodes a checked item into rec (rec->item malloc'd: free it) and signs the
 * exact bytes that travel when this node signs: every hop checks them. */
static edu_err seal_record(edu_api *a, edu_item *it, edu_record *rec)
{
	uint8_t *bytes = NULL;
	size_t len = 0;
	memset(rec, 0, sizeof *rec);
	edu_err rv = edu_item_encode(it, &bytes, &len);
	if (rv != EDU_OK)
		return rv;
	rec->item = bytes;
	rec->item_len = len;
	if (a->sign) {
		a->sign(bytes, len, rec->sig, a->sign_arg);
		rec->has_sig = true;
		it->signed_ok = true; /* for the reply, as a later read would show it */
	}
	return EDU_OK;
}

/* Normalizes, validates, checks attachments and submits it as a record.
 * Replies itself on failure; takes it in every case. */
static void submit_item(edu_api *a, edu_http_loop *l, struct evhttp_request *req, edu_item *it, op_kind kind)
{
	char why[256] = "";
	edu_record rec = {0};
	edu_store_batch *b = NULL;
	op *o = NULL;
	edu_err rv;
	int status = check_item(a, it, why, sizeof why);
	if (status) {
		reply_err(l, req, status, "%s", why);
		goto out;
	}
	if ((rv = seal_record(a, it, &rec)) != EDU_OK) {
		reply_err(l, req, 400, "cannot encode the item: %s", edu_strerror(rv));
		goto out;
	}
	/* it was normalized, validated and encoded into rec just above. */
	if ((rv = edu_store_batch_new(&b)) != EDU_OK || (rv = edu_store_batch_put_item(b, &rec, it)) != EDU_OK) {
		reply_store_err(l, req, rv);
		goto out;
	}
	if (!(o = calloc(1, sizeof *o))) {
		reply_err(l, req, 500, "out of memory");
		goto out;
	}
	*o = (op){.a = a, .l = l, .req = req, .kind = kind, .it = it};
	it = NULL;
	if ((rv = edu_http_submit(l, b, op_done, o)) != EDU_OK) {
		reply_store_err(l, req, rv);
		op_free(o);
		goto out;
	}
	b = NULL; /* the store has it until op_done */
out:
	free((void *)rec.item);
	edu_store_batch_free(b);
	edu_item_free(it);
}

static edu_err set_str(char **field, const char *v)
{
	char *s = strdup(v);
	if (!s)
		return EDU_ENOMEM;
	free(*field);
	*field = s;
	return EDU_OK;
}

/* A new item of this node from one create object, without its seq: 0, or
 * the HTTP status with the reason in why. */
static int new_item(edu_api *a, const cJSON *j, edu_item **out, char *why, size_t whylen)
{
	*out = NULL;
	edu_item *it = edu_item_new();
	if (!it) {
		snprintf(why, whylen, "out of memory");
		return 500;
	}
	it->tz_offset_min = a->tz;
	why[0] = '\0';
	edu_err rv = edu_item_from_json(it, j, why, whylen);
	if (rv != EDU_OK) {
		if (!why[0])
			snprintf(why, whylen, "%s", edu_strerror(rv));
		edu_item_free(it);
		return rv == EDU_ETOOBIG ? 413 : 400;
	}
	if (set_str(&it->unit, a->self_unit) != EDU_OK || set_str(&it->unit_name, a->self_name) != EDU_OK) {
		snprintf(why, whylen, "out of memory");
		edu_item_free(it);
		return 500;
	}
	it->version = 1;
	it->deleted = false;
	int64_t now = edu_time_now_ms() / 1000;
	if (it->published == 0)
		it->published = now;
	if (it->updated == 0)
		it->updated = it->published > now ? it->published : now;
	*out = it;
	return 0;
}

/* ---- batch create (a JSON array) ----------------------------------------------
 * All valid items of one request go into ONE store batch: they share one
 * durable commit, and edu_store_batch_result(b, r) gives each record's exact
 * outcome. The reply waits for that commit. */

typedef struct batch_op {
	edu_api *a;
	edu_http_loop *l;
	struct evhttp_request *req;
	char **failed_json; /* per input: the JSON of its rejection, NULL when it went to the store */
	size_t n_in;
	edu_item **items;   /* per record in the batch, in input order */
	size_t n_recs;
	size_t failed;      /* inputs rejected before submit */
} batch_op;

static void batch_op_free(batch_op *o)
{
	if (!o)
		return;
	for (size_t r = 0; r < o->n_recs; r++)
		edu_item_free(o->items[r]);
	for (size_t i = 0; o->failed_json && i < o->n_in; i++)
		free(o->failed_json[i]);
	free(o->failed_json);
	free(o->items);
	free(o);
}

/* {"error":..., "message":...} as compact JSON text, or NULL. */
static char *item_err_text(int status, const char *why)
{
	char msg[512];
	snprintf(msg, sizeof msg, "%s", why);
	edu_text_scrub(msg); /* may quote what the client sent: keep jansson able to encode it */
	json_t *j = json_pack("{s:s, s:s}", "error", code_of(status), "message", msg);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return s;
}

/* The answer once every input has a result (res[r] for record r, NULL when
 * the whole commit failed): 201 when anything was created, else 400 with the
 * same per-item body plus error/message. Written directly, not through
 * jansson objects: a created item's id, version and time need no escaping,
 * and this runs for every item the API ingests. */
static void batch_reply(batch_op *o, const edu_put_result *res)
{
	edu_buf out = EDU_BUF_INIT;
	size_t created = 0, r = 0;
	edu_err rv = edu_buf_reserve(&out, 32 + o->n_in * 80);
	for (size_t i = 0; i < o->n_in && rv == EDU_OK; i++) {
		if ((rv = edu_buf_puts(&out, i ? "," : "{\"items\":[")) != EDU_OK)
			break;
		char *own = NULL;
		const char *txt = o->failed_json[i];
		if (txt == NULL) { /* the next record is this input's */
			const edu_item *it = o->items[r];
			char id[EDU_ITEM_ID_MAX], pub[EDU_RFC3339_LEN], why[160];
			switch (res[r++]) {
			case EDU_PUT_APPLIED:
			case EDU_PUT_DUPLICATE:
				edu_item_id_format(id, it->unit, it->seq);
				edu_time_format(pub, it->published, it->tz_offset_min);
				rv = edu_buf_printf(&out, "{\"id\":\"%s\",\"version\":%" PRIu32 ",\"published\":\"%s\"}",
				    id, it->version, pub);
				edu_log(LOG_DEBUG, "api: created %s v%" PRIu32 " (batch)", id, it->version);
				created++;
				continue;
			case EDU_PUT_STALE:
			case EDU_PUT_CONFLICT:
				edu_item_id_format(id, it->unit, it->seq);
				snprintf(why, sizeof why, "%s was changed concurrently", id);
				txt = own = item_err_text(409, why);
				break;
			case EDU_PUT_MISSING_BLOB:
				txt = own = item_err_text(400, "an attachment's blob was not uploaded (POST /api/v1/attachments)");
				break;
			default:
				txt = own = item_err_text(400, "the store rejected the item as invalid");
				break;
			}
		}
		rv = txt ? edu_buf_puts(&out, txt) : EDU_ENOMEM; /* NULL: item_err_text failed */
		free(own);
	}
	if (rv == EDU_OK)
		rv = edu_buf_printf(&out, "],\"created\":%zu,\"failed\":%zu", created, o->n_in - created);
	if (rv == EDU_OK && created == 0)
		rv = edu_buf_printf(&out, ",\"error\":\"%s\",\"message\":\"no item of the array was created\"",
		    code_of(400));
	if (rv == EDU_OK)
		rv = edu_buf_puts(&out, "}\n");
	if (rv != EDU_OK)
		reply_err(o->l, o->req, 500, "out of memory");
	else
		edu_http_reply(o->l, o->req, created ? 201 : 400, CT_JSON, out.p, out.len);
	edu_buf_free(&out);
}

static void batch_done(edu_store_batch *b, edu_err rv, void *arg)
{
	batch_op *o = arg;
	edu_put_result *res = NULL;
	if (rv != EDU_OK) {
		/* The commit failed as a whole: nothing of this request was stored. */
		edu_log(LOG_WARNING, "api: batch write of %zu items failed: %s", o->n_recs, edu_strerror(rv));
		reply_store_err(o->l, o->req, rv);
		goto out;
	}
	if (!(res = calloc(o->n_recs ? o->n_recs : 1, sizeof *res))) {
		reply_err(o->l, o->req, 500, "out of memory");
		goto out;
	}
	for (size_t r = 0; r < o->n_recs; r++)
		res[r] = edu_store_batch_result(b, r, NULL);
	batch_reply(o, res);
out:
	free(res);
	edu_store_batch_free(b);
	batch_op_free(o);
}

static void create_batch(edu_api *a, edu_http_loop *l, struct evhttp_request *req, const cJSON *arr)
{
	size_t n = 0, i = 0;
	edu_store_batch *b = NULL;
	batch_op *o = NULL;
	char why[256];
	edu_err rv = EDU_OK;
	const cJSON *v;
	for (v = arr->child; v; v = v->next)
		n++;
	if (n == 0) {
		reply_err(l, req, 400, "the array is empty: send 1..%d items", EDU_API_BATCH_MAX);
		return;
	}
	if (n > EDU_API_BATCH_MAX) {
		reply_err(l, req, 413, "%zu items in one request; at most %d", n, EDU_API_BATCH_MAX);
		return;
	}
	if (!(o = calloc(1, sizeof *o)) || !(o->items = calloc(n, sizeof *o->items)) ||
	    !(o->failed_json = calloc(n, sizeof *o->failed_json)) || (rv = edu_store_batch_new(&b)) != EDU_OK) {
		reply_err(l, req, 500, "out of memory");
		goto out;
	}
	o->n_in = n;
	o->a = a;
	o->l = l;
	o->req = req;
	for (v = arr->child; v; v = v->next, i++) {
		edu_item *it = NULL;
		edu_record rec = {0};
		int status;
		if (!cJSON_IsObject(v)) {
			snprintf(why, sizeof why, "item %zu is not a JSON object", i);
			status = 400;
		} else if ((status = new_item(a, v, &it, why, sizeof why)) == 0) {
			/* validate needs a seq; only a valid item takes a real one */
			it->seq = 1;
			if ((status = check_item(a, it, why, sizeof why)) == 0) {
				it->seq = edu_store_next_seq(a->store);
				if ((rv = seal_record(a, it, &rec)) != EDU_OK) {
					snprintf(why, sizeof why, "cannot encode the item: %s", edu_strerror(rv));
					status = 400;
				} else if ((rv = edu_store_batch_put_item(b, &rec, it)) != EDU_OK) {
					if (rv != EDU_ETOOBIG && rv != EDU_EINVAL) {
						free((void *)rec.item);
						edu_item_free(it);
						reply_store_err(l, req, rv);
						goto out;
					}
					snprintf(why, sizeof why, "the item is too large to store");
					status = 413;
				}
				free((void *)rec.item);
			}
		}
		if (status >= 500) { /* the node's trouble, not the item's: fail the request */
			edu_item_free(it);
			reply_err(l, req, status, "item %zu: %s", i, why);
			goto out;
		}
		if (status) {
			edu_item_free(it);
			if (!(o->failed_json[i] = item_err_text(status, why))) {
				reply_err(l, req, 500, "out of memory");
				goto out;
			}
			o->failed++;
			continue;
		}
		o->items[o->n_recs++] = it;
	}
	if (o->n_recs == 0) {
		batch_reply(o, NULL);
		goto out;
	}
	if ((rv = edu_http_submit(l, b, batch_done, o)) != EDU_OK) {
		reply_store_err(l, req, rv);
		goto out;
	}
	return; /* batch_done owns b and o */
out:
	edu_store_batch_free(b);
	batch_op_free(o);
}

static void create_item(edu_api *a, edu_http_loop *l, struct evhttp_request *req)
{
	char why[256] = "";
	cJSON *j = item_body(l, req, true);
	if (!j)
		return;
	if (cJSON_IsArray(j)) {
		create_batch(a, l, req, j);
		cJSON_Delete(j);
		return;
	}
	edu_item *it = NULL;
	int status = new_item(a, j, &it, why, sizeof why);
	cJSON_Delete(j);
	if (status) {
		reply_err(l, req, status, "%s", why);
		return;
	}
	it->seq = edu_store_next_seq(a->store);
	submit_item(a, l, req, it, OP_CREATE);
}

/* Loads id for a change by this node: 404 when missing or deleted, 403 for
 * another unit's item. */
static edu_item *load_own(edu_api *a, edu_http_loop *l, struct evhttp_request *req, const char *id)
{
	char unit[EDU_UNIT_ID_MAX + 1];
	uint64_t seq;
	if (edu_item_id_parse(id, unit, &seq) == EDU_OK && strcmp(unit, a->self_unit) != 0) {
		reply_err(l, req, 403, "only %s may change its items; this node is %s", unit, a->self_unit);
		return NULL;
	}
	edu_item *it = load_item(a, l, req, id, unit, &seq);
	if (it && it->deleted) {
		reply_err(l, req, 404, "item %.80s was deleted", id);
		edu_item_free(it);
		return NULL;
	}
	return it;
}

static void update_item(edu_api *a, edu_http_loop *l, struct evhttp_request *req, const char *id)
{
	char why[256] = "";
	cJSON *j = item_body(l, req, false);
	if (!j)
		return;
	edu_item *it = load_own(a, l, req, id);
	if (!it) {
		cJSON_Delete(j);
		return;
	}
	/* The body's fields replace the stored ones; published is kept unless given. */
	int64_t updated_before = it->updated;
	it->updated = 0;
	edu_err rv = edu_item_from_json(it, j, why, sizeof why);
	cJSON_Delete(j);
	if (rv != EDU_OK) {
		reply_err(l, req, rv == EDU_ETOOBIG ? 413 : 400, "%s", why[0] ? why : edu_strerror(rv));
		edu_item_free(it);
		return;
	}
	if (set_str(&it->unit_name, a->self_name) != EDU_OK) {
		reply_err(l, req, 500, "out of memory");
		edu_item_free(it);
		return;
	}
	int64_t now = edu_time_now_ms() / 1000;
	if (it->updated == 0)
		it->updated = now > updated_before ? now : updated_before;
	it->version++;
	submit_item(a, l, req, it, OP_UPDATE);
}

static void delete_item(edu_api *a, edu_http_loop *l, struct evhttp_request *req, const char *id)
{
	edu_item *it = load_own(a, l, req, id);
	if (!it)
		return;
	/* The tombstone keeps id, kind, title and dates; the content goes. */
	int64_t now = edu_time_now_ms() / 1000;
	it->deleted = true;
	it->version++;
	it->updated = now > it->updated ? now : it->updated;
	if (set_str(&it->body, "") != EDU_OK || set_str(&it->summary, "") != EDU_OK) {
		reply_err(l, req, 500, "out of memory");
		edu_item_free(it);
		return;
	}
	for (size_t i = 0; i < it->n_attachments; i++) {
		free(it->attachments[i].name);
		free(it->attachments[i].media_type);
	}
	free(it->attachments);
	it->attachments = NULL;
	it->n_attachments = 0;
	submit_item(a, l, req, it, OP_DELETE);
}

static bool media_type_ok(const char *s)
{
	if (!s || !*s || strlen(s) > MEDIA_TYPE_MAX)
		return false;
	const char *slash = strchr(s, '/');
	if (!slash || slash == s || !slash[1])
		return false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			return false;
	for (const char *p = s; *p && *p != ';'; p++)
		if (!isalnum((unsigned char)*p) && !strchr("!#$&-^_.+/", *p))
			return false;
	return true;
}

static void upload_attachment(edu_api *a, edu_http_loop *l, struct evhttp_request *req)
{
	query q;
	edu_http_query_parse(req, &q);
	char *name = NULL;
	edu_store_batch *b = NULL;
	int status = 0;
	size_t len;
	const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	const char *raw_name = q.ok ? evhttp_find_header(&q.kv, "name") : NULL;
	if (!q.ok || !raw_name || !*raw_name) {
		reply_err(l, req, 400, "give the file name as ?name=");
		goto out;
	}
	if (edu_text_nfc(raw_name, strlen(raw_name), &name) != EDU_OK || edu_text_has_ctl(name, false) ||
	    edu_text_chars(name) > EDU_SHORT_MAX || strchr(name, '/')) {
		reply_err(l, req, 400, "name must be valid UTF-8, at most %d characters, without / or "
		    "control characters", EDU_SHORT_MAX);
		goto out;
	}
	if (!media_type_ok(ct)) {
		reply_err(l, req, 415, "give the file's media type in Content-Type");
		goto out;
	}
	const char *p = body_of(req, EDU_ATTACH_MAX, &len, &status);
	if (!p) {
		if (status == 413)
			reply_err(l, req, 413, "attachments are at most %u bytes", EDU_ATTACH_MAX);
		else
			reply_err(l, req, 500, "cannot read the body");
		goto out;
	}
	if (len == 0) {
		reply_err(l, req, 400, "empty file");
		goto out;
	}
	uint8_t sha[32];
	char hex[65];
	crypto_hash_sha256(sha, (const unsigned char *)p, len);
	sodium_bin2hex(hex, sizeof hex, sha, sizeof sha);
	edu_err rv = edu_store_batch_new(&b);
	if (rv == EDU_OK)
		rv = edu_store_batch_put_blob(b, sha, p, len);
	if (rv != EDU_OK) {
		reply_store_err(l, req, rv);
		goto out;
	}
	op *o = calloc(1, sizeof *o);
	if (!o) {
		reply_err(l, req, 500, "out of memory");
		goto out;
	}
	*o = (op){.a = a, .l = l, .req = req, .kind = OP_BLOB};
	o->reply = json_pack("{s:s, s:I, s:s, s:s}", "sha256", hex, "size", (json_int_t)len,
	    "media_type", ct, "name", name);
	if (!o->reply) {
		op_free(o);
		reply_err(l, req, 500, "out of memory");
		goto out;
	}
	if ((rv = edu_http_submit(l, b, op_done, o)) != EDU_OK) {
		op_free(o);
		reply_store_err(l, req, rv);
		goto out;
	}
	b = NULL;
out:
	edu_store_batch_free(b);
	free(name);
	evhttp_clear_headers(&q.kv);
}

/* ---- directives (node/directive) ------------------------------------------------
 * Low volume: each write is one small durable LMDB transaction in the
 * directive store, done here on the loop thread. */

static int dir_http_status(edu_err rv)
{
	switch (rv) {
	case EDU_EINVAL: return 400;
	case EDU_ETOOBIG: return 413;
	case EDU_EPERM: return 403;
	case EDU_ENOENT: return 404;
	case EDU_EEXIST: return 409;
	case EDU_ENOSPC: return 507;
	default: return 500;
	}
}

static void dir_reply_err(edu_http_loop *l, struct evhttp_request *req, edu_err rv, const char *why)
{
	reply_err(l, req, dir_http_status(rv), "%s", why && why[0] ? why : edu_strerror(rv));
}

/* Reads [{"sha256", "name", "media_type"}] whose bytes were uploaded with
 * POST /api/v1/attachments. files[i].data are malloc'ed (free them). */
static bool dir_files(edu_api *a, edu_http_loop *l, struct evhttp_request *req, json_t *arr, edu_dir_file *files,
    size_t *n)
{
	size_t i;
	json_t *v;
	edu_store_rd *rd = NULL;
	*n = 0;
	if (!arr || json_is_null(arr))
		return true;
	if (!json_is_array(arr) || json_array_size(arr) > EDU_DIR_ATTACH_COUNT_MAX) {
		reply_err(l, req, 400, "attachments must be an array of at most %d {sha256, name, media_type}",
		    EDU_DIR_ATTACH_COUNT_MAX);
		return false;
	}
	if (edu_store_read_begin(a->store, &rd) != EDU_OK) {
		reply_err(l, req, 500, "cannot read the store");
		return false;
	}
	json_array_foreach(arr, i, v) {
		const char *hex = json_string_value(json_object_get(v, "sha256"));
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *mt = json_string_value(json_object_get(v, "media_type"));
		uint8_t sha[32];
		size_t bl = 0;
		uint8_t *data = NULL;
		if (!hex || !name || strlen(hex) != 64 ||
		    sodium_hex2bin(sha, sizeof sha, hex, 64, NULL, &bl, NULL) != 0 || bl != 32) {
			reply_err(l, req, 400, "attachment %zu: give sha256 (hex) and name", i);
			goto fail;
		}
		if (edu_store_blob_get(rd, sha, &data, &bl) != EDU_OK) {
			reply_err(l, req, 400, "attachment %zu: its file was not uploaded (POST /api/v1/attachments)", i);
			goto fail;
		}
		files[*n] = (edu_dir_file){name, mt ? mt : "application/octet-stream", data, bl};
		(*n)++;
	}
	edu_store_read_end(rd);
	return true;
fail:
	edu_store_read_end(rd);
	for (i = 0; i < *n; i++)
		free((void *)files[i].data);
	*n = 0;
	return false;
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void dir_publish(edu_api *a, edu_http_loop *l, struct evhttp_request *req)
{
	json_t *j = json_body(l, req), *aud, *v;
	const char *types[EDU_DIR_TYPES_MAX], *units[EDU_DIR_UNITS_MAX];
	edu_dir_file files[EDU_DIR_ATTACH_COUNT_MAX];
	size_t nf = 0, i;
	edu_dir_new n = {0};
	char id[EDU_DIR_ID_MAX], why[256] = "";
	edu_err rv;
	if (!j)
		return;
	n.title = jstr(j, "title");
	n.body = jstr(j, "body");
	n.doc_number = jstr(j, "doc_number");
	n.doc_date = jstr(j, "doc_date");
	n.signer = jstr(j, "signer");
	n.report_requested = json_is_true(json_object_get(j, "report_requested"));
	if (!n.title) {
		reply_err(l, req, 400, "title is required");
		goto out;
	}
	aud = json_object_get(j, "audience");
	if (aud && !json_is_null(aud)) {
		json_t *ty = json_object_get(aud, "types"), *un = json_object_get(aud, "units");
		if (!json_is_object(aud) || (ty && !json_is_array(ty)) || (un && !json_is_array(un)) ||
		    json_array_size(ty) > EDU_DIR_TYPES_MAX || json_array_size(un) > EDU_DIR_UNITS_MAX) {
			reply_err(l, req, 400, "audience must be {\"types\": [...], \"units\": [...]} (at most %d types, %d units)",
			    EDU_DIR_TYPES_MAX, EDU_DIR_UNITS_MAX);
			goto out;
		}
		json_array_foreach(ty, i, v) {
			if (!(types[n.n_types++] = json_string_value(v))) {
				reply_err(l, req, 400, "audience.types must hold strings");
				goto out;
			}
		}
		json_array_foreach(un, i, v) {
			if (!(units[n.n_units++] = json_string_value(v))) {
				reply_err(l, req, 400, "audience.units must hold strings");
				goto out;
			}
		}
		n.types = types;
		n.units = units;
	}
	v = json_object_get(j, "deadline");
	if (v && !json_is_null(v)) {
		int64_t s;
		if (!json_is_string(v) || edu_time_parse(json_string_value(v), &s, NULL) != EDU_OK || s <= 0) {
			reply_err(l, req, 400, "deadline must be an RFC 3339 time");
			goto out;
		}
		n.deadline = s;
	}
	if (!dir_files(a, l, req, json_object_get(j, "attachments"), files, &nf))
		goto out;
	n.files = files;
	n.n_files = nf;
	if ((rv = edu_dir_publish(a->dirs, &n, id, why, sizeof why)) != EDU_OK)
		dir_reply_err(l, req, rv, why);
	else
		reply_json(l, req, 201, json_pack("{s:s}", "id", id));
out:
	for (i = 0; i < nf; i++)
		free((void *)files[i].data);
	json_decref(j);
}

static void dir_ack_or_report(edu_api *a, edu_http_loop *l, struct evhttp_request *req, const char *id, bool report)
{
	char why[256] = "";
	edu_err rv;
	if (!report) {
		if ((rv = edu_dir_ack(a->dirs, id, 0, why, sizeof why)) != EDU_OK)
			dir_reply_err(l, req, rv, why);
		else
			reply_json(l, req, 200, json_pack("{s:s, s:b}", "id", id, "acknowledged", 1));
		return;
	}
	json_t *j = json_body(l, req);
	edu_dir_file files[EDU_DIR_ATTACH_COUNT_MAX];
	size_t nf = 0;
	if (!j)
		return;
	const char *text = jstr(j, "text");
	if (dir_files(a, l, req, json_object_get(j, "attachments"), files, &nf)) {
		if ((rv = edu_dir_report(a->dirs, id, text ? text : "", files, nf, 0, why, sizeof why)) != EDU_OK)
			dir_reply_err(l, req, rv, why);
		else
			reply_json(l, req, 200, json_pack("{s:s, s:b}", "id", id, "reported", 1));
	}
	for (size_t i = 0; i < nf; i++)
		free((void *)files[i].data);
	json_decref(j);
}

static void dir_attachment(edu_api *a, edu_http_loop *l, struct evhttp_request *req, const char *id,
    const char *unit, const char *num)
{
	uint8_t *data = NULL;
	size_t len = 0;
	char *name = NULL, *mt = NULL, *end;
	unsigned long k = strtoul(num, &end, 10);
	edu_err rv;
	if (!*num || *end || k > EDU_DIR_ATTACH_COUNT_MAX) {
		reply_err(l, req, 404, "no such attachment");
		return;
	}
	if ((rv = edu_dir_attachment(a->dirs, id, unit, k, &data, &len, &name, &mt)) != EDU_OK) {
		dir_reply_err(l, req, rv, rv == EDU_ENOENT ? "no such directive or attachment" : NULL);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Disposition", "attachment");
	evhttp_add_header(evhttp_request_get_output_headers(req), "X-Content-Type-Options", "nosniff");
	edu_http_reply(l, req, 200, media_type_ok(mt) ? mt : "application/octet-stream", data, len);
	free(data);
	free(name);
	free(mt);
}

/* rest: "" or "/{id}[/ack|/report|/status|/attachments/N|/reports/UNIT/attachments/N]" */
static void directives_route(edu_api *a, edu_http_loop *l, struct evhttp_request *req, const char *rest, bool get,
    enum evhttp_cmd_type cmd)
{
	char id[EDU_DIR_ID_MAX], unit[48], num[16];
	const char *slash;
	size_t idlen;
	edu_err rv;
	json_t *j = NULL;
	if (!a->dirs) {
		reply_err(l, req, 404, "directives are not available on this node");
		return;
	}
	if (!*rest) {
		if (get) {
			query q;
			int64_t at = 0;
			edu_http_query_parse(req, &q);
			if ((rv = edu_dir_list_json(a->dirs, at, &j)) != EDU_OK)
				dir_reply_err(l, req, rv, NULL);
			else
				reply_json(l, req, 200, j);
			evhttp_clear_headers(&q.kv);
		} else if (cmd == EVHTTP_REQ_POST) {
			dir_publish(a, l, req);
		} else {
			method_not_allowed(l, req, "GET, HEAD, POST");
		}
		return;
	}
	rest++; /* past "/" */
	slash = strchr(rest, '/');
	idlen = slash ? (size_t)(slash - rest) : strlen(rest);
	if (idlen == 0 || idlen >= sizeof id) {
		reply_err(l, req, 404, "no such directive");
		return;
	}
	memcpy(id, rest, idlen);
	id[idlen] = '\0';
	rest = slash ? slash : "";
	if (!*rest) {
		if (!get) {
			method_not_allowed(l, req, "GET, HEAD");
		} else if ((rv = edu_dir_get_json(a->dirs, id, &j)) != EDU_OK) {
			dir_reply_err(l, req, rv, rv == EDU_ENOENT ? "no such directive here" : NULL);
		} else {
			reply_json(l, req, 200, j);
		}
	} else if (strcmp(rest, "/ack") == 0 || strcmp(rest, "/report") == 0) {
		if (cmd != EVHTTP_REQ_POST)
			method_not_allowed(l, req, "POST");
		else
			dir_ack_or_report(a, l, req, id, rest[1] == 'r');
	} else if (strcmp(rest, "/status") == 0) {
		query q;
		int64_t at = 0;
		const char *ats;
		if (!get) {
			method_not_allowed(l, req, "GET, HEAD");
			return;
		}
		edu_http_query_parse(req, &q);
		ats = q.ok ? evhttp_find_header(&q.kv, "at") : NULL;
		if (!q.ok || (ats && (edu_time_parse(ats, &at, NULL) != EDU_OK || at <= 0))) {
			reply_err(l, req, 400, "at must be an RFC 3339 time");
		} else if ((rv = edu_dir_status_json(a->dirs, id, at * 1000, &j)) != EDU_OK) {
			dir_reply_err(l, req, rv, rv == EDU_EPERM ? "status is kept at the issuing node"
			    : rv == EDU_ENOENT ? "no such directive here" : NULL);
		} else {
			reply_json(l, req, 200, j);
		}
		evhttp_clear_headers(&q.kv);
	} else if (get && sscanf(rest, "/attachments/%15[0-9]", num) == 1 && strchr(rest + 13, '/') == NULL) {
		dir_attachment(a, l, req, id, NULL, num);
	} else if (get && sscanf(rest, "/reports/%47[a-z0-9-]/attachments/%15[0-9]", unit, num) == 2) {
		dir_attachment(a, l, req, id, unit, num);
	} else {
		reply_err(l, req, 404, "no such API path");
	}
}

/* ---- backup ------------------------------------------------------------------ */

/* POST /api/v1/backup?db=store|directives: the LMDB copy as the body. The copy
 * goes to an unnamed temporary file in the system temp dir and is streamed from
 * there, so memory stays flat. It runs on the loop thread: a school's store
 * copies in well under a second; a Sở operator should back up off-peak. */
static void backup(edu_api *a, edu_http_loop *l, struct evhttp_request *req)
{
	query q;
	edu_http_query_parse(req, &q);
	const char *db = evhttp_find_header(&q.kv, "db");
	if (!db)
		db = "store";
	bool dirs = strcmp(db, "directives") == 0;
	if (!q.ok || (!dirs && strcmp(db, "store") != 0)) {
		reply_err(l, req, 400, "db must be store or directives");
		goto out;
	}
	if (dirs && !a->dirs) {
		reply_err(l, req, 404, "this node has no directive store");
		goto out;
	}
	int fd = open(P_tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		reply_err(l, req, 507, "cannot create a temporary file for the backup: %s", strerror(errno));
		goto out;
	}
	edu_err rv = dirs ? edu_dir_backup(a->dirs, fd) : edu_store_backup(a->store, fd);
	off_t len = rv == EDU_OK ? lseek(fd, 0, SEEK_END) : -1;
	if (rv != EDU_OK || len < 0) {
		close(fd);
		reply_store_err(l, req, rv != EDU_OK ? rv : EDU_EIO);
		goto out;
	}
	edu_log(LOG_NOTICE, "api: backup of %s, %lld bytes", db, (long long)len);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Disposition",
	    dirs ? "attachment; filename=\"directives.mdb\"" : "attachment; filename=\"data.mdb\"");
	edu_http_reply_file(l, req, 200, "application/octet-stream", fd, (size_t)len);
out:
	evhttp_clear_headers(&q.kv);
}

/* ---- router ------------------------------------------------------------------ */

void edu_api_handle(edu_http_loop *l, struct evhttp_request *req, const char *path, void *arg)
{
	edu_api *a = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	bool get = cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD;
	if (strncmp(path, "/api/v1/", 8) != 0) {
		reply_err(l, req, 404, "no such API path; this node speaks /api/v1/");
		return;
	}
	const char *p = path + 7; /* "/items..." */
	bool write = !get;
	if (write && !authorized(a, req)) {
		reply_err(l, req, 401, "this call needs Authorization: Bearer <admin token>");
		return;
	}
	if (strcmp(p, "/items") == 0) {
		if (get)
			list_items(a, l, req);
		else if (cmd == EVHTTP_REQ_POST)
			create_item(a, l, req);
		else
			method_not_allowed(l, req, "GET, HEAD, POST");
	} else if (strncmp(p, "/items/", 7) == 0 && p[7]) {
		const char *id = p + 7;
		if (get)
			get_item(a, l, req, id);
		else if (cmd == EVHTTP_REQ_PUT)
			update_item(a, l, req, id);
		else if (cmd == EVHTTP_REQ_DELETE)
			delete_item(a, l, req, id);
		else
			method_not_allowed(l, req, "GET, HEAD, PUT, DELETE");
	} else if (strcmp(p, "/attachments") == 0) {
		if (cmd == EVHTTP_REQ_POST)
			upload_attachment(a, l, req);
		else
			method_not_allowed(l, req, "POST");
	} else if (strcmp(p, "/status") == 0 || strcmp(p, "/topology") == 0 ||
	    strcmp(p, "/report/deployment") == 0) {
		if (!get)
			method_not_allowed(l, req, "GET, HEAD");
		else if (p[1] == 's')
			json_status(a, l, req);
		else if (p[1] == 't')
			json_topology(a, l, req);
		else if (a->agg)
			reply_json(l, req, 200, edu_agg_report_json(a->agg));
		else
			reply_err(l, req, 404, "the deployment report is only on aggregating nodes (phong, so); "
			    "%s is a school", a->self_unit);
	} else if (strcmp(p, "/backup") == 0) {
		if (cmd == EVHTTP_REQ_POST)
			backup(a, l, req);
		else
			method_not_allowed(l, req, "POST");
	} else if (strcmp(p, "/directives") == 0 || strncmp(p, "/directives/", 12) == 0) {
		directives_route(a, l, req, p + 11, get, cmd);
	} else {
		reply_err(l, req, 404, "no such API path");
	}
}

edu_err edu_api_new(edu_api **out, const edu_api_opts *o)
{
	*out = NULL;
	if (!o->store || !o->self_unit || !o->self_status)
		return EDU_EINVAL;
	edu_api *a = calloc(1, sizeof *a);
	if (!a)
		return EDU_ENOMEM;
	a->store = o->store;
	a->agg = o->agg;
	a->tz = o->tz_offset_min;
	a->self_status = o->self_status;
	a->self_status_arg = o->self_status_arg;
	a->sign = o->sign;
	a->sign_arg = o->sign_arg;
	a->dirs = o->dirs;
	a->self_unit = strdup(o->self_unit);
	a->self_name = strdup(o->self_name && *o->self_name ? o->self_name : o->self_unit);
	if (!a->self_unit || !a->self_name) {
		edu_api_free(a);
		return EDU_ENOMEM;
	}
	if (o->token && *o->token) {
		crypto_generichash(a->token_hash, sizeof a->token_hash, (const unsigned char *)o->token,
		    strlen(o->token), NULL, 0);
		a->has_token = true;
	}
	*out = a;
	return EDU_OK;
}

void edu_api_free(edu_api *a)
{
	if (!a)
		return;
	sodium_memzero(a->token_hash, sizeof a->token_hash);
	free(a->self_unit);
	free(a->self_name);
	free(a);
}
