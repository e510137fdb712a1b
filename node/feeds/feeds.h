/* Atom 1.0, RSS 2.0 and JSON Feed 1.1 documents of a list of items (SPEC §5).
 * Pure functions: items in, bytes out; the HTTP layer caches the result. */
#ifndef EDU_FEEDS_H
#define EDU_FEEDS_H

#include <stddef.h>
#include <stdint.h>
#include "../core/buf.h"
#include "../core/err.h"
#include "../item/item.h"

#define EDU_FEED_ITEMS_MAX 1000 /* items per document */

typedef struct edu_feed_meta {
	const char *base_url;   /* "http://127.0.0.1:8080", no trailing slash */
	const char *self_path;  /* path+query of this feed, e.g. "/feed.atom?unit=x" */
	const char *title;      /* feed title (Vietnamese node name) */
	const char *node_id;
	/* Display name of a unit; may be NULL or return NULL/"": then the
	 * item's unit_name is used, then the unit id. */
	const char *(*unit_name)(const char *unit, void *arg);
	void *arg;
	int64_t now;            /* Unix seconds: feed "updated" when there are no items */
} edu_feed_meta;

/* Each appends one complete document to *out (on failure *out is left as it
 * was). Items are written in the order given (newest first is expected);
 * deleted items (tombstones) are skipped. Bodies are rendered with
 * edu_render_markdown; characters illegal in XML 1.0 are dropped.
 * EDU_EINVAL without base_url, EDU_ETOOBIG above EDU_FEED_ITEMS_MAX items. */
edu_err edu_feed_atom(const edu_feed_meta *m, edu_item *const *items, size_t n, edu_buf *out);
edu_err edu_feed_rss(const edu_feed_meta *m, edu_item *const *items, size_t n, edu_buf *out);
edu_err edu_feed_json(const edu_feed_meta *m, edu_item *const *items, size_t n, edu_buf *out);

#endif
