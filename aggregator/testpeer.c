/* edunet-testpeer: a minimal child that speaks the wire protocol with any
 * identity, for integration tests of what a parent must refuse.
 *
 *   edunet-testpeer [OPTIONS] URL UNIT hello
 *   edunet-testpeer [OPTIONS] URL UNIT push ORIGIN SEQ [TITLE]
 *       (one record in a Push of neither `after` nor `restart`: a child
 *       that sends one batch at a time)
 *   edunet-testpeer [OPTIONS] URL UNIT pushes ORIGIN GROUP...
 *       (pipelined pushes, as node/uplink sends them: each GROUP is one or
 *       more SPECs joined by '+'; a SPEC AFTER:UPTO or AFTER:UPTO:r is one
 *       Push with after = AFTER (restart with :r), upto = UPTO and the
 *       records ORIGIN:AFTER+1 .. ORIGIN:UPTO, titled "TITLE SEQ". The
 *       Pushes of a group are in flight at once, each on its own req
 *       context, sent in the order written --gap-ms apart; the next group
 *       goes once every reply came. One line per Push, a group's in the
 *       order its replies came: "push SPEC: acked (N ms)" or
 *       "push SPEC: ERROR_CODE_NAME: message (N ms)", N from its send to
 *       its reply; exit 3 when any was refused)
 *   edunet-testpeer [OPTIONS] URL UNIT garbage
 *   edunet-testpeer [OPTIONS] URL UNIT receipt DIRECTIVE_ID RUNIT acked|reported
 *       (a DirSync carrying one receipt event of RUNIT, signed with
 *       --origin-id, or with --id under --forge; --unsigned: no signature;
 *       exit 3 when the parent refused it)
 *
 *   edunet-testpeer [OPTIONS] URL UNIT dirsync OUTDIR
 *       (one DirSync from cursor 0; each directive offered is saved verbatim
 *       as OUTDIR/<n>.dir, n from 1)
 *   edunet-testpeer [OPTIONS] URL UNIT inject FILE
 *       (a child pushing the directive in FILE upward: as a DirSyncAck,
 *       which is no request, and as a "receipt" inside a DirSync; exit 3
 *       when the parent refused both)
 *   edunet-testpeer --id PREFIX craft IN OUT unsigned|tamper|resign [PARENT]
 *       (a SignedDirective from IN rewritten into OUT: without signature;
 *       one byte of the title changed under the original signature; or
 *       signed again with --id's key and certificate, after setting every
 *       target's parent to PARENT when given)
 *   edunet-testpeer [--id PREFIX] [--self UNIT] parent LISTEN_URL SECONDS FILE...
 *       (a fake PARENT for SECONDS: binds any child with the Hello/Auth
 *       handshake as --id's unit (else as --self, default pgd-fake), acks
 *       pushes and heartbeats, and answers every DirSync from cursor 0 with
 *       the SignedDirectives in FILE..., verbatim; prints one line per
 *       request but heartbeats, a Push as "push after A upto B[ restart]:
 *       N record(s): ORIGIN:SEQ ...", its records in their order)
 *
 * UNIT is what the Hello claims. Options (files from `edunetctl ca issue`;
 * PREFIX is DIR/UNIT, the CA certificate is DIR/ca.crt):
 *   --id PREFIX         link identity: certificate in the Hello, challenge
 *                       signed, TLS client certificate for tls+tcp:// URLs
 *   --origin-id PREFIX  signs the pushed record and travels as its origin
 *                       certificate (default: --id)
 *   --forge             sign with --id although the record names another
 *                       origin (its certificate still from --origin-id)
 *   --tamper            change one byte of the title after signing
 *   --unsigned          push without a signature
 *   --version N         the item's version (default 1)
 *   --title TITLE       the pushed items' title (default "Tin thử nghiệm")
 *   --time T            the items' published and updated time, Unix seconds
 *                       (default now; fix it to send the same bytes again)
 *   --gap-ms N          pushes: wait N ms between the sends of a group
 *   --self UNIT         parent: the unit it says it is without --id
 *   --bad-auth          answer the challenge with a wrong signature
 *   --no-hello          push without saying Hello first
 *
 * Prints one line per step (rejects with their reasons); exit 0 when every
 * step was accepted, 3 when the parent refused, 4 when it dropped the
 * connection, 1 on other failures, 2 on usage errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>
#include <sodium.h>

#include "directive.pb-c.h"
#include "directive/directive.h"
#include "item/item.h"
#include "pki/pki.h"
#include "uplink/wire.h"

typedef struct opts {
	const char *id, *origin_id;
	const char *title, *self;
	bool forge, tamper, unsigned_, bad_auth, no_hello;
	uint64_t version;
	int64_t when; /* published and updated; 0: now */
	int gap_ms;
	edu_pki_id *link, *origin;
} opts;

static edu_pki_id *load_id(const char *prefix)
{
	char crt[512], key[512], ed[512], why[256] = "";
	edu_pki_id *id = NULL;
	snprintf(crt, sizeof crt, "%s.crt", prefix);
	snprintf(key, sizeof key, "%s.key", prefix);
	snprintf(ed, sizeof ed, "%s.ed25519", prefix);
	if (edu_pki_id_load(&id, crt, key, ed, why, sizeof why) != EDU_OK) {
		printf("identity %s: %s\n", prefix, why);
		return NULL;
	}
	return id;
}

static int rpc(nng_socket s, nng_msg *req, edu_wire_msg **reply)
{
	nng_msg *m = NULL;
	char why[256];
	int r;
	if ((r = nng_sendmsg(s, req, 0)) != 0) {
		nng_msg_free(req);
		printf("send: %s\n", nng_strerror(r));
		return 1;
	}
	if ((r = nng_recvmsg(s, &m, 0)) != 0) {
		printf("recv: %s\n", nng_strerror(r));
		return r == NNG_ETIMEDOUT || r == NNG_ECLOSED ? 4 : 1;
	}
	if (edu_wire_decode(nng_msg_body(m), nng_msg_len(m), reply, why, sizeof why) != EDU_OK) {
		nng_msg_free(m);
		printf("bad reply: %s\n", why);
		return 1;
	}
	nng_msg_free(m);
	if ((*reply)->body_case == EDUNET__WIRE__ENVELOPE__BODY_ERROR) {
		printf("refused: code %d: %s\n", (int)(*reply)->error->code, (*reply)->error->message);
		edu_wire_free(*reply);
		*reply = NULL;
		return 3;
	}
	return 0;
}

