/* The search index as blocks of postings (store format 3).
 *
 * Per token, the okeys of the live items holding it, ascending (newest
 * first), cut into blocks that partition the list:
 *   token 0x00            → count u64 (the token's postings)
 *   token 0x00 first-okey → block: (len u8, okey) entries, ascending, the
 *                           first being the key's okey; at most
 *                           POST_BLOCK_MAX bytes
 * Tokens never hold 0x00 (letters and digits), so a token's keys sort
 * together, its count first. Format 2 kept one LMDB duplicate per posting:
 * a realistic 1 KiB item has ~130 tokens, and putting 130 duplicates cost a
 * node's writer ~65 µs an item. A batch now rewrites each block it touches
 * once (its items share most tokens), and blocks stay small enough for
 * LMDB to keep them in its pages (no overflow pages). */
#include "store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POST_BLOCK_MAX 960

/* term 0x00 [okey] */
typedef struct pkey {
	uint8_t b[EDU_TEXT_TOKEN_MAX + 1 + OKEY_MAX];
	size_t len;
} pkey;

static bool pkey_make(pkey *k, const char *term, size_t tlen, const okey *ok)
{
	if (tlen == 0 || tlen > EDU_TEXT_TOKEN_MAX)
		return false;
	memcpy(k->b, term, tlen);
	k->b[tlen] = 0;
	k->len = tlen + 1;
	if (ok) {
		memcpy(k->b + k->len, ok->b, ok->len);
		k->len += ok->len;
	}
	return true;
}

/* A key of the term whose prefix (term 0x00) is plen bytes: 1 for a block
 * (okey set from it), 0 for the count, -1 for another term's key. */
static int pkey_kind(const MDB_val *k, const uint8_t *prefix, size_t plen, okey *first)
{
	if (k->mv_size < plen || memcmp(k->mv_data, prefix, plen) != 0)
		return -1;
	if (k->mv_size == plen)
		return 0;
	if (k->mv_size - plen > OKEY_MAX)
		return -1;
	if (first) {
		first->len = k->mv_size - plen;
		memcpy(first->b, (const uint8_t *)k->mv_data + plen, first->len);
	}
	return 1;
}

/* ---- an in-memory posting list, for rewriting blocks --------------------------- */

typedef struct plist {
	okey *v;
	size_t n, cap;
} plist;

static int plist_push(plist *l, const okey *k)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 256;
		okey *nv = realloc(l->v, nc * sizeof *nv);
		if (nv == NULL)
			return ENOMEM;
		l->v = nv;
		l->cap = nc;
	}
	l->v[l->n++] = *k;
	return 0;
}

