/* JSON codec of the item (API shape, see item.h): output on jansson, like
 * every other JSON the node writes; input on cJSON, because create and update
 * bodies are the ingest hot path and jansson's lexer costs ~11 us a 1 KiB item
 * there against ~0.9 us (see item.h). */
#include "item.h"

#include <cJSON.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "text/text.h"

/* ---- to_json ---- */

/* Collects set failures so the builder stays linear: one check at the end. */
typedef struct jb {
	json_t *o;
	bool bad;
} jb;

static void put(jb *b, const char *key, json_t *v)
{
	if (v == NULL || json_object_set_new(b->o, key, v) != 0)
		b->bad = true;
}

static const char *nz(const char *s) { return s ? s : ""; }

static void put_str(jb *b, const char *key, const char *s) { put(b, key, json_string(nz(s))); }

static void put_str_if(jb *b, const char *key, const char *s)
{
	if (s && *s)
		put_str(b, key, s);
}

static void put_time(jb *b, const char *key, int64_t t, int tz)
{
	char ts[EDU_RFC3339_LEN];
	edu_time_format(ts, t, tz);
	put(b, key, json_string(ts));
}

static json_t *attachment_json(const edu_attachment *a)
{
	static const char hex[] = "0123456789abcdef";
	char sha[65];
	for (size_t i = 0; i < 32; i++) {
		sha[2 * i] = hex[a->sha256[i] >> 4];
		sha[2 * i + 1] = hex[a->sha256[i] & 15];
	}
	sha[64] = '\0';
	return json_pack("{s:s, s:s, s:I, s:s}", "name", nz(a->name), "media_type",
	    nz(a->media_type), "size", (json_int_t)a->size, "sha256", sha);
}

