/* Directive store and rules: see directive.h. */
#include "directive/directive.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <lmdb.h>
#include <sodium.h>

#include "core/log.h"
#include "core/timefmt.h"
#include "directive.pb-c.h"
#include "directive_internal.h"
#include "item/item.h"
#include "pki/pki.h"
#include "registry.h"
#include "text/text.h"

#define META_FORMAT "format"
#define META_CURSOR "down.cursor"
#define META_NEXT_SEQ "next.seq"

/* ---- small helpers ------------------------------------------------------------ */


static void be64(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

static uint64_t rd64(const void *p)
{
	const uint8_t *b = p;
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

static int64_t now_or(int64_t ms)
{
	return ms ? ms : edu_time_now_ms();
}

/* ---- environment ---------------------------------------------------------------- */

static edu_err mdb_err(int rc, const char *what)
{
	if (rc == MDB_MAP_FULL)
		return EDU_ENOSPC; /* the caller marks map_full: dir_write grows the map */
	edu_log(LOG_ERR, "directive: %s: %s", what, mdb_strerror(rc));
	return edu_err_from_mdb(rc);
}

/* Runs fn in one write transaction (mu held), growing the map on
 * MDB_MAP_FULL up to map_max. A full map at map_max, or a full disk (ENOSPC
 * from the write itself: growing would not help), is EDU_ENOSPC with
 * nothing committed; the API answers 507. */
edu_err dir_write(edu_dir *d, edu_err (*fn)(edu_dir *, MDB_txn *, void *), void *arg)
{
	edu_err rv;
	for (;;) {
		MDB_txn *t = NULL;
		uint64_t grown;
		d->map_full = false;
		int rc = mdb_txn_begin(d->env, NULL, 0, &t);
		if (rc != 0)
			return mdb_err(rc, "begin");
		rv = fn(d, t, arg);
		if (rv == EDU_OK) {
			rc = mdb_txn_commit(t);
			if (rc == 0)
				return EDU_OK;
			if (rc == MDB_MAP_FULL)
				d->map_full = true;
			rv = mdb_err(rc, "commit");
		} else {
			mdb_txn_abort(t);
		}
		if (rv != EDU_ENOSPC || !d->map_full)
			return rv;
		grown = d->map_size * 2 > d->map_max ? d->map_max : d->map_size * 2;
		if (grown <= d->map_size) {
			edu_log(LOG_ERR, "directive: the store is full (%" PRIu64 " MiB, the maximum)", d->map_size >> 20);
			return EDU_ENOSPC;
		}
		/* No transaction is open (mu is held): the map may grow. */
		if ((rc = mdb_env_set_mapsize(d->env, grown)) != 0)
			return mdb_err(rc, "growing the map");
		d->map_size = grown;
		edu_log(LOG_NOTICE, "directive: map grown to %" PRIu64 " KiB", d->map_size >> 10);
	}
}

edu_err dir_put(MDB_txn *t, MDB_dbi db, const void *k, size_t kl, const void *v, size_t vl)
{
	MDB_val key = {kl, (void *)k}, val = {vl, (void *)v};
	int rc = mdb_put(t, db, &key, &val, 0);
	if (rc == MDB_MAP_FULL) {
		edu_dir *d = mdb_env_get_userctx(mdb_txn_env(t));
		if (d)
			d->map_full = true;
	}
	return rc ? mdb_err(rc, "put") : EDU_OK;
}

/* *v points into the txn's map. */
edu_err dir_get(MDB_txn *t, MDB_dbi db, const void *k, size_t kl, MDB_val *v)
{
	MDB_val key = {kl, (void *)k};
	int rc = mdb_get(t, db, &key, v);
	if (rc == MDB_NOTFOUND)
		return EDU_ENOENT;
	return rc ? mdb_err(rc, "get") : EDU_OK;
}

static uint64_t last_u64(MDB_txn *t, MDB_dbi db)
{
	MDB_cursor *c = NULL;
	MDB_val k, v;
	uint64_t last = 0;
	if (mdb_cursor_open(t, db, &c) != 0)
		return 0;
	if (mdb_cursor_get(c, &k, &v, MDB_LAST) == 0 && k.mv_size == 8)
		last = rd64(k.mv_data);
	mdb_cursor_close(c);
	return last;
}

edu_err dir_append(MDB_txn *t, MDB_dbi db, const void *v, size_t vl, uint64_t *seq_out)
{
	uint8_t k[8];
	uint64_t seq = last_u64(t, db) + 1;
	be64(k, seq);
	if (seq_out)
		*seq_out = seq;
	return dir_put(t, db, k, 8, v, vl);
}

uint64_t dir_meta_u64(MDB_txn *t, edu_dir *d, const char *key)
{
	MDB_val v;
	char buf[24];
	if (dir_get(t, d->meta, key, strlen(key), &v) != EDU_OK || v.mv_size == 0 || v.mv_size >= sizeof buf)
		return 0;
	memcpy(buf, v.mv_data, v.mv_size);
	buf[v.mv_size] = '\0';
	return strtoull(buf, NULL, 10);
}

edu_err dir_meta_set_u64(MDB_txn *t, edu_dir *d, const char *key, uint64_t val)
{
	char buf[24];
	int n = snprintf(buf, sizeof buf, "%" PRIu64, val);
	return dir_put(t, d->meta, key, strlen(key), buf, (size_t)n);
}

static void bump(edu_dir *d)
{
	pthread_mutex_lock(&d->wmu);
	d->gen++;
	pthread_cond_broadcast(&d->wcv);
	pthread_mutex_unlock(&d->wmu);
}

bool edu_dir_wait(edu_dir *d, uint64_t *gen, int timeout_ms)
{
	struct timespec ts;
	bool changed;
	edu_time_deadline(&ts, CLOCK_REALTIME, timeout_ms);
	pthread_mutex_lock(&d->wmu);
	while (d->gen == *gen && !d->woken && pthread_cond_timedwait(&d->wcv, &d->wmu, &ts) == 0)
		;
	changed = d->gen != *gen;
	*gen = d->gen;
	pthread_mutex_unlock(&d->wmu);
	return changed;
}

void edu_dir_wake(edu_dir *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->wmu);
	d->woken = true;
	pthread_cond_broadcast(&d->wcv);
	pthread_mutex_unlock(&d->wmu);
}

static edu_err open_dbs(edu_dir *d, MDB_txn *t, void *arg)
{
	int rc;
	uint64_t fmt;
	char *why = ((char **)arg)[0];
	size_t whylen = (size_t)((char **)arg)[1];
	if ((rc = mdb_dbi_open(t, "dirs", MDB_CREATE, &d->dirs)) || (rc = mdb_dbi_open(t, "down", MDB_CREATE, &d->down)) ||
	    (rc = mdb_dbi_open(t, "receipts", MDB_CREATE, &d->receipts)) ||
	    (rc = mdb_dbi_open(t, "uplog", MDB_CREATE, &d->uplog)) || (rc = mdb_dbi_open(t, "meta", MDB_CREATE, &d->meta)))
		return mdb_err(rc, "opening databases");
	fmt = dir_meta_u64(t, d, META_FORMAT);
	if (fmt == 0)
		return dir_meta_set_u64(t, d, META_FORMAT, EDU_DIR_FORMAT);
	if (fmt != EDU_DIR_FORMAT) {
		edu_whyf(why, whylen, "directive store format %" PRIu64 ", this build reads %d", fmt, EDU_DIR_FORMAT);
		return EDU_EVERSION;
	}
	return EDU_OK;
}

edu_err edu_dir_open(edu_dir **out, const edu_dir_opts *o, char *why, size_t whylen)
{
	edu_dir *d;
	edu_err rv;
	int rc;
	void *arg[2] = {why, (void *)whylen};

	*out = NULL;
	if (!o || !o->dir || !o->self_unit || !edu_unit_id_valid(o->self_unit)) {
		edu_whyf(why, whylen, "a directory and a valid unit id are required");
		return EDU_EINVAL;
	}
	if ((o->id == NULL) != (o->verifier == NULL)) {
		edu_whyf(why, whylen, "an identity and a verifier go together");
		return EDU_EINVAL;
	}
	if (mkdir(o->dir, 0700) != 0 && errno != EEXIST) {
		edu_whyf(why, whylen, "cannot create %s: %s", o->dir, strerror(errno));
		return edu_err_from_errno(errno);
	}
	if (!(d = calloc(1, sizeof *d)))
		return EDU_ENOMEM;
	pthread_mutex_init(&d->mu, NULL);
	pthread_mutex_init(&d->wmu, NULL);
	pthread_cond_init(&d->wcv, NULL);
	d->reg = o->reg;
	d->id = o->id;
	d->verifier = o->verifier;
	d->has_parent = o->has_parent;
	d->map_size = o->map_size ? o->map_size : EDU_DIR_MAP_SIZE;
	d->map_max = o->map_max ? o->map_max : EDU_DIR_MAP_MAX;
	if (d->map_max < d->map_size)
		d->map_max = d->map_size;
	if (!(d->self = strdup(o->self_unit)) ||
	    !(d->self_name = strdup(o->self_name && *o->self_name ? o->self_name : o->self_unit))) {
		rv = EDU_ENOMEM;
		goto out;
	}
	if ((rc = mdb_env_create(&d->env)) || (rc = mdb_env_set_maxdbs(d->env, 8)) ||
	    (rc = mdb_env_set_mapsize(d->env, d->map_size)) || (rc = mdb_env_set_userctx(d->env, d)) ||
	    (rc = mdb_env_open(d->env, o->dir, MDB_NOTLS, 0600))) {
		edu_whyf(why, whylen, "cannot open the directive store in %s: %s", o->dir, mdb_strerror(rc));
		rv = edu_err_from_mdb(rc);
		goto out;
	}
	{
		/* the map may already be bigger than asked (grown earlier) */
		MDB_envinfo info;
		if (mdb_env_info(d->env, &info) == 0 && info.me_mapsize > d->map_size)
			d->map_size = info.me_mapsize;
	}
	pthread_mutex_lock(&d->mu);
	rv = dir_write(d, open_dbs, arg);
	pthread_mutex_unlock(&d->mu);
	if (rv != EDU_OK && why && !why[0])
		edu_whyf(why, whylen, "directive store in %s: %s", o->dir, edu_strerror(rv));
out:
	if (rv != EDU_OK) {
		edu_dir_close(d);
		return rv;
	}
	*out = d;
	return EDU_OK;
}

edu_err edu_dir_backup(edu_dir *d, int fd)
{
	pthread_mutex_lock(&d->mu); /* every transaction (and map growth) holds mu */
	int rc = mdb_env_copyfd2(d->env, fd, MDB_CP_COMPACT);
	pthread_mutex_unlock(&d->mu);
	if (rc != 0)
		edu_log(LOG_ERR, "directive: backup: %s", mdb_strerror(rc));
	return edu_err_from_mdb(rc);
}

void edu_dir_close(edu_dir *d)
{
	if (!d)
		return;
	if (d->env)
		mdb_env_close(d->env);
	free(d->self);
	free(d->self_name);
	pthread_cond_destroy(&d->wcv);
	pthread_mutex_destroy(&d->wmu);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

/* ---- records: encode, sign, verify, check --------------------------------------------- */

/* Allocation budget for unpacking peer bytes (like node/uplink/wire.c). */
typedef struct budget {
	size_t left;
} budget;

static void *budget_alloc(void *arg, size_t size)
{
	budget *b = arg;
	if (size > b->left)
		return NULL;
	b->left -= size;
	return malloc(size);
}

static void budget_free(void *arg, void *p)
{
	free(p);
}

#define UNPACK(type, fn, len, buf)                                                    \
	({                                                                            \
		budget b_ = {(len) * 4 + (1u << 20)};                                 \
		ProtobufCAllocator a_ = {budget_alloc, budget_free, &b_};             \
		(type *)fn(&a_, (len), (buf));                                        \
	})

Edunet__Dir__SignedDirective *dir_unpack_signed(const uint8_t *buf, size_t len)
{
	return UNPACK(Edunet__Dir__SignedDirective, edunet__dir__signed_directive__unpack, len, buf);
}

Edunet__Dir__Directive *dir_unpack_directive(const uint8_t *buf, size_t len)
{
	return UNPACK(Edunet__Dir__Directive, edunet__dir__directive__unpack, len, buf);
}

static Edunet__Dir__SignedReceipt *unpack_signed_receipt(const uint8_t *buf, size_t len)
{
	return UNPACK(Edunet__Dir__SignedReceipt, edunet__dir__signed_receipt__unpack, len, buf);
}

static Edunet__Dir__ReceiptEvent *unpack_event(const uint8_t *buf, size_t len)
{
	return UNPACK(Edunet__Dir__ReceiptEvent, edunet__dir__receipt_event__unpack, len, buf);
}

Edunet__Dir__ReceiptState *dir_unpack_state(const uint8_t *buf, size_t len)
{
	return UNPACK(Edunet__Dir__ReceiptState, edunet__dir__receipt_state__unpack, len, buf);
}

/* ctx || 0 || bytes */
static uint8_t *signed_msg(const char *ctx, const uint8_t *b, size_t len, size_t *out_len)
{
	size_t cl = strlen(ctx) + 1;
	uint8_t *m = malloc(cl + len + 1);
	if (!m)
		return NULL;
	memcpy(m, ctx, cl);
	if (len)
		memcpy(m + cl, b, len);
	*out_len = cl + len;
	return m;
}

/* Signs bytes (when we have an identity) and packs the signed wrapper. */
static edu_err sign_wrap(edu_dir *d, const char *ctx, const uint8_t *bytes, size_t len, bool receipt, uint8_t **out,
    size_t *out_len)
{
	uint8_t sig[EDU_PKI_SIG_LEN];
	const uint8_t *der = NULL;
	size_t der_len = 0, n;
	if (d->id) {
		uint8_t *m = signed_msg(ctx, bytes, len, &n);
		if (!m)
			return EDU_ENOMEM;
		edu_pki_sign(d->id, m, n, sig);
		free(m);
		if (edu_pki_id_cert_der(d->id, &der, &der_len) != EDU_OK)
			return EDU_EINTERNAL;
	}
	if (receipt) {
		Edunet__Dir__SignedReceipt s = EDUNET__DIR__SIGNED_RECEIPT__INIT;
		s.event.data = (uint8_t *)bytes;
		s.event.len = len;
		if (d->id) {
			s.sig.data = sig;
			s.sig.len = sizeof sig;
			s.cert.data = (uint8_t *)der;
			s.cert.len = der_len;
		}
		*out_len = edunet__dir__signed_receipt__get_packed_size(&s);
		if (!(*out = malloc(*out_len ? *out_len : 1)))
			return EDU_ENOMEM;
		edunet__dir__signed_receipt__pack(&s, *out);
	} else {
		Edunet__Dir__SignedDirective s = EDUNET__DIR__SIGNED_DIRECTIVE__INIT;
		s.directive.data = (uint8_t *)bytes;
		s.directive.len = len;
		if (d->id) {
			s.sig.data = sig;
			s.sig.len = sizeof sig;
			s.cert.data = (uint8_t *)der;
			s.cert.len = der_len;
		}
		*out_len = edunet__dir__signed_directive__get_packed_size(&s);
		if (!(*out = malloc(*out_len ? *out_len : 1)))
			return EDU_ENOMEM;
		edunet__dir__signed_directive__pack(&s, *out);
	}
	return EDU_OK;
}

/* In signed mode: cert must verify with CN == unit and sig over ctx||bytes.
 * In test mode (no verifier): accepted, as content is. */
edu_err dir_verify(edu_dir *d, const char *ctx, const char *unit, const ProtobufCBinaryData *bytes,
    const ProtobufCBinaryData *sig, const ProtobufCBinaryData *cert, char *why, size_t whylen)
{
	uint8_t pub[EDU_PKI_PUB_LEN];
	char w[200] = "";
	uint8_t *m;
	size_t n;
	bool ok;
	if (!d->verifier)
		return EDU_OK;
	if (cert->len == 0 || sig->len != EDU_PKI_SIG_LEN) {
		edu_whyf(why, whylen, "not signed (this node requires signatures)");
		return EDU_ECRYPTO;
	}
	if (edu_pki_verify_cert(d->verifier, cert->data, cert->len, unit, pub, w, sizeof w) != EDU_OK) {
		edu_whyf(why, whylen, "certificate of %s refused: %s", unit, w);
		return EDU_ECRYPTO;
	}
	if (!(m = signed_msg(ctx, bytes->data, bytes->len, &n)))
		return EDU_ENOMEM;
	ok = edu_pki_verify_sig(pub, m, n, sig->data);
	free(m);
	if (!ok) {
		edu_whyf(why, whylen, "signature of %s does not verify", unit);
		return EDU_ECRYPTO;
	}
	return EDU_OK;
}

static bool text_ok(const char *s, size_t max_bytes, bool newlines)
{
	size_t n = strlen(s);
	return n <= max_bytes && edu_text_utf8_valid(s, n) && !edu_text_has_ctl(s, newlines);
}

static edu_err files_check(DirFileList fl, char *why, size_t whylen)
{
	size_t total = 0;
	if (fl.n > EDU_DIR_ATTACH_COUNT_MAX) {
		edu_whyf(why, whylen, "%zu attachments (max %d)", fl.n, EDU_DIR_ATTACH_COUNT_MAX);
		return EDU_ETOOBIG;
	}
	for (size_t i = 0; i < fl.n; i++) {
		const Edunet__Dir__DirAttachment *a = fl.v[i];
		uint8_t sha[32];
		if (!text_ok(a->name, EDU_SHORT_MAX * 4, false) || !a->name[0] || strchr(a->name, '/') ||
		    !text_ok(a->media_type, 127, false) || !strchr(a->media_type, '/')) {
			edu_whyf(why, whylen, "attachment %zu: bad name or media type", i);
			return EDU_EINVAL;
		}
		if (a->data.len == 0 || a->data.len > EDU_ATTACH_MAX || a->size != a->data.len || a->sha256.len != 32) {
			edu_whyf(why, whylen, "attachment %zu: empty, larger than %u bytes or size mismatch", i, EDU_ATTACH_MAX);
			return EDU_ETOOBIG;
		}
		crypto_hash_sha256(sha, a->data.data, a->data.len);
		if (memcmp(sha, a->sha256.data, 32) != 0) {
			edu_whyf(why, whylen, "attachment %zu: sha256 does not match its bytes", i);
			return EDU_EINVAL;
		}
		total += a->data.len;
	}
	if (total > EDU_DIR_ATTACH_TOTAL_MAX) {
		edu_whyf(why, whylen, "attachments total %zu bytes (max %u)", total, EDU_DIR_ATTACH_TOTAL_MAX);
		return EDU_ETOOBIG;
	}
	return EDU_OK;
}

edu_err dir_check(const Edunet__Dir__Directive *x, char *why, size_t whylen)
{
	if (x->format != EDU_DIR_FORMAT) {
		edu_whyf(why, whylen, "directive format %u (this node reads %d)", x->format, EDU_DIR_FORMAT);
		return EDU_EVERSION;
	}
	if (!edu_unit_id_valid(x->issuer) || x->seq == 0) {
		edu_whyf(why, whylen, "bad issuer or number");
		return EDU_EINVAL;
	}
	if (!x->title[0] || !text_ok(x->title, EDU_TITLE_MAX * 4, false) || edu_text_chars(x->title) > EDU_TITLE_MAX ||
	    !text_ok(x->body, EDU_BODY_MAX, true) || !text_ok(x->doc_number, EDU_SHORT_MAX * 4, false) ||
	    !text_ok(x->doc_date, 10, false) || !text_ok(x->signer, EDU_SHORT_MAX * 4, false) ||
	    !text_ok(x->issuer_name, EDU_SHORT_MAX * 4, false)) {
		edu_whyf(why, whylen, "bad title, body, number, date, signer or issuer name");
		return EDU_EINVAL;
	}
	if (x->n_audience_types > EDU_DIR_TYPES_MAX || x->n_audience_units > EDU_DIR_UNITS_MAX ||
	    x->n_targets == 0 || x->n_targets > EDU_DIR_TARGETS_MAX) {
		edu_whyf(why, whylen, "audience or targets out of bounds");
		return EDU_ETOOBIG;
	}
	{
		int ty = edu_unit_type_parse(x->issuer_type);
		if (ty < 0 || !edu_unit_type_aggregates((edu_unit_type)ty)) {
			edu_whyf(why, whylen, "issuer type \"%.16s\" is not a Sở, Phòng or Xã", x->issuer_type);
			return EDU_EPERM;
		}
	}
	if (x->n_parents != x->n_targets) {
		edu_whyf(why, whylen, "%zu parents for %zu targets", x->n_parents, x->n_targets);
		return EDU_EINVAL;
	}
	for (size_t i = 0; i < x->n_targets; i++)
		if (!edu_unit_id_valid(x->targets[i]) || !edu_unit_id_valid(x->parents[i])) {
			edu_whyf(why, whylen, "target %zu or its parent is not a unit id", i);
			return EDU_EINVAL;
		}
	for (size_t i = 0; i < x->n_audience_types; i++)
		if (!text_ok(x->audience_types[i], 16, false)) {
			edu_whyf(why, whylen, "bad audience type");
			return EDU_EINVAL;
		}
	for (size_t i = 0; i < x->n_audience_units; i++)
		if (!edu_unit_id_valid(x->audience_units[i])) {
			edu_whyf(why, whylen, "bad audience unit");
			return EDU_EINVAL;
		}
	return files_check((DirFileList){x->attachments, x->n_attachments}, why, whylen);
}

static edu_err event_check(const Edunet__Dir__ReceiptEvent *e, char *why, size_t whylen)
{
	if (e->format != EDU_DIR_FORMAT) {
		edu_whyf(why, whylen, "receipt format %u", e->format);
		return EDU_EVERSION;
	}
	if (!edu_unit_id_valid(e->unit) || strlen(e->directive_id) >= EDU_DIR_ID_MAX ||
	    e->kind < EDUNET__DIR__RECEIPT_EVENT__KIND__RECEIVED || e->kind > EDUNET__DIR__RECEIPT_EVENT__KIND__REPORTED ||
	    e->time_ms <= 0) {
		edu_whyf(why, whylen, "malformed receipt event");
		return EDU_EINVAL;
	}
	if (!text_ok(e->report_text, EDU_DIR_REPORT_MAX, true)) {
		edu_whyf(why, whylen, "bad report text");
		return EDU_EINVAL;
	}
	return files_check((DirFileList){e->attachments, e->n_attachments}, why, whylen);
}

void dir_id_of(const Edunet__Dir__Directive *x, char id[EDU_DIR_ID_MAX])
{
	snprintf(id, EDU_DIR_ID_MAX, "%s:d%" PRIu64, x->issuer, x->seq);
}

bool dir_targets(const Edunet__Dir__Directive *x, const char *unit)
{
	for (size_t i = 0; i < x->n_targets; i++)
		if (strcmp(x->targets[i], unit) == 0)
			return true;
	return false;
}

/* Loads and unpacks directive id (inside t). Caller frees both. */
edu_err dir_load(edu_dir *d, MDB_txn *t, const char *id, Edunet__Dir__SignedDirective **sd,
    Edunet__Dir__Directive **x)
{
	MDB_val v;
	edu_err rv;
	*sd = NULL;
	*x = NULL;
	if ((rv = dir_get(t, d->dirs, id, strlen(id), &v)) != EDU_OK)
		return rv;
	if (!(*sd = dir_unpack_signed(v.mv_data, v.mv_size)) ||
	    !(*x = dir_unpack_directive((*sd)->directive.data, (*sd)->directive.len))) {
		edu_log(LOG_ERR, "directive: stored record %s is undecodable", id);
		edunet__dir__signed_directive__free_unpacked(*sd, NULL);
		*sd = NULL;
		return EDU_EIO;
	}
	return EDU_OK;
}

void dir_free(Edunet__Dir__SignedDirective *sd, Edunet__Dir__Directive *x)
{
	if (x)
		edunet__dir__directive__free_unpacked(x, NULL);
	if (sd)
		edunet__dir__signed_directive__free_unpacked(sd, NULL);
}

/* ---- receipt state --------------------------------------------------------------- */

static size_t rkey(char *k, size_t cap, const char *id, const char *unit)
{
	int n = snprintf(k, cap, "%s%c%s", id, '\0', unit);
	return (size_t)n;
}

/* Merges event e into (id, unit)'s state. First received/acked/reported wins. */
static edu_err state_merge(edu_dir *d, MDB_txn *t, const Edunet__Dir__ReceiptEvent *e, bool *changed)
{
	char k[EDU_DIR_ID_MAX + 48];
	size_t kl = rkey(k, sizeof k, e->directive_id, e->unit);
	Edunet__Dir__ReceiptState *s = NULL, fresh = EDUNET__DIR__RECEIPT_STATE__INIT;
	MDB_val v;
	edu_err rv;
	uint8_t *buf = NULL;
	size_t len;
	*changed = false;
	rv = dir_get(t, d->receipts, k, kl, &v);
	if (rv == EDU_OK && !(s = dir_unpack_state(v.mv_data, v.mv_size)))
		return EDU_EIO;
	if (rv != EDU_OK && rv != EDU_ENOENT)
		return rv;
	Edunet__Dir__ReceiptState *st = s ? s : &fresh;
	/* every later kind implies the earlier ones */
	if (!st->received_ms) {
		st->received_ms = e->time_ms;
		*changed = true;
	}
	if (e->kind >= EDUNET__DIR__RECEIPT_EVENT__KIND__ACKED && !st->acked_ms) {
		st->acked_ms = e->time_ms;
		*changed = true;
	}
	/* the report's text and files are borrowed from e until packed */
	char *old_text = st->report_text;
	size_t old_n = st->n_attachments;
	Edunet__Dir__DirAttachment **old_att = st->attachments;
	if (e->kind == EDUNET__DIR__RECEIPT_EVENT__KIND__REPORTED && !st->reported_ms) {
		st->reported_ms = e->time_ms;
		st->report_text = e->report_text;
		st->n_attachments = e->n_attachments;
		st->attachments = e->attachments;
		*changed = true;
	}
	rv = EDU_OK;
	if (*changed) {
		len = edunet__dir__receipt_state__get_packed_size(st);
		if (!(buf = malloc(len ? len : 1)))
			rv = EDU_ENOMEM;
		else {
			edunet__dir__receipt_state__pack(st, buf);
			rv = dir_put(t, d->receipts, k, kl, buf, len);
		}
	}
	st->report_text = old_text;
	st->n_attachments = old_n;
	st->attachments = old_att;
	free(buf);
	if (s)
		edunet__dir__receipt_state__free_unpacked(s, NULL);
	return rv;
}

/* Builds, signs and records our own receipt event: state + uplog (when we have a parent). */
static edu_err own_event(edu_dir *d, MDB_txn *t, const char *id, int kind, int64_t now, const char *text,
    DirFileList files)
{
	Edunet__Dir__ReceiptEvent e = EDUNET__DIR__RECEIPT_EVENT__INIT;
	uint8_t *eb = NULL, *sb = NULL;
	size_t el, sl;
	bool changed;
	edu_err rv;
	e.format = EDU_DIR_FORMAT;
	e.directive_id = (char *)id;
	e.unit = d->self;
	e.kind = kind;
	e.time_ms = now;
	e.report_text = (char *)(text ? text : "");
	e.n_attachments = files.n;
	e.attachments = files.v;
	if ((rv = state_merge(d, t, &e, &changed)) != EDU_OK || !changed || !d->has_parent)
		return rv;
	el = edunet__dir__receipt_event__get_packed_size(&e);
	if (!(eb = malloc(el ? el : 1)))
		return EDU_ENOMEM;
	edunet__dir__receipt_event__pack(&e, eb);
	if ((rv = sign_wrap(d, EDU_DIR_RECEIPT_CTX, eb, el, true, &sb, &sl)) == EDU_OK)
		rv = dir_append(t, d->uplog, sb, sl, NULL);
	free(eb);
	free(sb);
	if (rv == EDU_OK)
		d->queued = true;
	return rv;
}

/* ---- accepting a directive from the parent ------------------------------------------ */

/* Verifies and commits one SignedDirective (inside t). EDU_OK also for a
 * duplicate; another error means refused (why says why). */
static edu_err accept_directive(edu_dir *d, MDB_txn *t, const ProtobufCBinaryData *raw, const char *parent_unit,
    char *why, size_t whylen)
{
	Edunet__Dir__SignedDirective *sd = NULL;
	Edunet__Dir__Directive *x = NULL;
	char id[EDU_DIR_ID_MAX];
	MDB_val old;
	edu_err rv;

	if (raw->len > EDU_DIR_RECORD_MAX) {
		edu_whyf(why, whylen, "record of %zu bytes", raw->len);
		return EDU_ETOOBIG;
	}
	if (!(sd = dir_unpack_signed(raw->data, raw->len)) ||
	    !(x = dir_unpack_directive(sd->directive.data, sd->directive.len))) {
		edu_whyf(why, whylen, "undecodable directive");
		rv = EDU_EPROTO;
		goto out;
	}
	if ((rv = dir_check(x, why, whylen)) != EDU_OK)
		goto out;
	dir_id_of(x, id);
	if ((rv = dir_verify(d, EDU_DIR_SIGN_CTX, x->issuer, &sd->directive, &sd->sig, &sd->cert, why, whylen)) != EDU_OK)
		goto out;
	if (d->reg) {
		int ii = edu_registry_find(d->reg, x->issuer), si = edu_registry_find(d->reg, d->self);
		const edu_reg_unit *iu = edu_registry_unit(d->reg, ii);
		bool below = false;
		if (!iu || !edu_unit_type_aggregates(iu->type) || si < 0 || ii == si ||
		    !edu_registry_is_under(d->reg, si, ii)) {
			edu_whyf(why, whylen, "issuer %s is not a Sở/Phòng above %s in the registry", x->issuer, d->self);
			rv = EDU_EPERM;
			goto out;
		}
		if (strcmp(x->issuer_type, edu_unit_type_name(iu->type)) != 0) {
			edu_whyf(why, whylen, "issuer %s signed type %s, the registry says %s", x->issuer, x->issuer_type,
			    edu_unit_type_name(iu->type));
			rv = EDU_EPERM;
			goto out;
		}
		for (size_t i = 0; i < x->n_targets && !below; i++) {
			int ti = edu_registry_find(d->reg, x->targets[i]);
			below = ti >= 0 && ti != si && edu_registry_is_under(d->reg, ti, si);
		}
		if (!below) {
			edu_whyf(why, whylen, "no target of %s lies under %s", id, d->self);
			rv = EDU_EPERM;
			goto out;
		}
	} else {
		/* A school: see "Trust at a school" in directive.h. */
		size_t i;
		for (i = 0; i < x->n_targets && strcmp(x->targets[i], d->self) != 0; i++)
			;
		if (i == x->n_targets) {
			edu_whyf(why, whylen, "%s is not addressed to %s (a school relays nothing)", id, d->self);
			rv = EDU_EPERM;
			goto out;
		}
		if (!parent_unit || strcmp(x->parents[i], parent_unit) != 0) {
			edu_whyf(why, whylen, "%s routes %s through %s, but it came from %s", id, d->self, x->parents[i],
			    parent_unit ? parent_unit : "an unidentified parent");
			rv = EDU_EPERM;
			goto out;
		}
	}
	if (strcmp(x->issuer, d->self) == 0) {
		edu_whyf(why, whylen, "a directive in our own name came from the parent");
		rv = EDU_EPERM;
		goto out;
	}
	rv = dir_get(t, d->dirs, id, strlen(id), &old);
	if (rv == EDU_OK) {
		if (old.mv_size != raw->len || memcmp(old.mv_data, raw->data, raw->len) != 0)
			edu_log(LOG_WARNING, "directive: %s arrived again with different bytes; keeping the first", id);
		goto out; /* duplicate: fine */
	}
	if (rv != EDU_ENOENT)
		goto out;
	if ((rv = dir_put(t, d->dirs, id, strlen(id), raw->data, raw->len)) != EDU_OK ||
	    (rv = dir_append(t, d->down, id, strlen(id), NULL)) != EDU_OK)
		goto out;
	if (dir_targets(x, d->self))
		rv = own_event(d, t, id, EDUNET__DIR__RECEIPT_EVENT__KIND__RECEIVED, edu_time_now_ms(), NULL,
		    (DirFileList){NULL, 0});
	if (rv == EDU_OK)
		edu_log(LOG_NOTICE, "directive: received %s from %s: %s%s", id, x->issuer, x->title,
		    dir_targets(x, d->self) ? " (for this unit)" : "");
out:
	dir_free(sd, x);
	return rv;
}

/* ---- publish / ack / report ------------------------------------------------------------ */

typedef struct pub_arg {
	Edunet__Dir__Directive *x;
	char *id;
	char *why;
	size_t whylen;
} pub_arg;

static edu_err publish_txn(edu_dir *d, MDB_txn *t, void *arg)
{
	pub_arg *p = arg;
	uint8_t *db = NULL, *sb = NULL;
	size_t dl, sl;
	edu_err rv;
	p->x->seq = dir_meta_u64(t, d, META_NEXT_SEQ);
	if (p->x->seq == 0)
		p->x->seq = 1;
	dir_id_of(p->x, p->id);
	dl = edunet__dir__directive__get_packed_size(p->x);
	if (dl > EDU_DIR_RECORD_MAX) {
		edu_whyf(p->why, p->whylen, "the directive is %zu bytes (max %u)", dl, EDU_DIR_RECORD_MAX);
		return EDU_ETOOBIG;
	}
	if (!(db = malloc(dl ? dl : 1)))
		return EDU_ENOMEM;
	edunet__dir__directive__pack(p->x, db);
	if ((rv = sign_wrap(d, EDU_DIR_SIGN_CTX, db, dl, false, &sb, &sl)) == EDU_OK &&
	    (rv = dir_put(t, d->dirs, p->id, strlen(p->id), sb, sl)) == EDU_OK &&
	    (rv = dir_append(t, d->down, p->id, strlen(p->id), NULL)) == EDU_OK)
		rv = dir_meta_set_u64(t, d, META_NEXT_SEQ, p->x->seq + 1);
	free(db);
	free(sb);
	return rv;
}

/* Fills x->targets from the audience with the registry. Strings borrowed from the registry. */
edu_err dir_expand(const struct edu_registry *reg, const char *self, const char *const *types, size_t n_types,
    const char *const *units, size_t n_units, char ***targets, size_t *n, char *why, size_t whylen)
{
	int si = edu_registry_find(reg, self);
	int *sub = NULL;
	size_t ns = 0, k = 0;
	bool want_type[EDU_UT_COUNT] = {0};
	char **out = NULL;
	edu_err rv;
	*targets = NULL;
	*n = 0;
	if (si < 0) {
		edu_whyf(why, whylen, "unit %s is not in the registry", self);
		return EDU_EINVAL;
	}
	for (size_t i = 0; i < n_types; i++) {
		int ty = edu_unit_type_parse(types[i]);
		if (ty < 0) {
			edu_whyf(why, whylen, "unknown unit type \"%.20s\" (so, phong, xa, thpt, gdtx, thcs, th, mn)", types[i]);
			return EDU_EINVAL;
		}
		want_type[ty] = true;
	}
	for (size_t i = 0; i < n_units; i++) {
		int ui = edu_registry_find(reg, units[i]);
		if (ui < 0 || ui == si || !edu_registry_is_under(reg, ui, si)) {
			edu_whyf(why, whylen, "unit \"%.41s\" is not in this node's subtree", units[i]);
			return EDU_EINVAL;
		}
	}
	if ((rv = edu_registry_subtree(reg, si, &sub, &ns)) != EDU_OK)
		return rv;
	if (!(out = calloc(ns ? ns : 1, sizeof *out))) {
		free(sub);
		return EDU_ENOMEM;
	}
	for (size_t i = 0; i < ns; i++) {
		const edu_reg_unit *u = edu_registry_unit(reg, sub[i]);
		bool in = false;
		if (sub[i] == si)
			continue;
		if (n_types == 0 && n_units == 0)
			in = true;
		else if (want_type[u->type])
			in = true;
		for (size_t j = 0; !in && j < n_units; j++)
			in = strcmp(units[j], u->id) == 0;
		if (in)
			out[k++] = (char *)u->id;
	}
	free(sub);
	if (k == 0) {
		free(out);
		edu_whyf(why, whylen, "the audience matches no unit under %s", self);
		return EDU_EINVAL;
	}
	*targets = out;
	*n = k;
	return EDU_OK;
}

static edu_err files_build(const edu_dir_file *f, size_t n, Edunet__Dir__DirAttachment **att,
    Edunet__Dir__DirAttachment ***ptrs, uint8_t (**shas)[32], char *why, size_t whylen)
{
	*att = NULL;
	*ptrs = NULL;
	*shas = NULL;
	if (n == 0)
		return EDU_OK;
	if (n > EDU_DIR_ATTACH_COUNT_MAX) {
		edu_whyf(why, whylen, "%zu attachments (max %d)", n, EDU_DIR_ATTACH_COUNT_MAX);
		return EDU_ETOOBIG;
	}
	if (!(*att = calloc(n, sizeof **att)) || !(*ptrs = calloc(n, sizeof **ptrs)) || !(*shas = calloc(n, 32)))
		return EDU_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		edunet__dir__dir_attachment__init(&(*att)[i]);
		(*att)[i].name = (char *)(f[i].name ? f[i].name : "");
		(*att)[i].media_type = (char *)(f[i].media_type ? f[i].media_type : "application/octet-stream");
		(*att)[i].size = f[i].len;
		(*att)[i].data.data = (uint8_t *)f[i].data;
		(*att)[i].data.len = f[i].len;
		if (f[i].len)
			crypto_hash_sha256((*shas)[i], f[i].data, f[i].len);
		(*att)[i].sha256.data = (*shas)[i];
		(*att)[i].sha256.len = 32;
		(*ptrs)[i] = &(*att)[i];
	}
	return files_check((DirFileList){*ptrs, n}, why, whylen);
}

edu_err edu_dir_publish(edu_dir *d, const edu_dir_new *n, char id[EDU_DIR_ID_MAX], char *why, size_t whylen)
{
	Edunet__Dir__Directive x = EDUNET__DIR__DIRECTIVE__INIT;
	Edunet__Dir__DirAttachment *att = NULL, **ptrs = NULL;
	uint8_t (*shas)[32] = NULL;
	char **targets = NULL, **parents = NULL;
	size_t nt = 0;
	edu_err rv;
	pub_arg p = {&x, id, why, whylen};
	const edu_reg_unit *self;

	id[0] = '\0';
	if (!d->reg || !(self = edu_registry_unit(d->reg, edu_registry_find(d->reg, d->self))) ||
	    !edu_unit_type_aggregates(self->type)) {
		edu_whyf(why, whylen, "only a Sở or Phòng (an aggregating node with a registry) issues directives");
		return EDU_EPERM;
	}
	if (n->n_types > EDU_DIR_TYPES_MAX || n->n_units > EDU_DIR_UNITS_MAX) {
		edu_whyf(why, whylen, "audience too long (max %d types, %d units)", EDU_DIR_TYPES_MAX, EDU_DIR_UNITS_MAX);
		return EDU_ETOOBIG;
	}
	if (n->deadline < 0) {
		edu_whyf(why, whylen, "bad deadline");
		return EDU_EINVAL;
	}
	if ((rv = dir_expand(d->reg, d->self, n->types, n->n_types, n->units, n->n_units, &targets, &nt, why, whylen)) !=
	    EDU_OK)
		return rv;
	if ((rv = files_build(n->files, n->n_files, &att, &ptrs, &shas, why, whylen)) != EDU_OK)
		goto out;
	if (!(parents = calloc(nt, sizeof *parents))) {
		rv = EDU_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nt; i++) {
		const edu_reg_unit *tu = edu_registry_unit(d->reg, edu_registry_find(d->reg, targets[i]));
		parents[i] = (char *)edu_registry_unit(d->reg, tu->parent)->id; /* targets lie below self: parent >= 0 */
	}
	x.format = EDU_DIR_FORMAT;
	x.issuer = d->self;
	x.issuer_type = (char *)edu_unit_type_name(self->type);
	x.n_parents = nt;
	x.parents = parents;
	x.issuer_name = d->self_name;
	x.seq = 1; /* for the check; the real number is taken in the transaction */
	x.title = (char *)(n->title ? n->title : "");
	x.body = (char *)(n->body ? n->body : "");
	x.doc_number = (char *)(n->doc_number ? n->doc_number : "");
	x.doc_date = (char *)(n->doc_date ? n->doc_date : "");
	x.signer = (char *)(n->signer ? n->signer : "");
	x.n_audience_types = n->n_types;
	x.audience_types = (char **)n->types;
	x.n_audience_units = n->n_units;
	x.audience_units = (char **)n->units;
	x.n_targets = nt;
	x.targets = targets;
	x.report_requested = n->report_requested;
	x.deadline = n->deadline;
	x.published_ms = now_or(n->now_ms);
	x.n_attachments = n->n_files;
	x.attachments = ptrs;
	if (x.doc_date[0]) {
		int64_t s;
		char tmp[32];
		snprintf(tmp, sizeof tmp, "%.10sT00:00:00Z", x.doc_date);
		if (strlen(x.doc_date) != 10 || edu_time_parse(tmp, &s, NULL) != EDU_OK) {
			edu_whyf(why, whylen, "doc_date must be YYYY-MM-DD");
			rv = EDU_EINVAL;
			goto out;
		}
	}
	if ((rv = dir_check(&x, why, whylen)) != EDU_OK) {
		if (rv == EDU_EVERSION)
			rv = EDU_EINTERNAL;
		goto out;
	}
	pthread_mutex_lock(&d->mu);
	rv = dir_write(d, publish_txn, &p);
	pthread_mutex_unlock(&d->mu);
	if (rv == EDU_OK) {
		edu_log(LOG_NOTICE, "directive: published %s for %zu unit(s): %s", id, nt, x.title);
		bump(d);
	}
out:
	free(targets);
	free(parents);
	free(att);
	free(ptrs);
	free(shas);
	return rv;
}

typedef struct own_arg {
	const char *id;
	int kind;
	int64_t now;
	const char *text;
	DirFileList files;
	char *why;
	size_t whylen;
} own_arg;

static edu_err own_txn(edu_dir *d, MDB_txn *t, void *arg)
{
	own_arg *o = arg;
	Edunet__Dir__SignedDirective *sd = NULL;
	Edunet__Dir__Directive *x = NULL;
	edu_err rv = dir_load(d, t, o->id, &sd, &x);
	if (rv == EDU_ENOENT) {
		edu_whyf(o->why, o->whylen, "no directive %s at this node", o->id);
		return rv;
	}
	if (rv != EDU_OK)
		return rv;
	if (!dir_targets(x, d->self)) {
		edu_whyf(o->why, o->whylen, "directive %s is not addressed to %s", o->id, d->self);
		rv = EDU_EPERM;
		goto out;
	}
	if (o->kind == EDUNET__DIR__RECEIPT_EVENT__KIND__REPORTED) {
		char k[EDU_DIR_ID_MAX + 48];
		MDB_val v;
		Edunet__Dir__ReceiptState *s;
		if (!x->report_requested) {
			edu_whyf(o->why, o->whylen, "directive %s asks for no report", o->id);
			rv = EDU_EINVAL;
			goto out;
		}
		if (dir_get(t, d->receipts, k, rkey(k, sizeof k, o->id, d->self), &v) == EDU_OK &&
		    (s = dir_unpack_state(v.mv_data, v.mv_size))) {
			bool done = s->reported_ms != 0, acked = s->acked_ms != 0;
			edunet__dir__receipt_state__free_unpacked(s, NULL);
			if (done) {
				edu_whyf(o->why, o->whylen, "a report for %s was already sent", o->id);
				rv = EDU_EEXIST;
				goto out;
			}
			if (!acked && (rv = own_event(d, t, o->id, EDUNET__DIR__RECEIPT_EVENT__KIND__ACKED, o->now, NULL,
			    (DirFileList){NULL, 0})) != EDU_OK)
				goto out;
		}
	}
	rv = own_event(d, t, o->id, o->kind, o->now, o->text, o->files);
out:
	dir_free(sd, x);
	return rv;
}

static edu_err own_action(edu_dir *d, own_arg *o)
{
	edu_err rv;
	pthread_mutex_lock(&d->mu);
	d->queued = false;
	rv = dir_write(d, own_txn, o);
	bool q = d->queued;
	pthread_mutex_unlock(&d->mu);
	if (rv == EDU_OK && q)
		bump(d);
	return rv;
}

edu_err edu_dir_ack(edu_dir *d, const char *id, int64_t now_ms, char *why, size_t whylen)
{
	own_arg o = {id, EDUNET__DIR__RECEIPT_EVENT__KIND__ACKED, now_or(now_ms), NULL, {NULL, 0}, why, whylen};
	if (!id || strlen(id) >= EDU_DIR_ID_MAX) {
		edu_whyf(why, whylen, "bad directive id");
		return EDU_ENOENT;
	}
	return own_action(d, &o);
}

edu_err edu_dir_report(edu_dir *d, const char *id, const char *text, const edu_dir_file *files, size_t n_files,
    int64_t now_ms, char *why, size_t whylen)
{
	Edunet__Dir__DirAttachment *att = NULL, **ptrs = NULL;
	uint8_t (*shas)[32] = NULL;
	edu_err rv;
	if (!id || strlen(id) >= EDU_DIR_ID_MAX) {
		edu_whyf(why, whylen, "bad directive id");
		return EDU_ENOENT;
	}
	if (!text || (!text[0] && n_files == 0)) {
		edu_whyf(why, whylen, "a report needs text or an attachment");
		return EDU_EINVAL;
	}
	if (!text_ok(text, EDU_DIR_REPORT_MAX, true)) {
		edu_whyf(why, whylen, "report text must be valid UTF-8, at most %d bytes", EDU_DIR_REPORT_MAX);
		return EDU_EINVAL;
	}
	if ((rv = files_build(files, n_files, &att, &ptrs, &shas, why, whylen)) == EDU_OK) {
		own_arg o = {id, EDUNET__DIR__RECEIPT_EVENT__KIND__REPORTED, now_or(now_ms), text, {ptrs, n_files}, why,
		    whylen};
		rv = own_action(d, &o);
	}
	free(att);
	free(ptrs);
	free(shas);
	return rv;
}

/* ---- transport: child side ------------------------------------------------------------- */

edu_err edu_dir_sync_build(edu_dir *d, Edunet__Wire__DirSync *req, uint64_t *upto)
{
	MDB_txn *t = NULL;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	size_t bytes = 0;
	edu_err rv = EDU_OK;
	int rc;

	edunet__wire__dir_sync__init(req);
	*upto = 0;
	pthread_mutex_lock(&d->mu);
	if ((rc = mdb_txn_begin(d->env, NULL, MDB_RDONLY, &t)) != 0) {
		rv = mdb_err(rc, "read");
		goto out;
	}
	req->down_cursor = dir_meta_u64(t, d, META_CURSOR);
	if (!(req->receipts = calloc(EDU_DIR_BATCH_RECORDS, sizeof *req->receipts))) {
		rv = EDU_ENOMEM;
		goto out;
	}
	if (mdb_cursor_open(t, d->uplog, &c) != 0) {
		rv = EDU_EIO;
		goto out;
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && req->n_receipts < EDU_DIR_BATCH_RECORDS;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		uint8_t *copy;
		if (req->n_receipts > 0 && bytes + v.mv_size > EDU_DIR_BATCH_BYTES)
			break;
		if (!(copy = malloc(v.mv_size ? v.mv_size : 1))) {
			rv = EDU_ENOMEM;
			goto out;
		}
		memcpy(copy, v.mv_data, v.mv_size);
		req->receipts[req->n_receipts].data = copy;
		req->receipts[req->n_receipts].len = v.mv_size;
		req->n_receipts++;
		bytes += v.mv_size;
		*upto = rd64(k.mv_data);
	}
out:
	if (c)
		mdb_cursor_close(c);
	if (t)
		mdb_txn_abort(t);
	pthread_mutex_unlock(&d->mu);
	if (rv != EDU_OK)
		edu_dir_sync_free(req);
	return rv;
}

void edu_dir_sync_free(Edunet__Wire__DirSync *req)
{
	for (size_t i = 0; i < req->n_receipts; i++)
		free(req->receipts[i].data);
	free(req->receipts);
	req->receipts = NULL;
	req->n_receipts = 0;
}

typedef struct apply_arg {
	const Edunet__Wire__DirSyncAck *ack;
	uint64_t upto;
	size_t n_sent;
	const char *parent_unit;
} apply_arg;

static edu_err apply_txn(edu_dir *d, MDB_txn *t, void *arg)
{
	apply_arg *a = arg;
	edu_err rv;
	size_t i;
	if (a->n_sent > 0 && a->ack->receipts_acked == a->n_sent) {
		MDB_cursor *c = NULL;
		MDB_val k, v;
		int rc;
		if (mdb_cursor_open(t, d->uplog, &c) != 0)
			return EDU_EIO;
		while ((rc = mdb_cursor_get(c, &k, &v, MDB_FIRST)) == 0 && rd64(k.mv_data) <= a->upto)
			if ((rc = mdb_cursor_del(c, 0)) != 0)
				break;
		mdb_cursor_close(c);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return mdb_err(rc, "trimming the receipt log");
	}
	for (i = 0; i < a->ack->n_directives; i++) {
		char why[256] = "";
		rv = accept_directive(d, t, &a->ack->directives[i], a->parent_unit, why, sizeof why);
		if (rv == EDU_ENOMEM || rv == EDU_EIO || rv == EDU_ENOSPC)
			return rv;
		if (rv != EDU_OK) /* refused for good: logged, skipped, never asked for again */
			edu_log(LOG_ERR, "directive: refused a directive from the parent %s: %s",
			    a->parent_unit ? a->parent_unit : "(unidentified)", why);
	}
	return dir_meta_set_u64(t, d, META_CURSOR, a->ack->down_cursor);
}

edu_err edu_dir_sync_apply(edu_dir *d, const Edunet__Wire__DirSyncAck *ack, uint64_t upto, size_t n_sent,
    const char *parent_unit)
{
	apply_arg a = {ack, upto, n_sent, parent_unit};
	edu_err rv;
	bool q;
	pthread_mutex_lock(&d->mu);
	d->queued = false;
	if (n_sent == 0 && ack->n_directives == 0) {
		/* Nothing to trim or accept (the usual answer to an idle node's
		 * poll): a commit that rewrites the same cursor would cost every
		 * node a disk sync per heartbeat. */
		MDB_txn *t = NULL;
		uint64_t cur = UINT64_MAX;
		if (mdb_txn_begin(d->env, NULL, MDB_RDONLY, &t) == 0) {
			cur = dir_meta_u64(t, d, META_CURSOR);
			mdb_txn_abort(t);
		}
		if (cur == ack->down_cursor) {
			pthread_mutex_unlock(&d->mu);
			return EDU_OK;
		}
	}
	rv = dir_write(d, apply_txn, &a);
	q = d->queued;
	pthread_mutex_unlock(&d->mu);
	if (rv == EDU_OK && (q || ack->n_directives))
		bump(d);
	return rv;
}

/* ---- transport: parent side ------------------------------------------------------------- */

typedef struct serve_arg {
	const char *child;
	int child_idx;
	const Edunet__Wire__DirSync *req;
	uint32_t refused;
} serve_arg;

static edu_err accept_receipt(edu_dir *d, MDB_txn *t, serve_arg *s, const ProtobufCBinaryData *raw, char *why,
    size_t whylen)
{
	Edunet__Dir__SignedReceipt *sr = NULL;
	Edunet__Dir__ReceiptEvent *e = NULL;
	Edunet__Dir__SignedDirective *sd = NULL;
	Edunet__Dir__Directive *x = NULL;
	bool changed = false;
	edu_err rv;
	int ui;

	if (raw->len > EDU_DIR_RECORD_MAX) {
		edu_whyf(why, whylen, "receipt of %zu bytes", raw->len);
		return EDU_ETOOBIG;
	}
	if (!(sr = unpack_signed_receipt(raw->data, raw->len)) || !(e = unpack_event(sr->event.data, sr->event.len))) {
		edu_whyf(why, whylen, "undecodable receipt");
		rv = EDU_EPROTO;
		goto out;
	}
	if ((rv = event_check(e, why, whylen)) != EDU_OK)
		goto out;
	ui = edu_registry_find(d->reg, e->unit);
	if (ui < 0 || !edu_registry_is_under(d->reg, ui, s->child_idx)) {
		edu_whyf(why, whylen, "receipt of %s sent by %s, outside its subtree", e->unit, s->child);
		rv = EDU_EPERM;
		goto out;
	}
	if ((rv = dir_verify(d, EDU_DIR_RECEIPT_CTX, e->unit, &sr->event, &sr->sig, &sr->cert, why, whylen)) != EDU_OK)
		goto out;
	if ((rv = dir_load(d, t, e->directive_id, &sd, &x)) != EDU_OK) {
		if (rv == EDU_ENOENT)
			edu_whyf(why, whylen, "receipt for unknown directive %s", e->directive_id);
		goto out;
	}
	if (!dir_targets(x, e->unit)) {
		edu_whyf(why, whylen, "%s is not a target of %s", e->unit, e->directive_id);
		rv = EDU_EPERM;
		goto out;
	}
	if (e->kind == EDUNET__DIR__RECEIPT_EVENT__KIND__REPORTED && !x->report_requested) {
		edu_whyf(why, whylen, "%s asks for no report", e->directive_id);
		rv = EDU_EINVAL;
		goto out;
	}
	if ((rv = state_merge(d, t, e, &changed)) != EDU_OK)
		goto out;
	/* Not ours: relay the original signed bytes towards the issuer. */
	if (changed && strcmp(x->issuer, d->self) != 0 && d->has_parent) {
		if ((rv = dir_append(t, d->uplog, raw->data, raw->len, NULL)) == EDU_OK)
			d->queued = true;
	}
out:
	dir_free(sd, x);
	if (e)
		edunet__dir__receipt_event__free_unpacked(e, NULL);
	if (sr)
		edunet__dir__signed_receipt__free_unpacked(sr, NULL);
	return rv;
}

static edu_err serve_txn(edu_dir *d, MDB_txn *t, void *arg)
{
	serve_arg *s = arg;
	s->refused = 0;
	for (size_t i = 0; i < s->req->n_receipts; i++) {
		char why[256] = "";
		edu_err rv = accept_receipt(d, t, s, &s->req->receipts[i], why, sizeof why);
		if (rv == EDU_ENOMEM || rv == EDU_EIO || rv == EDU_ENOSPC)
			return rv;
		if (rv != EDU_OK) {
			s->refused++;
			edu_log(LOG_WARNING, "directive: refused a receipt from %s: %s", s->child, why);
		}
	}
	return EDU_OK;
}

edu_err edu_dir_serve(edu_dir *d, const char *child, const Edunet__Wire__DirSync *req, Edunet__Wire__DirSyncAck *ack)
{
	serve_arg s = {child, -1, req, 0};
	MDB_txn *t = NULL;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	uint8_t key[8];
	size_t bytes = 0;
	edu_err rv;
	bool q;
	int rc;

	edunet__wire__dir_sync_ack__init(ack);
	if (!d->reg || (s.child_idx = edu_registry_find(d->reg, child)) < 0)
		return EDU_EPERM;
	pthread_mutex_lock(&d->mu);
	d->queued = false;
	rv = req->n_receipts ? dir_write(d, serve_txn, &s) : EDU_OK;
	q = d->queued;
	if (rv != EDU_OK)
		goto out;
	ack->receipts_acked = (uint32_t)req->n_receipts;
	ack->receipts_refused = s.refused;
	ack->down_cursor = req->down_cursor;
	if ((rc = mdb_txn_begin(d->env, NULL, MDB_RDONLY, &t)) != 0) {
		rv = mdb_err(rc, "read");
		goto out;
	}
	if (!(ack->directives = calloc(EDU_DIR_BATCH_RECORDS, sizeof *ack->directives))) {
		rv = EDU_ENOMEM;
		goto out;
	}
	if (mdb_cursor_open(t, d->down, &c) != 0) {
		rv = EDU_EIO;
		goto out;
	}
	be64(key, req->down_cursor + 1);
	k.mv_size = 8;
	k.mv_data = key;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0 && ack->n_directives < EDU_DIR_BATCH_RECORDS;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		char id[EDU_DIR_ID_MAX];
		Edunet__Dir__SignedDirective *sd = NULL;
		Edunet__Dir__Directive *x = NULL;
		bool want = false;
		MDB_val raw;
		if (k.mv_size != 8 || v.mv_size >= sizeof id)
			continue;
		memcpy(id, v.mv_data, v.mv_size);
		id[v.mv_size] = '\0';
		if (dir_get(t, d->dirs, id, strlen(id), &raw) != EDU_OK)
			goto next;
		if (ack->n_directives > 0 && bytes + raw.mv_size > EDU_DIR_BATCH_BYTES)
			break; /* the rest next time; cursor stays before this one */
		if (dir_load(d, t, id, &sd, &x) == EDU_OK) {
			for (size_t i = 0; i < x->n_targets && !want; i++) {
				int ti = edu_registry_find(d->reg, x->targets[i]);
				want = ti >= 0 && edu_registry_is_under(d->reg, ti, s.child_idx);
			}
		}
		dir_free(sd, x);
		if (want) {
			uint8_t *copy = malloc(raw.mv_size);
			if (!copy) {
				rv = EDU_ENOMEM;
				goto out;
			}
			memcpy(copy, raw.mv_data, raw.mv_size);
			ack->directives[ack->n_directives].data = copy;
			ack->directives[ack->n_directives].len = raw.mv_size;
			ack->n_directives++;
			bytes += raw.mv_size;
		}
	next:
		ack->down_cursor = rd64(k.mv_data);
	}
out:
	if (c)
		mdb_cursor_close(c);
	if (t)
		mdb_txn_abort(t);
	pthread_mutex_unlock(&d->mu);
	if (q)
		bump(d);
	if (rv != EDU_OK)
		edu_dir_serve_free(ack);
	return rv;
}

void edu_dir_serve_free(Edunet__Wire__DirSyncAck *ack)
{
	for (size_t i = 0; i < ack->n_directives; i++)
		free(ack->directives[i].data);
	free(ack->directives);
	ack->directives = NULL;
	ack->n_directives = 0;
}

/* ---- state rule ----------------------------------------------------------------------- */

const char *edu_dir_state(bool report_requested, int64_t deadline, int64_t acked_ms, int64_t reported_ms,
    int64_t at_ms)
{
	int64_t done = report_requested ? reported_ms : acked_ms;
	if (done && done > at_ms)
		done = 0; /* after the evaluation time: not yet */
	if (done)
		return deadline && done > deadline * 1000 ? "late" : "on_time";
	if (deadline && at_ms > deadline * 1000)
		return "missing";
	return "pending";
}
