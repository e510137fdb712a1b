/* The item model: lifecycle, ids, validation and the protobuf codecs.
 * The Record format version is decided here and only here (STYLE §11). */
#include "item.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "item.pb-c.h"
#include "text/text.h"

/* Every owned single string of edu_item, for dup/free/normalize. */
static const size_t str_fields[] = {
	offsetof(edu_item, unit), offsetof(edu_item, title), offsetof(edu_item, summary),
	offsetof(edu_item, body), offsetof(edu_item, author), offsetof(edu_item, doc_number),
	offsetof(edu_item, doc_date), offsetof(edu_item, signer), offsetof(edu_item, location),
	offsetof(edu_item, unit_name), offsetof(edu_item, source_url),
};
#define N_STR_FIELDS (sizeof str_fields / sizeof str_fields[0])

static char **field(edu_item *it, size_t off) { return (char **)((char *)it + off); }
static const char *cfield(const edu_item *it, size_t off)
{
	const char *s = *(char *const *)((const char *)it + off);
	return s ? s : "";
}

/* ---- kinds ---- */

static const char *const kind_names[EDU_KIND_COUNT] = {"", "news", "announcement", "document", "event"};
static const char *const kind_labels[EDU_KIND_COUNT] = {"", "Tin tức", "Thông báo", "Văn bản",
    "Lịch công tác"};

const char *edu_kind_name(edu_kind k)
{
	return (unsigned)k < EDU_KIND_COUNT ? kind_names[k] : "";
}

const char *edu_kind_label_vi(edu_kind k)
{
	return (unsigned)k < EDU_KIND_COUNT ? kind_labels[k] : "";
}

edu_kind edu_kind_parse(const char *s)
{
	if (s == NULL || *s == '\0')
		return EDU_KIND_NONE;
	for (int k = 1; k < EDU_KIND_COUNT; k++)
		if (strcmp(s, kind_names[k]) == 0)
			return (edu_kind)k;
	return EDU_KIND_NONE;
}

/* ---- ids ---- */

edu_err edu_item_id_parse(const char *id, char unit_out[EDU_UNIT_ID_MAX + 1], uint64_t *seq)
{
	if (id == NULL)
		return EDU_EINVAL;
	const char *colon = strchr(id, ':');
	if (colon == NULL || colon - id > EDU_UNIT_ID_MAX)
		return EDU_EINVAL;
	char unit[EDU_UNIT_ID_MAX + 1];
	memcpy(unit, id, (size_t)(colon - id));
	unit[colon - id] = '\0';
	if (!edu_unit_id_valid(unit))
		return EDU_EINVAL;
	/* Canonical decimal only: one spelling per item ("x:01" is not "x:1"). */
	const char *d = colon + 1;
	if (*d < '1' || *d > '9')
		return EDU_EINVAL;
	uint64_t v = 0;
	for (; *d; d++) {
		if (*d < '0' || *d > '9')
			return EDU_EINVAL;
		unsigned digit = (unsigned)(*d - '0');
		if (v > (UINT64_MAX - digit) / 10)
			return EDU_EINVAL;
		v = v * 10 + digit;
	}
	memcpy(unit_out, unit, sizeof unit);
	*seq = v;
	return EDU_OK;
}

void edu_item_id_format(char out[EDU_ITEM_ID_MAX], const char *unit, uint64_t seq)
{
	snprintf(out, EDU_ITEM_ID_MAX, "%s:%" PRIu64, unit ? unit : "", seq);
}

/* ---- lifecycle ---- */

static void free_attachments(edu_attachment *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++) {
		free(a[i].name);
		free(a[i].media_type);
	}
	free(a);
}

static void free_tags(char **tags, size_t n)
{
	for (size_t i = 0; tags && i < n; i++)
		free(tags[i]);
	free(tags);
}

void edu_item_free(edu_item *it)
{
	if (it == NULL)
		return;
	for (size_t i = 0; i < N_STR_FIELDS; i++)
		free(*field(it, str_fields[i]));
	free_tags(it->tags, it->n_tags);
	free_attachments(it->attachments, it->n_attachments);
	free(it);
}

edu_item *edu_item_new(void)
{
	edu_item *it = calloc(1, sizeof *it);
	if (it == NULL)
		return NULL;
	for (size_t i = 0; i < N_STR_FIELDS; i++) {
		if ((*field(it, str_fields[i]) = strdup("")) == NULL) {
			edu_item_free(it);
			return NULL;
		}
	}
	return it;
}

