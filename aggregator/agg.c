/* Aggregating node: registry, downlink (children push and heartbeat over nng
 * rep), last-known subtree status, and the topology / deployment views.
 *
 * Isolation: EDU_AGG_WORKERS rep contexts, each served by its own thread
 * doing blocking aio. nng delivers a request only once it has fully arrived,
 * so a slow or stopped child never holds a worker; a worker blocked in a
 * commit holds only itself; replies have a send deadline.
 *
 * Pipelining: a child keeps several Pushes in flight (node/uplink), so
 * workers decode and verify a child's batches in parallel, while each
 * child's batches are committed one after the other in its log order
 * (Push.after), keeping per-origin order (SPEC §6.2) even when a commit
 * fails. A child holds at most CHAIN_SLOTS workers at once. */
#include "agg.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/tls/tls.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <arpa/inet.h>

#include "core/log.h"
#include "core/timefmt.h"
#include "pki/pki.h"
#include "registry.h"
#include "directive/directive.h"
#include "uplink/wire.h"

#define EDU_AGG_WORKERS 16
#define REPLY_TIMEOUT_MS 5000
/* A unit is online when heard within this window (heartbeats every second,
 * relayed once per level). */
#define EDU_AGG_ONLINE_MS 5000
/* Deployed but silent for this long: "stale" in the deployment report. */
#define EDU_AGG_STALE_MS (24LL * 3600 * 1000)
/* Last-known statuses are persisted (meta "agg.status.<unit>") at most this often per unit. */
#define PERSIST_EVERY_MS 30000
#define META_STATUS_PREFIX "agg.status."
/* Verified certificates of origins, by unit: later batches may omit them and
 * our own uplink forwards them (node/uplink reads the same key). */
#define META_CERT_PREFIX "cert."
/* Refusals are logged at most this many lines per minute per reason. */
#define REFUSAL_LOGS_PER_MIN 20
#define REASON_MAX 200

/* A child's pushes being handled (see Pipelining above). */
#define CHAIN_SLOTS 4          /* a child's batches handled at once; more are answered BUSY */
#define CHAIN_APPEAR_MS 200    /* a batch waits this long for a predecessor not yet here */
#define CHAIN_WAIT_MS 30000    /* and this long for one being handled */

typedef struct chain_slot {
	bool used, committing;
	uint64_t after, upto;
} chain_slot;

typedef struct chain {
	bool has_done;  /* done is where the child's committed batches end */
	uint64_t done;
	chain_slot slot[CHAIN_SLOTS];
} chain;

typedef struct unit_state {
	bool seen;
	int64_t last_seen_ms; /* local clock */
	int64_t persisted_ms;
	edu_node_status st;
} unit_state;

/* A pipe's handshake state: pending (Hello accepted, waiting for Auth) or
 * bound (may push and heartbeat). */
typedef struct bind {
	uint32_t pipe;
	nng_pipe np;
	int unit;
	bool bound;
	uint8_t challenge[EDU_WIRE_NONCE_LEN]; /* single use: wiped once answered */
	uint8_t pub[EDU_PKI_PUB_LEN];
	uint8_t *cert;      /* the child's certificate, for re-checks after a revocation reload */
	size_t cert_len;
} pipe_bind;

/* Why a peer or a record was refused: each has its own log rate limit. */
enum {
	RL_REGISTRY, /* unknown unit, wrong parent */
	RL_CERT,     /* certificate missing, invalid, revoked, other unit */
	RL_AUTH,     /* bad challenge signature, Auth without Hello */
	RL_NOT_BOUND,
	RL_RECORD,   /* per-record rejects */
	RL_DROP,     /* undecodable messages */
	RL_COUNT
};

typedef struct ratelim {
	int64_t window_ms;
	unsigned lines, suppressed;
} ratelim;

typedef struct cert_slot {
	uint8_t *der; /* owned; NULL: none known */
	size_t len;
	bool looked;  /* store meta consulted */
} cert_slot;

typedef struct worker {
	struct edu_agg *a;
	nng_ctx ctx;
	nng_aio *aio;
	pthread_t thr;
	bool started;
} worker;

struct edu_agg {
	edu_store *store;
	char *self_unit;
	int self_idx;
	edu_registry *reg;
	void (*self_status)(edu_node_status *out, void *arg);
	void *self_status_arg;

	pthread_mutex_t mu; /* us, binds */
	unit_state *us;     /* one per registry unit */
	pipe_bind *binds;
	size_t nbinds, capbinds;

	const edu_pki_id *id;       /* NULL: test mode */
	edu_pki_verifier *verifier;
	pthread_mutex_t cert_mu;    /* certs */
	cert_slot *certs;           /* one per registry unit */
	pthread_mutex_t rl_mu;      /* rl */
	ratelim rl[RL_COUNT];
	_Atomic uint64_t rejected_total;
	_Atomic uint64_t stale_total;

	_Atomic(struct edu_dir *) dirs;

	pthread_mutex_t chain_mu;  /* chains */
	pthread_cond_t chain_cv;   /* a slot was left or started committing */
	chain *chains;             /* one per registry unit */

	char *listen_url;
	nng_socket sock;
	bool sock_open;
	nng_listener listener;
	worker workers[EDU_AGG_WORKERS];
};

/* ---- refusal logging ---------------------------------------------------------- */

static void refusal_log(edu_agg *a, int reason, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void refusal_log(edu_agg *a, int reason, const char *fmt, ...)
{
	ratelim *r = &a->rl[reason];
	int64_t now = edu_time_mono_ms();
	unsigned suppressed = 0;
	bool say;
	char line[600];
	va_list ap;

	pthread_mutex_lock(&a->rl_mu);
	if (now - r->window_ms >= 60000) {
		suppressed = r->suppressed;
		r->window_ms = now;
		r->lines = 0;
		r->suppressed = 0;
	}
	say = r->lines < REFUSAL_LOGS_PER_MIN;
	if (say)
		r->lines++;
	else
		r->suppressed++;
	pthread_mutex_unlock(&a->rl_mu);
	if (suppressed)
		edu_log(LOG_WARNING, "downlink: %u similar refusals were not logged in the last minute", suppressed);
	if (!say)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	edu_log(LOG_WARNING, "downlink: %s", line);
}

/* ---- bindings ------------------------------------------------------------ */

/* The unit bound to pipe, or -1 when the pipe is not (yet) bound. */
static int bound_unit(edu_agg *a, uint32_t pipe)
{
	size_t i;
	int u = -1;
	pthread_mutex_lock(&a->mu);
	for (i = 0; i < a->nbinds; i++)
		if (a->binds[i].pipe == pipe) {
			if (a->binds[i].bound)
				u = a->binds[i].unit;
			break;
		}
	pthread_mutex_unlock(&a->mu);
	return u;
}

static void bind_clear(pipe_bind *b)
{
	free(b->cert);
	sodium_memzero(b, sizeof *b);
}

/* Sets pipe's state (replacing any earlier handshake on it). cert is copied. */
static edu_err bind_set(edu_agg *a, nng_pipe np, int unit, bool bound, const uint8_t *challenge,
    const uint8_t *pub, const uint8_t *cert, size_t cert_len)
{
	uint32_t pipe = nng_pipe_id(np);
	uint8_t *copy = NULL;
	pipe_bind *slot = NULL;
	size_t i;
	edu_err rv = EDU_OK;
	if (cert_len && !(copy = malloc(cert_len)))
		return EDU_ENOMEM;
	if (cert_len)
		memcpy(copy, cert, cert_len);
	pthread_mutex_lock(&a->mu);
	for (i = 0; i < a->nbinds; i++)
		if (a->binds[i].pipe == pipe) {
			slot = &a->binds[i];
			bind_clear(slot);
			break;
		}
	if (!slot) {
		if (a->nbinds == a->capbinds) {
			size_t nc = a->capbinds ? a->capbinds * 2 : 16;
			pipe_bind *nb = realloc(a->binds, nc * sizeof *nb);
			if (!nb) {
				rv = EDU_ENOMEM;
				free(copy);
				goto out;
			}
			a->binds = nb;
			a->capbinds = nc;
		}
		slot = &a->binds[a->nbinds++];
	}
	memset(slot, 0, sizeof *slot);
	slot->pipe = pipe;
	slot->np = np;
	slot->unit = unit;
	slot->bound = bound;
	if (challenge)
		memcpy(slot->challenge, challenge, sizeof slot->challenge);
	if (pub)
		memcpy(slot->pub, pub, sizeof slot->pub);
	slot->cert = copy;
	slot->cert_len = cert_len;
out:
	pthread_mutex_unlock(&a->mu);
	return rv;
}

static void bind_remove_locked(edu_agg *a, size_t i)
{
	bind_clear(&a->binds[i]);
	a->binds[i] = a->binds[--a->nbinds];
}

/* Takes the pending handshake of pipe: its unit (-1 when none), challenge and
 * key. The challenge is wiped so it answers exactly one Auth. */
static int bind_take_pending(edu_agg *a, uint32_t pipe, uint8_t challenge[EDU_WIRE_NONCE_LEN],
    uint8_t pub[EDU_PKI_PUB_LEN])
{
	size_t i;
	int u = -1;
	static const uint8_t zero[EDU_WIRE_NONCE_LEN];
	pthread_mutex_lock(&a->mu);
	for (i = 0; i < a->nbinds; i++)
		if (a->binds[i].pipe == pipe) {
			pipe_bind *b = &a->binds[i];
			if (!b->bound && memcmp(b->challenge, zero, sizeof zero) != 0) {
				u = b->unit;
				memcpy(challenge, b->challenge, EDU_WIRE_NONCE_LEN);
				memcpy(pub, b->pub, EDU_PKI_PUB_LEN);
				sodium_memzero(b->challenge, sizeof b->challenge);
			}
			break;
		}
	pthread_mutex_unlock(&a->mu);
	return u;
}

/* Finishes a handshake: bound, or forgotten when refused. */
static void bind_finish(edu_agg *a, uint32_t pipe, bool ok)
{
	size_t i;
	pthread_mutex_lock(&a->mu);
	for (i = 0; i < a->nbinds; i++)
		if (a->binds[i].pipe == pipe) {
			if (ok)
				a->binds[i].bound = true;
			else
				bind_remove_locked(a, i);
			break;
		}
	pthread_mutex_unlock(&a->mu);
}

static void pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	edu_agg *a = arg;
	uint32_t id = nng_pipe_id(p);
	size_t i;
	int unit = -1;
	if (ev != NNG_PIPE_EV_REM_POST)
		return;
	pthread_mutex_lock(&a->mu);
	for (i = 0; i < a->nbinds; i++)
		if (a->binds[i].pipe == id) {
			if (a->binds[i].bound)
				unit = a->binds[i].unit;
			bind_remove_locked(a, i);
			break;
		}
	pthread_mutex_unlock(&a->mu);
	if (unit >= 0)
		edu_log(LOG_INFO, "downlink: child %s disconnected", edu_registry_unit(a->reg, unit)->id);
}

