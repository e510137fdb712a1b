/* Unit tests for node/store, each on a fresh store in its own temp dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <lmdb.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "text/text.h"

#define SELF "thcs-an-binh"

static char tmpl[64];

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	return remove(p);
}

static int setup(void **state)
{
	snprintf(tmpl, sizeof tmpl, "/tmp/edu-store-test-XXXXXX");
	if (mkdtemp(tmpl) == NULL)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	nftw(tmpl, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static edu_store *open_at(const char *dir, uint64_t map, uint64_t max, const char *self)
{
	edu_store *s = NULL;
	edu_store_opts o = {.dir = dir, .map_size = map, .map_max = max, .self_unit = self};
	assert_int_equal(edu_store_open(&s, &o), EDU_OK);
	return s;
}

static edu_store *open_tmp(void)
{
	return open_at(tmpl, 0, 0, SELF);
}

/* The store's LMDB env opened directly (the store closed), to fake what
 * older builds wrote; raw_end commits (or aborts a read-only txn) and closes. */
static MDB_txn *raw_begin(MDB_env **env, unsigned flags)
{
	MDB_txn *txn = NULL;
	assert_int_equal(mdb_env_create(env), 0);
	mdb_env_set_maxdbs(*env, 16);
	assert_int_equal(mdb_env_open(*env, tmpl, flags, 0640), 0);
	assert_int_equal(mdb_txn_begin(*env, NULL, flags, &txn), 0);
	return txn;
}

static void raw_end(MDB_env *env, MDB_txn *txn, bool commit)
{
	if (commit)
		assert_int_equal(mdb_txn_commit(txn), 0);
	else
		mdb_txn_abort(txn);
	mdb_env_close(env);
}

/* Writes meta "store.format" = f in txn. */
static void raw_set_format(MDB_txn *txn, uint8_t f)
{
	MDB_dbi meta;
	uint8_t b[4] = {0, 0, 0, f};
	MDB_val k = {strlen("store.format"), "store.format"}, v = {4, b};
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
}

static void setstr(char **p, const char *v)
{
	free(*p);
	*p = strdup(v);
	assert_non_null(*p);
}

static edu_item *mk(const char *unit, uint64_t seq, uint32_t ver, edu_kind kind, int64_t pub, const char *title,
    const char *body)
{
	edu_item *it = edu_item_new();
	assert_non_null(it);
	setstr(&it->unit, unit);
	it->seq = seq;
	it->version = ver;
	it->kind = kind;
	it->published = pub;
	it->updated = pub;
	it->tz_offset_min = 420;
	setstr(&it->title, title);
	setstr(&it->body, body);
	return it;
}

static void add_item(edu_store_batch *b, const edu_item *it)
{
	edu_record r = {0};
	assert_int_equal(edu_item_encode(it, &r.item, &r.item_len), EDU_OK);
	assert_int_equal(edu_store_batch_put_record(b, &r), EDU_OK);
	edu_record_clear(&r);
}

/* Commits one item alone; returns its outcome. */
static edu_put_result put(edu_store *s, const edu_item *it, uint64_t *log_seq)
{
	edu_store_batch *b = NULL;
	assert_int_equal(edu_store_batch_new(&b), EDU_OK);
	add_item(b, it);
	assert_int_equal(edu_store_commit(s, b), EDU_OK);
	edu_put_result res = edu_store_batch_result(b, 0, log_seq);
	edu_store_batch_free(b);
	return res;
}

/* Puts and frees. */
static edu_put_result put_free(edu_store *s, edu_item *it)
{
	edu_put_result r = put(s, it, NULL);
	edu_item_free(it);
	return r;
}

static void check_store(edu_store *s)
{
	edu_store_rd *r = NULL;
	char why[256] = "";
	assert_int_equal(edu_store_read_begin(s, &r), EDU_OK);
	edu_err rv = edu_store_check(r, why, sizeof why);
	if (rv != EDU_OK)
		fail_msg("store check: %s", why);
	edu_store_read_end(r);
}

static edu_store_stats stats(edu_store *s)
{
	edu_store_rd *r = NULL;
	edu_store_stats st;
	assert_int_equal(edu_store_read_begin(s, &r), EDU_OK);
	assert_int_equal(edu_store_stats_get(r, &st), EDU_OK);
	edu_store_read_end(r);
	return st;
}

/* Runs a query; returns the number of items and checks nothing else. */
static size_t query(edu_store *s, const edu_query *q, edu_item ***items, bool *more)
{
	edu_store_rd *r = NULL;
	size_t n = 0;
	assert_int_equal(edu_store_read_begin(s, &r), EDU_OK);
	assert_int_equal(edu_store_query(r, q, items, &n, more), EDU_OK);
	edu_store_read_end(r);
	return n;
}

static size_t search_count(edu_store *s, const char *text)
{
	edu_item **items = NULL;
	bool more = false;
	edu_query q = {.q = text, .limit = 1000};
	size_t n = query(s, &q, &items, &more);
	edu_store_items_free(items, n);
	return n;
}

static void origin_cb(const char *unit, uint64_t items, uint64_t max_seq, void *arg)
{
	char *out = arg;
	size_t l = strlen(out);
	snprintf(out + l, 256 - l, "%s=%" PRIu64 "/%" PRIu64 ";", unit, items, max_seq);
}

/* ---- cases ------------------------------------------------------------------- */

static void test_roundtrip(void **state)
{
	edu_store *s = open_tmp();
	uint64_t gen0 = edu_store_generation(s);
	assert_int_equal(edu_store_next_seq(s), 1);
	edu_item *it = mk(SELF, 1, 1, EDU_KIND_NEWS, 1767225600, "Lễ khai giảng", "Nội dung **đẹp**");
	setstr(&it->summary, "Tóm tắt");
	it->tags = calloc(1, sizeof *it->tags);
	it->tags[0] = strdup("khai-giang");
	it->n_tags = 1;
	uint64_t lseq = 0;
	assert_int_equal(put(s, it, &lseq), EDU_PUT_APPLIED);
	assert_int_equal(lseq, 1);
	assert_true(edu_store_generation(s) > gen0);
	assert_int_equal(edu_store_log_head(s), 1);
	assert_int_equal(edu_store_next_seq(s), 2);

	edu_store_batch *b = NULL;
	assert_int_equal(edu_store_batch_new(&b), EDU_OK);
	assert_int_equal(edu_store_batch_put_meta(b, "uplink.acked", "42", 2), EDU_OK);
	assert_int_equal(edu_store_commit(s, b), EDU_OK);
	edu_store_batch_free(b);

	edu_store_rd *r = NULL;
	assert_int_equal(edu_store_read_begin(s, &r), EDU_OK);
	edu_item *got = NULL;
	assert_int_equal(edu_store_get(r, SELF, 1, &got), EDU_OK);
	assert_string_equal(got->title, "Lễ khai giảng");
	assert_string_equal(got->summary, "Tóm tắt");
	assert_string_equal(got->body, "Nội dung **đẹp**");
	assert_int_equal(got->n_tags, 1);
	assert_string_equal(got->tags[0], "khai-giang");
	assert_int_equal(got->published, 1767225600);
	assert_int_equal(got->kind, EDU_KIND_NEWS);
	assert_true(got->received_ms > 0);
	edu_item_free(got);
	assert_int_equal(edu_store_get(r, SELF, 2, &got), EDU_ENOENT);
	assert_null(got);
	assert_int_equal(edu_store_get(r, "other-unit", 1, &got), EDU_ENOENT);

	edu_record rec = {0};
	uint8_t *enc = NULL;
	size_t enc_len = 0;
	assert_int_equal(edu_item_encode(it, &enc, &enc_len), EDU_OK);
	assert_int_equal(edu_store_get_record(r, SELF, 1, &rec), EDU_OK);
	assert_int_equal(rec.item_len, enc_len);
	assert_memory_equal(rec.item, enc, enc_len);
	assert_false(rec.has_sig);
	assert_true(rec.received_ms > 0);
	edu_record_clear(&rec);
	free(enc);

	char *val = NULL;
	size_t vlen = 0;
	assert_int_equal(edu_store_meta_get(r, "uplink.acked", &val, &vlen), EDU_OK);
	assert_int_equal(vlen, 2);
	assert_string_equal(val, "42");
	free(val);
	assert_int_equal(edu_store_meta_get(r, "nope", &val, &vlen), EDU_ENOENT);

	edu_store_stats st;
	assert_int_equal(edu_store_stats_get(r, &st), EDU_OK);
	assert_int_equal(st.items_total, 1);
	assert_int_equal(st.items_own, 1);
	assert_int_equal(st.tombstones, 0);
	assert_int_equal(st.log_head, 1);
	assert_int_equal(st.commits, 2);
	assert_int_equal(st.map_size, 64ull * 1024 * 1024);
	assert_true(st.map_used > 0 && st.map_used < st.map_size);
	edu_store_read_end(r);

	/* another origin does not count as own */
	assert_int_equal(put_free(s, mk("pgd-tanhong", 7, 1, EDU_KIND_DOCUMENT, 100, "Văn bản", "")), EDU_PUT_APPLIED);
	assert_int_equal(edu_store_read_begin(s, &r), EDU_OK);
	char origins[256] = "";
	assert_int_equal(edu_store_origins(r, origin_cb, origins), EDU_OK);
	assert_string_equal(origins, "pgd-tanhong=1/7;thcs-an-binh=1/1;");
	assert_int_equal(edu_store_stats_get(r, &st), EDU_OK);
	assert_int_equal(st.items_total, 2);
	assert_int_equal(st.items_own, 1);
	edu_store_read_end(r);

	check_store(s);
	edu_item_free(it);
	edu_store_close(s);
}

static void test_newest_wins(void **state)
{
	edu_store *s = open_tmp();
	edu_item *v1 = mk(SELF, 3, 1, EDU_KIND_NEWS, 1000, "Bản một", "thân bài");
	edu_item *v1b = mk(SELF, 3, 1, EDU_KIND_NEWS, 1000, "Bản một khác", "thân bài");
	edu_item *v2 = mk(SELF, 3, 2, EDU_KIND_ANNOUNCEMENT, 2000, "Bản hai", "thân bài mới");
	edu_item *v3 = mk(SELF, 3, 3, EDU_KIND_EVENT, 3000, "Bản ba", "");
	uint64_t ls = 99;

	assert_int_equal(put(s, v1, &ls), EDU_PUT_APPLIED);
	assert_int_equal(ls, 1);
	assert_int_equal(put(s, v1, &ls), EDU_PUT_DUPLICATE);
	assert_int_equal(ls, 0);
	assert_int_equal(put(s, v1b, NULL), EDU_PUT_CONFLICT);
	assert_int_equal(put(s, v2, &ls), EDU_PUT_APPLIED);
	assert_int_equal(ls, 2);
	assert_int_equal(put(s, v1, NULL), EDU_PUT_STALE);
	assert_int_equal(put(s, v1b, NULL), EDU_PUT_STALE);
	assert_int_equal(edu_store_log_head(s), 2);

	/* several records in one batch see each other in order */
	edu_store_batch *b = NULL;
	assert_int_equal(edu_store_batch_new(&b), EDU_OK);
	add_item(b, v3);
	add_item(b, v3);
	add_item(b, v2);
	edu_record junk = {.item = (uint8_t *)"\xff\xff\xff", .item_len = 3};
	assert_int_equal(edu_store_batch_put_record(b, &junk), EDU_OK);
	assert_int_equal(edu_store_batch_records(b), 4);
	assert_int_equal(edu_store_commit(s, b), EDU_OK);
	assert_int_equal(edu_store_batch_result(b, 0, &ls), EDU_PUT_APPLIED);
	assert_int_equal(ls, 3);
	assert_int_equal(edu_store_batch_result(b, 1, NULL), EDU_PUT_DUPLICATE);
	assert_int_equal(edu_store_batch_result(b, 2, NULL), EDU_PUT_STALE);
	assert_int_equal(edu_store_batch_result(b, 3, NULL), EDU_PUT_INVALID);
	assert_int_equal(edu_store_batch_result(b, 4, NULL), EDU_PUT_INVALID); /* out of range */
	edu_store_batch_free(b);

	edu_store_rd *r = NULL;
	edu_item *got = NULL;
	assert_int_equal(edu_store_read_begin(s, &r), EDU_OK);
	assert_int_equal(edu_store_get(r, SELF, 3, &got), EDU_OK);
	assert_int_equal(got->version, 3);
	assert_string_equal(got->title, "Bản ba");
	assert_int_equal(got->kind, EDU_KIND_EVENT);
	edu_item_free(got);
	edu_store_read_end(r);

	/* only the current version is indexed */
	edu_item **items = NULL;
	bool more = true;
	edu_query q = {.limit = 10};
	assert_int_equal(query(s, &q, &items, &more), 1);
	assert_int_equal(items[0]->version, 3);
	assert_false(more);
	edu_store_items_free(items, 1);
	q.kind = EDU_KIND_NEWS;
	assert_int_equal(query(s, &q, &items, &more), 0);
	edu_store_items_free(items, 0);
	assert_int_equal(search_count(s, "ba"), 1);
	assert_int_equal(search_count(s, "hai"), 0);
	assert_int_equal(stats(s).items_total, 1);
	check_store(s);

	edu_item_free(v1);
	edu_item_free(v1b);
	edu_item_free(v2);
	edu_item_free(v3);
	edu_store_close(s);
}

