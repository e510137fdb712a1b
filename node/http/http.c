/* The evhttp server: listening socket, loop threads, limits, the public
 * router, the response cache and conditional GET, and the completion queue
 * that brings store commits back to a request's loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sys/queue.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <sodium.h>

#include "http.h"
#include "http_internal.h"
#include "aggregator/agg.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "directive/directive.h"
#include "feeds/feeds.h"
#include "item/item.h"
#include "pages/pages.h"
#include "text/text.h"

#define CSP_HTML "default-src 'none'; style-src 'self'; img-src 'self' https: data:; " \
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
#define CT_HTML "text/html; charset=utf-8"
#define CT_TEXT "text/plain; charset=utf-8"
#define CT_CSS "text/css; charset=utf-8"
#define CT_ATOM "application/atom+xml; charset=utf-8"
#define CT_RSS "application/rss+xml; charset=utf-8"
#define CT_JSONFEED "application/feed+json; charset=utf-8"
#define CT_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define HOME_PER_KIND 10
#define HOME_DIRS 5          /* directives on the home page */
#define DIRS_PAGE_MAX 200    /* directives on /d */
#define DIR_TZ_MIN 420       /* directive times are shown in Vietnam time */
/* Directives live outside the content store, so its generation does not see
 * them: a fingerprint of the directive list is taken at most this often and
 * folded into the cache generation (a new directive shows within it). */
#define DIR_REFRESH_MS 1000
#define STOP_WAIT_S 10
#define QUERY_MAX 2048 /* bytes of a decoded query value we look at */
/* libevent 2.1 moves at most 16 KiB per read or write call by default, so a
 * 33 KiB feed took three writev calls; one call per response is enough. */
#define IO_MAX_WRITE (4u * 1024 * 1024)
#define IO_MAX_READ (256u * 1024)

/* A store completion waiting to run on its loop. */
typedef struct done_node {
	struct done_node *next;
	edu_http_loop *loop;
	edu_store_batch *batch;
	edu_err rv;
	edu_http_done_fn fn;
	void *arg;
} done_node;

struct edu_http_loop {
	edu_http *h;
	pthread_t thr;
	bool thr_started;
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	struct event *wake;      /* completions queued */
	struct event *stop_ev;   /* edu_http_stop asked */
	struct event *deadline;  /* bounded wait for pending writes */
	http_conns *conns;       /* header deadline and connection cap (conn.c) */
	pthread_mutex_t mu;
	done_node *head, *tail;  /* guarded by mu */
	int pending;             /* loop thread only */
	bool stopping;           /* loop thread only */
	bool inited;
};

struct edu_http {
	int fd;
	int port;
	int n_loops;
	edu_http_loop *loops;
	http_cache *cache;
	edu_store *store;
	edu_agg *agg;
	edu_uplink *uplink;
	edu_dir *dirs;
	pthread_mutex_t dir_mu;  /* the directive fingerprint below */
	int64_t dir_checked_ms;
	uint64_t dir_hash;
	_Atomic uint64_t dir_epoch; /* bumped when the fingerprint changes */
	char *host, *base_url, *self_unit, *self_name, *role;
	int64_t started_ms;
	uint64_t max_body;
	int timeout_s;
	int header_timeout_s;
	edu_http_handler_fn api;
	void *api_arg;
	uint32_t boot;           /* distinguishes ETags across restarts */
	atomic_uint_fast64_t by_class[6]; /* responses: [1..5] = 1xx..5xx */
	atomic_uint_fast64_t cache_hits, cache_misses;
	pthread_mutex_t lm_mu;
	uint64_t lm_gen;
	int64_t lm_time;
};

/* ---- responses ---------------------------------------------------------- */

static void count(edu_http *h, int status)
{
	int c = status / 100;
	if (c >= 1 && c <= 5)
		atomic_fetch_add(&h->by_class[c], 1);
}

static void common_headers(struct evkeyvalq *oh, const char *ctype)
{
	if (ctype)
		evhttp_add_header(oh, "Content-Type", ctype);
	evhttp_add_header(oh, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(oh, "Referrer-Policy", "same-origin");
	if (ctype && strncmp(ctype, "text/html", 9) == 0)
		evhttp_add_header(oh, "Content-Security-Policy", CSP_HTML);
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 507: return "Insufficient Storage";
	default: return NULL;
	}
}

static bool is_head(struct evhttp_request *req)
{
	return evhttp_request_get_command(req) == EVHTTP_REQ_HEAD;
}

/* Sends buf (may be NULL) as the body; HEAD gets the length only. */
static void send_buf(edu_http *h, struct evhttp_request *req, int status, struct evbuffer *buf)
{
	count(h, status);
	if (is_head(req) && buf) {
		char n[32];
		snprintf(n, sizeof n, "%zu", evbuffer_get_length(buf));
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Length", n);
		evbuffer_drain(buf, evbuffer_get_length(buf));
	}
	evhttp_send_reply(req, status, reason(status), buf);
}

void edu_http_reply(edu_http_loop *l, struct evhttp_request *req, int status, const char *ctype,
    const void *body, size_t len)
{
	struct evbuffer *b = evbuffer_new();
	common_headers(evhttp_request_get_output_headers(req), ctype);
	if (b && len && evbuffer_add(b, body, len) != 0) {
		evbuffer_free(b);
		b = NULL;
		status = 500;
	}
	send_buf(l->h, req, status, b);
	if (b)
		evbuffer_free(b);
}

void edu_http_reply_file(edu_http_loop *l, struct evhttp_request *req, int status, const char *ctype,
    int fd, size_t len)
{
	struct evbuffer *b = evbuffer_new();
	common_headers(evhttp_request_get_output_headers(req), ctype);
	if (b && len && evbuffer_add_file(b, fd, 0, (ev_off_t)len) != 0) {
		evbuffer_free(b);
		b = NULL;
		status = 500;
		close(fd);
	} else if (!len || !b) {
		close(fd);
	}
	send_buf(l->h, req, status, b);
	if (b)
		evbuffer_free(b);
}

static void reply_page_error(edu_http_loop *l, struct evhttp_request *req, int status, const char *msg);

/* ---- store completions ---------------------------------------------------- */

static void store_done(edu_store_batch *b, edu_err rv, void *arg)
{
	done_node *d = arg; /* writer thread: queue and wake the loop */
	edu_http_loop *l = d->loop;
	d->batch = b;
	d->rv = rv;
	pthread_mutex_lock(&l->mu);
	if (l->tail)
		l->tail->next = d;
	else
		l->head = d;
	l->tail = d;
	pthread_mutex_unlock(&l->mu);
	event_active(l->wake, EV_READ, 0);
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
	edu_http_loop *l = arg;
	pthread_mutex_lock(&l->mu);
	done_node *d = l->head;
	l->head = l->tail = NULL;
	pthread_mutex_unlock(&l->mu);
	while (d) {
		done_node *next = d->next;
		l->pending--;
		d->fn(d->batch, d->rv, d->arg);
		free(d);
		d = next;
	}
	if (l->stopping && l->pending == 0)
		event_base_loopbreak(l->base);
}

edu_err edu_http_submit(edu_http_loop *l, edu_store_batch *b, edu_http_done_fn done, void *arg)
{
	done_node *d = calloc(1, sizeof *d);
	if (!d)
		return EDU_ENOMEM;
	d->loop = l;
	d->fn = done;
	d->arg = arg;
	l->pending++;
	edu_err rv = edu_store_submit(l->h->store, b, store_done, d);
	if (rv != EDU_OK) {
		l->pending--;
		free(d);
	}
	return rv;
}