static void peer_addr(nng_pipe p, char *out, size_t len)
{
	nng_sockaddr sa;
	snprintf(out, len, "?");
	if (nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) != 0)
		return;
	if (sa.s_family == NNG_AF_INET) {
		const uint8_t *b = (const uint8_t *)&sa.s_in.sa_addr;
		snprintf(out, len, "%u.%u.%u.%u:%u", b[0], b[1], b[2], b[3], (unsigned)ntohs(sa.s_in.sa_port));
	} else if (sa.s_family == NNG_AF_INET6) {
		snprintf(out, len, "[ipv6]:%u", (unsigned)ntohs(sa.s_in6.sa_port));
	}
}

/* ---- status ---------------------------------------------------------------- */

static void persist_statuses(edu_agg *a, const int *idx, size_t n);

static void status_done(edu_store_batch *b, edu_err rv, void *arg)
{
	if (rv != EDU_OK)
		edu_log(LOG_WARNING, "downlink: saving child statuses failed: %s", edu_strerror(rv));
	edu_store_batch_free(b);
}

/* Stores what we know about units idx[0..n) in meta, asynchronously: the
 * heartbeat reply does not wait for the disk. */
static void persist_statuses(edu_agg *a, const int *idx, size_t n)
{
	edu_store_batch *b = NULL;
	size_t i, added = 0;
	if (n == 0 || edu_store_batch_new(&b) != EDU_OK)
		return;
	for (i = 0; i < n; i++) {
		char key[64], *js;
		json_t *o;
		unit_state s;
		pthread_mutex_lock(&a->mu);
		s = a->us[idx[i]];
		pthread_mutex_unlock(&a->mu);
		o = json_pack("{s:I,s:s,s:s,s:I,s:I,s:I,s:s,s:I}", "last_seen_ms", (json_int_t)s.last_seen_ms, "role",
		    s.st.role, "version", s.st.version, "uptime_s", (json_int_t)s.st.uptime_s, "items_total",
		    (json_int_t)s.st.items_total, "items_own", (json_int_t)s.st.items_own, "uplink_state",
		    s.st.uplink_state, "backlog", (json_int_t)s.st.backlog);
		js = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		if (!js)
			continue;
		snprintf(key, sizeof key, META_STATUS_PREFIX "%s", edu_registry_unit(a->reg, idx[i])->id);
		if (edu_store_batch_put_meta(b, key, js, strlen(js)) == EDU_OK)
			added++;
		free(js);
	}
	if (!added || edu_store_submit(a->store, b, status_done, NULL) != EDU_OK)
		edu_store_batch_free(b);
}

static void load_statuses(edu_agg *a)
{
	edu_store_rd *rd = NULL;
	size_t i, n = edu_registry_count(a->reg);
	if (edu_store_read_begin(a->store, &rd) != EDU_OK)
		return;
	for (i = 0; i < n; i++) {
		const edu_reg_unit *ru = edu_registry_unit(a->reg, (int)i);
		char key[64], *val = NULL;
		size_t len = 0;
		json_t *o;
		json_int_t seen = 0, up = 0, tot = 0, own = 0, bl = 0;
		const char *role = "", *ver = "", *ust = "";
		if ((int)i == a->self_idx)
			continue;
		snprintf(key, sizeof key, META_STATUS_PREFIX "%s", ru->id);
		if (edu_store_meta_get(rd, key, &val, &len) != EDU_OK)
			continue;
		o = json_loadb(val, len, 0, NULL);
		free(val);
		if (!o || json_unpack(o, "{s:I,s:s,s:s,s:I,s:I,s:I,s:s,s:I}", "last_seen_ms", &seen, "role", &role,
		    "version", &ver, "uptime_s", &up, "items_total", &tot, "items_own", &own, "uplink_state", &ust,
		    "backlog", &bl) != 0) {
			edu_log(LOG_WARNING, "agg: ignoring unreadable saved status of %s", ru->id);
			json_decref(o);
			continue;
		}
		a->us[i].seen = true;
		a->us[i].last_seen_ms = seen;
		a->us[i].persisted_ms = seen;
		snprintf(a->us[i].st.unit, sizeof a->us[i].st.unit, "%s", ru->id);
		snprintf(a->us[i].st.role, sizeof a->us[i].st.role, "%s", role);
		snprintf(a->us[i].st.version, sizeof a->us[i].st.version, "%s", ver);
		snprintf(a->us[i].st.uplink_state, sizeof a->us[i].st.uplink_state, "%s", ust);
		a->us[i].st.uptime_s = up;
		a->us[i].st.items_total = (uint64_t)tot;
		a->us[i].st.items_own = (uint64_t)own;
		a->us[i].st.backlog = (uint64_t)bl;
		a->us[i].st.reported_ms = seen;
		json_decref(o);
	}
	edu_store_read_end(rd);
}

/* ---- request handlers -------------------------------------------------------- */

static nng_msg *err_reply(Edunet__Wire__Error__Code code, const char *msg)
{
	nng_msg *m = NULL;
	if (edu_wire_error_nng(&m, code, msg) != EDU_OK)
		return NULL;
	return m;
}

