/* Child side of replication. Two threads share one nng req socket (one
 * dialer, so one pipe at a time), each on its own req context:
 *  - the push thread sends the change log in batches, up to PUSH_WINDOW in
 *    flight on their own contexts (the parent commits them in log order,
 *    see Push.after), and records each ack (meta "uplink.acked" + log trim,
 *    one commit it does not wait for: a lost ack only means a harmless
 *    re-send after a restart);
 *  - the heartbeat thread sends the subtree's statuses every heartbeat_ms.
 * Each thread says Hello on a pipe before using it (the parent binds the
 * pipe to our unit); a NOT_BOUND reply makes it say Hello again. */
#include "uplink/uplink.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include <sodium.h>

#include "core/log.h"
#include "core/timefmt.h"
#include "directive/directive.h"
#include "item.pb-c.h"
#include "pki/pki.h"
#include "uplink/wire.h"

#define HELLO_TIMEOUT_MS 3000
#define HEARTBEAT_TIMEOUT_MS 3000
/* A big batch with blobs may take a while to commit at a loaded parent;
 * re-sending it early would only add load (re-delivery is harmless). */
#define PUSH_TIMEOUT_MS 15000
/* Batches in flight: enough to keep the parent's decoding, its commit and
 * our reading of the log busy at once (the parent takes CHAIN_SLOTS). */
#define PUSH_WINDOW 3
/* A DirSync may carry reports with attachments (EDU_DIR_BATCH_BYTES). */
#define DIRSYNC_TIMEOUT_MS 15000
#define RETRY_MIN_MS 100
#define RETRY_MAX_MS 2000
#define RECONNECT_MIN_MS 100
#define RECONNECT_MAX_MS 2000
#define META_ACKED "uplink.acked"
#define META_CERT_PREFIX "cert." /* written by the aggregator: origins' verified certificates */

enum { ST_CONNECTING, ST_ONLINE, ST_OFFLINE };
static const char *const state_names[] = {"connecting", "online", "offline"};

struct edu_uplink {
	edu_store *store;
	char *self_unit;
	char *parent_url;
	int heartbeat_ms;
	edu_uplink_collect_fn collect;
	void *collect_arg;
	const edu_pki_id *id;       /* NULL: test mode */
	edu_pki_verifier *verifier;
	char *parent_unit;          /* expected parent, or NULL */

	/* One handshake at a time: both threads share the pipe it binds. */
	pthread_mutex_t hs_mu;
	nng_socket sock;
	bool sock_open;
	nng_dialer dialer;
	nng_ctx push_ctx, hb_ctx, dir_ctx; /* push_ctx: the push thread's Hello */
	nng_aio *push_aio, *hb_aio, *dir_aio;
	/* The push thread's batches in flight: a ring in send order. */
	struct flight {
		nng_ctx ctx;
		nng_aio *aio;
		uint64_t upto;
		size_t n;
	} fl[PUSH_WINDOW];
	int fl_head, fl_n;
	edu_log_batch lb; /* push thread: the log read, reused */
	pthread_t push_thr, hb_thr, dir_thr;
	bool push_started, hb_started, dir_started;
	struct edu_dir *dirs;

	pthread_mutex_t mu; /* everything below */
	pthread_cond_t cv;  /* stop and retry waits */
	bool stopping;
	uint32_t cur_pipe;   /* the connected pipe, 0 when none */
	uint32_t hello_pipe; /* the pipe our Hello was accepted on */
	char bound_parent[41]; /* the unit hello_pipe is bound to (authenticated with [tls]) */
	int state;
	uint64_t acked;
	uint64_t backlog;
	int64_t oldest_ms;
	int64_t last_ack_ms;
};

static void set_state(edu_uplink *u, int st, const char *why)
{
	int old;
	pthread_mutex_lock(&u->mu);
	old = u->state;
	u->state = st;
	pthread_mutex_unlock(&u->mu);
	if (old != st) {
		if (st == ST_ONLINE)
			edu_log(LOG_NOTICE, "uplink: online with parent %s", u->parent_url);
		else
			edu_log(LOG_WARNING, "uplink: %s (parent %s): %s", state_names[st], u->parent_url,
			    why ? why : "");
	}
}

static bool stopping(edu_uplink *u)
{
	bool s;
	pthread_mutex_lock(&u->mu);
	s = u->stopping;
	pthread_mutex_unlock(&u->mu);
	return s;
}

/* Waits ms or until stop; returns true when stopping. */
static bool wait_ms(edu_uplink *u, int64_t ms)
{
	struct timespec ts;
	bool s;
	edu_time_deadline(&ts, CLOCK_REALTIME, ms);
	pthread_mutex_lock(&u->mu);
	while (!u->stopping && pthread_cond_timedwait(&u->cv, &u->mu, &ts) == 0)
		;
	s = u->stopping;
	pthread_mutex_unlock(&u->mu);
	return s;
}

static void pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	edu_uplink *u = arg;
	uint32_t id = nng_pipe_id(p);
	bool lost = false;
	pthread_mutex_lock(&u->mu);
	if (ev == NNG_PIPE_EV_ADD_POST) {
		u->cur_pipe = id;
	} else if (ev == NNG_PIPE_EV_REM_POST && u->cur_pipe == id) {
		u->cur_pipe = 0;
		lost = !u->stopping;
	}
	pthread_mutex_unlock(&u->mu);
	if (ev == NNG_PIPE_EV_ADD_POST)
		edu_log(LOG_INFO, "uplink: connected to %s", u->parent_url);
	if (lost)
		set_state(u, ST_OFFLINE, "connection lost");
}

/* One request/reply on ctx. On success *reply is the decoded answer (caller
 * frees); an Error reply becomes its edu_err with *code set. req is always
 * consumed. */
static edu_err reply_of(edu_uplink *u, nng_aio *aio, edu_wire_msg **reply, uint32_t *pipe_id, int *code);

static edu_err exchange(edu_uplink *u, nng_ctx ctx, nng_aio *aio, nng_msg *req, int timeout_ms,
    edu_wire_msg **reply, uint32_t *pipe_id, int *code)
{
	int r;

	*reply = NULL;
	*code = 0;
	nng_aio_set_msg(aio, req);
	nng_aio_set_timeout(aio, timeout_ms);
	nng_ctx_send(ctx, aio);
	nng_aio_wait(aio);
	if ((r = nng_aio_result(aio)) != 0) {
		nng_msg_free(nng_aio_get_msg(aio));
		nng_aio_set_msg(aio, NULL);
		return edu_err_from_nng(r);
	}
	nng_aio_set_timeout(aio, timeout_ms);
	nng_ctx_recv(ctx, aio);
	return reply_of(u, aio, reply, pipe_id, code);
}