edu_http *edu_http_of(edu_http_loop *l)
{
	return l->h;
}

/* ---- units ------------------------------------------------------------------ */

edu_err edu_http_subtree(edu_http *h, const char *unit, const char ***units, size_t *n)
{
	if (h->agg && edu_agg_subtree(h->agg, unit, units, n) == EDU_OK && *n > 0)
		return EDU_OK;
	/* Not in the registry, or a school node: only the unit itself. */
	size_t len = strlen(unit);
	const char **u = malloc(sizeof *u + len + 1);
	if (!u)
		return EDU_ENOMEM;
	char *s = (char *)(u + 1);
	memcpy(s, unit, len + 1);
	u[0] = s;
	*units = u;
	*n = 1;
	return EDU_OK;
}

static const char *unit_name(const char *unit, void *arg)
{
	edu_http *h = arg;
	const char *n = h->agg ? edu_agg_unit_name(h->agg, unit) : NULL;
	if (!n && strcmp(unit, h->self_unit) == 0)
		n = h->self_name;
	return n;
}

static void pages_ctx(edu_http *h, edu_pages_ctx *c)
{
	memset(c, 0, sizeof *c);
	c->node_id = h->self_unit;
	c->node_name = h->self_name;
	c->role = h->role;
	c->unit_name = unit_name;
	c->arg = h;
}

/* ---- query helpers ------------------------------------------------------- */

typedef edu_http_query query;

void edu_http_query_parse(struct evhttp_request *req, edu_http_query *q)
{
	TAILQ_INIT(&q->kv);
	const char *qs = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	q->ok = !qs || evhttp_parse_query_str(qs, &q->kv) == 0;
}

static const char *query_get(query *q, const char *key)
{
	return evhttp_find_header(&q->kv, key);
}

/* Reads the before= cursor into the query; false when malformed. */
static bool cursor_apply(const char *s, edu_query *eq, char *unit_buf)
{
	if (!s || !*s)
		return true;
	int64_t ts;
	uint64_t seq;
	if (edu_http_cursor_decode(s, &ts, unit_buf, &seq) != EDU_OK)
		return false;
	eq->before_ts = ts;
	eq->before_unit = unit_buf;
	eq->before_seq = seq;
	return true;
}

static void next_cursor(edu_item **items, size_t n, bool more, char out[EDU_HTTP_CURSOR_MAX])
{
	out[0] = '\0';
	if (more && n > 0)
		edu_http_cursor_encode(out, items[n - 1]->published, items[n - 1]->unit, items[n - 1]->seq);
}

/* ---- cacheable builders -------------------------------------------------- */

typedef enum route {
	R_HOME, R_UNIT, R_ITEM, R_SEARCH, R_ATOM, R_RSS, R_JSONFEED, R_DIRS, R_DIR,
} route;

/* A built response: status, content type and body. */
typedef struct built {
	int status;
	const char *ctype;
	edu_buf body;
} built;

static edu_err build_error(edu_http *h, built *b, int status, const char *msg)
{
	edu_pages_ctx c;
	pages_ctx(h, &c);
	b->status = status;
	b->ctype = CT_HTML;
	edu_buf_reset(&b->body);
	return edu_pages_error(&c, status, msg, &b->body);
}

/* ---- directives ("Văn bản chỉ đạo") -------------------------------------- */

/* The cache generation: the store's plus the directive epoch. Both only
 * grow, so ETags and Last-Modified stay monotonic. */
static uint64_t cache_gen(edu_http *h)
{
	if (h->dirs && pthread_mutex_trylock(&h->dir_mu) == 0) {
		int64_t now = edu_time_now_ms();
		json_t *j = NULL;
		if (now - h->dir_checked_ms >= DIR_REFRESH_MS && edu_dir_list_json(h->dirs, 0, &j) == EDU_OK) {
			/* Directives are immutable once signed: their ids say it all. */
			uint64_t hs = 1469598103934665603ull;
			size_t i;
			json_t *d;
			json_array_foreach(json_object_get(j, "directives"), i, d) {
				const char *id = json_string_value(json_object_get(d, "id"));
				hs ^= http_hash(id ? id : "", id ? strlen(id) + 1 : 1);
				hs *= 1099511628211ull;
			}
			if (hs != h->dir_hash) {
				h->dir_hash = hs;
				atomic_fetch_add(&h->dir_epoch, 1);
			}
			h->dir_checked_ms = now;
		}
		json_decref(j);
		pthread_mutex_unlock(&h->dir_mu);
	}
	return edu_store_generation(h->store) + atomic_load(&h->dir_epoch);
}

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int64_t jtime(json_t *o, const char *key)
{
	int64_t t = 0;
	const char *s = jstr(o, key);
	if (!s || edu_time_parse(s, &t, NULL) != EDU_OK)
		return 0;
	return t;
}

/* Fills d from one directive's JSON (node/directive's view); strings are
 * borrowed from j. *strs is one allocation holding the audience arrays and
 * the attachments: free it after rendering. */
static edu_err dir_view(json_t *j, edu_pages_dir *d, void **mem)
{
	json_t *aud = json_object_get(j, "audience");
	json_t *types = json_object_get(aud, "types"), *units = json_object_get(aud, "units");
	json_t *atts = json_object_get(j, "attachments");
	size_t nt = json_array_size(types), nu = json_array_size(units), na = json_array_size(atts);
	memset(d, 0, sizeof *d);
	*mem = NULL;
	void *m = calloc(1, (nt + nu) * sizeof(char *) + na * sizeof(edu_pages_dir_file) + 1);
	if (!m)
		return EDU_ENOMEM;
	const char **ts = m, **us = ts + nt;
	edu_pages_dir_file *fs = (edu_pages_dir_file *)(us + nu);
	for (size_t i = 0; i < nt; i++)
		ts[i] = json_string_value(json_array_get(types, i));
	for (size_t i = 0; i < nu; i++)
		us[i] = json_string_value(json_array_get(units, i));
	for (size_t i = 0; i < na; i++) {
		json_t *a = json_array_get(atts, i);
		json_int_t sz = json_integer_value(json_object_get(a, "size"));
		fs[i] = (edu_pages_dir_file){jstr(a, "name"), jstr(a, "media_type"), sz > 0 ? (uint64_t)sz : 0};
	}
	json_int_t nt_targets = json_integer_value(json_object_get(j, "targets"));
	const char *dir = jstr(j, "direction");
	*d = (edu_pages_dir){
		.id = jstr(j, "id"), .issuer = jstr(j, "issuer"), .issuer_name = jstr(j, "issuer_name"),
		.title = jstr(j, "title"), .doc_number = jstr(j, "doc_number"), .doc_date = jstr(j, "doc_date"),
		.signer = jstr(j, "signer"), .published = jtime(j, "published"), .deadline = jtime(j, "deadline"),
		.report_requested = json_is_true(json_object_get(j, "report_requested")),
		.sent = dir && strcmp(dir, "sent") == 0,
		.aud_types = ts, .n_aud_types = nt, .aud_units = us, .n_aud_units = nu,
		.n_targets = nt_targets > 0 ? (size_t)nt_targets : 0,
		.body = jstr(j, "body"), .files = fs, .n_files = na, .tz_offset_min = DIR_TZ_MIN,
	};
	*mem = m;
	return d->id ? EDU_OK : EDU_EINVAL;
}