static nng_msg *on_hello(edu_agg *a, nng_pipe pipe, const Edunet__Wire__Hello *h)
{
	edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT;
	Edunet__Wire__HelloAck ack = EDUNET__WIRE__HELLO_ACK__INIT;
	uint8_t pub[EDU_PKI_PUB_LEN], challenge[EDU_WIRE_NONCE_LEN], msg[EDU_WIRE_SIGNED_MAX], sig[EDU_PKI_SIG_LEN];
	const uint8_t *der = NULL;
	size_t der_len = 0;
	nng_msg *m = NULL;
	char addr[64], msg_txt[300], why[256] = "";
	int idx = edu_registry_find(a->reg, h->unit);
	const edu_reg_unit *ru = edu_registry_unit(a->reg, idx);

	peer_addr(pipe, addr, sizeof addr);
	if (a->id) {
		edu_err rv;
		if (h->cert.len == 0) {
			refusal_log(a, RL_CERT, "refused %s from %s: no certificate (this node requires [tls] identities)",
			    h->unit, addr);
			snprintf(msg_txt, sizeof msg_txt, "%s requires a certificate of the province CA", a->self_unit);
			return err_reply(EDUNET__WIRE__ERROR__CODE__REFUSED, msg_txt);
		}
		rv = edu_pki_verify_cert(a->verifier, h->cert.data, h->cert.len, h->unit, pub, why, sizeof why);
		if (rv != EDU_OK) {
			refusal_log(a, RL_CERT, "refused %s from %s: certificate: %s", h->unit, addr, why);
			snprintf(msg_txt, sizeof msg_txt, "certificate refused for unit %s: %s", h->unit, why);
			return err_reply(EDUNET__WIRE__ERROR__CODE__REFUSED, msg_txt);
		}
	} else if (h->cert.len) {
		refusal_log(a, RL_CERT, "refused %s from %s: it presents a certificate but this node has no [tls] "
		    "identity to check it with (test mode)", h->unit, addr);
		snprintf(msg_txt, sizeof msg_txt, "%s runs without [tls] (test mode) and cannot verify certificates",
		    a->self_unit);
		return err_reply(EDUNET__WIRE__ERROR__CODE__REFUSED, msg_txt);
	}
	if (!ru) {
		refusal_log(a, RL_REGISTRY, "refused %s from %s: not in the units registry", h->unit, addr);
		snprintf(msg_txt, sizeof msg_txt, "unit %s is not in the units registry of %s", h->unit, a->self_unit);
		return err_reply(EDUNET__WIRE__ERROR__CODE__REFUSED, msg_txt);
	}
	if (ru->parent != a->self_idx) {
		const edu_reg_unit *p = edu_registry_unit(a->reg, ru->parent);
		refusal_log(a, RL_REGISTRY, "refused %s from %s: the registry places it under %s, not here", h->unit,
		    addr, p ? p->id : "(nothing: it is the root)");
		snprintf(msg_txt, sizeof msg_txt, "the registry places %s under %s, not %s", h->unit,
		    p ? p->id : "nothing", a->self_unit);
		return err_reply(EDUNET__WIRE__ERROR__CODE__REFUSED, msg_txt);
	}
	ack.parent_unit = a->self_unit;
	ack.time_ms = edu_time_now_ms();
	if (a->id) {
		/* Bound only once the child signs this pipe's challenge. */
		size_t n;
		randombytes_buf(challenge, sizeof challenge);
		if (bind_set(a, pipe, idx, false, challenge, pub, h->cert.data, h->cert.len) != EDU_OK ||
		    edu_pki_id_cert_der(a->id, &der, &der_len) != EDU_OK)
			return err_reply(EDUNET__WIRE__ERROR__CODE__INTERNAL, "out of memory");
		n = edu_wire_handshake_msg(msg, EDU_WIRE_HELLO_CTX, h->unit, a->self_unit, h->nonce.data);
		edu_pki_sign(a->id, msg, n, sig);
		ack.challenge.data = challenge;
		ack.challenge.len = sizeof challenge;
		ack.cert.data = (uint8_t *)der;
		ack.cert.len = der_len;
		ack.nonce_sig.data = sig;
		ack.nonce_sig.len = sizeof sig;
	} else {
		if (bind_set(a, pipe, idx, true, NULL, NULL, NULL, 0) != EDU_OK)
			return err_reply(EDUNET__WIRE__ERROR__CODE__INTERNAL, "out of memory");
		pthread_mutex_lock(&a->mu);
		a->us[idx].seen = true;
		a->us[idx].last_seen_ms = edu_time_now_ms();
		snprintf(a->us[idx].st.version, sizeof a->us[idx].st.version, "%s", h->software_version);
		pthread_mutex_unlock(&a->mu);
		edu_log(LOG_INFO, "downlink: child %s (%s, version %s) connected from %s (unauthenticated test mode)",
		    h->unit, ru->name, h->software_version, addr);
	}
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_HELLO_ACK;
	env.hello_ack = &ack;
	if (edu_wire_to_nng(&env, &m) != EDU_OK)
		m = NULL;
	sodium_memzero(challenge, sizeof challenge);
	return m;
}

/* The child's answer to our challenge: binds the pipe when its signature
 * verifies with the key of the certificate it presented. */
static nng_msg *on_auth(edu_agg *a, nng_pipe pipe, const Edunet__Wire__Auth *au)
{
	edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT;
	Edunet__Wire__AuthAck ack = EDUNET__WIRE__AUTH_ACK__INIT;
	uint8_t challenge[EDU_WIRE_NONCE_LEN], pub[EDU_PKI_PUB_LEN], msg[EDU_WIRE_SIGNED_MAX];
	nng_msg *m = NULL;
	char addr[64];
	const edu_reg_unit *ru;
	size_t n;
	int idx = bind_take_pending(a, nng_pipe_id(pipe), challenge, pub);

	peer_addr(pipe, addr, sizeof addr);
	if (idx < 0) {
		refusal_log(a, RL_AUTH, "Auth from %s without a pending Hello on its connection", addr);
		return err_reply(EDUNET__WIRE__ERROR__CODE__NOT_BOUND, "say Hello first");
	}
	ru = edu_registry_unit(a->reg, idx);
	n = edu_wire_handshake_msg(msg, EDU_WIRE_AUTH_CTX, a->self_unit, ru->id, challenge);
	if (!edu_pki_verify_sig(pub, msg, n, au->sig.data)) {
		bind_finish(a, nng_pipe_id(pipe), false);
		refusal_log(a, RL_AUTH, "refused %s from %s: its signature over our challenge does not verify", ru->id,
		    addr);
		return err_reply(EDUNET__WIRE__ERROR__CODE__REFUSED, "challenge signature does not verify");
	}
	bind_finish(a, nng_pipe_id(pipe), true);
	pthread_mutex_lock(&a->mu);
	a->us[idx].seen = true;
	a->us[idx].last_seen_ms = edu_time_now_ms();
	pthread_mutex_unlock(&a->mu);
	edu_log(LOG_INFO, "downlink: child %s (%s) authenticated from %s", ru->id, ru->name, addr);
	ack.time_ms = edu_time_now_ms();
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_AUTH_ACK;
	env.auth_ack = &ack;
	if (edu_wire_to_nng(&env, &m) != EDU_OK)
		m = NULL;
	return m;
}

/* ---- origin certificates ------------------------------------------------------ */

/* Our copy of unit idx's certificate (memory, else store meta); *der owned
 * by the caller. EDU_ENOENT when none is known. */
static edu_err cert_get(edu_agg *a, int idx, uint8_t **der, size_t *len)
{
	cert_slot *c = &a->certs[idx];
	edu_err rv = EDU_ENOENT;
	*der = NULL;
	pthread_mutex_lock(&a->cert_mu);
	if (!c->der && !c->looked) {
		edu_store_rd *rd = NULL;
		char key[64], *val = NULL;
		size_t vlen = 0;
		c->looked = true;
		snprintf(key, sizeof key, META_CERT_PREFIX "%s", edu_registry_unit(a->reg, idx)->id);
		if (edu_store_read_begin(a->store, &rd) == EDU_OK && edu_store_meta_get(rd, key, &val, &vlen) == EDU_OK &&
		    vlen > 0 && vlen <= EDU_WIRE_CERT_MAX) {
			c->der = (uint8_t *)val;
			c->len = vlen;
			val = NULL;
		}
		free(val);
		edu_store_read_end(rd);
	}
	if (c->der && (*der = malloc(c->len))) {
		memcpy(*der, c->der, c->len);
		*len = c->len;
		rv = EDU_OK;
	} else if (c->der) {
		rv = EDU_ENOMEM;
	}
	pthread_mutex_unlock(&a->cert_mu);
	return rv;
}

/* Remembers a verified certificate; true when it is new or changed (then
 * the caller also writes it to store meta). */
static bool cert_remember(edu_agg *a, int idx, const uint8_t *der, size_t len)
{
	cert_slot *c = &a->certs[idx];
	bool changed = false;
	uint8_t *copy;
	pthread_mutex_lock(&a->cert_mu);
	c->looked = true;
	if (!c->der || c->len != len || memcmp(c->der, der, len) != 0) {
		if ((copy = malloc(len))) {
			memcpy(copy, der, len);
			free(c->der);
			c->der = copy;
			c->len = len;
			changed = true;
		}
	}
	pthread_mutex_unlock(&a->cert_mu);
	return changed;
}

/* One origin's key for the current batch. */
typedef struct origin_key {
	int idx;
	bool ok;
	uint8_t pub[EDU_PKI_PUB_LEN];
	char why[160];
} origin_key;

typedef struct push_ctx {
	origin_key *keys;
	size_t n, cap;
} push_ctx;