static json_t *tags_json(const edu_item *it)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < it->n_tags; i++) {
		if (json_array_append_new(a, json_string(nz(it->tags[i]))) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *attachments_json(const edu_item *it)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < it->n_attachments; i++) {
		if (json_array_append_new(a, attachment_json(&it->attachments[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

json_t *edu_item_to_json(const edu_item *it, bool with_body)
{
	char id[EDU_ITEM_ID_MAX];
	jb b = {json_object(), false};
	if (b.o == NULL)
		return NULL;
	edu_item_id_format(id, it->unit, it->seq);
	put_str(&b, "id", id);
	put_str(&b, "unit", it->unit);
	put_str(&b, "unit_name", it->unit_name);
	put_str(&b, "kind", edu_kind_name(it->kind));
	put_str(&b, "title", it->title);
	put_str(&b, "summary", it->summary);
	if (with_body)
		put_str(&b, "body", it->body);
	put(&b, "tags", tags_json(it));
	put_str(&b, "author", it->author);
	put_time(&b, "published", it->published, it->tz_offset_min);
	put_time(&b, "updated", it->updated, it->tz_offset_min);
	put(&b, "version", json_integer(it->version));
	put(&b, "deleted", json_boolean(it->deleted));
	put(&b, "attachments", attachments_json(it));
	put_str_if(&b, "doc_number", it->doc_number);
	put_str_if(&b, "doc_date", it->doc_date);
	put_str_if(&b, "signer", it->signer);
	if (it->starts)
		put_time(&b, "starts", it->starts, it->tz_offset_min);
	if (it->ends)
		put_time(&b, "ends", it->ends, it->tz_offset_min);
	put_str_if(&b, "location", it->location);
	put_str_if(&b, "source_url", it->source_url);
	if (b.bad) {
		json_decref(b.o);
		return NULL;
	}
	return b.o;
}

/* ---- from_json ---- */

/* True when the text holds the escape \u0000 inside a string. cJSON would
 * decode it into a NUL and silently cut the string there. An escape is a
 * backslash preceded by an even run of backslashes; outside strings a
 * backslash is invalid JSON, which the parse then refuses anyway. */
static bool has_nul_escape(const char *p, size_t len)
{
	static const char pat[] = "\\u0000";
	const char *end = p + len, *s = p;
	while ((s = memmem(s, (size_t)(end - s), pat, sizeof pat - 1)) != NULL) {
		size_t run = 0;
		while (s - run > p && s[-1 - (ptrdiff_t)run] == '\\')
			run++;
		if (run % 2 == 0)
			return true;
		s++;
	}
	return false;
}

static void line_col(const char *p, const char *at, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (const char *q = p; q < at; q++) {
		if (*q == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)*q & 0xC0) != 0x80) {
			(*col)++; /* columns count characters */
		}
	}
}

edu_err edu_item_json_parse(const char *p, size_t len, struct cJSON **out, char *why, size_t whylen)
{
	*out = NULL;
	const char *end = NULL;
	int line, col;
	if (!edu_text_utf8_valid(p, len)) {
		snprintf(why, whylen, "body is not valid UTF-8 or contains NUL");
		return EDU_EINVAL;
	}
	if (has_nul_escape(p, len)) {
		snprintf(why, whylen, "bad JSON: a string contains \\u0000 (a NUL character)");
		return EDU_EINVAL;
	}
	cJSON *j = cJSON_ParseWithLengthOpts(p, len, &end, false);
	if (j == NULL) {
		/* end: where the parse stopped (cJSON reports running out of
		 * memory the same way, at the position reached). */
		line_col(p, end && end < p + len ? end : p + len, &line, &col);
		snprintf(why, whylen, "bad JSON at line %d column %d", line, col);
		return EDU_EINVAL;
	}
	while (end < p + len && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
		end++;
	if (end < p + len) {
		cJSON_Delete(j);
		line_col(p, end, &line, &col);
		snprintf(why, whylen, "bad JSON at line %d column %d: text after the JSON value", line, col);
		return EDU_EINVAL;
	}
	*out = j;
	return EDU_OK;
}

typedef struct jctx {
	edu_item *it;
	char *why;
	size_t whylen;
	bool tz_from_published;
} jctx;

static edu_err fail(jctx *c, edu_err rv, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static edu_err fail(jctx *c, edu_err rv, const char *fmt, ...)
{
	if (c->why && c->whylen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->why, c->whylen, fmt, ap);
		va_end(ap);
	}
	return rv;
}

/* A JSON string, or null for "". edu_item_json_parse refused \u0000, so the
 * C string is the whole value. */
static edu_err get_text(jctx *c, const char *key, const cJSON *v, const char **out)
{
	if (cJSON_IsNull(v)) {
		*out = "";
		return EDU_OK;
	}
	if (!cJSON_IsString(v))
		return fail(c, EDU_EINVAL, "%s: must be a string", key);
	*out = v->valuestring;
	return EDU_OK;
}

/* Bit i set when keys[i] appeared in this object; jansson refused duplicate
 * keys, and so does this: two "title"s would be ambiguous. */
static edu_err key_index(jctx *c, const char *where, const char *const *keys, size_t n, uint32_t *seen,
    const char *key, size_t *idx)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(key, keys[i]) != 0)
			continue;
		if (*seen & (UINT32_C(1) << i))
			return fail(c, EDU_EINVAL, "%sduplicate key \"%s\"", where, key);
		*seen |= UINT32_C(1) << i;
		*idx = i;
		return EDU_OK;
	}
	return fail(c, EDU_EINVAL, "%sunknown key \"%s\"", where, key);
}

static edu_err set_owned(char **dst, const char *s)
{
	char *d = strdup(s);
	if (d == NULL)
		return EDU_ENOMEM;
	free(*dst);
	*dst = d;
	return EDU_OK;
}

static edu_err set_time(jctx *c, const char *key, const cJSON *v, int64_t *dst, int *tz)
{
	const char *s = "";
	edu_err rv = get_text(c, key, v, &s);
	if (rv != EDU_OK)
		return rv;
	if (*s == '\0') {
		*dst = 0;
		return EDU_OK;
	}
	int64_t t = 0;
	int off = 0;
	if (edu_time_parse(s, &t, &off) != EDU_OK)
		return fail(c, EDU_EINVAL, "%s: not an RFC 3339 time like 2026-11-30T15:04:05+07:00", key);
	*dst = t;
	if (tz)
		*tz = off;
	return EDU_OK;
}

static edu_err on_kind(jctx *c, const char *key, const cJSON *v)
{
	(void)key;
	if (!cJSON_IsString(v))
		return fail(c, EDU_EINVAL, "kind: must be a string");
	edu_kind k = edu_kind_parse(v->valuestring);
	if (k == EDU_KIND_NONE)
		return fail(c, EDU_EINVAL, "kind: must be news, announcement, document or event");
	c->it->kind = k;
	return EDU_OK;
}

static edu_err on_published(jctx *c, const char *key, const cJSON *v)
{
	c->tz_from_published = true;
	return set_time(c, key, v, &c->it->published, &c->it->tz_offset_min);
}

static edu_err on_updated(jctx *c, const char *key, const cJSON *v)
{
	/* The item keeps one offset; published's wins when both are given. */
	int tz = c->it->tz_offset_min;
	edu_err rv = set_time(c, key, v, &c->it->updated, &tz);
	if (rv == EDU_OK && !c->tz_from_published)
		c->it->tz_offset_min = tz;
	return rv;
}

static edu_err on_starts(jctx *c, const char *key, const cJSON *v)
{
	return set_time(c, key, v, &c->it->starts, NULL);
}

static edu_err on_ends(jctx *c, const char *key, const cJSON *v)
{
	return set_time(c, key, v, &c->it->ends, NULL);
}

/* Elements of an array or null, refused above max (counted without walking
 * further, so a huge array costs nothing). */
static edu_err array_len(jctx *c, const char *key, const char *what, const cJSON *v, size_t max, size_t *n)
{
	*n = 0;
	if (cJSON_IsNull(v))
		return EDU_OK;
	if (!cJSON_IsArray(v))
		return fail(c, EDU_EINVAL, "%s: must be an array of %s", key, what);
	for (const cJSON *e = v->child; e; e = e->next)
		if (++*n > max)
			return fail(c, EDU_ETOOBIG, "%s: more than %zu", key, max);
	return EDU_OK;
}

static edu_err on_tags(jctx *c, const char *key, const cJSON *v)
{
	size_t n;
	edu_err rv = array_len(c, key, "strings", v, EDU_TAGS_MAX, &n);
	if (rv != EDU_OK)
		return rv;
	char **tags = n ? calloc(n, sizeof *tags) : NULL;
	if (n && tags == NULL)
		return EDU_ENOMEM;
	size_t i = 0;
	for (const cJSON *e = n ? v->child : NULL; e && rv == EDU_OK; e = e->next, i++) {
		if (!cJSON_IsString(e))
			rv = fail(c, EDU_EINVAL, "tags[%zu]: must be a string", i);
		else if ((tags[i] = strdup(e->valuestring)) == NULL)
			rv = EDU_ENOMEM;
	}
	if (rv != EDU_OK) {
		for (size_t j = 0; j < n; j++)
			free(tags[j]);
		free(tags);
		return rv;
	}
	for (size_t j = 0; j < c->it->n_tags; j++)
		free(c->it->tags[j]);
	free(c->it->tags);
	c->it->tags = tags;
	c->it->n_tags = n;
	return EDU_OK;
}

static int hexval(char h)
{
	if (h >= '0' && h <= '9')
		return h - '0';
	if (h >= 'a' && h <= 'f')
		return h - 'a' + 10;
	if (h >= 'A' && h <= 'F')
		return h - 'A' + 10;
	return -1;
}

static edu_err parse_sha(jctx *c, size_t idx, const cJSON *v, uint8_t out[32])
{
	const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
	if (s == NULL || strlen(s) != 64)
		return fail(c, EDU_EINVAL, "attachments[%zu].sha256: must be 64 hex digits", idx);
	for (size_t i = 0; i < 32; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return fail(c, EDU_EINVAL, "attachments[%zu].sha256: must be 64 hex digits", idx);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return EDU_OK;
}

/* A JSON number that is a whole number from 0 to 2^53 (cJSON keeps numbers
 * as doubles, exact up to there; sizes are far below). */
static bool whole_number(const cJSON *v, uint64_t *out)
{
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 9007199254740992.0))
		return false;
	*out = (uint64_t)v->valuedouble;
	return (double)*out == v->valuedouble;
}

static edu_err parse_attachment(jctx *c, size_t idx, const cJSON *o, edu_attachment *a)
{
	static const char *const keys[] = {"name", "media_type", "sha256", "size"};
	const cJSON *val[4] = {NULL, NULL, NULL, NULL};
	char where[48];
	uint32_t seen = 0;
	if (!cJSON_IsObject(o))
		return fail(c, EDU_EINVAL, "attachments[%zu]: must be an object", idx);
	snprintf(where, sizeof where, "attachments[%zu]: ", idx);
	for (const cJSON *e = o->child; e; e = e->next) {
		size_t k = 0;
		edu_err rv = key_index(c, where, keys, 4, &seen, e->string, &k);
		if (rv != EDU_OK)
			return rv;
		val[k] = e;
	}
	if (!cJSON_IsString(val[0]) || !cJSON_IsString(val[1]))
		return fail(c, EDU_EINVAL, "attachments[%zu]: name and media_type must be strings", idx);
	if (!whole_number(val[3], &a->size))
		return fail(c, EDU_EINVAL, "attachments[%zu].size: must be a non-negative integer", idx);
	edu_err rv = parse_sha(c, idx, val[2], a->sha256);
	if (rv != EDU_OK)
		return rv;
	a->name = strdup(val[0]->valuestring);
	a->media_type = strdup(val[1]->valuestring);
	return a->name && a->media_type ? EDU_OK : EDU_ENOMEM;
}

static void free_atts(edu_attachment *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++) {
		free(a[i].name);
		free(a[i].media_type);
	}
	free(a);
}