static int hello(nng_socket s, const char *unit, const opts *o)
{
	edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT, *reply = NULL, *reply2 = NULL;
	Edunet__Wire__Hello h = EDUNET__WIRE__HELLO__INIT;
	Edunet__Wire__Auth au = EDUNET__WIRE__AUTH__INIT;
	uint8_t nonce[EDU_WIRE_NONCE_LEN], msg[EDU_WIRE_SIGNED_MAX], sig[EDU_PKI_SIG_LEN];
	const uint8_t *der;
	size_t len;
	nng_msg *m;
	int rc;
	h.unit = (char *)unit;
	h.software_version = "testpeer";
	h.wire_version = EDU_WIRE_VERSION;
	if (o->link) {
		if (edu_pki_id_cert_der(o->link, &der, &len) != EDU_OK)
			return 1;
		randombytes_buf(nonce, sizeof nonce);
		h.cert.data = (uint8_t *)der;
		h.cert.len = len;
		h.nonce.data = nonce;
		h.nonce.len = sizeof nonce;
	}
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_HELLO;
	env.hello = &h;
	if (edu_wire_to_nng(&env, &m) != EDU_OK)
		return 1;
	printf("hello %s: ", unit);
	if ((rc = rpc(s, m, &reply)) != 0)
		return rc;
	if (reply->body_case != EDUNET__WIRE__ENVELOPE__BODY_HELLO_ACK) {
		printf("unexpected reply %d\n", (int)reply->body_case);
		edu_wire_free(reply);
		return 1;
	}
	if (reply->hello_ack->challenge.len) {
		if (!o->link) {
			printf("parent %s wants a certificate\n", reply->hello_ack->parent_unit);
			edu_wire_free(reply);
			return 3;
		}
		len = edu_wire_handshake_msg(msg, EDU_WIRE_AUTH_CTX, reply->hello_ack->parent_unit, unit,
		    reply->hello_ack->challenge.data);
		edu_pki_sign(o->link, msg, len, sig);
		if (o->bad_auth)
			sig[0] ^= 1;
		au.sig.data = sig;
		au.sig.len = sizeof sig;
		env.body_case = EDUNET__WIRE__ENVELOPE__BODY_AUTH;
		env.auth = &au;
		if (edu_wire_to_nng(&env, &m) != EDU_OK) {
			edu_wire_free(reply);
			return 1;
		}
		printf("challenge from %s; auth: ", reply->hello_ack->parent_unit);
		if ((rc = rpc(s, m, &reply2)) != 0) {
			edu_wire_free(reply);
			return rc;
		}
		edu_wire_free(reply2);
	}
	printf("accepted by %s\n", reply->hello_ack->parent_unit);
	edu_wire_free(reply);
	return 0;
}

/* One record of ORIGIN:SEQ (a news item of version --version), encoded into
 * *enc (the caller frees it): signed by --origin-id unless --unsigned (by
 * --id under --forge), one title byte changed after signing under --tamper. */
static int make_record(const char *origin, uint64_t seq, const char *title, const opts *o, uint8_t **enc,
    size_t *enc_len)
{
	const edu_pki_id *signer = o->forge ? o->link : o->origin;
	edu_item *it = edu_item_new();
	edu_record r;
	char why[200];
	int rc = 1;

	memset(&r, 0, sizeof r);
	*enc = NULL;
	if (!it)
		return 1;
	free(it->unit);
	it->unit = strdup(origin);
	it->seq = seq;
	it->version = o->version;
	it->kind = EDU_KIND_NEWS;
	free(it->title);
	it->title = strdup(title);
	it->published = it->updated = o->when ? o->when : (int64_t)time(NULL);
	it->tz_offset_min = 420;
	if (edu_item_validate(it, why, sizeof why) != EDU_OK) {
		printf("item %s:%llu invalid: %s\n", origin, (unsigned long long)seq, why);
		goto out;
	}
	if (edu_item_encode(it, &r.item, &r.item_len) != EDU_OK)
		goto out;
	if (signer && !o->unsigned_) {
		edu_pki_sign(signer, r.item, r.item_len, r.sig);
		r.has_sig = true;
	}
	if (o->tamper) {
		/* one byte of the title, after signing: what a man in the middle would do */
		size_t tl = strlen(title), i;
		for (i = 0; i + tl <= r.item_len; i++)
			if (memcmp(r.item + i, title, tl) == 0) {
				r.item[i] ^= 0x01;
				break;
			}
	}
	if (edu_record_encode(&r, enc, enc_len) == EDU_OK)
		rc = 0;
out:
	edu_record_clear(&r);
	edu_item_free(it);
	return rc;
}

/* The origin certificate a Push carries (Push.certs): 1 when there is one. */
static size_t origin_cert(const opts *o, ProtobufCBinaryData *cert)
{
	const uint8_t *der;
	size_t dl;
	if (!o->origin || edu_pki_id_cert_der(o->origin, &der, &dl) != EDU_OK)
		return 0;
	cert->data = (uint8_t *)der;
	cert->len = dl;
	return 1;
}

