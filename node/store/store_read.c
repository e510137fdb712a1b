/* The store's read side: read handles, item and blob lookups, queries over
 * the newest-first indexes and the search index, the change log, stats. */
#include "store_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "text/text.h"

#define QUERY_LIMIT_MAX 1000

edu_err edu_store_read_begin(edu_store *s, edu_store_rd **out)
{
	*out = NULL;
	edu_store_rd *r = calloc(1, sizeof *r);
	if (r == NULL)
		return EDU_ENOMEM;
	r->s = s;
	atomic_fetch_add_explicit(&s->uses, 1, memory_order_relaxed);
	pthread_rwlock_rdlock(&s->map_lock);
	int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &r->txn);
	if (rc != 0) {
		pthread_rwlock_unlock(&s->map_lock);
		edu_log(LOG_ERR, "store: read transaction: %s", mdb_strerror(rc));
		free(r);
		return edu_err_from_mdb(rc);
	}
	*out = r;
	return EDU_OK;
}

edu_err edu_store_backup(edu_store *s, int fd)
{
	atomic_fetch_add_explicit(&s->uses, 1, memory_order_relaxed);
	pthread_rwlock_rdlock(&s->map_lock); /* the map must not be resized under the copy */
	int rc = mdb_env_copyfd2(s->env, fd, MDB_CP_COMPACT);
	pthread_rwlock_unlock(&s->map_lock);
	if (rc != 0)
		edu_log(LOG_ERR, "store: backup: %s", mdb_strerror(rc));
	return edu_err_from_mdb(rc);
}

void edu_store_read_end(edu_store_rd *r)
{
	if (r == NULL)
		return;
	mdb_txn_abort(r->txn);
	pthread_rwlock_unlock(&r->s->map_lock);
	free(r);
}

static edu_err mdb_fail(const char *what, int rc)
{
	if (rc == MDB_NOTFOUND)
		return EDU_ENOENT;
	edu_log(LOG_ERR, "store: %s: %s", what, mdb_strerror(rc));
	return edu_err_from_mdb(rc);
}

/* ---- items ---------------------------------------------------------------- */

static edu_err get_stored(MDB_txn *txn, const edu_store *s, const uint8_t *ik, size_t iklen, edu_record *rec)
{
	MDB_val k = {iklen, (void *)ik}, v;
	int rc = mdb_get(txn, s->db[DB_ITEMS], &k, &v);
	if (rc != 0)
		return mdb_fail("reading item", rc);
	edu_err rv = edu_record_decode(v.mv_data, v.mv_size, rec);
	if (rv != EDU_OK) {
		edu_log(LOG_ERR, "store: stored record is unreadable: %s", edu_strerror(rv));
		return rv == EDU_ENOMEM ? rv : EDU_EIO;
	}
	return EDU_OK;
}

edu_err store_load_item(MDB_txn *txn, const edu_store *s, const uint8_t *ik, size_t iklen, edu_item **out)
{
	edu_record rec = {0};
	*out = NULL;
	edu_err rv = get_stored(txn, s, ik, iklen, &rec);
	if (rv != EDU_OK)
		return rv;
	rv = edu_item_decode(rec.item, rec.item_len, out);
	if (rv != EDU_OK) {
		edu_log(LOG_ERR, "store: stored item is unreadable: %s", edu_strerror(rv));
		rv = rv == EDU_ENOMEM ? rv : EDU_EIO;
	} else {
		(*out)->received_ms = rec.received_ms;
		/* Records are signature-checked before they are put (downlink,
		 * local publishing); a stored signature is a verified one. */
		(*out)->signed_ok = rec.has_sig;
	}
	edu_record_clear(&rec);
	return rv;
}

static bool unit_ok(const char *unit)
{
	return unit != NULL && edu_unit_id_valid(unit);
}

edu_err edu_store_get(edu_store_rd *r, const char *unit, uint64_t seq, edu_item **out)
{
	*out = NULL;
	if (!unit_ok(unit))
		return EDU_EINVAL;
	uint8_t ik[IKEY_MAX];
	size_t iklen = store_ikey_make(ik, unit, seq);
	return store_load_item(r->txn, r->s, ik, iklen, out);
}