/* The outcome of a receive on aio (waited for here), as exchange describes. */
static edu_err reply_of(edu_uplink *u, nng_aio *aio, edu_wire_msg **reply, uint32_t *pipe_id, int *code)
{
	nng_msg *m;
	int r;
	edu_err rv;
	char why[256];

	*reply = NULL;
	*code = 0;
	nng_aio_wait(aio);
	if ((r = nng_aio_result(aio)) != 0)
		return edu_err_from_nng(r);
	m = nng_aio_get_msg(aio);
	nng_aio_set_msg(aio, NULL);
	if (pipe_id)
		*pipe_id = nng_pipe_id(nng_msg_get_pipe(m));
	rv = edu_wire_decode(nng_msg_body(m), nng_msg_len(m), reply, why, sizeof why);
	nng_msg_free(m);
	if (rv != EDU_OK) {
		edu_log(LOG_WARNING, "uplink: bad reply from parent %s: %s", u->parent_url, why);
		return EDU_EPROTO;
	}
	if ((*reply)->body_case == EDUNET__WIRE__ENVELOPE__BODY_ERROR) {
		Edunet__Wire__Error *e = (*reply)->error;
		*code = e->code;
		switch (e->code) {
		case EDUNET__WIRE__ERROR__CODE__NOT_BOUND:
			rv = EDU_EPERM; /* callers look at *code and say Hello again */
			break;
		case EDUNET__WIRE__ERROR__CODE__REFUSED:
			rv = EDU_EPERM;
			break;
		case EDUNET__WIRE__ERROR__CODE__VERSION:
			rv = EDU_EVERSION;
			break;
		case EDUNET__WIRE__ERROR__CODE__TOO_BIG:
			rv = EDU_ETOOBIG;
			break;
		case EDUNET__WIRE__ERROR__CODE__INTERNAL:
			rv = EDU_EIO;
			break;
		case EDUNET__WIRE__ERROR__CODE__OUT_OF_ORDER:
		case EDUNET__WIRE__ERROR__CODE__BUSY:
			rv = EDU_EAGAIN; /* the push thread restarts its run */
			break;
		default:
			rv = EDU_EPROTO;
			break;
		}
		if (e->code != EDUNET__WIRE__ERROR__CODE__NOT_BOUND && rv != EDU_EAGAIN)
			edu_log(LOG_WARNING, "uplink: parent %s answered error %d: %s", u->parent_url, (int)e->code,
			    e->message);
		edu_wire_free(*reply);
		*reply = NULL;
		return rv;
	}
	return EDU_OK;
}

/* Checks the parent's side of the handshake: its certificate (chain, dates,
 * revocation, CN == parent_unit when configured, else CN == the unit it
 * claims) and its signature over our nonce. */
static edu_err check_parent(edu_uplink *u, const Edunet__Wire__HelloAck *ack, const uint8_t nonce[EDU_WIRE_NONCE_LEN])
{
	uint8_t pub[EDU_PKI_PUB_LEN], msg[EDU_WIRE_SIGNED_MAX];
	char why[256] = "";
	size_t n;
	edu_err rv;

	if (u->parent_unit && strcmp(u->parent_unit, ack->parent_unit) != 0) {
		edu_log(LOG_ERR, "uplink: parent %s says it is %s, but [uplink] parent_unit is %s; not sending anything",
		    u->parent_url, ack->parent_unit, u->parent_unit);
		return EDU_EPERM;
	}
	if (ack->challenge.len != EDU_WIRE_NONCE_LEN || ack->cert.len == 0 || ack->nonce_sig.len != EDU_WIRE_SIG_LEN) {
		edu_log(LOG_ERR, "uplink: parent %s (%s) runs without [tls] identity; this node has one and sends "
		    "only to an authenticated parent", u->parent_url, ack->parent_unit);
		return EDU_EPERM;
	}
	rv = edu_pki_verify_cert(u->verifier, ack->cert.data, ack->cert.len, ack->parent_unit, pub, why, sizeof why);
	if (rv != EDU_OK) {
		edu_log(LOG_ERR, "uplink: parent %s claiming to be %s: certificate refused: %s", u->parent_url,
		    ack->parent_unit, why);
		return EDU_EPERM;
	}
	n = edu_wire_handshake_msg(msg, EDU_WIRE_HELLO_CTX, u->self_unit, ack->parent_unit, nonce);
	if (!edu_pki_verify_sig(pub, msg, n, ack->nonce_sig.data)) {
		edu_log(LOG_ERR, "uplink: parent %s (%s): its signature over our nonce does not verify", u->parent_url,
		    ack->parent_unit);
		return EDU_EPERM;
	}
	return EDU_OK;
}

/* Binds the current pipe to our unit unless it already is (see the handshake
 * in proto/wire.proto). */