/* A directive this node shows: one it issued or one addressed to it (a
 * Phòng only relaying a directive to its schools does not publish it). */
static bool dir_visible(json_t *j)
{
	const char *dir = jstr(j, "direction");
	return (dir && strcmp(dir, "sent") == 0) || json_object_get(j, "receipt") != NULL;
}

/* The newest directives (at most max) as views; free with dirs_free. */
static edu_err dirs_load(edu_http *h, size_t max, json_t **j, edu_pages_dir **out, void ***mems, size_t *n)
{
	*j = NULL;
	*out = NULL;
	*mems = NULL;
	*n = 0;
	if (!h->dirs)
		return EDU_OK;
	edu_err rv = edu_dir_list_json(h->dirs, 0, j);
	if (rv != EDU_OK)
		return rv;
	json_t *arr = json_object_get(*j, "directives");
	size_t total = json_array_size(arr);
	if (total > max)
		total = max;
	if (total == 0)
		return EDU_OK;
	*out = calloc(total, sizeof **out);
	*mems = calloc(total, sizeof **mems);
	if (!*out || !*mems)
		return EDU_ENOMEM;
	for (size_t i = 0; i < total; i++) {
		if ((rv = dir_view(json_array_get(arr, i), &(*out)[*n], &(*mems)[*n])) != EDU_OK) {
			free((*mems)[*n]);
			(*mems)[*n] = NULL;
			if (rv == EDU_ENOMEM)
				return rv;
			continue; /* malformed entry: skipped */
		}
		(*n)++;
	}
	return EDU_OK;
}

static void dirs_free(json_t *j, edu_pages_dir *d, void **mems, size_t n)
{
	for (size_t i = 0; mems && i < n; i++)
		free(mems[i]);
	free(mems);
	free(d);
	json_decref(j);
}

static edu_err build_dirs(edu_http *h, built *b)
{
	json_t *j = NULL;
	edu_pages_dir *d = NULL;
	void **mems = NULL;
	size_t n = 0;
	edu_pages_ctx c;
	pages_ctx(h, &c);
	edu_err rv = dirs_load(h, DIRS_PAGE_MAX, &j, &d, &mems, &n);
	if (rv == EDU_OK) {
		b->status = 200;
		b->ctype = CT_HTML;
		rv = edu_pages_directives(&c, d, n, &b->body);
	}
	dirs_free(j, d, mems, n);
	return rv;
}

static edu_err build_dir(edu_http *h, const char *id, built *b)
{
	json_t *j = NULL;
	void *mem = NULL;
	edu_pages_dir d;
	edu_pages_ctx c;
	pages_ctx(h, &c);
	edu_err rv = h->dirs ? edu_dir_get_json(h->dirs, id, &j) : EDU_ENOENT;
	if (rv == EDU_ENOENT || (rv == EDU_OK && !dir_visible(j))) {
		json_decref(j);
		return build_error(h, b, 404, "Không tìm thấy văn bản.");
	}
	if (rv == EDU_OK && (rv = dir_view(j, &d, &mem)) == EDU_OK) {
		b->status = 200;
		b->ctype = CT_HTML;
		rv = edu_pages_directive(&c, &d, &b->body);
	}
	free(mem);
	json_decref(j);
	return rv;
}

static edu_err build_home(edu_http *h, edu_store_rd *rd, query *q, built *b)
{
	edu_err rv = EDU_OK;
	const char *unit = query_get(q, "unit");
	const char **units = NULL, **self_units = NULL;
	size_t n_units = 0, n_self = 0;
	edu_item **by_kind[EDU_KIND_COUNT] = {0};
	size_t n_by_kind[EDU_KIND_COUNT] = {0};
	edu_pages_unit *pu = NULL;
	json_t *dj = NULL;
	edu_pages_dir *dv = NULL;
	void **dmems = NULL;
	size_t n_dirs = 0;
	edu_pages_ctx c;
	pages_ctx(h, &c);

	if (unit && *unit && !edu_unit_id_valid(unit))
		return build_error(h, b, 400, "Mã đơn vị không hợp lệ.");
	if (unit && *unit && (rv = edu_http_subtree(h, unit, &units, &n_units)) != EDU_OK)
		goto out;
	if ((rv = edu_http_subtree(h, h->self_unit, &self_units, &n_self)) != EDU_OK)
		goto out;
	pu = calloc(n_self, sizeof *pu);
	if (!pu) {
		rv = EDU_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n_self; i++) {
		pu[i].id = self_units[i];
		pu[i].name = unit_name(self_units[i], h);
		if (!pu[i].name)
			pu[i].name = self_units[i];
	}
	c.units = pu;
	c.n_units = n_self;
	if (!(unit && *unit)) { /* directives belong to this node, not to a unit filter */
		if ((rv = dirs_load(h, HOME_DIRS, &dj, &dv, &dmems, &n_dirs)) != EDU_OK)
			goto out;
		c.dirs = dv;
		c.n_dirs = n_dirs;
	}
	for (int k = 1; k < EDU_KIND_COUNT; k++) {
		edu_query eq = {.units = units, .n_units = n_units, .kind = (edu_kind)k, .limit = HOME_PER_KIND};
		bool more;
		if ((rv = edu_store_query(rd, &eq, &by_kind[k], &n_by_kind[k], &more)) != EDU_OK)
			goto out;
	}
	b->status = 200;
	b->ctype = CT_HTML;
	rv = edu_pages_home(&c, (edu_item *const *const *)by_kind, n_by_kind, unit ? unit : "", &b->body);
out:
	for (int k = 0; k < EDU_KIND_COUNT; k++)
		edu_store_items_free(by_kind[k], n_by_kind[k]);
	dirs_free(dj, dv, dmems, n_dirs);
	free(pu);
	free(units);
	free(self_units);
	return rv;
}

static edu_err build_list(edu_http *h, edu_store_rd *rd, route r, const char *unit, query *q, built *b)
{
	edu_err rv = EDU_OK;
	const char **units = NULL;
	size_t n_units = 0, n = 0;
	edu_item **items = NULL;
	bool more = false;
	char cunit[EDU_UNIT_ID_MAX + 1];
	char next[EDU_HTTP_CURSOR_MAX];
	edu_pages_ctx c;
	pages_ctx(h, &c);
	edu_query eq = {.limit = EDU_HTTP_PAGE_LIMIT};
	const char *qtext = r == R_SEARCH ? query_get(q, "q") : NULL;

	if (!cursor_apply(query_get(q, "before"), &eq, cunit))
		return build_error(h, b, 400, "Tham số phân trang không hợp lệ.");
	if (r == R_UNIT) {
		if (!edu_unit_id_valid(unit))
			return build_error(h, b, 404, "Không tìm thấy đơn vị.");
		if ((rv = edu_http_subtree(h, unit, &units, &n_units)) != EDU_OK)
			goto out;
		eq.units = units;
		eq.n_units = n_units;
	}
	if (qtext && strlen(qtext) > QUERY_MAX)
		return build_error(h, b, 400, "Từ khóa quá dài.");
	if (qtext && !edu_text_utf8_valid(qtext, strlen(qtext)))
		return build_error(h, b, 400, "Từ khóa không hợp lệ (không phải UTF-8).");
	if (r == R_SEARCH && (!qtext || !*qtext)) {
		b->status = 200;
		b->ctype = CT_HTML;
		rv = edu_pages_search(&c, "", NULL, 0, NULL, &b->body);
		goto out;
	}
	eq.q = qtext;
	if ((rv = edu_store_query(rd, &eq, &items, &n, &more)) != EDU_OK)
		goto out;
	next_cursor(items, n, more, next);
	b->status = 200;
	b->ctype = CT_HTML;
	if (r == R_UNIT)
		rv = edu_pages_unit_page(&c, unit, (edu_item *const *)items, n, next[0] ? next : NULL, &b->body);
	else
		rv = edu_pages_search(&c, qtext, (edu_item *const *)items, n, next[0] ? next : NULL, &b->body);
out:
	edu_store_items_free(items, n);
	free(units);
	return rv;
}