static origin_key *key_find(push_ctx *pc, int idx)
{
	size_t i;
	for (i = 0; i < pc->n; i++)
		if (pc->keys[i].idx == idx)
			return &pc->keys[i];
	return NULL;
}

static origin_key *key_add(push_ctx *pc, int idx)
{
	if (pc->n == pc->cap) {
		size_t nc = pc->cap ? pc->cap * 2 : 8;
		origin_key *nk = realloc(pc->keys, nc * sizeof *nk);
		if (!nk)
			return NULL;
		pc->keys = nk;
		pc->cap = nc;
	}
	memset(&pc->keys[pc->n], 0, sizeof pc->keys[0]);
	pc->keys[pc->n].idx = idx;
	return &pc->keys[pc->n++];
}

/* Checks the certificates a batch carries: each must verify (chain, dates,
 * revocation) and name a unit of the sending child's subtree. Good ones
 * become this batch's keys and are kept (memory + meta in b). */
static void push_certs(edu_agg *a, int child, const Edunet__Wire__Push *p, push_ctx *pc, edu_store_batch *b)
{
	const edu_reg_unit *cu = edu_registry_unit(a->reg, child);
	size_t i;
	for (i = 0; i < p->n_certs; i++) {
		uint8_t pub[EDU_PKI_PUB_LEN];
		char unit[41] = "", why[160] = "", key[64];
		origin_key *k;
		int idx;
		if (edu_pki_verify_cert_unit(a->verifier, p->certs[i].data, p->certs[i].len, NULL, pub, unit, why,
		    sizeof why) != EDU_OK) {
			refusal_log(a, RL_CERT, "certificate %zu in a batch from %s refused: %s", i, cu->id, why);
			continue;
		}
		idx = edu_registry_find(a->reg, unit);
		if (idx < 0 || !edu_registry_is_under(a->reg, idx, child)) {
			refusal_log(a, RL_CERT, "batch from %s carries the certificate of %s, outside its subtree", cu->id,
			    unit);
			continue;
		}
		if (key_find(pc, idx) || !(k = key_add(pc, idx)))
			continue;
		k->ok = true;
		memcpy(k->pub, pub, sizeof pub);
		if (cert_remember(a, idx, p->certs[i].data, p->certs[i].len)) {
			snprintf(key, sizeof key, META_CERT_PREFIX "%s", unit);
			if (edu_store_batch_put_meta(b, key, p->certs[i].data, p->certs[i].len) != EDU_OK)
				edu_log(LOG_WARNING, "downlink: cannot keep the certificate of %s", unit);
		}
	}
}

/* The key of origin idx for this batch: from the batch's certificates, else
 * from the one we kept, re-verified now (revocation, dates). */
static origin_key *origin_key_of(edu_agg *a, push_ctx *pc, int idx)
{
	origin_key *k = key_find(pc, idx);
	uint8_t *der = NULL;
	size_t len = 0;
	if (k)
		return k;
	if (!(k = key_add(pc, idx)))
		return NULL;
	if (cert_get(a, idx, &der, &len) != EDU_OK) {
		snprintf(k->why, sizeof k->why, "no certificate of origin %s was sent or is known here",
		    edu_registry_unit(a->reg, idx)->id);
		return k;
	}
	if (edu_pki_verify_cert(a->verifier, der, len, edu_registry_unit(a->reg, idx)->id, k->pub, k->why,
	    sizeof k->why) == EDU_OK)
		k->ok = true;
	free(der);
	return k;
}

static const char *put_reason(edu_put_result r)
{
	switch (r) {
	case EDU_PUT_CONFLICT: return "same origin, seq and version with different content";
	case EDU_PUT_INVALID: return "the item is invalid";
	case EDU_PUT_MISSING_BLOB: return "an attachment's file is missing";
	default: return "refused by the store";
	}
}

/* ---- ordered pushes (see Pipelining at the top) -------------------------- */

/* Takes a slot for batch p of child; -1 when the child has CHAIN_SLOTS
 * batches in hand already. */
static int chain_enter(edu_agg *a, int child, const Edunet__Wire__Push *p)
{
	chain *c = &a->chains[child];
	int i, got = -1;
	pthread_mutex_lock(&a->chain_mu);
	for (i = 0; i < CHAIN_SLOTS && got < 0; i++) {
		if (!c->slot[i].used) {
			c->slot[i] = (chain_slot){.used = true, .after = p->after, .upto = p->upto};
			got = i;
		}
	}
	pthread_mutex_unlock(&a->chain_mu);
	return got;
}

/* Waits until batch `slot` may be committed: no other batch of the child
 * is committing, and it is a restart or its predecessor is committed. Then
 * marks it committing. false when its predecessor was not committed and is
 * not on its way (the child restarts its run from what it has acked). */
static bool chain_turn(edu_agg *a, int child, int slot, bool restart)
{
	chain *c = &a->chains[child];
	chain_slot *me = &c->slot[slot];
	int64_t t0 = edu_time_mono_ms();
	bool ok = false;
	pthread_mutex_lock(&a->chain_mu);
	for (;;) {
		bool busy = false, pred_here = false;
		int i;
		for (i = 0; i < CHAIN_SLOTS; i++) {
			if (i == slot || !c->slot[i].used)
				continue;
			busy |= c->slot[i].committing;
			pred_here |= c->slot[i].upto == me->after && c->slot[i].upto != 0;
		}
		if (!busy && (restart || (c->has_done && c->done == me->after))) {
			ok = true;
			break;
		}
		int64_t waited = edu_time_mono_ms() - t0;
		if (waited >= (pred_here || busy ? CHAIN_WAIT_MS : CHAIN_APPEAR_MS))
			break;
		struct timespec dl;
		edu_time_deadline(&dl, CLOCK_REALTIME, (pred_here || busy ? CHAIN_WAIT_MS : CHAIN_APPEAR_MS) - waited);
		pthread_cond_timedwait(&a->chain_cv, &a->chain_mu, &dl);
	}
	if (ok)
		me->committing = true;
	pthread_mutex_unlock(&a->chain_mu);
	return ok;
}

/* Frees the slot; a commit that was tried moves where the child stands. */
static void chain_leave(edu_agg *a, int child, int slot, bool committed)
{
	chain *c = &a->chains[child];
	pthread_mutex_lock(&a->chain_mu);
	if (c->slot[slot].committing) {
		c->has_done = committed;
		c->done = c->slot[slot].upto;
	}
	memset(&c->slot[slot], 0, sizeof c->slot[slot]);
	pthread_cond_broadcast(&a->chain_cv);
	pthread_mutex_unlock(&a->chain_mu);
}

/* "<unit>:<seq>" of a record, or "?" when it does not read, for a refusal. */
static void record_id(const ProtobufCBinaryData *r, char id[EDU_ITEM_ID_MAX])
{
	edu_record_ref ref;
	edu_item_head h;
	if (edu_record_view(r->data, r->len, &ref) == EDU_OK && edu_item_peek(ref.item, ref.item_len, &h))
		snprintf(id, EDU_ITEM_ID_MAX, "%s:%" PRIu64, h.unit, h.seq);
	else
		snprintf(id, EDU_ITEM_ID_MAX, "?");
}

