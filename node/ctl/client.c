/* The HTTP/1.1 client: libevent's evhttp, one connection per request. */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <poll.h>
#include <unistd.h>
#include <sys/socket.h>
#include <event2/event.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

int ctl_read_token(const char *path, char **out, char *why, size_t whylen)
{
	int rv = CTL_EXIT_FAIL;
	char buf[CTL_TOKEN_MAX + 1];
	size_t len = 0;
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return rv;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof buf - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, whylen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > CTL_TOKEN_MAX) {
			snprintf(why, whylen, "%s: more than %d bytes", path, CTL_TOKEN_MAX);
			goto out;
		}
	}
	size_t a = 0;
	while (a < len && (buf[a] == ' ' || buf[a] == '\t' || buf[a] == '\r' || buf[a] == '\n'))
		a++;
	size_t b = a;
	while (b < len && (unsigned char)buf[b] > ' ' && (unsigned char)buf[b] < 0x7f)
		b++;
	if (b == a) {
		snprintf(why, whylen, "%s: no token in the file", path);
		goto out;
	}
	if (!(*out = strndup(buf + a, b - a))) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	rv = CTL_EXIT_OK;
out:
	memset(buf, 0, sizeof buf);
	close(fd);
	return rv;
}

int ctl_init(ctl *c, const ctl_args *a, FILE *out, FILE *err)
{
	char why[512];
	struct evhttp_uri *u = NULL;
	int rv = CTL_EXIT_USAGE;
	memset(c, 0, sizeof *c);
	c->out = out;
	c->err = err;
	c->json = a->json;
	c->timeout_s = CTL_TIMEOUT_S;
	const char *node = a->node ? a->node : CTL_DEFAULT_NODE;
	if (!(c->node = strdup(node)))
		goto oom;
	u = evhttp_uri_parse(node);
	const char *scheme = u ? evhttp_uri_get_scheme(u) : NULL;
	const char *host = u ? evhttp_uri_get_host(u) : NULL;
	if (!u || !scheme || strcmp(scheme, "http") != 0 || !host || !*host ||
	    evhttp_uri_get_query(u) || evhttp_uri_get_fragment(u)) {
		fprintf(err, "edunetctl: --node %s: cần dạng http://HOST[:PORT] (chỉ hỗ trợ http)\n", node);
		goto out;
	}
	c->port = evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) : 80;
	const char *path = evhttp_uri_get_path(u);
	if (!(c->host = strdup(host)) || !(c->prefix = strdup(path ? path : "")))
		goto oom;
	size_t n = strlen(c->prefix);
	while (n > 0 && c->prefix[n - 1] == '/')
		c->prefix[--n] = '\0';
	if (a->token_file) {
		if (ctl_read_token(a->token_file, &c->token, why, sizeof why) != CTL_EXIT_OK) {
			fprintf(err, "edunetctl: --token-file %s\n", why);
			rv = CTL_EXIT_FAIL;
			goto out;
		}
	} else if (getenv("EDUNET_TOKEN") && *getenv("EDUNET_TOKEN")) {
		if (!(c->token = strdup(getenv("EDUNET_TOKEN"))))
			goto oom;
	}
	rv = CTL_EXIT_OK;
	goto out;
oom:
	fprintf(err, "edunetctl: out of memory\n");
	rv = CTL_EXIT_FAIL;
out:
	if (u)
		evhttp_uri_free(u);
	return rv;
}

void ctl_fini(ctl *c)
{
	if (c->token)
		memset(c->token, 0, strlen(c->token));
	free(c->token);
	free(c->node);
	free(c->host);
	free(c->prefix);
	memset(c, 0, sizeof *c);
}

char *ctl_encode(const char *s)
{
	return evhttp_uriencode(s, -1, 0);
}

typedef struct req_state {
	ctl *c;
	struct event_base *base;
	int status;
	bool done;
	int error;       /* enum evhttp_request_error + 1; 0: none */
	edu_buf *resp;
	bool oom;
} req_state;

/* Streams a 200 body to c->sink as it arrives (backups can be gigabytes);
 * anything else stays in memory for the error message. */
