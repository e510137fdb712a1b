/* edu_store_check: a full consistency walk (see store_internal.h). Used by the
 * crash tests; cheap enough for a repair tool on small stores. */
#include "store_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct chk {
	edu_store_rd *r;
	char *why;
	size_t whylen;
} chk;

__attribute__((format(printf, 2, 3))) static edu_err bad(chk *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (c->why && c->whylen)
		vsnprintf(c->why, c->whylen, fmt, ap);
	va_end(ap);
	return EDU_EIO;
}

static bool has_key(chk *c, int db, const uint8_t *k, size_t kl)
{
	MDB_val key = {kl, (void *)k}, v;
	return mdb_get(c->r->txn, c->r->s->db[db], &key, &v) == 0;
}

static size_t entries(chk *c, int db)
{
	MDB_stat st;
	if (mdb_stat(c->r->txn, c->r->s->db[db], &st) != 0)
		return (size_t)-1;
	return st.ms_entries;
}

static edu_err check_live(chk *c, const edu_item *it, size_t *n_terms)
{
	okey ok;
	uint8_t k[EDU_UNIT_ID_MAX + 2 + OKEY_MAX];
	size_t ul = strlen(it->unit);
	store_terms t = {0};
	edu_err rv = EDU_OK;
	store_okey_make(&ok, it->published, it->unit, it->seq);
	if (!has_key(c, DB_BY_TIME, ok.b, ok.len))
		return bad(c, "%s:%llu missing from by_time", it->unit, (unsigned long long)it->seq);
	memcpy(k, it->unit, ul);
	k[ul] = 0;
	memcpy(k + ul + 1, ok.b, ok.len);
	if (!has_key(c, DB_BY_UNIT, k, ul + 1 + ok.len))
		return bad(c, "%s:%llu missing from by_unit", it->unit, (unsigned long long)it->seq);
	k[ul + 1] = (uint8_t)it->kind;
	memcpy(k + ul + 2, ok.b, ok.len);
	if (!has_key(c, DB_BY_UNIT_KIND, k, ul + 2 + ok.len))
		return bad(c, "%s:%llu missing from by_unit_kind", it->unit, (unsigned long long)it->seq);
	k[0] = (uint8_t)it->kind;
	memcpy(k + 1, ok.b, ok.len);
	if (!has_key(c, DB_BY_KIND, k, 1 + ok.len))
		return bad(c, "%s:%llu missing from by_kind", it->unit, (unsigned long long)it->seq);
	if ((rv = store_terms_of_item(&t, it)) != EDU_OK)
		goto out;
	for (size_t i = 0; i < t.n; i++) {
		if (!store_post_has(c->r->txn, c->r->s->db[DB_TERMS], t.buf + t.t[i].off, t.t[i].len, &ok)) {
			rv = bad(c, "%s:%llu missing from the search index (%.*s)", it->unit, (unsigned long long)it->seq,
			    (int)t.t[i].len, t.buf + t.t[i].off);
			goto out;
		}
	}
	*n_terms += t.n;
out:
	store_terms_free(&t);
	return rv;
}

typedef struct origin_acc {
	char unit[EDU_UNIT_ID_MAX + 1];
	uint64_t live, tomb, max_seq;
} origin_acc;

static edu_err check_origin(chk *c, const origin_acc *a)
{
	if (a->unit[0] == '\0')
		return EDU_OK;
	MDB_val k = {strlen(a->unit), (void *)a->unit}, v;
	if (mdb_get(c->r->txn, c->r->s->db[DB_ORIGINS], &k, &v) != 0 || v.mv_size != ORIGIN_VAL_LEN)
		return bad(c, "origin %s missing", a->unit);
	const uint8_t *p = v.mv_data;
	if (store_get_u64(p) != a->live || store_get_u64(p + 8) != a->max_seq || store_get_u64(p + 16) != a->tomb)
		return bad(c, "origin %s: stored live %llu max %llu tomb %llu, found %llu %llu %llu", a->unit,
		    (unsigned long long)store_get_u64(p), (unsigned long long)store_get_u64(p + 8),
		    (unsigned long long)store_get_u64(p + 16), (unsigned long long)a->live,
		    (unsigned long long)a->max_seq, (unsigned long long)a->tomb);
	return EDU_OK;
}

static edu_err check_log(chk *c, uint64_t head)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	edu_err rv = EDU_OK;
	uint64_t prev = 0;
	if (mdb_cursor_open(c->r->txn, c->r->s->db[DB_LOG], &cur) != 0)
		return bad(c, "log cursor");
	int rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 || v.mv_size <= LOG_VAL_MIN) {
			rv = bad(c, "malformed log entry");
			goto out;
		}
		uint64_t seq = store_get_u64(k.mv_data);
		if (prev != 0 && seq != prev + 1) {
			rv = bad(c, "log gap after %llu", (unsigned long long)prev);
			goto out;
		}
		prev = seq;
		if (!has_key(c, DB_ITEMS, (const uint8_t *)v.mv_data + LOG_VAL_MIN, v.mv_size - LOG_VAL_MIN)) {
			rv = bad(c, "log entry %llu without its item", (unsigned long long)seq);
			goto out;
		}
	}
	if (prev != 0 && prev != head)
		rv = bad(c, "log ends at %llu, head is %llu", (unsigned long long)prev, (unsigned long long)head);
out:
	mdb_cursor_close(cur);
	return rv;
}