static edu_err ensure_hello(edu_uplink *u, nng_ctx ctx, nng_aio *aio)
{
	edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT, *reply = NULL, *reply2 = NULL;
	Edunet__Wire__Hello h = EDUNET__WIRE__HELLO__INIT;
	Edunet__Wire__Auth au = EDUNET__WIRE__AUTH__INIT;
	uint8_t nonce[EDU_WIRE_NONCE_LEN], msg[EDU_WIRE_SIGNED_MAX], sig[EDU_PKI_SIG_LEN];
	const uint8_t *der = NULL;
	size_t der_len = 0;
	nng_msg *m = NULL;
	uint32_t pipe_id = 0, pipe2 = 0;
	int code;
	bool need;
	edu_err rv;

	pthread_mutex_lock(&u->hs_mu);
	pthread_mutex_lock(&u->mu);
	need = u->hello_pipe == 0 || u->hello_pipe != u->cur_pipe;
	pthread_mutex_unlock(&u->mu);
	if (!need) {
		rv = EDU_OK;
		goto out;
	}
	h.unit = u->self_unit;
	h.software_version = EDU_SOFTWARE_VERSION;
	h.wire_version = EDU_WIRE_VERSION;
	if (u->id) {
		if ((rv = edu_pki_id_cert_der(u->id, &der, &der_len)) != EDU_OK)
			goto out;
		randombytes_buf(nonce, sizeof nonce);
		h.cert.data = (uint8_t *)der;
		h.cert.len = der_len;
		h.nonce.data = nonce;
		h.nonce.len = sizeof nonce;
	}
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_HELLO;
	env.hello = &h;
	if ((rv = edu_wire_to_nng(&env, &m)) != EDU_OK)
		goto out;
	rv = exchange(u, ctx, aio, m, HELLO_TIMEOUT_MS, &reply, &pipe_id, &code);
	if (rv != EDU_OK) {
		if (rv == EDU_EPERM)
			edu_log(LOG_ERR, "uplink: parent %s refused unit %s (see its answer above)", u->parent_url,
			    u->self_unit);
		goto out;
	}
	if (reply->body_case != EDUNET__WIRE__ENVELOPE__BODY_HELLO_ACK) {
		edu_log(LOG_WARNING, "uplink: parent %s answered Hello with message %d", u->parent_url,
		    (int)reply->body_case);
		rv = EDU_EPROTO;
		goto out;
	}
	if (!u->id) {
		if (reply->hello_ack->challenge.len) {
			edu_log(LOG_ERR, "uplink: parent %s (%s) requires a certificate; configure [tls] on this node",
			    u->parent_url, reply->hello_ack->parent_unit);
			rv = EDU_EPERM;
			goto out;
		}
		if (u->parent_unit && strcmp(u->parent_unit, reply->hello_ack->parent_unit) != 0) {
			edu_log(LOG_ERR, "uplink: parent %s says it is %s, but [uplink] parent_unit is %s", u->parent_url,
			    reply->hello_ack->parent_unit, u->parent_unit);
			rv = EDU_EPERM;
			goto out;
		}
	} else {
		if ((rv = check_parent(u, reply->hello_ack, nonce)) != EDU_OK)
			goto out;
		size_t n = edu_wire_handshake_msg(msg, EDU_WIRE_AUTH_CTX, reply->hello_ack->parent_unit, u->self_unit,
		    reply->hello_ack->challenge.data);
		edu_pki_sign(u->id, msg, n, sig);
		au.sig.data = sig;
		au.sig.len = sizeof sig;
		env.body_case = EDUNET__WIRE__ENVELOPE__BODY_AUTH;
		env.auth = &au;
		if ((rv = edu_wire_to_nng(&env, &m)) != EDU_OK)
			goto out;
		rv = exchange(u, ctx, aio, m, HELLO_TIMEOUT_MS, &reply2, &pipe2, &code);
		if (rv != EDU_OK) {
			if (rv == EDU_EPERM && code == EDUNET__WIRE__ERROR__CODE__REFUSED)
				edu_log(LOG_ERR, "uplink: parent %s refused our authentication", u->parent_url);
			goto out;
		}
		if (reply2->body_case != EDUNET__WIRE__ENVELOPE__BODY_AUTH_ACK || pipe2 != pipe_id) {
			edu_log(LOG_WARNING, "uplink: parent %s answered Auth with message %d", u->parent_url,
			    (int)reply2->body_case);
			rv = EDU_EPROTO;
			goto out;
		}
	}
	edu_log(LOG_INFO, "uplink: parent %s (%s%s) accepted %s", reply->hello_ack->parent_unit, u->parent_url,
	    u->id ? ", certificate verified" : ", unauthenticated test mode", u->self_unit);
	pthread_mutex_lock(&u->mu);
	u->hello_pipe = pipe_id;
	snprintf(u->bound_parent, sizeof u->bound_parent, "%s", reply->hello_ack->parent_unit);
	pthread_mutex_unlock(&u->mu);
	rv = EDU_OK;
out:
	pthread_mutex_unlock(&u->hs_mu);
	edu_wire_free(reply);
	edu_wire_free(reply2);
	sodium_memzero(sig, sizeof sig);
	return rv;
}

static void forget_hello(edu_uplink *u)
{
	pthread_mutex_lock(&u->mu);
	u->hello_pipe = 0;
	pthread_mutex_unlock(&u->mu);
}

static void refresh_backlog(edu_uplink *u)
{
	edu_store_rd *rd = NULL;
	uint64_t acked, count = 0;
	int64_t oldest = 0;
	pthread_mutex_lock(&u->mu);
	acked = u->acked;
	if (edu_store_log_head(u->store) <= acked) {
		/* Nothing waits (the usual case, checked every heartbeat): no read
		 * transaction, so an idle store can give its pages back. */
		u->backlog = 0;
		u->oldest_ms = 0;
		pthread_mutex_unlock(&u->mu);
		return;
	}
	pthread_mutex_unlock(&u->mu);
	if (edu_store_read_begin(u->store, &rd) != EDU_OK)
		return;
	if (edu_store_log_backlog(rd, acked, &count, &oldest) == EDU_OK) {
		pthread_mutex_lock(&u->mu);
		if (u->acked == acked) { /* else an ack raced us: the next refresh is exact */
			u->backlog = count;
			u->oldest_ms = count ? oldest : 0;
		}
		pthread_mutex_unlock(&u->mu);
	}
	edu_store_read_end(rd);
}

/* ---- push ------------------------------------------------------------- */

typedef struct batch {
	ProtobufCBinaryData *recs; /* point into u->lb */
	size_t n;
	Edunet__Wire__Blob *blobs;
	Edunet__Wire__Blob **blob_ptrs;
	uint8_t **blob_bufs;
	uint8_t (*shas)[32];
	size_t nb;
	uint64_t upto;
	size_t bytes;
	/* One certificate per distinct origin (signed mode only). */
	ProtobufCBinaryData *certs;
	uint8_t **cert_bufs;       /* owned copies, NULL for our own (borrowed from id) */
	char (*origins)[41];
	size_t ncerts, nori;
} batch;

static void batch_clear(batch *b)
{
	size_t i;
	for (i = 0; i < b->nb; i++)
		free(b->blob_bufs[i]);
	free(b->recs);
	free(b->blobs);
	free(b->blob_ptrs);
	free(b->blob_bufs);
	free(b->shas);
	for (i = 0; i < b->ncerts; i++)
		free(b->cert_bufs[i]);
	free(b->certs);
	free(b->cert_bufs);
	free(b->origins);
	memset(b, 0, sizeof *b);
}

static bool batch_has_blob(const batch *b, const uint8_t *sha)
{
	size_t i;
	for (i = 0; i < b->nb; i++)
		if (memcmp(b->shas[i], sha, 32) == 0)
			return true;
	return false;
}

/* Adds the certificate of origin (once per batch): ours from the identity,
 * others from what our aggregator verified and kept. An origin without a
 * known certificate travels without one: the parent rejects its records and
 * says why. */