static void test_tombstone(void **state)
{
	edu_store *s = open_tmp();
	assert_int_equal(put_free(s, mk(SELF, 1, 1, EDU_KIND_NEWS, 500, "Khai giảng năm học", "")), EDU_PUT_APPLIED);
	assert_int_equal(put_free(s, mk(SELF, 2, 1, EDU_KIND_NEWS, 600, "Tin khác", "")), EDU_PUT_APPLIED);
	assert_int_equal(search_count(s, "khai giang"), 1);

	edu_item *t = mk(SELF, 1, 2, EDU_KIND_NEWS, 500, "", "");
	t->deleted = true;
	assert_int_equal(put_free(s, t), EDU_PUT_APPLIED);
	assert_int_equal(search_count(s, "khai giang"), 0);

	edu_item **items = NULL;
	bool more;
	const char *units[] = {SELF};
	edu_query q = {.limit = 10};
	size_t n = query(s, &q, &items, &more);
	assert_int_equal(n, 1);
	assert_int_equal(items[0]->seq, 2);
	edu_store_items_free(items, n);
	q.units = units;
	q.n_units = 1;
	q.kind = EDU_KIND_NEWS;
	n = query(s, &q, &items, &more);
	assert_int_equal(n, 1);
	assert_int_equal(items[0]->seq, 2);
	edu_store_items_free(items, n);

	edu_store_rd *r = NULL;
	edu_item *got = NULL;
	assert_int_equal(edu_store_read_begin(s, &r), EDU_OK);
	assert_int_equal(edu_store_get(r, SELF, 1, &got), EDU_OK);
	assert_true(got->deleted);
	assert_int_equal(got->version, 2);
	edu_item_free(got);
	edu_store_stats st;
	assert_int_equal(edu_store_stats_get(r, &st), EDU_OK);
	assert_int_equal(st.items_total, 1);
	assert_int_equal(st.items_own, 1);
	assert_int_equal(st.tombstones, 1);
	edu_store_read_end(r);
	check_store(s);

	/* the same tombstone again is a duplicate; a newer version revives it */
	t = mk(SELF, 1, 2, EDU_KIND_NEWS, 500, "", "");
	t->deleted = true;
	assert_int_equal(put_free(s, t), EDU_PUT_DUPLICATE);
	assert_int_equal(put_free(s, mk(SELF, 1, 3, EDU_KIND_NEWS, 500, "Khai giảng lại", "")), EDU_PUT_APPLIED);
	assert_int_equal(search_count(s, "khai giang"), 1);
	st = stats(s);
	assert_int_equal(st.items_total, 2);
	assert_int_equal(st.tombstones, 0);
	check_store(s);
	edu_store_close(s);
}

/* Expected order: published, unit, seq all descending. */
typedef struct ref {
	char unit[41];
	uint64_t seq;
	int64_t pub;
	edu_kind kind;
} ref;

static int ref_cmp(const void *a, const void *b)
{
	const ref *x = a, *y = b;
	if (x->pub != y->pub)
		return x->pub > y->pub ? -1 : 1;
	int c = strcmp(x->unit, y->unit);
	if (c != 0)
		return -c;
	return x->seq > y->seq ? -1 : x->seq < y->seq;
}

/* Pages through q with page size `page` and compares with the expected list. */
static void page_all(edu_store *s, edu_query q, size_t page, const ref *want, size_t n_want)
{
	size_t got = 0, pages = 0;
	q.limit = page;
	for (;;) {
		edu_item **items = NULL;
		bool more = false;
		size_t n = query(s, &q, &items, &more);
		pages++;
		for (size_t i = 0; i < n; i++, got++) {
			assert_true(got < n_want);
			if (strcmp(items[i]->unit, want[got].unit) != 0 || items[i]->seq != want[got].seq)
				fail_msg("position %zu: got %s:%" PRIu64 ", want %s:%" PRIu64, got, items[i]->unit,
				    items[i]->seq, want[got].unit, want[got].seq);
		}
		if (n > 0) {
			q.before_ts = items[n - 1]->published;
			q.before_seq = items[n - 1]->seq;
			static char cu[41];
			snprintf(cu, sizeof cu, "%s", items[n - 1]->unit);
			q.before_unit = cu;
		}
		edu_store_items_free(items, n);
		if (!more)
			break;
		assert_int_equal(n, page);
		assert_true(pages < 10000);
	}
	assert_int_equal(got, n_want);
}

static size_t filter_refs(const ref *all, size_t n, ref *out, const char *const *units, size_t nu, edu_kind kind)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		bool ok = units == NULL;
		for (size_t j = 0; j < nu; j++)
			ok |= strcmp(units[j], all[i].unit) == 0;
		if (ok && (kind == EDU_KIND_NONE || kind == all[i].kind))
			out[m++] = all[i];
	}
	qsort(out, m, sizeof *out, ref_cmp);
	return m;
}

static void load_refs(edu_store *s, ref *all, size_t n, size_t per_batch)
{
	edu_store_batch *b = NULL;
	for (size_t i = 0; i < n; i++) {
		if (b == NULL)
			assert_int_equal(edu_store_batch_new(&b), EDU_OK);
		edu_item *it = mk(all[i].unit, all[i].seq, 1, all[i].kind, all[i].pub, "Tiêu đề", "");
		add_item(b, it);
		edu_item_free(it);
		if (edu_store_batch_records(b) == per_batch || i + 1 == n) {
			assert_int_equal(edu_store_commit(s, b), EDU_OK);
			for (size_t j = 0; j < edu_store_batch_records(b); j++)
				assert_int_equal(edu_store_batch_result(b, j, NULL), EDU_PUT_APPLIED);
			edu_store_batch_free(b);
			b = NULL;
		}
	}
}

static void test_query_paging(void **state)
{
	edu_store *s = open_tmp();
	enum { N = 250 };
	ref *all = calloc(N, sizeof *all), *want = calloc(N, sizeof *want);
	for (size_t i = 0; i < N; i++) {
		snprintf(all[i].unit, sizeof all[i].unit, "%s", SELF);
		all[i].seq = i + 1;
		all[i].pub = 1700000000 + (int64_t)(i * 7 % 83); /* many ties */
		all[i].kind = (edu_kind)(i % 4 + 1);
	}
	load_refs(s, all, N, 40);
	edu_query q = {0};
	size_t m = filter_refs(all, N, want, NULL, 0, EDU_KIND_NONE);
	page_all(s, q, 7, want, m);
	page_all(s, q, 1000, want, m);
	page_all(s, q, 1, want, m);
	q.kind = EDU_KIND_DOCUMENT;
	m = filter_refs(all, N, want, NULL, 0, EDU_KIND_DOCUMENT);
	assert_true(m > 50);
	page_all(s, q, 9, want, m);
	const char *units[] = {SELF};
	q.units = units;
	q.n_units = 1;
	page_all(s, q, 4, want, m);
	q.kind = EDU_KIND_NONE;
	m = filter_refs(all, N, want, NULL, 0, EDU_KIND_NONE);
	page_all(s, q, 13, want, m);

	/* a cursor with only a time: everything published strictly before it */
	edu_query t = {.before_ts = 1700000000 + 40, .limit = 1000};
	edu_item **items = NULL;
	bool more;
	size_t n = query(s, &t, &items, &more);
	size_t expect = 0;
	for (size_t i = 0; i < N; i++)
		expect += all[i].pub < 1700000000 + 40;
	assert_int_equal(n, expect);
	for (size_t i = 0; i < n; i++)
		assert_true(items[i]->published < 1700000000 + 40);
	edu_store_items_free(items, n);
	free(all);
	free(want);
	edu_store_close(s);
}

static void test_query_multi_unit(void **state)
{
	edu_store *s = open_tmp();
	enum { U = 6, PER = 50, MANY = 300 };
	size_t n_all = U * PER + MANY * 2;
	ref *all = calloc(n_all, sizeof *all), *want = calloc(n_all, sizeof *want);
	char names[U][41];
	size_t k = 0;
	for (size_t u = 0; u < U; u++) {
		snprintf(names[u], sizeof names[u], "th-unit-%zu", u);
		for (size_t i = 0; i < PER; i++, k++) {
			memcpy(all[k].unit, names[u], sizeof all[k].unit);
			all[k].seq = i + 1;
			all[k].pub = 1000 + (int64_t)((i * 13 + u * 5) % 37); /* ties across units */
			all[k].kind = (edu_kind)((i + u) % 3 + 1);
		}
	}
	/* hundreds of small units, as at the Sở */
	static char many[MANY][41];
	const char *many_p[MANY];
	for (size_t u = 0; u < MANY; u++) {
		snprintf(many[u], sizeof many[u], "mn-%03zu", u);
		many_p[u] = many[u];
		for (size_t i = 0; i < 2; i++, k++) {
			memcpy(all[k].unit, many[u], sizeof all[k].unit);
			all[k].seq = i + 1;
			all[k].pub = 900 + (int64_t)((u * 7 + i) % 150);
			all[k].kind = EDU_KIND_NEWS;
		}
	}
	assert_int_equal(k, n_all);
	load_refs(s, all, n_all, 100);

	const char *sel[] = {names[4], names[1], "th-not-stored", names[3], names[1]};
	edu_query q = {.units = sel, .n_units = 5};
	size_t m = filter_refs(all, n_all, want, sel, 5, EDU_KIND_NONE);
	assert_int_equal(m, 3 * PER);
	page_all(s, q, 9, want, m);
	page_all(s, q, 1, want, m);
	q.kind = EDU_KIND_ANNOUNCEMENT;
	m = filter_refs(all, n_all, want, sel, 5, EDU_KIND_ANNOUNCEMENT);
	page_all(s, q, 5, want, m);

	edu_query qm = {.units = many_p, .n_units = MANY};
	m = filter_refs(all, n_all, want, many_p, MANY, EDU_KIND_NONE);
	assert_int_equal(m, MANY * 2);
	page_all(s, qm, 50, want, m);

	edu_query none = {.units = sel, .n_units = 0, .limit = 10};
	edu_item **items = NULL;
	bool more = true;
	assert_int_equal(query(s, &none, &items, &more), 0);
	assert_false(more);
	edu_store_items_free(items, 0);
	free(all);
	free(want);
	edu_store_close(s);
}