static nng_msg *on_push(edu_agg *a, int child, const Edunet__Wire__Push *p)
{
	const edu_reg_unit *cu = edu_registry_unit(a->reg, child);
	edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT;
	Edunet__Wire__PushAck ack = EDUNET__WIRE__PUSH_ACK__INIT;
	Edunet__Wire__Reject *rej = NULL, **rejp = NULL;
	edu_store_batch *b = NULL;
	size_t *slot = NULL; /* record i -> put index in b, or SIZE_MAX when not put */
	char (*ids)[EDU_ITEM_ID_MAX] = NULL;
	char (*reasons)[REASON_MAX] = NULL;
	push_ctx pc = {0};
	size_t i, k = 0, nrej = 0;
	nng_msg *m = NULL;
	int cslot = -1;
	edu_err rv;

	if (p->restart || p->after != 0) { /* pipelined: see chain_turn */
		if ((cslot = chain_enter(a, child, p)) < 0)
			return err_reply(EDUNET__WIRE__ERROR__CODE__BUSY, "too many batches in flight");
	}
	slot = calloc(p->n_records + 1, sizeof *slot);
	ids = calloc(p->n_records + 1, sizeof *ids);
	reasons = calloc(p->n_records + 1, sizeof *reasons);
	rej = calloc(p->n_records + 1, sizeof *rej);
	rejp = calloc(p->n_records + 1, sizeof *rejp);
	if (!slot || !ids || !reasons || !rej || !rejp || edu_store_batch_new(&b) != EDU_OK) {
		m = err_reply(EDUNET__WIRE__ERROR__CODE__INTERNAL, "out of memory");
		goto out;
	}
	for (i = 0; i < p->n_blobs; i++) {
		uint8_t h[crypto_hash_sha256_BYTES];
		crypto_hash_sha256(h, p->blobs[i]->data.data, p->blobs[i]->data.len);
		if (memcmp(h, p->blobs[i]->sha256.data, 32) != 0) {
			refusal_log(a, RL_RECORD, "refused batch from %s: blob %zu does not match its sha256", cu->id, i);
			m = err_reply(EDUNET__WIRE__ERROR__CODE__PROTO, "blob does not match its sha256");
			goto out;
		}
		if ((rv = edu_store_batch_put_blob(b, p->blobs[i]->sha256.data, p->blobs[i]->data.data,
		    p->blobs[i]->data.len)) != EDU_OK) {
			m = err_reply(EDUNET__WIRE__ERROR__CODE__INTERNAL, edu_strerror(rv));
			goto out;
		}
	}
	if (a->verifier)
		push_certs(a, child, p, &pc, b);
	for (i = 0; i < p->n_records; i++) {
		edu_record_ref ref;
		edu_item_head h;
		edu_record rec;
		int origin;
		slot[i] = SIZE_MAX;
		/* Routing and signature checks read the record in place; the
		 * store decodes and validates the item once (put_record). */
		if (edu_record_view(p->records[i].data, p->records[i].len, &ref) != EDU_OK ||
		    !edu_item_peek(ref.item, ref.item_len, &h) || !edu_unit_id_valid(h.unit)) {
			snprintf(reasons[i], sizeof reasons[i], "undecodable record");
			goto reject;
		}
		origin = edu_registry_find(a->reg, h.unit);
		if (origin < 0 || !edu_registry_is_under(a->reg, origin, child)) {
			/* Identity (SPEC §6.5): a child speaks only for its own subtree. */
			snprintf(reasons[i], sizeof reasons[i], "origin %s is not in the subtree of %s (outside its subtree)",
			    h.unit, cu->id);
			goto reject;
		}
		memset(&rec, 0, sizeof rec);
		rec.item = (uint8_t *)ref.item; /* borrowed: put_record copies */
		rec.item_len = ref.item_len;
		rec.has_sig = ref.sig_len == sizeof rec.sig;
		if (rec.has_sig)
			memcpy(rec.sig, ref.sig, sizeof rec.sig);
		if (a->verifier) {
			origin_key *ok = origin_key_of(a, &pc, origin);
			if (!rec.has_sig) {
				snprintf(reasons[i], sizeof reasons[i], "unsigned record (this node requires origin signatures)");
				goto reject;
			}
			if (!ok) {
				snprintf(reasons[i], sizeof reasons[i], "out of memory");
				goto reject;
			}
			if (!ok->ok) {
				snprintf(reasons[i], sizeof reasons[i], "origin certificate: %s", ok->why);
				goto reject;
			}
			if (!edu_pki_verify_sig(ok->pub, rec.item, rec.item_len, rec.sig)) {
				snprintf(reasons[i], sizeof reasons[i], "origin signature of %s does not verify over the item",
				    h.unit);
				goto reject;
			}
		} else {
			rec.has_sig = false; /* test mode: nothing here could vouch for it */
		}
		rv = edu_store_batch_put_record(b, &rec);
		if (rv != EDU_OK) {
			m = err_reply(EDUNET__WIRE__ERROR__CODE__INTERNAL, edu_strerror(rv));
			goto out;
		}
		slot[i] = k++;
		continue;
	reject:
		record_id(&p->records[i], ids[i]); /* only for a refusal: most records have none */
		refusal_log(a, RL_RECORD, "rejected %s from %s: %s", ids[i], cu->id, reasons[i]);
		edunet__wire__reject__init(&rej[nrej]);
		rej[nrej].index = (uint32_t)i;
		rej[nrej].result = EDU_PUT_INVALID;
		rej[nrej].item_id = ids[i];
		rej[nrej].reason = reasons[i];
		rejp[nrej] = &rej[nrej];
		nrej++;
	}
	if (cslot >= 0 && !chain_turn(a, child, cslot, p->restart)) {
		m = err_reply(EDUNET__WIRE__ERROR__CODE__OUT_OF_ORDER, "the batch before this one is not here");
		goto out;
	}
	/* Durable before acknowledged (SPEC §6.1). */
	rv = edu_store_commit(a->store, b);
	if (cslot >= 0) {
		chain_leave(a, child, cslot, rv == EDU_OK);
		cslot = -1;
	}
	if (rv != EDU_OK) {
		edu_log(LOG_ERR, "downlink: committing a batch of %zu from %s failed: %s", p->n_records, cu->id,
		    edu_strerror(rv));
		m = err_reply(EDUNET__WIRE__ERROR__CODE__INTERNAL, edu_strerror(rv));
		goto out;
	}
	for (i = 0; i < p->n_records; i++) {
		edu_put_result r;
		if (slot[i] == SIZE_MAX)
			continue;
		r = edu_store_batch_result(b, slot[i], NULL);
		if (r == EDU_PUT_APPLIED || r == EDU_PUT_DUPLICATE)
			continue;
		record_id(&p->records[i], ids[i]);
		if (r == EDU_PUT_STALE) {
			/* a replay or a late copy of an older version: changes nothing */
			atomic_fetch_add(&a->stale_total, 1);
			edu_log(LOG_INFO, "downlink: %s from %s is older than the stored version; ignored", ids[i], cu->id);
			continue;
		}
		snprintf(reasons[i], sizeof reasons[i], "%s", put_reason(r));
		refusal_log(a, RL_RECORD, "rejected %s from %s: %s (put result %d)", ids[i], cu->id, reasons[i], (int)r);
		edunet__wire__reject__init(&rej[nrej]);
		rej[nrej].index = (uint32_t)i;
		rej[nrej].result = (uint32_t)r;
		rej[nrej].item_id = ids[i];
		rej[nrej].reason = reasons[i];
		rejp[nrej] = &rej[nrej];
		nrej++;
	}
	atomic_fetch_add(&a->rejected_total, nrej);
	pthread_mutex_lock(&a->mu);
	a->us[child].seen = true;
	a->us[child].last_seen_ms = edu_time_now_ms();
	pthread_mutex_unlock(&a->mu);
	ack.acked = p->upto;
	ack.n_rejects = nrej;
	ack.rejects = rejp;
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_PUSH_ACK;
	env.push_ack = &ack;
	if (edu_wire_to_nng(&env, &m) != EDU_OK)
		m = NULL;
out:
	if (cslot >= 0)
		chain_leave(a, child, cslot, false);
	edu_store_batch_free(b);
	free(pc.keys);
	free(slot);
	free(ids);
	free(reasons);
	free(rej);
	free(rejp);
	return m;
}

static nng_msg *on_heartbeat(edu_agg *a, int child, const Edunet__Wire__Heartbeat *h)
{
	const edu_reg_unit *cu = edu_registry_unit(a->reg, child);
	edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT;
	Edunet__Wire__HeartbeatAck ack = EDUNET__WIRE__HEARTBEAT_ACK__INIT;
	int64_t now = edu_time_now_ms();
	int *persist = NULL;
	size_t i, np = 0;
	nng_msg *m = NULL;

	if (strcmp(h->statuses[0]->unit, cu->id) != 0) {
		edu_log(LOG_WARNING, "downlink: heartbeat from %s starts with %s", cu->id, h->statuses[0]->unit);
		return err_reply(EDUNET__WIRE__ERROR__CODE__PROTO, "the first status must be the sender's own");
	}
	persist = malloc(h->n_statuses * sizeof *persist);
	pthread_mutex_lock(&a->mu);
	for (i = 0; i < h->n_statuses; i++) {
		int idx = edu_registry_find(a->reg, h->statuses[i]->unit);
		const edu_reg_unit *ru;
		unit_state *us;
		edu_node_status st;
		if (idx < 0 || !edu_registry_is_under(a->reg, idx, child))
			continue; /* not ours to report: ignored */
		ru = edu_registry_unit(a->reg, idx);
		edu_wire_status_from_pb(h->statuses[i], now, &st);
		if (i == 0)
			st.reported_ms = now;
		us = &a->us[idx];
		if (us->seen && st.reported_ms < us->last_seen_ms)
			continue; /* older news than we have */
		/* the registry, not the child, says where a unit sits */
		snprintf(st.parent, sizeof st.parent, "%s",
		    ru->parent >= 0 ? edu_registry_unit(a->reg, ru->parent)->id : "");
		us->st = st;
		us->seen = true;
		us->last_seen_ms = st.reported_ms;
		if (persist && now - us->persisted_ms >= PERSIST_EVERY_MS) {
			us->persisted_ms = now;
			persist[np++] = idx;
		}
	}
	pthread_mutex_unlock(&a->mu);
	if (persist)
		persist_statuses(a, persist, np);
	free(persist);
	ack.time_ms = now;
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_HEARTBEAT_ACK;
	env.heartbeat_ack = &ack;
	if (edu_wire_to_nng(&env, &m) != EDU_OK)
		return NULL;
	return m;
}