static void batch_add_cert(edu_uplink *u, edu_store_rd *rd, batch *b, const char *origin)
{
	size_t i;
	char key[64];
	char *val = NULL;
	size_t len = 0;
	for (i = 0; i < b->nori; i++)
		if (strcmp(b->origins[i], origin) == 0)
			return;
	snprintf(b->origins[b->nori++], sizeof b->origins[0], "%s", origin);
	if (strcmp(origin, u->self_unit) == 0) {
		const uint8_t *der;
		if (edu_pki_id_cert_der(u->id, &der, &len) != EDU_OK)
			return;
		b->certs[b->ncerts].data = (uint8_t *)der;
		b->certs[b->ncerts].len = len;
		b->cert_bufs[b->ncerts++] = NULL;
		return;
	}
	snprintf(key, sizeof key, META_CERT_PREFIX "%s", origin);
	if (edu_store_meta_get(rd, key, &val, &len) != EDU_OK) {
		edu_log(LOG_WARNING, "uplink: no certificate of origin %s here; its records will be refused upstream",
		    origin);
		return;
	}
	b->certs[b->ncerts].data = (uint8_t *)val;
	b->certs[b->ncerts].len = len;
	b->cert_bufs[b->ncerts++] = (uint8_t *)val;
}

/* Adds the blobs the attachments of item need (read from the store) unless
 * the batch has them; false when EDU_WIRE_BLOBS_MAX would be passed. */
static bool batch_add_blobs(edu_store_rd *rd, batch *b, const uint8_t *item, size_t item_len)
{
	Edunet__Item *it = edu_wire_item_unpack(item, item_len);
	bool fits = true;
	size_t j;
	if (!it)
		return true; /* the parent will refuse the record and say why */
	if (!b->blobs) {
		b->blobs = calloc(EDU_WIRE_BLOBS_MAX, sizeof *b->blobs);
		b->blob_ptrs = calloc(EDU_WIRE_BLOBS_MAX, sizeof *b->blob_ptrs);
		b->blob_bufs = calloc(EDU_WIRE_BLOBS_MAX, sizeof *b->blob_bufs);
		b->shas = calloc(EDU_WIRE_BLOBS_MAX, sizeof *b->shas);
		if (!b->blobs || !b->blob_ptrs || !b->blob_bufs || !b->shas) {
			edu_wire_item_free(it);
			return false;
		}
	}
	for (j = 0; j < it->n_attachments; j++) {
		const ProtobufCBinaryData *sha = &it->attachments[j]->sha256;
		uint8_t *data = NULL;
		size_t len = 0;
		if (sha->len != 32 || batch_has_blob(b, sha->data))
			continue;
		if (b->nb >= EDU_WIRE_BLOBS_MAX) {
			fits = false;
			break;
		}
		if (edu_store_blob_get(rd, sha->data, &data, &len) != EDU_OK)
			continue; /* not here: the parent will say MISSING_BLOB if it lacks it too */
		edunet__wire__blob__init(&b->blobs[b->nb]);
		memcpy(b->shas[b->nb], sha->data, 32);
		b->blobs[b->nb].sha256.data = b->shas[b->nb];
		b->blobs[b->nb].sha256.len = 32;
		b->blobs[b->nb].data.data = data;
		b->blobs[b->nb].data.len = len;
		b->blob_ptrs[b->nb] = &b->blobs[b->nb];
		b->blob_bufs[b->nb] = data;
		b->nb++;
		b->bytes += len;
	}
	edu_wire_item_free(it);
	return fits;
}

/* Reads the next batch after `after`: records in log order, exactly as
 * stored (nothing decoded but the few fields edu_item_peek reads), each
 * followed by the blobs its attachments need, cut before a record whose
 * blobs would push the batch past EDU_WIRE_BATCH_BYTES (a first record
 * always goes). b's records point into u->lb until the next read. */
static edu_err batch_build(edu_uplink *u, uint64_t after, batch *b)
{
	edu_store_rd *rd = NULL;
	size_t n, i;
	edu_err rv;

	memset(b, 0, sizeof *b);
	if ((rv = edu_store_read_begin(u->store, &rd)) != EDU_OK)
		return rv;
	rv = edu_store_log_read(rd, after, EDU_WIRE_BATCH_RECORDS, EDU_WIRE_BATCH_BYTES, &u->lb);
	n = u->lb.n;
	if (rv != EDU_OK || n == 0)
		goto out;
	b->recs = calloc(n, sizeof *b->recs);
	b->certs = calloc(n, sizeof *b->certs);
	b->cert_bufs = calloc(n, sizeof *b->cert_bufs);
	b->origins = calloc(n, sizeof *b->origins);
	if (!b->recs || !b->certs || !b->cert_bufs || !b->origins) {
		rv = EDU_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		const edu_log_entry *e = &u->lb.e[i];
		size_t nb0 = b->nb, bytes0 = b->bytes;
		bool cut = false;

		b->bytes += e->record_len;
		if (u->id && edu_unit_id_valid(e->head.unit))
			batch_add_cert(u, rd, b, e->head.unit);
		if (e->head.n_attachments > 0)
			cut = !batch_add_blobs(rd, b, e->rec.item, e->rec.item_len);
		if (i > 0 && (cut || b->bytes > EDU_WIRE_BATCH_BYTES)) {
			/* leave this record (and the blobs just read for it) to the next batch */
			while (b->nb > nb0)
				free(b->blob_bufs[--b->nb]);
			b->bytes = bytes0;
			break;
		}
		b->recs[b->n].data = (uint8_t *)e->record;
		b->recs[b->n].len = e->record_len;
		b->n++;
		b->upto = e->log_seq;
	}
	rv = EDU_OK;
out:
	edu_store_read_end(rd);
	if (rv != EDU_OK)
		batch_clear(b);
	return rv;
}

static void ack_done(edu_store_batch *b, edu_err rv, void *arg)
{
	(void)arg;
	if (rv != EDU_OK) /* the parent has the batch; re-sending it after a restart is harmless */
		edu_log(LOG_ERR, "uplink: storing an ack failed: %s", edu_strerror(rv));
	edu_store_batch_free(b);
}

/* Takes the parent's ack: at once in memory; on disk (position and log trim,
 * one commit) without waiting, so the next batches go on meanwhile. */