static edu_err build_item(edu_http *h, edu_store_rd *rd, const char *id, built *b)
{
	char unit[EDU_UNIT_ID_MAX + 1];
	uint64_t seq;
	edu_item *it = NULL;
	edu_pages_ctx c;
	pages_ctx(h, &c);
	if (edu_item_id_parse(id, unit, &seq) != EDU_OK)
		return build_error(h, b, 404, "Không tìm thấy bài viết.");
	edu_err rv = edu_store_get(rd, unit, seq, &it);
	if (rv == EDU_ENOENT || (rv == EDU_OK && it->deleted)) {
		edu_item_free(it);
		return build_error(h, b, 404, "Không tìm thấy bài viết.");
	}
	if (rv != EDU_OK)
		return rv;
	b->status = 200;
	b->ctype = CT_HTML;
	rv = edu_pages_item(&c, it, &b->body);
	edu_item_free(it);
	return rv;
}

static edu_err build_feed(edu_http *h, edu_store_rd *rd, route r, const char *path, query *q, built *b)
{
	edu_err rv = EDU_OK;
	const char *unit = query_get(q, "unit");
	const char *kind = query_get(q, "kind");
	const char **units = NULL;
	size_t n_units = 0, n = 0, limit;
	edu_item **items = NULL;
	bool more;
	edu_query eq = {0};

	b->ctype = CT_TEXT;
	if (http_parse_limit(query_get(q, "limit"), EDU_HTTP_FEED_LIMIT_DEFAULT, EDU_HTTP_FEED_LIMIT_MAX,
	        &limit) != EDU_OK) {
		b->status = 400;
		return edu_buf_puts(&b->body, "limit must be 1..100\n");
	}
	if (kind && *kind && (eq.kind = edu_kind_parse(kind)) == EDU_KIND_NONE) {
		b->status = 400;
		return edu_buf_puts(&b->body, "unknown kind\n");
	}
	if (unit && *unit) {
		if (!edu_unit_id_valid(unit)) {
			b->status = 400;
			return edu_buf_puts(&b->body, "bad unit id\n");
		}
		if ((rv = edu_http_subtree(h, unit, &units, &n_units)) != EDU_OK)
			goto out;
		eq.units = units;
		eq.n_units = n_units;
	}
	eq.limit = limit;
	if ((rv = edu_store_query(rd, &eq, &items, &n, &more)) != EDU_OK)
		goto out;

	/* The title names the node, and the unit filter when there is one. */
	char title[512];
	const char *uname = unit && *unit ? unit_name(unit, h) : NULL;
	if (unit && *unit)
		snprintf(title, sizeof title, "%s — %s", h->self_name, uname ? uname : unit);
	else
		snprintf(title, sizeof title, "%s", h->self_name);
	const char *uri = path; /* self link: path plus the query as asked */
	edu_feed_meta m = {
		.base_url = h->base_url,
		.self_path = uri,
		.title = title,
		.node_id = h->self_unit,
		.unit_name = unit_name,
		.arg = h,
		.now = edu_time_now_ms() / 1000,
	};
	b->status = 200;
	if (r == R_ATOM) {
		b->ctype = CT_ATOM;
		rv = edu_feed_atom(&m, (edu_item *const *)items, n, &b->body);
	} else if (r == R_RSS) {
		b->ctype = CT_RSS;
		rv = edu_feed_rss(&m, (edu_item *const *)items, n, &b->body);
	} else {
		b->ctype = CT_JSONFEED;
		rv = edu_feed_json(&m, (edu_item *const *)items, n, &b->body);
	}
out:
	edu_store_items_free(items, n);
	free(units);
	return rv;
}

/* Last-Modified for a store generation: the time this server first saw it,
 * strictly increasing with the generation so If-Modified-Since never hides
 * a change made within the same second. */
static int64_t last_modified(edu_http *h, uint64_t gen)
{
	pthread_mutex_lock(&h->lm_mu);
	if (gen != h->lm_gen) {
		int64_t now = edu_time_now_ms() / 1000;
		h->lm_time = now > h->lm_time ? now : h->lm_time + 1;
		h->lm_gen = gen;
	}
	int64_t t = h->lm_time;
	pthread_mutex_unlock(&h->lm_mu);
	return t;
}

static void entry_cleanup(const void *data, size_t len, void *arg)
{
	http_entry_unref(arg);
}

static void send_entry(edu_http *h, struct evhttp_request *req, http_entry *e)
{
	struct evkeyvalq *ih = evhttp_request_get_input_headers(req);
	struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
	bool not_modified = false;
	if (e->status == 200) {
		const char *inm = evhttp_find_header(ih, "If-None-Match");
		const char *ims = evhttp_find_header(ih, "If-Modified-Since");
		int64_t since, lm;
		if (inm)
			not_modified = http_etag_match(inm, e->etag);
		else if (ims && http_date_parse(ims, &since) == EDU_OK &&
		    http_date_parse(e->last_modified, &lm) == EDU_OK)
			not_modified = lm <= since;
		evhttp_add_header(oh, "ETag", e->etag);
		evhttp_add_header(oh, "Last-Modified", e->last_modified);
		evhttp_add_header(oh, "Cache-Control", "no-cache");
	}
	common_headers(oh, e->ctype);
	if (not_modified) {
		count(h, 304);
		evhttp_send_reply(req, 304, "Not Modified", NULL);
		return;
	}
	struct evbuffer *b = evbuffer_new();
	if (!b) {
		count(h, 500);
		evhttp_send_reply(req, 500, "Internal Server Error", NULL);
		return;
	}
	/* The body is shared with the cache: no copy, one reference per send. */
	atomic_fetch_add(&e->refs, 1);
	if (evbuffer_add_reference(b, e->body, e->len, entry_cleanup, e) != 0) {
		http_entry_unref(e);
		evbuffer_free(b);
		count(h, 500);
		evhttp_send_reply(req, 500, "Internal Server Error", NULL);
		return;
	}
	send_buf(h, req, e->status, b);
	evbuffer_free(b);
}

