/* Importing another portal's export (RSS 2.0, Atom 1.0, JSON Feed 1.1,
 * WordPress WXR) into edunet items: the parsers, the HTML → Markdown
 * allow-list converter, the date parsers, the kind mapping and the JSON
 * body each entry becomes. Pure functions over bytes: talking to a node
 * (idempotence, resume, uploads) is edunetctl's `import` command. */
#ifndef EDU_IMPORT_H
#define EDU_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/err.h"
#include "item/item.h"

#define EDU_IMPORT_INPUT_MAX (64u * 1024 * 1024) /* bytes of one export file */
#define EDU_IMPORT_ENTRIES_MAX 100000             /* entries of one export file */
#define EDU_IMPORT_HTML_DEPTH_MAX 64              /* nesting the converter follows; deeper is dropped */
#define EDU_IMPORT_ATTACH_MAX 50                  /* attachments listed per entry */
#define EDU_IMPORT_MAPS_MAX 64                    /* --map rules */
#define EDU_IMPORT_KEY_MAX 2000                   /* bytes of a source key (guid, id, link) */
#define EDU_IMPORT_TAG_PREFIX "import:"           /* tag carrying the hashed source key */
#define EDU_IMPORT_TAG_LEN 24                     /* "import:" + 16 hex + NUL */

typedef enum edu_import_format {
	EDU_IMPORT_NONE = 0,
	EDU_IMPORT_RSS,
	EDU_IMPORT_ATOM,
	EDU_IMPORT_JSONFEED,
	EDU_IMPORT_WXR,
} edu_import_format;

/* "rss" | "atom" | "jsonfeed" | "wxr"; EDU_IMPORT_NONE otherwise. */
edu_import_format edu_import_format_parse(const char *s);

/* One --map rule: a category (or "@post", "@page": a WXR post type) → kind.
 * Categories match case-insensitively after NFC. */
typedef struct edu_import_map {
	const char *category;
	edu_kind kind;
} edu_import_map;

/* "category=kind" → rule (strings borrowed from s's copy in *cat_out, which
 * the caller frees). */
edu_err edu_import_map_parse(const char *s, edu_import_map *out, char **cat_out, char *why, size_t whylen);

typedef struct edu_import_opts {
	const char *encoding;        /* NULL: as declared (BOM, XML declaration); else e.g. "windows-1258" */
	const edu_import_map *maps;  /* operator's rules, tried before the defaults */
	size_t n_maps;
	int default_tz_min;          /* for zone-less dates (WXR local post_date): EDU_TZ_VN_MIN */
} edu_import_opts;

typedef struct edu_import_attachment {
	char *url;        /* old URL as found in the source */
	char *name;       /* file name (from the URL's last path segment, or a title) */
	char *media_type; /* "" when unknown */
	uint64_t size;    /* 0 when unknown */
} edu_import_attachment;

/* One source entry. All strings are owned, NUL-terminated NFC UTF-8, never NULL. */
typedef struct edu_import_entry {
	size_t index;        /* position in the source, from 0 */
	char *key;           /* "guid:…", "id:…", "link:…" or "hash:<sha256>" */
	char tag[EDU_IMPORT_TAG_LEN]; /* "import:" + first 16 hex of sha256(key) */
	char *title, *summary;
	char *body;          /* sanitized Markdown, attachments list included */
	char *author;
	char *link;          /* old URL kept as source_url ("" when none is usable) */
	edu_kind kind;
	char **tags;
	size_t n_tags;
	int64_t published, updated; /* Unix seconds; 0 = absent */
	int tz_min;                 /* offset of published (else updated) */
	edu_import_attachment *atts;
	size_t n_atts;
	const char *skip;    /* static reason not to import ("draft", "trash", …), or NULL */
	char *fail;          /* why the entry cannot be imported, or NULL */
} edu_import_entry;

typedef struct edu_import_feed {
	edu_import_entry *entries;
	size_t n;
	bool recovered;      /* the XML was broken and parsed in recovery mode */
	size_t n_wxr_attachments; /* WXR attachment posts folded into their parents */
} edu_import_feed;

/* Parses an export. Errors that spoil the whole file (not XML, not the
 * format asked for, too big) fail with a reason; a bad entry gets e->fail. */
edu_err edu_import_parse(edu_import_feed **out, edu_import_format f, const char *data, size_t len,
                         const edu_import_opts *o, char *why, size_t whylen);
void edu_import_feed_free(edu_import_feed *feed); /* accepts NULL */

/* HTML → Markdown through an allow-list (see import_html.c). *out is
 * malloc'd NUL-terminated NFC text, caller frees. */
edu_err edu_import_html_to_md(const char *html, size_t len, char **out);
/* HTML → plain text (titles, summaries): tags gone, whitespace collapsed. */
edu_err edu_import_html_to_text(const char *html, size_t len, char **out);
/* Plain text → Markdown paragraphs with every significant character escaped. */
edu_err edu_import_text_to_md(const char *text, size_t len, char **out);
/* True for http:, https:, mailto: (when mail) and scheme-less relative URLs,
 * after dropping whitespace and control characters browsers ignore. */
bool edu_import_url_ok(const char *url, bool mail);

/* RFC 822/1123 (RSS: "Tue, 05 Mar 2024 08:30:00 +0700", GMT/UT/Z/ICT/…),
 * RFC 3339 and WXR "2024-03-05 08:30:00" (at default_tz_min). */
edu_err edu_import_parse_date(const char *s, int default_tz_min, int64_t *unix_s, int *tz_min);

/* Kind for categories: operator rules first (exact), then the defaults by
 * substring ("thông báo" → announcement, "văn bản"/"công văn" → document,
 * "lịch" → event); dflt when nothing matches. */
edu_kind edu_import_kind_for(const char *const *cats, size_t n, const edu_import_map *maps, size_t n_maps,
                             edu_kind dflt);

/* The create/update JSON body of an entry (kind, title, summary, body,
 * author, tags + the import tag, published, updated, source_url, and
 * uploaded — an array of {name, media_type, size, sha256}, may be NULL).
 * Caller owns the result; NULL when out of memory. */
struct json_t;
struct json_t *edu_import_entry_json(const edu_import_entry *e, const struct json_t *uploaded);

#endif