static edu_err record_ack(edu_uplink *u, uint64_t upto)
{
	edu_store_batch *sb = NULL;
	char val[24];
	edu_err rv;
	int len = snprintf(val, sizeof val, "%" PRIu64, upto);
	if ((rv = edu_store_batch_new(&sb)) != EDU_OK)
		return rv;
	if ((rv = edu_store_batch_put_meta(sb, META_ACKED, val, (size_t)len)) != EDU_OK ||
	    (rv = edu_store_batch_trim_log(sb, upto)) != EDU_OK ||
	    (rv = edu_store_submit(u->store, sb, ack_done, NULL)) != EDU_OK) {
		edu_store_batch_free(sb);
		return rv;
	}
	pthread_mutex_lock(&u->mu);
	u->acked = upto;
	u->last_ack_ms = edu_time_now_ms();
	pthread_mutex_unlock(&u->mu);
	refresh_backlog(u); /* O(1) in the store: keeps oldest_unacked_ms current */
	return EDU_OK;
}

static void log_rejects(edu_uplink *u, const Edunet__Wire__PushAck *a)
{
	size_t i;
	for (i = 0; i < a->n_rejects; i++)
		edu_log(LOG_ERR, "uplink: parent rejected %s for good (%s, put result %u); it will not travel up",
		    a->rejects[i]->item_id, a->rejects[i]->reason[0] ? a->rejects[i]->reason : "no reason given",
		    a->rejects[i]->result);
}

/* Sends the next batch after *sent on a free flight slot and starts waiting
 * for its reply (not waited for here). EDU_ENOENT when the log has nothing
 * after *sent. */
static edu_err push_send(edu_uplink *u, uint64_t *sent, bool restart)
{
	edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT;
	Edunet__Wire__Push push = EDUNET__WIRE__PUSH__INIT;
	struct flight *f = &u->fl[(u->fl_head + u->fl_n) % PUSH_WINDOW];
	nng_msg *m = NULL;
	batch b;
	edu_err rv;
	int r;

	if ((rv = batch_build(u, *sent, &b)) != EDU_OK) {
		edu_log(LOG_ERR, "uplink: reading the change log failed: %s", edu_strerror(rv));
		return rv;
	}
	if (b.n == 0) { /* trimmed or raced */
		batch_clear(&b);
		return EDU_ENOENT;
	}
	push.upto = b.upto;
	push.after = *sent;
	push.restart = restart;
	push.n_records = b.n;
	push.records = b.recs;
	push.n_blobs = b.nb;
	push.blobs = b.blob_ptrs;
	push.n_certs = b.ncerts;
	push.certs = b.certs;
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_PUSH;
	env.push = &push;
	rv = edu_wire_to_nng(&env, &m);
	if (rv != EDU_OK) {
		edu_log(LOG_ERR, "uplink: encoding a batch after %" PRIu64 " failed: %s", *sent, edu_strerror(rv));
		batch_clear(&b);
		return rv;
	}
	f->upto = b.upto;
	f->n = b.n;
	batch_clear(&b);
	nng_aio_set_msg(f->aio, m);
	nng_aio_set_timeout(f->aio, PUSH_TIMEOUT_MS);
	nng_ctx_send(f->ctx, f->aio);
	nng_aio_wait(f->aio);
	if ((r = nng_aio_result(f->aio)) != 0) {
		nng_msg_free(nng_aio_get_msg(f->aio));
		nng_aio_set_msg(f->aio, NULL);
		return edu_err_from_nng(r);
	}
	nng_aio_set_timeout(f->aio, PUSH_TIMEOUT_MS);
	nng_ctx_recv(f->ctx, f->aio);
	u->fl_n++;
	*sent = f->upto;
	return EDU_OK;
}

/* Waits for the oldest batch in flight and takes its ack. On EDU_OK the
 * batch left the window; on an error the caller ends the run. */
static edu_err push_complete(edu_uplink *u, int *code)
{
	struct flight *f = &u->fl[u->fl_head];
	edu_wire_msg *reply = NULL;
	edu_err rv = reply_of(u, f->aio, &reply, NULL, code);
	if (rv != EDU_OK)
		return rv;
	if (reply->body_case != EDUNET__WIRE__ENVELOPE__BODY_PUSH_ACK || reply->push_ack->acked != f->upto) {
		edu_log(LOG_WARNING, "uplink: parent answered a push up to %" PRIu64 " with message %d", f->upto,
		    (int)reply->body_case);
		edu_wire_free(reply);
		return EDU_EPROTO;
	}
	log_rejects(u, reply->push_ack);
	edu_wire_free(reply);
	u->fl_head = (u->fl_head + 1) % PUSH_WINDOW;
	u->fl_n--;
	if ((rv = record_ack(u, f->upto)) != EDU_OK)
		edu_log(LOG_ERR, "uplink: storing ack %" PRIu64 " failed: %s", f->upto, edu_strerror(rv));
	return EDU_OK; /* the parent has it either way */
}

/* Ends the run: abandons every batch in flight (their replies, if any come,
 * are dropped by nng: a context takes only the reply to its last request). */
static void push_abort(edu_uplink *u)
{
	while (u->fl_n > 0) {
		struct flight *f = &u->fl[u->fl_head];
		nng_aio_cancel(f->aio);
		nng_aio_wait(f->aio);
		nng_msg_free(nng_aio_get_msg(f->aio));
		nng_aio_set_msg(f->aio, NULL);
		u->fl_head = (u->fl_head + 1) % PUSH_WINDOW;
		u->fl_n--;
	}
	u->fl_head = 0;
}

