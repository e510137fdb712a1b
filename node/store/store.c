/* The store's write side: open/close, batches, the writer thread (group
 * commit with one nested transaction per batch), the put rule, and map growth.
 * Layout and key encodings are described in store_internal.h. */
#include "store_internal.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "text/text.h"

#define STORE_MAP_DEFAULT (64ull * 1024 * 1024)
#define STORE_MAP_MIN (256ull * 1024)
#define STORE_PAGE 4096ull
#define STORE_MAXREADERS 126
#define STORE_MAXDBS 16
#define STORE_GROUP_MAX 1024                   /* batches per write transaction */
#define STORE_GROUP_BYTES (64u * 1024 * 1024)  /* payload per write transaction (soft) */
#define STORE_IDLE_MS 1000 /* a store unused this long gives its mapped pages back */

enum op_kind { OP_RECORD, OP_BLOB, OP_META, OP_TRIM };

/* A record decoded, validated and indexed on the caller's thread by
 * edu_store_batch_put_record, so the writer thread (which serializes every
 * commit) only does LMDB work: the version check and the puts. */
typedef struct rec_prep {
	bool ok;              /* decoded and valid; otherwise the result is INVALID */
	bool deleted;
	uint8_t kind;
	uint8_t iklen;
	uint32_t version;
	uint64_t seq;
	int64_t published;
	char unit[EDU_UNIT_ID_MAX + 1];
	uint8_t ik[IKEY_MAX];
	okey ok_key;
	uint8_t (*att)[32];   /* attachment sha256s (n_att) */
	size_t n_att;
	size_t t0, t1;        /* its search tokens: entries [t0, t1) of the batch's terms */
	char *src;            /* normalized source path (live items with a source_url), or NULL */
	int64_t src_t;        /* its order among items sharing the path (store_source_time) */
} rec_prep;

typedef struct op {
	enum op_kind kind;
	uint8_t *data; /* record item bytes, blob bytes, meta value */
	size_t len;
	char *key;     /* meta key */
	uint8_t sha[32];
	uint8_t sig[64];
	bool has_sig;
	uint64_t upto;
	rec_prep rp;   /* OP_RECORD */
} op;

typedef struct rec_result {
	edu_put_result res;
	uint64_t log_seq;
} rec_result;

struct edu_store_batch {
	op *ops;
	size_t n_ops, cap_ops;
	rec_result *res;
	size_t n_rec, cap_rec;
	size_t bytes;
	store_terms terms; /* tokens of every record, each record's run sorted and deduplicated */
	/* Most batches hold one record (an API publish): no extra allocations. */
	op op1;
	rec_result res1;
	/* Owned by the store while queued. */
	edu_store_batch *next;
	edu_store_done_fn fn;
	void *arg;
	edu_err rv;
	bool changed;
	bool failed; /* failed on its own; skipped when its group is rerun */
	bool queued;
};

/* ---- keys ---------------------------------------------------------------- */

static uint64_t ts_enc(int64_t published)
{
	return (uint64_t)published ^ (1ull << 63);
}

void store_okey_make(okey *k, int64_t published, const char *unit, uint64_t seq)
{
	size_t ul = strlen(unit);
	if (ul > EDU_UNIT_ID_MAX)
		ul = EDU_UNIT_ID_MAX; /* callers validate; never overflow */
	store_put_u64(k->b, ~ts_enc(published));
	for (size_t i = 0; i < ul; i++)
		k->b[8 + i] = (uint8_t)~(uint8_t)unit[i];
	k->b[8 + ul] = 0xFF;
	store_put_u64(k->b + 9 + ul, ~seq);
	k->len = 17 + ul;
}

bool store_okey_parse(const uint8_t *p, size_t len, int64_t *published, char *unit, uint64_t *seq)
{
	if (len < 17 + EDU_UNIT_ID_MIN || len > OKEY_MAX || p[len - 9] != 0xFF)
		return false;
	size_t ul = len - 17;
	for (size_t i = 0; i < ul; i++) {
		uint8_t c = (uint8_t)~p[8 + i];
		if (c == 0 || c == 0xFF)
			return false;
		unit[i] = (char)c;
	}
	unit[ul] = '\0';
	*published = (int64_t)(~store_get_u64(p) ^ (1ull << 63));
	*seq = ~store_get_u64(p + 9 + ul);
	return true;
}

int store_okey_cmp(const okey *a, const okey *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->b, b->b, n);
	if (c != 0)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

size_t store_ikey_make(uint8_t out[IKEY_MAX], const char *unit, uint64_t seq)
{
	size_t ul = strlen(unit);
	if (ul > EDU_UNIT_ID_MAX)
		ul = EDU_UNIT_ID_MAX;
	memcpy(out, unit, ul);
	out[ul] = 0;
	store_put_u64(out + ul + 1, seq);
	return ul + 9;
}

bool store_ikey_parse(const uint8_t *p, size_t len, char *unit, uint64_t *seq)
{
	if (len < 9 + EDU_UNIT_ID_MIN || len > IKEY_MAX || p[len - 9] != 0)
		return false;
	size_t ul = len - 9;
	if (memchr(p, 0, ul) != NULL)
		return false;
	memcpy(unit, p, ul);
	unit[ul] = '\0';
	*seq = store_get_u64(p + ul + 1);
	return true;
}

/* ---- search terms ---------------------------------------------------------- */

static edu_err term_cb(const char *tok, size_t len, void *arg)
{
	store_terms *t = arg;
	if (len == 0)
		return EDU_OK;
	if (t->n == t->cap_n) {
		size_t nc = t->cap_n ? t->cap_n * 2 : 64;
		void *p = realloc(t->t, nc * sizeof *t->t);
		if (p == NULL)
			return EDU_ENOMEM;
		t->t = p;
		t->cap_n = nc;
	}
	if (t->len + len > t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 1024;
		while (nc < t->len + len)
			nc *= 2;
		void *p = realloc(t->buf, nc);
		if (p == NULL)
			return EDU_ENOMEM;
		t->buf = p;
		t->cap = nc;
	}
	memcpy(t->buf + t->len, tok, len);
	t->t[t->n].off = (uint32_t)t->len;
	t->t[t->n].len = (uint32_t)len;
	t->t[t->n].pfx = store_term_pfx(tok, len);
	t->n++;
	t->len += len;
	return EDU_OK;
}

edu_err store_terms_add_text_plain(store_terms *t, const char *s)
{
	if (s == NULL || *s == '\0')
		return EDU_OK;
	return edu_text_tokens(s, strlen(s), term_cb, t);
}

static bool ascii_word_byte(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

typedef struct count_ctx {
	store_terms *t;
	size_t n;
} count_ctx;

static edu_err count_cb(const char *tok, size_t len, void *arg)
{
	count_ctx *c = arg;
	c->n++;
	return term_cb(tok, len, c->t);
}

/* The same token set as store_terms_add_text_plain, faster: folding ASCII
 * is lowercasing, and an ASCII byte that is not a letter or digit always
 * separates tokens (it is a starter that composes with nothing and folds to
 * itself). So words made only of ASCII are cut and lowercased here, and only
 * words holding other characters go to node/text (utf8proc), in one call.
 * Emitting tokens out of order changes nothing (the run is sorted and
 * deduplicated) unless the text reaches EDU_TEXT_TOKENS_MAX, where order
 * decides which tokens count: then the plain walk is used instead. */
edu_err store_terms_add_text(store_terms *t, const char *s)
{
	if (s == NULL || *s == '\0')
		return EDU_OK;
	size_t len = strlen(s), n0 = t->n, len0 = t->len, count = 0, i = 0;
	edu_buf slow = EDU_BUF_INIT;
	edu_err rv = EDU_OK;
	while (i < len && rv == EDU_OK) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80 && !ascii_word_byte(c)) {
			i++;
			continue;
		}
		size_t st = i;
		bool ascii = true;
		for (; i < len; i++) {
			c = (unsigned char)s[i];
			if (c < 0x80 && !ascii_word_byte(c))
				break;
			if (c >= 0x80)
				ascii = false;
		}
		if (ascii) {
			char tok[EDU_TEXT_TOKEN_MAX];
			size_t n = i - st < sizeof tok ? i - st : sizeof tok;
			for (size_t k = 0; k < n; k++) {
				char ch = s[st + k];
				tok[k] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
			}
			rv = term_cb(tok, n, t);
			count++;
		} else if ((rv = edu_buf_append(&slow, s + st, i - st)) == EDU_OK) {
			rv = edu_buf_append(&slow, " ", 1);
		}
	}
	if (rv == EDU_OK && slow.len > 0) {
		count_ctx cc = {t, 0};
		rv = edu_text_tokens(slow.p, slow.len, count_cb, &cc);
		count += cc.n;
	}
	edu_buf_free(&slow);
	if (rv == EDU_OK && count >= EDU_TEXT_TOKENS_MAX) {
		t->n = n0;
		t->len = len0;
		rv = store_terms_add_text_plain(t, s);
	}
	return rv;
}