/* Directives down, receipts up (node/directive does the checks and commits). */
static nng_msg *on_dir_sync(edu_agg *a, int child, const Edunet__Wire__DirSync *req)
{
	edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT;
	Edunet__Wire__DirSyncAck ack;
	struct edu_dir *d = atomic_load(&a->dirs);
	nng_msg *m = NULL;
	edu_err rv;
	if (!d)
		return err_reply(EDUNET__WIRE__ERROR__CODE__INTERNAL, "directives are not ready here yet");
	rv = edu_dir_serve(d, edu_registry_unit(a->reg, child)->id, req, &ack);
	if (rv != EDU_OK) {
		edu_log(LOG_ERR, "downlink: directive sync with %s failed: %s", edu_registry_unit(a->reg, child)->id,
		    edu_strerror(rv));
		return err_reply(EDUNET__WIRE__ERROR__CODE__INTERNAL, edu_strerror(rv));
	}
	if (ack.receipts_refused)
		atomic_fetch_add(&a->rejected_total, ack.receipts_refused);
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_DIR_SYNC_ACK;
	env.dir_sync_ack = &ack;
	if (edu_wire_to_nng(&env, &m) != EDU_OK)
		m = err_reply(EDUNET__WIRE__ERROR__CODE__INTERNAL, "encoding the answer failed");
	edu_dir_serve_free(&ack);
	return m;
}

const struct edu_registry *edu_agg_registry(edu_agg *a)
{
	return a ? a->reg : NULL;
}

void edu_agg_set_dirs(edu_agg *a, struct edu_dir *d)
{
	if (a)
		atomic_store(&a->dirs, d);
}

/* Returns the reply, or NULL to send none (the pipe was closed). */
static nng_msg *handle(edu_agg *a, nng_msg *req)
{
	nng_pipe pipe = nng_msg_get_pipe(req);
	edu_wire_msg *m = NULL;
	nng_msg *reply = NULL;
	char why[256], addr[64];
	int child;
	edu_err rv;

	rv = edu_wire_decode(nng_msg_body(req), nng_msg_len(req), &m, why, sizeof why);
	if (rv == EDU_EVERSION) {
		peer_addr(pipe, addr, sizeof addr);
		edu_log(LOG_WARNING, "downlink: peer %s: %s", addr, why);
		return err_reply(EDUNET__WIRE__ERROR__CODE__VERSION, why);
	}
	if (rv != EDU_OK) {
		child = bound_unit(a, nng_pipe_id(pipe));
		peer_addr(pipe, addr, sizeof addr);
		refusal_log(a, RL_DROP, "dropping connection from %s (%s): %s", addr,
		    child >= 0 ? edu_registry_unit(a->reg, child)->id : "not identified", why);
		nng_pipe_close(pipe);
		return NULL;
	}
	if (m->body_case == EDUNET__WIRE__ENVELOPE__BODY_HELLO) {
		reply = on_hello(a, pipe, m->hello);
		goto out;
	}
	if (m->body_case == EDUNET__WIRE__ENVELOPE__BODY_AUTH) {
		reply = a->id ? on_auth(a, pipe, m->auth)
		    : err_reply(EDUNET__WIRE__ERROR__CODE__PROTO, "this node runs without [tls]: no Auth");
		goto out;
	}
	child = bound_unit(a, nng_pipe_id(pipe));
	if (child < 0) {
		peer_addr(pipe, addr, sizeof addr);
		refusal_log(a, RL_NOT_BOUND, "message %d from %s before its connection was bound", (int)m->body_case,
		    addr);
		reply = err_reply(EDUNET__WIRE__ERROR__CODE__NOT_BOUND, "say Hello first");
		goto out;
	}
	switch (m->body_case) {
	case EDUNET__WIRE__ENVELOPE__BODY_PUSH:
		reply = on_push(a, child, m->push);
		break;
	case EDUNET__WIRE__ENVELOPE__BODY_HEARTBEAT:
		reply = on_heartbeat(a, child, m->heartbeat);
		break;
	case EDUNET__WIRE__ENVELOPE__BODY_DIR_SYNC:
		reply = on_dir_sync(a, child, m->dir_sync);
		break;
	default:
		reply = err_reply(EDUNET__WIRE__ERROR__CODE__PROTO, "not a request");
		break;
	}
out:
	edu_wire_free(m);
	return reply;
}

static void *worker_main(void *arg)
{
	worker *w = arg;
	pthread_setname_np(pthread_self(), "edu-downlink");
	for (;;) {
		nng_msg *req, *reply;
		int r;
		nng_aio_set_timeout(w->aio, NNG_DURATION_INFINITE);
		nng_ctx_recv(w->ctx, w->aio);
		nng_aio_wait(w->aio);
		if ((r = nng_aio_result(w->aio)) != 0) {
			if (r == NNG_ECLOSED)
				break;
			continue;
		}
		req = nng_aio_get_msg(w->aio);
		nng_aio_set_msg(w->aio, NULL);
		reply = handle(w->a, req);
		nng_msg_free(req);
		if (!reply)
			continue;
		nng_aio_set_msg(w->aio, reply);
		nng_aio_set_timeout(w->aio, REPLY_TIMEOUT_MS);
		nng_ctx_send(w->ctx, w->aio);
		nng_aio_wait(w->aio);
		if ((r = nng_aio_result(w->aio)) != 0) {
			nng_msg_free(nng_aio_get_msg(w->aio));
			nng_aio_set_msg(w->aio, NULL);
			if (r == NNG_ECLOSED)
				break;
		}
	}
	return NULL;
}

/* ---- lifecycle --------------------------------------------------------------- */

