/* Private to node/store: the store's layout, key encodings and helpers shared
 * by store.c (open, writer thread, group commit, put rule), store_read.c
 * (reads, queries, change log) and store_check.c (consistency check).
 *
 * On-disk layout (one LMDB env, named databases; format STORE_FORMAT):
 *   items        ikey → encoded Record exactly as stored (received_ms = commit time)
 *   by_time      okey → ""                   live items only
 *   by_unit      unit 0x00 okey → ""         live items only
 *   by_unit_kind unit 0x00 kind okey → ""    live items only
 *   by_kind      kind okey → ""              live items only
 *   postings     token 0x00 [okey] → count / blocks of okeys (store_post.c)
 *                                            live items only, tokens deduplicated per item
 *   origins      unit → live u64, max_seq u64, tombstones u64
 *   log          log seq u64 → commit ms u64, version u32, ikey
 *   blobs        sha256 → bytes
 *   sources      source path → ~t u64, ikey (DUPSORT) live items whose source_url
 *                normalizes (edu_store_source_path); t = updated (else
 *                published) with its sign bit flipped, so the first
 *                duplicate is the newest item for that old path
 *   meta         key → bytes ("store.format", "store.counters", callers' keys)
 * All integers big-endian.
 *
 * Format 2 added `sources`. A format-1 store is migrated when opened: the
 * index is built from the items in the same transaction that writes format 2.
 * The version is bumped (rather than the DB just added) so that a format-1
 * build, which would keep writing items without maintaining the index, now
 * refuses the store instead of leaving stale redirects behind. Format 3
 * replaced the `terms` DUPSORT database (one duplicate per posting) with
 * `postings` (blocks, store_post.c); a format-1 or 2 store's index is
 * rebuilt from its items when opened (in slices of items, one transaction
 * each, while meta "store.reindex" marks the work as unfinished). 
 *
 * ikey = unit bytes, 0x00, seq u64.
 * okey = ~ts, ~unit bytes, 0xFF, ~seq, where ts is `published` with its sign
 * bit flipped: ascending okey order is (published, unit, seq) descending, so a
 * forward scan is newest first and a cursor is just an okey. Unit bytes are
 * [a-z0-9-], so ~byte is never 0xFF and no okey is a prefix of another. Terms
 * hold okeys as their sorted duplicates, so every posting list is already
 * newest first and intersections are merge joins. */
#ifndef EDU_STORE_INTERNAL_H
#define EDU_STORE_INTERNAL_H

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "store.h"
#include "text/text.h"

#define STORE_FORMAT 3 /* "store.format" this build writes; newer is refused, 1 and 2 are migrated */
#define STORE_META_FORMAT "store.format"
#define STORE_META_COUNTERS "store.counters"
#define STORE_META_REINDEX "store.reindex" /* present while the search index is being built */
#define STORE_META_RESERVED "store." /* callers may not write keys with this prefix */

#define IKEY_MAX (EDU_UNIT_ID_MAX + 1 + 8)
#define OKEY_MAX (8 + EDU_UNIT_ID_MAX + 1 + 8)
#define ORIGIN_VAL_LEN 24
#define LOG_VAL_MIN (8 + 4)

enum {
	DB_ITEMS,
	DB_BY_TIME,
	DB_BY_UNIT,
	DB_BY_UNIT_KIND,
	DB_BY_KIND,
	DB_TERMS,
	DB_ORIGINS,
	DB_LOG,
	DB_BLOBS,
	DB_META,
	DB_SOURCES,
	DB_COUNT
};

/* Kept in meta "store.counters" (5 × u64) and updated in the same
 * transaction as the change they count, so stats are O(1) and exact. */
typedef struct store_counters {
	uint64_t items_total, items_own, tombstones, blobs, log_head;
} store_counters;
#define COUNTERS_LEN 40

struct edu_store {
	MDB_env *env;
	MDB_dbi db[DB_COUNT];
	char self_unit[EDU_UNIT_ID_MAX + 1];
	uint64_t map_max;   /* 0: unbounded */
	void (*idle_fn)(void *arg);
	void *idle_arg;
	uint64_t map_size;  /* writer thread only (after open) */