static void *push_main(void *arg)
{
	edu_uplink *u = arg;
	pthread_setname_np(pthread_self(), "edu-push");
	int64_t backoff = RETRY_MIN_MS;
	uint64_t sent;        /* where the batches sent in this run end */
	bool restart = true;  /* the next batch starts a run (from acked) */

	pthread_mutex_lock(&u->mu);
	sent = u->acked;
	pthread_mutex_unlock(&u->mu);
	while (!stopping(u)) {
		int code = 0;
		edu_err rv;

		if (u->fl_n < PUSH_WINDOW && edu_store_log_head(u->store) > sent) {
			if (u->fl_n == 0 && (rv = ensure_hello(u, u->push_ctx, u->push_aio)) != EDU_OK) {
				if (rv == EDU_ECLOSED)
					break;
				set_state(u, ST_OFFLINE, edu_strerror(rv));
				goto retry;
			}
			rv = push_send(u, &sent, restart);
			if (rv == EDU_ENOENT && u->fl_n == 0)
				continue;
			if (rv == EDU_OK) {
				restart = false;
				continue; /* fill the window */
			}
			if (rv != EDU_ENOENT) {
				if (rv == EDU_ECLOSED)
					break;
				set_state(u, ST_OFFLINE, edu_strerror(rv));
				goto end_run;
			}
		}
		if (u->fl_n == 0) {
			pthread_mutex_lock(&u->mu);
			u->backlog = 0;
			u->oldest_ms = 0;
			pthread_mutex_unlock(&u->mu);
			/* woken by the next commit or by edu_uplink_stop; the timeout
			 * covers a stop that came just before this wait began */
			edu_store_log_wait(u->store, sent, 1000);
			continue;
		}
		rv = push_complete(u, &code);
		if (rv == EDU_OK) {
			set_state(u, ST_ONLINE, NULL);
			backoff = RETRY_MIN_MS;
			continue;
		}
		if (rv == EDU_ECLOSED)
			break;
		if (code == EDUNET__WIRE__ERROR__CODE__NOT_BOUND) {
			forget_hello(u);
			push_abort(u);
			pthread_mutex_lock(&u->mu);
			sent = u->acked;
			pthread_mutex_unlock(&u->mu);
			restart = true;
			continue; /* say Hello, then resend at once */
		}
		if (rv != EDU_EAGAIN)
			set_state(u, ST_OFFLINE, edu_strerror(rv));
	end_run:
		push_abort(u);
		pthread_mutex_lock(&u->mu);
		sent = u->acked;
		pthread_mutex_unlock(&u->mu);
		restart = true;
	retry:
		if (wait_ms(u, backoff))
			break;
		backoff = backoff * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : backoff * 2;
	}
	push_abort(u);
	return NULL;
}

/* ---- heartbeat -------------------------------------------------------- */

/* Used when the node gives no collect function: this node alone. */
static size_t own_status(edu_uplink *u, edu_node_status *out)
{
	edu_uplink_info info;
	memset(out, 0, sizeof *out);
	snprintf(out->unit, sizeof out->unit, "%s", u->self_unit);
	snprintf(out->version, sizeof out->version, "%s", EDU_SOFTWARE_VERSION);
	edu_uplink_get_info(u, &info);
	snprintf(out->uplink_state, sizeof out->uplink_state, "%s", info.state);
	out->backlog = info.backlog;
	out->oldest_unacked_ms = info.oldest_unacked_ms;
	out->last_ack_ms = info.last_ack_ms;
	out->reported_ms = edu_time_now_ms();
	return 1;
}

/* Grows the heartbeat's arrays to hold want statuses (capped at
 * EDU_WIRE_STATUSES_MAX); false when out of memory (the old ones stay). */
static bool hb_room(edu_node_status **st, Edunet__Wire__NodeStatus **pb, Edunet__Wire__NodeStatus ***pbp,
    size_t *cap, size_t want)
{
	void *a, *b, *c;
	if (want > EDU_WIRE_STATUSES_MAX)
		want = EDU_WIRE_STATUSES_MAX;
	if (want <= *cap)
		return true;
	if (!(a = realloc(*st, want * sizeof **st)))
		return false;
	*st = a;
	if (!(b = realloc(*pb, want * sizeof **pb)))
		return false;
	*pb = b;
	if (!(c = realloc(*pbp, want * sizeof **pbp)))
		return false;
	*pbp = c;
	memset(*st + *cap, 0, (want - *cap) * sizeof **st);
	*cap = want;
	return true;
}

static void *hb_main(void *arg)
{
	edu_uplink *u = arg;
	pthread_setname_np(pthread_self(), "edu-heartbeat");
	/* Room for the statuses: one for a school, the subtree for a parent;
	 * grown when a collect fills it (up to EDU_WIRE_STATUSES_MAX), not
	 * allocated at the maximum (5 MB every node would carry). */
	size_t cap = 0;
	edu_node_status *st = NULL;
	Edunet__Wire__NodeStatus *pb = NULL;
	Edunet__Wire__NodeStatus **pbp = NULL;

	if (!hb_room(&st, &pb, &pbp, &cap, 16)) {
		edu_log(LOG_ERR, "uplink: out of memory; heartbeats stopped");
		goto out;
	}
	while (!stopping(u)) {
		int64_t t0 = edu_time_mono_ms(), now;
		edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT, *reply = NULL;
		Edunet__Wire__Heartbeat hb = EDUNET__WIRE__HEARTBEAT__INIT;
		nng_msg *m = NULL;
		size_t n, i;
		int code;
		edu_err rv;

		refresh_backlog(u);
		for (;;) {
			n = u->collect ? u->collect(st, cap, u->collect_arg) : own_status(u, st);
			if (n < cap || cap == EDU_WIRE_STATUSES_MAX || !hb_room(&st, &pb, &pbp, &cap, cap * 2))
				break;
		}
		if (n == 0)
			n = own_status(u, st);
		now = edu_time_now_ms();
		for (i = 0; i < n; i++) {
			edu_wire_status_to_pb(&st[i], now, &pb[i]);
			pbp[i] = &pb[i];
		}
		pb[0].age_ms = 0; /* the first status is this node, now */
		hb.n_statuses = n;
		hb.statuses = pbp;
		env.body_case = EDUNET__WIRE__ENVELOPE__BODY_HEARTBEAT;
		env.heartbeat = &hb;
		if ((rv = ensure_hello(u, u->hb_ctx, u->hb_aio)) == EDU_OK && (rv = edu_wire_to_nng(&env, &m)) == EDU_OK) {
			rv = exchange(u, u->hb_ctx, u->hb_aio, m, HEARTBEAT_TIMEOUT_MS, &reply, NULL, &code);
			if (rv == EDU_OK && reply->body_case == EDUNET__WIRE__ENVELOPE__BODY_HEARTBEAT_ACK) {
				set_state(u, ST_ONLINE, NULL);
			} else if (rv == EDU_OK) {
				set_state(u, ST_OFFLINE, "unexpected heartbeat reply");
			} else if (code == EDUNET__WIRE__ERROR__CODE__NOT_BOUND) {
				forget_hello(u);
				edu_wire_free(reply);
				continue;
			}
			edu_wire_free(reply);
		}
		if (rv == EDU_ECLOSED)
			break;
		if (rv != EDU_OK) {
			bool connected;
			pthread_mutex_lock(&u->mu);
			connected = u->cur_pipe != 0;
			pthread_mutex_unlock(&u->mu);
			/* nng does not report a failed TLS handshake; say what it may be */
			set_state(u, ST_OFFLINE, rv != EDU_ETIMEDOUT ? edu_strerror(rv)
			    : connected ? "no reply within 3 s"
			    : strncmp(u->parent_url, "tls+", 4) == 0
			    ? "no connection (parent down, or the TLS handshake failed: check [tls] ca and certificates)"
			    : "no connection (parent down?)");
		}
		if (wait_ms(u, u->heartbeat_ms - (edu_time_mono_ms() - t0)))
			break;
	}
out:
	free(st);
	free(pb);
	free(pbp);
	return NULL;
}