edu_err edu_store_get_record(edu_store_rd *r, const char *unit, uint64_t seq, edu_record *rec)
{
	memset(rec, 0, sizeof *rec);
	if (!unit_ok(unit))
		return EDU_EINVAL;
	uint8_t ik[IKEY_MAX];
	size_t iklen = store_ikey_make(ik, unit, seq);
	return get_stored(r->txn, r->s, ik, iklen, rec);
}

void edu_store_items_free(edu_item **items, size_t n)
{
	if (items == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		edu_item_free(items[i]);
	free(items);
}

/* ---- index cursors ---------------------------------------------------------- */

/* Walks the okeys under one prefix of an index in ascending order (newest
 * first). (The search index has its own walker: store_post.c.) */
typedef struct icur {
	MDB_cursor *c;
	uint8_t prefix[EDU_UNIT_ID_MAX + 2];
	size_t plen;
	okey cur;
	bool done;
} icur;

static int ic_take(icur *ic, int rc, const MDB_val *k)
{
	if (rc == MDB_NOTFOUND) {
		ic->done = true;
		return 0;
	}
	if (rc != 0)
		return rc;
	if (k->mv_size < ic->plen || memcmp(k->mv_data, ic->prefix, ic->plen) != 0) {
		ic->done = true;
		return 0;
	}
	const uint8_t *p = (const uint8_t *)k->mv_data + ic->plen;
	size_t len = k->mv_size - ic->plen;
	if (len == 0 || len > OKEY_MAX)
		return MDB_CORRUPTED;
	memcpy(ic->cur.b, p, len);
	ic->cur.len = len;
	return 0;
}

static int ic_next(icur *ic)
{
	MDB_val k, v;
	int rc = mdb_cursor_get(ic->c, &k, &v, MDB_NEXT);
	return ic_take(ic, rc, &k);
}

/* Positions at the first okey >= t (> t when excl); t NULL: the first okey. */
static int ic_seek(icur *ic, const okey *t, bool excl)
{
	MDB_val k, v;
	int rc;
	uint8_t buf[sizeof ic->prefix + OKEY_MAX];
	ic->done = false;
	memcpy(buf, ic->prefix, ic->plen);
	k.mv_size = ic->plen;
	if (t != NULL) {
		memcpy(buf + ic->plen, t->b, t->len);
		k.mv_size += t->len;
	}
	k.mv_data = buf;
	rc = mdb_cursor_get(ic->c, &k, &v, k.mv_size ? MDB_SET_RANGE : MDB_FIRST);
	if ((rc = ic_take(ic, rc, &k)) != 0 || ic->done)
		return rc;
	if (excl && t != NULL && store_okey_cmp(&ic->cur, t) == 0)
		return ic_next(ic);
	return 0;
}

/* ---- queries ---------------------------------------------------------------- */

typedef struct qctx {
	edu_store_rd *r;
	const char **units; /* sorted, unique */
	size_t n_units;
	edu_kind kind;
	bool has_cursor;
	okey cursor;
	okey *found; /* up to want */
	size_t n, want;
	bool capped;
} qctx;

static bool q_full(const qctx *q)
{
	return q->n >= q->want;
}

static void q_push(qctx *q, const okey *k)
{
	q->found[q->n++] = *k;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Newest first over one prefix (by_time: empty; by_kind: the kind byte). */
static int scan_prefix(qctx *q, int db, const uint8_t *prefix, size_t plen)
{
	icur ic = {.plen = plen};
	if (plen > 0)
		memcpy(ic.prefix, prefix, plen);
	int rc = mdb_cursor_open(q->r->txn, q->r->s->db[db], &ic.c);
	if (rc != 0)
		return rc;
	rc = ic_seek(&ic, q->has_cursor ? &q->cursor : NULL, true);
	while (rc == 0 && !ic.done && !q_full(q)) {
		q_push(q, &ic.cur);
		rc = ic_next(&ic);
	}
	mdb_cursor_close(ic.c);
	return rc;
}

/* k-way merge of the per-unit indexes (by_unit, or by_unit_kind with a kind). */
static int heap_less(icur *ics, size_t a, size_t b)
{
	return store_okey_cmp(&ics[a].cur, &ics[b].cur) < 0;
}

static void heap_down(icur *ics, size_t *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < n && heap_less(ics, h[l], h[m]))
			m = l;
		if (l + 1 < n && heap_less(ics, h[l + 1], h[m]))
			m = l + 1;
		if (m == i)
			return;
		size_t t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static int merge_units(qctx *q)
{
	size_t nu = q->n_units, nh = 0;
	int rc = 0;
	icur *ics = calloc(nu, sizeof *ics);
	size_t *h = calloc(nu, sizeof *h);
	if (ics == NULL || h == NULL) {
		rc = ENOMEM;
		goto out;
	}
	int db = q->kind != EDU_KIND_NONE ? DB_BY_UNIT_KIND : DB_BY_UNIT;
	for (size_t i = 0; i < nu; i++) {
		icur *ic = &ics[i];
		size_t ul = strlen(q->units[i]);
		memcpy(ic->prefix, q->units[i], ul);
		ic->prefix[ul] = 0;
		ic->plen = ul + 1;
		if (q->kind != EDU_KIND_NONE)
			ic->prefix[ic->plen++] = (uint8_t)q->kind;
		if ((rc = mdb_cursor_open(q->r->txn, q->r->s->db[db], &ic->c)) != 0)
			goto out;
		if ((rc = ic_seek(ic, q->has_cursor ? &q->cursor : NULL, true)) != 0)
			goto out;
		if (!ic->done)
			h[nh++] = i;
	}
	for (size_t i = nh / 2; i-- > 0;)
		heap_down(ics, h, nh, i);
	while (nh > 0 && !q_full(q)) {
		icur *top = &ics[h[0]];
		q_push(q, &top->cur);
		if ((rc = ic_next(top)) != 0)
			goto out;
		if (top->done)
			h[0] = h[--nh];
		heap_down(ics, h, nh, 0);
	}
out:
	for (size_t i = 0; ics != NULL && i < nu; i++)
		if (ics[i].c != NULL)
			mdb_cursor_close(ics[i].c);
	free(ics);
	free(h);
	return rc;
}

/* Does the search candidate k pass the unit and kind filters? */
static int search_filter(qctx *q, const okey *k, bool *ok)
{
	*ok = true;
	if (q->units != NULL) {
		char unit[EDU_UNIT_ID_MAX + 1];
		int64_t pub;
		uint64_t seq;
		if (!store_okey_parse(k->b, k->len, &pub, unit, &seq))
			return MDB_CORRUPTED;
		const char *key = unit;
		*ok = bsearch(&key, q->units, q->n_units, sizeof *q->units, cmp_str) != NULL;
	}
	if (*ok && q->kind != EDU_KIND_NONE) {
		uint8_t b[1 + OKEY_MAX];
		b[0] = (uint8_t)q->kind;
		memcpy(b + 1, k->b, k->len);
		MDB_val kk = {1 + k->len, b}, v;
		int rc = mdb_get(q->r->txn, q->r->s->db[DB_BY_KIND], &kk, &v);
		if (rc == MDB_NOTFOUND)
			*ok = false;
		else if (rc != 0)
			return rc;
	}
	return 0;
}

/* Leapfrog join of the posting lists (each sorted newest first). */
static int cmp_post_count(const void *a, const void *b)
{
	const store_post_cur *x = a, *y = b;
	return x->count < y->count ? -1 : x->count > y->count;
}

static int search(qctx *q, const char *text)
{
	store_terms t = {0};
	store_post_cur *pcs = NULL;
	size_t n = 0;
	int rc = 0;
	edu_err e = store_terms_add_text(&t, text);
	if (e != EDU_OK) {
		rc = e == EDU_ENOMEM ? ENOMEM : EINVAL;
		goto out;
	}
	if (store_terms_finish(&t) != EDU_OK) {
		rc = ENOMEM;
		goto out;
	}
	if (t.n == 0)
		goto out; /* nothing searchable in q: no match */
	n = t.n < EDU_STORE_QUERY_TOKENS_MAX ? t.n : EDU_STORE_QUERY_TOKENS_MAX;
	if ((pcs = calloc(n, sizeof *pcs)) == NULL) {
		rc = ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		rc = store_post_open(&pcs[i], q->r->txn, q->r->s->db[DB_TERMS], t.buf + t.t[i].off, t.t[i].len);
		if (rc == MDB_NOTFOUND) {
			rc = 0;
			goto out; /* a token nobody has: no match */
		}
		if (rc != 0)
			goto out;
	}
	/* Rarest list first: it drives the join. */
	qsort(pcs, n, sizeof *pcs, cmp_post_count);

	okey target;
	const okey *tp = q->has_cursor ? &q->cursor : NULL;
	bool excl = q->has_cursor;
	size_t examined = 0;
	while (!q_full(q)) {
		if ((rc = store_post_seek(&pcs[0], tp, excl)) != 0 || pcs[0].done)
			goto out;
		target = pcs[0].cur;
		tp = &target;
		size_t i = 1;
		while (i < n) {
			if ((rc = store_post_seek(&pcs[i], &target, false)) != 0 || pcs[i].done)
				goto out;
			if (store_okey_cmp(&pcs[i].cur, &target) == 0) {
				i++;
				continue;
			}
			target = pcs[i].cur;
			if ((rc = store_post_seek(&pcs[0], &target, false)) != 0 || pcs[0].done)
				goto out;
			target = pcs[0].cur;
			i = 1;
		}
		/* every list holds target */
		if (examined++ >= EDU_STORE_SEARCH_SCAN_MAX) {
			q->capped = true;
			goto out;
		}
		bool ok;
		if ((rc = search_filter(q, &target, &ok)) != 0)
			goto out;
		if (ok)
			q_push(q, &target);
		excl = true;
	}
out:
	for (size_t i = 0; pcs != NULL && i < n; i++)
		store_post_close(&pcs[i]);
	free(pcs);
	store_terms_free(&t);
	return rc;
}

static edu_err load_found(qctx *q, size_t n, edu_item ***out)
{
	edu_item **items = calloc(n ? n : 1, sizeof *items);
	if (items == NULL)
		return EDU_ENOMEM;
	edu_err rv = EDU_OK;
	size_t i;
	for (i = 0; i < n; i++) {
		char unit[EDU_UNIT_ID_MAX + 1];
		int64_t pub;
		uint64_t seq;
		if (!store_okey_parse(q->found[i].b, q->found[i].len, &pub, unit, &seq)) {
			edu_log(LOG_ERR, "store: malformed index key");
			rv = EDU_EIO;
			break;
		}
		uint8_t ik[IKEY_MAX];
		size_t iklen = store_ikey_make(ik, unit, seq);
		if ((rv = store_load_item(q->r->txn, q->r->s, ik, iklen, &items[i])) != EDU_OK) {
			if (rv == EDU_ENOENT) {
				edu_log(LOG_ERR, "store: index entry for %s:%llu without its item", unit,
				    (unsigned long long)seq);
				rv = EDU_EIO;
			}
			break;
		}
	}
	if (rv != EDU_OK) {
		edu_store_items_free(items, i);
		return rv;
	}
	*out = items;
	return EDU_OK;
}

edu_err edu_store_query(edu_store_rd *r, const edu_query *qq, edu_item ***out, size_t *n, bool *more)
{
	qctx q = {.r = r};
	edu_err rv = EDU_OK;
	int rc = 0;
	*out = NULL;
	*n = 0;
	*more = false;
	if (qq == NULL || qq->limit < 1 || qq->limit > QUERY_LIMIT_MAX || (unsigned)qq->kind >= EDU_KIND_COUNT ||
	    (qq->units == NULL && qq->n_units != 0))
		return EDU_EINVAL;
	q.kind = qq->kind;
	if (qq->before_ts != 0) {
		const char *bu = qq->before_unit ? qq->before_unit : "";
		if (*bu != '\0' && !edu_unit_id_valid(bu))
			return EDU_EINVAL;
		q.has_cursor = true;
		store_okey_make(&q.cursor, qq->before_ts, bu, qq->before_seq);
	}
	if (qq->units != NULL) {
		if (qq->n_units == 0)
			return EDU_OK; /* only items of no unit: none */
		if ((q.units = malloc(qq->n_units * sizeof *q.units)) == NULL)
			return EDU_ENOMEM;
		for (size_t i = 0; i < qq->n_units; i++) {
			if (!unit_ok(qq->units[i])) {
				rv = EDU_EINVAL;
				goto out;
			}
			q.units[i] = qq->units[i];
		}
		qsort(q.units, qq->n_units, sizeof *q.units, cmp_str);
		size_t w = 1;
		for (size_t i = 1; i < qq->n_units; i++)
			if (strcmp(q.units[w - 1], q.units[i]) != 0)
				q.units[w++] = q.units[i];
		q.n_units = w;
	}
	q.want = qq->limit + 1;
	if ((q.found = malloc(q.want * sizeof *q.found)) == NULL) {
		rv = EDU_ENOMEM;
		goto out;
	}
	if (qq->q != NULL && qq->q[0] != '\0') {
		rc = search(&q, qq->q);
	} else if (q.units != NULL) {
		rc = merge_units(&q);
	} else if (q.kind != EDU_KIND_NONE) {
		uint8_t k = (uint8_t)q.kind;
		rc = scan_prefix(&q, DB_BY_KIND, &k, 1);
	} else {
		rc = scan_prefix(&q, DB_BY_TIME, NULL, 0);
	}
	if (rc == EINVAL) {
		rv = EDU_EINVAL;
		goto out;
	}
	if (rc != 0) {
		rv = mdb_fail("query", rc);
		if (rv == EDU_ENOENT)
			rv = EDU_EIO;
		goto out;
	}
	size_t got = q.n > qq->limit ? qq->limit : q.n;
	*more = q.n > qq->limit || (q.capped && got > 0);
	if ((rv = load_found(&q, got, out)) != EDU_OK) {
		*more = false;
		goto out;
	}
	*n = got;
out:
	free(q.units);
	free(q.found);
	return rv;
}

/* ---- blobs and meta ----------------------------------------------------------- */

edu_err edu_store_blob_get(edu_store_rd *r, const uint8_t sha256[32], uint8_t **data, size_t *len)
{
	*data = NULL;
	*len = 0;
	MDB_val k = {32, (void *)sha256}, v;
	int rc = mdb_get(r->txn, r->s->db[DB_BLOBS], &k, &v);
	if (rc != 0)
		return mdb_fail("reading blob", rc);
	if ((*data = malloc(v.mv_size ? v.mv_size : 1)) == NULL)
		return EDU_ENOMEM;
	memcpy(*data, v.mv_data, v.mv_size);
	*len = v.mv_size;
	return EDU_OK;
}

bool edu_store_blob_has(edu_store_rd *r, const uint8_t sha256[32])
{
	MDB_val k = {32, (void *)sha256}, v;
	return mdb_get(r->txn, r->s->db[DB_BLOBS], &k, &v) == 0;
}

edu_err edu_store_meta_get(edu_store_rd *r, const char *key, char **val, size_t *len)
{
	*val = NULL;
	if (len)
		*len = 0;
	if (key == NULL || key[0] == '\0' || strlen(key) > EDU_STORE_META_KEY_MAX)
		return EDU_EINVAL;
	MDB_val k = {strlen(key), (void *)key}, v;
	int rc = mdb_get(r->txn, r->s->db[DB_META], &k, &v);
	if (rc != 0)
		return mdb_fail("reading meta", rc);
	if ((*val = malloc(v.mv_size + 1)) == NULL)
		return EDU_ENOMEM;
	memcpy(*val, v.mv_data, v.mv_size);
	(*val)[v.mv_size] = '\0';
	if (len)
		*len = v.mv_size;
	return EDU_OK;
}

/* ---- change log ------------------------------------------------------------------ */

void edu_store_log_batch_free(edu_log_batch *b)
{
	if (b == NULL)
		return;
	free(b->e);
	free(b->buf);
	memset(b, 0, sizeof *b);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Grows b's entries or buffer to hold one more entry of len bytes. */
static edu_err log_batch_room(edu_log_batch *b, size_t len)
{
	if (b->n == b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 64;
		edu_log_entry *ne = realloc(b->e, nc * sizeof *ne);
		if (ne == NULL)
			return EDU_ENOMEM;
		b->e = ne;
		b->cap = nc;
	}
	if (b->len + len > b->buf_cap) {
		size_t nc = b->buf_cap ? b->buf_cap : 64 * 1024;
		while (nc < b->len + len)
			nc *= 2;
		uint8_t *nb = realloc(b->buf, nc);
		if (nb == NULL)
			return EDU_ENOMEM;
		b->buf = nb;
		b->buf_cap = nc;
	}
	return EDU_OK;
}

/* The item under key ik, through cursor ic. A log mostly lists one origin's
 * items in seq order, which are neighbours in the items tree: the entry after
 * the previous one is tried before a search from the root. */
static int item_at(MDB_cursor *ic, const MDB_val *ik, MDB_val *iv, bool *placed)
{
	MDB_val k = *ik;
	if (*placed && mdb_cursor_get(ic, &k, iv, MDB_NEXT) == 0 && k.mv_size == ik->mv_size &&
	    memcmp(k.mv_data, ik->mv_data, k.mv_size) == 0)
		return 0;
	k = *ik;
	int rc = mdb_cursor_get(ic, &k, iv, MDB_SET_KEY);
	*placed = rc == 0;
	return rc;
}

edu_err edu_store_log_read(edu_store_rd *r, uint64_t after, size_t max_n, size_t max_bytes, edu_log_batch *b)
{
	MDB_cursor *c = NULL, *ic = NULL;
	edu_err rv = EDU_OK;
	bool placed = false;
	b->n = 0;
	b->len = 0;
	if (max_n == 0)
		return EDU_OK;
	int rc = mdb_cursor_open(r->txn, r->s->db[DB_LOG], &c);
	if (rc != 0)
		return mdb_fail("log cursor", rc);
	if ((rc = mdb_cursor_open(r->txn, r->s->db[DB_ITEMS], &ic)) != 0) {
		mdb_cursor_close(c);
		return mdb_fail("items cursor", rc);
	}
	uint8_t kb[8];
	store_put_u64(kb, after == UINT64_MAX ? after : after + 1);
	MDB_val k = {8, kb}, v;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	for (; rc == 0 && b->n < max_n; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 || v.mv_size < LOG_VAL_MIN + 9 + EDU_UNIT_ID_MIN ||
		    v.mv_size > LOG_VAL_MIN + IKEY_MAX) {
			edu_log(LOG_ERR, "store: malformed log entry");
			rv = EDU_EIO;
			goto out;
		}
		uint64_t lseq = store_get_u64(k.mv_data);
		if (lseq <= after)
			continue;
		const uint8_t *p = v.mv_data;
		uint32_t logged_version = get_u32(p + 8);
		MDB_val ik = {v.mv_size - LOG_VAL_MIN, (void *)(p + LOG_VAL_MIN)}, iv;
		edu_log_entry e = {.log_seq = lseq};
		if ((rc = item_at(ic, &ik, &iv, &placed)) != 0) {
			if (rc == MDB_NOTFOUND)
				edu_log(LOG_ERR, "store: log entry %llu without its item", (unsigned long long)lseq);
			rv = rc == MDB_NOTFOUND ? EDU_EIO : mdb_fail("reading item", rc);
			goto out;
		}
		if (edu_record_view(iv.mv_data, iv.mv_size, &e.rec) != EDU_OK ||
		    !edu_item_peek(e.rec.item, e.rec.item_len, &e.head)) {
			edu_log(LOG_ERR, "store: stored record of log entry %llu is unreadable", (unsigned long long)lseq);
			rv = EDU_EIO;
			goto out;
		}
		/* A newer version has its own, later log entry: skip this one. */
		if (e.head.version > logged_version)
			continue;
		if (b->n > 0 && b->len + iv.mv_size > max_bytes)
			break;
		if ((rv = log_batch_room(b, iv.mv_size)) != EDU_OK)
			goto out;
		/* Offsets for now: the buffer may still move. */
		e.rec.item = (const uint8_t *)(uintptr_t)(e.rec.item - (const uint8_t *)iv.mv_data);
		e.rec.sig = e.rec.sig ? (const uint8_t *)(uintptr_t)(e.rec.sig - (const uint8_t *)iv.mv_data) : NULL;
		e.record = (const uint8_t *)(uintptr_t)b->len;
		e.record_len = iv.mv_size;
		memcpy(b->buf + b->len, iv.mv_data, iv.mv_size);
		b->len += iv.mv_size;
		b->e[b->n++] = e;
	}
	if (rc != 0 && rc != MDB_NOTFOUND) {
		rv = mdb_fail("reading log", rc);
		goto out;
	}
	for (size_t i = 0; i < b->n; i++) {
		edu_log_entry *e = &b->e[i];
		e->record = b->buf + (uintptr_t)e->record;
		e->rec.item = e->record + (uintptr_t)e->rec.item;
		if (e->rec.sig)
			e->rec.sig = e->record + (uintptr_t)e->rec.sig;
	}
out:
	mdb_cursor_close(ic);
	mdb_cursor_close(c);
	if (rv != EDU_OK) {
		b->n = 0;
		b->len = 0;
	}
	return rv;
}

edu_err edu_store_log_backlog(edu_store_rd *r, uint64_t after, uint64_t *count, int64_t *oldest_ms)
{
	MDB_cursor *c = NULL;
	edu_err rv = EDU_OK;
	*count = 0;
	if (oldest_ms)
		*oldest_ms = 0;
	store_counters ctr;
	if ((rv = store_counters_get(r->txn, r->s, &ctr)) != EDU_OK)
		return rv;
	if (ctr.log_head <= after)
		return EDU_OK;
	int rc = mdb_cursor_open(r->txn, r->s->db[DB_LOG], &c);
	if (rc != 0)
		return mdb_fail("log cursor", rc);
	/* Log seqs are dense from the first kept entry to the head (trims
	 * only remove a prefix), so the count needs no scan. */
	uint8_t kb[8];
	store_put_u64(kb, after + 1);
	MDB_val k = {8, kb}, v;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND)
		goto out;
	if (rc != 0) {
		rv = mdb_fail("reading log", rc);
		goto out;
	}
	if (k.mv_size != 8 || v.mv_size < LOG_VAL_MIN) {
		rv = EDU_EIO;
		goto out;
	}
	uint64_t first = store_get_u64(k.mv_data);
	*count = ctr.log_head >= first ? ctr.log_head - first + 1 : 0;
	if (oldest_ms)
		*oldest_ms = (int64_t)store_get_u64(v.mv_data);
out:
	mdb_cursor_close(c);
	return rv;
}

/* ---- stats and origins ------------------------------------------------------------- */

edu_err edu_store_stats_get(edu_store_rd *r, edu_store_stats *st)
{
	store_counters c;
	memset(st, 0, sizeof *st);
	edu_err rv = store_counters_get(r->txn, r->s, &c);
	if (rv != EDU_OK)
		return rv;
	MDB_envinfo info;
	MDB_stat ms;
	mdb_env_info(r->s->env, &info);
	mdb_env_stat(r->s->env, &ms);
	st->items_total = c.items_total;
	st->items_own = c.items_own;
	st->tombstones = c.tombstones;
	st->blobs = c.blobs;
	st->log_head = c.log_head;
	st->map_size = info.me_mapsize;
	st->map_used = (uint64_t)(info.me_last_pgno + 1) * ms.ms_psize;
	st->commits = atomic_load(&r->s->commits);
	return EDU_OK;
}

edu_err edu_store_origins(edu_store_rd *r, edu_store_origin_fn fn, void *arg)
{
	MDB_cursor *c = NULL;
	edu_err rv = EDU_OK;
	int rc = mdb_cursor_open(r->txn, r->s->db[DB_ORIGINS], &c);
	if (rc != 0)
		return mdb_fail("origins cursor", rc);
	MDB_val k, v;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		char unit[EDU_UNIT_ID_MAX + 1];
		if (k.mv_size < EDU_UNIT_ID_MIN || k.mv_size > EDU_UNIT_ID_MAX || v.mv_size != ORIGIN_VAL_LEN) {
			edu_log(LOG_ERR, "store: malformed origin entry");
			rv = EDU_EIO;
			goto out;
		}
		memcpy(unit, k.mv_data, k.mv_size);
		unit[k.mv_size] = '\0';
		const uint8_t *p = v.mv_data;
		fn(unit, store_get_u64(p), store_get_u64(p + 8), arg);
	}
	if (rc != MDB_NOTFOUND)
		rv = mdb_fail("reading origins", rc);
out:
	mdb_cursor_close(c);
	return rv;
}