	pthread_mutex_t mu;      /* queue, closing, and the waiters' condvars */
	pthread_cond_t work_cv;  /* wakes the writer */
	pthread_cond_t log_cv;   /* broadcast after every commit (CLOCK_MONOTONIC) */
	edu_store_batch *q_head, *q_tail;
	bool closing;
	int log_waiters; /* threads inside edu_store_log_wait; close waits for 0 */
	uint64_t log_wakes; /* bumped by edu_store_log_wake: every waiter returns */

	/* Readers hold it shared for the life of an edu_store_rd; the writer takes
	 * it exclusive only around mdb_env_set_mapsize, which LMDB allows only
	 * while no transaction of this process is open. */
	pthread_rwlock_t map_lock;

	pthread_t writer;
	store_counters committed; /* writer thread only (after open) */
	void *pend;               /* writer thread: search postings buffer, reused (store.c) */
	size_t pend_cap;

	/* Bumped by every read handle and commit: the writer releases the map's
	 * pages from this process when a whole idle period saw no use. */
	_Atomic uint64_t uses;

	_Atomic uint64_t next_seq;
	_Atomic uint64_t generation;
	_Atomic uint64_t commits;
	_Atomic uint64_t log_head;
	_Atomic uint64_t items_total, items_own; /* committed counters, for edu_store_counts */

	bool mu_ok, work_cv_ok, log_cv_ok, map_lock_ok, writer_ok;
};

struct edu_store_rd {
	edu_store *s;
	MDB_txn *txn;
};

typedef struct okey {
	uint8_t b[OKEY_MAX];
	size_t len;
} okey;

static inline void store_put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static inline uint64_t store_get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

void store_okey_make(okey *k, int64_t published, const char *unit, uint64_t seq);
/* false when p is not a well-formed okey. unit gets room for EDU_UNIT_ID_MAX + 1. */
bool store_okey_parse(const uint8_t *p, size_t len, int64_t *published, char *unit, uint64_t *seq);
int store_okey_cmp(const okey *a, const okey *b);
size_t store_ikey_make(uint8_t out[IKEY_MAX], const char *unit, uint64_t seq);
bool store_ikey_parse(const uint8_t *p, size_t len, char *unit, uint64_t *seq);

/* A deduplicated, sorted set of search tokens. */
typedef struct store_terms {
	char *buf;
	size_t len, cap;
	struct store_term {
		uint32_t off;
		uint32_t len;
		uint64_t pfx; /* first 8 bytes, big-endian, zero-padded: orders tokens (no NULs) up to 8 bytes */
	} *t;
	size_t n, cap_n;
} store_terms;
/* Appends the tokens of s (folded by node/text; ASCII words on a fast path
 * that yields the same set). */
edu_err store_terms_add_text(store_terms *t, const char *s);
/* The same through node/text alone (the reference for the fast path). */
edu_err store_terms_add_text_plain(store_terms *t, const char *s);
/* Title, summary and body, then sorted and deduplicated. */
edu_err store_terms_of_item(store_terms *t, const edu_item *it);
edu_err store_terms_finish(store_terms *t); /* EDU_OK or EDU_ENOMEM */
void store_terms_free(store_terms *t);

edu_err store_counters_get(MDB_txn *txn, const edu_store *s, store_counters *c);
/* Decodes the stored record at ikey into an item (received_ms, signed_ok set). */
edu_err store_load_item(MDB_txn *txn, const edu_store *s, const uint8_t *ikey, size_t iklen, edu_item **out);