/* Appends the entries of block v; MDB_CORRUPTED when malformed. */
static int plist_add_block(plist *l, const MDB_val *v)
{
	const uint8_t *p = v->mv_data, *end = p + v->mv_size;
	while (p < end) {
		okey k;
		size_t n = *p++;
		if (n == 0 || n > OKEY_MAX || (size_t)(end - p) < n)
			return MDB_CORRUPTED;
		memcpy(k.b, p, n);
		k.len = n;
		p += n;
		int rc = plist_push(l, &k);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Writes l (ascending, unique) as blocks of the term (prefix = term 0x00). */
static int put_blocks(MDB_txn *txn, MDB_dbi dbi, const uint8_t *prefix, size_t plen, const plist *l)
{
	uint8_t blk[POST_BLOCK_MAX];
	pkey k;
	size_t i = 0;
	memcpy(k.b, prefix, plen);
	while (i < l->n) {
		size_t bl = 0, first = i;
		while (i < l->n && bl + 1 + l->v[i].len <= sizeof blk) {
			blk[bl++] = (uint8_t)l->v[i].len;
			memcpy(blk + bl, l->v[i].b, l->v[i].len);
			bl += l->v[i].len;
			i++;
		}
		memcpy(k.b + plen, l->v[first].b, l->v[first].len);
		k.len = plen + l->v[first].len;
		MDB_val key = {k.len, k.b}, val = {bl, blk};
		int rc = mdb_put(txn, dbi, &key, &val, 0);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int count_get(MDB_txn *txn, MDB_dbi dbi, const uint8_t *prefix, size_t plen, uint64_t *count)
{
	MDB_val k = {plen, (void *)prefix}, v;
	int rc = mdb_get(txn, dbi, &k, &v);
	*count = 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.mv_size != 8)
		return MDB_CORRUPTED;
	*count = store_get_u64(v.mv_data);
	return 0;
}

static int count_put(MDB_txn *txn, MDB_dbi dbi, const uint8_t *prefix, size_t plen, uint64_t count)
{
	MDB_val k = {plen, (void *)prefix};
	if (count == 0) {
		int rc = mdb_del(txn, dbi, &k, NULL);
		return rc == MDB_NOTFOUND ? 0 : rc;
	}
	uint8_t b[8];
	store_put_u64(b, count);
	MDB_val v = {8, b};
	return mdb_put(txn, dbi, &k, &v, 0);
}

/* Positions c on the block that holds (or would hold) ok: the one with the
 * greatest first okey <= ok, else the term's first block. Returns 0 with
 * *found false when the term has no block. */
static int locate(MDB_cursor *c, const uint8_t *prefix, size_t plen, const okey *ok, bool *found,
    MDB_val *key, MDB_val *val)
{
	pkey k;
	okey first;
	memcpy(k.b, prefix, plen);
	memcpy(k.b + plen, ok->b, ok->len);
	k.len = plen + ok->len;
	MDB_val sk = {k.len, k.b}, sv;
	*found = false;
	int rc = mdb_cursor_get(c, &sk, &sv, MDB_SET_RANGE);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	bool at_exact = rc == 0 && pkey_kind(&sk, prefix, plen, &first) == 1 && store_okey_cmp(&first, ok) == 0;
	if (at_exact) {
		*key = sk, *val = sv, *found = true;
		return 0;
	}
	bool at_next = rc == 0 && pkey_kind(&sk, prefix, plen, NULL) == 1;
	MDB_val pk, pv;
	int prc = mdb_cursor_get(c, &pk, &pv, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
	if (prc != 0 && prc != MDB_NOTFOUND)
		return prc;
	if (prc == 0 && pkey_kind(&pk, prefix, plen, NULL) == 1) {
		*key = pk, *val = pv, *found = true;
		return 0;
	}
	if (at_next) { /* ok sorts before every posting: the term's first block */
		rc = mdb_cursor_get(c, &sk, &sv, MDB_SET_KEY);
		if (rc != 0)
			return rc;
		*key = sk, *val = sv, *found = true;
	}
	return 0;
}

/* The first okey of the block after the cursor's, if it is the term's. */
static int next_first(MDB_cursor *c, const uint8_t *prefix, size_t plen, bool *has, okey *first)
{
	MDB_val k, v;
	int rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	*has = false;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	*has = pkey_kind(&k, prefix, plen, first) == 1;
	return 0;
}

/* Adds the okeys ok[0..n) (ascending, duplicates allowed) to term. l and m
 * are scratch lists, reused across calls. */
static int add_term(MDB_txn *txn, MDB_dbi dbi, MDB_cursor *c, const char *term, size_t tlen,
    const okey *const *ok, size_t n, plist *l, plist *m)
{
	pkey pre;
	uint64_t count;
	size_t i = 0;
	int rc;
	if (!pkey_make(&pre, term, tlen, NULL))
		return EINVAL;
	if ((rc = count_get(txn, dbi, pre.b, pre.len, &count)) != 0)
		return rc;
	while (i < n) {
		MDB_val bk, bv;
		bool found, bounded = false;
		okey bound;
		size_t j = i, added = 0;
		l->n = 0;
		if ((rc = locate(c, pre.b, pre.len, ok[i], &found, &bk, &bv)) != 0)
			return rc;
		if (found) {
			/* Copy the key: the block is deleted below, then rewritten. */
			pkey old;
			old.len = bk.mv_size;
			memcpy(old.b, bk.mv_data, bk.mv_size);
			if ((rc = plist_add_block(l, &bv)) != 0)
				return rc;
			if ((rc = next_first(c, pre.b, pre.len, &bounded, &bound)) != 0)
				return rc;
			MDB_val dk = {old.len, old.b};
			if ((rc = mdb_del(txn, dbi, &dk, NULL)) != 0)
				return rc;
		}
		while (j < n && (!bounded || store_okey_cmp(ok[j], &bound) < 0))
			j++;
		/* Merge the block's entries (l) with ok[i..j), both ascending. */
		size_t nb = l->n, a = 0;
		m->n = 0;
		for (size_t b = i; a < nb || b < j;) {
			int cmp = a == nb ? 1 : b == j ? -1 : store_okey_cmp(&l->v[a], ok[b]);
			const okey *take = cmp <= 0 ? &l->v[a] : ok[b];
			if (cmp <= 0)
				a++;
			if (cmp >= 0)
				b++;
			if (cmp > 0)
				added++;
			if (m->n > 0 && store_okey_cmp(&m->v[m->n - 1], take) == 0) {
				if (cmp > 0)
					added--; /* a duplicate within the additions */
				continue;
			}
			if ((rc = plist_push(m, take)) != 0)
				return rc;
		}
		if ((rc = put_blocks(txn, dbi, pre.b, pre.len, m)) != 0)
			return rc;
		count += added;
		i = j;
	}
	return count_put(txn, dbi, pre.b, pre.len, count);
}

int store_post_add(MDB_txn *txn, MDB_dbi dbi, const store_posting *p, size_t n)
{
	MDB_cursor *c = NULL;
	plist l = {0}, m = {0};
	const okey **oks = NULL;
	int rc = mdb_cursor_open(txn, dbi, &c);
	if (rc != 0)
		return rc;
	if (n && (oks = malloc(n * sizeof *oks)) == NULL) {
		rc = ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && p[j].tlen == p[i].tlen && memcmp(p[j].term, p[i].term, p[i].tlen) == 0) {
			oks[j - i] = p[j].ok;
			j++;
		}
		if ((rc = add_term(txn, dbi, c, p[i].term, p[i].tlen, oks, j - i, &l, &m)) != 0)
			goto out;
		i = j;
	}
out:
	free(oks);
	free(l.v);
	free(m.v);
	mdb_cursor_close(c);
	return rc;
}

int store_post_del(MDB_txn *txn, MDB_dbi dbi, const char *term, size_t tlen, const okey *ok)
{
	MDB_cursor *c = NULL;
	pkey pre, old;
	plist l = {0};
	uint64_t count;
	bool found;
	MDB_val bk, bv;
	int rc;
	if (!pkey_make(&pre, term, tlen, NULL))
		return 0; /* never indexed */
	if ((rc = mdb_cursor_open(txn, dbi, &c)) != 0)
		return rc;
	if ((rc = locate(c, pre.b, pre.len, ok, &found, &bk, &bv)) != 0 || !found)
		goto out;
	old.len = bk.mv_size;
	memcpy(old.b, bk.mv_data, bk.mv_size);
	if ((rc = plist_add_block(&l, &bv)) != 0)
		goto out;
	size_t at = l.n;
	for (size_t i = 0; i < l.n && at == l.n; i++)
		if (store_okey_cmp(&l.v[i], ok) == 0)
			at = i;
	if (at == l.n)
		goto out; /* not indexed: nothing to remove */
	memmove(&l.v[at], &l.v[at + 1], (l.n - at - 1) * sizeof *l.v);
	l.n--;
	MDB_val dk = {old.len, old.b};
	if ((rc = mdb_del(txn, dbi, &dk, NULL)) != 0)
		goto out;
	if ((rc = put_blocks(txn, dbi, pre.b, pre.len, &l)) != 0)
		goto out;
	if ((rc = count_get(txn, dbi, pre.b, pre.len, &count)) != 0)
		goto out;
	rc = count_put(txn, dbi, pre.b, pre.len, count ? count - 1 : 0);
out:
	free(l.v);
	mdb_cursor_close(c);
	return rc;
}

/* ---- reading ------------------------------------------------------------------- */

int store_post_open(store_post_cur *pc, MDB_txn *txn, MDB_dbi dbi, const char *term, size_t tlen)
{
	pkey pre;
	memset(pc, 0, sizeof *pc);
	pc->done = true;
	if (!pkey_make(&pre, term, tlen, NULL))
		return MDB_NOTFOUND;
	memcpy(pc->prefix, pre.b, pre.len);
	pc->plen = pre.len;
	int rc = count_get(txn, dbi, pc->prefix, pc->plen, &pc->count);
	if (rc != 0)
		return rc;
	if (pc->count == 0)
		return MDB_NOTFOUND;
	return mdb_cursor_open(txn, dbi, &pc->c);
}

void store_post_close(store_post_cur *pc)
{
	if (pc->c)
		mdb_cursor_close(pc->c);
	pc->c = NULL;
}

/* Loads the entry at pc->pos of the current block into pc->cur. */
static int take(store_post_cur *pc)
{
	if (pc->pos >= pc->blen)
		return MDB_CORRUPTED;
	size_t n = pc->blk[pc->pos];
	if (n == 0 || n > OKEY_MAX || pc->blen - pc->pos - 1 < n)
		return MDB_CORRUPTED;
	memcpy(pc->cur.b, pc->blk + pc->pos + 1, n);
	pc->cur.len = n;
	return 0;
}

/* Makes the block at the cursor current (or ends the walk). */
static int enter(store_post_cur *pc, int rc, const MDB_val *k, const MDB_val *v)
{
	if (rc == MDB_NOTFOUND || (rc == 0 && pkey_kind(k, pc->prefix, pc->plen, NULL) != 1)) {
		pc->done = true;
		return 0;
	}
	if (rc != 0)
		return rc;
	pc->blk = v->mv_data;
	pc->blen = v->mv_size;
	pc->pos = 0;
	pc->done = false;
	return take(pc);
}

int store_post_next(store_post_cur *pc)
{
	if (pc->done)
		return 0;
	pc->pos += 1 + pc->blk[pc->pos];
	if (pc->pos < pc->blen)
		return take(pc);
	MDB_val k, v;
	int rc = mdb_cursor_get(pc->c, &k, &v, MDB_NEXT);
	return enter(pc, rc, &k, &v);
}

int store_post_seek(store_post_cur *pc, const okey *t, bool excl)
{
	MDB_val k, v;
	int rc;
	pc->done = true;
	if (t == NULL) {
		k.mv_size = pc->plen;
		k.mv_data = pc->prefix;
		rc = mdb_cursor_get(pc->c, &k, &v, MDB_SET_RANGE);
		if (rc == 0 && pkey_kind(&k, pc->prefix, pc->plen, NULL) == 0)
			rc = mdb_cursor_get(pc->c, &k, &v, MDB_NEXT); /* past the count */
		return enter(pc, rc, &k, &v);
	}
	bool found;
	if ((rc = locate(pc->c, pc->prefix, pc->plen, t, &found, &k, &v)) != 0 || !found)
		return rc;
	if ((rc = enter(pc, 0, &k, &v)) != 0 || pc->done)
		return rc;
	for (;;) {
		int cmp = store_okey_cmp(&pc->cur, t);
		if (cmp > 0 || (cmp == 0 && !excl))
			return 0;
		if ((rc = store_post_next(pc)) != 0 || pc->done)
			return rc;
	}
}

/* ---- checking ------------------------------------------------------------------ */

bool store_post_has(MDB_txn *txn, MDB_dbi dbi, const char *term, size_t tlen, const okey *ok)
{
	store_post_cur pc;
	bool has = false;
	if (store_post_open(&pc, txn, dbi, term, tlen) == 0 && store_post_seek(&pc, ok, false) == 0 && !pc.done)
		has = store_okey_cmp(&pc.cur, ok) == 0;
	store_post_close(&pc);
	return has;
}

int store_post_verify(MDB_txn *txn, MDB_dbi dbi, size_t *entries, char *why, size_t whylen)
{
	MDB_cursor *c = NULL;
	MDB_val k, v;
	uint8_t prefix[EDU_TEXT_TOKEN_MAX + 1];
	size_t plen = 0;
	uint64_t want = 0, got = 0;
	okey prev = {.len = 0};
	int rc = mdb_cursor_open(txn, dbi, &c);
	*entries = 0;
	if (rc != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const uint8_t *z = memchr(k.mv_data, 0, k.mv_size);
		size_t tl = z ? (size_t)(z - (const uint8_t *)k.mv_data) : 0;
		if (z == NULL || tl == 0 || tl > EDU_TEXT_TOKEN_MAX) {
			snprintf(why, whylen, "postings: malformed key");
			rc = MDB_CORRUPTED;
			break;
		}
		if (k.mv_size == tl + 1) { /* a new term's count */
			if (plen && got != want) {
				snprintf(why, whylen, "postings of %.*s: count %llu, %llu entries", (int)plen - 1, prefix,
				    (unsigned long long)want, (unsigned long long)got);
				rc = MDB_CORRUPTED;
				break;
			}
			memcpy(prefix, k.mv_data, tl + 1);
			plen = tl + 1;
			want = v.mv_size == 8 ? store_get_u64(v.mv_data) : 0;
			got = 0;
			prev.len = 0;
			continue;
		}
		okey first;
		plist l = {0};
		if (plen == 0 || pkey_kind(&k, prefix, plen, &first) != 1 || plist_add_block(&l, &v) != 0 ||
		    l.n == 0 || store_okey_cmp(&l.v[0], &first) != 0) {
			snprintf(why, whylen, "postings: a block without its count, malformed or keyed wrongly");
			free(l.v);
			rc = MDB_CORRUPTED;
			break;
		}
		for (size_t i = 0; i < l.n; i++) {
			if (prev.len && store_okey_cmp(&prev, &l.v[i]) >= 0) {
				snprintf(why, whylen, "postings of %.*s out of order", (int)plen - 1, prefix);
				rc = MDB_CORRUPTED;
				break;
			}
			prev = l.v[i];
		}
		got += l.n;
		*entries += l.n;
		free(l.v);
		if (rc != 0)
			break;
	}
	if (rc == MDB_NOTFOUND) {
		rc = 0;
		if (plen && got != want) {
			snprintf(why, whylen, "postings of %.*s: count %llu, %llu entries", (int)plen - 1, prefix,
			    (unsigned long long)want, (unsigned long long)got);
			rc = MDB_CORRUPTED;
		}
	}
	mdb_cursor_close(c);
	return rc;
}

/* ---- ordering a batch's postings ---------------------------------------- */

/* A batch holds up to hundreds of items with ~130 tokens each, and they
 * share most tokens: sorting all postings by (term, okey) cost a writer
 * ~20 µs an item in comparisons. Grouping by term with a hash table, sorting
 * only the distinct terms, then each term's okeys (already in item order,
 * usually ascending or descending) does the same work in about linear time. */

#define GROUP_NONE UINT32_MAX

typedef struct pgroup {
	uint32_t first, last; /* postings of this term: a chain through next[] */
} pgroup;

static uint64_t term_hash(const store_posting *p)
{
	uint64_t h = (p->pfx ^ p->tlen) * UINT64_C(0x9E3779B97F4A7C15);
	for (uint32_t i = 8; i < p->tlen; i++)
		h = (h ^ (uint8_t)p->term[i]) * UINT64_C(0x100000001B3);
	return h ^ (h >> 29);
}

static bool same_term(const store_posting *a, const store_posting *b)
{
	return a->pfx == b->pfx && a->tlen == b->tlen &&
	    (a->tlen <= 8 || memcmp(a->term + 8, b->term + 8, a->tlen - 8) == 0);
}

static int group_cmp(const void *pa, const void *pb, void *arg)
{
	const store_posting *p = arg;
	const store_posting *a = &p[((const pgroup *)pa)->first], *b = &p[((const pgroup *)pb)->first];
	return store_term_cmp(a->pfx, a->term, a->tlen, b->pfx, b->term, b->tlen);
}

static void reverse_run(store_posting *r, size_t n)
{
	for (size_t i = 0, j = n ? n - 1 : 0; i < j; i++, j--) {
		store_posting t = r[i];
		r[i] = r[j];
		r[j] = t;
	}
}

static int posting_cmp(const void *pa, const void *pb)
{
	const store_posting *a = pa, *b = pb;
	int c = store_term_cmp(a->pfx, a->term, a->tlen, b->pfx, b->term, b->tlen);
	return c != 0 ? c : store_okey_cmp(a->ok, b->ok);
}

typedef struct pblock {
	const okey *ok;
	size_t start, n;
} pblock;

static int block_cmp(const void *pa, const void *pb)
{
	return store_okey_cmp(((const pblock *)pa)->ok, ((const pblock *)pb)->ok);
}

/* Reorders p[0..n), made of items' contiguous blocks, so that the items'
 * okeys ascend (tmp: room for n postings). EINVAL when two blocks hold the
 * same okey (one item's postings are never split, and an item is never
 * twice in one batch's pending postings), ENOMEM. */
static int order_items(store_posting *p, size_t n, store_posting *tmp)
{
	size_t nb = 1;
	for (size_t i = 1; i < n; i++)
		nb += p[i].ok != p[i - 1].ok;
	pblock *b = malloc(nb * sizeof *b);
	if (b == NULL)
		return ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || p[i].ok != p[i - 1].ok)
			b[k++] = (pblock){p[i].ok, i, 0};
		b[k - 1].n++;
	}
	qsort(b, nb, sizeof *b, block_cmp);
	int rc = 0;
	size_t o = 0;
	for (k = 0; k < nb && rc == 0; k++) {
		if (k > 0 && store_okey_cmp(b[k - 1].ok, b[k].ok) == 0)
			rc = EINVAL;
		memcpy(tmp + o, p + b[k].start, b[k].n * sizeof *p);
		o += b[k].n;
	}
	if (rc == 0)
		memcpy(p, tmp, n * sizeof *p);
	free(b);
	return rc;
}

int store_post_sort(store_posting *p, size_t n)
{
	if (n < 2)
		return 0;
	if (n >= GROUP_NONE)
		return EINVAL;
	size_t cap = 64;
	while (cap < 2 * n)
		cap *= 2;
	uint32_t *slot = malloc(cap * sizeof *slot), *next = malloc(n * sizeof *next);
	pgroup *g = malloc(n * sizeof *g);
	store_posting *out = malloc(n * sizeof *out);
	size_t ng = 0;
	int rc = ENOMEM;
	if (!slot || !next || !g || !out)
		goto done;
	/* Each item's postings are contiguous and share its okey. When the items
	 * themselves are in okey order (or the reverse: new items come newest
	 * last, so descending), so is every term's run: one check per item.
	 * Otherwise the items are put in order first, as whole blocks. */
	bool up = true, down = true;
	for (size_t i = 1; i < n && (up || down); i++) {
		if (p[i].ok == p[i - 1].ok)
			continue;
		int c = store_okey_cmp(p[i - 1].ok, p[i].ok);
		up = up && c < 0;
		down = down && c > 0;
	}
	if (!up && !down) {
		if ((rc = order_items(p, n, out)) == EINVAL) {
			/* not the shape described: order it the plain way */
			qsort(p, n, sizeof *p, posting_cmp);
			rc = 0;
			goto done;
		}
		if (rc != 0)
			goto done;
		up = true;
	}
	memset(slot, 0xFF, cap * sizeof *slot);
	for (size_t i = 0; i < n; i++) {
		size_t h = (size_t)term_hash(&p[i]) & (cap - 1);
		while (slot[h] != GROUP_NONE && !same_term(&p[g[slot[h]].first], &p[i]))
			h = (h + 1) & (cap - 1);
		next[i] = GROUP_NONE;
		if (slot[h] == GROUP_NONE) {
			slot[h] = (uint32_t)ng;
			g[ng++] = (pgroup){(uint32_t)i, (uint32_t)i};
		} else {
			pgroup *gr = &g[slot[h]];
			next[gr->last] = (uint32_t)i;
			gr->last = (uint32_t)i;
		}
	}
	qsort_r(g, ng, sizeof *g, group_cmp, p);
	size_t o = 0;
	for (size_t k = 0; k < ng; k++) {
		size_t start = o;
		for (uint32_t i = g[k].first; i != GROUP_NONE; i = next[i])
			out[o++] = p[i];
		if (down)
			reverse_run(out + start, o - start);
	}
	memcpy(p, out, n * sizeof *p);
	rc = 0;
done:
	free(slot);
	free(next);
	free(g);
	free(out);
	return rc;
}
