/* Per-loop connection guard: a header deadline and a connection cap.
 *
 * evhttp's timeout is an idle timeout: it restarts on every byte, so a client
 * sending one header byte a second (slowloris) keeps a connection forever.
 * libevent 2.1.12 has no hook when a request starts (evhttp_set_newreqcb is
 * 2.2), so the guard watches each connection's bufferevent, which we create
 * (evhttp's bevcb):
 *   - input arriving while the connection waits for a request starts the
 *     request clock (phase HEAD) and counts bytes;
 *   - the gencb (a complete request) moves it to SERVING: no deadline while
 *     our handler works (a store commit may take a while);
 *   - output (the response) moves it back to IDLE, where evhttp's idle
 *     timeout applies.
 * A once-a-second sweep shuts down (shutdown(2), not close: evhttp then sees
 * EOF and frees the connection itself) any connection in HEAD for longer than
 * the deadline that has sent at most EDU_HTTP_MAX_HEADERS bytes: evhttp
 * refuses bigger headers, so past that the request is in its body (an
 * upload), which only the idle timeout governs.
 *
 * Lifetime: we hold a reference on each bufferevent, so its memory stays
 * valid after evhttp frees the connection (the fd is closed then and the
 * callbacks cleared); the sweep notices that and drops the reference. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "http.h"
#include "http_internal.h"
#include "core/log.h"

#define SWEEP_MS 1000
#define HTTP_READ_MAX (256 * 1024)

typedef enum conn_phase { CONN_IDLE, CONN_HEAD, CONN_SERVING } conn_phase;

typedef struct conn {
	struct conn *prev, *next;
	http_conns *owner;
	struct bufferevent *bev;        /* one reference held */
	struct evbuffer_cb_entry *in_cb, *out_cb;
	conn_phase phase;
	bool doomed;                    /* over the cap or past its deadline: shut down */
	int fd;                         /* as indexed in by_fd, -1 before the first read */
	int64_t start_ms;               /* HEAD: when the request's first byte came */
	size_t bytes;                   /* HEAD: bytes of this request so far */
} conn;

struct http_conns {
	struct event_base *base;
	struct event *sweep;
	int64_t deadline_ms;
	int max_conns;
	int n;                          /* live (not yet released) connections */
	conn *head;
	conn **by_fd;                   /* fd -> connection, for the gencb */
	size_t by_fd_n;
	uint64_t dropped_slow, dropped_cap;
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* evhttp freed the connection: bufferevent_free closed the fd and cleared the callbacks. */
static bool conn_gone(conn *c)
{
	bufferevent_event_cb errcb = NULL;
	bufferevent_getcb(c->bev, NULL, NULL, &errcb, NULL);
	return bufferevent_getfd(c->bev) < 0 || errcb == NULL;
}

static void conn_release(conn *c)
{
	http_conns *cs = c->owner;
	if (c->fd >= 0 && (size_t)c->fd < cs->by_fd_n && cs->by_fd[c->fd] == c)
		cs->by_fd[c->fd] = NULL;
	if (c->prev)
		c->prev->next = c->next;
	else
		cs->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	cs->n--;
	if (c->in_cb)
		evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->in_cb);
	if (c->out_cb)
		evbuffer_remove_cb_entry(bufferevent_get_output(c->bev), c->out_cb);
	bufferevent_decref(c->bev);
	free(c);
}

static void conn_shutdown(conn *c)
{
	evutil_socket_t fd = bufferevent_getfd(c->bev);
	if (fd >= 0)
		shutdown(fd, SHUT_RDWR); /* evhttp reads EOF and frees the connection */
	c->doomed = true;
}

/* Records c under its fd (known once evhttp has set it). */
static void conn_index(conn *c)
{
	http_conns *cs = c->owner;
	evutil_socket_t fd = bufferevent_getfd(c->bev);
	if (fd < 0 || fd == c->fd)
		return;
	if ((size_t)fd >= cs->by_fd_n) {
		size_t n = cs->by_fd_n ? cs->by_fd_n : 64;
		while (n <= (size_t)fd)
			n *= 2;
		conn **p = realloc(cs->by_fd, n * sizeof *p);
		if (!p)
			return; /* not indexed: the request only loses its SERVING mark */
		memset(p + cs->by_fd_n, 0, (n - cs->by_fd_n) * sizeof *p);
		cs->by_fd = p;
		cs->by_fd_n = n;
	}
	/* A previous holder of this fd was closed and awaits the sweep. */
	cs->by_fd[fd] = c;
	c->fd = fd;
}

