/* CommonMark → safe HTML (SPEC §2): libcmark in safe mode (raw HTML is
 * dropped) plus our own URL allow-list, and a plain-text excerpt for listings. */
#ifndef EDU_RENDER_H
#define EDU_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include "../core/buf.h"
#include "../core/err.h"

#define EDU_RENDER_INPUT_MAX (1024u * 1024) /* bytes of Markdown accepted */

/* Appends the HTML of md[0..len) to *out. Raw HTML is omitted; link URLs
 * other than http:, https:, mailto:, relative or #fragment become "#", such
 * images are dropped (their alt text stays). Invalid UTF-8 becomes U+FFFD.
 * EDU_ETOOBIG above EDU_RENDER_INPUT_MAX. */
edu_err edu_render_markdown(const char *md, size_t len, edu_buf *out);

/* Appends the HTML-escaped plain text of md[0..len) to *out: markup and raw
 * HTML removed, whitespace collapsed, at most max_chars characters followed
 * by "…" when cut (max_chars 0: no limit). */
edu_err edu_render_plain_summary(const char *md, size_t len, size_t max_chars, edu_buf *out);

typedef struct edu_render_opts {
	const char *base_url;  /* "http://host:port": prefixed to "/path" URLs; NULL keeps them */
	size_t summary_chars;  /* as max_chars of edu_render_plain_summary */
} edu_render_opts;

/* One parse for both: appends the HTML to *html and/or the plain summary to
 * *summary (either may be NULL; o may be NULL for defaults). On failure both
 * buffers are left as they were. */
edu_err edu_render_document(const char *md, size_t len, const edu_render_opts *o, edu_buf *html,
    edu_buf *summary);

/* True when url may appear in an href/src: http:, https:, mailto:, relative
 * or fragment, judged after removing whitespace and control characters and
 * decoding %XX, case-insensitively. */
bool edu_render_url_allowed(const char *url);

#endif