static char *dup_or_empty(const char *s) { return strdup(s ? s : ""); }

/* Deep-copies tags and attachments of src into dst (whose arrays are empty). */
static edu_err dup_arrays(edu_item *dst, const edu_item *src)
{
	if (src->n_tags) {
		if ((dst->tags = calloc(src->n_tags, sizeof *dst->tags)) == NULL)
			return EDU_ENOMEM;
		for (; dst->n_tags < src->n_tags; dst->n_tags++)
			if ((dst->tags[dst->n_tags] = dup_or_empty(src->tags[dst->n_tags])) == NULL)
				return EDU_ENOMEM;
	}
	if (src->n_attachments) {
		dst->attachments = calloc(src->n_attachments, sizeof *dst->attachments);
		if (dst->attachments == NULL)
			return EDU_ENOMEM;
		for (; dst->n_attachments < src->n_attachments; dst->n_attachments++) {
			const edu_attachment *s = &src->attachments[dst->n_attachments];
			edu_attachment *d = &dst->attachments[dst->n_attachments];
			*d = *s;
			d->name = dup_or_empty(s->name);
			d->media_type = dup_or_empty(s->media_type);
			if (d->name == NULL || d->media_type == NULL) {
				dst->n_attachments++; /* so free sees the half-built entry */
				return EDU_ENOMEM;
			}
		}
	}
	return EDU_OK;
}

edu_item *edu_item_dup(const edu_item *src)
{
	if (src == NULL)
		return NULL;
	edu_item *it = calloc(1, sizeof *it);
	if (it == NULL)
		return NULL;
	*it = *src;
	for (size_t i = 0; i < N_STR_FIELDS; i++)
		*field(it, str_fields[i]) = NULL;
	it->tags = NULL;
	it->n_tags = 0;
	it->attachments = NULL;
	it->n_attachments = 0;
	for (size_t i = 0; i < N_STR_FIELDS; i++) {
		if ((*field(it, str_fields[i]) = strdup(cfield(src, str_fields[i]))) == NULL)
			goto fail;
	}
	if (dup_arrays(it, src) != EDU_OK)
		goto fail;
	return it;
fail:
	edu_item_free(it);
	return NULL;
}

/* ---- normalization ---- */

static edu_err nfc_in_place(char **s)
{
	if (*s && edu_text_is_nfc_quick(*s, strlen(*s)))
		return EDU_OK; /* the usual case: valid and NFC already, no copy */
	const char *cur = *s ? *s : "";
	char *n = NULL;
	edu_err rv = edu_text_nfc(cur, strlen(cur), &n);
	if (rv != EDU_OK)
		return rv;
	free(*s);
	*s = n;
	return EDU_OK;
}

/* Line breaks in multi-line text are stored as LF: CRLF and lone CR (from
 * Windows clients and old portals) become LF, so no CR ever reaches storage. */
static void lf_in_place(char *s)
{
	char *w = s ? strchr(s, '\r') : NULL; /* most text has none: nothing to rewrite */
	for (const char *r = w; r && *r; r++) {
		if (*r == '\r') {
			*w++ = '\n';
			if (r[1] == '\n')
				r++;
		} else {
			*w++ = *r;
		}
	}
	if (w)
		*w = '\0';
}

edu_err edu_item_normalize(edu_item *it)
{
	edu_err rv = EDU_OK;
	lf_in_place(it->summary);
	lf_in_place(it->body);
	for (size_t i = 0; i < N_STR_FIELDS && rv == EDU_OK; i++)
		rv = nfc_in_place(field(it, str_fields[i]));
	for (size_t i = 0; i < it->n_tags && rv == EDU_OK; i++)
		rv = nfc_in_place(&it->tags[i]);
	for (size_t i = 0; i < it->n_attachments && rv == EDU_OK; i++) {
		rv = nfc_in_place(&it->attachments[i].name);
		if (rv == EDU_OK)
			rv = nfc_in_place(&it->attachments[i].media_type);
	}
	return rv;
}

/* ---- protobuf view ---- */

/* A protobuf view of an item: points into the item's strings, owns nothing
 * but the attachment pointer array (bounded by EDU_ATTACH_MAX_COUNT). */
typedef struct pb_view {
	Edunet__Item msg;
	Edunet__Attachment att[EDU_ATTACH_MAX_COUNT];
	Edunet__Attachment *attp[EDU_ATTACH_MAX_COUNT];
} pb_view;