static int push(nng_socket s, const char *origin, uint64_t seq, const char *title, const opts *o)
{
	ProtobufCBinaryData cert;
	edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT, *reply = NULL;
	Edunet__Wire__Push p = EDUNET__WIRE__PUSH__INIT;
	ProtobufCBinaryData rec;
	uint8_t *enc = NULL;
	size_t enc_len = 0;
	nng_msg *m;
	int rc = 1;

	if (make_record(origin, seq, title, o, &enc, &enc_len) != 0)
		goto out;
	p.n_certs = origin_cert(o, &cert);
	p.certs = &cert;
	rec.data = enc;
	rec.len = enc_len;
	p.upto = 1;
	p.n_records = 1;
	p.records = &rec;
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_PUSH;
	env.push = &p;
	if (edu_wire_to_nng(&env, &m) != EDU_OK)
		goto out;
	printf("push %s:%llu: ", origin, (unsigned long long)seq);
	if ((rc = rpc(s, m, &reply)) != 0)
		goto out;
	if (reply->body_case != EDUNET__WIRE__ENVELOPE__BODY_PUSH_ACK) {
		printf("unexpected reply %d\n", (int)reply->body_case);
		rc = 1;
	} else if (reply->push_ack->n_rejects) {
		printf("acked with %zu rejects:", reply->push_ack->n_rejects);
		for (size_t i = 0; i < reply->push_ack->n_rejects; i++)
			printf(" %s: %s (result %u);", reply->push_ack->rejects[i]->item_id, reply->push_ack->rejects[i]->reason,
			    reply->push_ack->rejects[i]->result);
		printf("\n");
		rc = 3;
	} else {
		printf("acked\n");
	}
	edu_wire_free(reply);
out:
	free(enc);
	return rc;
}

/* ---- pipelined pushes (Push.after / restart) ---- */

#define PUSHES_MAX 16        /* Pushes on one command line */
#define PUSH_SPAN_MAX EDU_WIRE_BATCH_RECORDS /* records in one Push */
#define PUSH_REPLY_MS 40000  /* longer than the parent keeps a batch waiting for its predecessor */
#define GAP_MAX_MS 10000

/* One Push of `pushes`, on its own req context (as node/uplink sends them). */
typedef struct flight {
	const char *spec;
	uint64_t after, upto;
	bool restart;
	nng_ctx ctx;
	bool ctx_open;
	nng_aio *aio;
	bool receiving;           /* the aio callback stamps done_ms only then */
	nng_time sent_ms, done_ms;
	int rc;
	char line[600];
} flight;

/* "AFTER:UPTO" or "AFTER:UPTO:r" (restart) */
static bool spec_parse(const char *spec, flight *f)
{
	char *end;
	const char *p = spec;
	memset(f, 0, sizeof *f);
	f->spec = spec;
	errno = 0;
	f->after = strtoull(p, &end, 10);
	if (end == p || *end != ':' || errno)
		return false;
	p = end + 1;
	f->upto = strtoull(p, &end, 10);
	if (end == p || errno)
		return false;
	if (strcmp(end, ":r") == 0)
		f->restart = true;
	else if (*end != '\0')
		return false;
	return f->upto > f->after && f->upto - f->after <= PUSH_SPAN_MAX;
}

static void flight_cb(void *arg)
{
	flight *f = arg;
	if (f->receiving)
		f->done_ms = nng_clock();
}

/* Builds the Push of f (records ORIGIN:after+1..upto titled "TITLE SEQ"),
 * sends it on a new context and starts waiting for the reply. */
static int flight_send(nng_socket s, flight *f, const char *origin, const char *title, const opts *o)
{
	edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT;
	Edunet__Wire__Push p = EDUNET__WIRE__PUSH__INIT;
	ProtobufCBinaryData cert, *recs = calloc(f->upto - f->after, sizeof *recs);
	nng_msg *m = NULL;
	size_t n = 0;
	int r, rc = 1;

	if (!recs)
		return 1;
	for (uint64_t seq = f->after + 1; seq <= f->upto; seq++, n++) {
		char t[4 * EDU_TITLE_MAX + 32];
		snprintf(t, sizeof t, "%s %llu", title, (unsigned long long)seq);
		if (make_record(origin, seq, t, o, &recs[n].data, &recs[n].len) != 0)
			goto out;
	}
	p.n_certs = origin_cert(o, &cert);
	p.certs = &cert;
	p.upto = f->upto;
	p.after = f->after;
	p.restart = f->restart;
	p.n_records = n;
	p.records = recs;
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_PUSH;
	env.push = &p;
	if (edu_wire_to_nng(&env, &m) != EDU_OK)
		goto out;
	if ((r = nng_ctx_open(&f->ctx, s)) != 0 || (r = nng_aio_alloc(&f->aio, flight_cb, f)) != 0) {
		printf("push %s: %s\n", f->spec, nng_strerror(r));
		nng_msg_free(m);
		goto out;
	}
	f->ctx_open = true;
	nng_aio_set_msg(f->aio, m);
	nng_aio_set_timeout(f->aio, PUSH_REPLY_MS);
	f->sent_ms = nng_clock();
	nng_ctx_send(f->ctx, f->aio);
	nng_aio_wait(f->aio);
	if ((r = nng_aio_result(f->aio)) != 0) {
		nng_msg_free(nng_aio_get_msg(f->aio));
		printf("push %s: send: %s\n", f->spec, nng_strerror(r));
		rc = 4;
		goto out;
	}
	f->receiving = true;
	nng_aio_set_timeout(f->aio, PUSH_REPLY_MS);
	nng_ctx_recv(f->ctx, f->aio);
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(recs[i].data);
	free(recs);
	return rc;
}