static void test_search(void **state)
{
	edu_store *s = open_tmp();
	assert_int_equal(put_free(s, mk(SELF, 1, 1, EDU_KIND_NEWS, 100, "Học sinh giỏi cấp tỉnh", "Chúc mừng các em.")),
	    EDU_PUT_APPLIED);
	assert_int_equal(put_free(s, mk(SELF, 2, 1, EDU_KIND_NEWS, 200, "Khai giảng năm học mới",
	                                  "Tại Đồng Tháp, các trường đồng loạt khai giảng.")),
	    EDU_PUT_APPLIED);
	edu_item *it = mk("pgd-tanhong", 1, 1, EDU_KIND_ANNOUNCEMENT, 300, "Thông báo tuyển sinh", "");
	setstr(&it->summary, "Tuyển sinh lớp 6, NĂM 2026");
	assert_int_equal(put_free(s, it), EDU_PUT_APPLIED);

	assert_int_equal(search_count(s, "hoc sinh"), 1);
	assert_int_equal(search_count(s, "HỌC SINH"), 1);
	assert_int_equal(search_count(s, "dong thap"), 1);
	assert_int_equal(search_count(s, "Đồng Tháp"), 1);
	assert_int_equal(search_count(s, "hoc"), 2);
	assert_int_equal(search_count(s, "sinh"), 2);
	assert_int_equal(search_count(s, "NAM"), 2);
	assert_int_equal(search_count(s, "hoc sinh gioi"), 1);
	assert_int_equal(search_count(s, "khai giang"), 1);
	assert_int_equal(search_count(s, "khai giang sinh"), 0);
	assert_int_equal(search_count(s, "xyzzy"), 0);
	assert_int_equal(search_count(s, "!!! ..."), 0);

	/* newest first */
	edu_item **items = NULL;
	bool more;
	edu_query q = {.q = "nam", .limit = 1};
	size_t n = query(s, &q, &items, &more);
	assert_int_equal(n, 1);
	assert_true(more);
	assert_string_equal(items[0]->unit, "pgd-tanhong");
	edu_store_items_free(items, n);

	/* combined with unit and kind filters */
	const char *units[] = {SELF};
	edu_query qu = {.q = "hoc", .units = units, .n_units = 1, .limit = 10};
	n = query(s, &qu, &items, &more);
	assert_int_equal(n, 2);
	assert_false(more);
	edu_store_items_free(items, n);
	edu_query qk = {.q = "sinh", .kind = EDU_KIND_ANNOUNCEMENT, .limit = 10};
	n = query(s, &qk, &items, &more);
	assert_int_equal(n, 1);
	assert_string_equal(items[0]->unit, "pgd-tanhong");
	edu_store_items_free(items, n);

	/* an update drops the old terms and adds the new */
	assert_int_equal(put_free(s, mk(SELF, 1, 2, EDU_KIND_NEWS, 100, "Giáo viên dạy giỏi", "")), EDU_PUT_APPLIED);
	assert_int_equal(search_count(s, "hoc sinh"), 0);
	assert_int_equal(search_count(s, "chuc mung"), 0);
	assert_int_equal(search_count(s, "giao vien"), 1);
	assert_int_equal(search_count(s, "gioi"), 1);

	/* paging through a search */
	edu_store_batch *b = NULL;
	assert_int_equal(edu_store_batch_new(&b), EDU_OK);
	ref want[40];
	for (size_t i = 0; i < 40; i++) {
		edu_item *x = mk("thpt-cao-lanh", i + 1, 1, EDU_KIND_NEWS, 5000 + (int64_t)(i % 9), "Bản tin trường",
		    i % 2 ? "số lẻ" : "số chẵn");
		add_item(b, x);
		edu_item_free(x);
		snprintf(want[i].unit, sizeof want[i].unit, "thpt-cao-lanh");
		want[i].seq = i + 1;
		want[i].pub = 5000 + (int64_t)(i % 9);
	}
	assert_int_equal(edu_store_commit(s, b), EDU_OK);
	edu_store_batch_free(b);
	qsort(want, 40, sizeof *want, ref_cmp);
	edu_query qp = {.q = "ban tin"};
	page_all(s, qp, 6, want, 40);
	ref odd[20];
	size_t m = 0;
	for (size_t i = 0; i < 40; i++)
		if (want[i].seq % 2 == 0)
			odd[m++] = want[i];
	edu_query qo = {.q = "tin le"};
	page_all(s, qo, 3, odd, m);
	check_store(s);
	edu_store_close(s);
}

static void test_blobs(void **state)
{
	edu_store *s = open_tmp();
	const char data[] = "%PDF-1.4 tệp đính kèm";
	uint8_t sha[32], sha2[32];
	crypto_hash_sha256(sha, (const uint8_t *)data, sizeof data);
	crypto_hash_sha256(sha2, (const uint8_t *)"other", 5);

	edu_item *it = mk(SELF, 1, 1, EDU_KIND_DOCUMENT, 100, "Công văn", "");
	it->attachments = calloc(1, sizeof *it->attachments);
	it->n_attachments = 1;
	it->attachments[0].name = strdup("cong-van.pdf");
	it->attachments[0].media_type = strdup("application/pdf");
	it->attachments[0].size = sizeof data;
	memcpy(it->attachments[0].sha256, sha, 32);

	/* no blob anywhere */
	assert_int_equal(put(s, it, NULL), EDU_PUT_MISSING_BLOB);
	/* blob after the record in the same batch: still missing at that point */
	edu_store_batch *b = NULL;
	assert_int_equal(edu_store_batch_new(&b), EDU_OK);
	add_item(b, it);
	assert_int_equal(edu_store_batch_put_blob(b, sha2, "other", 5), EDU_OK);
	assert_int_equal(edu_store_batch_put_blob(b, sha2, data, sizeof data), EDU_EINVAL); /* hash mismatch */
	assert_int_equal(edu_store_commit(s, b), EDU_OK);
	assert_int_equal(edu_store_batch_result(b, 0, NULL), EDU_PUT_MISSING_BLOB);
	edu_store_batch_free(b);
	/* blob first: applied */
	assert_int_equal(edu_store_batch_new(&b), EDU_OK);
	assert_int_equal(edu_store_batch_put_blob(b, sha, data, sizeof data), EDU_OK);
	assert_int_equal(edu_store_batch_put_blob(b, sha, data, sizeof data), EDU_OK);
	add_item(b, it);
	assert_int_equal(edu_store_commit(s, b), EDU_OK);
	assert_int_equal(edu_store_batch_result(b, 0, NULL), EDU_PUT_APPLIED);
	edu_store_batch_free(b);
	/* stored once */
	assert_int_equal(edu_store_batch_new(&b), EDU_OK);
	assert_int_equal(edu_store_batch_put_blob(b, sha, data, sizeof data), EDU_OK);
	assert_int_equal(edu_store_commit(s, b), EDU_OK);
	edu_store_batch_free(b);
	assert_int_equal(stats(s).blobs, 2);

	/* a later version referencing the stored blob needs no blob in its batch */
	it->version = 2;
	assert_int_equal(put(s, it, NULL), EDU_PUT_APPLIED);

	edu_store_rd *r = NULL;
	uint8_t *got = NULL;
	size_t len = 0;
	assert_int_equal(edu_store_read_begin(s, &r), EDU_OK);
	assert_true(edu_store_blob_has(r, sha));
	assert_int_equal(edu_store_blob_get(r, sha, &got, &len), EDU_OK);
	assert_int_equal(len, sizeof data);
	assert_memory_equal(got, data, len);
	free(got);
	uint8_t zero[32] = {0};
	assert_false(edu_store_blob_has(r, zero));
	assert_int_equal(edu_store_blob_get(r, zero, &got, &len), EDU_ENOENT);
	edu_store_read_end(r);
	check_store(s);
	edu_item_free(it);
	edu_store_close(s);
}

typedef struct late_put {
	edu_store *s;
	int delay_ms;
} late_put;

