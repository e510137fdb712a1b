/* node/http internals shared with http_test.c: the response cache, HTTP
 * date parsing and request-target helpers. */
#ifndef EDU_HTTP_INTERNAL_H
#define EDU_HTTP_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

/* One cached response; immutable once built, shared by reference count. */
typedef struct http_entry {
	atomic_int refs;
	uint64_t hash;
	char *key;                /* path + query, as requested */
	uint64_t gen;             /* store generation it was built at */
	int status;
	const char *ctype;        /* static string */
	char *body;
	size_t len;
	char etag[64];
	char last_modified[40];
	uint64_t last_used;       /* cache tick, for LRU eviction */
} http_entry;

typedef struct http_cache http_cache;

http_cache *http_cache_new(size_t max_entries, size_t max_bytes);
void http_cache_free(http_cache *c);
/* A referenced entry for key built at gen, or NULL (entries of other
 * generations are dropped as they are met). Release with http_entry_unref. */
http_entry *http_cache_get(http_cache *c, const char *key, uint64_t gen);
/* Builds an entry (copies key and body; body ownership stays with the
 * caller) and inserts it, evicting least-recently-used entries to stay in
 * bounds. Returns a referenced entry (release it) or NULL on ENOMEM or when
 * the body alone is larger than the cache. */
http_entry *http_cache_put(http_cache *c, const char *key, uint64_t gen, int status, const char *ctype,
    const char *body, size_t len, const char *etag, const char *last_modified);
void http_entry_unref(http_entry *e);
void http_cache_stats(http_cache *c, size_t *entries, size_t *bytes);

uint64_t http_hash(const char *s, size_t len); /* FNV-1a 64 */

/* Parses an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"). */
edu_err http_date_parse(const char *s, int64_t *unix_s);
/* True when an If-None-Match header value lists etag (or is "*"); weak
 * comparison as RFC 9110 asks for GET. */
bool http_etag_match(const char *header, const char *etag);
/* Parses a limit query value: NULL/"" gives def; else 1..max, else EDU_EINVAL. */
edu_err http_parse_limit(const char *s, size_t def, size_t max, size_t *out);
/* "/i/{id}/a/{n}": splits into id (room for EDU_ITEM_ID_MAX) and n. */
edu_err http_parse_attachment_path(const char *rest, char *id, size_t idlen, size_t *n);
/* RFC 5987 encoding of a filename for Content-Disposition's filename*. */
edu_err http_disposition(const char *name, char *out, size_t outlen);

/* ---- connection guard (conn.c): one per loop, loop thread only ------------ */

struct event_base;
struct bufferevent;
struct evhttp_request;
typedef struct http_conns http_conns;

/* A guard that shuts down connections whose request has not fully arrived
 * deadline_s after its first byte while it is at most EDU_HTTP_MAX_HEADERS
 * bytes (slowloris; checked once a second), and connections beyond
 * max_conns. NULL on ENOMEM. */
http_conns *http_conns_new(struct event_base *base, int deadline_s, int max_conns);
/* After evhttp_free (which frees the connections); accepts NULL. */
void http_conns_free(http_conns *cs);
/* evhttp's bevcb: a new connection's bufferevent, watched by the guard. */
struct bufferevent *http_conns_new_bev(http_conns *cs);
/* From the gencb: req arrived complete; no deadline while it is served. */
void http_conns_request(http_conns *cs, struct evhttp_request *req);
void http_conns_stats(const http_conns *cs, int *open, uint64_t *dropped_slow, uint64_t *dropped_cap);

#endif
