/* Unit tests for node/http's connection guard (conn.c) on a real evhttp
 * server over loopback: the header deadline and the connection cap. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include "http/http.h"
#include "http/http_internal.h"

typedef struct srv {
	struct event_base *base;
	struct evhttp *http;
	http_conns *conns;
	int port;
	pthread_t thr;
} srv;

static struct bufferevent *bevcb(struct event_base *base, void *arg)
{
	return http_conns_new_bev(((srv *)arg)->conns);
}

static void gencb(struct evhttp_request *req, void *arg)
{
	srv *s = arg;
	http_conns_request(s->conns, req);
	struct evbuffer *b = evbuffer_new();
	evbuffer_add(b, "ok", 2);
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void *loop_main(void *arg)
{
	srv *s = arg;
	event_base_loop(s->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

static void srv_start(srv *s, int deadline_s, int max_conns)
{
	memset(s, 0, sizeof *s);
	s->base = event_base_new();
	assert_non_null(s->base);
	s->http = evhttp_new(s->base);
	s->conns = http_conns_new(s->base, deadline_s, max_conns);
	assert_non_null(s->http);
	assert_non_null(s->conns);
	evhttp_set_timeout(s->http, 30); /* the idle timeout alone never fires here */
	evhttp_set_bevcb(s->http, bevcb, s);
	evhttp_set_gencb(s->http, gencb, s);
	struct evhttp_bound_socket *b = evhttp_bind_socket_with_handle(s->http, "127.0.0.1", 0);
	assert_non_null(b);
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	assert_int_equal(getsockname(evhttp_bound_socket_get_fd(b), (struct sockaddr *)&sa, &sl), 0);
	s->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&s->thr, NULL, loop_main, s), 0);
}

static void srv_stop(srv *s)
{
	event_base_loopbreak(s->base);
	pthread_join(s->thr, NULL);
	evhttp_free(s->http);
	http_conns_free(s->conns);
	event_base_free(s->base);
}

static int dial(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	return fd;
}

/* 1: the peer closed (EOF or reset), 0: still open after wait_ms. */
static int closed_within(int fd, int wait_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, wait_ms) <= 0)
		return 0;
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
	return n <= 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void send_str(int fd, const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* A client dribbling header bytes faster than the idle timeout is closed
 * after the deadline; a keep-alive client making whole requests is not. */
static void deadline(void **st)
{
	srv s;
	srv_start(&s, 1, 100);
	int slow = dial(s.port), good = dial(s.port);
	send_str(slow, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ");
	double t0 = now_s(), closed_at = 0;
	char buf[512];
	for (int i = 0; i < 40 && !closed_at; i++) {
		/* the good client: a whole request every 100 ms, answered */
		send_str(good, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
		struct pollfd p = {.fd = good, .events = POLLIN};
		assert_int_equal(poll(&p, 1, 2000), 1);
		ssize_t n = recv(good, buf, sizeof buf - 1, 0);
		assert_true(n > 0);
		buf[n] = '\0';
		assert_non_null(strstr(buf, "200 OK"));
		if (send(slow, "a", 1, MSG_NOSIGNAL) != 1 || closed_within(slow, 100))
			closed_at = now_s() - t0;
	}
	assert_true(closed_at >= 0.9 && closed_at < 3.5); /* deadline 1 s, checked once a second */
	assert_false(closed_within(good, 0));
	close(slow);
	close(good);
	srv_stop(&s);
}

/* Beyond max_conns, new connections are closed; freed slots count again. */
static void cap(void **st)
{
	srv s;
	srv_start(&s, 5, 2);
	int a = dial(s.port), b = dial(s.port), c = dial(s.port);
	assert_true(closed_within(c, 1500));
	assert_false(closed_within(a, 0));
	send_str(a, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_false(closed_within(b, 200));
	close(c);
	close(b);
	usleep(1200 * 1000); /* the sweep releases b and c */
	int d = dial(s.port);
	send_str(d, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	struct pollfd p = {.fd = d, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 2000), 1);
	char buf[256];
	ssize_t n = recv(d, buf, sizeof buf - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "200 OK"));
	int open_n;
	uint64_t slow_n, cap_n;
	http_conns_stats(s.conns, &open_n, &slow_n, &cap_n); /* racy read: only the cap count */
	assert_true(cap_n >= 1);
	close(a);
	close(d);
	srv_stop(&s);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(deadline),
		cmocka_unit_test(cap),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