static inline int term_cmp(const struct store_term *x, const struct store_term *y, const char *buf)
{
	return store_term_cmp(x->pfx, buf + x->off, x->len, y->pfx, buf + y->off, y->len);
}

#define TERMS_RUN 16

/* Sorts a[0..n) by term_cmp: insertion-sorted runs, then bottom-up merges
 * through tmp (room for n). qsort_r spent most of its time calling the
 * comparator and copying 16-byte entries with memcpy, for every token of
 * every item at every node. Stable, n log n at worst. */
static void terms_sort(struct store_term *a, struct store_term *tmp, size_t n, const char *buf)
{
	for (size_t lo = 0; lo < n; lo += TERMS_RUN) {
		size_t hi = lo + TERMS_RUN < n ? lo + TERMS_RUN : n;
		for (size_t i = lo + 1; i < hi; i++) {
			struct store_term x = a[i];
			size_t j = i;
			for (; j > lo && term_cmp(&a[j - 1], &x, buf) > 0; j--)
				a[j] = a[j - 1];
			a[j] = x;
		}
	}
	struct store_term *src = a, *dst = tmp;
	for (size_t w = TERMS_RUN; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, o = lo;
			while (i < mid && j < hi)
				dst[o++] = term_cmp(&src[j], &src[i], buf) < 0 ? src[j++] : src[i++];
			while (i < mid)
				dst[o++] = src[i++];
			while (j < hi)
				dst[o++] = src[j++];
		}
		struct store_term *t = src;
		src = dst;
		dst = t;
	}
	if (src != a)
		memcpy(a, src, n * sizeof *a);
}

/* Sorts and deduplicates entries [from, n) (the tokens of one text set). */
static edu_err terms_finish_from(store_terms *t, size_t from)
{
	if (t->n < from + 2)
		return EDU_OK;
	struct store_term *a = t->t + from, stack_tmp[256], *tmp = stack_tmp;
	size_t n = t->n - from;
	if (n > sizeof stack_tmp / sizeof stack_tmp[0] && (tmp = malloc(n * sizeof *tmp)) == NULL)
		return EDU_ENOMEM;
	terms_sort(a, tmp, n, t->buf);
	if (tmp != stack_tmp)
		free(tmp);
	size_t w = 1;
	for (size_t i = 1; i < n; i++)
		if (term_cmp(&a[w - 1], &a[i], t->buf) != 0)
			a[w++] = a[i];
	t->n = from + w;
	return EDU_OK;
}

edu_err store_terms_finish(store_terms *t)
{
	return terms_finish_from(t, 0);
}

/* Appends the tokens of an item's title, summary and body to t as one sorted,
 * deduplicated run starting at entry t->n. */
static edu_err terms_append_item(store_terms *t, const edu_item *it)
{
	size_t from = t->n;
	edu_err rv = store_terms_add_text(t, it->title);
	if (rv == EDU_OK)
		rv = store_terms_add_text(t, it->summary);
	if (rv == EDU_OK)
		rv = store_terms_add_text(t, it->body);
	if (rv == EDU_OK)
		rv = terms_finish_from(t, from);
	return rv;
}

edu_err store_terms_of_item(store_terms *t, const edu_item *it)
{
	t->n = 0;
	t->len = 0;
	return terms_append_item(t, it);
}

void store_terms_free(store_terms *t)
{
	free(t->buf);
	free(t->t);
	memset(t, 0, sizeof *t);
}

/* ---- counters ------------------------------------------------------------- */

edu_err store_counters_get(MDB_txn *txn, const edu_store *s, store_counters *c)
{
	MDB_val k = {strlen(STORE_META_COUNTERS), STORE_META_COUNTERS}, v;
	memset(c, 0, sizeof *c);
	int rc = mdb_get(txn, s->db[DB_META], &k, &v);
	if (rc == MDB_NOTFOUND)
		return EDU_OK;
	if (rc != 0) {
		edu_log(LOG_ERR, "store: reading counters: %s", mdb_strerror(rc));
		return edu_err_from_mdb(rc);
	}
	if (v.mv_size != COUNTERS_LEN) {
		edu_log(LOG_ERR, "store: counters have %zu bytes, want %d", v.mv_size, COUNTERS_LEN);
		return EDU_EIO;
	}
	const uint8_t *p = v.mv_data;
	c->items_total = store_get_u64(p);
	c->items_own = store_get_u64(p + 8);
	c->tombstones = store_get_u64(p + 16);
	c->blobs = store_get_u64(p + 24);
	c->log_head = store_get_u64(p + 32);
	return EDU_OK;
}

static int counters_put(MDB_txn *txn, const edu_store *s, const store_counters *c)
{
	uint8_t b[COUNTERS_LEN];
	store_put_u64(b, c->items_total);
	store_put_u64(b + 8, c->items_own);
	store_put_u64(b + 16, c->tombstones);
	store_put_u64(b + 24, c->blobs);
	store_put_u64(b + 32, c->log_head);
	MDB_val k = {strlen(STORE_META_COUNTERS), STORE_META_COUNTERS}, v = {sizeof b, b};
	return mdb_put(txn, s->db[DB_META], &k, &v, 0);
}

/* ---- batches -------------------------------------------------------------- */

edu_err edu_store_batch_new(edu_store_batch **out)
{
	edu_store_batch *b = calloc(1, sizeof *b);
	*out = b;
	if (b == NULL)
		return EDU_ENOMEM;
	b->ops = &b->op1;
	b->cap_ops = 1;
	b->res = &b->res1;
	b->cap_rec = 1;
	return EDU_OK;
}

void edu_store_batch_free(edu_store_batch *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n_ops; i++) {
		free(b->ops[i].data);
		free(b->ops[i].key);
		free(b->ops[i].rp.att);
		free(b->ops[i].rp.src);
	}
	if (b->ops != &b->op1)
		free(b->ops);
	if (b->res != &b->res1)
		free(b->res);
	store_terms_free(&b->terms);
	free(b);
}

/* Grows an array that may start in the batch's inline slot. */
static void *grow(void *arr, void *inline_slot, size_t *cap, size_t elem)
{
	size_t nc = *cap < 8 ? 8 : *cap * 2;
	void *p;
	if (arr == inline_slot) {
		p = malloc(nc * elem);
		if (p != NULL)
			memcpy(p, arr, *cap * elem);
	} else {
		p = realloc(arr, nc * elem);
	}
	if (p != NULL)
		*cap = nc;
	return p;
}

static op *op_add(edu_store_batch *b)
{
	if (b->n_ops == b->cap_ops) {
		op *p = grow(b->ops, &b->op1, &b->cap_ops, sizeof *p);
		if (p == NULL)
			return NULL;
		b->ops = p;
	}
	op *o = &b->ops[b->n_ops];
	memset(o, 0, sizeof *o);
	return o;
}

/* Derives everything the writer needs from a valid item: keys, attachment
 * hashes and search tokens (appended to b->terms). */