static void on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	conn *c = arg;
	if (info->n_added == 0)
		return;
	if (c->fd < 0)
		conn_index(c);
	if (c->doomed) {
		conn_shutdown(c);
		return;
	}
	if (c->phase == CONN_IDLE) {
		c->phase = CONN_HEAD;
		c->start_ms = mono_ms();
		c->bytes = 0;
	}
	if (c->phase == CONN_HEAD)
		c->bytes += info->n_added;
}

static void on_output(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	conn *c = arg;
	if (info->n_added > 0)
		c->phase = CONN_IDLE; /* a response: the request is over */
}

static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	http_conns *cs = arg;
	int64_t now = mono_ms();
	unsigned slow = 0;
	conn *next;
	for (conn *c = cs->head; c; c = next) {
		next = c->next;
		if (conn_gone(c)) {
			conn_release(c);
			continue;
		}
		if (c->doomed) {
			conn_shutdown(c);
		} else if (c->phase == CONN_HEAD && c->bytes <= EDU_HTTP_MAX_HEADERS &&
		    now - c->start_ms > cs->deadline_ms) {
			conn_shutdown(c);
			slow++;
		}
	}
	if (slow) {
		cs->dropped_slow += slow;
		edu_log(LOG_NOTICE, "http: closed %u connection(s) that sent no complete request within %lld s",
		    slow, (long long)(cs->deadline_ms / 1000));
	}
}

http_conns *http_conns_new(struct event_base *base, int deadline_s, int max_conns)
{
	http_conns *cs = calloc(1, sizeof *cs);
	if (!cs)
		return NULL;
	cs->base = base;
	cs->deadline_ms = (int64_t)(deadline_s > 0 ? deadline_s : 1) * 1000;
	cs->max_conns = max_conns > 0 ? max_conns : 1;
	cs->sweep = event_new(base, -1, EV_PERSIST, sweep_cb, cs);
	struct timeval tv = {SWEEP_MS / 1000, (SWEEP_MS % 1000) * 1000};
	if (!cs->sweep || event_add(cs->sweep, &tv) != 0) {
		http_conns_free(cs);
		return NULL;
	}
	return cs;
}

void http_conns_free(http_conns *cs)
{
	if (!cs)
		return;
	while (cs->head)
		conn_release(cs->head);
	if (cs->sweep)
		event_free(cs->sweep);
	free(cs->by_fd);
	free(cs);
}

struct bufferevent *http_conns_new_bev(http_conns *cs)
{
	struct bufferevent *bev = bufferevent_socket_new(cs->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!bev)
		return NULL;
	/* libevent reads 16 KiB a callback by default: a batch create of 64 KiB
	 * took five readv + FIONREAD pairs and five evhttp body passes. */
	bufferevent_set_max_single_read(bev, HTTP_READ_MAX);
	conn *c = calloc(1, sizeof *c);
	if (!c)
		return bev; /* unguarded rather than refused: evhttp's idle timeout still applies */
	c->owner = cs;
	c->bev = bev;
	c->fd = -1;
	c->in_cb = evbuffer_add_cb(bufferevent_get_input(bev), on_input, c);
	c->out_cb = evbuffer_add_cb(bufferevent_get_output(bev), on_output, c);
	if (!c->in_cb || !c->out_cb) {
		if (c->in_cb)
			evbuffer_remove_cb_entry(bufferevent_get_input(bev), c->in_cb);
		free(c);
		return bev;
	}
	bufferevent_incref(bev);
	c->next = cs->head;
	if (cs->head)
		cs->head->prev = c;
	cs->head = c;
	cs->n++;
	if (cs->n > cs->max_conns) {
		/* evhttp sets the fd after this returns: the first read or the next
		 * sweep shuts it down. Closed connections still counted until the
		 * sweep are few (one second's worth). */
		c->doomed = true;
		cs->dropped_cap++;
		if (cs->dropped_cap == 1 || cs->dropped_cap % 1000 == 0)
			edu_log(LOG_WARNING, "http: more than %d connections on one loop; refusing new ones "
			    "(%llu so far)", cs->max_conns, (unsigned long long)cs->dropped_cap);
	}
	return bev;
}

void http_conns_request(http_conns *cs, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
	if (fd < 0 || (size_t)fd >= cs->by_fd_n)
		return;
	conn *c = cs->by_fd[fd];
	if (c && c->bev == bev)
		c->phase = CONN_SERVING;
}

void http_conns_stats(const http_conns *cs, int *open, uint64_t *dropped_slow, uint64_t *dropped_cap)
{
	*open = cs->n;
	*dropped_slow = cs->dropped_slow;
	*dropped_cap = cs->dropped_cap;
}