static void serve_cached(edu_http_loop *l, struct evhttp_request *req, route r, const char *path,
    const char *arg)
{
	edu_http *h = l->h;
	const char *key = evhttp_request_get_uri(req);
	uint64_t gen = cache_gen(h);
	http_entry *e = http_cache_get(h->cache, key, gen);
	if (e) {
		atomic_fetch_add(&h->cache_hits, 1);
		send_entry(h, req, e);
		http_entry_unref(e);
		return;
	}
	atomic_fetch_add(&h->cache_misses, 1);

	built b = {.status = 500, .ctype = CT_TEXT, .body = EDU_BUF_INIT};
	edu_store_rd *rd = NULL;
	query q;
	edu_http_query_parse(req, &q);
	edu_err rv = EDU_OK;
	if (!q.ok) {
		rv = build_error(h, &b, 400, "Chuỗi truy vấn không hợp lệ.");
		goto send;
	}
	if ((rv = edu_store_read_begin(h->store, &rd)) != EDU_OK)
		goto send;
	switch (r) {
	case R_HOME: rv = build_home(h, rd, &q, &b); break;
	case R_UNIT: rv = build_list(h, rd, r, arg, &q, &b); break;
	case R_SEARCH: rv = build_list(h, rd, r, NULL, &q, &b); break;
	case R_ITEM: rv = build_item(h, rd, arg, &b); break;
	case R_DIRS: rv = build_dirs(h, &b); break;
	case R_DIR: rv = build_dir(h, arg, &b); break;
	default: rv = build_feed(h, rd, r, key, &q, &b); break;
	}
	edu_store_read_end(rd);
send:
	evhttp_clear_headers(&q.kv);
	if (rv != EDU_OK) {
		edu_log(LOG_ERR, "http: %s: %s", key, edu_strerror(rv));
		edu_buf_free(&b.body);
		reply_page_error(l, req, rv == EDU_ENOMEM ? 503 : 500, "Lỗi máy chủ.");
		return;
	}
	char etag[64], lm[EDU_RFC3339_LEN];
	snprintf(etag, sizeof etag, "W/\"%08" PRIx32 "-%" PRIx64 "-%016" PRIx64 "\"", h->boot, gen,
	    http_hash(key, strlen(key)));
	edu_time_format_http(lm, last_modified(h, gen));
	e = http_cache_put(h->cache, key, gen, b.status, b.ctype, b.body.p ? b.body.p : "", b.body.len,
	    etag, lm);
	edu_buf_free(&b.body);
	if (!e) {
		reply_page_error(l, req, 503, "Lỗi máy chủ.");
		return;
	}
	send_entry(h, req, e);
	http_entry_unref(e);
	(void)path;
}

static void reply_page_error(edu_http_loop *l, struct evhttp_request *req, int status, const char *msg)
{
	edu_buf b = EDU_BUF_INIT;
	edu_pages_ctx c;
	pages_ctx(l->h, &c);
	if (edu_pages_error(&c, status, msg, &b) != EDU_OK) {
		edu_buf_reset(&b);
		edu_buf_puts(&b, msg);
		edu_http_reply(l, req, status, CT_TEXT, b.p, b.len);
	} else {
		edu_http_reply(l, req, status, CT_HTML, b.p, b.len);
	}
	edu_buf_free(&b);
}

/* ---- uncached public paths ----------------------------------------------- */

static void free_blob(const void *data, size_t len, void *arg)
{
	free(arg);
}