static void on_chunk(struct evhttp_request *req, void *arg)
{
	req_state *st = arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	if (evhttp_request_get_response_code(req) != 200) {
		size_t n = evbuffer_get_length(in); /* an error message: keep it */
		if (edu_buf_reserve(st->resp, n) != EDU_OK)
			st->oom = true;
		else
			st->resp->len += (size_t)evbuffer_remove(in, st->resp->p + st->resp->len, n);
		if (st->resp->p)
			st->resp->p[st->resp->len] = '\0';
		return;
	}
	while (evbuffer_get_length(in) > 0) {
		char buf[65536];
		int n = evbuffer_remove(in, buf, sizeof buf);
		if (n <= 0)
			break;
		if (!st->c->sink_err && fwrite(buf, 1, (size_t)n, st->c->sink) != (size_t)n)
			st->c->sink_err = errno ? errno : EIO;
	}
}

static void on_error(enum evhttp_request_error e, void *arg)
{
	req_state *st = arg;
	st->error = (int)e + 1;
}

static void on_done(struct evhttp_request *req, void *arg)
{
	req_state *st = arg;
	st->done = true;
	if (req && evhttp_request_get_response_code(req) > 0) {
		st->status = evhttp_request_get_response_code(req);
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t n = evbuffer_get_length(in);
		if (edu_buf_reserve(st->resp, n) != EDU_OK)
			st->oom = true;
		else
			st->resp->len += (size_t)evbuffer_remove(in, st->resp->p + st->resp->len, n);
		if (st->resp->p)
			st->resp->p[st->resp->len] = '\0';
	}
	event_base_loopexit(st->base, NULL);
}

/* libevent loses the connect error (its cleanup's shutdown() overwrites
 * errno with ENOTCONN), so after a failed request without a response we ask
 * the OS once more: a short non-blocking connect that reports SO_ERROR. */
static void probe_reason(const ctl *c, char *out, size_t len)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	char port[16];
	int fd = -1;
	snprintf(port, sizeof port, "%d", c->port);
	int g = getaddrinfo(c->host, port, &hints, &ai);
	if (g != 0) {
		snprintf(out, len, "%s", gai_strerror(g));
		return;
	}
	snprintf(out, len, "kết nối bị đóng");
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0) {
		snprintf(out, len, "%s", strerror(errno));
		goto out;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		goto out;
	if (errno != EINPROGRESS) {
		snprintf(out, len, "%s", strerror(errno));
		goto out;
	}
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int r = poll(&p, 1, 3000);
	int e = 0;
	socklen_t el = sizeof e;
	if (r == 0)
		snprintf(out, len, "hết thời gian chờ");
	else if (r > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e != 0)
		snprintf(out, len, "%s", strerror(e));
out:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
}

static void error_reason(const ctl *c, const req_state *st, char *out, size_t len)
{
	switch (st->error - 1) {
	case EVREQ_HTTP_TIMEOUT: snprintf(out, len, "hết thời gian chờ (%d s)", c->timeout_s); return;
	case EVREQ_HTTP_INVALID_HEADER: snprintf(out, len, "phản hồi HTTP không hợp lệ"); return;
	case EVREQ_HTTP_DATA_TOO_LONG: snprintf(out, len, "phản hồi quá lớn"); return;
	default: probe_reason(c, out, len);
	}
}

