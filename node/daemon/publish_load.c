/* publish_load: N concurrent keep-alive clients POSTing items to a node's
 * /api/v1/items for a few seconds; prints acknowledged publishes per second.
 * A measuring tool for node/daemon (not a test): publish_load PORT TOKEN [CLIENTS] [SECONDS] */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CLIENTS_MAX 1024

static int port;
static const char *token;
static atomic_int stop;
static atomic_long ok, failed;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reads one response; returns its status or -1. */
static int read_response(int fd, char *buf, size_t cap)
{
	size_t have = 0;
	char *hdr_end = NULL;
	while (!hdr_end) {
		ssize_t r = read(fd, buf + have, cap - 1 - have);
		if (r <= 0)
			return -1;
		have += (size_t)r;
		buf[have] = '\0';
		hdr_end = strstr(buf, "\r\n\r\n");
		if (!hdr_end && have >= cap - 1)
			return -1;
	}
	int status = atoi(buf + 9);
	const char *cl = strcasestr(buf, "Content-Length:");
	size_t body = cl ? (size_t)atol(cl + 15) : 0;
	size_t got = have - (size_t)(hdr_end + 4 - buf);
	while (got < body) {
		ssize_t r = read(fd, buf, cap);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return status;
}

static void *client(void *arg)
{
	long id = (long)arg;
	char buf[65536], req[4096], body[1024];
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		perror("connect");
		return NULL;
	}
	for (long k = 0; !atomic_load(&stop); k++) {
		int bl = snprintf(body, sizeof body,
		    "{\"kind\":\"news\",\"title\":\"Tải thử c%ld k%ld\",\"body\":\"Nội dung thử nghiệm.\"}", id, k);
		int rl = snprintf(req, sizeof req,
		    "POST /api/v1/items HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
		    "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", token, bl, body);
		if (write(fd, req, (size_t)rl) != rl)
			break;
		int st = read_response(fd, buf, sizeof buf);
		if (st == 201)
			atomic_fetch_add(&ok, 1);
		else {
			atomic_fetch_add(&failed, 1);
			if (st < 0)
				break;
		}
	}
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: publish_load PORT TOKEN [CLIENTS] [SECONDS]\n");
		return 2;
	}
	port = atoi(argv[1]);
	token = argv[2];
	int n = argc > 3 ? atoi(argv[3]) : 64;
	double secs = argc > 4 ? atof(argv[4]) : 5;
	if (n < 1 || n > CLIENTS_MAX)
		return 2;
	pthread_t t[CLIENTS_MAX];
	double t0 = now_s();
	for (long i = 0; i < n; i++)
		pthread_create(&t[i], NULL, client, (void *)i);
	usleep((useconds_t)(secs * 1e6));
	atomic_store(&stop, 1);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	double el = now_s() - t0;
	printf("clients %d: %ld published in %.2fs = %.0f/s (%ld failed)\n", n, atomic_load(&ok), el,
	    atomic_load(&ok) / el, atomic_load(&failed));
	return atomic_load(&failed) ? 1 : 0;
}