/* ---- directives ------------------------------------------------------- */

/* One DirSync exchange: our queued receipt events up, the parent's new
 * directives for our subtree down (committed before the cursor moves).
 * Returns EDU_OK when the parent answered. *more: call again at once. */
static edu_err dir_sync_once(edu_uplink *u, bool *more)
{
	edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT, *reply = NULL;
	Edunet__Wire__DirSync req;
	nng_msg *m = NULL;
	uint64_t upto = 0;
	uint32_t pipe_id = 0;
	char parent[41] = "";
	int code = 0;
	edu_err rv;

	*more = false;
	if ((rv = edu_dir_sync_build(u->dirs, &req, &upto)) != EDU_OK) {
		edu_log(LOG_ERR, "uplink: reading the directive store failed: %s", edu_strerror(rv));
		return rv;
	}
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_DIR_SYNC;
	env.dir_sync = &req;
	rv = edu_wire_to_nng(&env, &m);
	size_t n_sent = req.n_receipts;
	edu_dir_sync_free(&req);
	if (rv != EDU_OK)
		return rv;
	rv = exchange(u, u->dir_ctx, u->dir_aio, m, DIRSYNC_TIMEOUT_MS, &reply, &pipe_id, &code);
	if (rv != EDU_OK) {
		if (code == EDUNET__WIRE__ERROR__CODE__NOT_BOUND)
			forget_hello(u);
		return rv;
	}
	/* Directives are checked against the unit this very pipe was bound to. */
	pthread_mutex_lock(&u->mu);
	if (pipe_id != 0 && pipe_id == u->hello_pipe)
		snprintf(parent, sizeof parent, "%s", u->bound_parent);
	pthread_mutex_unlock(&u->mu);
	if (!parent[0]) {
		edu_log(LOG_WARNING, "uplink: a directive sync answer came on a connection that is not bound; ignored");
		edu_wire_free(reply);
		forget_hello(u);
		return EDU_EPROTO;
	}
	if (reply->body_case != EDUNET__WIRE__ENVELOPE__BODY_DIR_SYNC_ACK) {
		edu_log(LOG_WARNING, "uplink: parent answered a directive sync with message %d", (int)reply->body_case);
		edu_wire_free(reply);
		return EDU_EPROTO;
	}
	if (reply->dir_sync_ack->receipts_refused)
		edu_log(LOG_ERR, "uplink: parent refused %u receipt event(s) for good (see its log)",
		    reply->dir_sync_ack->receipts_refused);
	rv = edu_dir_sync_apply(u->dirs, reply->dir_sync_ack, upto, n_sent, parent);
	if (rv == EDU_OK)
		*more = reply->dir_sync_ack->n_directives > 0 || n_sent >= EDU_DIR_BATCH_RECORDS;
	else
		edu_log(LOG_ERR, "uplink: storing directives from the parent failed: %s", edu_strerror(rv));
	edu_wire_free(reply);
	return rv;
}

static void *dir_main(void *arg)
{
	edu_uplink *u = arg;
	pthread_setname_np(pthread_self(), "edu-dirsync");
	uint64_t gen = 0;
	int64_t backoff = RETRY_MIN_MS;
	while (!stopping(u)) {
		bool more = false;
		edu_err rv = ensure_hello(u, u->dir_ctx, u->dir_aio);
		if (rv == EDU_OK)
			rv = dir_sync_once(u, &more);
		if (rv == EDU_ECLOSED || stopping(u))
			break;
		if (rv != EDU_OK) {
			if (wait_ms(u, backoff))
				break;
			backoff = backoff * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : backoff * 2;
			continue;
		}
		backoff = RETRY_MIN_MS;
		if (more)
			continue;
		/* Poll the parent every heartbeat; go at once when we queue a receipt. */
		edu_dir_wait(u->dirs, &gen, u->heartbeat_ms);
	}
	return NULL;
}

/* ---- lifecycle -------------------------------------------------------- */

static edu_err load_acked(edu_store *s, uint64_t *acked)
{
	edu_store_rd *rd = NULL;
	char *val = NULL, *end;
	size_t len = 0;
	edu_err rv;
	*acked = 0;
	if ((rv = edu_store_read_begin(s, &rd)) != EDU_OK)
		return rv;
	rv = edu_store_meta_get(rd, META_ACKED, &val, &len);
	edu_store_read_end(rd);
	if (rv == EDU_ENOENT)
		return EDU_OK;
	if (rv != EDU_OK)
		return rv;
	*acked = strtoull(val, &end, 10);
	if (end == val || *end) {
		edu_log(LOG_ERR, "uplink: meta %s is corrupt (\"%.30s\")", META_ACKED, val);
		rv = EDU_EIO;
	}
	free(val);
	return rv;
}