static void *late_put_main(void *arg)
{
	late_put *lp = arg;
	struct timespec ts = {0, lp->delay_ms * 1000000L};
	nanosleep(&ts, NULL);
	edu_item *it = mk(SELF, 50, 1, EDU_KIND_NEWS, 100, "Muộn", "");
	put(lp->s, it, NULL);
	edu_item_free(it);
	return NULL;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Postings are put when a batch ends (sorted); an item replaced within the
 * same batch must leave only its last version searchable. */
static void test_search_same_batch(void **state)
{
	edu_store *s = open_tmp();
	edu_store_batch *b = NULL;
	assert_int_equal(edu_store_batch_new(&b), EDU_OK);
	edu_item *v1 = mk(SELF, 7, 1, EDU_KIND_NEWS, 100, "Hội khỏe Phù Đổng", "Vòng loại cấp trường.");
	edu_item *v2 = mk(SELF, 7, 2, EDU_KIND_NEWS, 150, "Hội thi giáo viên giỏi", "Vòng chung kết.");
	edu_item *v3 = mk(SELF, 7, 3, EDU_KIND_NEWS, 160, "Hội thi giáo viên giỏi cấp huyện", "Kết quả.");
	edu_item *other = mk(SELF, 8, 1, EDU_KIND_NEWS, 120, "Hội khỏe Phù Đổng cấp huyện", "Vòng loại.");
	add_item(b, v1);
	add_item(b, other);
	add_item(b, v2);
	add_item(b, v3);
	assert_int_equal(edu_store_commit(s, b), EDU_OK);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(edu_store_batch_result(b, i, NULL), EDU_PUT_APPLIED);
	edu_store_batch_free(b);
	assert_int_equal(search_count(s, "phu dong"), 1);   /* v1's words: only the other item */
	assert_int_equal(search_count(s, "vong loai"), 1);
	assert_int_equal(search_count(s, "chung ket"), 0);  /* v2's */
	assert_int_equal(search_count(s, "giao vien gioi"), 1);
	assert_int_equal(search_count(s, "ket qua"), 1);
	assert_int_equal(search_count(s, "cap huyen"), 2);
	check_store(s); /* every posting belongs to a live item's current version */
	edu_item_free(v1);
	edu_item_free(v2);
	edu_item_free(v3);
	edu_item_free(other);
	edu_store_close(s);
}

/* The log reader follows the items tree with a cursor, trying the next entry
 * before searching: every kind of step (neighbour, gap, another origin, back
 * to an earlier key, past the end) must give the logged item. */
static void test_log_interleaved(void **state)
{
	edu_store *s = open_tmp();
	static const char *units[] = {"th-a", "th-b", "th-c"};
	struct { int u; uint64_t seq; uint32_t ver; } order[200];
	size_t n = 0;
	uint32_t rnd = 12345;
	edu_store_batch *b = NULL;
	assert_int_equal(edu_store_batch_new(&b), EDU_OK);
	for (uint64_t seq = 1; n < 180; seq++) {
		for (int u = 0; u < 3 && n < 180; u++) {
			rnd = rnd * 1103515245u + 12345u;
			if ((rnd >> 16) % 4 == 0)
				continue; /* a gap in this origin's seqs */
			edu_item *it = mk(units[u], seq, 1, EDU_KIND_NEWS, 1000 + (int64_t)n, "Tin", "");
			add_item(b, it);
			edu_item_free(it);
			order[n].u = u, order[n].seq = seq, order[n].ver = 1, n++;
		}
	}
	/* updates of early items: the log goes back to earlier keys */
	for (size_t i = 0; i < 20; i += 3) {
		edu_item *it = mk(units[order[i].u], order[i].seq, 2, EDU_KIND_NEWS, 5000, "Tin sửa", "");
		add_item(b, it);
		edu_item_free(it);
		order[n] = order[i];
		order[n++].ver = 2;
		order[i].ver = 0; /* outdated: skipped by the reader */
	}
	assert_int_equal(edu_store_commit(s, b), EDU_OK);
	edu_store_batch_free(b);

	edu_store_rd *r = NULL;
	edu_log_batch lb = {0};
	assert_int_equal(edu_store_read_begin(s, &r), EDU_OK);
	size_t want = 0;
	for (uint64_t after = 0, chunk = 1;; chunk = chunk % 23 + 4) { /* reads that start anywhere */
		assert_int_equal(edu_store_log_read(r, after, chunk, 1 << 20, &lb), EDU_OK);
		if (lb.n == 0)
			break;
		after = lb.e[lb.n - 1].log_seq;
		for (size_t k = 0; k < lb.n; k++) {
			while (order[want].ver == 0)
				want++;
			assert_int_equal(lb.e[k].log_seq, want + 1);
			assert_string_equal(lb.e[k].head.unit, units[order[want].u]);
			assert_int_equal(lb.e[k].head.seq, order[want].seq);
			assert_int_equal(lb.e[k].head.version, order[want].ver);
			want++;
		}
	}
	assert_int_equal(want, n);
	edu_store_log_batch_free(&lb);
	edu_store_read_end(r);
	edu_store_close(s);
}

static void test_log(void **state)
{
	edu_store *s = open_tmp();
	for (uint64_t i = 1; i <= 5; i++)
		assert_int_equal(put_free(s, mk(SELF, i, 1, EDU_KIND_NEWS, 100 + (int64_t)i, "Mục", "")), EDU_PUT_APPLIED);
	assert_int_equal(put_free(s, mk(SELF, 1, 2, EDU_KIND_NEWS, 101, "Mục sửa", "")), EDU_PUT_APPLIED);
	assert_int_equal(edu_store_log_head(s), 6);

	edu_store_rd *r = NULL;
	edu_log_batch lb = {0};
	edu_log_entry *e;
	size_t n;
	assert_int_equal(edu_store_read_begin(s, &r), EDU_OK);
	assert_int_equal(edu_store_log_read(r, 0, 100, 1 << 20, &lb), EDU_OK);
	e = lb.e, n = lb.n;
	/* entry 1 (seq 1, version 1) is outdated by entry 6 and skipped */
	assert_int_equal(n, 5);
	uint64_t want_seq[] = {2, 3, 4, 5, 6};
	for (size_t i = 0; i < n; i++)
		assert_int_equal(e[i].log_seq, want_seq[i]);
	edu_item *it = NULL;
	assert_int_equal(edu_item_decode(e[4].rec.item, e[4].rec.item_len, &it), EDU_OK);
	assert_int_equal(it->seq, 1);
	assert_int_equal(it->version, 2);
	assert_int_equal(e[4].head.seq, 1);
	assert_int_equal(e[4].head.version, 2);
	assert_string_equal(e[4].head.unit, SELF);
	edu_item_free(it);
	/* the entry's bytes are the stored record */
	edu_record rec;
	assert_int_equal(edu_store_get_record(r, SELF, 1, &rec), EDU_OK);
	edu_record_ref ref;
	assert_int_equal(edu_record_view(e[4].record, e[4].record_len, &ref), EDU_OK);
	assert_int_equal(ref.item_len, rec.item_len);
	assert_memory_equal(ref.item, rec.item, rec.item_len);
	assert_true(ref.received_ms == rec.received_ms);
	edu_record_clear(&rec);
	assert_int_equal(edu_store_log_read(r, 2, 2, 1 << 20, &lb), EDU_OK);
	e = lb.e, n = lb.n;
	assert_int_equal(n, 2);
	assert_int_equal(e[0].log_seq, 3);
	assert_int_equal(e[1].log_seq, 4);
	assert_int_equal(edu_store_log_read(r, 0, 100, 1, &lb), EDU_OK);
	assert_int_equal(lb.n, 1); /* at least one even over max_bytes */
	assert_int_equal(edu_store_log_read(r, 6, 100, 1 << 20, &lb), EDU_OK);
	assert_int_equal(lb.n, 0);
	uint64_t count = 0;
	int64_t oldest = 0;
	assert_int_equal(edu_store_log_backlog(r, 0, &count, &oldest), EDU_OK);
	assert_int_equal(count, 6);
	assert_true(oldest > 0);
	assert_int_equal(edu_store_log_backlog(r, 4, &count, &oldest), EDU_OK);
	assert_int_equal(count, 2);
	edu_store_read_end(r);

	edu_store_batch *b = NULL;
	assert_int_equal(edu_store_batch_new(&b), EDU_OK);
	assert_int_equal(edu_store_batch_trim_log(b, 3), EDU_OK);
	assert_int_equal(edu_store_commit(s, b), EDU_OK);
	edu_store_batch_free(b);
	assert_int_equal(edu_store_read_begin(s, &r), EDU_OK);
	assert_int_equal(edu_store_log_backlog(r, 0, &count, &oldest), EDU_OK);
	assert_int_equal(count, 3);
	assert_int_equal(edu_store_log_read(r, 0, 100, 1 << 20, &lb), EDU_OK);
	assert_int_equal(lb.n, 3);
	assert_int_equal(lb.e[0].log_seq, 4);
	edu_store_log_batch_free(&lb);
	edu_store_read_end(r);
	check_store(s);

	/* log_wait: times out without commits, wakes on a commit */
	int64_t t0 = mono_ms();
	assert_int_equal(edu_store_log_wait(s, 6, 60), 6);
	assert_true(mono_ms() - t0 >= 50);
	assert_int_equal(edu_store_log_wait(s, 5, 5000), 6); /* already past: at once */
	late_put lp = {s, 50};
	pthread_t th;
	pthread_create(&th, NULL, late_put_main, &lp);
	t0 = mono_ms();
	assert_int_equal(edu_store_log_wait(s, 6, 10000), 7);
	assert_true(mono_ms() - t0 < 5000);
	pthread_join(th, NULL);

	/* trim everything: the head does not go back, even across a reopen */
	assert_int_equal(edu_store_batch_new(&b), EDU_OK);
	assert_int_equal(edu_store_batch_trim_log(b, 100), EDU_OK);
	assert_int_equal(edu_store_commit(s, b), EDU_OK);
	edu_store_batch_free(b);
	edu_store_close(s);
	s = open_tmp();
	assert_int_equal(edu_store_log_head(s), 7);
	uint64_t ls = 0;
	it = mk(SELF, 51, 1, EDU_KIND_NEWS, 100, "Sau", "");
	assert_int_equal(put(s, it, &ls), EDU_PUT_APPLIED);
	edu_item_free(it);
	assert_int_equal(ls, 8);
	check_store(s);
	edu_store_close(s);
}

static char *body_of(size_t len, unsigned seed)
{
	static const char *words[] = {"học", "sinh", "trường", "lớp", "giáo", "viên", "năm", "mới", "thi", "đua"};
	char *b = malloc(len + 16);
	size_t n = 0;
	while (n < len) {
		const char *w = words[(seed = seed * 1103515245 + 12345) >> 16 & 7];
		size_t l = strlen(w);
		memcpy(b + n, w, l);
		n += l;
		b[n++] = ' ';
	}
	b[n] = '\0';
	return b;
}

static void test_map_growth(void **state)
{
	edu_store *s = open_at(tmpl, 1 << 20, 0, SELF);
	enum { N = 3000, PER = 100 };
	for (size_t i = 0; i < N; i += PER) {
		edu_store_batch *b = NULL;
		assert_int_equal(edu_store_batch_new(&b), EDU_OK);
		for (size_t j = i; j < i + PER; j++) {
			char *body = body_of(600, (unsigned)j);
			edu_item *it = mk(SELF, j + 1, 1, EDU_KIND_NEWS, 1000 + (int64_t)j, "Tin", body);
			free(body);
			add_item(b, it);
			edu_item_free(it);
		}
		assert_int_equal(edu_store_commit(s, b), EDU_OK);
		for (size_t j = 0; j < PER; j++)
			assert_int_equal(edu_store_batch_result(b, j, NULL), EDU_PUT_APPLIED);
		edu_store_batch_free(b);
	}
	edu_store_stats st = stats(s);
	assert_int_equal(st.items_total, N);
	assert_true(st.map_size > (1 << 20) * 4);
	edu_store_rd *r = NULL;
	assert_int_equal(edu_store_read_begin(s, &r), EDU_OK);
	for (uint64_t i = 1; i <= N; i++) {
		edu_item *it = NULL;
		assert_int_equal(edu_store_get(r, SELF, i, &it), EDU_OK);
		edu_item_free(it);
	}
	edu_store_read_end(r);
	check_store(s);
	edu_store_close(s);
}

static void test_map_max(void **state)
{
	edu_store *s = open_at(tmpl, 1 << 20, 2 << 20, SELF);
	uint64_t acked = 0;
	edu_err rv = EDU_OK;
	for (int round = 0; round < 1000 && rv == EDU_OK; round++) {
		edu_store_batch *b = NULL;
		assert_int_equal(edu_store_batch_new(&b), EDU_OK);
		for (int j = 0; j < 10; j++) {
			char *body = body_of(2000, (unsigned)(acked + (uint64_t)j));
			edu_item *it = mk(SELF, acked + (uint64_t)j + 1, 1, EDU_KIND_NEWS, 1000, "Đầy", body);
			free(body);
			add_item(b, it);
			edu_item_free(it);
		}
		rv = edu_store_commit(s, b);
		if (rv == EDU_OK) {
			acked += 10;
		} else {
			for (size_t j = 0; j < 10; j++)
				assert_int_equal(edu_store_batch_result(b, j, NULL), EDU_PUT_INVALID);
		}
		edu_store_batch_free(b);
	}
	assert_int_equal(rv, EDU_ENOSPC);
	assert_true(acked > 100);
	edu_store_stats st = stats(s);
	assert_int_equal(st.items_total, acked);
	assert_int_equal(st.map_size, 2 << 20);
	check_store(s);
	/* still full: the same write fails cleanly again; reads keep working */
	edu_store_batch *b = NULL;
	assert_int_equal(edu_store_batch_new(&b), EDU_OK);
	for (int j = 0; j < 10; j++) {
		char *body = body_of(2000, (unsigned)(acked + (uint64_t)j));
		edu_item *it = mk(SELF, acked + (uint64_t)j + 1, 1, EDU_KIND_NEWS, 1000, "Đầy", body);
		free(body);
		add_item(b, it);
		edu_item_free(it);
	}
	assert_int_equal(edu_store_commit(s, b), EDU_ENOSPC);
	edu_store_batch_free(b);
	check_store(s);
	edu_store_rd *r = NULL;
	assert_int_equal(edu_store_read_begin(s, &r), EDU_OK);
	for (uint64_t i = 1; i <= acked; i++) {
		edu_item *got = NULL;
		assert_int_equal(edu_store_get(r, SELF, i, &got), EDU_OK);
		edu_item_free(got);
	}
	edu_store_read_end(r);
	edu_store_close(s);
	/* reopened with the same limit: everything acknowledged is there */
	s = open_at(tmpl, 1 << 20, 2 << 20, SELF);
	assert_int_equal(stats(s).items_total, acked);
	assert_int_equal(edu_store_next_seq(s), acked + 1);
	check_store(s);
	edu_store_close(s);
	/* and with a larger limit it accepts writes again */
	s = open_at(tmpl, 1 << 20, 8 << 20, SELF);
	assert_int_equal(put_free(s, mk(SELF, acked + 1, 1, EDU_KIND_NEWS, 1000, "Lại", "")), EDU_PUT_APPLIED);
	check_store(s);
	edu_store_close(s);
}

typedef struct gc_arg {
	edu_store *s;
	int id;
	int n;
	int failures;
} gc_arg;

static void *gc_main(void *arg)
{
	gc_arg *a = arg;
	char unit[41];
	snprintf(unit, sizeof unit, "th-writer-%d", a->id);
	for (int i = 0; i < a->n; i++) {
		edu_item *it = mk(unit, (uint64_t)i + 1, 1, EDU_KIND_NEWS, 1000 + i, "Tin nhóm", "nội dung");
		edu_store_batch *b = NULL;
		edu_record r = {0};
		if (edu_store_batch_new(&b) != EDU_OK || edu_item_encode(it, &r.item, &r.item_len) != EDU_OK ||
		    edu_store_batch_put_record(b, &r) != EDU_OK || edu_store_commit(a->s, b) != EDU_OK ||
		    edu_store_batch_result(b, 0, NULL) != EDU_PUT_APPLIED)
			a->failures++;
		edu_record_clear(&r);
		edu_store_batch_free(b);
		edu_item_free(it);
	}
	return NULL;
}

static void test_group_commit(void **state)
{
	edu_store *s = open_tmp();
	enum { T = 8, N = 500 };
	pthread_t th[T];
	gc_arg a[T];
	for (int i = 0; i < T; i++) {
		a[i] = (gc_arg){s, i, N, 0};
		pthread_create(&th[i], NULL, gc_main, &a[i]);
	}
	for (int i = 0; i < T; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(a[i].failures, 0);
	}
	edu_store_stats st = stats(s);
	assert_int_equal(st.items_total, T * N);
	assert_int_equal(st.log_head, T * N);
	assert_true(st.commits < T * N);
	print_message("group commit: %d commits in %" PRIu64 " transactions\n", T * N, st.commits);
	check_store(s);
	edu_store_close(s);
	s = open_tmp();
	assert_int_equal(stats(s).items_total, T * N);
	edu_store_close(s);
}

static void test_reopen(void **state)
{
	edu_store *s = open_tmp();
	for (int i = 0; i < 10; i++) {
		uint64_t seq = edu_store_next_seq(s);
		assert_int_equal(put_free(s, mk(SELF, seq, 1, EDU_KIND_NEWS, 100 + i, "Giữ lại", "")), EDU_PUT_APPLIED);
	}
	uint64_t unused = edu_store_next_seq(s); /* handed out, never committed */
	assert_int_equal(unused, 11);
	edu_store_close(s);

	s = open_tmp();
	assert_int_equal(edu_store_next_seq(s), 11); /* continues after the highest committed */
	edu_store_stats st = stats(s);
	assert_int_equal(st.items_total, 10);
	assert_int_equal(st.items_own, 10);
	assert_int_equal(st.log_head, 10);
	assert_int_equal(st.commits, 0);
	assert_int_equal(search_count(s, "giu lai"), 10);
	check_store(s);
	edu_store_close(s);

	/* a newer store format is refused */
	MDB_env *env = NULL;
	MDB_txn *txn = raw_begin(&env, 0);
	raw_set_format(txn, STORE_FORMAT + 1);
	raw_end(env, txn, true);
	edu_store_opts o = {.dir = tmpl, .self_unit = SELF};
	s = NULL;
	assert_int_equal(edu_store_open(&s, &o), EDU_EVERSION);
	assert_null(s);
}

/* ---- crash -------------------------------------------------------------------- */

typedef struct crash_arg {
	edu_store *s;
	int fd;
	int id;
} crash_arg;

static void *crash_writer(void *arg)
{
	crash_arg *a = arg;
	uint64_t prev = 0;
	for (;;) {
		uint64_t seq = edu_store_next_seq(a->s);
		edu_store_batch *b = NULL;
		if (edu_store_batch_new(&b) != EDU_OK)
			_exit(3);
		char *body = body_of(300 + seq % 500, (unsigned)seq);
		edu_item *it = mk("thcs-crash", seq, 1, (edu_kind)(seq % 4 + 1), 1000 + (int64_t)(seq % 97), "Tin mới",
		    body);
		free(body);
		add_item(b, it);
		edu_item_free(it);
		if (prev != 0) { /* update our previous item in the same batch */
			it = mk("thcs-crash", prev, 2, EDU_KIND_NEWS, 5000, "Đã sửa", prev % 3 ? "sửa" : "");
			it->deleted = prev % 3 == 0;
			if (it->deleted)
				setstr(&it->title, "");
			add_item(b, it);
			edu_item_free(it);
		}
		if (edu_store_commit(a->s, b) != EDU_OK || edu_store_batch_result(b, 0, NULL) != EDU_PUT_APPLIED)
			_exit(4);
		edu_store_batch_free(b);
		if (write(a->fd, &seq, sizeof seq) != sizeof seq)
			_exit(5);
		prev = seq;
	}
	return NULL;
}

static void crash_child(int fd)
{
	edu_store *s = NULL;
	edu_store_opts o = {.dir = tmpl, .map_size = 1 << 20, .self_unit = "thcs-crash"};
	if (edu_store_open(&s, &o) != EDU_OK)
		_exit(2);
	pthread_t th[4];
	crash_arg a[4];
	for (int i = 0; i < 4; i++) {
		a[i] = (crash_arg){s, fd, i};
		pthread_create(&th[i], NULL, crash_writer, &a[i]);
	}
	for (;;)
		pause();
}

static void test_crash(void **state)
{
	uint64_t *acked = calloc(1 << 20, sizeof *acked);
	size_t n_acked = 0;
	for (int round = 0; round < 3; round++) {
		int p[2];
		assert_int_equal(pipe(p), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			crash_child(p[1]);
			_exit(1);
		}
		close(p[1]);
		/* let it run until a number of acknowledgements, a different one each round */
		size_t target = n_acked + 150 + (size_t)round * 97, before = n_acked;
		uint64_t seq;
		while (n_acked < target && read(p[0], &seq, sizeof seq) == sizeof seq)
			acked[n_acked++] = seq;
		assert_int_equal(kill(pid, SIGKILL), 0);
		while (n_acked < (1u << 20) && read(p[0], &seq, sizeof seq) == sizeof seq)
			acked[n_acked++] = seq;
		close(p[0]);
		int st = 0;
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
		assert_true(n_acked > before);

		edu_store *s = open_at(tmpl, 1 << 20, 0, "thcs-crash");
		check_store(s);
		edu_store_rd *r = NULL;
		uint64_t max = 0;
		assert_int_equal(edu_store_read_begin(s, &r), EDU_OK);
		for (size_t i = 0; i < n_acked; i++) {
			edu_item *it = NULL;
			if (edu_store_get(r, "thcs-crash", acked[i], &it) != EDU_OK)
				fail_msg("acknowledged item %" PRIu64 " lost", acked[i]);
			edu_item_free(it);
			if (acked[i] > max)
				max = acked[i];
		}
		edu_store_read_end(r);
		assert_true(edu_store_next_seq(s) > max);
		edu_store_close(s);
	}
	print_message("crash: %zu acknowledged items survived 3 kills\n", n_acked);
	free(acked);
}

/* ---- bad input ------------------------------------------------------------------ */

static void test_bad_input(void **state)
{
	edu_store *s = NULL;
	edu_store_opts o = {0};
	assert_int_equal(edu_store_open(&s, &o), EDU_EINVAL);
	o.dir = tmpl;
	o.self_unit = "Bad Unit!";
	assert_int_equal(edu_store_open(&s, &o), EDU_EINVAL);
	edu_store_close(NULL);
	edu_store_batch_free(NULL);
	edu_store_read_end(NULL);

	s = open_tmp();
	edu_store_batch *b = NULL;
	assert_int_equal(edu_store_batch_new(&b), EDU_OK);
	assert_int_equal(edu_store_batch_put_meta(b, "store.format", "9", 1), EDU_EPERM);
	char longkey[EDU_STORE_META_KEY_MAX + 2];
	memset(longkey, 'k', sizeof longkey - 1);
	longkey[sizeof longkey - 1] = '\0';
	assert_int_equal(edu_store_batch_put_meta(b, longkey, "v", 1), EDU_ETOOBIG);
	assert_int_equal(edu_store_batch_put_meta(b, "", "v", 1), EDU_EINVAL);
	edu_record big = {.item = calloc(1, EDU_RECORD_MAX + 1), .item_len = EDU_RECORD_MAX + 1};
	assert_int_equal(edu_store_batch_put_record(b, &big), EDU_ETOOBIG);
	free(big.item);
	/* an item that decodes but fails validation */
	edu_item *it = mk(SELF, 1, 1, EDU_KIND_NEWS, 100, "", "");
	add_item(b, it);
	edu_item_free(it);
	edu_record empty = {0};
	assert_int_equal(edu_store_batch_put_record(b, &empty), EDU_OK);
	assert_int_equal(edu_store_commit(s, b), EDU_OK);
	assert_int_equal(edu_store_batch_result(b, 0, NULL), EDU_PUT_INVALID);
	assert_int_equal(edu_store_batch_result(b, 1, NULL), EDU_PUT_INVALID);
	edu_store_batch_free(b);
	assert_int_equal(edu_store_log_head(s), 0);

	edu_store_rd *r = NULL;
	edu_item **items = NULL;
	size_t n = 0;
	bool more;
	assert_int_equal(edu_store_read_begin(s, &r), EDU_OK);
	edu_query q = {.limit = 0};
	assert_int_equal(edu_store_query(r, &q, &items, &n, &more), EDU_EINVAL);
	q.limit = 1001;
	assert_int_equal(edu_store_query(r, &q, &items, &n, &more), EDU_EINVAL);
	q.limit = 10;
	q.kind = (edu_kind)9;
	assert_int_equal(edu_store_query(r, &q, &items, &n, &more), EDU_EINVAL);
	q.kind = EDU_KIND_NONE;
	const char *bad_units[] = {"ok-unit", "BAD UNIT"};
	q.units = bad_units;
	q.n_units = 2;
	assert_int_equal(edu_store_query(r, &q, &items, &n, &more), EDU_EINVAL);
	q.units = NULL;
	q.n_units = 0;
	q.before_ts = 100;
	q.before_unit = "not valid";
	assert_int_equal(edu_store_query(r, &q, &items, &n, &more), EDU_EINVAL);
	edu_item *got = NULL;
	assert_int_equal(edu_store_get(r, "x", 1, &got), EDU_EINVAL);
	assert_int_equal(edu_store_get(r, NULL, 1, &got), EDU_EINVAL);
	char *val = NULL;
	assert_int_equal(edu_store_meta_get(r, "", &val, NULL), EDU_EINVAL);
	edu_store_read_end(r);
	check_store(s);
	edu_store_close(s);
	assert_int_equal(edu_store_batch_new(&b), EDU_OK);
	edu_store_batch_free(b);
}

/* A local publish hands the store the item it already validated: stored,
 * indexed and searchable exactly like put_record, and updates replace it. */
static void test_put_item(void **state)
{
	edu_store *s = open_tmp();
	edu_item *it = mk(SELF, 1, 1, EDU_KIND_EVENT, 1767225600, "Hội thao học sinh", "Sân vận động Sa Đéc");
	edu_record r = {0};
	edu_store_batch *b = NULL;
	assert_int_equal(edu_item_encode(it, &r.item, &r.item_len), EDU_OK);
	assert_int_equal(edu_store_batch_new(&b), EDU_OK);
	assert_int_equal(edu_store_batch_put_item(b, &r, NULL), EDU_EINVAL);
	assert_int_equal(edu_store_batch_put_item(b, &r, it), EDU_OK);
	assert_int_equal(edu_store_commit(s, b), EDU_OK);
	assert_int_equal(edu_store_batch_result(b, 0, NULL), EDU_PUT_APPLIED);
	edu_store_batch_free(b);
	edu_record_clear(&r);
	assert_int_equal(search_count(s, "hoi thao"), 1);
	assert_int_equal(search_count(s, "sa dec"), 1);

	it->version = 2;
	setstr(&it->title, "Hội khỏe Phù Đổng");
	assert_int_equal(edu_item_encode(it, &r.item, &r.item_len), EDU_OK);
	assert_int_equal(edu_store_batch_new(&b), EDU_OK);
	assert_int_equal(edu_store_batch_put_item(b, &r, it), EDU_OK);
	assert_int_equal(edu_store_commit(s, b), EDU_OK);
	assert_int_equal(edu_store_batch_result(b, 0, NULL), EDU_PUT_APPLIED);
	edu_store_batch_free(b);
	edu_record_clear(&r);
	assert_int_equal(search_count(s, "hoi thao"), 0);
	assert_int_equal(search_count(s, "phu dong"), 1);
	edu_store_rd *rd = NULL;
	edu_item *got = NULL;
	assert_int_equal(edu_store_read_begin(s, &rd), EDU_OK);
	assert_int_equal(edu_store_get(rd, SELF, 1, &got), EDU_OK);
	assert_string_equal(got->title, "Hội khỏe Phù Đổng");
	assert_int_equal(got->version, 2);
	edu_store_read_end(rd);
	edu_item_free(got);
	assert_int_equal(stats(s).items_total, 1);
	check_store(s);
	edu_item_free(it);
	edu_store_close(s);
}

/* KiB of the store's data.mdb mapped into this process (from smaps). */
static long mapped_kib(const char *dir)
{
	char want[128], line[512];
	snprintf(want, sizeof want, "%s/data.mdb", dir);
	FILE *f = fopen("/proc/self/smaps", "r");
	assert_non_null(f);
	long kib = 0;
	bool in = false;
	while (fgets(line, sizeof line, f)) {
		unsigned long a, b;
		if (sscanf(line, "%lx-%lx ", &a, &b) == 2) {
			in = strstr(line, want) != NULL;
			continue;
		}
		long v;
		if (in && sscanf(line, "Rss: %ld kB", &v) == 1)
			kib += v;
	}
	fclose(f);
	return kib;
}

/* An idle store gives its mapped pages back; the data stays readable. */
static void test_idle_release(void **state)
{
	edu_store *s = open_tmp();
	char body[2048];
	memset(body, 'b', sizeof body - 1);
	body[sizeof body - 1] = '\0';
	edu_store_batch *b = NULL;
	assert_int_equal(edu_store_batch_new(&b), EDU_OK);
	for (uint64_t i = 1; i <= 400; i++) {
		edu_item *it = mk(SELF, i, 1, EDU_KIND_NEWS, 1767225600 + (int64_t)i, "Bản tin", body);
		add_item(b, it);
		edu_item_free(it);
	}
	assert_int_equal(edu_store_commit(s, b), EDU_OK);
	edu_store_batch_free(b);
	check_store(s); /* reads every page */
	long busy = mapped_kib(tmpl);
	assert_true(busy >= 400); /* ~1 MiB of records was just read through the map */
	long idle = busy;
	for (int i = 0; i < 40 && idle > busy / 4; i++) {
		usleep(100 * 1000);
		idle = mapped_kib(tmpl);
	}
	if (idle > busy / 4)
		fail_msg("still %ld KiB mapped after idling (was %ld)", idle, busy);
	assert_int_equal(stats(s).items_total, 400);
	check_store(s);
	edu_store_close(s);
}

/* store_terms_finish sorts and deduplicates: on texts of 1 to 3,000 tokens
 * (insertion runs, merges, the heap buffer past 256) from a vocabulary with
 * shared 8-byte prefixes, the result is strictly ascending and holds every
 * distinct word once. */
static void test_terms_sort(void **state)
{
	unsigned seed = 5;
	for (int round = 0; round < 30; round++) {
		size_t ntok = round < 10 ? (size_t)round + 1 : 1 + (size_t)rand_r(&seed) % 3000;
		bool used[400] = {false};
		edu_buf text = EDU_BUF_INIT;
		for (size_t k = 0; k < ntok; k++) {
			int v = rand_r(&seed) % 400;
			used[v] = true;
			if (v < 200)
				edu_buf_printf(&text, "w%d ", v);
			else
				edu_buf_printf(&text, "abcdefgh%d ", v); /* same first 8 bytes */
		}
		store_terms t = {0};
		assert_int_equal(store_terms_add_text(&t, text.p), EDU_OK);
		assert_int_equal(store_terms_finish(&t), EDU_OK);
		size_t distinct = 0;
		for (int v = 0; v < 400; v++)
			distinct += used[v];
		assert_int_equal(t.n, distinct);
		for (size_t k = 1; k < t.n; k++) {
			const struct store_term *x = &t.t[k - 1], *y = &t.t[k];
			if (store_term_cmp(x->pfx, t.buf + x->off, x->len, y->pfx, t.buf + y->off, y->len) >= 0)
				fail_msg("round %d: tokens %zu and %zu out of order", round, k - 1, k);
		}
		store_terms_free(&t);
		edu_buf_free(&text);
	}
}

/* The ASCII fast path of the search tokenizer gives exactly the token set of
 * node/text's walk, on fixed cases and on random mixes of ASCII and other
 * characters (marks, compatibility forms, đ, separators outside ASCII). */
static void terms_same(const char *text)
{
	store_terms a = {0}, b = {0};
	assert_int_equal(store_terms_add_text(&a, text), EDU_OK);
	assert_int_equal(store_terms_add_text_plain(&b, text), EDU_OK);
	assert_int_equal(store_terms_finish(&a), EDU_OK);
	assert_int_equal(store_terms_finish(&b), EDU_OK);
	if (a.n != b.n)
		fail_msg("%zu tokens vs %zu for \"%.80s\"", a.n, b.n, text);
	for (size_t i = 0; i < a.n; i++) {
		assert_int_equal(a.t[i].len, b.t[i].len);
		assert_memory_equal(a.buf + a.t[i].off, b.buf + b.t[i].off, a.t[i].len);
	}
	store_terms_free(&a);
	store_terms_free(&b);
}

static void test_terms_fast(void **state)
{
	static const char *const fixed[] = {
		"", "   ", "Hello, World! hello", "Đồng Tháp – Sở GD&ĐT", "học sinh HỌC SINH hoc sinh",
		"abc—def ghi_jkl x1y2 3.14 e\xcc\x81t\xcc\x81", "ﬁle ① ½ ＡＢＣ Kelvin\xe2\x84\xaa",
		"caf\xc3\xa9s and caf\xc3\xa9\xcc\x81", " \xcc\x81x \xcc\x81 y", "tab\there\nnew\r\nline",
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx end",
		"ệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệ aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"\xef\xb7\xba ok", "A\xc2\xa0" "B", "Ω≈ç√ ∫˜µ≤ 2⁵ x²",
	};
	for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
		terms_same(fixed[i]);
	static const char *const parts[] = {
		"a", "Z", "0", "9", " ", ".", "-", "_", "\t", "đ", "Đ", "ệ", "e\xcc\x82\xcc\xa3", "\xcc\x81", "ﬁ", "①",
		"½", "Ａ", "—", "\xc2\xa0", "中", "ß", "İ", "K", "\xe2\x80\x8b", "x", "Q", "7",
	};
	char buf[600];
	uint32_t seed = 12345;
	for (int round = 0; round < 400; round++) {
		size_t len = 0;
		int n = (int)(seed % 120);
		for (int k = 0; k < n; k++) {
			seed = seed * 1103515245u + 12345u;
			const char *p = parts[(seed >> 8) % (sizeof parts / sizeof *parts)];
			size_t pl = strlen(p);
			if (len + pl >= sizeof buf)
				break;
			memcpy(buf + len, p, pl);
			len += pl;
		}
		buf[len] = '\0';
		seed = seed * 1103515245u + 12345u;
		terms_same(buf);
	}
	/* Past EDU_TEXT_TOKENS_MAX order decides which tokens count. */
	size_t big = (size_t)EDU_TEXT_TOKENS_MAX * 6 + 100;
	char *s = malloc(big + 1);
	assert_non_null(s);
	size_t len = 0;
	for (int k = 0; len + 6 < big; k++)
		len += (size_t)snprintf(s + len, big + 1 - len, k % 3 ? "w%d " : "đ%d ", k % 10000);
	terms_same(s);
	free(s);
}

/* ---- old portal links (sources index) ----------------------------------------- */

static void test_source_path(void **state)
{
	static const struct {
		const char *in, *want;
	} ok[] = {
		{"https://old.vn/2024/09/05/le-khai-giang/", "/2024/09/05/le-khai-giang"},
		{"https://old.vn/2024/09/05/le-khai-giang", "/2024/09/05/le-khai-giang"},
		{"http://OLD.vn:8080/a/b/#comments", "/a/b"},
		{"https://old.vn", "/"},
		{"https://old.vn/", "/"},
		{"https://old.vn/?p=101", "/?p=101"},
		{"https://old.vn?p=101", "/?p=101"},
		{"/?p=101", "/?p=101"},
		{"https://old.vn/tin/abc/?x=1&y=%41#f", "/tin/abc?x=1&y=%41"}, /* query as written */
		{"https://old.vn/tin?", "/tin"},
		{"//old.vn/x/", "/x"},
		{"/%7Euser/%61bc%2d%5F", "/~user/abc-_"},      /* unreserved decoded */
		{"/a%2fb/%c3%a1", "/a%2Fb/%C3%A1"},            /* others kept, hex uppercased */
		{"/a%zz/%4", "/a%zz/%4"},                      /* malformed escapes kept */
		{"/", "/"},
		{"/a//", "/a/"},
	};
	char out[EDU_STORE_SOURCE_PATH_MAX + 1];
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		assert_int_equal(edu_store_source_path(ok[i].in, out, sizeof out), EDU_OK);
		if (strcmp(out, ok[i].want) != 0)
			fail_msg("%s -> %s, want %s", ok[i].in, out, ok[i].want);
	}
	assert_int_equal(edu_store_source_path("", out, sizeof out), EDU_EINVAL);
	assert_int_equal(edu_store_source_path("tin/abc", out, sizeof out), EDU_EINVAL);
	assert_int_equal(edu_store_source_path("/a b", out, sizeof out), EDU_EINVAL);
	assert_int_equal(edu_store_source_path("/a\r\nLocation: x", out, sizeof out), EDU_EINVAL);
	char big[EDU_STORE_SOURCE_PATH_MAX + 10];
	big[0] = '/';
	memset(big + 1, 'a', sizeof big - 2);
	big[sizeof big - 1] = '\0';
	assert_int_equal(edu_store_source_path(big, out, sizeof out), EDU_ETOOBIG);
	assert_int_equal(edu_store_source_path("/abcdef", out, 4), EDU_ETOOBIG);
}