edu_err edu_store_check(edu_store_rd *r, char *why, size_t whylen)
{
	chk c = {r, why, whylen};
	MDB_cursor *items = NULL;
	edu_record rec = {0};
	edu_item *it = NULL;
	store_counters want, got = {0};
	origin_acc acc = {0};
	size_t n_terms = 0, n_origins = 0, n_sources = 0;
	edu_err rv = store_counters_get(r->txn, r->s, &want);
	if (rv != EDU_OK)
		return bad(&c, "counters unreadable");
	if (mdb_cursor_open(r->txn, r->s->db[DB_ITEMS], &items) != 0) {
		rv = bad(&c, "cursor");
		goto out;
	}
	MDB_val k, v;
	int rc;
	for (rc = mdb_cursor_get(items, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(items, &k, &v, MDB_NEXT)) {
		char unit[EDU_UNIT_ID_MAX + 1];
		uint64_t seq;
		if (!store_ikey_parse(k.mv_data, k.mv_size, unit, &seq)) {
			rv = bad(&c, "malformed item key");
			goto out;
		}
		if (edu_record_decode(v.mv_data, v.mv_size, &rec) != EDU_OK ||
		    edu_item_decode(rec.item, rec.item_len, &it) != EDU_OK) {
			rv = bad(&c, "%s:%llu unreadable", unit, (unsigned long long)seq);
			goto out;
		}
		if (strcmp(it->unit, unit) != 0 || it->seq != seq) {
			rv = bad(&c, "%s:%llu stored under the wrong key", unit, (unsigned long long)seq);
			goto out;
		}
		if (strcmp(acc.unit, unit) != 0) {
			if ((rv = check_origin(&c, &acc)) != EDU_OK)
				goto out;
			memset(&acc, 0, sizeof acc);
			snprintf(acc.unit, sizeof acc.unit, "%s", unit);
			n_origins++;
		}
		if (seq > acc.max_seq)
			acc.max_seq = seq;
		if (it->deleted) {
			got.tombstones++;
			acc.tomb++;
		} else {
			if ((rv = check_live(&c, it, &n_terms)) != EDU_OK)
				goto out;
			char src[EDU_STORE_SOURCE_PATH_MAX + 1];
			if (store_source_of_item(it, src)) {
				uint8_t sv[SOURCE_VAL_MAX];
				MDB_val sk = {strlen(src), src}, svv = {store_source_val(sv, store_source_time(it), k.mv_data,
				    k.mv_size), sv};
				MDB_cursor *sc = NULL;
				bool found = mdb_cursor_open(r->txn, r->s->db[DB_SOURCES], &sc) == 0 &&
				    mdb_cursor_get(sc, &sk, &svv, MDB_GET_BOTH) == 0;
				if (sc)
					mdb_cursor_close(sc);
				if (!found) {
					rv = bad(&c, "%s:%llu missing from sources", unit, (unsigned long long)seq);
					goto out;
				}
				n_sources++;
			}
			got.items_total++;
			acc.live++;
			if (r->s->self_unit[0] != '\0' && strcmp(unit, r->s->self_unit) == 0)
				got.items_own++;
		}
		edu_item_free(it);
		it = NULL;
		edu_record_clear(&rec);
	}
	if ((rv = check_origin(&c, &acc)) != EDU_OK)
		goto out;
	if (rc != MDB_NOTFOUND) {
		rv = bad(&c, "items walk: %s", mdb_strerror(rc));
		goto out;
	}
	/* Every live item has its entries; equal counts mean nothing else is there. */
	static const int idx[] = {DB_BY_TIME, DB_BY_UNIT, DB_BY_UNIT_KIND, DB_BY_KIND};
	for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++)
		if (entries(&c, idx[i]) != got.items_total) {
			rv = bad(&c, "index %d has %zu entries for %llu live items", idx[i], entries(&c, idx[i]),
			    (unsigned long long)got.items_total);
			goto out;
		}
	{
		char pw[200] = "";
		size_t n_post = 0;
		if (store_post_verify(r->txn, r->s->db[DB_TERMS], &n_post, pw, sizeof pw) != 0) {
			rv = bad(&c, "%s", pw[0] ? pw : "search index unreadable");
			goto out;
		}
		if (n_post != n_terms) {
			rv = bad(&c, "the search index has %zu postings, live items have %zu", n_post, n_terms);
			goto out;
		}
	}
	if (entries(&c, DB_SOURCES) != n_sources) {
		rv = bad(&c, "sources has %zu entries, live items have %zu", entries(&c, DB_SOURCES), n_sources);
		goto out;
	}
	if (entries(&c, DB_ORIGINS) != n_origins) {
		rv = bad(&c, "origins has %zu entries for %zu units", entries(&c, DB_ORIGINS), n_origins);
		goto out;
	}
	got.blobs = entries(&c, DB_BLOBS);
	got.log_head = want.log_head;
	if (memcmp(&got, &want, sizeof got) != 0) {
		rv = bad(&c, "counters: stored total %llu own %llu tomb %llu blobs %llu, found %llu %llu %llu %llu",
		    (unsigned long long)want.items_total, (unsigned long long)want.items_own,
		    (unsigned long long)want.tombstones, (unsigned long long)want.blobs,
		    (unsigned long long)got.items_total, (unsigned long long)got.items_own,
		    (unsigned long long)got.tombstones, (unsigned long long)got.blobs);
		goto out;
	}
	rv = check_log(&c, want.log_head);
out:
	edu_item_free(it);
	edu_record_clear(&rec);
	if (items)
		mdb_cursor_close(items);
	return rv;
}