static edu_err on_attachments(jctx *c, const char *key, const cJSON *v)
{
	size_t n;
	edu_err rv = array_len(c, key, "objects", v, EDU_ATTACH_MAX_COUNT, &n);
	if (rv != EDU_OK)
		return rv;
	edu_attachment *a = n ? calloc(n, sizeof *a) : NULL;
	if (n && a == NULL)
		return EDU_ENOMEM;
	size_t i = 0;
	for (const cJSON *e = n ? v->child : NULL; e && rv == EDU_OK; e = e->next, i++)
		rv = parse_attachment(c, i, e, &a[i]);
	if (rv != EDU_OK) {
		free_atts(a, n);
		return rv;
	}
	free_atts(c->it->attachments, c->it->n_attachments);
	c->it->attachments = a;
	c->it->n_attachments = n;
	return EDU_OK;
}

typedef edu_err (*key_fn)(jctx *c, const char *key, const cJSON *v);

/* "published" first: it sets the offset whatever the key order. */
static const char *const item_keys[] = {
	"published", "kind", "title", "summary", "body", "tags", "author", "updated", "doc_number",
	"doc_date", "signer", "starts", "ends", "location", "source_url", "attachments",
};
#define N_ITEM_KEYS (sizeof item_keys / sizeof item_keys[0])