/* Waits for f's reply and writes its outcome into f->line and f->rc. */
static void flight_finish(flight *f)
{
	edu_wire_msg *reply = NULL;
	nng_msg *m;
	char why[256];
	size_t len;
	int r;

	nng_aio_wait(f->aio);
	len = (size_t)snprintf(f->line, sizeof f->line, "push %s: ", f->spec);
	if ((r = nng_aio_result(f->aio)) != 0) {
		snprintf(f->line + len, sizeof f->line - len, "no reply: %s", nng_strerror(r));
		f->rc = 4;
		f->done_ms = nng_clock();
		return;
	}
	m = nng_aio_get_msg(f->aio);
	if (edu_wire_decode(nng_msg_body(m), nng_msg_len(m), &reply, why, sizeof why) != EDU_OK) {
		nng_msg_free(m);
		snprintf(f->line + len, sizeof f->line - len, "bad reply: %s", why);
		f->rc = 1;
		return;
	}
	nng_msg_free(m);
	if (reply->body_case == EDUNET__WIRE__ENVELOPE__BODY_ERROR) {
		const ProtobufCEnumValue *v =
		    protobuf_c_enum_descriptor_get_value(&edunet__wire__error__code__descriptor, reply->error->code);
		snprintf(f->line + len, sizeof f->line - len, "%s: %s", v ? v->name : "UNKNOWN", reply->error->message);
		f->rc = 3;
	} else if (reply->body_case != EDUNET__WIRE__ENVELOPE__BODY_PUSH_ACK) {
		snprintf(f->line + len, sizeof f->line - len, "unexpected reply %d", (int)reply->body_case);
		f->rc = 1;
	} else if (reply->push_ack->acked != f->upto) {
		snprintf(f->line + len, sizeof f->line - len, "acked %llu, not %llu",
		    (unsigned long long)reply->push_ack->acked, (unsigned long long)f->upto);
		f->rc = 1;
	} else if (reply->push_ack->n_rejects) {
		snprintf(f->line + len, sizeof f->line - len, "acked with %zu rejects, the first %s: %s",
		    reply->push_ack->n_rejects, reply->push_ack->rejects[0]->item_id, reply->push_ack->rejects[0]->reason);
		f->rc = 3;
	} else {
		snprintf(f->line + len, sizeof f->line - len, "acked");
	}
	edu_wire_free(reply);
}

static int by_done(const void *x, const void *y)
{
	const flight *a = *(flight *const *)x, *b = *(flight *const *)y;
	return a->done_ms < b->done_ms ? -1 : a->done_ms > b->done_ms;
}

/* ARGS: groups of SPECs joined by '+'. Groups go one after the other; the
 * Pushes of a group are all in flight at once, sent in the order written,
 * gap_ms apart. Prints one line per Push, a group's in the order its
 * replies came. */
static int pushes(nng_socket s, const char *origin, char **args, int n_args, int gap_ms, const char *title,
    const opts *o)
{
	flight fl[PUSHES_MAX];
	int group[PUSHES_MAX]; /* group of fl[i] */
	int nf = 0, rc = 0;

	for (int g = 0; g < n_args; g++) {
		char *save = NULL, *tok;
		for (tok = strtok_r(args[g], "+", &save); tok; tok = strtok_r(NULL, "+", &save)) {
			if (nf == PUSHES_MAX || !spec_parse(tok, &fl[nf])) {
				fprintf(stderr, "push spec %s: AFTER:UPTO[:r] with AFTER < UPTO and at most %d records; "
				    "at most %d pushes\n", tok, PUSH_SPAN_MAX, PUSHES_MAX);
				return 2;
			}
			group[nf++] = g;
		}
	}
	for (int first = 0, end; first < nf; first = end) {
		flight *order[PUSHES_MAX];
		for (end = first; end < nf && group[end] == group[first]; end++) {
			if (end > first && gap_ms > 0)
				nng_msleep((nng_duration)gap_ms);
			if ((fl[end].rc = flight_send(s, &fl[end], origin, title, o)) != 0) {
				snprintf(fl[end].line, sizeof fl[end].line, "push %s: not sent", fl[end].spec);
				fl[end].sent_ms = fl[end].done_ms = nng_clock();
			}
		}
		for (int i = first; i < end; i++) {
			if (fl[i].rc == 0)
				flight_finish(&fl[i]);
			order[i - first] = &fl[i];
		}
		qsort(order, (size_t)(end - first), sizeof *order, by_done);
		for (int i = 0; i < end - first; i++) {
			flight *f = order[i];
			printf("%s (%lld ms)\n", f->line, (long long)(f->done_ms - f->sent_ms));
			/* the worst outcome wins: other failure, dropped, refused */
			if (f->rc == 1 || (f->rc == 4 && rc != 1) || (f->rc == 3 && rc == 0))
				rc = f->rc;
		}
		fflush(stdout);
	}
	for (int i = 0; i < nf; i++) {
		if (fl[i].aio)
			nng_aio_free(fl[i].aio);
		if (fl[i].ctx_open)
			nng_ctx_close(fl[i].ctx);
	}
	return rc;
}

static int garbage(nng_socket s)
{
	nng_msg *m;
	edu_wire_msg *reply = NULL;
	int rc;
	if (nng_msg_alloc(&m, 64) != 0)
		return 1;
	memset(nng_msg_body(m), 0xff, 64);
	printf("garbage: ");
	rc = rpc(s, m, &reply);
	edu_wire_free(reply);
	return rc;
}

static int usage(void)
{
	fprintf(stderr, "usage: edunet-testpeer [--id PREFIX] [--origin-id PREFIX] [--forge] [--tamper] [--unsigned]\n"
	    "           [--version N] [--title TITLE] [--time T] [--gap-ms N] [--self UNIT] [--bad-auth] [--no-hello]\n"
	    "           URL UNIT hello|push ORIGIN SEQ [TITLE]|pushes ORIGIN AFTER:UPTO[:r][+...]...|garbage|...\n"
	    "       (see the comment at the top of aggregator/testpeer.c)\n");
	return 2;
}

