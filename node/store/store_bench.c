/* store_bench [seconds] [threads] [dir]: durable commits per second with many
 * threads each committing one 1 KiB item at a time (group commit at work).
 * Prints `metric value unit` lines. Not a test. */
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "store/store.h"

#define BENCH_THREADS_MAX 1024
#define BENCH_LAT_MAX (1u << 22)

typedef struct bench {
	edu_store *s;
	int64_t end_ns;
	_Atomic size_t n_lat;
	uint32_t *lat_us;
	_Atomic uint64_t failures;
} bench;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *worker(void *arg)
{
	bench *b = arg;
	char body[1025];
	for (size_t i = 0; i < 1024; i++)
		body[i] = "abcdefghij klmnopqrstuvwxyz "[i % 28];
	body[1024] = '\0';
	while (now_ns() < b->end_ns) {
		edu_item *it = edu_item_new();
		edu_store_batch *bt = NULL;
		edu_record r = {0};
		if (it == NULL) {
			atomic_fetch_add(&b->failures, 1);
			continue;
		}
		free(it->unit);
		free(it->title);
		free(it->body);
		it->unit = strdup("thcs-bench");
		it->title = strdup("Bản tin thử tải");
		it->body = strdup(body);
		it->seq = edu_store_next_seq(b->s);
		it->version = 1;
		it->kind = EDU_KIND_NEWS;
		it->published = it->updated = 1767225600 + (int64_t)(it->seq % 100000);
		int64_t t0 = now_ns();
		if (it->unit == NULL || it->title == NULL || it->body == NULL ||
		    edu_item_encode(it, &r.item, &r.item_len) != EDU_OK || edu_store_batch_new(&bt) != EDU_OK ||
		    edu_store_batch_put_record(bt, &r) != EDU_OK || edu_store_commit(b->s, bt) != EDU_OK ||
		    edu_store_batch_result(bt, 0, NULL) != EDU_PUT_APPLIED) {
			atomic_fetch_add(&b->failures, 1);
		} else {
			size_t k = atomic_fetch_add(&b->n_lat, 1);
			if (k < BENCH_LAT_MAX)
				b->lat_us[k] = (uint32_t)((now_ns() - t0) / 1000);
		}
		edu_store_batch_free(bt);
		edu_record_clear(&r);
		edu_item_free(it);
	}
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	return remove(p);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3.0;
	int threads = argc > 2 ? atoi(argv[2]) : 64;
	char tmp[] = "/tmp/edu-store-bench-XXXXXX";
	const char *dir = argc > 3 ? argv[3] : NULL;
	if (secs <= 0 || secs > 3600 || threads < 1 || threads > BENCH_THREADS_MAX) {
		fprintf(stderr, "usage: store_bench [seconds 0-3600] [threads 1-%d] [dir]\n", BENCH_THREADS_MAX);
		return 2;
	}
	if (dir == NULL && (dir = mkdtemp(tmp)) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	edu_log_set_level(LOG_WARNING);
	bench b = {0};
	edu_store_opts o = {.dir = dir, .self_unit = "thcs-bench"};
	if (edu_store_open(&b.s, &o) != EDU_OK) {
		fprintf(stderr, "store_bench: cannot open store in %s\n", dir);
		return 1;
	}
	b.lat_us = malloc(BENCH_LAT_MAX * sizeof *b.lat_us);
	pthread_t *th = calloc((size_t)threads, sizeof *th);
	if (b.lat_us == NULL || th == NULL)
		return 1;
	int64_t t0 = now_ns();
	b.end_ns = t0 + (int64_t)(secs * 1e9);
	for (int i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, worker, &b);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	double elapsed = (double)(now_ns() - t0) / 1e9;

	edu_store_rd *r = NULL;
	edu_store_stats st = {0};
	if (edu_store_read_begin(b.s, &r) == EDU_OK) {
		edu_store_stats_get(r, &st);
		edu_store_read_end(r);
	}
	size_t n = atomic_load(&b.n_lat);
	size_t nl = n < BENCH_LAT_MAX ? n : BENCH_LAT_MAX;
	qsort(b.lat_us, nl, sizeof *b.lat_us, cmp_u32);
	printf("threads %d count\n", threads);
	printf("item_bytes 1024 bytes\n");
	printf("durable_items %zu items\n", n);
	printf("durable_items_per_s %.0f items/s\n", (double)n / elapsed);
	printf("transactions %" PRIu64 " txns\n", st.commits);
	printf("items_per_txn %.1f items\n", st.commits ? (double)n / (double)st.commits : 0.0);
	printf("commit_latency_p50 %.2f ms\n", nl ? b.lat_us[nl / 2] / 1000.0 : 0.0);
	printf("commit_latency_p99 %.2f ms\n", nl ? b.lat_us[nl * 99 / 100] / 1000.0 : 0.0);
	printf("map_used %.1f MiB\n", (double)st.map_used / (1024.0 * 1024.0));
	printf("failures %" PRIu64 " count\n", atomic_load(&b.failures));
	edu_store_close(b.s);
	if (dir == tmp)
		nftw(tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(th);
	free(b.lat_us);
	return atomic_load(&b.failures) ? 1 : 0;
}