#define NNG_TRY(call)                                                                         \
	do {                                                                                  \
		int r_ = (call);                                                              \
		if (r_ != 0) {                                                                \
			snprintf(why, whylen, "downlink %s: %s", a->listen_url, nng_strerror(r_)); \
			edu_log(LOG_ERR, "agg: %s: %s", #call, nng_strerror(r_));             \
			rv = edu_err_from_nng(r_);                                            \
			goto out;                                                             \
		}                                                                             \
	} while (0)

edu_err edu_agg_start(edu_agg **out, const edu_agg_opts *o, char *why, size_t whylen)
{
	edu_agg *a;
	edu_err rv = EDU_OK;
	const edu_reg_unit *self;
	int i;

	*out = NULL;
	if (!o || !o->store || !o->self_unit || !o->registry_path) {
		snprintf(why, whylen, "aggregating node needs a store, its unit id and a registry");
		return EDU_EINVAL;
	}
	if (sodium_init() < 0) {
		snprintf(why, whylen, "libsodium failed to initialize");
		return EDU_EINTERNAL;
	}
	if (!(a = calloc(1, sizeof *a)))
		return EDU_ENOMEM;
	pthread_mutex_init(&a->mu, NULL);
	pthread_mutex_init(&a->cert_mu, NULL);
	pthread_mutex_init(&a->rl_mu, NULL);
	pthread_mutex_init(&a->chain_mu, NULL);
	pthread_cond_init(&a->chain_cv, NULL);
	atomic_init(&a->rejected_total, 0);
	atomic_init(&a->stale_total, 0);
	atomic_init(&a->dirs, NULL);
	a->id = o->id;
	a->verifier = o->verifier;
	a->store = o->store;
	a->self_status = o->self_status;
	a->self_status_arg = o->self_status_arg;
	a->self_idx = -1;
	if (!(a->self_unit = strdup(o->self_unit)) || (o->listen_url && !(a->listen_url = strdup(o->listen_url)))) {
		rv = EDU_ENOMEM;
		goto out;
	}
	if ((rv = edu_registry_load(&a->reg, o->registry_path, why, whylen)) != EDU_OK)
		goto out;
	a->self_idx = edu_registry_find(a->reg, a->self_unit);
	if (!(self = edu_registry_unit(a->reg, a->self_idx))) {
		snprintf(why, whylen, "%s: this node's unit %s is not in the registry", o->registry_path, a->self_unit);
		rv = EDU_EINVAL;
		goto out;
	}
	if (!edu_unit_type_aggregates(self->type)) {
		snprintf(why, whylen, "%s:%d: unit %s is a %s, which cannot aggregate", o->registry_path, self->line,
		    a->self_unit, edu_unit_type_name(self->type));
		rv = EDU_EINVAL;
		goto out;
	}
	if ((a->id == NULL) != (a->verifier == NULL)) {
		snprintf(why, whylen, "an identity and a verifier go together");
		rv = EDU_EINVAL;
		goto out;
	}
	if (!(a->certs = calloc(edu_registry_count(a->reg), sizeof *a->certs))) {
		rv = EDU_ENOMEM;
		goto out;
	}
	if (!(a->us = calloc(edu_registry_count(a->reg), sizeof *a->us)) ||
	    !(a->chains = calloc(edu_registry_count(a->reg), sizeof *a->chains))) {
		rv = EDU_ENOMEM;
		goto out;
	}
	load_statuses(a);
	if (!a->listen_url)
		goto out;
	NNG_TRY(nng_rep0_open(&a->sock));
	a->sock_open = true;
	NNG_TRY(nng_socket_set_size(a->sock, NNG_OPT_RECVMAXSZ, EDU_WIRE_MSG_MAX));
	NNG_TRY(nng_pipe_notify(a->sock, NNG_PIPE_EV_REM_POST, pipe_cb, a));
	for (i = 0; i < EDU_AGG_WORKERS; i++) {
		a->workers[i].a = a;
		NNG_TRY(nng_ctx_open(&a->workers[i].ctx, a->sock));
		NNG_TRY(nng_aio_alloc(&a->workers[i].aio, NULL, NULL));
	}
	NNG_TRY(nng_listener_create(&a->listener, a->sock, a->listen_url));
	if (strncmp(a->listen_url, "tls+", 4) == 0) {
		nng_tls_config *cfg = NULL;
		char tw[256] = "";
		int r;
		if ((rv = edu_pki_nng_tls(&cfg, NNG_TLS_MODE_SERVER, o->tls_ca, o->tls_cert, o->tls_key, tw,
		    sizeof tw)) != EDU_OK) {
			snprintf(why, whylen, "downlink %s: TLS: %s", a->listen_url, tw);
			goto out;
		}
		r = nng_listener_set_ptr(a->listener, NNG_OPT_TLS_CONFIG, cfg);
		nng_tls_config_free(cfg); /* the listener holds its own reference */
		NNG_TRY(r);
	} else {
		edu_log(LOG_WARNING, "downlink: %s is plain tcp://: links are not encrypted (test/demo only)",
		    a->listen_url);
	}
	NNG_TRY(nng_listener_start(a->listener, 0));
	for (i = 0; i < EDU_AGG_WORKERS; i++) {
		if (pthread_create(&a->workers[i].thr, NULL, worker_main, &a->workers[i]) != 0) {
			snprintf(why, whylen, "cannot start downlink threads");
			rv = EDU_ENOMEM;
			goto out;
		}
		a->workers[i].started = true;
	}
	edu_log(LOG_INFO, "downlink: %s listening on %s (%zu units in the registry)", a->self_unit, a->listen_url,
	    edu_registry_count(a->reg));
out:
	if (rv != EDU_OK) {
		edu_agg_stop(a);
		return rv;
	}
	*out = a;
	return EDU_OK;
}

void edu_agg_stop(edu_agg *a)
{
	int i;
	if (!a)
		return;
	if (a->sock_open)
		nng_close(a->sock); /* completes every worker's aio with NNG_ECLOSED */
	for (i = 0; i < EDU_AGG_WORKERS; i++) {
		if (a->workers[i].started)
			pthread_join(a->workers[i].thr, NULL);
		nng_aio_free(a->workers[i].aio);
	}
	/* Statuses heard since the last save, so last_seen survives a restart. */
	if (a->us && a->reg) {
		size_t n = edu_registry_count(a->reg), i2, k = 0;
		int *idx = malloc(n * sizeof *idx);
		if (idx) {
			for (i2 = 0; i2 < n; i2++)
				if (a->us[i2].seen && a->us[i2].last_seen_ms > a->us[i2].persisted_ms && (int)i2 != a->self_idx)
					idx[k++] = (int)i2;
			persist_statuses(a, idx, k);
			free(idx);
		}
	}
	if (a->certs && a->reg) {
		size_t n = edu_registry_count(a->reg), i2;
		for (i2 = 0; i2 < n; i2++)
			free(a->certs[i2].der);
	}
	free(a->certs);
	for (size_t j = 0; j < a->nbinds; j++)
		bind_clear(&a->binds[j]);
	edu_registry_free(a->reg);
	free(a->us);
	free(a->chains);
	free(a->binds);
	free(a->self_unit);
	free(a->listen_url);
	pthread_mutex_destroy(&a->mu);
	pthread_mutex_destroy(&a->cert_mu);
	pthread_mutex_destroy(&a->rl_mu);
	pthread_mutex_destroy(&a->chain_mu);
	pthread_cond_destroy(&a->chain_cv);
	free(a);
}

uint64_t edu_agg_rejected_total(edu_agg *a)
{
	return a ? atomic_load(&a->rejected_total) : 0;
}

size_t edu_agg_revalidate(edu_agg *a)
{
	typedef struct { nng_pipe np; int unit; uint8_t *cert; size_t len; } probe;
	probe *v = NULL;
	size_t n = 0, i, dropped = 0;
	if (!a || !a->verifier)
		return 0;
	pthread_mutex_lock(&a->mu);
	if (a->nbinds && (v = calloc(a->nbinds, sizeof *v))) {
		for (i = 0; i < a->nbinds; i++) {
			if (!a->binds[i].cert_len || !(v[n].cert = malloc(a->binds[i].cert_len)))
				continue;
			memcpy(v[n].cert, a->binds[i].cert, a->binds[i].cert_len);
			v[n].len = a->binds[i].cert_len;
			v[n].np = a->binds[i].np;
			v[n].unit = a->binds[i].unit;
			n++;
		}
	}
	pthread_mutex_unlock(&a->mu);
	for (i = 0; i < n; i++) {
		uint8_t pub[EDU_PKI_PUB_LEN];
		char why[200] = "";
		const char *unit = edu_registry_unit(a->reg, v[i].unit)->id;
		if (edu_pki_verify_cert(a->verifier, v[i].cert, v[i].len, unit, pub, why, sizeof why) != EDU_OK) {
			edu_log(LOG_WARNING, "downlink: dropping the link of %s: its certificate no longer verifies: %s", unit,
			    why);
			nng_pipe_close(v[i].np);
			dropped++;
		}
		free(v[i].cert);
	}
	free(v);
	return dropped;
}

/* ---- lookups --------------------------------------------------------------------- */

const char *edu_agg_unit_name(edu_agg *a, const char *unit)
{
	const edu_reg_unit *u = a ? edu_registry_unit(a->reg, edu_registry_find(a->reg, unit)) : NULL;
	return u ? u->name : NULL;
}

edu_err edu_agg_subtree(edu_agg *a, const char *unit, const char ***units, size_t *n)
{
	int *idx = NULL;
	size_t cnt = 0, i;
	const char **v;
	edu_err rv;
	*units = NULL;
	*n = 0;
	if (!a)
		return EDU_EINVAL;
	if ((rv = edu_registry_subtree(a->reg, edu_registry_find(a->reg, unit), &idx, &cnt)) != EDU_OK)
		return rv;
	if (!(v = malloc(cnt * sizeof *v))) {
		free(idx);
		return EDU_ENOMEM;
	}
	for (i = 0; i < cnt; i++)
		v[i] = edu_registry_unit(a->reg, idx[i])->id;
	free(idx);
	*units = v;
	*n = cnt;
	return EDU_OK;
}

static void self_status(edu_agg *a, edu_node_status *st)
{
	const edu_reg_unit *self = edu_registry_unit(a->reg, a->self_idx);
	memset(st, 0, sizeof *st);
	if (a->self_status)
		a->self_status(st, a->self_status_arg);
	snprintf(st->unit, sizeof st->unit, "%s", a->self_unit);
	if (self->parent >= 0 && !st->parent[0])
		snprintf(st->parent, sizeof st->parent, "%s", edu_registry_unit(a->reg, self->parent)->id);
	if (!st->version[0])
		snprintf(st->version, sizeof st->version, "%s", EDU_SOFTWARE_VERSION);
	st->reported_ms = edu_time_now_ms();
}

size_t edu_agg_collect(edu_node_status *out, size_t max, void *arg)
{
	edu_agg *a = arg;
	int *idx = NULL;
	size_t cnt = 0, i, k = 0;
	if (!a || max == 0)
		return 0;
	self_status(a, &out[k++]);
	if (edu_registry_subtree(a->reg, a->self_idx, &idx, &cnt) != EDU_OK)
		return k;
	pthread_mutex_lock(&a->mu);
	for (i = 1; i < cnt && k < max; i++) {
		const unit_state *us = &a->us[idx[i]];
		if (!us->seen)
			continue;
		out[k] = us->st;
		snprintf(out[k].unit, sizeof out[k].unit, "%s", edu_registry_unit(a->reg, idx[i])->id);
		/* the age travels: "heard from it" is when we last heard */
		out[k].reported_ms = us->last_seen_ms;
		k++;
	}
	pthread_mutex_unlock(&a->mu);
	free(idx);
	return k;
}

/* ---- views ----------------------------------------------------------------------- */

typedef enum { S_ONLINE, S_OFFLINE, S_NEVER } seen_state;

static seen_state state_of(edu_agg *a, int idx, int64_t now)
{
	const unit_state *us = &a->us[idx];
	if (idx == a->self_idx)
		return S_ONLINE;
	if (!us->seen)
		return S_NEVER;
	return now - us->last_seen_ms < EDU_AGG_ONLINE_MS ? S_ONLINE : S_OFFLINE;
}

static const char *const seen_names[] = {"online", "offline", "never_seen"};

static json_t *time_json(int64_t ms)
{
	char buf[EDU_RFC3339_LEN];
	if (ms <= 0)
		return json_null();
	edu_time_format(buf, ms / 1000, EDU_TZ_VN_MIN);
	return json_string(buf);
}

/* Called with a->mu held. */
static json_t *topo_node(edu_agg *a, int idx, const edu_node_status *self, int64_t now)
{
	const edu_reg_unit *ru = edu_registry_unit(a->reg, idx);
	const unit_state *us = &a->us[idx];
	const edu_node_status *st = idx == a->self_idx ? self : &us->st;
	seen_state s = state_of(a, idx, now);
	json_t *o = json_object(), *kids = json_array();
	int c;

	json_object_set_new(o, "unit", json_string(ru->id));
	json_object_set_new(o, "name", json_string(ru->name));
	json_object_set_new(o, "type", json_string(edu_unit_type_name(ru->type)));
	json_object_set_new(o, "state", json_string(seen_names[s]));
	if (s == S_NEVER) {
		json_object_set_new(o, "last_seen", json_null());
		json_object_set_new(o, "items_total", json_null());
		json_object_set_new(o, "backlog", json_null());
		json_object_set_new(o, "oldest_unacked_age_s", json_null());
		json_object_set_new(o, "version", json_null());
		json_object_set_new(o, "uplink_state", json_null());
	} else {
		json_object_set_new(o, "last_seen", time_json(idx == a->self_idx ? now : us->last_seen_ms));
		json_object_set_new(o, "items_total", json_integer((json_int_t)st->items_total));
		json_object_set_new(o, "backlog", json_integer((json_int_t)st->backlog));
		json_object_set_new(o, "oldest_unacked_age_s",
		    json_integer(st->oldest_unacked_ms > 0 && now > st->oldest_unacked_ms
		        ? (json_int_t)((now - st->oldest_unacked_ms) / 1000) : 0));
		json_object_set_new(o, "version", st->version[0] ? json_string(st->version) : json_null());
		json_object_set_new(o, "uplink_state", st->uplink_state[0] ? json_string(st->uplink_state) : json_null());
	}
	for (c = ru->first_child; c >= 0; c = edu_registry_unit(a->reg, c)->next_sibling)
		json_array_append_new(kids, topo_node(a, c, self, now));
	json_object_set_new(o, "children", kids);
	return o;
}

json_t *edu_agg_topology_json(edu_agg *a)
{
	edu_node_status self;
	int64_t now = edu_time_now_ms();
	json_t *o;
	if (!a)
		return NULL;
	self_status(a, &self);
	pthread_mutex_lock(&a->mu);
	o = topo_node(a, a->self_idx, &self, now);
	pthread_mutex_unlock(&a->mu);
	return o;
}

typedef struct counts {
	json_int_t expected, deployed, online, stale;
} counts;

static void count_unit(edu_agg *a, int idx, int64_t now, counts *c)
{
	const unit_state *us = &a->us[idx];
	seen_state s = state_of(a, idx, now);
	c->expected++;
	if (s != S_NEVER)
		c->deployed++;
	if (s == S_ONLINE)
		c->online++;
	if (s == S_OFFLINE && now - us->last_seen_ms > EDU_AGG_STALE_MS)
		c->stale++;
}

static json_t *counts_json(json_t *o, const counts *c)
{
	json_object_set_new(o, "expected", json_integer(c->expected));
	json_object_set_new(o, "deployed", json_integer(c->deployed));
	json_object_set_new(o, "online", json_integer(c->online));
	json_object_set_new(o, "stale", json_integer(c->stale));
	return o;
}

/* Deployment report over this node's subtree (itself included in by_type).
 * deployed: ever heard from (or this node); online: heard within
 * EDU_AGG_ONLINE_MS; stale: deployed but silent for EDU_AGG_STALE_MS.
 * by_phong: each phong/xa unit with the counts of the units below it. */
json_t *edu_agg_report_json(edu_agg *a)
{
	int64_t now = edu_time_now_ms();
	int *idx = NULL;
	size_t cnt = 0, i, j;
	counts bt[EDU_UT_COUNT];
	json_t *o, *by_type, *by_phong, *never;
	if (!a || edu_registry_subtree(a->reg, a->self_idx, &idx, &cnt) != EDU_OK)
		return NULL;
	memset(bt, 0, sizeof bt);
	o = json_object();
	by_type = json_array();
	by_phong = json_array();
	never = json_array();
	pthread_mutex_lock(&a->mu);
	for (i = 0; i < cnt; i++) {
		const edu_reg_unit *ru = edu_registry_unit(a->reg, idx[i]);
		count_unit(a, idx[i], now, &bt[ru->type]);
		if (state_of(a, idx[i], now) == S_NEVER) {
			const edu_reg_unit *p = edu_registry_unit(a->reg, ru->parent);
			json_array_append_new(never, json_pack("{s:s,s:s,s:s,s:s?}", "unit", ru->id, "name", ru->name,
			    "type", edu_unit_type_name(ru->type), "parent", p ? p->id : NULL));
		}
		if (ru->type == EDU_UT_PHONG || ru->type == EDU_UT_XA) {
			int *sub = NULL;
			size_t ns = 0;
			counts pc;
			memset(&pc, 0, sizeof pc);
			if (edu_registry_subtree(a->reg, idx[i], &sub, &ns) == EDU_OK) {
				for (j = 1; j < ns; j++)
					count_unit(a, sub[j], now, &pc);
				free(sub);
			}
			json_array_append_new(by_phong, counts_json(json_pack("{s:s,s:s,s:s,s:s}", "unit", ru->id, "name",
			    ru->name, "type", edu_unit_type_name(ru->type), "state", seen_names[state_of(a, idx[i], now)]), &pc));
		}
	}
	pthread_mutex_unlock(&a->mu);
	for (i = 0; i < EDU_UT_COUNT; i++)
		if (bt[i].expected)
			json_array_append_new(by_type,
			    counts_json(json_pack("{s:s}", "type", edu_unit_type_name((edu_unit_type)i)), &bt[i]));
	free(idx);
	json_object_set_new(o, "unit", json_string(a->self_unit));
	json_object_set_new(o, "generated", time_json(now));
	json_object_set_new(o, "online_window_s", json_integer(EDU_AGG_ONLINE_MS / 1000));
	json_object_set_new(o, "stale_after_s", json_integer(EDU_AGG_STALE_MS / 1000));
	json_object_set_new(o, "by_type", by_type);
	json_object_set_new(o, "by_phong", by_phong);
	json_object_set_new(o, "never_seen", never);
	return o;
}

json_t *edu_agg_children_json(edu_agg *a)
{
	int64_t now = edu_time_now_ms();
	json_int_t n[3] = {0, 0, 0}, expected = 0;
	int c;
	if (!a)
		return NULL;
	pthread_mutex_lock(&a->mu);
	for (c = edu_registry_unit(a->reg, a->self_idx)->first_child; c >= 0;
	     c = edu_registry_unit(a->reg, c)->next_sibling) {
		expected++;
		n[state_of(a, c, now)]++;
	}
	pthread_mutex_unlock(&a->mu);
	return json_pack("{s:I,s:I,s:I,s:I}", "expected", expected, "online", n[S_ONLINE], "offline", n[S_OFFLINE],
	    "never_seen", n[S_NEVER]);
}
