/* JSON codec of the item (API shape, see item.h) on jansson. */
#include "item.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"

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

/* A JSON string without NUL (jansson allows \u0000), or null for "". */
static edu_err get_text(jctx *c, const char *key, const json_t *v, const char **out)
{
	if (json_is_null(v)) {
		*out = "";
		return EDU_OK;
	}
	if (!json_is_string(v))
		return fail(c, EDU_EINVAL, "%s: must be a string", key);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return fail(c, EDU_EINVAL, "%s: contains a NUL character", key);
	*out = json_string_value(v);
	return EDU_OK;
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

static edu_err set_time(jctx *c, const char *key, const json_t *v, int64_t *dst, int *tz)
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

static edu_err on_kind(jctx *c, const char *key, const json_t *v)
{
	if (!json_is_string(v))
		return fail(c, EDU_EINVAL, "kind: must be a string");
	edu_kind k = edu_kind_parse(json_string_value(v));
	if (k == EDU_KIND_NONE)
		return fail(c, EDU_EINVAL, "kind: must be news, announcement, document or event");
	c->it->kind = k;
	return EDU_OK;
}

static edu_err on_published(jctx *c, const char *key, const json_t *v)
{
	c->tz_from_published = true;
	return set_time(c, key, v, &c->it->published, &c->it->tz_offset_min);
}

static edu_err on_updated(jctx *c, const char *key, const json_t *v)
{
	/* The item keeps one offset; published's wins when both are given. */
	int tz = c->it->tz_offset_min;
	edu_err rv = set_time(c, key, v, &c->it->updated, &tz);
	if (rv == EDU_OK && !c->tz_from_published)
		c->it->tz_offset_min = tz;
	return rv;
}

static edu_err on_starts(jctx *c, const char *key, const json_t *v)
{
	return set_time(c, key, v, &c->it->starts, NULL);
}

static edu_err on_ends(jctx *c, const char *key, const json_t *v)
{
	return set_time(c, key, v, &c->it->ends, NULL);
}

static edu_err on_tags(jctx *c, const char *key, const json_t *v)
{
	if (!json_is_array(v) && !json_is_null(v))
		return fail(c, EDU_EINVAL, "tags: must be an array of strings");
	size_t n = json_array_size(v);
	if (n > EDU_TAGS_MAX)
		return fail(c, EDU_ETOOBIG, "tags: more than %d", EDU_TAGS_MAX);
	char **tags = n ? calloc(n, sizeof *tags) : NULL;
	if (n && tags == NULL)
		return EDU_ENOMEM;
	edu_err rv = EDU_OK;
	size_t i = 0;
	for (; i < n && rv == EDU_OK; i++) {
		const json_t *e = json_array_get(v, i);
		const char *s = NULL;
		if (!json_is_string(e))
			rv = fail(c, EDU_EINVAL, "tags[%zu]: must be a string", i);
		else
			rv = get_text(c, "tags[]", e, &s);
		if (rv == EDU_OK && (tags[i] = strdup(s)) == NULL)
			rv = EDU_ENOMEM;
	}
	if (rv != EDU_OK) {
		for (size_t j = 0; j < i; j++)
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

static edu_err parse_sha(jctx *c, size_t idx, const json_t *v, uint8_t out[32])
{
	const char *s = json_string_value(v);
	if (s == NULL || json_string_length(v) != 64)
		return fail(c, EDU_EINVAL, "attachments[%zu].sha256: must be 64 hex digits", idx);
	for (size_t i = 0; i < 32; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return fail(c, EDU_EINVAL, "attachments[%zu].sha256: must be 64 hex digits", idx);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return EDU_OK;
}

static edu_err parse_attachment(jctx *c, size_t idx, const json_t *o, edu_attachment *a)
{
	if (!json_is_object(o))
		return fail(c, EDU_EINVAL, "attachments[%zu]: must be an object", idx);
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)o, key, v) {
		if (strcmp(key, "name") && strcmp(key, "media_type") && strcmp(key, "sha256") &&
		    strcmp(key, "size"))
			return fail(c, EDU_EINVAL, "attachments[%zu]: unknown key \"%s\"", idx, key);
	}
	const json_t *name = json_object_get(o, "name"), *mt = json_object_get(o, "media_type");
	const json_t *sha = json_object_get(o, "sha256"), *size = json_object_get(o, "size");
	if (!json_is_string(name) || !json_is_string(mt))
		return fail(c, EDU_EINVAL, "attachments[%zu]: name and media_type must be strings", idx);
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return fail(c, EDU_EINVAL, "attachments[%zu].size: must be a non-negative integer", idx);
	const char *ns = "", *ms = "";
	edu_err rv = get_text(c, "attachments[].name", name, &ns);
	if (rv == EDU_OK)
		rv = get_text(c, "attachments[].media_type", mt, &ms);
	if (rv == EDU_OK)
		rv = parse_sha(c, idx, sha, a->sha256);
	if (rv != EDU_OK)
		return rv;
	a->size = (uint64_t)json_integer_value(size);
	a->name = strdup(ns);
	a->media_type = strdup(ms);
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

static edu_err on_attachments(jctx *c, const char *key, const json_t *v)
{
	if (!json_is_array(v) && !json_is_null(v))
		return fail(c, EDU_EINVAL, "attachments: must be an array of objects");
	size_t n = json_array_size(v);
	if (n > EDU_ATTACH_MAX_COUNT)
		return fail(c, EDU_ETOOBIG, "attachments: more than %d", EDU_ATTACH_MAX_COUNT);
	edu_attachment *a = n ? calloc(n, sizeof *a) : NULL;
	if (n && a == NULL)
		return EDU_ENOMEM;
	edu_err rv = EDU_OK;
	for (size_t i = 0; i < n && rv == EDU_OK; i++)
		rv = parse_attachment(c, i, json_array_get(v, i), &a[i]);
	if (rv != EDU_OK) {
		free_atts(a, n);
		return rv;
	}
	free_atts(c->it->attachments, c->it->n_attachments);
	c->it->attachments = a;
	c->it->n_attachments = n;
	return EDU_OK;
}

typedef edu_err (*key_fn)(jctx *c, const char *key, const json_t *v);

static const struct key_rule {
	const char *key;
	size_t str_off; /* string field, when fn is NULL */
	key_fn fn;
} key_rules[] = {
	{"kind", 0, on_kind},
	{"title", offsetof(edu_item, title), NULL},
	{"summary", offsetof(edu_item, summary), NULL},
	{"body", offsetof(edu_item, body), NULL},
	{"tags", 0, on_tags},
	{"author", offsetof(edu_item, author), NULL},
	{"published", 0, on_published},
	{"updated", 0, on_updated},
	{"doc_number", offsetof(edu_item, doc_number), NULL},
	{"doc_date", offsetof(edu_item, doc_date), NULL},
	{"signer", offsetof(edu_item, signer), NULL},
	{"starts", 0, on_starts},
	{"ends", 0, on_ends},
	{"location", offsetof(edu_item, location), NULL},
	{"source_url", offsetof(edu_item, source_url), NULL},
	{"attachments", 0, on_attachments},
};

static edu_err apply_key(jctx *c, const char *key, const json_t *v)
{
	for (size_t i = 0; i < sizeof key_rules / sizeof key_rules[0]; i++) {
		const struct key_rule *r = &key_rules[i];
		if (strcmp(key, r->key) != 0)
			continue;
		if (r->fn)
			return r->fn(c, key, v);
		const char *s = "";
		edu_err rv = get_text(c, key, v, &s);
		return rv == EDU_OK ? set_owned((char **)((char *)c->it + r->str_off), s) : rv;
	}
	return fail(c, EDU_EINVAL, "unknown key \"%s\"", key);
}

edu_err edu_item_from_json(edu_item *it, const json_t *obj, char *why, size_t whylen)
{
	jctx c = {NULL, why, whylen, false};
	if (!json_is_object(obj))
		return fail(&c, EDU_EINVAL, "item: must be a JSON object");
	/* Work on a copy so a failure leaves *it untouched. */
	if ((c.it = edu_item_dup(it)) == NULL)
		return EDU_ENOMEM;
	/* published sets the offset whatever the key order. */
	const json_t *pub = json_object_get(obj, "published");
	edu_err rv = pub ? on_published(&c, "published", pub) : EDU_OK;
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)obj, key, v) {
		if (rv != EDU_OK)
			break;
		if (strcmp(key, "published") != 0)
			rv = apply_key(&c, key, v);
	}
	if (rv == EDU_OK) {
		edu_item tmp = *it;
		*it = *c.it;
		*c.it = tmp;
	}
	edu_item_free(c.it);
	return rv;
}