static edu_err prepare_item(edu_store_batch *b, op *o, const edu_item *it)
{
	rec_prep *rp = &o->rp;
	edu_err e;
	rp->t0 = rp->t1 = b->terms.n;
	rp->deleted = it->deleted;
	rp->kind = (uint8_t)it->kind;
	rp->version = it->version;
	rp->seq = it->seq;
	rp->published = it->published;
	snprintf(rp->unit, sizeof rp->unit, "%s", it->unit);
	rp->iklen = (uint8_t)store_ikey_make(rp->ik, it->unit, it->seq);
	store_okey_make(&rp->ok_key, it->published, it->unit, it->seq);
	if (it->n_attachments) {
		rp->att = malloc(it->n_attachments * sizeof *rp->att);
		if (rp->att == NULL)
			return EDU_ENOMEM;
		for (size_t i = 0; i < it->n_attachments; i++)
			memcpy(rp->att[i], it->attachments[i].sha256, 32);
		rp->n_att = it->n_attachments;
	}
	char src[EDU_STORE_SOURCE_PATH_MAX + 1];
	if (store_source_of_item(it, src)) {
		if ((rp->src = strdup(src)) == NULL)
			return EDU_ENOMEM;
		rp->src_t = store_source_time(it);
	}
	if (!it->deleted && (e = terms_append_item(&b->terms, it)) != EDU_OK) {
		b->terms.n = rp->t0;
		return e;
	}
	rp->t1 = b->terms.n;
	rp->ok = true;
	return EDU_OK;
}

/* Decodes and validates the record's item on the caller's thread. One that
 * does not decode or validate is kept with rp->ok false: its result is
 * EDU_PUT_INVALID, as if the writer had rejected it. */
static edu_err prepare_record(edu_store_batch *b, op *o)
{
	edu_item *it = NULL;
	char why[160] = "";
	edu_err e = edu_item_decode_why(o->data, o->len, &it, why, sizeof why);
	o->rp.t0 = o->rp.t1 = b->terms.n;
	if (e == EDU_ENOMEM)
		return e;
	if (e != EDU_OK) {
		edu_log(LOG_INFO, "store: record rejected: %s", why[0] ? why : edu_strerror(e));
		return EDU_OK;
	}
	e = prepare_item(b, o, it);
	edu_item_free(it);
	return e;
}

/* Adds the record; it (NULL: decode r->item) is its item, already valid. */
static edu_err put_record(edu_store_batch *b, const edu_record *r, const edu_item *it)
{
	if (b == NULL || r == NULL || b->queued || (r->item == NULL && r->item_len != 0))
		return EDU_EINVAL;
	if (r->item_len > EDU_RECORD_MAX)
		return EDU_ETOOBIG;
	if (b->n_rec == b->cap_rec) {
		rec_result *p = grow(b->res, &b->res1, &b->cap_rec, sizeof *p);
		if (p == NULL)
			return EDU_ENOMEM;
		b->res = p;
	}
	op *o = op_add(b);
	if (o == NULL)
		return EDU_ENOMEM;
	o->kind = OP_RECORD;
	o->data = malloc(r->item_len ? r->item_len : 1);
	if (o->data == NULL)
		return EDU_ENOMEM;
	if (r->item_len)
		memcpy(o->data, r->item, r->item_len);
	o->len = r->item_len;
	o->has_sig = r->has_sig;
	memcpy(o->sig, r->sig, sizeof o->sig);
	edu_err e = it ? prepare_item(b, o, it) : prepare_record(b, o);
	if (e != EDU_OK) {
		free(o->data);
		free(o->rp.att);
		free(o->rp.src);
		memset(o, 0, sizeof *o);
		return e;
	}
	b->res[b->n_rec] = (rec_result){EDU_PUT_INVALID, 0};
	b->n_rec++;
	b->n_ops++;
	b->bytes += r->item_len;
	return EDU_OK;
}

edu_err edu_store_batch_put_record(edu_store_batch *b, const edu_record *r)
{
	return put_record(b, r, NULL);
}

edu_err edu_store_batch_put_item(edu_store_batch *b, const edu_record *r, const edu_item *it)
{
	if (it == NULL)
		return EDU_EINVAL;
	return put_record(b, r, it);
}

edu_err edu_store_batch_put_blob(edu_store_batch *b, const uint8_t sha256[32], const void *data, size_t len)
{
	if (b == NULL || sha256 == NULL || (data == NULL && len != 0) || b->queued)
		return EDU_EINVAL;
	if (len > EDU_ATTACH_MAX)
		return EDU_ETOOBIG;
	/* Checked here rather than on the writer thread: the caller learns of a
	 * bad hash at once, and the writer stays free of hashing work. */
	uint8_t h[32];
	crypto_hash_sha256(h, data ? data : (const void *)"", len);
	if (sodium_memcmp(h, sha256, sizeof h) != 0) {
		edu_log(LOG_WARNING, "store: blob does not match its sha256 (%zu bytes)", len);
		return EDU_EINVAL;
	}
	op *o = op_add(b);
	if (o == NULL)
		return EDU_ENOMEM;
	o->kind = OP_BLOB;
	o->data = malloc(len ? len : 1);
	if (o->data == NULL)
		return EDU_ENOMEM;
	if (len)
		memcpy(o->data, data, len);
	o->len = len;
	memcpy(o->sha, sha256, 32);
	b->n_ops++;
	b->bytes += len;
	return EDU_OK;
}

edu_err edu_store_batch_put_meta(edu_store_batch *b, const char *key, const void *val, size_t len)
{
	if (b == NULL || key == NULL || (val == NULL && len != 0) || b->queued)
		return EDU_EINVAL;
	size_t kl = strlen(key);
	if (kl == 0 || kl > EDU_STORE_META_KEY_MAX || len > EDU_STORE_META_VAL_MAX)
		return kl == 0 ? EDU_EINVAL : EDU_ETOOBIG;
	if (strncmp(key, STORE_META_RESERVED, strlen(STORE_META_RESERVED)) == 0)
		return EDU_EPERM;
	op *o = op_add(b);
	if (o == NULL)
		return EDU_ENOMEM;
	o->kind = OP_META;
	o->key = strdup(key);
	o->data = malloc(len ? len : 1);
	if (o->key == NULL || o->data == NULL) {
		free(o->key);
		free(o->data);
		return EDU_ENOMEM;
	}
	if (len)
		memcpy(o->data, val, len);
	o->len = len;
	b->n_ops++;
	b->bytes += len + kl;
	return EDU_OK;
}

edu_err edu_store_batch_trim_log(edu_store_batch *b, uint64_t upto)
{
	if (b == NULL || b->queued)
		return EDU_EINVAL;
	op *o = op_add(b);
	if (o == NULL)
		return EDU_ENOMEM;
	o->kind = OP_TRIM;
	o->upto = upto;
	b->n_ops++;
	return EDU_OK;
}

size_t edu_store_batch_records(const edu_store_batch *b)
{
	return b ? b->n_rec : 0;
}

edu_put_result edu_store_batch_result(const edu_store_batch *b, size_t i, uint64_t *log_seq)
{
	if (b == NULL || i >= b->n_rec) {
		if (log_seq)
			*log_seq = 0;
		return EDU_PUT_INVALID;
	}
	if (log_seq)
		*log_seq = b->res[i].log_seq;
	return b->res[i].res;
}

/* ---- applying a batch (writer thread, inside a nested transaction) --------- */

typedef struct wctx {
	edu_store *s;
	MDB_txn *txn;
	store_counters c;
	int64_t now_ms;
	bool changed;
	/* Postings to add, put in order when the batch ends (flush_postings):
	 * term points into the batch's store_terms and ok into the record's
	 * op, which outlive the batch's application. */
	store_posting *pend;
	size_t n_pend, cap_pend;
} wctx;

static bool is_self(const edu_store *s, const char *unit)
{
	return s->self_unit[0] != '\0' && strcmp(s->self_unit, unit) == 0;
}

static int put_empty(wctx *w, int db, const uint8_t *k, size_t kl)
{
	MDB_val key = {kl, (void *)k}, v = {0, ""};
	return mdb_put(w->txn, w->s->db[db], &key, &v, 0);
}

static int del_key(wctx *w, int db, const uint8_t *k, size_t kl)
{
	MDB_val key = {kl, (void *)k};
	int rc = mdb_del(w->txn, w->s->db[db], &key, NULL);
	if (rc == MDB_NOTFOUND) {
		edu_log(LOG_WARNING, "store: index entry missing on delete (db %d)", db);
		rc = 0;
	}
	return rc;
}

/* Adds (add=true) or removes the index entries of a live item and its search
 * entries: tokens [t0, t1) of t, pointing at its okey. */