static edu_err find_src(edu_store *s, const char *path, char *unit, uint64_t *seq)
{
	edu_store_rd *r = NULL;
	assert_int_equal(edu_store_read_begin(s, &r), EDU_OK);
	edu_err rv = edu_store_find_source(r, path, unit, seq);
	edu_store_read_end(r);
	return rv;
}

static edu_item *mk_src(const char *unit, uint64_t seq, uint32_t ver, int64_t updated, const char *url)
{
	edu_item *it = mk(unit, seq, ver, EDU_KIND_NEWS, 1000, "Tin cũ", "");
	it->updated = updated;
	setstr(&it->source_url, url);
	return it;
}

static void test_source_index(void **state)
{
	edu_store *s = open_tmp();
	char unit[EDU_UNIT_ID_MAX + 1];
	uint64_t seq;
	assert_int_equal(put_free(s, mk_src(SELF, 1, 1, 1000, "https://old.vn/2024/le-khai-giang/")), EDU_PUT_APPLIED);
	assert_int_equal(put_free(s, mk_src("th-khac", 7, 1, 1000, "https://old.vn/?p=7")), EDU_PUT_APPLIED);
	assert_int_equal(put_free(s, mk(SELF, 2, 1, EDU_KIND_NEWS, 1000, "Không có nguồn", "")), EDU_PUT_APPLIED);
	check_store(s);

	/* any spelling that normalizes alike finds it */
	assert_int_equal(find_src(s, "/2024/le-khai-giang", unit, &seq), EDU_OK);
	assert_string_equal(unit, SELF);
	assert_int_equal(seq, 1);
	assert_int_equal(find_src(s, "/2024/le-khai-giang/", unit, &seq), EDU_OK);
	assert_int_equal(find_src(s, "/2024/le-%6Bhai-giang/#x", unit, &seq), EDU_OK);
	assert_int_equal(find_src(s, "/?p=7", unit, &seq), EDU_OK);
	assert_string_equal(unit, "th-khac");
	assert_int_equal(seq, 7);
	assert_int_equal(find_src(s, "/?p=70", unit, &seq), EDU_ENOENT);
	assert_int_equal(find_src(s, "/2024", unit, &seq), EDU_ENOENT);
	assert_int_equal(find_src(s, "no-slash", unit, &seq), EDU_EINVAL);

	/* an update moves the entry */
	assert_int_equal(put_free(s, mk_src(SELF, 1, 2, 2000, "https://old.vn/2024/le-khai-giang-2/")), EDU_PUT_APPLIED);
	assert_int_equal(find_src(s, "/2024/le-khai-giang", unit, &seq), EDU_ENOENT);
	assert_int_equal(find_src(s, "/2024/le-khai-giang-2", unit, &seq), EDU_OK);
	check_store(s);

	/* two items share a path: the newest `updated` wins, the other takes over when it goes */
	assert_int_equal(put_free(s, mk_src(SELF, 3, 1, 3000, "/2024/le-khai-giang-2")), EDU_PUT_APPLIED);
	assert_int_equal(find_src(s, "/2024/le-khai-giang-2", unit, &seq), EDU_OK);
	assert_int_equal(seq, 3);
	assert_int_equal(put_free(s, mk_src(SELF, 4, 1, 2500, "/2024/le-khai-giang-2")), EDU_PUT_APPLIED);
	assert_int_equal(find_src(s, "/2024/le-khai-giang-2", unit, &seq), EDU_OK);
	assert_int_equal(seq, 3);
	check_store(s);
	edu_item *t = mk(SELF, 3, 2, EDU_KIND_NEWS, 1000, "", "");
	t->deleted = true;
	assert_int_equal(put_free(s, t), EDU_PUT_APPLIED);
	assert_int_equal(find_src(s, "/2024/le-khai-giang-2", unit, &seq), EDU_OK);
	assert_int_equal(seq, 4);
	/* a tombstone drops it; clearing source_url drops it */
	t = mk(SELF, 4, 2, EDU_KIND_NEWS, 1000, "", "");
	t->deleted = true;
	assert_int_equal(put_free(s, t), EDU_PUT_APPLIED);
	assert_int_equal(find_src(s, "/2024/le-khai-giang-2", unit, &seq), EDU_OK);
	assert_int_equal(seq, 1);
	assert_int_equal(put_free(s, mk(SELF, 1, 3, EDU_KIND_NEWS, 1000, "Không còn nguồn", "")), EDU_PUT_APPLIED);
	assert_int_equal(find_src(s, "/2024/le-khai-giang-2", unit, &seq), EDU_ENOENT);
	/* a stale version changes nothing */
	assert_int_equal(put_free(s, mk_src(SELF, 1, 1, 1000, "https://old.vn/2024/le-khai-giang/")), EDU_PUT_STALE);
	assert_int_equal(find_src(s, "/2024/le-khai-giang", unit, &seq), EDU_ENOENT);
	check_store(s);

	/* an over-long source_url is stored but not indexed */
	char url[EDU_STORE_SOURCE_PATH_MAX + 40];
	snprintf(url, sizeof url, "https://old.vn/");
	memset(url + 15, 'x', sizeof url - 16);
	url[sizeof url - 1] = '\0';
	assert_int_equal(put_free(s, mk_src(SELF, 5, 1, 1000, url)), EDU_PUT_APPLIED);
	assert_int_equal(find_src(s, url, unit, &seq), EDU_ENOENT);
	check_store(s);
	edu_store_close(s);
}