static char *pbs(const char *s) { return (char *)(s ? s : ""); }

static edu_err view_init(pb_view *v, const edu_item *it)
{
	if (it->n_attachments > EDU_ATTACH_MAX_COUNT || it->n_tags > EDU_TAGS_MAX)
		return EDU_ETOOBIG;
	Edunet__Item *m = &v->msg;
	edunet__item__init(m);
	m->unit = pbs(it->unit);
	m->seq = it->seq;
	m->version = it->version;
	m->kind = (Edunet__Kind)it->kind;
	m->deleted = it->deleted;
	m->title = pbs(it->title);
	m->summary = pbs(it->summary);
	m->body = pbs(it->body);
	m->n_tags = it->n_tags;
	m->tags = it->tags;
	for (size_t i = 0; i < it->n_tags; i++)
		if (it->tags[i] == NULL)
			return EDU_EINVAL;
	m->author = pbs(it->author);
	m->published = it->published;
	m->updated = it->updated;
	m->tz_offset_min = it->tz_offset_min;
	for (size_t i = 0; i < it->n_attachments; i++) {
		const edu_attachment *a = &it->attachments[i];
		edunet__attachment__init(&v->att[i]);
		v->att[i].name = pbs(a->name);
		v->att[i].media_type = pbs(a->media_type);
		v->att[i].size = a->size;
		v->att[i].sha256.data = (uint8_t *)a->sha256;
		v->att[i].sha256.len = sizeof a->sha256;
		v->attp[i] = &v->att[i];
	}
	m->n_attachments = it->n_attachments;
	m->attachments = it->n_attachments ? v->attp : NULL;
	m->doc_number = pbs(it->doc_number);
	m->doc_date = pbs(it->doc_date);
	m->signer = pbs(it->signer);
	m->starts = it->starts;
	m->ends = it->ends;
	m->location = pbs(it->location);
	m->unit_name = pbs(it->unit_name);
	m->source_url = pbs(it->source_url);
	return EDU_OK;
}

static edu_err packed_size(const edu_item *it, size_t *len)
{
	pb_view v;
	edu_err rv = view_init(&v, it);
	if (rv == EDU_OK)
		*len = edunet__item__get_packed_size(&v.msg);
	return rv;
}

/* ---- validation ---- */

/* Writes the reason and yields rv: `return fail(why, len, EDU_EINVAL, "...", ...);` */
#define fail(why, whylen, rv, ...) (edu_whyf((why), (whylen), __VA_ARGS__), (rv))

enum { CHARS, BYTES };
enum { ONE_LINE, MULTI_LINE };

static edu_err check_str(const char *name, const char *s, size_t max, int unit, int lines,
    char *why, size_t whylen)
{
	size_t len = strlen(s), chars = 0;
	bool ctl = false;
	if (edu_text_check(s, len, lines == MULTI_LINE, &chars, &ctl) != EDU_OK)
		return fail(why, whylen, EDU_EINVAL, ctl ? "%s: contains control characters" : "%s: invalid UTF-8",
		    name);
	size_t n = unit == BYTES ? len : chars;
	if (n > max)
		return fail(why, whylen, EDU_ETOOBIG, "%s: longer than %zu %s", name, max,
		    unit == BYTES ? "bytes" : "characters");
	return EDU_OK;
}

static const struct str_rule {
	const char *name;
	size_t off;
	size_t max;
	int unit, lines;
} str_rules[] = {
	{"title", offsetof(edu_item, title), EDU_TITLE_MAX, CHARS, ONE_LINE},
	{"summary", offsetof(edu_item, summary), EDU_SUMMARY_MAX, CHARS, MULTI_LINE},
	{"body", offsetof(edu_item, body), EDU_BODY_MAX, BYTES, MULTI_LINE},
	{"author", offsetof(edu_item, author), EDU_SHORT_MAX, CHARS, ONE_LINE},
	{"doc_number", offsetof(edu_item, doc_number), EDU_SHORT_MAX, CHARS, ONE_LINE},
	{"doc_date", offsetof(edu_item, doc_date), 10, BYTES, ONE_LINE},
	{"signer", offsetof(edu_item, signer), EDU_SHORT_MAX, CHARS, ONE_LINE},
	{"location", offsetof(edu_item, location), EDU_SHORT_MAX, CHARS, ONE_LINE},
	{"unit_name", offsetof(edu_item, unit_name), EDU_SHORT_MAX, CHARS, ONE_LINE},
	{"source_url", offsetof(edu_item, source_url), EDU_URL_MAX, BYTES, ONE_LINE},
};