static void serve_attachment(edu_http_loop *l, struct evhttp_request *req, const char *rest)
{
	edu_http *h = l->h;
	char id[EDU_ITEM_ID_MAX], unit[EDU_UNIT_ID_MAX + 1];
	uint64_t seq;
	size_t n;
	edu_item *it = NULL;
	edu_store_rd *rd = NULL;
	uint8_t *data = NULL;
	size_t len = 0;
	int status = 404;
	if (http_parse_attachment_path(rest, id, sizeof id, &n) != EDU_OK ||
	    edu_item_id_parse(id, unit, &seq) != EDU_OK)
		goto fail;
	edu_err rv = edu_store_read_begin(h->store, &rd);
	if (rv == EDU_OK)
		rv = edu_store_get(rd, unit, seq, &it);
	if (rv == EDU_OK && (it->deleted || n >= it->n_attachments))
		rv = EDU_ENOENT;
	if (rv == EDU_OK)
		rv = edu_store_blob_get(rd, it->attachments[n].sha256, &data, &len);
	edu_store_read_end(rd);
	if (rv != EDU_OK) {
		status = rv == EDU_ENOENT ? 404 : 500;
		goto fail;
	}
	const edu_attachment *a = &it->attachments[n];
	char etag[80], disp[1024];
	char *p = etag;
	*p++ = '"';
	sodium_bin2hex(p, 65, a->sha256, 32);
	strcat(etag, "\"");
	struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
	const char *inm = evhttp_find_header(evhttp_request_get_input_headers(req), "If-None-Match");
	const char *mt = a->media_type && *a->media_type && !strpbrk(a->media_type, "\r\n")
	    ? a->media_type : "application/octet-stream";
	evhttp_add_header(oh, "Content-Type", mt);
	evhttp_add_header(oh, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(oh, "Referrer-Policy", "same-origin");
	evhttp_add_header(oh, "Content-Security-Policy", "default-src 'none'; sandbox");
	if (http_disposition(a->name && *a->name ? a->name : "file", disp, sizeof disp) == EDU_OK)
		evhttp_add_header(oh, "Content-Disposition", disp);
	else
		evhttp_add_header(oh, "Content-Disposition", "attachment");
	evhttp_add_header(oh, "ETag", etag);
	evhttp_add_header(oh, "Cache-Control", "public, max-age=86400");
	edu_item_free(it);
	if (inm && http_etag_match(inm, etag)) {
		free(data);
		count(h, 304);
		evhttp_send_reply(req, 304, "Not Modified", NULL);
		return;
	}
	struct evbuffer *b = evbuffer_new();
	if (!b || evbuffer_add_reference(b, data, len, free_blob, data) != 0) {
		free(data);
		if (b)
			evbuffer_free(b);
		count(h, 500);
		evhttp_send_reply(req, 500, "Internal Server Error", NULL);
		return;
	}
	send_buf(h, req, 200, b);
	evbuffer_free(b);
	return;
fail:
	edu_item_free(it);
	free(data);
	reply_page_error(l, req, status, status == 404 ? "Không tìm thấy tệp." : "Lỗi máy chủ.");
}

/* GET /d/{id}/a/{n}: a directive's attachment with its stored media type,
 * as a download that is never sniffed or rendered in the portal's origin. */
static void serve_dir_attachment(edu_http_loop *l, struct evhttp_request *req, const char *rest)
{
	edu_http *h = l->h;
	char id[EDU_DIR_ID_MAX];
	const char *slash = strchr(rest, '/');
	size_t idlen = slash ? (size_t)(slash - rest) : 0;
	char *end = NULL;
	uint8_t *data = NULL;
	size_t len = 0;
	char *name = NULL, *mt = NULL;
	json_t *j = NULL;
	int status = 404;
	if (!h->dirs || !slash || idlen == 0 || idlen >= sizeof id || strncmp(slash, "/a/", 3) != 0 ||
	    slash[3] < '0' || slash[3] > '9' || strlen(slash + 3) > 3)
		goto fail;
	unsigned long n = strtoul(slash + 3, &end, 10);
	if (*end || n >= EDU_DIR_ATTACH_COUNT_MAX)
		goto fail;
	memcpy(id, rest, idlen);
	id[idlen] = '\0';
	/* only what this node shows (see dir_visible) */
	edu_err rv = edu_dir_get_json(h->dirs, id, &j);
	if (rv == EDU_OK && !dir_visible(j))
		rv = EDU_ENOENT;
	if (rv == EDU_OK)
		rv = edu_dir_attachment(h->dirs, id, NULL, n, &data, &len, &name, &mt);
	if (rv != EDU_OK) {
		status = rv == EDU_ENOENT ? 404 : 500;
		goto fail;
	}
	char disp[1024];
	struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
	/* a media type is one token/token[;params] line: anything else is octet-stream */
	bool mt_ok = mt && *mt && strlen(mt) < 200 && !strpbrk(mt, "\r\n\"\\") && strchr(mt, '/');
	evhttp_add_header(oh, "Content-Type", mt_ok ? mt : "application/octet-stream");
	evhttp_add_header(oh, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(oh, "Referrer-Policy", "same-origin");
	evhttp_add_header(oh, "Content-Security-Policy", "default-src 'none'; sandbox");
	evhttp_add_header(oh, "Cache-Control", "public, max-age=86400"); /* signed: never changes */
	if (http_disposition(name && *name ? name : "file", disp, sizeof disp) == EDU_OK)
		evhttp_add_header(oh, "Content-Disposition", disp);
	else
		evhttp_add_header(oh, "Content-Disposition", "attachment");
	struct evbuffer *b = evbuffer_new();
	if (!b || evbuffer_add_reference(b, data, len, free_blob, data) != 0) {
		free(data);
		if (b)
			evbuffer_free(b);
		count(h, 500);
		evhttp_send_reply(req, 500, "Internal Server Error", NULL);
	} else {
		send_buf(h, req, 200, b);
		evbuffer_free(b);
	}
	free(name);
	free(mt);
	json_decref(j);
	return;
fail:
	free(data);
	free(name);
	free(mt);
	json_decref(j);
	reply_page_error(l, req, status, status == 404 ? "Không tìm thấy tệp." : "Lỗi máy chủ.");
}

/* An old portal path recorded at import (an item's source_url): true when
 * it answered with 301 to the item's page. Checked only after the node's
 * own routes, so they always win. */
static bool serve_old_link(edu_http_loop *l, struct evhttp_request *req)
{
	edu_http *h = l->h;
	char unit[EDU_UNIT_ID_MAX + 1], loc[EDU_ITEM_ID_MAX + 8];
	uint64_t seq = 0;
	edu_store_rd *rd = NULL;
	edu_err rv = edu_store_read_begin(h->store, &rd);
	if (rv == EDU_OK)
		rv = edu_store_find_source(rd, evhttp_request_get_uri(req), unit, &seq);
	edu_store_read_end(rd);
	if (rv != EDU_OK) {
		if (rv != EDU_ENOENT && rv != EDU_EINVAL)
			edu_log(LOG_WARNING, "http: old link lookup: %s", edu_strerror(rv));
		return false;
	}
	/* unit is [a-z0-9-] (store_ikey_parse): safe in a header and a URL */
	snprintf(loc, sizeof loc, "/i/%s:%" PRIu64, unit, seq);
	struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
	evhttp_add_header(oh, "Location", loc);
	evhttp_add_header(oh, "Cache-Control", "public, max-age=3600");
	edu_buf b = EDU_BUF_INIT;
	edu_buf_printf(&b, "<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Đã chuyển</title>"
	                   "</head><body><p>Trang đã chuyển tới <a href=\"%s\">%s</a>.</p></body></html>\n", loc, loc);
	edu_http_reply(l, req, 301, CT_HTML, b.p, b.len);
	edu_buf_free(&b);
	return true;
}

/* "/?p=101" (an old WordPress link) reaches the home route: it is an old link
 * only when its query has a key the home page does not take. */
static bool home_query_foreign(struct evhttp_request *req)
{
	query q;
	bool foreign = false;
	const char *qs = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	if (!qs || !*qs)
		return false;
	edu_http_query_parse(req, &q);
	if (q.ok) {
		struct evkeyval *kv;
		TAILQ_FOREACH(kv, &q.kv, next)
			if (strcmp(kv->key, "unit") != 0)
				foreign = true;
	}
	evhttp_clear_headers(&q.kv);
	return foreign;
}

static void serve_metrics(edu_http_loop *l, struct evhttp_request *req)
{
	edu_http *h = l->h;
	edu_buf b = EDU_BUF_INIT;
	edu_store_stats st = {0};
	edu_store_rd *rd = NULL;
	edu_err rv = edu_store_read_begin(h->store, &rd);
	if (rv == EDU_OK)
		rv = edu_store_stats_get(rd, &st);
	edu_store_read_end(rd);
	if (rv != EDU_OK) {
		edu_http_reply(l, req, 500, CT_TEXT, "store unavailable\n", 18);
		return;
	}
	static const char *cls[] = {"", "1xx", "2xx", "3xx", "4xx", "5xx"};
	edu_buf_puts(&b, "# HELP edunet_http_responses_total HTTP responses by status class.\n"
	                 "# TYPE edunet_http_responses_total counter\n");
	for (int c = 1; c <= 5; c++)
		edu_buf_printf(&b, "edunet_http_responses_total{class=\"%s\"} %" PRIuFAST64 "\n", cls[c],
		    atomic_load(&h->by_class[c]));
	size_t ce, cb;
	http_cache_stats(h->cache, &ce, &cb);
	uint64_t backlog = 0;
	if (h->uplink) {
		edu_uplink_info ui;
		edu_uplink_get_info(h->uplink, &ui);
		backlog = ui.backlog;
	}
	edu_buf_printf(&b,
	    "# HELP edunet_http_cache_hits_total Page and feed responses served from the cache.\n"
	    "# TYPE edunet_http_cache_hits_total counter\n"
	    "edunet_http_cache_hits_total %" PRIuFAST64 "\n"
	    "# TYPE edunet_http_cache_misses_total counter\n"
	    "edunet_http_cache_misses_total %" PRIuFAST64 "\n"
	    "# TYPE edunet_http_cache_entries gauge\n"
	    "edunet_http_cache_entries %zu\n"
	    "# TYPE edunet_http_cache_bytes gauge\n"
	    "edunet_http_cache_bytes %zu\n"
	    "# HELP edunet_items_total Live items stored, all origins.\n"
	    "# TYPE edunet_items_total gauge\n"
	    "edunet_items_total %" PRIu64 "\n"
	    "# HELP edunet_items_own Live items published by this node.\n"
	    "# TYPE edunet_items_own gauge\n"
	    "edunet_items_own %" PRIu64 "\n"
	    "# TYPE edunet_store_tombstones gauge\n"
	    "edunet_store_tombstones %" PRIu64 "\n"
	    "# TYPE edunet_store_blobs gauge\n"
	    "edunet_store_blobs %" PRIu64 "\n"
	    "# HELP edunet_store_commits_total Store transactions committed since start.\n"
	    "# TYPE edunet_store_commits_total counter\n"
	    "edunet_store_commits_total %" PRIu64 "\n"
	    "# TYPE edunet_store_map_size_bytes gauge\n"
	    "edunet_store_map_size_bytes %" PRIu64 "\n"
	    "# TYPE edunet_store_map_used_bytes gauge\n"
	    "edunet_store_map_used_bytes %" PRIu64 "\n"
	    "# HELP edunet_uplink_backlog Changes not yet acknowledged by the parent.\n"
	    "# TYPE edunet_uplink_backlog gauge\n"
	    "edunet_uplink_backlog %" PRIu64 "\n"
	    "# TYPE edunet_uptime_seconds gauge\n"
	    "edunet_uptime_seconds %" PRId64 "\n",
	    atomic_load(&h->cache_hits), atomic_load(&h->cache_misses), ce, cb, st.items_total,
	    st.items_own, st.tombstones, st.blobs, st.commits, st.map_size, st.map_used, backlog,
	    (edu_time_now_ms() - h->started_ms) / 1000);
	edu_http_reply(l, req, 200, CT_METRICS, b.p, b.len);
	edu_buf_free(&b);
}

static void serve_css(edu_http_loop *l, struct evhttp_request *req)
{
	size_t len;
	const char *css = edu_pages_css(&len);
	char etag[40];
	snprintf(etag, sizeof etag, "\"css-%016" PRIx64 "\"", http_hash(css, len));
	struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
	evhttp_add_header(oh, "ETag", etag);
	evhttp_add_header(oh, "Cache-Control", "public, max-age=3600");
	const char *inm = evhttp_find_header(evhttp_request_get_input_headers(req), "If-None-Match");
	if (inm && http_etag_match(inm, etag)) {
		common_headers(oh, CT_CSS);
		count(l->h, 304);
		evhttp_send_reply(req, 304, "Not Modified", NULL);
		return;
	}
	edu_http_reply(l, req, 200, CT_CSS, css, len);
}

/* ---- router ------------------------------------------------------------------ */

static void on_request(struct evhttp_request *req, void *arg)
{
	edu_http_loop *l = arg;
	edu_http *h = l->h;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *raw = uri ? evhttp_uri_get_path(uri) : NULL;
	size_t plen = 0;
	char *path = raw ? evhttp_uridecode(raw, 0, &plen) : NULL;
	if (!path || plen != strlen(path) || path[0] != '/') {
		edu_http_reply(l, req, 400, CT_TEXT, "bad request path\n", 17);
		goto out;
	}
	bool api = strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0;
	if (api && evhttp_request_get_command(req) == EVHTTP_REQ_TRACE) {
		/* No resource here answers TRACE; refuse it before the API's
		 * authentication so it never depends on a token. */
		static const char msg[] = "{\"error\":\"method_not_allowed\",\"message\":\"TRACE is not supported\"}";
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD, POST, PUT, DELETE");
		edu_http_reply(l, req, 405, "application/json; charset=utf-8", msg, sizeof msg - 1);
		goto out;
	}
	if (api) {
		if (h->api)
			h->api(l, req, path, h->api_arg);
		else
			edu_http_reply(l, req, 404, "application/json; charset=utf-8",
			    "{\"error\":\"not_found\",\"message\":\"no API here\"}", 44);
		goto out;
	}
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
		edu_http_reply(l, req, 405, CT_TEXT, "method not allowed\n", 19);
		goto out;
	}
	if (strcmp(path, "/") == 0) {
		if (!home_query_foreign(req) || !serve_old_link(l, req))
			serve_cached(l, req, R_HOME, path, NULL);
	}
	else if (strcmp(path, "/healthz") == 0)
		edu_http_reply(l, req, 200, CT_TEXT, "ok\n", 3);
	else if (strcmp(path, "/metrics") == 0)
		serve_metrics(l, req);
	else if (strcmp(path, "/static/style.css") == 0)
		serve_css(l, req);
	else if (strcmp(path, "/feed.atom") == 0)
		serve_cached(l, req, R_ATOM, path, NULL);
	else if (strcmp(path, "/feed.rss") == 0)
		serve_cached(l, req, R_RSS, path, NULL);
	else if (strcmp(path, "/feed.json") == 0)
		serve_cached(l, req, R_JSONFEED, path, NULL);
	else if (strcmp(path, "/search") == 0)
		serve_cached(l, req, R_SEARCH, path, NULL);
	else if (strncmp(path, "/u/", 3) == 0 && path[3] && !strchr(path + 3, '/'))
		serve_cached(l, req, R_UNIT, path, path + 3);
	else if (strncmp(path, "/i/", 3) == 0 && path[3] && strchr(path + 3, '/'))
		serve_attachment(l, req, path + 3);
	else if (strncmp(path, "/i/", 3) == 0 && path[3])
		serve_cached(l, req, R_ITEM, path, path + 3);
	else if (strcmp(path, "/d") == 0 || strcmp(path, "/d/") == 0)
		serve_cached(l, req, R_DIRS, path, NULL);
	else if (strncmp(path, "/d/", 3) == 0 && path[3] && strchr(path + 3, '/'))
		serve_dir_attachment(l, req, path + 3);
	else if (strncmp(path, "/d/", 3) == 0 && path[3])
		serve_cached(l, req, R_DIR, path, path + 3);
	else if (!serve_old_link(l, req))
		reply_page_error(l, req, 404, "Không tìm thấy trang.");
out:
	free(path);
}

/* ---- loops ----------------------------------------------------------------- */

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	edu_http_loop *l = arg;
	/* Every submit is answered by the store, so keep waiting; just say why. */
	edu_log(LOG_WARNING, "http: still waiting for %d store write(s) at shutdown", l->pending);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
	edu_http_loop *l = arg;
	if (l->bound) {
		evhttp_del_accept_socket(l->http, l->bound); /* closes this loop's dup of the fd */
		l->bound = NULL;
	}
	l->stopping = true;
	if (l->pending == 0) {
		event_base_loopbreak(l->base);
		return;
	}
	struct timeval tv = {STOP_WAIT_S, 0};
	event_add(l->deadline, &tv); /* a persistent reminder while writes drain */
}