/* The search index (store_post.c): per token, blocks of okeys. */
typedef struct store_posting {
	const char *term; /* token bytes (not NUL-terminated) */
	const okey *ok;
	uint32_t tlen;
	uint64_t pfx;     /* the token's store_term.pfx (for sorting) */
} store_posting;
/* Orders tokens: by pfx, then the bytes past the 8th. */
static inline int store_term_cmp(uint64_t pa, const char *a, size_t al, uint64_t pb, const char *b, size_t bl)
{
	if (pa != pb)
		return pa < pb ? -1 : 1;
	if (al <= 8 || bl <= 8)
		return al < bl ? -1 : al > bl;
	size_t n = al < bl ? al : bl;
	int c = memcmp(a + 8, b + 8, n - 8);
	if (c != 0)
		return c;
	return al < bl ? -1 : al > bl;
}
static inline uint64_t store_term_pfx(const char *s, size_t len)
{
	uint64_t v = 0;
	for (size_t i = 0; i < 8; i++)
		v = v << 8 | (i < len ? (uint8_t)s[i] : 0);
	return v;
}
/* Adds p[0..n), sorted by (term, okey); a posting already there is no
 * change. Returns an LMDB code (or ENOMEM/EINVAL). */
int store_post_add(MDB_txn *txn, MDB_dbi dbi, const store_posting *p, size_t n);
/* Sorts p[0..n) by (term, okey) as store_post_add wants it: 0 or ENOMEM.
 * Fast when p is made of items' postings, each item's contiguous and sharing
 * one okey pointer (as the writer and the reindex build it). */
int store_post_sort(store_posting *p, size_t n);
/* Removes one posting if present. */
int store_post_del(MDB_txn *txn, MDB_dbi dbi, const char *term, size_t tlen, const okey *ok);
/* Walks one token's okeys ascending (newest first). Valid while its
 * transaction lives and nothing writes the index. */
typedef struct store_post_cur {
	MDB_cursor *c;
	uint8_t prefix[EDU_TEXT_TOKEN_MAX + 1];
	size_t plen;
	uint64_t count;      /* the token's postings */
	const uint8_t *blk;  /* the current block */
	size_t blen, pos;
	okey cur;
	bool done;
} store_post_cur;
/* MDB_NOTFOUND when nothing holds the token; close it in every case. */
int store_post_open(store_post_cur *pc, MDB_txn *txn, MDB_dbi dbi, const char *term, size_t tlen);
void store_post_close(store_post_cur *pc);
/* To the first okey >= t (> t when excl); t NULL: the first. done at the end. */
int store_post_seek(store_post_cur *pc, const okey *t, bool excl);
int store_post_next(store_post_cur *pc);
bool store_post_has(MDB_txn *txn, MDB_dbi dbi, const char *term, size_t tlen, const okey *ok);
/* Checks every block (order, keys, counts); *entries = postings in all.
 * MDB_CORRUPTED with why set when something is wrong. */
int store_post_verify(MDB_txn *txn, MDB_dbi dbi, size_t *entries, char *why, size_t whylen);

/* The sources index (store_source.c). */
#define SOURCE_VAL_MAX (8 + IKEY_MAX)
size_t store_source_val(uint8_t out[SOURCE_VAL_MAX], int64_t t, const uint8_t *ik, size_t iklen);
/* Adds (add) or removes one (path, value) pair; returns an LMDB code. */
int store_source_put(MDB_txn *txn, MDB_dbi dbi, const char *path, const uint8_t *val, size_t vlen, bool add);
/* The normalized path of a live item's source_url; false when it has none
 * (or it cannot be indexed: logged). */
bool store_source_of_item(const edu_item *it, char out[EDU_STORE_SOURCE_PATH_MAX + 1]);
int64_t store_source_time(const edu_item *it);
/* Rebuilds the whole index from the items (migration); LMDB code. */
int store_source_rebuild(MDB_txn *txn, const edu_store *s, uint64_t *indexed);

/* Test and repair aid: walks the whole store and checks every invariant
 * (each live item indexed and searchable exactly once, no index entry without
 * its live item, counters and origins exact, log contiguous and pointing at
 * stored items). EDU_EIO with a reason in why when something is wrong. */
edu_err edu_store_check(edu_store_rd *r, char *why, size_t whylen);

#endif