static int receipt(nng_socket s, const char *did, const char *runit, const char *kind, const opts *o)
{
	Edunet__Dir__ReceiptEvent e = EDUNET__DIR__RECEIPT_EVENT__INIT;
	Edunet__Dir__SignedReceipt sr = EDUNET__DIR__SIGNED_RECEIPT__INIT;
	edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT, *reply = NULL;
	Edunet__Wire__DirSync ds = EDUNET__WIRE__DIR_SYNC__INIT;
	ProtobufCBinaryData rec;
	uint8_t *eb, *sb, *msg, sig[EDU_PKI_SIG_LEN];
	size_t el, sl, cl = strlen(EDU_DIR_RECEIPT_CTX) + 1;
	const edu_pki_id *signer = o->forge ? o->link : o->origin;
	nng_msg *m;
	int rc;
	e.format = EDU_DIR_FORMAT;
	e.directive_id = (char *)did;
	e.unit = (char *)runit;
	e.kind = strcmp(kind, "reported") == 0 ? EDUNET__DIR__RECEIPT_EVENT__KIND__REPORTED
	    : EDUNET__DIR__RECEIPT_EVENT__KIND__ACKED;
	e.time_ms = (int64_t)time(NULL) * 1000;
	e.report_text = "báo cáo giả";
	el = edunet__dir__receipt_event__get_packed_size(&e);
	eb = malloc(el);
	msg = malloc(cl + el);
	if (!eb || !msg)
		return 1;
	edunet__dir__receipt_event__pack(&e, eb);
	sr.event.data = eb;
	sr.event.len = el;
	if (signer && !o->unsigned_) {
		const uint8_t *der;
		size_t dl;
		memcpy(msg, EDU_DIR_RECEIPT_CTX, cl);
		memcpy(msg + cl, eb, el);
		edu_pki_sign(signer, msg, cl + el, sig);
		if (edu_pki_id_cert_der(o->origin ? o->origin : o->link, &der, &dl) != EDU_OK)
			return 1;
		sr.sig.data = sig;
		sr.sig.len = sizeof sig;
		sr.cert.data = (uint8_t *)der;
		sr.cert.len = dl;
	}
	sl = edunet__dir__signed_receipt__get_packed_size(&sr);
	if (!(sb = malloc(sl)))
		return 1;
	edunet__dir__signed_receipt__pack(&sr, sb);
	rec.data = sb;
	rec.len = sl;
	ds.n_receipts = 1;
	ds.receipts = &rec;
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_DIR_SYNC;
	env.dir_sync = &ds;
	rc = edu_wire_to_nng(&env, &m) == EDU_OK ? 0 : 1;
	free(eb);
	free(msg);
	free(sb);
	if (rc)
		return rc;
	printf("receipt %s %s %s: ", did, runit, kind);
	if ((rc = rpc(s, m, &reply)) != 0)
		return rc;
	if (reply->body_case != EDUNET__WIRE__ENVELOPE__BODY_DIR_SYNC_ACK) {
		printf("unexpected reply %d\n", (int)reply->body_case);
		edu_wire_free(reply);
		return 1;
	}
	rc = reply->dir_sync_ack->receipts_refused ? 3 : 0;
	printf("%s (%zu directive(s) offered)\n", rc ? "refused" : "accepted", reply->dir_sync_ack->n_directives);
	edu_wire_free(reply);
	return rc;
}


/* ---- directives: saving, crafting, injecting, a fake parent ---- */

#define FILE_MAX EDU_DIR_RECORD_MAX

static int read_all(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;
	if (!f) {
		printf("%s: %s\n", path, strerror(errno));
		return 1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || (size_t)n > FILE_MAX || fseek(f, 0, SEEK_SET) != 0 ||
	    !(*out = malloc((size_t)n + 1)) || fread(*out, 1, (size_t)n, f) != (size_t)n) {
		printf("%s: unreadable or larger than %u bytes\n", path, FILE_MAX);
		fclose(f);
		return 1;
	}
	fclose(f);
	*len = (size_t)n;
	return 0;
}

static int write_all(const char *path, const uint8_t *b, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(b, 1, len, f) != len || fclose(f) != 0) {
		printf("%s: cannot write\n", path);
		return 1;
	}
	return 0;
}

static int dirsync(nng_socket s, const char *outdir)
{
	edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT, *reply = NULL;
	Edunet__Wire__DirSync ds = EDUNET__WIRE__DIR_SYNC__INIT;
	nng_msg *m;
	int rc = 0;
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_DIR_SYNC;
	env.dir_sync = &ds;
	if (edu_wire_to_nng(&env, &m) != EDU_OK)
		return 1;
	printf("dirsync: ");
	if ((rc = rpc(s, m, &reply)) != 0)
		return rc;
	if (reply->body_case != EDUNET__WIRE__ENVELOPE__BODY_DIR_SYNC_ACK) {
		printf("unexpected reply %d\n", (int)reply->body_case);
		edu_wire_free(reply);
		return 1;
	}
	printf("%zu directive(s), cursor %llu\n", reply->dir_sync_ack->n_directives,
	    (unsigned long long)reply->dir_sync_ack->down_cursor);
	for (size_t i = 0; i < reply->dir_sync_ack->n_directives && rc == 0; i++) {
		char path[600];
		snprintf(path, sizeof path, "%s/%zu.dir", outdir, i + 1);
		rc = write_all(path, reply->dir_sync_ack->directives[i].data, reply->dir_sync_ack->directives[i].len);
	}
	edu_wire_free(reply);
	return rc;
}

static int inject(nng_socket s, const char *file)
{
	edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT, *reply = NULL;
	Edunet__Wire__DirSyncAck up = EDUNET__WIRE__DIR_SYNC_ACK__INIT;
	Edunet__Wire__DirSync ds = EDUNET__WIRE__DIR_SYNC__INIT;
	ProtobufCBinaryData rec;
	nng_msg *m;
	int rc1, rc2;
	if (read_all(file, &rec.data, &rec.len) != 0)
		return 1;
	up.n_directives = 1;
	up.directives = &rec;
	up.down_cursor = 1;
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_DIR_SYNC_ACK;
	env.dir_sync_ack = &up;
	if (edu_wire_to_nng(&env, &m) != EDU_OK) {
		free(rec.data);
		return 1;
	}
	printf("directive upward as DirSyncAck: ");
	rc1 = rpc(s, m, &reply);
	if (rc1 == 0) {
		printf("answered with message %d (not refused)\n", (int)reply->body_case);
		edu_wire_free(reply);
		reply = NULL;
	}
	ds.n_receipts = 1;
	ds.receipts = &rec;
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_DIR_SYNC;
	env.dir_sync = &ds;
	if (edu_wire_to_nng(&env, &m) != EDU_OK) {
		free(rec.data);
		return 1;
	}
	printf("directive upward inside a DirSync: ");
	rc2 = rpc(s, m, &reply);
	free(rec.data);
	if (rc2 == 0) {
		if (reply->body_case == EDUNET__WIRE__ENVELOPE__BODY_DIR_SYNC_ACK && reply->dir_sync_ack->receipts_refused == 1) {
			printf("refused (receipts_refused 1)\n");
			rc2 = 3;
		} else {
			printf("accepted\n");
		}
		edu_wire_free(reply);
	}
	return rc1 == 3 && rc2 == 3 ? 3 : rc1 == 0 || rc2 == 0 ? 0 : 1;
}

