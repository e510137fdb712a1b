/* The item model (SPEC §2): a plain C struct with owned strings, its limits,
 * its validation, and its codecs (protobuf Record/Item, JSON). */
#ifndef EDU_ITEM_H
#define EDU_ITEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../core/err.h"
#include "../core/unitid.h"

#define EDU_RECORD_FORMAT 1      /* Record.format this build writes and reads */
#define EDU_ITEM_ID_MAX 64       /* "<unit>:<seq>" */
#define EDU_TITLE_MAX 300        /* characters (code points) */
#define EDU_SUMMARY_MAX 1000     /* characters */
#define EDU_BODY_MAX (256 * 1024) /* bytes */
#define EDU_SHORT_MAX 200        /* author, signer, doc_number, location, tag, unit_name: characters */
#define EDU_URL_MAX 2000         /* bytes */
#define EDU_TAGS_MAX 32
#define EDU_ATTACH_MAX_COUNT 20
#define EDU_ATTACH_MAX (10u * 1024 * 1024)       /* per attachment */
#define EDU_ATTACH_TOTAL_MAX (20u * 1024 * 1024) /* per item */
#define EDU_RECORD_MAX (EDU_BODY_MAX + 64 * 1024) /* an encoded Record without blobs */
#define EDU_ITEM_BYTES_MAX (EDU_RECORD_MAX - 256) /* an encoded Item: leaves room for the Record around it */
#define EDU_TIME_MAX INT64_C(253402300799)      /* 9999-12-31T23:59:59Z: latest valid item time */
#define EDU_TZ_MAX_MIN (23 * 60 + 59)           /* |tz_offset_min| bound (RFC 3339 ±HH:MM) */
#define EDU_ATTACH_NAME_MAX EDU_SHORT_MAX       /* attachment name and media type: characters */

typedef enum edu_kind {
	EDU_KIND_NONE = 0,
	EDU_KIND_NEWS = 1,
	EDU_KIND_ANNOUNCEMENT = 2,
	EDU_KIND_DOCUMENT = 3,
	EDU_KIND_EVENT = 4,
} edu_kind;
#define EDU_KIND_COUNT 5

typedef struct edu_attachment {
	char *name;
	char *media_type;
	uint64_t size;
	uint8_t sha256[32];
} edu_attachment;

/* All strings are owned by the item, NUL-terminated UTF-8 in NFC, never NULL
 * after decode (empty string when absent). */
typedef struct edu_item {
	char *unit;
	uint64_t seq;
	uint32_t version;
	edu_kind kind;
	bool deleted;
	char *title;
	char *summary;
	char *body;
	char **tags;
	size_t n_tags;
	char *author;
	int64_t published; /* Unix seconds */
	int64_t updated;
	int tz_offset_min;
	edu_attachment *attachments;
	size_t n_attachments;
	char *doc_number, *doc_date, *signer;  /* document */
	int64_t starts, ends;                   /* event */
	char *location;
	char *unit_name;
	char *source_url;
	/* Not part of the signed item: filled by the store on read. */
	int64_t received_ms;
	bool signed_ok; /* record carried a signature that verified at this node */
} edu_item;

const char *edu_kind_name(edu_kind k);      /* "news", ...; "" for NONE */
const char *edu_kind_label_vi(edu_kind k);  /* "Tin tức", ... */
edu_kind edu_kind_parse(const char *s);     /* EDU_KIND_NONE when unknown */

/* "<unit>:<seq>" → parts; unit_out has room for EDU_UNIT_ID_MAX + 1. */
edu_err edu_item_id_parse(const char *id, char unit_out[EDU_UNIT_ID_MAX + 1], uint64_t *seq);
void edu_item_id_format(char out[EDU_ITEM_ID_MAX], const char *unit, uint64_t seq);

edu_item *edu_item_new(void);            /* all strings "" */
edu_item *edu_item_dup(const edu_item *it);
void edu_item_free(edu_item *it);        /* accepts NULL */

/* Checks every SPEC §2 rule (ids, lengths in characters, UTF-8, NUL, kinds,
 * attachment sizes, version >= 1). On failure writes a human reason. */