static int index_entries(wctx *w, const char *unit, uint8_t kind, const okey *ok, const store_terms *t,
    size_t t0, size_t t1, bool add)
{
	uint8_t k[EDU_UNIT_ID_MAX + 2 + OKEY_MAX];
	int rc;
	size_t ul = strlen(unit);
	int (*op_fn)(wctx *, int, const uint8_t *, size_t) = add ? put_empty : del_key;

	if ((rc = op_fn(w, DB_BY_TIME, ok->b, ok->len)) != 0)
		return rc;
	memcpy(k, unit, ul);
	k[ul] = 0;
	memcpy(k + ul + 1, ok->b, ok->len);
	if ((rc = op_fn(w, DB_BY_UNIT, k, ul + 1 + ok->len)) != 0)
		return rc;
	k[ul + 1] = kind;
	memcpy(k + ul + 2, ok->b, ok->len);
	if ((rc = op_fn(w, DB_BY_UNIT_KIND, k, ul + 2 + ok->len)) != 0)
		return rc;
	k[0] = kind;
	memcpy(k + 1, ok->b, ok->len);
	if ((rc = op_fn(w, DB_BY_KIND, k, 1 + ok->len)) != 0)
		return rc;
	if (add) {
		if (w->n_pend + (t1 - t0) > w->cap_pend) {
			size_t nc = w->cap_pend ? w->cap_pend : 4096;
			while (nc < w->n_pend + (t1 - t0))
				nc *= 2;
			store_posting *np = realloc(w->pend, nc * sizeof *np);
			if (np == NULL)
				return ENOMEM;
			w->pend = np;
			w->cap_pend = nc;
		}
		for (size_t i = t0; i < t1; i++)
			w->pend[w->n_pend++] = (store_posting){t->buf + t->t[i].off, ok, t->t[i].len, t->t[i].pfx};
		return 0;
	}
	for (size_t i = t0; i < t1; i++)
		if ((rc = store_post_del(w->txn, w->s->db[DB_TERMS], t->buf + t->t[i].off, t->t[i].len, ok)) != 0)
			return rc;
	return 0;
}

/* Puts the pending postings, sorted by (term, okey): a batch's items share
 * most of their tokens, so each token's blocks are rewritten once per batch
 * rather than once per item (store_post.c). */
static int flush_postings(wctx *w)
{
	int rc;
	if (w->n_pend == 0)
		return 0;
	if ((rc = store_post_sort(w->pend, w->n_pend)) == 0)
		rc = store_post_add(w->txn, w->s->db[DB_TERMS], w->pend, w->n_pend);
	w->n_pend = 0;
	return rc;
}

/* Removes the entries of a stored live item (an update or delete replaces
 * it). Its tokens are computed here: only replacements pay for this. */
static int unindex_item(wctx *w, const edu_item *it)
{
	store_terms t = {0};
	okey ok;
	int rc;
	edu_err e = store_terms_of_item(&t, it);
	if (e != EDU_OK) {
		edu_log(LOG_ERR, "store: tokenizing %s:%llu: %s", it->unit, (unsigned long long)it->seq,
		    edu_strerror(e));
		rc = e == EDU_ENOMEM ? ENOMEM : EIO;
		goto out;
	}
	store_okey_make(&ok, it->published, it->unit, it->seq);
	/* Adds still pending may be this very item's (two versions in one batch). */
	if ((rc = flush_postings(w)) != 0)
		goto out;
	rc = index_entries(w, it->unit, (uint8_t)it->kind, &ok, &t, 0, t.n, false);
out:
	store_terms_free(&t);
	return rc;
}

/* origins[unit]: live += dlive, tombstones += dtomb, max_seq = max(max_seq, seq) */
static int origin_update(wctx *w, const char *unit, int dlive, int dtomb, uint64_t seq)
{
	MDB_val k = {strlen(unit), (void *)unit}, v;
	uint8_t b[ORIGIN_VAL_LEN] = {0};
	int rc = mdb_get(w->txn, w->s->db[DB_ORIGINS], &k, &v);
	if (rc == 0 && v.mv_size == ORIGIN_VAL_LEN)
		memcpy(b, v.mv_data, ORIGIN_VAL_LEN);
	else if (rc == 0)
		return MDB_CORRUPTED;
	else if (rc != MDB_NOTFOUND)
		return rc;
	uint64_t live = store_get_u64(b) + (uint64_t)(int64_t)dlive;
	uint64_t max_seq = store_get_u64(b + 8);
	uint64_t tomb = store_get_u64(b + 16) + (uint64_t)(int64_t)dtomb;
	if (seq > max_seq)
		max_seq = seq;
	store_put_u64(b, live);
	store_put_u64(b + 8, max_seq);
	store_put_u64(b + 16, tomb);
	v.mv_size = sizeof b;
	v.mv_data = b;
	return mdb_put(w->txn, w->s->db[DB_ORIGINS], &k, &v, 0);
}

static int log_append(wctx *w, const uint8_t *ik, size_t iklen, uint32_t version, uint64_t *log_seq)
{
	uint8_t kb[8], vb[LOG_VAL_MIN + IKEY_MAX];
	uint64_t seq = w->c.log_head + 1;
	store_put_u64(kb, seq);
	store_put_u64(vb, (uint64_t)w->now_ms);
	vb[8] = (uint8_t)(version >> 24);
	vb[9] = (uint8_t)(version >> 16);
	vb[10] = (uint8_t)(version >> 8);
	vb[11] = (uint8_t)version;
	memcpy(vb + LOG_VAL_MIN, ik, iklen);
	MDB_val k = {sizeof kb, kb}, v = {LOG_VAL_MIN + iklen, vb};
	int rc = mdb_put(w->txn, w->s->db[DB_LOG], &k, &v, MDB_APPEND);
	if (rc == 0) {
		w->c.log_head = seq;
		*log_seq = seq;
	}
	return rc;
}

static int apply_record(wctx *w, const edu_store_batch *b, const op *o, rec_result *rr)
{
	edu_store *s = w->s;
	const rec_prep *rp = &o->rp;
	edu_item *old = NULL;
	edu_record oldrec = {0};
	uint8_t *enc = NULL;
	size_t enc_len = 0;
	int rc = 0;
	edu_err e;

	rr->res = EDU_PUT_INVALID;
	rr->log_seq = 0;
	if (!rp->ok)
		return 0; /* logged when it was added */

	MDB_val k = {rp->iklen, (void *)rp->ik}, v;
	rc = mdb_get(w->txn, s->db[DB_ITEMS], &k, &v);
	if (rc == 0) {
		if ((e = edu_record_decode(v.mv_data, v.mv_size, &oldrec)) != EDU_OK ||
		    (e = edu_item_decode(oldrec.item, oldrec.item_len, &old)) != EDU_OK) {
			edu_log(LOG_ERR, "store: stored record %s:%llu is unreadable: %s", rp->unit,
			    (unsigned long long)rp->seq, edu_strerror(e));
			rc = MDB_CORRUPTED;
			goto out;
		}
		if (old->version > rp->version) {
			rr->res = EDU_PUT_STALE;
			goto out;
		}
		if (old->version == rp->version) {
			bool same = oldrec.item_len == o->len && memcmp(oldrec.item, o->data, o->len) == 0;
			rr->res = same ? EDU_PUT_DUPLICATE : EDU_PUT_CONFLICT;
			goto out;
		}
	} else if (rc != MDB_NOTFOUND) {
		goto out;
	}
	rc = 0;

	for (size_t i = 0; i < rp->n_att; i++) {
		MDB_val bk = {32, (void *)rp->att[i]}, bv;
		rc = mdb_get(w->txn, s->db[DB_BLOBS], &bk, &bv);
		if (rc == MDB_NOTFOUND) {
			rc = 0;
			rr->res = EDU_PUT_MISSING_BLOB;
			goto out;
		}
		if (rc != 0)
			goto out;
	}

	int dlive = 0, dtomb = 0;
	bool self = is_self(s, rp->unit);
	if (old != NULL) {
		if (old->deleted) {
			dtomb--;
			w->c.tombstones--;
		} else {
			if ((rc = unindex_item(w, old)) != 0)
				goto out;
			char osrc[EDU_STORE_SOURCE_PATH_MAX + 1];
			if (store_source_of_item(old, osrc)) {
				uint8_t sv[SOURCE_VAL_MAX];
				size_t svl = store_source_val(sv, store_source_time(old), rp->ik, rp->iklen);
				if ((rc = store_source_put(w->txn, s->db[DB_SOURCES], osrc, sv, svl, false)) != 0)
					goto out;
			}
			dlive--;
			w->c.items_total--;
			if (self)
				w->c.items_own--;
		}
	}

	edu_record nr = {.item = o->data, .item_len = o->len, .has_sig = o->has_sig,
	    .received_ms = w->now_ms};
	memcpy(nr.sig, o->sig, sizeof nr.sig);
	if ((e = edu_record_encode(&nr, &enc, &enc_len)) != EDU_OK) {
		edu_log(LOG_ERR, "store: encoding record: %s", edu_strerror(e));
		rc = e == EDU_ENOMEM ? ENOMEM : EIO;
		goto out;
	}
	v.mv_size = enc_len;
	v.mv_data = enc;
	/* A new item usually has the highest key (its origin's next seq): an
	 * append fills pages instead of splitting them in half. */
	rc = old == NULL ? mdb_put(w->txn, s->db[DB_ITEMS], &k, &v, MDB_APPEND) : MDB_KEYEXIST;
	if (rc == MDB_KEYEXIST)
		rc = mdb_put(w->txn, s->db[DB_ITEMS], &k, &v, 0);
	if (rc != 0)
		goto out;
	if (rp->deleted) {
		dtomb++;
		w->c.tombstones++;
	} else {
		if ((rc = index_entries(w, rp->unit, rp->kind, &rp->ok_key, &b->terms, rp->t0, rp->t1, true)) != 0)
			goto out;
		if (rp->src) {
			uint8_t sv[SOURCE_VAL_MAX];
			size_t svl = store_source_val(sv, rp->src_t, rp->ik, rp->iklen);
			if ((rc = store_source_put(w->txn, s->db[DB_SOURCES], rp->src, sv, svl, true)) != 0)
				goto out;
		}
		dlive++;
		w->c.items_total++;
		if (self)
			w->c.items_own++;
	}
	if ((rc = origin_update(w, rp->unit, dlive, dtomb, rp->seq)) != 0)
		goto out;
	if ((rc = log_append(w, rp->ik, rp->iklen, rp->version, &rr->log_seq)) != 0)
		goto out;
	if (self) {
		/* A record of our own unit may arrive from a backup or a peer:
		 * local publishing must continue after it. */
		uint64_t cur = atomic_load(&s->next_seq);
		while (cur <= rp->seq && !atomic_compare_exchange_weak(&s->next_seq, &cur, rp->seq + 1))
			;
	}
	rr->res = EDU_PUT_APPLIED;
	w->changed = true;
out:
	if (rc != 0)
		rr->log_seq = 0;
	free(enc);
	edu_record_clear(&oldrec);
	edu_item_free(old);
	return rc;
}