static int craft(const opts *o, const char *in, const char *out, const char *mode, const char *parent)
{
	Edunet__Dir__SignedDirective *sd = NULL, w = EDUNET__DIR__SIGNED_DIRECTIVE__INIT;
	Edunet__Dir__Directive *x = NULL;
	uint8_t *raw = NULL, *db = NULL, *wb = NULL, *msg = NULL, sig[EDU_PKI_SIG_LEN];
	size_t rl, dl, wl, cl = strlen(EDU_DIR_SIGN_CTX) + 1;
	int rc = 1;
	if (read_all(in, &raw, &rl) != 0)
		return 1;
	if (!(sd = edunet__dir__signed_directive__unpack(NULL, rl, raw)) ||
	    !(x = edunet__dir__directive__unpack(NULL, sd->directive.len, sd->directive.data))) {
		printf("%s: not a SignedDirective\n", in);
		goto out;
	}
	w = *sd;
	if (strcmp(mode, "unsigned") == 0) {
		w.sig.len = w.cert.len = 0;
	} else if (strcmp(mode, "tamper") == 0) {
		/* one byte of the title, after signing: what a man in the middle would do */
		size_t tl = strlen(x->title), i;
		for (i = 0; tl && i + tl <= sd->directive.len && memcmp(sd->directive.data + i, x->title, tl) != 0; i++)
			;
		if (!tl || i + tl > sd->directive.len) {
			printf("title not found\n");
			goto out;
		}
		sd->directive.data[i] ^= 0x01;
	} else if (strcmp(mode, "resign") == 0 && o->link) {
		const uint8_t *der;
		size_t derl;
		char **saved = x->parents, **mine = NULL;
		if (parent) {
			if (!(mine = calloc(x->n_parents + 1, sizeof *mine)))
				goto out;
			for (size_t i = 0; i < x->n_parents; i++)
				mine[i] = (char *)parent;
			x->parents = mine;
		}
		dl = edunet__dir__directive__get_packed_size(x);
		if ((db = malloc(dl)))
			edunet__dir__directive__pack(x, db);
		x->parents = saved;
		free(mine);
		if (!db || !(msg = malloc(cl + dl)))
			goto out;
		memcpy(msg, EDU_DIR_SIGN_CTX, cl);
		memcpy(msg + cl, db, dl);
		edu_pki_sign(o->link, msg, cl + dl, sig);
		if (edu_pki_id_cert_der(o->link, &der, &derl) != EDU_OK)
			goto out;
		w.directive.data = db;
		w.directive.len = dl;
		w.sig.data = sig;
		w.sig.len = sizeof sig;
		w.cert.data = (uint8_t *)der;
		w.cert.len = derl;
	} else {
		printf("craft mode %s (unsigned|tamper|resign, resign needs --id)\n", mode);
		rc = 2;
		goto out;
	}
	wl = edunet__dir__signed_directive__get_packed_size(&w);
	if (!(wb = malloc(wl)))
		goto out;
	edunet__dir__signed_directive__pack(&w, wb);
	rc = write_all(out, wb, wl);
	if (rc == 0)
		printf("crafted %s (%s) from %s:d%llu\n", out, mode, x->issuer, (unsigned long long)x->seq);
out:
	if (x)
		edunet__dir__directive__free_unpacked(x, NULL);
	if (sd)
		edunet__dir__signed_directive__free_unpacked(sd, NULL);
	free(raw);
	free(db);
	free(wb);
	free(msg);
	return rc;
}

static nng_msg *reply_to(edu_wire_msg *env)
{
	nng_msg *m = NULL;
	if (edu_wire_to_nng(env, &m) != EDU_OK)
		return NULL;
	return m;
}

/* "push after A upto B[ restart]: N record(s): ORIGIN:SEQ ..." */
static void print_push(const Edunet__Wire__Push *p)
{
	printf("push after %llu upto %llu%s: %zu record(s):", (unsigned long long)p->after, (unsigned long long)p->upto,
	    p->restart ? " restart" : "", p->n_records);
	for (size_t i = 0; i < p->n_records; i++) {
		edu_record_ref ref;
		edu_item_head h;
		if (edu_record_view(p->records[i].data, p->records[i].len, &ref) == EDU_OK &&
		    edu_item_peek(ref.item, ref.item_len, &h))
			printf(" %s:%llu", h.unit, (unsigned long long)h.seq);
		else
			printf(" ?");
	}
	printf("\n");
}