#define NNG_TRY(call)                                                                  \
	do {                                                                           \
		int r_ = (call);                                                       \
		if (r_ != 0) {                                                         \
			edu_log(LOG_ERR, "uplink: %s: %s", #call, nng_strerror(r_));   \
			rv = edu_err_from_nng(r_);                                     \
			goto out;                                                      \
		}                                                                      \
	} while (0)

edu_err edu_uplink_start(edu_uplink **out, const edu_uplink_opts *o)
{
	edu_uplink *u;
	edu_err rv = EDU_OK;

	*out = NULL;
	if (!o || !o->store || !o->self_unit || !o->parent_url)
		return EDU_EINVAL;
	if (!(u = calloc(1, sizeof *u)))
		return EDU_ENOMEM;
	pthread_mutex_init(&u->mu, NULL);
	pthread_cond_init(&u->cv, NULL);
	u->store = o->store;
	u->heartbeat_ms = o->heartbeat_ms > 0 ? o->heartbeat_ms : 1000;
	u->collect = o->collect;
	u->collect_arg = o->collect_arg;
	u->id = o->id;
	u->verifier = o->verifier;
	u->dirs = o->dirs;
	pthread_mutex_init(&u->hs_mu, NULL);
	u->state = ST_CONNECTING;
	u->self_unit = strdup(o->self_unit);
	u->parent_url = strdup(o->parent_url);
	if (!u->self_unit || !u->parent_url || (o->parent_unit && !(u->parent_unit = strdup(o->parent_unit)))) {
		rv = EDU_ENOMEM;
		goto out;
	}
	if (u->id && !u->verifier) {
		edu_log(LOG_ERR, "uplink: an identity needs a verifier for the parent's certificate");
		rv = EDU_EINVAL;
		goto out;
	}
	if ((rv = load_acked(u->store, &u->acked)) != EDU_OK)
		goto out;
	NNG_TRY(nng_req0_open(&u->sock));
	u->sock_open = true;
	NNG_TRY(nng_socket_set_size(u->sock, NNG_OPT_RECVMAXSZ, EDU_WIRE_MSG_MAX));
	NNG_TRY(nng_socket_set_ms(u->sock, NNG_OPT_RECONNMINT, RECONNECT_MIN_MS));
	NNG_TRY(nng_socket_set_ms(u->sock, NNG_OPT_RECONNMAXT, RECONNECT_MAX_MS));
	/* We time out and re-send ourselves (after saying Hello on a new pipe). */
	NNG_TRY(nng_socket_set_ms(u->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE));
	NNG_TRY(nng_pipe_notify(u->sock, NNG_PIPE_EV_ADD_POST, pipe_cb, u));
	NNG_TRY(nng_pipe_notify(u->sock, NNG_PIPE_EV_REM_POST, pipe_cb, u));
	NNG_TRY(nng_ctx_open(&u->push_ctx, u->sock));
	for (int i = 0; i < PUSH_WINDOW; i++) {
		NNG_TRY(nng_ctx_open(&u->fl[i].ctx, u->sock));
		NNG_TRY(nng_aio_alloc(&u->fl[i].aio, NULL, NULL));
	}
	NNG_TRY(nng_ctx_open(&u->hb_ctx, u->sock));
	NNG_TRY(nng_aio_alloc(&u->push_aio, NULL, NULL));
	NNG_TRY(nng_aio_alloc(&u->hb_aio, NULL, NULL));
	if (u->dirs) {
		NNG_TRY(nng_ctx_open(&u->dir_ctx, u->sock));
		NNG_TRY(nng_aio_alloc(&u->dir_aio, NULL, NULL));
	}
	NNG_TRY(nng_dialer_create(&u->dialer, u->sock, u->parent_url));
	if (strncmp(u->parent_url, "tls+", 4) == 0) {
		nng_tls_config *cfg = NULL;
		char why[256] = "";
		if ((rv = edu_pki_nng_tls(&cfg, NNG_TLS_MODE_CLIENT, o->tls_ca, o->tls_cert, o->tls_key, why,
		    sizeof why)) != EDU_OK) {
			edu_log(LOG_ERR, "uplink: TLS for %s: %s", u->parent_url, why);
			goto out;
		}
		int r = nng_dialer_set_ptr(u->dialer, NNG_OPT_TLS_CONFIG, cfg);
		nng_tls_config_free(cfg); /* the dialer holds its own reference */
		NNG_TRY(r);
	} else {
		edu_log(LOG_WARNING, "uplink: %s is plain tcp://: the link is not encrypted (test/demo only)",
		    u->parent_url);
	}
	/* Non-blocking: an absent parent is retried forever with backoff. */
	NNG_TRY(nng_dialer_start(u->dialer, NNG_FLAG_NONBLOCK));
	if (pthread_create(&u->push_thr, NULL, push_main, u) != 0) {
		rv = EDU_ENOMEM;
		goto out;
	}
	u->push_started = true;
	if (pthread_create(&u->hb_thr, NULL, hb_main, u) != 0) {
		rv = EDU_ENOMEM;
		goto out;
	}
	u->hb_started = true;
	if (u->dirs) {
		if (pthread_create(&u->dir_thr, NULL, dir_main, u) != 0) {
			rv = EDU_ENOMEM;
			goto out;
		}
		u->dir_started = true;
	}
	edu_log(LOG_INFO, "uplink: %s replicating to %s from log position %" PRIu64, u->self_unit, u->parent_url,
	    u->acked);
out:
	if (rv != EDU_OK) {
		edu_uplink_stop(u);
		return rv;
	}
	*out = u;
	return EDU_OK;
}

void edu_uplink_stop(edu_uplink *u)
{
	if (!u)
		return;
	pthread_mutex_lock(&u->mu);
	u->stopping = true;
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mu);
	edu_store_log_wake(u->store);
	/* Stop redialing first, then close the socket: that completes every
	 * pending aio with NNG_ECLOSED. */
	if (u->sock_open) {
		nng_dialer_close(u->dialer);
		nng_close(u->sock);
	}
	if (u->push_started)
		pthread_join(u->push_thr, NULL);
	if (u->hb_started)
		pthread_join(u->hb_thr, NULL);
	if (u->dir_started) {
		edu_dir_wake(u->dirs); /* its wait is on the directive store, not on u->cv */
		pthread_join(u->dir_thr, NULL);
	}
	nng_aio_free(u->dir_aio);
	nng_aio_free(u->push_aio);
	for (int i = 0; i < PUSH_WINDOW; i++)
		nng_aio_free(u->fl[i].aio);
	edu_store_log_batch_free(&u->lb);
	nng_aio_free(u->hb_aio);
	free(u->self_unit);
	free(u->parent_url);
	free(u->parent_unit);
	pthread_mutex_destroy(&u->hs_mu);
	pthread_cond_destroy(&u->cv);
	pthread_mutex_destroy(&u->mu);
	free(u);
}

void edu_uplink_get_info(edu_uplink *u, edu_uplink_info *info)
{
	uint64_t head;
	memset(info, 0, sizeof *info);
	if (!u) {
		snprintf(info->state, sizeof info->state, "none");
		return;
	}
	pthread_mutex_lock(&u->mu);
	snprintf(info->state, sizeof info->state, "%s", state_names[u->state]);
	/* log seqs are dense (the store trims only a prefix): exact and cheap */
	head = edu_store_log_head(u->store);
	info->backlog = head > u->acked ? head - u->acked : 0;
	info->oldest_unacked_ms = info->backlog ? u->oldest_ms : 0;
	info->last_ack_ms = u->last_ack_ms;
	info->acked = u->acked;
	pthread_mutex_unlock(&u->mu);
}