static int apply_blob(wctx *w, const op *o)
{
	MDB_val k = {32, (void *)o->sha}, v = {o->len, o->data};
	int rc = mdb_put(w->txn, w->s->db[DB_BLOBS], &k, &v, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST)
		return 0; /* content-addressed: stored once */
	if (rc == 0) {
		w->c.blobs++;
		w->changed = true;
	}
	return rc;
}

static int apply_meta(wctx *w, const op *o)
{
	MDB_val k = {strlen(o->key), o->key}, v = {o->len, o->data};
	int rc = mdb_put(w->txn, w->s->db[DB_META], &k, &v, 0);
	if (rc == 0)
		w->changed = true;
	return rc;
}

static int apply_trim(wctx *w, const op *o)
{
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int rc = mdb_cursor_open(w->txn, w->s->db[DB_LOG], &c);
	if (rc != 0)
		return rc;
	for (;;) {
		rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
		if (rc == MDB_NOTFOUND) {
			rc = 0;
			break;
		}
		if (rc != 0)
			break;
		if (k.mv_size != 8) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (store_get_u64(k.mv_data) > o->upto)
			break;
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
		w->changed = true;
	}
	mdb_cursor_close(c);
	return rc;
}

static int apply_batch(wctx *w, edu_store_batch *b)
{
	size_t ri = 0;
	int rc = 0;
	for (size_t i = 0; i < b->n_rec; i++)
		b->res[i] = (rec_result){EDU_PUT_INVALID, 0};
	for (size_t i = 0; i < b->n_ops && rc == 0; i++) {
		const op *o = &b->ops[i];
		switch (o->kind) {
		case OP_RECORD: rc = apply_record(w, b, o, &b->res[ri++]); break;
		case OP_BLOB: rc = apply_blob(w, o); break;
		case OP_META: rc = apply_meta(w, o); break;
		case OP_TRIM: rc = apply_trim(w, o); break;
		}
	}
	if (rc == 0)
		rc = flush_postings(w);
	w->n_pend = 0;
	return rc;
}

/* ---- writer thread ------------------------------------------------------------ */

static edu_err err_from_rc(int rc)
{
	if (rc == MDB_MAP_FULL)
		return EDU_ENOSPC;
	if (rc == MDB_TXN_FULL)
		return EDU_ETOOBIG;
	return edu_err_from_mdb(rc);
}

/* Doubles the map (capped by map_max). 0 on success, MDB_MAP_FULL when it cannot grow. */
static int grow_map(edu_store *s)
{
	uint64_t cur = s->map_size, next = cur * 2;
	if (next < cur)
		next = UINT64_MAX - UINT64_MAX % STORE_PAGE;
	if (s->map_max && next > s->map_max)
		next = s->map_max;
	if (next <= cur)
		return MDB_MAP_FULL;
	pthread_rwlock_wrlock(&s->map_lock);
	int rc = mdb_env_set_mapsize(s->env, (size_t)next);
	pthread_rwlock_unlock(&s->map_lock);
	if (rc != 0) {
		edu_log(LOG_ERR, "store: growing map to %llu bytes: %s", (unsigned long long)next, mdb_strerror(rc));
		return rc;
	}
	edu_log(LOG_INFO, "store: map grown from %llu to %llu bytes", (unsigned long long)cur,
	    (unsigned long long)next);
	s->map_size = next;
	return 0;
}

/* Returned by run_group when one batch failed on its own: that batch is
 * marked failed and the group is run again without it. */
#define STORE_RETRY (-1)

/* One write transaction over the list. A batch that fails on its own (an
 * unreadable stored record, no memory) must leave no trace, so the whole
 * transaction is aborted, the batch marked failed, and the rest rerun: such
 * failures are rare, and this avoids a nested transaction per batch (LMDB
 * allocates ~3 MiB of dirty/free lists for every nested txn, which dominated
 * small commits). Returns 0 once committed (each batch's rv set),
 * STORE_RETRY, or the LMDB/errno code that failed the whole group. */
static int run_group(edu_store *s, edu_store_batch *head)
{
	MDB_txn *txn = NULL;
	wctx w = {.s = s, .c = s->committed, .now_ms = edu_time_now_ms(), .pend = s->pend, .cap_pend = s->pend_cap};
	bool changed = false;
	int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc != 0)
		return rc;
	w.txn = txn;
	for (edu_store_batch *b = head; b != NULL; b = b->next) {
		if (b->failed)
			continue;
		w.changed = false;
		rc = apply_batch(&w, b);
		if (rc == MDB_MAP_FULL || rc == MDB_TXN_FULL)
			goto fail;
		if (rc != 0) {
			edu_log(LOG_ERR, "store: batch failed: %s", mdb_strerror(rc));
			b->failed = true;
			b->rv = err_from_rc(rc);
			for (size_t i = 0; i < b->n_rec; i++)
				b->res[i] = (rec_result){EDU_PUT_INVALID, 0};
			rc = STORE_RETRY;
			goto fail;
		}
		b->rv = EDU_OK;
		b->changed = w.changed;
		changed |= w.changed;
	}
	s->pend = w.pend; /* keep the grown buffer for the next group */
	s->pend_cap = w.cap_pend;
	if (memcmp(&w.c, &s->committed, sizeof w.c) != 0 && (rc = counters_put(txn, s, &w.c)) != 0)
		goto fail;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0)
		return rc;
	s->committed = w.c;
	atomic_fetch_add(&s->commits, 1);
	if (changed)
		atomic_fetch_add(&s->generation, 1);
	pthread_mutex_lock(&s->mu);
	atomic_store(&s->log_head, w.c.log_head);
	atomic_store(&s->items_total, w.c.items_total);
	atomic_store(&s->items_own, w.c.items_own);
	pthread_cond_broadcast(&s->log_cv);
	pthread_mutex_unlock(&s->mu);
	return 0;