static int fake_parent(const opts *o, const char *url, int seconds, char **files, int n_files)
{
	nng_socket s;
	nng_listener l;
	ProtobufCBinaryData *recs = calloc((size_t)n_files + 1, sizeof *recs);
	const char *self = o->link ? edu_pki_id_unit(o->link) : o->self;
	const uint8_t *der = NULL;
	size_t der_len = 0;
	time_t end = time(NULL) + seconds;
	int rc = 1;
	if (!recs)
		return 1;
	for (int i = 0; i < n_files; i++)
		if (read_all(files[i], &recs[i].data, &recs[i].len) != 0)
			goto out;
	if (o->link && edu_pki_id_cert_der(o->link, &der, &der_len) != EDU_OK)
		goto out;
	if (nng_rep0_open(&s) != 0 || nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, EDU_WIRE_MSG_MAX) != 0 ||
	    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 200) != 0 || nng_listener_create(&l, s, url) != 0)
		goto out;
	if (strncmp(url, "tls+", 4) == 0) {
		nng_tls_config *cfg = NULL;
		char ca[600], crt[512], key[512], why[256] = "", *slash;
		if (!o->id) {
			printf("tls+tcp:// needs --id\n");
			goto out;
		}
		snprintf(ca, sizeof ca, "%s", o->id);
		slash = strrchr(ca, '/');
		snprintf(slash ? slash + 1 : ca, sizeof ca - (size_t)(slash ? slash + 1 - ca : 0), "ca.crt");
		snprintf(crt, sizeof crt, "%s.crt", o->id);
		snprintf(key, sizeof key, "%s.key", o->id);
		if (edu_pki_nng_tls(&cfg, NNG_TLS_MODE_SERVER, ca, crt, key, why, sizeof why) != EDU_OK) {
			printf("tls: %s\n", why);
			goto out;
		}
		int r = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, cfg);
		nng_tls_config_free(cfg);
		if (r != 0)
			goto out;
	}
	if (nng_listener_start(l, 0) != 0) {
		printf("listen %s failed\n", url);
		goto out;
	}
	printf("fake parent %s listening on %s with %d directive(s)\n", self, url, n_files);
	fflush(stdout);
	while (time(NULL) < end) {
		edu_wire_msg *req = NULL, env = EDUNET__WIRE__ENVELOPE__INIT;
		nng_msg *m = NULL, *out = NULL;
		char why[256];
		if (nng_recvmsg(s, &m, 0) != 0)
			continue;
		if (edu_wire_decode(nng_msg_body(m), nng_msg_len(m), &req, why, sizeof why) != EDU_OK) {
			printf("undecodable request: %s\n", why);
			nng_msg_free(m);
			continue;
		}
		nng_msg_free(m);
		switch (req->body_case) {
		case EDUNET__WIRE__ENVELOPE__BODY_HELLO: {
			Edunet__Wire__HelloAck ha = EDUNET__WIRE__HELLO_ACK__INIT;
			uint8_t challenge[EDU_WIRE_NONCE_LEN], msg[EDU_WIRE_SIGNED_MAX], sig[EDU_PKI_SIG_LEN];
			ha.parent_unit = (char *)self;
			ha.time_ms = (int64_t)time(NULL) * 1000;
			if (o->link && req->hello->nonce.len == EDU_WIRE_NONCE_LEN) {
				size_t n = edu_wire_handshake_msg(msg, EDU_WIRE_HELLO_CTX, req->hello->unit, self,
				    req->hello->nonce.data);
				edu_pki_sign(o->link, msg, n, sig);
				randombytes_buf(challenge, sizeof challenge);
				ha.challenge.data = challenge;
				ha.challenge.len = sizeof challenge;
				ha.cert.data = (uint8_t *)der;
				ha.cert.len = der_len;
				ha.nonce_sig.data = sig;
				ha.nonce_sig.len = sizeof sig;
			}
			printf("hello from %s\n", req->hello->unit);
			env.body_case = EDUNET__WIRE__ENVELOPE__BODY_HELLO_ACK;
			env.hello_ack = &ha;
			out = reply_to(&env);
			break;
		}
		case EDUNET__WIRE__ENVELOPE__BODY_AUTH: {
			Edunet__Wire__AuthAck aa = EDUNET__WIRE__AUTH_ACK__INIT;
			aa.time_ms = (int64_t)time(NULL) * 1000;
			env.body_case = EDUNET__WIRE__ENVELOPE__BODY_AUTH_ACK;
			env.auth_ack = &aa;
			out = reply_to(&env);
			break;
		}
		case EDUNET__WIRE__ENVELOPE__BODY_PUSH: {
			Edunet__Wire__PushAck pa = EDUNET__WIRE__PUSH_ACK__INIT;
			print_push(req->push);
			pa.acked = req->push->upto;
			env.body_case = EDUNET__WIRE__ENVELOPE__BODY_PUSH_ACK;
			env.push_ack = &pa;
			out = reply_to(&env);
			break;
		}
		case EDUNET__WIRE__ENVELOPE__BODY_HEARTBEAT: {
			Edunet__Wire__HeartbeatAck hb = EDUNET__WIRE__HEARTBEAT_ACK__INIT;
			hb.time_ms = (int64_t)time(NULL) * 1000;
			env.body_case = EDUNET__WIRE__ENVELOPE__BODY_HEARTBEAT_ACK;
			env.heartbeat_ack = &hb;
			out = reply_to(&env);
			break;
		}
		case EDUNET__WIRE__ENVELOPE__BODY_DIR_SYNC: {
			Edunet__Wire__DirSyncAck da = EDUNET__WIRE__DIR_SYNC_ACK__INIT;
			da.down_cursor = (uint64_t)n_files;
			da.receipts_acked = (uint32_t)req->dir_sync->n_receipts;
			if (req->dir_sync->down_cursor < (uint64_t)n_files) {
				da.n_directives = (size_t)n_files;
				da.directives = recs;
			}
			printf("dirsync cursor %llu, %zu receipt(s): offering %zu directive(s)\n",
			    (unsigned long long)req->dir_sync->down_cursor, req->dir_sync->n_receipts, da.n_directives);
			env.body_case = EDUNET__WIRE__ENVELOPE__BODY_DIR_SYNC_ACK;
			env.dir_sync_ack = &da;
			out = reply_to(&env);
			break;
		}
		default:
			printf("request %d ignored\n", (int)req->body_case);
			break;
		}
		fflush(stdout);
		edu_wire_free(req);
		if (out && nng_sendmsg(s, out, 0) != 0)
			nng_msg_free(out);
	}
	rc = 0;
	nng_close(s);