static void *loop_main(void *arg)
{
	edu_http_loop *l = arg;
	pthread_setname_np(pthread_self(), "edu-http");
	event_base_loop(l->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

/* Each connection's bufferevent (evhttp sets its fd), watched by the guard. */
static struct bufferevent *new_bev(struct event_base *base, void *arg)
{
	edu_http_loop *l = arg;
	struct bufferevent *bev = http_conns_new_bev(l->conns);
	if (bev) {
		bufferevent_set_max_single_write(bev, IO_MAX_WRITE);
		bufferevent_set_max_single_read(bev, IO_MAX_READ);
	}
	return bev;
}

/* evhttp's gencb: the request arrived whole; the guard stops its deadline. */
static void on_request_in(struct evhttp_request *req, void *arg)
{
	edu_http_loop *l = arg;
	http_conns_request(l->conns, req);
	on_request(req, arg);
}

static edu_err loop_init(edu_http *h, edu_http_loop *l)
{
	l->h = h;
	pthread_mutex_init(&l->mu, NULL);
	l->inited = true;
	/* With the changelist, evhttp's per-request enable/disable of read and
	 * write interest costs at most one epoll_ctl per change that survives
	 * the loop iteration, not one per call (4 -> 2 syscalls per request).
	 * Its caveat (dup'ed fds in one base) does not apply: each loop holds
	 * one copy of the listening socket. */
	struct event_config *cfg = event_config_new();
	if (!cfg)
		return EDU_ENOMEM;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	l->base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (!l->base)
		return EDU_ENOMEM;
	l->http = evhttp_new(l->base);
	l->wake = event_new(l->base, -1, 0, wake_cb, l);
	l->stop_ev = event_new(l->base, -1, 0, stop_cb, l);
	l->deadline = event_new(l->base, -1, EV_PERSIST, deadline_cb, l);
	l->conns = http_conns_new(l->base, h->header_timeout_s, EDU_HTTP_MAX_CONNS);
	if (!l->http || !l->wake || !l->stop_ev || !l->deadline || !l->conns)
		return EDU_ENOMEM;
	evhttp_set_max_headers_size(l->http, EDU_HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(l->http, (ev_ssize_t)h->max_body);
	evhttp_set_timeout(l->http, h->timeout_s);
	/* libevent 2.1 answers a method outside this mask itself, with 501 and
	 * without our headers; letting every method it parses through gives
	 * OPTIONS, PATCH and TRACE our 405 with Allow (TRACE never echoes).
	 * CONNECT stays out (501: this is no proxy), as do methods libevent
	 * does not know ("FOO"), which it refuses with 501 before any callback. */
	evhttp_set_allowed_methods(l->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_PATCH);
	evhttp_set_default_content_type(l->http, CT_TEXT);
	evhttp_set_gencb(l->http, on_request_in, l);
	evhttp_set_bevcb(l->http, new_bev, l);
	int fd = dup(h->fd); /* each evhttp closes its own copy */
	if (fd < 0)
		return edu_err_from_errno(errno);
	l->bound = evhttp_accept_socket_with_handle(l->http, fd);
	if (!l->bound) {
		close(fd);
		return EDU_EIO;
	}
	return EDU_OK;
}

static void loop_fini(edu_http_loop *l)
{
	if (!l->inited)
		return;
	if (l->http)
		evhttp_free(l->http);
	http_conns_free(l->conns); /* after evhttp_free: drops the last bufferevent references */
	/* stop_cb ended the loop only once pending reached 0: nothing is queued. */
	if (l->wake)
		event_free(l->wake);
	if (l->stop_ev)
		event_free(l->stop_ev);
	if (l->deadline)
		event_free(l->deadline);
	if (l->base)
		event_base_free(l->base);
	pthread_mutex_destroy(&l->mu);
}

/* A listening TCP socket with TCP_NODELAY (inherited by accepted sockets on
 * Linux: small responses are not held back by Nagle + delayed ACK). */
static edu_err listen_socket(const char *host, int port, int *fd_out, int *port_out)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *ai = NULL;
	char ps[16];
	snprintf(ps, sizeof ps, "%d", port);
	int rc = getaddrinfo(host && *host ? host : NULL, ps, &hints, &ai);
	if (rc != 0) {
		edu_log(LOG_ERR, "http: cannot resolve %s: %s", host, gai_strerror(rc));
		return EDU_EINVAL;
	}
	edu_err rv = EDU_EIO;
	int fd = -1;
	for (struct addrinfo *a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 1024) == 0) {
			struct sockaddr_storage ss;
			socklen_t sl = sizeof ss;
			getsockname(fd, (struct sockaddr *)&ss, &sl);
			*port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
			                                           : ((struct sockaddr_in *)&ss)->sin_port);
			rv = EDU_OK;
			break;
		}
		int e = errno;
		edu_log(LOG_ERR, "http: cannot listen on %s:%d: %s", host, port, strerror(e));
		rv = e == EADDRINUSE ? EDU_EEXIST : edu_err_from_errno(e);
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	*fd_out = fd;
	return rv;
}