/* A format-1 store (no sources index) is migrated when opened. */
static void test_source_migrate(void **state)
{
	edu_store *s = open_tmp();
	char unit[EDU_UNIT_ID_MAX + 1];
	uint64_t seq;
	assert_int_equal(put_free(s, mk_src(SELF, 1, 1, 1000, "https://old.vn/a/")), EDU_PUT_APPLIED);
	assert_int_equal(put_free(s, mk_src(SELF, 2, 1, 1000, "https://old.vn/b/")), EDU_PUT_APPLIED);
	edu_item *t = mk(SELF, 2, 2, EDU_KIND_NEWS, 1000, "", "");
	t->deleted = true;
	assert_int_equal(put_free(s, t), EDU_PUT_APPLIED);
	edu_store_close(s);

	/* turn it back into what a format-1 build wrote */
	MDB_env *env = NULL;
	MDB_txn *txn = raw_begin(&env, 0);
	MDB_dbi src;
	assert_int_equal(mdb_dbi_open(txn, "sources", MDB_DUPSORT, &src), 0);
	assert_int_equal(mdb_drop(txn, src, 1), 0);
	raw_set_format(txn, 1);
	raw_end(env, txn, true);

	s = open_tmp();
	assert_int_equal(find_src(s, "/a", unit, &seq), EDU_OK);
	assert_int_equal(seq, 1);
	assert_int_equal(find_src(s, "/b", unit, &seq), EDU_ENOENT); /* tombstone */
	check_store(s);
	edu_store_rd *r = NULL;
	char *val = NULL;
	size_t len;
	assert_int_equal(edu_store_read_begin(s, &r), EDU_OK);
	assert_int_equal(edu_store_meta_get(r, "store.format", &val, &len), EDU_OK);
	edu_store_read_end(r);
	assert_int_equal(len, 4);
	assert_int_equal((uint8_t)val[3], STORE_FORMAT);
	free(val);
	edu_store_close(s);
}