fail:
	s->pend = w.pend;
	s->pend_cap = w.cap_pend;
	mdb_txn_abort(txn);
	return rc;
}

static void fail_group(edu_store_batch *head, edu_err rv)
{
	for (edu_store_batch *b = head; b != NULL; b = b->next) {
		if (!b->failed)
			b->rv = rv;
		b->changed = false;
		for (size_t i = 0; i < b->n_rec; i++)
			b->res[i] = (rec_result){EDU_PUT_INVALID, 0};
	}
}

static void notify_group(edu_store_batch *head)
{
	while (head != NULL) {
		edu_store_batch *b = head;
		head = b->next;
		b->next = NULL;
		b->queued = false;
		edu_store_done_fn fn = b->fn;
		void *arg = b->arg;
		fn(b, b->rv, arg); /* b may be freed from here on */
	}
}

static size_t group_len(const edu_store_batch *b)
{
	size_t n = 0;
	for (; b != NULL; b = b->next)
		n++;
	return n;
}

static void process_group(edu_store *s, edu_store_batch *head)
{
	for (;;) {
		int rc = run_group(s, head);
		if (rc == 0)
			break;
		if (rc == STORE_RETRY)
			continue; /* without the batch that failed alone */
		if (rc == MDB_MAP_FULL && grow_map(s) == 0)
			continue; /* retry the same batches in the larger map */
		if ((rc == MDB_MAP_FULL || rc == MDB_TXN_FULL) && group_len(head) > 1) {
			/* Together they do not fit: each on its own may. */
			while (head != NULL) {
				edu_store_batch *b = head;
				head = b->next;
				b->next = NULL;
				process_group(s, b);
			}
			return;
		}
		edu_log(rc == MDB_MAP_FULL ? LOG_WARNING : LOG_ERR, "store: write failed: %s%s", mdb_strerror(rc),
		    rc == MDB_MAP_FULL ? " (map at its maximum size)" : "");
		fail_group(head, err_from_rc(rc));
		break;
	}
	notify_group(head);
}

/* Drops this process's mapping of the database pages (writer thread, which
 * alone remaps). The data stays in the page cache and the next read maps it
 * again with minor faults; without this, every page a query or commit ever
 * touched counts in the RSS of an idle node (the whole file, as it grows). */
static void release_map(edu_store *s)
{
	/* LMDB does not expose where it mapped the file (me_mapaddr is only set
	 * with MDB_FIXEDMAP), so find the mapping of the data file by device
	 * and inode. */
	mdb_filehandle_t fd;
	struct stat st;
	if (mdb_env_get_fd(s->env, &fd) != 0 || fstat(fd, &st) != 0)
		return;
	FILE *f = fopen("/proc/self/maps", "re");
	if (f == NULL)
		return;
	char line[512];
	while (fgets(line, sizeof line, f) != NULL) {
		unsigned long lo, hi, off, ino;
		unsigned maj, min;
		char perms[8];
		if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu", &lo, &hi, perms, &off, &maj, &min, &ino) != 7)
			continue;
		if (ino != (unsigned long)st.st_ino || makedev(maj, min) != st.st_dev || hi <= lo)
			continue;
		if (madvise((void *)lo, hi - lo, MADV_DONTNEED) != 0)
			edu_log(LOG_DEBUG, "store: madvise: %s", strerror(errno));
	}
	fclose(f);
}

/* Waits for queued batches (mu held). Wakes every STORE_IDLE_MS to see
 * whether the store went unused for a whole period since it was last used. */
static void writer_wait(edu_store *s, uint64_t *seen, bool *mapped)
{
	while (s->q_head == NULL && !s->closing) {
		struct timespec dl;
		edu_time_deadline(&dl, CLOCK_MONOTONIC, STORE_IDLE_MS);
		if (pthread_cond_timedwait(&s->work_cv, &s->mu, &dl) != ETIMEDOUT)
			continue;
		uint64_t u = atomic_load_explicit(&s->uses, memory_order_relaxed);
		if (u != *seen) {
			*seen = u;
			*mapped = true;
		} else if (*mapped) {
			release_map(s);
			*mapped = false;
			if (s->idle_fn) {
				pthread_mutex_unlock(&s->mu); /* the hook must not hold up submitters */
				s->idle_fn(s->idle_arg);
				pthread_mutex_lock(&s->mu);
			}
		}
	}
}

static void *writer_main(void *arg)
{
	edu_store *s = arg;
	pthread_setname_np(pthread_self(), "edu-store");
	uint64_t seen = atomic_load(&s->uses);
	bool mapped = true;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		writer_wait(s, &seen, &mapped);
		if (s->q_head == NULL)
			break; /* closing and drained */
		atomic_fetch_add_explicit(&s->uses, 1, memory_order_relaxed);
		edu_store_batch *head = s->q_head, *last = head;
		size_t n = 1, bytes = head->bytes;
		while (last->next != NULL && n < STORE_GROUP_MAX && bytes + last->next->bytes <= STORE_GROUP_BYTES) {
			last = last->next;
			bytes += last->bytes;
			n++;
		}
		s->q_head = last->next;
		if (s->q_head == NULL)
			s->q_tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&s->mu);
		process_group(s, head);
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

edu_err edu_store_submit(edu_store *s, edu_store_batch *b, edu_store_done_fn fn, void *arg)
{
	if (s == NULL || b == NULL || fn == NULL || b->queued)
		return EDU_EINVAL;
	pthread_mutex_lock(&s->mu);
	if (s->closing) {
		pthread_mutex_unlock(&s->mu);
		return EDU_ECLOSED;
	}
	b->fn = fn;
	b->arg = arg;
	b->rv = EDU_OK;
	b->failed = false;
	b->changed = false;
	b->next = NULL;
	b->queued = true;
	if (s->q_tail)
		s->q_tail->next = b;
	else
		s->q_head = b;
	s->q_tail = b;
	pthread_cond_signal(&s->work_cv);
	pthread_mutex_unlock(&s->mu);
	return EDU_OK;
}

typedef struct waiter {
	edu_store *s;
	pthread_cond_t cv;
	bool done;
	edu_err rv;
} waiter;

static void commit_done(edu_store_batch *b, edu_err rv, void *arg)
{
	waiter *w = arg;
	pthread_mutex_lock(&w->s->mu);
	w->rv = rv;
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->s->mu);
}

edu_err edu_store_commit(edu_store *s, edu_store_batch *b)
{
	waiter w = {.s = s};
	if (pthread_cond_init(&w.cv, NULL) != 0)
		return EDU_ENOMEM;
	edu_err rv = edu_store_submit(s, b, commit_done, &w);
	if (rv == EDU_OK) {
		pthread_mutex_lock(&s->mu);
		while (!w.done)
			pthread_cond_wait(&w.cv, &s->mu);
		pthread_mutex_unlock(&s->mu);
		rv = w.rv;
	}
	pthread_cond_destroy(&w.cv);
	return rv;
}

uint64_t edu_store_next_seq(edu_store *s)
{
	return atomic_fetch_add(&s->next_seq, 1);
}

uint64_t edu_store_generation(edu_store *s)
{
	return atomic_load(&s->generation);
}

void edu_store_counts(edu_store *s, uint64_t *items_total, uint64_t *items_own)
{
	*items_total = atomic_load(&s->items_total);
	*items_own = atomic_load(&s->items_own);
}

uint64_t edu_store_log_head(edu_store *s)
{
	return atomic_load(&s->log_head);
}

uint64_t edu_store_log_wait(edu_store *s, uint64_t after, int timeout_ms)
{
	struct timespec dl;
	edu_time_deadline(&dl, CLOCK_MONOTONIC, timeout_ms > 0 ? timeout_ms : 0);
	pthread_mutex_lock(&s->mu);
	s->log_waiters++;
	uint64_t wakes = s->log_wakes;
	while (atomic_load(&s->log_head) <= after && !s->closing && timeout_ms != 0 && s->log_wakes == wakes) {
		int e = timeout_ms < 0 ? pthread_cond_wait(&s->log_cv, &s->mu)
		                       : pthread_cond_timedwait(&s->log_cv, &s->mu, &dl);
		if (e == ETIMEDOUT)
			break;
	}
	uint64_t head = atomic_load(&s->log_head);
	if (--s->log_waiters == 0 && s->closing)
		pthread_cond_broadcast(&s->log_cv); /* close waits for us to leave */
	pthread_mutex_unlock(&s->mu);
	return head;
}