out:
	for (int i = 0; i < n_files; i++)
		free(recs[i].data);
	free(recs);
	return rc;
}

int main(int argc, char **argv)
{
	nng_socket s;
	nng_dialer d;
	opts o = {.version = 1, .title = "Tin thử nghiệm", .self = "pgd-fake"};
	int rc, i = 1;
	if (sodium_init() < 0)
		return 1;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--id") == 0 && i + 1 < argc)
			o.id = argv[++i];
		else if (strcmp(argv[i], "--origin-id") == 0 && i + 1 < argc)
			o.origin_id = argv[++i];
		else if (strcmp(argv[i], "--version") == 0 && i + 1 < argc)
			o.version = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--title") == 0 && i + 1 < argc)
			o.title = argv[++i];
		else if (strcmp(argv[i], "--time") == 0 && i + 1 < argc)
			o.when = strtoll(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--self") == 0 && i + 1 < argc)
			o.self = argv[++i];
		else if (strcmp(argv[i], "--gap-ms") == 0 && i + 1 < argc) {
			o.gap_ms = atoi(argv[++i]);
			if (o.gap_ms < 0 || o.gap_ms > GAP_MAX_MS)
				return usage();
		} else if (strcmp(argv[i], "--forge") == 0)
			o.forge = true;
		else if (strcmp(argv[i], "--tamper") == 0)
			o.tamper = true;
		else if (strcmp(argv[i], "--unsigned") == 0)
			o.unsigned_ = true;
		else if (strcmp(argv[i], "--bad-auth") == 0)
			o.bad_auth = true;
		else if (strcmp(argv[i], "--no-hello") == 0)
			o.no_hello = true;
		else
			return usage();
	}
	argv += i - 1;
	argc -= i - 1;
	if (argc < 4)
		return usage();
	if (o.id && !(o.link = load_id(o.id)))
		return 1;
	if (!o.origin_id)
		o.origin = o.link;
	else if (!(o.origin = load_id(o.origin_id)))
		return 1;
	if (strcmp(argv[1], "craft") == 0 || strcmp(argv[1], "parent") == 0) {
		if (strcmp(argv[1], "craft") == 0)
			rc = argc < 5 ? usage() : craft(&o, argv[2], argv[3], argv[4], argc > 5 ? argv[5] : NULL);
		else
			rc = fake_parent(&o, argv[2], atoi(argv[3]), argv + 4, argc - 4);
		fflush(stdout);
		if (o.origin != o.link)
			edu_pki_id_free(o.origin);
		edu_pki_id_free(o.link);
		return rc;
	}
	if (nng_req0_open(&s) != 0 || nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, EDU_WIRE_MSG_MAX) != 0 ||
	    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 3000) != 0 || nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 3000) != 0 ||
	    nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE) != 0)
		return 1;
	if ((rc = nng_dialer_create(&d, s, argv[1])) != 0) {
		printf("dial %s: %s\n", argv[1], nng_strerror(rc));
		return 1;
	}
	if (strncmp(argv[1], "tls+", 4) == 0) {
		nng_tls_config *cfg = NULL;
		char ca[600], crt[512], key[512], why[256] = "", *slash;
		if (!o.id) {
			printf("tls+tcp:// needs --id\n");
			return 2;
		}
		snprintf(ca, sizeof ca, "%s", o.id);
		slash = strrchr(ca, '/');
		snprintf(slash ? slash + 1 : ca, sizeof ca - (size_t)(slash ? slash + 1 - ca : 0), "ca.crt");
		snprintf(crt, sizeof crt, "%s.crt", o.id);
		snprintf(key, sizeof key, "%s.key", o.id);
		if (edu_pki_nng_tls(&cfg, NNG_TLS_MODE_CLIENT, ca, crt, key, why, sizeof why) != EDU_OK) {
			printf("tls: %s\n", why);
			return 1;
		}
		rc = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg);
		nng_tls_config_free(cfg);
		if (rc != 0)
			return 1;
	}
	if ((rc = nng_dialer_start(d, 0)) != 0) {
		printf("dial %s: %s\n", argv[1], nng_strerror(rc));
		rc = 4;
	} else if (strcmp(argv[3], "garbage") == 0) {
		rc = garbage(s);
	} else if ((o.no_hello || (rc = hello(s, argv[2], &o)) == 0) && strcmp(argv[3], "push") == 0) {
		if (argc < 6) {
			fprintf(stderr, "push needs ORIGIN SEQ\n");
			rc = 2;
		} else {
			rc = push(s, argv[4], strtoull(argv[5], NULL, 10), argc > 6 ? argv[6] : o.title, &o);
		}
	} else if (rc == 0 && strcmp(argv[3], "pushes") == 0) {
		if (argc < 6) {
			fprintf(stderr, "pushes needs ORIGIN and at least one AFTER:UPTO[:r]\n");
			rc = 2;
		} else {
			rc = pushes(s, argv[4], argv + 5, argc - 5, o.gap_ms, o.title, &o);
		}
	} else if (rc == 0 && strcmp(argv[3], "dirsync") == 0) {
		rc = argc < 5 ? usage() : dirsync(s, argv[4]);
	} else if (rc == 0 && strcmp(argv[3], "inject") == 0) {
		rc = argc < 5 ? usage() : inject(s, argv[4]);
	} else if (rc == 0 && strcmp(argv[3], "receipt") == 0) {
		if (argc < 7) {
			fprintf(stderr, "receipt needs DIRECTIVE_ID UNIT acked|reported\n");
			rc = 2;
		} else {
			rc = receipt(s, argv[4], argv[5], argv[6], &o);
		}
	} else if (o.no_hello && strcmp(argv[3], "push") != 0) {
		rc = 0;
	}
	fflush(stdout);
	nng_close(s);
	if (o.origin != o.link)
		edu_pki_id_free(o.origin);
	edu_pki_id_free(o.link);
	return rc;
}