/* A format-2 store (search index as LMDB duplicates in "terms") is
 * migrated when opened: the blocks are built from the live items, the old
 * database is dropped, and searches answer as before. */
static void test_postings_migrate(void **state)
{
	edu_store *s = open_tmp();
	edu_store_batch *b = NULL;
	assert_int_equal(edu_store_batch_new(&b), EDU_OK);
	for (uint64_t i = 1; i <= 300; i++) { /* more than one block for the common tokens */
		edu_item *x = mk(SELF, i, 1, EDU_KIND_NEWS, 1000 + (int64_t)i, i % 2 ? "Học sinh giỏi" : "Khai giảng",
		    i % 3 ? "Trường THCS Sa Rài" : "Đồng Tháp");
		add_item(b, x);
		edu_item_free(x);
	}
	assert_int_equal(edu_store_commit(s, b), EDU_OK);
	edu_store_batch_free(b);
	edu_item *t = mk(SELF, 4, 2, EDU_KIND_NEWS, 1004, "", "");
	t->deleted = true;
	assert_int_equal(put_free(s, t), EDU_PUT_APPLIED);
	assert_int_equal(search_count(s, "hoc sinh"), 150);
	edu_store_close(s);

	MDB_env *env = NULL;
	MDB_txn *txn = raw_begin(&env, 0);
	MDB_dbi post, terms;
	assert_int_equal(mdb_dbi_open(txn, "postings", 0, &post), 0);
	assert_int_equal(mdb_drop(txn, post, 1), 0);
	assert_int_equal(mdb_dbi_open(txn, "terms", MDB_CREATE | MDB_DUPSORT, &terms), 0);
	MDB_val tk = {3, "hoc"}, tv = {5, "stale"};
	assert_int_equal(mdb_put(txn, terms, &tk, &tv, 0), 0);
	raw_set_format(txn, 2);
	raw_end(env, txn, true);

	s = open_tmp();
	assert_int_equal(search_count(s, "hoc sinh"), 150);
	assert_int_equal(search_count(s, "khai giang"), 149); /* item 4 is a tombstone */
	assert_int_equal(search_count(s, "dong thap"), 100);
	assert_int_equal(search_count(s, "sa rai giang"), 99);
	check_store(s);
	edu_store_rd *r = NULL;
	char *val = NULL;
	size_t len;
	assert_int_equal(edu_store_read_begin(s, &r), EDU_OK);
	assert_int_equal(edu_store_meta_get(r, "store.format", &val, &len), EDU_OK);
	edu_store_read_end(r);
	assert_int_equal((uint8_t)val[3], STORE_FORMAT);
	free(val);
	edu_store_close(s);

	txn = raw_begin(&env, MDB_RDONLY);
	assert_int_equal(mdb_dbi_open(txn, "terms", 0, &terms), MDB_NOTFOUND); /* dropped */
	raw_end(env, txn, false);
}

/* The index is rebuilt in slices of 4,096 items (one transaction each); a
 * store left with the reindex mark (an interrupted migration) is rebuilt
 * from scratch on the next open, whatever the index held. */
static void test_reindex_slices(void **state)
{
	edu_store *s = open_tmp();
	edu_store_batch *b = NULL;
	assert_int_equal(edu_store_batch_new(&b), EDU_OK);
	for (uint64_t i = 1; i <= 9000; i++) {
		edu_item *x = mk(SELF, i, 1, EDU_KIND_NEWS, 1000 + (int64_t)(i % 777), i % 4 ? "Tin học đường" : "Tuyển sinh",
		    i % 5 ? "" : "Đồng Tháp");
		add_item(b, x);
		edu_item_free(x);
	}
	assert_int_equal(edu_store_commit(s, b), EDU_OK);
	edu_store_batch_free(b);
	edu_store_close(s);

	/* An interrupted migration: the mark set, the index holding a
	 * stray posting and missing everything else. */
	MDB_env *env = NULL;
	MDB_txn *txn = raw_begin(&env, 0);
	MDB_dbi meta, post;
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_dbi_open(txn, "postings", 0, &post), 0);
	assert_int_equal(mdb_drop(txn, post, 0), 0);
	okey stray;
	store_okey_make(&stray, 5, "thcs-khong-co", 1);
	store_posting sp = {"tin", &stray, 3, store_term_pfx("tin", 3)};
	assert_int_equal(store_post_add(txn, post, &sp, 1), 0);
	MDB_val k = {strlen("store.reindex"), "store.reindex"}, v = {1, "1"};
	assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
	raw_end(env, txn, true);

	s = open_tmp();
	edu_query q = {.q = "tuyen sinh", .limit = 1000};
	edu_item **items = NULL;
	bool more = false;
	size_t n = query(s, &q, &items, &more);
	edu_store_items_free(items, n);
	assert_int_equal(n, 1000);
	assert_true(more); /* 2,250 in all */
	assert_int_equal(search_count(s, "hoc duong dong thap"), 1000); /* 1,350: the first page */
	check_store(s); /* exactly the live items' postings: the stray one is gone */
	edu_store_rd *r = NULL;
	char *val = NULL;
	size_t len;
	assert_int_equal(edu_store_read_begin(s, &r), EDU_OK);
	assert_int_equal(edu_store_meta_get(r, "store.reindex", &val, &len), EDU_ENOENT);
	edu_store_read_end(r);
	edu_store_close(s);
}