void edu_store_log_wake(edu_store *s)
{
	pthread_mutex_lock(&s->mu);
	s->log_wakes++;
	pthread_cond_broadcast(&s->log_cv);
	pthread_mutex_unlock(&s->mu);
}

/* ---- open / close ------------------------------------------------------------ */

static edu_err mkdirs(const char *dir)
{
	char path[PATH_MAX];
	size_t n = strlen(dir);
	if (n == 0 || n >= sizeof path)
		return EDU_EINVAL;
	memcpy(path, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		char c = path[i];
		path[i] = '\0';
		if (mkdir(path, 0750) != 0 && errno != EEXIST) {
			int e = errno;
			edu_log(LOG_ERR, "store: mkdir %s: %s", path, strerror(e));
			return edu_err_from_errno(e);
		}
		path[i] = c;
	}
	return EDU_OK;
}

static const char *const db_names[DB_COUNT] = {
	[DB_ITEMS] = "items", [DB_BY_TIME] = "by_time", [DB_BY_UNIT] = "by_unit",
	[DB_BY_UNIT_KIND] = "by_unit_kind", [DB_BY_KIND] = "by_kind", [DB_TERMS] = "postings",
	[DB_ORIGINS] = "origins", [DB_LOG] = "log", [DB_BLOBS] = "blobs", [DB_META] = "meta",
	[DB_SOURCES] = "sources",
};

/* Adds the postings of the live items from key `from` on (NULL: the first)
 * in one transaction, at most `slice` items; *next gets the key to go on
 * from (len 0 at the end). An LMDB code (MDB_MAP_FULL, MDB_TXN_FULL: the
 * caller grows the map or halves the slice and tries again). */
static int reindex_slice(edu_store *s, const uint8_t *from, size_t from_len, size_t slice, uint8_t *next,
    size_t *next_len, uint64_t *postings)
{
	MDB_txn *txn = NULL;
	MDB_cursor *c = NULL;
	MDB_val k = {from_len, (void *)from}, v;
	store_terms t = {0};
	okey *oks = NULL;
	store_posting *pend = NULL;
	size_t n_ok = 0, n_pend = 0, cap_pend = 0, seen = 0;
	int rc;
	*next_len = 0;
	if ((oks = malloc(slice * sizeof *oks)) == NULL)
		return ENOMEM;
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0 ||
	    (rc = mdb_cursor_open(txn, s->db[DB_ITEMS], &c)) != 0)
		goto out;
	for (rc = mdb_cursor_get(c, &k, &v, from_len ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (seen == slice) { /* where the next slice starts */
			if (k.mv_size > IKEY_MAX) {
				rc = MDB_CORRUPTED;
				goto out;
			}
			memcpy(next, k.mv_data, k.mv_size);
			*next_len = k.mv_size;
			break;
		}
		seen++;
		edu_record_ref ref;
		edu_item *it = NULL;
		if (edu_record_view(v.mv_data, v.mv_size, &ref) != EDU_OK ||
		    edu_item_decode(ref.item, ref.item_len, &it) != EDU_OK) {
			rc = MDB_CORRUPTED;
			goto out;
		}
		if (!it->deleted) {
			size_t t0 = t.n;
			edu_err e = terms_append_item(&t, it);
			if (e == EDU_OK && n_pend + (t.n - t0) > cap_pend) {
				size_t nc = cap_pend ? cap_pend : 65536;
				while (nc < n_pend + (t.n - t0))
					nc *= 2;
				store_posting *np = realloc(pend, nc * sizeof *np);
				if (np == NULL)
					e = EDU_ENOMEM;
				else
					pend = np, cap_pend = nc;
			}
			if (e != EDU_OK) {
				edu_item_free(it);
				rc = ENOMEM;
				goto out;
			}
			store_okey_make(&oks[n_ok], it->published, it->unit, it->seq);
			for (size_t i = t0; i < t.n; i++) /* offsets for now: t.buf may move */
				pend[n_pend++] = (store_posting){(const char *)(uintptr_t)t.t[i].off, &oks[n_ok], t.t[i].len, t.t[i].pfx};
			n_ok++;
		}
		edu_item_free(it);
	}
	if (rc != 0 && rc != MDB_NOTFOUND && *next_len == 0)
		goto out;
	for (size_t i = 0; i < n_pend; i++)
		pend[i].term = t.buf + (uintptr_t)pend[i].term;
	mdb_cursor_close(c);
	c = NULL;
	if ((rc = store_post_sort(pend, n_pend)) != 0 || (rc = store_post_add(txn, s->db[DB_TERMS], pend, n_pend)) != 0)
		goto out;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc == 0)
		*postings += n_pend;
out:
	if (c)
		mdb_cursor_close(c);
	if (txn)
		mdb_txn_abort(txn);
	store_terms_free(&t);
	free(pend);
	free(oks);
	return rc;
}

/* Builds the search index from the live items (a store migrated from format
 * 1 or 2, marked by STORE_META_REINDEX): the index is emptied, filled a
 * slice of items per transaction (a large store's index would pass LMDB's
 * dirty-page limit in one), and the mark removed last. Interrupted, it
 * starts over on the next open. Runs before the writer thread starts. */
static edu_err reindex(edu_store *s)
{
	MDB_txn *txn = NULL;
	MDB_val k = {strlen(STORE_META_REINDEX), STORE_META_REINDEX}, v;
	uint8_t from[IKEY_MAX], next[IKEY_MAX];
	size_t from_len = 0, next_len = 0, slice = 4096, slices = 0;
	uint64_t postings = 0;
	int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc != 0)
		goto fail;
	if ((rc = mdb_get(txn, s->db[DB_META], &k, &v)) == MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		return EDU_OK;
	}
	if (rc != 0 || (rc = mdb_drop(txn, s->db[DB_TERMS], 0)) != 0 || (rc = mdb_txn_commit(txn)) != 0) {
		txn = NULL;
		goto fail;
	}
	txn = NULL;
	edu_log(LOG_NOTICE, "store: building the search index (store format %d)", STORE_FORMAT);
	for (;;) {
		rc = reindex_slice(s, from, from_len, slice, next, &next_len, &postings);
		if (rc == MDB_MAP_FULL && grow_map(s) == 0)
			continue;
		if (rc == MDB_TXN_FULL && slice > 1) {
			slice /= 2;
			continue;
		}
		if (rc != 0)
			goto fail;
		if (next_len == 0)
			break;
		if (++slices % 16 == 0)
			edu_log(LOG_NOTICE, "store: search index: %llu postings so far", (unsigned long long)postings);
		memcpy(from, next, next_len);
		from_len = next_len;
	}
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		goto fail;
	if ((rc = mdb_del(txn, s->db[DB_META], &k, NULL)) != 0 || (rc = mdb_txn_commit(txn)) != 0) {
		txn = NULL;
		goto fail;
	}
	edu_log(LOG_NOTICE, "store: search index built (%llu postings)", (unsigned long long)postings);
	return EDU_OK;
fail:
	if (txn)
		mdb_txn_abort(txn);
	edu_log(LOG_ERR, "store: building the search index: %s", mdb_strerror(rc));
	return err_from_rc(rc);
}