/* Per item_keys entry: a handler, or the offset of a plain string field. */
static const struct key_rule {
	key_fn fn;
	size_t str_off;
} key_rules[N_ITEM_KEYS] = {
	{on_published, 0},
	{on_kind, 0},
	{NULL, offsetof(edu_item, title)},
	{NULL, offsetof(edu_item, summary)},
	{NULL, offsetof(edu_item, body)},
	{on_tags, 0},
	{NULL, offsetof(edu_item, author)},
	{on_updated, 0},
	{NULL, offsetof(edu_item, doc_number)},
	{NULL, offsetof(edu_item, doc_date)},
	{NULL, offsetof(edu_item, signer)},
	{on_starts, 0},
	{on_ends, 0},
	{NULL, offsetof(edu_item, location)},
	{NULL, offsetof(edu_item, source_url)},
	{on_attachments, 0},
};

static edu_err apply_key(jctx *c, size_t k, const cJSON *v)
{
	const struct key_rule *r = &key_rules[k];
	if (r->fn)
		return r->fn(c, item_keys[k], v);
	const char *s = "";
	edu_err rv = get_text(c, item_keys[k], v, &s);
	return rv == EDU_OK ? set_owned((char **)((char *)c->it + r->str_off), s) : rv;
}

edu_err edu_item_from_json(edu_item *it, const struct cJSON *obj, char *why, size_t whylen)
{
	jctx c = {NULL, why, whylen, false};
	const cJSON *val[N_ITEM_KEYS] = {NULL};
	uint32_t seen = 0;
	if (!cJSON_IsObject(obj))
		return fail(&c, EDU_EINVAL, "item: must be a JSON object");
	/* Every key is checked before anything is copied. */
	for (const cJSON *e = obj->child; e; e = e->next) {
		size_t k = 0;
		edu_err rv = key_index(&c, "", item_keys, N_ITEM_KEYS, &seen, e->string, &k);
		if (rv != EDU_OK)
			return rv;
		val[k] = e;
	}
	/* Work on a copy so a failure leaves *it untouched. */
	if ((c.it = edu_item_dup(it)) == NULL)
		return EDU_ENOMEM;
	edu_err rv = EDU_OK;
	for (size_t k = 0; k < N_ITEM_KEYS && rv == EDU_OK; k++)
		if (val[k])
			rv = apply_key(&c, k, val[k]);
	if (rv == EDU_OK) {
		edu_item tmp = *it;
		*it = *c.it;
		*c.it = tmp;
	}
	edu_item_free(c.it);
	return rv;
}

edu_err edu_item_from_json_text(edu_item *it, const char *p, size_t len, char *why, size_t whylen)
{
	cJSON *j = NULL;
	edu_err rv = edu_item_json_parse(p, len, &j, why, whylen);
	if (rv == EDU_OK)
		rv = edu_item_from_json(it, j, why, whylen);
	cJSON_Delete(j);
	return rv;
}