/* The search index's blocks against a plain sorted-set model: random
 * batches of additions (with duplicates), deletions (first entries of
 * blocks included), neighbouring tokens, and seeks from every position. */
static int okey_qcmp(const void *a, const void *b)
{
	return store_okey_cmp(a, b);
}

static size_t model_lower(const okey *m, size_t n, const okey *t, bool excl)
{
	size_t i = 0;
	while (i < n && (store_okey_cmp(&m[i], t) < 0 || (excl && store_okey_cmp(&m[i], t) == 0)))
		i++;
	return i;
}

static int ref_posting_cmp(const void *pa, const void *pb)
{
	const store_posting *a = pa, *b = pb;
	int c = store_term_cmp(a->pfx, a->term, a->tlen, b->pfx, b->term, b->tlen);
	return c != 0 ? c : store_okey_cmp(a->ok, b->ok);
}

/* store_post_sort against qsort: batches of items whose sorted term lists
 * share terms (short, 8-byte-prefix twins, long), with items in ascending,
 * descending and shuffled okey order. */
static void test_post_sort(void **state)
{
	static const char *const vocab[] = {"a", "b", "hoc", "sinh", "truong", "abcdefgh", "abcdefghi",
		"abcdefghj", "abcdefghijklmnop", "abcdefghijklmnoq", "giaoduc", "0", "9z", "thuvienthanthien"};
	enum { NV = sizeof vocab / sizeof vocab[0], MAXI = 300 };
	unsigned seed = 11;
	okey *oks = calloc(MAXI, sizeof *oks);
	store_posting *p = calloc(MAXI * NV, sizeof *p), *ref = calloc(MAXI * NV, sizeof *ref);
	assert_true(oks && p && ref);
	for (int round = 0; round < 40; round++) {
		size_t items = 1 + (size_t)rand_r(&seed) % MAXI, n = 0;
		int order = round % 3; /* 0 ascending okeys, 1 descending, 2 shuffled */
		for (size_t it = 0; it < items; it++) {
			int64_t pub = order == 2 ? rand_r(&seed) % 100000 : (int64_t)(order == 0 ? MAXI - it : it) * 10;
			store_okey_make(&oks[it], pub, "thcs-a", it + 1);
			for (size_t v = 0; v < NV; v++) /* an item's terms: a sorted, distinct subset */
				if (rand_r(&seed) % 3 != 0)
					p[n++] = (store_posting){vocab[v], &oks[it], (uint32_t)strlen(vocab[v]),
					    store_term_pfx(vocab[v], strlen(vocab[v]))};
		}
		memcpy(ref, p, n * sizeof *p);
		qsort(ref, n, sizeof *ref, ref_posting_cmp);
		assert_int_equal(store_post_sort(p, n), 0);
		for (size_t k = 0; k < n; k++) {
			if (p[k].term != ref[k].term || p[k].ok != ref[k].ok)
				fail_msg("round %d: posting %zu differs", round, k);
		}
	}
	/* An item's postings in two places (not the writer's shape): still right. */
	{
		size_t m = 0;
		for (size_t it = 0; it < 10; it++) {
			store_okey_make(&oks[it], rand_r(&seed) % 1000, "thcs-b", it + 1);
			for (size_t v = 0; v < NV; v += 2)
				p[m++] = (store_posting){vocab[v], &oks[it], (uint32_t)strlen(vocab[v]),
				    store_term_pfx(vocab[v], strlen(vocab[v]))};
		}
		for (size_t v = 1; v < NV; v += 2) /* item 3 again, other terms */
			p[m++] = (store_posting){vocab[v], &oks[3], (uint32_t)strlen(vocab[v]),
			    store_term_pfx(vocab[v], strlen(vocab[v]))};
		memcpy(ref, p, m * sizeof *p);
		qsort(ref, m, sizeof *ref, ref_posting_cmp);
		assert_int_equal(store_post_sort(p, m), 0);
		for (size_t k = 0; k < m; k++)
			if (p[k].term != ref[k].term || p[k].ok != ref[k].ok)
				fail_msg("split item: posting %zu differs", k);
	}
	/* Many distinct terms equal in their first 8 bytes and length: probes
	 * meet other terms' slots, which must stay apart. */
	static char many[600][16];
	for (int v = 0; v < 600; v++)
		snprintf(many[v], sizeof many[v], "abcdefgh%03d", v);
	size_t n = 0;
	for (size_t it = 0; it < 100; it++) {
		store_okey_make(&oks[it], (int64_t)it, "thcs-a", it + 1);
		for (int v = (int)(it % 7); v < 600; v += 1 + rand_r(&seed) % 40)
			p[n++] = (store_posting){many[v], &oks[it], 11, store_term_pfx(many[v], 11)};
	}
	memcpy(ref, p, n * sizeof *p);
	qsort(ref, n, sizeof *ref, ref_posting_cmp);
	assert_int_equal(store_post_sort(p, n), 0);
	for (size_t k = 0; k < n; k++)
		if (p[k].term != ref[k].term || p[k].ok != ref[k].ok)
			fail_msg("shared prefixes: posting %zu differs", k);
	free(oks);
	free(p);
	free(ref);
}

static void test_postings_model(void **state)
{
	static const char *const terms[] = {"t", "ta", "tb", "u"};
	enum { NT = 4, MAXN = 3000 };
	edu_store *s = open_tmp();
	okey *model[NT];
	size_t nm[NT] = {0};
	unsigned seed = 7;
	for (int i = 0; i < NT; i++)
		model[i] = calloc(MAXN, sizeof(okey));
	for (int round = 0; round < 60; round++) {
		MDB_txn *txn = NULL;
		assert_int_equal(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
		int ti = rand_r(&seed) % NT;
		if (round % 3 != 2 || nm[ti] == 0) { /* a batch of additions */
			size_t k = 1 + rand_r(&seed) % 200;
			okey *add = calloc(k, sizeof *add);
			store_posting *p = calloc(k, sizeof *p);
			for (size_t i = 0; i < k; i++) {
				if (nm[ti] && rand_r(&seed) % 5 == 0) {
					add[i] = model[ti][rand_r(&seed) % nm[ti]]; /* already there */
				} else {
					char unit[24];
					snprintf(unit, sizeof unit, "thcs-%c%c", 'a' + rand_r(&seed) % 5, 'a' + rand_r(&seed) % 26);
					store_okey_make(&add[i], 1000 + rand_r(&seed) % 500, unit, 1 + rand_r(&seed) % 10);
				}
			}
			qsort(add, k, sizeof *add, okey_qcmp);
			for (size_t i = 0; i < k; i++)
				p[i] = (store_posting){terms[ti], &add[i], (uint32_t)strlen(terms[ti]), store_term_pfx(terms[ti], strlen(terms[ti]))};
			assert_int_equal(store_post_add(txn, s->db[DB_TERMS], p, k), 0);
			for (size_t i = 0; i < k; i++) {
				bool have = false;
				for (size_t j = 0; j < nm[ti] && !have; j++)
					have = store_okey_cmp(&model[ti][j], &add[i]) == 0;
				if (!have && nm[ti] < MAXN)
					model[ti][nm[ti]++] = add[i];
			}
			qsort(model[ti], nm[ti], sizeof(okey), okey_qcmp);
			free(add);
			free(p);
		} else { /* deletions: the first, the last and random ones */
			for (int d = 0; d < 40 && nm[ti] > 0; d++) {
				size_t at = d == 0 ? 0 : d == 1 ? nm[ti] - 1 : (size_t)rand_r(&seed) % nm[ti];
				okey gone = model[ti][at];
				assert_int_equal(store_post_del(txn, s->db[DB_TERMS], terms[ti], strlen(terms[ti]), &gone), 0);
				memmove(&model[ti][at], &model[ti][at + 1], (nm[ti] - at - 1) * sizeof(okey));
				nm[ti]--;
				/* deleting it again changes nothing */
				assert_int_equal(store_post_del(txn, s->db[DB_TERMS], terms[ti], strlen(terms[ti]), &gone), 0);
			}
		}
		size_t total = 0, want = 0;
		char why[200] = "";
		assert_int_equal(store_post_verify(txn, s->db[DB_TERMS], &total, why, sizeof why), 0);
		for (int i = 0; i < NT; i++)
			want += nm[i];
		assert_int_equal(total, want);
		for (int i = 0; i < NT; i++) {
			store_post_cur pc;
			int rc = store_post_open(&pc, txn, s->db[DB_TERMS], terms[i], strlen(terms[i]));
			if (nm[i] == 0) {
				assert_int_equal(rc, MDB_NOTFOUND);
				store_post_close(&pc);
				continue;
			}
			assert_int_equal(rc, 0);
			assert_int_equal(pc.count, nm[i]);
			/* a full walk */
			assert_int_equal(store_post_seek(&pc, NULL, false), 0);
			for (size_t j = 0; j < nm[i]; j++) {
				assert_false(pc.done);
				assert_int_equal(store_okey_cmp(&pc.cur, &model[i][j]), 0);
				assert_int_equal(store_post_next(&pc), 0);
			}
			assert_true(pc.done);
			/* seeks at every entry and between entries */
			for (size_t j = 0; j < nm[i]; j += 1 + nm[i] / 50) {
				for (int excl = 0; excl < 2; excl++) {
					okey t = model[i][j];
					if (excl && j % 2) /* a key between entries: one byte longer */
						t.b[t.len - 1] ^= 1;
					size_t w = model_lower(model[i], nm[i], &t, excl);
					assert_int_equal(store_post_seek(&pc, &t, excl), 0);
					if (w == nm[i]) {
						assert_true(pc.done);
					} else {
						assert_false(pc.done);
						assert_int_equal(store_okey_cmp(&pc.cur, &model[i][w]), 0);
					}
				}
			}
			store_post_close(&pc);
		}
		assert_int_equal(mdb_txn_commit(txn), 0);
	}
	for (int i = 0; i < NT; i++)
		free(model[i]);
	edu_store_close(s);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newest_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tombstone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_multi_unit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search_same_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blobs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_interleaved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_growth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test(test_terms_fast),
		cmocka_unit_test_setup_teardown(test_put_item, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_release, setup, teardown),
		cmocka_unit_test(test_source_path),
		cmocka_unit_test_setup_teardown(test_source_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_migrate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_postings_migrate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_postings_model, setup, teardown),
		cmocka_unit_test_setup_teardown(test_post_sort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_terms_sort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reindex_slices, setup, teardown),
	};
	edu_log_set_level(LOG_ERR);
	if (argc > 1) {
		char filter[64];
		snprintf(filter, sizeof filter, "test_%s", argv[1]);
		cmocka_set_test_filter(filter);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