static bool date_valid(const char *s)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return false;
	int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	return !(m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}

/* RFC 6838 restricted-name characters. */
static bool mt_char(char c)
{
	return isalnum((unsigned char)c) || strchr("!#$&-^_.+", c) != NULL;
}

/* "type/subtype" with optional "; params" of printable ASCII. */
static bool media_type_valid(const char *s)
{
	size_t i = 0, t = 0, st = 0;
	while (s[i] && mt_char(s[i]))
		i++, t++;
	if (t == 0 || s[i] != '/')
		return false;
	i++;
	while (s[i] && mt_char(s[i]))
		i++, st++;
	if (st == 0)
		return false;
	if (s[i] == '\0')
		return true;
	if (s[i] != ';')
		return false;
	for (; s[i]; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

static edu_err check_attachments(const edu_item *it, char *why, size_t whylen)
{
	if (it->n_attachments > EDU_ATTACH_MAX_COUNT)
		return fail(why, whylen, EDU_ETOOBIG, "attachments: more than %d", EDU_ATTACH_MAX_COUNT);
	uint64_t total = 0;
	for (size_t i = 0; i < it->n_attachments; i++) {
		const edu_attachment *a = &it->attachments[i];
		const char *name = a->name ? a->name : "", *mt = a->media_type ? a->media_type : "";
		char label[48];
		snprintf(label, sizeof label, "attachments[%zu].name", i);
		edu_err rv = check_str(label, name, EDU_ATTACH_NAME_MAX, CHARS, ONE_LINE, why, whylen);
		if (rv != EDU_OK)
			return rv;
		if (*name == '\0' || strpbrk(name, "/\\") || !strcmp(name, ".") || !strcmp(name, ".."))
			return fail(why, whylen, EDU_EINVAL,
			    "%s: must be a plain file name (no '/' or '\\')", label);
		if (strlen(mt) > EDU_ATTACH_NAME_MAX || !media_type_valid(mt))
			return fail(why, whylen, EDU_EINVAL,
			    "attachments[%zu].media_type: not a media type like type/subtype", i);
		if (a->size > EDU_ATTACH_MAX)
			return fail(why, whylen, EDU_ETOOBIG, "attachments[%zu].size: over %u bytes", i,
			    EDU_ATTACH_MAX);
		total += a->size;
	}
	if (total > EDU_ATTACH_TOTAL_MAX)
		return fail(why, whylen, EDU_ETOOBIG, "attachments: %" PRIu64 " bytes in all, over %u",
		    total, EDU_ATTACH_TOTAL_MAX);
	return EDU_OK;
}

static edu_err check_tags(const edu_item *it, char *why, size_t whylen)
{
	if (it->n_tags > EDU_TAGS_MAX)
		return fail(why, whylen, EDU_ETOOBIG, "tags: more than %d", EDU_TAGS_MAX);
	for (size_t i = 0; i < it->n_tags; i++) {
		char label[32];
		snprintf(label, sizeof label, "tags[%zu]", i);
		const char *t = it->tags[i] ? it->tags[i] : "";
		if (*t == '\0')
			return fail(why, whylen, EDU_EINVAL, "%s: empty tag", label);
		edu_err rv = check_str(label, t, EDU_SHORT_MAX, CHARS, ONE_LINE, why, whylen);
		if (rv != EDU_OK)
			return rv;
	}
	return EDU_OK;
}

static bool time_ok(int64_t t) { return t >= 0 && t <= EDU_TIME_MAX; }

static edu_err check_header(const edu_item *it, char *why, size_t whylen)
{
	if (!edu_unit_id_valid(it->unit))
		return fail(why, whylen, EDU_EINVAL, "unit: not a unit id ([a-z0-9-]{2,40})");
	if (it->seq < 1)
		return fail(why, whylen, EDU_EINVAL, "seq: must be >= 1");
	if (it->version < 1)
		return fail(why, whylen, EDU_EINVAL, "version: must be >= 1");
	if (it->kind < EDU_KIND_NEWS || it->kind > EDU_KIND_EVENT)
		return fail(why, whylen, EDU_EINVAL, "kind: must be news, announcement, document or event");
	if (it->tz_offset_min < -EDU_TZ_MAX_MIN || it->tz_offset_min > EDU_TZ_MAX_MIN)
		return fail(why, whylen, EDU_EINVAL, "tz_offset_min: out of range");
	if (!time_ok(it->published) || !time_ok(it->updated) || !time_ok(it->starts) ||
	    !time_ok(it->ends))
		return fail(why, whylen, EDU_EINVAL, "times: must lie between 1970 and 9999");
	if (it->starts && it->ends && it->ends < it->starts)
		return fail(why, whylen, EDU_EINVAL, "ends: before starts");
	return EDU_OK;
}

edu_err edu_item_validate(const edu_item *it, char *why, size_t whylen)
{
	if (it == NULL)
		return fail(why, whylen, EDU_EINVAL, "no item");
	edu_err rv = check_header(it, why, whylen);
	for (size_t i = 0; rv == EDU_OK && i < sizeof str_rules / sizeof str_rules[0]; i++) {
		const struct str_rule *r = &str_rules[i];
		rv = check_str(r->name, cfield(it, r->off), r->max, r->unit, r->lines, why, whylen);
	}
	if (rv != EDU_OK)
		return rv;
	if (!it->deleted && (it->title == NULL || it->title[0] == '\0'))
		return fail(why, whylen, EDU_EINVAL, "title: must not be empty");
	if (it->doc_date && it->doc_date[0] && !date_valid(it->doc_date))
		return fail(why, whylen, EDU_EINVAL, "doc_date: must be a date YYYY-MM-DD");
	const char *u = it->source_url ? it->source_url : "";
	if (*u && strncasecmp(u, "http://", 7) && strncasecmp(u, "https://", 8) && *u != '/')
		return fail(why, whylen, EDU_EINVAL, "source_url: must be an http(s) URL or a path");
	if ((rv = check_tags(it, why, whylen)) != EDU_OK ||
	    (rv = check_attachments(it, why, whylen)) != EDU_OK)
		return rv;
	size_t packed = 0;
	if ((rv = packed_size(it, &packed)) != EDU_OK)
		return fail(why, whylen, rv, "item: malformed");
	if (packed > EDU_ITEM_BYTES_MAX)
		return fail(why, whylen, EDU_ETOOBIG, "item: %zu bytes encoded, over %d", packed,
		    EDU_ITEM_BYTES_MAX);
	return EDU_OK;
}

/* ---- protobuf codecs ---- */

edu_err edu_item_encode(const edu_item *it, uint8_t **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	pb_view v;
	edu_err rv = view_init(&v, it);
	if (rv != EDU_OK)
		return rv;
	size_t n = edunet__item__get_packed_size(&v.msg);
	if (n > EDU_ITEM_BYTES_MAX)
		return EDU_ETOOBIG;
	uint8_t *buf = malloc(n ? n : 1);
	if (buf == NULL)
		return EDU_ENOMEM;
	edunet__item__pack(&v.msg, buf);
	*out = buf;
	*len = n;
	return EDU_OK;
}

static char *take_str(char *s) { return strdup(s ? s : ""); }

static edu_err from_pb_arrays(edu_item *it, const Edunet__Item *m, char *why, size_t whylen)
{
	if (m->n_tags > EDU_TAGS_MAX || m->n_attachments > EDU_ATTACH_MAX_COUNT)
		return fail(why, whylen, EDU_ETOOBIG, "too many tags or attachments");
	if (m->n_tags && (it->tags = calloc(m->n_tags, sizeof *it->tags)) == NULL)
		return EDU_ENOMEM;
	for (; it->n_tags < m->n_tags; it->n_tags++)
		if ((it->tags[it->n_tags] = take_str(m->tags[it->n_tags])) == NULL)
			return EDU_ENOMEM;
	if (m->n_attachments &&
	    (it->attachments = calloc(m->n_attachments, sizeof *it->attachments)) == NULL)
		return EDU_ENOMEM;
	for (; it->n_attachments < m->n_attachments; it->n_attachments++) {
		const Edunet__Attachment *s = m->attachments[it->n_attachments];
		edu_attachment *d = &it->attachments[it->n_attachments];
		if (s->sha256.len != sizeof d->sha256)
			return fail(why, whylen, EDU_EINVAL, "attachments[%zu].sha256: not 32 bytes",
			    it->n_attachments);
		memcpy(d->sha256, s->sha256.data, sizeof d->sha256);
		d->size = s->size;
		d->name = take_str(s->name);
		d->media_type = take_str(s->media_type);
		if (d->name == NULL || d->media_type == NULL) {
			it->n_attachments++;
			return EDU_ENOMEM;
		}
	}
	return EDU_OK;
}

static edu_err from_pb(edu_item *it, const Edunet__Item *m, char *why, size_t whylen)
{
	const char *src[N_STR_FIELDS] = {m->unit, m->title, m->summary, m->body, m->author,
	    m->doc_number, m->doc_date, m->signer, m->location, m->unit_name, m->source_url};
	for (size_t i = 0; i < N_STR_FIELDS; i++) {
		char **f = field(it, str_fields[i]);
		free(*f);
		if ((*f = take_str((char *)src[i])) == NULL)
			return EDU_ENOMEM;
	}
	it->seq = m->seq;
	it->version = m->version;
	it->kind = (edu_kind)m->kind;
	it->deleted = m->deleted;
	it->published = m->published;
	it->updated = m->updated;
	it->tz_offset_min = m->tz_offset_min;
	it->starts = m->starts;
	it->ends = m->ends;
	return from_pb_arrays(it, m, why, whylen);
}

edu_err edu_item_decode_why(const uint8_t *buf, size_t len, edu_item **out, char *why, size_t whylen)
{
	*out = NULL;
	if (len > EDU_ITEM_BYTES_MAX)
		return fail(why, whylen, EDU_ETOOBIG, "item: %zu bytes, over %d", len, EDU_ITEM_BYTES_MAX);
	Edunet__Item *m = edunet__item__unpack(NULL, len, buf);
	if (m == NULL)
		return fail(why, whylen, EDU_EINVAL, "item: not a valid protobuf Item");
	edu_item *it = NULL;
	edu_err rv = EDU_OK;
	/* protobuf-c cuts strings at an embedded NUL; the packed size then
	 * shrinks, so a size mismatch also catches NULs inside strings. */
	if (edunet__item__get_packed_size(m) != len) {
		rv = fail(why, whylen, EDU_EINVAL, "item: not canonically encoded (NUL in a string?)");
		goto out;
	}
	if ((it = edu_item_new()) == NULL) {
		rv = EDU_ENOMEM;
		goto out;
	}
	if ((rv = from_pb(it, m, why, whylen)) != EDU_OK)
		goto out;
	if ((rv = edu_item_validate(it, why, whylen)) != EDU_OK)
		goto out;
	*out = it;
	it = NULL;
out:
	edu_item_free(it);
	edunet__item__free_unpacked(m, NULL);
	return rv;
}

edu_err edu_item_decode(const uint8_t *buf, size_t len, edu_item **out)
{
	return edu_item_decode_why(buf, len, out, NULL, 0);
}

/* ---- records ---- */

edu_err edu_record_encode(const edu_record *r, uint8_t **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	if (r->item_len > EDU_ITEM_BYTES_MAX || (r->item_len && r->item == NULL))
		return EDU_ETOOBIG;
	Edunet__Record m;
	edunet__record__init(&m);
	m.format = EDU_RECORD_FORMAT;
	m.item.data = r->item;
	m.item.len = r->item_len;
	if (r->has_sig) {
		m.signature.data = (uint8_t *)r->sig;
		m.signature.len = sizeof r->sig;
	}
	m.received_ms = r->received_ms;
	size_t n = edunet__record__get_packed_size(&m);
	if (n > EDU_RECORD_MAX)
		return EDU_ETOOBIG;
	uint8_t *buf = malloc(n ? n : 1);
	if (buf == NULL)
		return EDU_ENOMEM;
	edunet__record__pack(&m, buf);
	*out = buf;
	*len = n;
	return EDU_OK;
}

edu_err edu_record_decode(const uint8_t *buf, size_t len, edu_record *out)
{
	edu_record_ref ref;
	memset(out, 0, sizeof *out);
	edu_err rv = edu_record_view(buf, len, &ref);
	if (rv != EDU_OK)
		return rv;
	if ((out->item = malloc(ref.item_len)) == NULL)
		return EDU_ENOMEM;
	memcpy(out->item, ref.item, ref.item_len);
	out->item_len = ref.item_len;
	out->has_sig = ref.sig_len == sizeof out->sig;
	if (out->has_sig)
		memcpy(out->sig, ref.sig, sizeof out->sig);
	out->received_ms = ref.received_ms;
	return EDU_OK;
}

void edu_record_clear(edu_record *r)
{
	if (r == NULL)
		return;
	free(r->item);
	r->item = NULL;
	r->item_len = 0;
}
