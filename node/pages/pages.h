/* The Vietnamese HTML portal (SPEC §5): pure renderers from items to HTML in
 * an edu_buf. No I/O here; node/http does routing, caching and headers.
 * Every string is HTML-escaped; bodies go through node/render (safe mode).
 * Pages use no inline script or style (served with a strict CSP) and link
 * /static/style.css. */
#ifndef EDU_PAGES_H
#define EDU_PAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/buf.h"
#include "core/err.h"
#include "item/item.h"

typedef struct edu_pages_unit {
	const char *id;
	const char *name;
} edu_pages_unit;

/* One attachment of a directive (no bytes). */
typedef struct edu_pages_dir_file {
	const char *name;
	const char *media_type;
	uint64_t size;
} edu_pages_dir_file;

/* A directive ("Văn bản chỉ đạo", node/directive) as the pages show it. All
 * strings may be NULL and are shown escaped; body is Markdown and only goes
 * through edu_render_markdown. Times are Unix seconds (0: none), shown at
 * tz_offset_min. */
typedef struct edu_pages_dir {
	const char *id;           /* "<issuer>:d<seq>" */
	const char *issuer, *issuer_name;
	const char *title, *doc_number, *doc_date, *signer;
	int64_t published;
	int64_t deadline;
	bool report_requested;
	bool sent;                /* issued by this node (else received) */
	const char *const *aud_types; /* audience as issued: unit types and units */
	size_t n_aud_types;
	const char *const *aud_units;
	size_t n_aud_units;
	size_t n_targets;         /* units the audience expanded to */
	const char *body;         /* detail page only */
	const edu_pages_dir_file *files; /* detail page only; linked as /d/{id}/a/{n} */
	size_t n_files;
	int tz_offset_min;
} edu_pages_dir;

typedef struct edu_pages_ctx {
	const char *node_id;
	const char *node_name;   /* e.g. "Sở GDĐT Đồng Tháp" */
	const char *role;        /* school | phong | so */
	/* Display name of any unit (registry, then item->unit_name, then id). May be NULL. */
	const char *(*unit_name)(const char *unit, void *arg);
	void *arg;
	/* Units offered in the home page's unit filter (the subtree); may be empty. */
	const edu_pages_unit *units;
	size_t n_units;
	/* Directives for the home page's "Văn bản chỉ đạo" section, newest first
	 * (the section appears only when n_dirs > 0). */
	const edu_pages_dir *dirs;
	size_t n_dirs;
} edu_pages_ctx;

/* GET /: newest items of the subtree, one section per kind (index = edu_kind,
 * 1..4), with a unit filter form; unit_filter is "" or the selected unit. */
edu_err edu_pages_home(const edu_pages_ctx *c, edu_item *const *const by_kind[EDU_KIND_COUNT],
    const size_t n_by_kind[EDU_KIND_COUNT], const char *unit_filter, edu_buf *out);
/* GET /u/{unit}: one unit's (subtree's) items, newest first; next_cursor NULL when last page. */
edu_err edu_pages_unit_page(const edu_pages_ctx *c, const char *unit, edu_item *const *items, size_t n,
    const char *next_cursor, edu_buf *out);
/* GET /i/{id}: one item with its rendered body, metadata and attachment links
 * (/i/{id}/a/{n}, n = 0-based index into it->attachments). A tombstone shows
 * only "Tin này đã bị gỡ" with its id, version and unit. */
edu_err edu_pages_item(const edu_pages_ctx *c, const edu_item *it, edu_buf *out);
/* GET /search?q=: results (may be empty); q as typed. */
edu_err edu_pages_search(const edu_pages_ctx *c, const char *q, edu_item *const *items, size_t n,
    const char *next_cursor, edu_buf *out);
/* GET /d: the directives sent from or received at this node, newest first. */
edu_err edu_pages_directives(const edu_pages_ctx *c, const edu_pages_dir *dirs, size_t n, edu_buf *out);
/* GET /d/{id}: one directive with its rendered body and attachment links. */
edu_err edu_pages_directive(const edu_pages_ctx *c, const edu_pages_dir *d, edu_buf *out);
/* Error page (404, 400, ...) in Vietnamese. */
edu_err edu_pages_error(const edu_pages_ctx *c, int status, const char *message, edu_buf *out);
/* The stylesheet served at /static/style.css (static storage). */
const char *edu_pages_css(size_t *len);

#endif