/* Opens the databases, checks the format version and loads the counters. */
static edu_err open_dbs(edu_store *s)
{
	MDB_txn *txn = NULL;
	edu_err rv = EDU_OK;
	int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc != 0)
		goto lmdb_fail;
	for (int i = 0; i < DB_COUNT; i++) {
		unsigned flags = MDB_CREATE | (i == DB_SOURCES ? MDB_DUPSORT : 0);
		if ((rc = mdb_dbi_open(txn, db_names[i], flags, &s->db[i])) != 0)
			goto lmdb_fail;
	}
	MDB_val k = {strlen(STORE_META_FORMAT), STORE_META_FORMAT}, v;
	rc = mdb_get(txn, s->db[DB_META], &k, &v);
	if (rc == MDB_NOTFOUND) {
		uint8_t b[4] = {0, 0, 0, STORE_FORMAT};
		v.mv_size = sizeof b;
		v.mv_data = b;
		if ((rc = mdb_put(txn, s->db[DB_META], &k, &v, 0)) != 0)
			goto lmdb_fail;
	} else if (rc != 0) {
		goto lmdb_fail;
	} else {
		const uint8_t *p = v.mv_data;
		if (v.mv_size != 4) {
			edu_log(LOG_ERR, "store: %s is malformed (%zu bytes)", STORE_META_FORMAT, v.mv_size);
			rv = EDU_EIO;
			goto out;
		}
		uint32_t f = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
		if (f > STORE_FORMAT || f == 0) {
			edu_log(LOG_ERR, "store: format %u, this build reads format %d", f, STORE_FORMAT);
			rv = EDU_EVERSION;
			goto out;
		}
		if (f < STORE_FORMAT) {
			/* Format 1 had no sources index: it is built here. Formats 1 and
			 * 2 kept the search index as LMDB duplicates in `terms`: that
			 * database goes, and the reindex mark makes reindex() build the
			 * blocks after this transaction. Format 3 is written now, so an
			 * older build refuses the store from here on (a crash before the
			 * index is complete leaves the mark: the next open starts over). */
			uint64_t indexed = 0;
			uint8_t b[4] = {0, 0, 0, STORE_FORMAT};
			MDB_dbi old;
			if (f == 1 && (rc = store_source_rebuild(txn, s, &indexed)) != 0)
				goto lmdb_fail;
			rc = mdb_dbi_open(txn, "terms", 0, &old);
			if (rc == 0)
				rc = mdb_drop(txn, old, 1);
			if (rc != 0 && rc != MDB_NOTFOUND)
				goto lmdb_fail;
			MDB_val rk = {strlen(STORE_META_REINDEX), STORE_META_REINDEX}, rv1 = {1, "1"};
			if ((rc = mdb_put(txn, s->db[DB_META], &rk, &rv1, 0)) != 0)
				goto lmdb_fail;
			v.mv_size = sizeof b;
			v.mv_data = b;
			if ((rc = mdb_put(txn, s->db[DB_META], &k, &v, 0)) != 0)
				goto lmdb_fail;
			edu_log(LOG_NOTICE, "store: migrating format %u to %d (%llu old links indexed)", f, STORE_FORMAT,
			    (unsigned long long)indexed);
		}
	}
	if ((rv = store_counters_get(txn, s, &s->committed)) != EDU_OK)
		goto out;
	uint64_t max_seq = 0;
	if (s->self_unit[0] != '\0') {
		k.mv_size = strlen(s->self_unit);
		k.mv_data = s->self_unit;
		rc = mdb_get(txn, s->db[DB_ORIGINS], &k, &v);
		if (rc == 0 && v.mv_size == ORIGIN_VAL_LEN)
			max_seq = store_get_u64((const uint8_t *)v.mv_data + 8);
		else if (rc != MDB_NOTFOUND && rc != 0)
			goto lmdb_fail;
	}
	atomic_store(&s->next_seq, max_seq + 1);
	atomic_store(&s->log_head, s->committed.log_head);
	atomic_store(&s->items_total, s->committed.items_total);
	atomic_store(&s->items_own, s->committed.items_own);
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0)
		goto lmdb_fail;
	goto out;
lmdb_fail:
	edu_log(LOG_ERR, "store: opening databases: %s", mdb_strerror(rc));
	rv = err_from_rc(rc);
out:
	mdb_txn_abort(txn);
	return rv;
}

edu_err edu_store_open(edu_store **out, const edu_store_opts *o)
{
	edu_store *s = NULL;
	edu_err rv = EDU_OK;
	int rc;
	*out = NULL;
	if (o == NULL || o->dir == NULL || o->dir[0] == '\0')
		return EDU_EINVAL;
	if (o->self_unit != NULL && o->self_unit[0] != '\0' && !edu_unit_id_valid(o->self_unit)) {
		edu_log(LOG_ERR, "store: invalid self unit id");
		return EDU_EINVAL;
	}
	if (sodium_init() < 0)
		return EDU_EINTERNAL;
	if ((s = calloc(1, sizeof *s)) == NULL)
		return EDU_ENOMEM;
	if (o->self_unit)
		snprintf(s->self_unit, sizeof s->self_unit, "%s", o->self_unit);
	s->idle_fn = o->idle_fn;
	s->idle_arg = o->idle_arg;

	s->map_max = o->map_max - o->map_max % STORE_PAGE;
	if (o->map_max != 0 && s->map_max < STORE_MAP_MIN)
		s->map_max = STORE_MAP_MIN;
	uint64_t map = o->map_size ? o->map_size : STORE_MAP_DEFAULT;
	if (map < STORE_MAP_MIN)
		map = STORE_MAP_MIN;
	map = (map + STORE_PAGE - 1) / STORE_PAGE * STORE_PAGE;
	if (s->map_max && map > s->map_max)
		map = s->map_max;

	pthread_condattr_t ca;
	if (pthread_mutex_init(&s->mu, NULL) != 0)
		goto nomem;
	s->mu_ok = true;
	if (pthread_condattr_init(&ca) != 0)
		goto nomem;
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	rc = pthread_cond_init(&s->work_cv, &ca);
	if (rc == 0)
		s->work_cv_ok = true;
	if (rc == 0 && (rc = pthread_cond_init(&s->log_cv, &ca)) == 0)
		s->log_cv_ok = true;
	pthread_condattr_destroy(&ca);
	if (rc != 0)
		goto nomem;
	if (pthread_rwlock_init(&s->map_lock, NULL) != 0)
		goto nomem;
	s->map_lock_ok = true;

	if ((rv = mkdirs(o->dir)) != EDU_OK)
		goto out;
	if ((rc = mdb_env_create(&s->env)) != 0 || (rc = mdb_env_set_maxdbs(s->env, STORE_MAXDBS)) != 0 ||
	    (rc = mdb_env_set_maxreaders(s->env, STORE_MAXREADERS)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, (size_t)map)) != 0) {
		edu_log(LOG_ERR, "store: creating LMDB env: %s", mdb_strerror(rc));
		rv = err_from_rc(rc);
		goto out;
	}
	/* Durable commits: no NOSYNC/NOMETASYNC/MAPASYNC. NOTLS: read handles
	 * are not tied to threads (event-loop threads share them). */
	if ((rc = mdb_env_open(s->env, o->dir, MDB_NOTLS, 0640)) != 0) {
		edu_log(LOG_ERR, "store: opening %s: %s", o->dir, mdb_strerror(rc));
		rv = err_from_rc(rc);
		goto out;
	}
	int dead = 0;
	mdb_reader_check(s->env, &dead); /* slots left by a killed process */
	if (dead > 0)
		edu_log(LOG_NOTICE, "store: cleared %d stale reader slots", dead);
	MDB_envinfo info;
	mdb_env_info(s->env, &info);
	s->map_size = info.me_mapsize;
	if ((rv = open_dbs(s)) != EDU_OK || (rv = reindex(s)) != EDU_OK)
		goto out;
	if (pthread_create(&s->writer, NULL, writer_main, s) != 0)
		goto nomem;
	s->writer_ok = true;
	edu_log(LOG_INFO, "store: opened %s (map %llu bytes, %llu items, log head %llu)", o->dir,
	    (unsigned long long)s->map_size, (unsigned long long)s->committed.items_total,
	    (unsigned long long)s->committed.log_head);
	*out = s;
	return EDU_OK;
nomem:
	rv = EDU_ENOMEM;
out:
	edu_store_close(s);
	return rv;
}

void edu_store_close(edu_store *s)
{
	if (s == NULL)
		return;
	if (s->writer_ok) {
		pthread_mutex_lock(&s->mu);
		s->closing = true;
		pthread_cond_broadcast(&s->work_cv);
		pthread_cond_broadcast(&s->log_cv);
		while (s->log_waiters > 0)
			pthread_cond_wait(&s->log_cv, &s->mu);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->writer, NULL);
	}
	if (s->env != NULL)
		mdb_env_close(s->env);
	if (s->map_lock_ok)
		pthread_rwlock_destroy(&s->map_lock);
	if (s->log_cv_ok)
		pthread_cond_destroy(&s->log_cv);
	if (s->work_cv_ok)
		pthread_cond_destroy(&s->work_cv);
	if (s->mu_ok)
		pthread_mutex_destroy(&s->mu);
	free(s->pend);
	free(s);
}