static char *dupstr(const char *s)
{
	return strdup(s ? s : "");
}

edu_err edu_http_start(edu_http **out, const edu_http_opts *o)
{
	edu_err rv = EDU_OK;
	*out = NULL;
	if (!o->store || o->threads < 0 || o->threads > EDU_HTTP_MAX_THREADS)
		return EDU_EINVAL;
	/* Loops are woken from the store's writer thread: libevent needs locks. */
	if (evthread_use_pthreads() != 0)
		return EDU_EINTERNAL;
	edu_http *h = calloc(1, sizeof *h);
	if (!h)
		return EDU_ENOMEM;
	h->fd = -1;
	pthread_mutex_init(&h->lm_mu, NULL);
	pthread_mutex_init(&h->dir_mu, NULL);
	h->store = o->store;
	h->dirs = o->dirs;
	h->agg = o->agg;
	h->uplink = o->uplink;
	h->started_ms = o->started_ms ? o->started_ms : edu_time_now_ms();
	h->max_body = o->max_body ? o->max_body : 11u * 1024 * 1024;
	h->timeout_s = o->timeout_s > 0 ? o->timeout_s : 30;
	/* A request's head must arrive within the timeout, not only each of its bytes. */
	h->header_timeout_s = h->timeout_s < EDU_HTTP_HEADER_TIMEOUT_MAX ? h->timeout_s : EDU_HTTP_HEADER_TIMEOUT_MAX;
	h->api = o->api;
	h->api_arg = o->api_arg;
	h->boot = randombytes_random();
	h->host = dupstr(o->host);
	h->base_url = dupstr(o->base_url);
	h->self_unit = dupstr(o->self_unit);
	h->self_name = dupstr(o->self_name && *o->self_name ? o->self_name : o->self_unit);
	h->role = dupstr(o->role);
	h->cache = http_cache_new(EDU_HTTP_CACHE_ENTRIES, EDU_HTTP_CACHE_BYTES);
	if (!h->host || !h->base_url || !h->self_unit || !h->self_name || !h->role || !h->cache) {
		rv = EDU_ENOMEM;
		goto out;
	}
	if ((rv = listen_socket(o->host, o->port, &h->fd, &h->port)) != EDU_OK)
		goto out;
	h->n_loops = o->threads ? o->threads : 1;
	h->loops = calloc((size_t)h->n_loops, sizeof *h->loops);
	if (!h->loops) {
		rv = EDU_ENOMEM;
		goto out;
	}
	for (int i = 0; i < h->n_loops; i++)
		if ((rv = loop_init(h, &h->loops[i])) != EDU_OK)
			goto out;
	for (int i = 0; i < h->n_loops; i++) {
		if (pthread_create(&h->loops[i].thr, NULL, loop_main, &h->loops[i]) != 0) {
			rv = EDU_EINTERNAL;
			goto out;
		}
		h->loops[i].thr_started = true;
	}
	edu_log(LOG_NOTICE, "http: listening on %s:%d with %d loop thread(s)", h->host, h->port, h->n_loops);
	*out = h;
out:
	if (rv != EDU_OK)
		edu_http_stop(h);
	return rv;
}

int edu_http_port(const edu_http *h)
{
	return h->port;
}

void edu_http_stop(edu_http *h)
{
	if (!h)
		return;
	for (int i = 0; h->loops && i < h->n_loops; i++)
		if (h->loops[i].thr_started)
			event_active(h->loops[i].stop_ev, EV_READ, 0);
	for (int i = 0; h->loops && i < h->n_loops; i++)
		if (h->loops[i].thr_started)
			pthread_join(h->loops[i].thr, NULL);
	for (int i = 0; h->loops && i < h->n_loops; i++)
		loop_fini(&h->loops[i]);
	free(h->loops);
	if (h->fd >= 0)
		close(h->fd);
	http_cache_free(h->cache);
	pthread_mutex_destroy(&h->lm_mu);
	pthread_mutex_destroy(&h->dir_mu);
	free(h->host);
	free(h->base_url);
	free(h->self_unit);
	free(h->self_name);
	free(h->role);
	free(h);
}