edu_err edu_item_validate(const edu_item *it, char *why, size_t whylen);
/* Normalizes every string to NFC in place (call before validate on input from users). */
edu_err edu_item_normalize(edu_item *it);

/* protobuf Item bytes. decode validates; the caller owns *out. */
edu_err edu_item_encode(const edu_item *it, uint8_t **out, size_t *len);
edu_err edu_item_decode(const uint8_t *buf, size_t len, edu_item **out);
/* Same, and writes a human reason on failure (why may be NULL). The decoded
 * item must re-encode to exactly len bytes: this rejects NULs hidden in
 * strings (protobuf-c cuts them off) and non-minimal varints. Field order and
 * unknown fields are not checked: signatures cover the bytes as received,
 * never a re-encoding, so they need not be canonical. */
edu_err edu_item_decode_why(const uint8_t *buf, size_t len, edu_item **out, char *why, size_t whylen);

/* A Record: the item's exact bytes + the origin's signature. */
typedef struct edu_record {
	uint8_t *item;      /* serialized Item (owned) */
	size_t item_len;
	uint8_t sig[64];
	bool has_sig;
	int64_t received_ms;
} edu_record;
edu_err edu_record_encode(const edu_record *r, uint8_t **out, size_t *len);
/* Checks format version and size limits; does not decode the inner item. */
edu_err edu_record_decode(const uint8_t *buf, size_t len, edu_record *out);
void edu_record_clear(edu_record *r); /* frees r->item */

/* A Record read in place: item and sig point into the caller's buffer. Same
 * checks as edu_record_decode (format, sizes); the item is not decoded. */
typedef struct edu_record_ref {
	const uint8_t *item;
	size_t item_len;
	const uint8_t *sig; /* NULL or 64 bytes */
	size_t sig_len;
	int64_t received_ms;
} edu_record_ref;
edu_err edu_record_view(const uint8_t *buf, size_t len, edu_record_ref *out);

/* An Item's identity read from its bytes without decoding it (no
 * allocation): for routing, ordering and the change log, never for
 * validation. false when buf is not well-formed protobuf or the unit field
 * is longer than a unit id (the unit itself is not validated here). */
typedef struct edu_item_head {
	char unit[EDU_UNIT_ID_MAX + 1];
	uint64_t seq;
	uint32_t version;
	bool deleted;
	size_t n_attachments;
} edu_item_head;
bool edu_item_peek(const uint8_t *buf, size_t len, edu_item_head *h);

/* JSON. to_json (jansson) gives the API shape: id, unit, unit_name, kind,
 * title, summary, body, tags, author, published, updated (RFC 3339), version,
 * deleted, attachments [{name, media_type, size, sha256 hex}], document/event
 * fields when set, source_url when set. Caller owns the returned json_t; NULL
 * when out of memory or a string is not valid UTF-8 (validated items always
 * are). */
struct json_t;
struct json_t *edu_item_to_json(const edu_item *it, bool with_body);

/* Input is parsed with cJSON: create and update bodies are the ingest hot
 * path, where jansson costs ~11 us a 1 KiB item and cJSON ~0.9 us.
 * edu_item_json_parse parses p[0..len) (not NUL-terminated) as one JSON value
 * into *out (caller frees with cJSON_Delete): EDU_EINVAL with why ("bad JSON
 * at line L column C...") when it is not valid UTF-8, contains a NUL byte or
 * the escape \u0000 (cJSON would cut the string there), is not JSON, or has
 * text after the value (cJSON reports running out of memory as bad JSON). */
struct cJSON;
edu_err edu_item_json_parse(const char *p, size_t len, struct cJSON **out, char *why, size_t whylen);
/* Fills the user-editable fields of *it from a JSON object (create/update
 * body) that came from edu_item_json_parse. Unknown and duplicate keys are
 * errors; lengths are checked by edu_item_validate afterwards. Only keys
 * present change the item (null clears a field); times are RFC 3339 strings
 * and "published" (else "updated") sets tz_offset_min. On failure *it is
 * unchanged and why names the key. */
edu_err edu_item_from_json(edu_item *it, const struct cJSON *obj, char *why, size_t whylen);
/* Both of the above on one text. */
edu_err edu_item_from_json_text(edu_item *it, const char *p, size_t len, char *why, size_t whylen);

#endif
