/* The node's HTTP server (SPEC §5) on libevent's evhttp: N event-loop threads
 * sharing one listening socket, request limits, a router for the public
 * portal paths (pages, feeds, attachments, /healthz, /metrics), a response
 * cache for pages and feeds keyed by path+query and validated by
 * edu_store_generation(), the security headers every response carries, and
 * the plumbing node/api needs: replies with those headers and store writes
 * whose completion comes back to the request's own loop.
 *
 * Threads: every handler runs on the loop thread that accepted the
 * connection; nothing here blocks a loop on a commit. */
#ifndef EDU_HTTP_H
#define EDU_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <event2/keyvalq_struct.h>
#include "core/err.h"
#include "store/store.h"
#include "uplink/uplink.h"

struct evhttp_request;
struct edu_agg;
struct edu_dir;

#define EDU_HTTP_MAX_THREADS 64
#define EDU_HTTP_MAX_HEADERS (16 * 1024)  /* bytes of request line + headers */
#define EDU_HTTP_MAX_CONNS 1024            /* open connections per loop thread; more are closed */
/* A request of up to EDU_HTTP_MAX_HEADERS bytes must arrive whole within
 * min(timeout_s, this) seconds of its first byte (slowloris), checked once a second. */
#define EDU_HTTP_HEADER_TIMEOUT_MAX 10
#define EDU_HTTP_FEED_LIMIT_DEFAULT 20
#define EDU_HTTP_FEED_LIMIT_MAX 100
#define EDU_HTTP_PAGE_LIMIT 20
#define EDU_HTTP_CACHE_ENTRIES 256
#define EDU_HTTP_CACHE_BYTES (32u * 1024 * 1024)
#define EDU_HTTP_CURSOR_MAX 128           /* bytes of an encoded paging cursor */

typedef struct edu_http edu_http;
typedef struct edu_http_loop edu_http_loop;

/* Handles one request under /api/ on its loop thread; must eventually reply
 * (edu_http_reply), possibly later from an edu_http_submit completion.
 * path is the decoded path (no query). */
typedef void (*edu_http_handler_fn)(edu_http_loop *l, struct evhttp_request *req, const char *path,
    void *arg);

typedef struct edu_http_opts {
	const char *host;          /* listen address, e.g. "127.0.0.1" or "0.0.0.0" */
	int port;                  /* 0: any free port (see edu_http_port) */
	int threads;               /* event-loop threads, 1..EDU_HTTP_MAX_THREADS (0: 1) */
	uint64_t max_body;         /* bytes; larger request bodies get 413 */
	int timeout_s;             /* idle/read/write timeout per connection (0: 30); also
	                            * bounds the time to send a request head (see above) */
	const char *base_url;      /* public URL for feed links, no trailing slash */
	edu_store *store;          /* borrowed; must outlive the server */
	struct edu_agg *agg;       /* borrowed; NULL on school nodes */
	edu_uplink *uplink;        /* borrowed; NULL when the node has no parent */
	struct edu_dir *dirs;      /* borrowed; directives for /d and the home page, NULL: none */
	const char *self_unit;
	const char *self_name;
	const char *role;          /* school | phong | so */
	int64_t started_ms;        /* for uptime in /metrics */
	edu_http_handler_fn api;   /* /api/... handler; NULL: 404 */
	void *api_arg;
} edu_http_opts;

/* Binds, listens and starts the loop threads. Strings in o are copied. */
edu_err edu_http_start(edu_http **out, const edu_http_opts *o);
/* Stops accepting, waits for the pending store writes of in-flight requests
 * to complete and be answered (the store answers every submit), then ends the
 * loops and closes every connection. Call before edu_store_close. Accepts NULL. */
void edu_http_stop(edu_http *h);
int edu_http_port(const edu_http *h); /* the bound port */

/* ---- for request handlers (loop thread only) ------------------------- */

/* Sends status with body (copied) and the common headers: Content-Type
 * (ctype, must name a charset for text), X-Content-Type-Options,
 * Referrer-Policy, and for text/html the Content-Security-Policy. Counts the
 * response in /metrics. HEAD requests get the headers only. */
void edu_http_reply(edu_http_loop *l, struct evhttp_request *req, int status, const char *ctype,
    const void *body, size_t len);

/* Sends len bytes of the open file fd (taken over: closed when sent or on
 * error) with the common headers, without reading it into memory. */
void edu_http_reply_file(edu_http_loop *l, struct evhttp_request *req, int status, const char *ctype,
    int fd, size_t len);

/* A request's query string, parsed once (ok is false for a malformed one).
 * Free with evhttp_clear_headers(&q.kv). */
typedef struct edu_http_query {
	struct evkeyvalq kv;
	bool ok;
} edu_http_query;
void edu_http_query_parse(struct evhttp_request *req, edu_http_query *q);

/* Submits b to the store; done runs later on l's thread (never inline) with
 * the commit's outcome, and then owns b again. On an error return done is not
 * called and the caller keeps b. The server does not stop while submits are
 * pending. */
typedef void (*edu_http_done_fn)(edu_store_batch *b, edu_err rv, void *arg);
edu_err edu_http_submit(edu_http_loop *l, edu_store_batch *b, edu_http_done_fn done, void *arg);

/* The unit ids a unit= filter covers: the unit's whole subtree on aggregating
 * nodes (registry), just the unit itself otherwise. Caller frees *units
 * (one allocation; the strings live as long as the server). */
edu_err edu_http_subtree(edu_http *h, const char *unit, const char ***units, size_t *n);
edu_http *edu_http_of(edu_http_loop *l);

/* ---- paging cursors (shared by pages and the API) ---------------------- */

/* An opaque URL-safe cursor for (published, unit, seq); out has room for
 * EDU_HTTP_CURSOR_MAX bytes. */
void edu_http_cursor_encode(char out[EDU_HTTP_CURSOR_MAX], int64_t published, const char *unit,
    uint64_t seq);
/* unit_out has room for EDU_UNIT_ID_MAX + 1. EDU_EINVAL on anything malformed. */
edu_err edu_http_cursor_decode(const char *s, int64_t *published, char *unit_out, uint64_t *seq);

#endif