int ctl_http(ctl *c, const char *method, const char *path, const char *content_type,
             const void *body, size_t len, int *status, edu_buf *resp)
{
	int rv = CTL_EXIT_FAIL;
	req_state st = {.c = c, .resp = resp};
	struct evhttp_connection *conn = NULL;
	struct evhttp_request *req = NULL;
	char *uri = NULL;
	enum evhttp_cmd_type type;
	*status = 0;
	edu_buf_reset(resp);
	if (strcmp(method, "GET") == 0)
		type = EVHTTP_REQ_GET;
	else if (strcmp(method, "POST") == 0)
		type = EVHTTP_REQ_POST;
	else if (strcmp(method, "PUT") == 0)
		type = EVHTTP_REQ_PUT;
	else
		type = EVHTTP_REQ_DELETE;
	if (!(st.base = event_base_new()))
		goto oom;
	if (!(conn = evhttp_connection_base_new(st.base, NULL, c->host, (unsigned short)c->port)))
		goto oom;
	evhttp_connection_set_timeout(conn, c->timeout_s);
	evhttp_connection_set_retries(conn, 0);
	evhttp_connection_set_max_body_size(conn, c->sink ? EV_SIZE_MAX : CTL_RESPONSE_MAX);
	if (!(req = evhttp_request_new(on_done, &st)))
		goto oom;
	if (c->sink)
		evhttp_request_set_chunked_cb(req, on_chunk);
	evhttp_request_set_error_cb(req, on_error);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	char hostport[300];
	snprintf(hostport, sizeof hostport, strchr(c->host, ':') ? "[%s]:%d" : "%s:%d", c->host, c->port);
	evhttp_add_header(h, "Host", hostport);
	evhttp_add_header(h, "Accept", "application/json");
	evhttp_add_header(h, "User-Agent", "edunetctl");
	evhttp_add_header(h, "Connection", "close");
	if (c->token) {
		char auth[CTL_TOKEN_MAX + 16];
		snprintf(auth, sizeof auth, "Bearer %s", c->token);
		evhttp_add_header(h, "Authorization", auth);
		memset(auth, 0, sizeof auth);
	}
	if (body || type == EVHTTP_REQ_POST || type == EVHTTP_REQ_PUT) {
		char cl[32];
		snprintf(cl, sizeof cl, "%zu", len);
		evhttp_add_header(h, "Content-Length", cl);
		if (content_type)
			evhttp_add_header(h, "Content-Type", content_type);
		if (len && evbuffer_add(evhttp_request_get_output_buffer(req), body, len) != 0)
			goto oom;
	}
	size_t ulen = strlen(c->prefix) + strlen(path) + 1;
	if (!(uri = malloc(ulen)))
		goto oom;
	snprintf(uri, ulen, "%s%s", c->prefix, path);
	if (evhttp_make_request(conn, req, type, uri) != 0) {
		req = NULL; /* freed by libevent on failure */
		goto unreach;
	}
	req = NULL; /* owned by the connection now */
	event_base_dispatch(st.base);
	if (st.oom)
		goto oom;
	if (!st.done || st.status == 0)
		goto unreach;
	*status = st.status;
	rv = CTL_EXIT_OK;
	goto out;
unreach: {
	char reason[256];
	error_reason(c, &st, reason, sizeof reason);
	fprintf(c->err, "không kết nối được tới node %s: %s\n", c->node, reason);
}
	rv = CTL_EXIT_UNREACH;
	goto out;
oom:
	fprintf(c->err, "edunetctl: out of memory\n");
	rv = CTL_EXIT_FAIL;
out:
	if (req)
		evhttp_request_free(req);
	if (conn)
		evhttp_connection_free(conn);
	if (st.base)
		event_base_free(st.base);
	free(uri);
	return rv;
}

int ctl_api(ctl *c, const char *method, const char *path, const char *content_type,
            const void *body, size_t len, json_t **out)
{
	edu_buf resp = EDU_BUF_INIT;
	int status;
	json_t *doc = NULL;
	if (out)
		*out = NULL;
	int rv = ctl_http(c, method, path, content_type, body, len, &status, &resp);
	if (rv != CTL_EXIT_OK)
		goto out;
	json_error_t je;
	if (resp.len > 0)
		doc = json_loadb(resp.p, resp.len, 0, &je);
	if (status >= 300) {
		const char *msg = doc ? json_string_value(json_object_get(doc, "message")) : NULL;
		const char *code = doc ? json_string_value(json_object_get(doc, "error")) : NULL;
		if (msg)
			fprintf(c->err, "lỗi: %s (HTTP %d%s%s)\n", msg, status, code ? " " : "", code ? code : "");
		else
			fprintf(c->err, "lỗi: node trả về HTTP %d%s%.200s\n", status, resp.len ? ": " : "",
			        resp.len ? resp.p : "");
		rv = CTL_EXIT_FAIL;
		goto out;
	}
	if (out) {
		if (!doc) {
			fprintf(c->err, "lỗi: phản hồi của node không phải JSON (HTTP %d)\n", status);
			rv = CTL_EXIT_FAIL;
			goto out;
		}
		*out = doc;
		doc = NULL;
	}
out:
	json_decref(doc);
	edu_buf_free(&resp);
	return rv;
}
