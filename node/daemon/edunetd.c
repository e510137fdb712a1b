/* edunetd: runs one node (SPEC §3). A thin main over edu_node. */
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "conf/conf.h"
#include "core/log.h"
#include "node.h"

#ifndef EDU_VERSION
#error "EDU_VERSION must come from the build (PROJECT_VERSION)"
#endif

static void usage(FILE *f)
{
	fprintf(f,
	    "usage: edunetd -c FILE           run a node\n"
	    "       edunetd --check-config -c FILE   validate FILE and exit (0 ok, 1 bad)\n"
	    "       edunetd --version\n"
	    "       edunetd --sample-config   print a commented sample config\n");
}

#define EDU_STOP_GRACE_S 8

static void *stop_watchdog(void *arg)
{
	(void)arg;
	struct timespec ts = {EDU_STOP_GRACE_S, 0};
	while (nanosleep(&ts, &ts) != 0)
		;
	edu_log(LOG_WARNING, "edunetd: stop took over %d s (a network close hung); exiting now, "
	    "all acknowledged data is on disk", EDU_STOP_GRACE_S);
	_exit(0);
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", no_argument, NULL, 'k'},
		{"version", no_argument, NULL, 'V'},
		{"sample-config", no_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	bool check = false;
	int ch;
	while ((ch = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'k': check = true; break;
		case 'V': printf("edunetd %s\n", EDU_VERSION); return 0;
		case 's': edu_conf_write_sample(stdout); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!path || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "edunetd: libsodium failed to initialise\n");
		return 1;
	}
	char why[512] = "";
	edu_conf *conf = NULL;
	if (edu_conf_load(&conf, path, why, sizeof why) != EDU_OK) {
		fprintf(stderr, "edunetd: %s\n", why[0] ? why : path);
		return 1;
	}
	if (check) {
		printf("%s: ok\n", path);
		edu_conf_free(conf);
		return 0;
	}
	edu_log_set_level(conf->log_level);
	edu_log_hook_libevent();

	/* Every thread inherits this mask; only sigwait below sees the signals. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	edu_node *node = NULL;
	edu_err rv = edu_node_start(&node, conf, EDU_VERSION, why, sizeof why);
	if (rv != EDU_OK) {
		edu_log(LOG_ERR, "edunetd: %s", why[0] ? why : edu_strerror(rv));
		edu_conf_free(conf);
		return 1;
	}
	/* Replication and batch publishing allocate and free megabytes per
	 * batch. With glibc's defaults (mmap above 128 KiB, the heap trimmed
	 * after frees) every batch maps fresh pages and faults them in again:
	 * measured here, a fifth of a parent's CPU. Keep freed memory for reuse
	 * while busy; the node gives it back once idle (give_memory_back in
	 * node.c). Set only now: the large buffers allocated at start (LMDB's
	 * 2 MiB dirty list) stay untouched mmap'd zero pages instead of heap
	 * memory that calloc must clear. */
	mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
	mallopt(M_TOP_PAD, 4 * 1024 * 1024);
	int sig = 0;
	/* SIGHUP re-reads the revocation list; SIGTERM/SIGINT stop. */
	while (sigwait(&stop, &sig) == 0 && sig == SIGHUP)
		edu_node_reload(node);
	edu_log(LOG_NOTICE, "edunetd: %s, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	/* nng 1.5.2's nng_close can hang when parent and child close links at the
	 * same moment. Every acknowledged write is already durable, so a stop that
	 * takes too long ends the process rather than leaving it running. */
	pthread_t wd;
	if (pthread_create(&wd, NULL, stop_watchdog, NULL) == 0)
		pthread_detach(wd);
	edu_node_stop(node);
	edu_conf_free(conf);
	return 0;
}
