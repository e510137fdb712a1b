#include "uplink/wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "item/item.h"

/* protobuf-c allocator with a byte budget: unpack fails (NULL) once the
 * message would cost more than its budget. Frees are not counted back: one
 * unpack is one pass. */
typedef struct budget {
	size_t left;
	int exceeded;
} budget;

static void *budget_alloc(void *arg, size_t size)
{
	budget *b = arg;
	if (size > b->left) {
		b->exceeded = 1;
		return NULL;
	}
	b->left -= size;
	return malloc(size ? size : 1);
}

static void budget_free(void *arg, void *p)
{
	free(p);
}


/* Printable ASCII only, shorter than max: status fields end up in fixed
 * arrays, logs and JSON. */
static int text_ok(const char *s, size_t max)
{
	size_t n = 0;
	for (; s[n]; n++) {
		if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] > 0x7e)
			return 0;
		if (n + 1 >= max)
			return 0;
	}
	return 1;
}

static edu_err check_status(const Edunet__Wire__NodeStatus *st, size_t i, char *why, size_t whylen)
{
	edu_node_status probe;
	if (!edu_unit_id_valid(st->unit)) {
		edu_whyf(why, whylen, "status %zu: bad unit id", i);
		return EDU_EPROTO;
	}
	if (st->parent[0] && !edu_unit_id_valid(st->parent)) {
		edu_whyf(why, whylen, "status %zu: bad parent id", i);
		return EDU_EPROTO;
	}
	if (!text_ok(st->role, sizeof probe.role) || !text_ok(st->version, sizeof probe.version) ||
	    !text_ok(st->uplink_state, sizeof probe.uplink_state)) {
		edu_whyf(why, whylen, "status %zu (%s): role, version or state too long or not printable", i,
		    st->unit);
		return EDU_EPROTO;
	}
	if (st->age_ms < 0 || st->oldest_unacked_age_ms < 0 || st->last_ack_age_ms < -1 || st->uptime_s < 0) {
		edu_whyf(why, whylen, "status %zu (%s): negative age", i, st->unit);
		return EDU_EPROTO;
	}
	return EDU_OK;
}

static edu_err check_body(const edu_wire_msg *m, char *why, size_t whylen)
{
	size_t i;
	switch (m->body_case) {
	case EDUNET__WIRE__ENVELOPE__BODY_HELLO: {
		const Edunet__Wire__Hello *h = m->hello;
		if (!edu_unit_id_valid(h->unit)) {
			edu_whyf(why, whylen, "hello: bad unit id");
			return EDU_EPROTO;
		}
		if (!text_ok(h->software_version, 64)) {
			edu_whyf(why, whylen, "hello: bad software version");
			return EDU_EPROTO;
		}
		if (h->cert.len > EDU_WIRE_CERT_MAX) {
			edu_whyf(why, whylen, "hello: certificate of %zu bytes (max %d)", h->cert.len, EDU_WIRE_CERT_MAX);
			return EDU_ETOOBIG;
		}
		if (h->nonce.len != 0 && h->nonce.len != EDU_WIRE_NONCE_LEN) {
			edu_whyf(why, whylen, "hello: nonce of %zu bytes", h->nonce.len);
			return EDU_EPROTO;
		}
		if ((h->cert.len == 0) != (h->nonce.len == 0)) {
			edu_whyf(why, whylen, "hello: a certificate comes with a nonce");
			return EDU_EPROTO;
		}
		return EDU_OK;
	}
	case EDUNET__WIRE__ENVELOPE__BODY_AUTH:
		if (m->auth->sig.len != EDU_WIRE_SIG_LEN) {
			edu_whyf(why, whylen, "auth: signature of %zu bytes", m->auth->sig.len);
			return EDU_EPROTO;
		}
		return EDU_OK;
	case EDUNET__WIRE__ENVELOPE__BODY_AUTH_ACK:
		return EDU_OK;
	case EDUNET__WIRE__ENVELOPE__BODY_HELLO_ACK:
		if (!edu_unit_id_valid(m->hello_ack->parent_unit)) {
			edu_whyf(why, whylen, "hello_ack: bad parent unit id");
			return EDU_EPROTO;
		}
		if (m->hello_ack->challenge.len != 0 && m->hello_ack->challenge.len != EDU_WIRE_NONCE_LEN) {
			edu_whyf(why, whylen, "hello_ack: challenge of %zu bytes", m->hello_ack->challenge.len);
			return EDU_EPROTO;
		}
		if (m->hello_ack->cert.len > EDU_WIRE_CERT_MAX) {
			edu_whyf(why, whylen, "hello_ack: certificate of %zu bytes", m->hello_ack->cert.len);
			return EDU_ETOOBIG;
		}
		if (m->hello_ack->nonce_sig.len != 0 && m->hello_ack->nonce_sig.len != EDU_WIRE_SIG_LEN) {
			edu_whyf(why, whylen, "hello_ack: nonce signature of %zu bytes", m->hello_ack->nonce_sig.len);
			return EDU_EPROTO;
		}
		return EDU_OK;
	case EDUNET__WIRE__ENVELOPE__BODY_PUSH: {
		const Edunet__Wire__Push *p = m->push;
		if (p->n_records > EDU_WIRE_RECORDS_MAX) {
			edu_whyf(why, whylen, "push: %zu records (max %d)", p->n_records, EDU_WIRE_RECORDS_MAX);
			return EDU_ETOOBIG;
		}
		if (p->n_blobs > EDU_WIRE_BLOBS_MAX) {
			edu_whyf(why, whylen, "push: %zu blobs (max %d)", p->n_blobs, EDU_WIRE_BLOBS_MAX);
			return EDU_ETOOBIG;
		}
		if (p->n_certs > EDU_WIRE_CERTS_MAX) {
			edu_whyf(why, whylen, "push: %zu certificates (max %d)", p->n_certs, EDU_WIRE_CERTS_MAX);
			return EDU_ETOOBIG;
		}
		for (i = 0; i < p->n_certs; i++) {
			if (p->certs[i].len == 0 || p->certs[i].len > EDU_WIRE_CERT_MAX) {
				edu_whyf(why, whylen, "push: certificate %zu has %zu bytes", i, p->certs[i].len);
				return p->certs[i].len ? EDU_ETOOBIG : EDU_EPROTO;
			}
		}
		if (p->n_records > 0 && p->upto == 0) {
			edu_whyf(why, whylen, "push: records without a log position");
			return EDU_EPROTO;
		}
		for (i = 0; i < p->n_records; i++) {
			if (p->records[i].len == 0 || p->records[i].len > EDU_RECORD_MAX + 256) {
				edu_whyf(why, whylen, "push: record %zu has %zu bytes", i, p->records[i].len);
				return p->records[i].len ? EDU_ETOOBIG : EDU_EPROTO;
			}
		}
		for (i = 0; i < p->n_blobs; i++) {
			if (p->blobs[i]->sha256.len != 32) {
				edu_whyf(why, whylen, "push: blob %zu: sha256 of %zu bytes", i, p->blobs[i]->sha256.len);
				return EDU_EPROTO;
			}
			if (p->blobs[i]->data.len > EDU_ATTACH_MAX) {
				edu_whyf(why, whylen, "push: blob %zu: %zu bytes (max %u)", i, p->blobs[i]->data.len,
				    EDU_ATTACH_MAX);
				return EDU_ETOOBIG;
			}
		}
		return EDU_OK;
	}
	case EDUNET__WIRE__ENVELOPE__BODY_PUSH_ACK: {
		const Edunet__Wire__PushAck *a = m->push_ack;
		if (a->n_rejects > EDU_WIRE_RECORDS_MAX) {
			edu_whyf(why, whylen, "push_ack: %zu rejects", a->n_rejects);
			return EDU_ETOOBIG;
		}
		for (i = 0; i < a->n_rejects; i++) {
			if (!text_ok(a->rejects[i]->item_id, EDU_ITEM_ID_MAX) || a->rejects[i]->index >= EDU_WIRE_RECORDS_MAX ||
			    !text_ok(a->rejects[i]->reason, EDU_WIRE_TEXT_MAX)) {
				edu_whyf(why, whylen, "push_ack: reject %zu malformed", i);
				return EDU_EPROTO;
			}
		}
		return EDU_OK;
	}
	case EDUNET__WIRE__ENVELOPE__BODY_HEARTBEAT: {
		const Edunet__Wire__Heartbeat *h = m->heartbeat;
		edu_err rv;
		if (h->n_statuses == 0) {
			edu_whyf(why, whylen, "heartbeat: no status");
			return EDU_EPROTO;
		}
		if (h->n_statuses > EDU_WIRE_STATUSES_MAX) {
			edu_whyf(why, whylen, "heartbeat: %zu statuses (max %d)", h->n_statuses, EDU_WIRE_STATUSES_MAX);
			return EDU_ETOOBIG;
		}
		for (i = 0; i < h->n_statuses; i++)
			if ((rv = check_status(h->statuses[i], i, why, whylen)) != EDU_OK)
				return rv;
		return EDU_OK;
	}
	case EDUNET__WIRE__ENVELOPE__BODY_HEARTBEAT_ACK:
		return EDU_OK;
	case EDUNET__WIRE__ENVELOPE__BODY_DIR_SYNC: {
		const Edunet__Wire__DirSync *d = m->dir_sync;
		if (d->n_receipts > EDU_WIRE_DIR_RECORDS_MAX) {
			edu_whyf(why, whylen, "dir_sync: %zu receipts (max %d)", d->n_receipts, EDU_WIRE_DIR_RECORDS_MAX);
			return EDU_ETOOBIG;
		}
		for (i = 0; i < d->n_receipts; i++)
			if (d->receipts[i].len == 0) {
				edu_whyf(why, whylen, "dir_sync: receipt %zu empty", i);
				return EDU_EPROTO;
			}
		return EDU_OK;
	}
	case EDUNET__WIRE__ENVELOPE__BODY_DIR_SYNC_ACK: {
		const Edunet__Wire__DirSyncAck *d = m->dir_sync_ack;
		if (d->n_directives > EDU_WIRE_DIR_RECORDS_MAX) {
			edu_whyf(why, whylen, "dir_sync_ack: %zu directives (max %d)", d->n_directives,
			    EDU_WIRE_DIR_RECORDS_MAX);
			return EDU_ETOOBIG;
		}
		for (i = 0; i < d->n_directives; i++)
			if (d->directives[i].len == 0) {
				edu_whyf(why, whylen, "dir_sync_ack: directive %zu empty", i);
				return EDU_EPROTO;
			}
		return EDU_OK;
	}
	case EDUNET__WIRE__ENVELOPE__BODY_ERROR:
		if (!text_ok(m->error->message, EDU_WIRE_TEXT_MAX)) {
			edu_whyf(why, whylen, "error: message too long or not printable");
			return EDU_EPROTO;
		}
		return EDU_OK;
	default:
		edu_whyf(why, whylen, "envelope without a body");
		return EDU_EPROTO;
	}
}

edu_err edu_wire_decode(const void *buf, size_t len, edu_wire_msg **out, char *why, size_t whylen)
{
	budget b;
	ProtobufCAllocator alloc;
	edu_wire_msg *m;
	edu_err rv;

	*out = NULL;
	if (len > EDU_WIRE_MSG_MAX) {
		edu_whyf(why, whylen, "message of %zu bytes (max %u)", len, EDU_WIRE_MSG_MAX);
		return EDU_ETOOBIG;
	}
	b.left = len * EDU_WIRE_UNPACK_FACTOR + EDU_WIRE_UNPACK_EXTRA;
	b.exceeded = 0;
	alloc.alloc = budget_alloc;
	alloc.free = budget_free;
	alloc.allocator_data = &b;
	m = edunet__wire__envelope__unpack(&alloc, len, buf);
	if (!m) {
		if (b.exceeded) {
			edu_whyf(why, whylen, "message of %zu bytes expands past its decoding budget", len);
			return EDU_ETOOBIG;
		}
		edu_whyf(why, whylen, "undecodable message (%zu bytes)", len);
		return EDU_EPROTO;
	}
	/* Only canonical encodings: protobuf-c accepts some forms (a field number 0
	 * in a multi-byte varint) that it would re-pack differently, and a message
	 * we could not forward byte-for-byte is not one we accept. */
	if (edunet__wire__envelope__get_packed_size(m) != len) {
		edunet__wire__envelope__free_unpacked(m, &alloc);
		edu_whyf(why, whylen, "non-canonical message (%zu bytes)", len);
		return EDU_EPROTO;
	}
	/* The one place the wire version is decided. */
	if (m->version != EDU_WIRE_VERSION) {
		edu_whyf(why, whylen, "wire version %u (this node speaks %d)", m->version, EDU_WIRE_VERSION);
		rv = EDU_EVERSION;
		goto out;
	}
	rv = check_body(m, why, whylen);
out:
	if (rv != EDU_OK) {
		edu_wire_free(m);
		return rv;
	}
	*out = m;
	return EDU_OK;
}

void edu_wire_free(edu_wire_msg *m)
{
	ProtobufCAllocator alloc = {budget_alloc, budget_free, NULL};
	if (!m)
		return;
	edunet__wire__envelope__free_unpacked(m, &alloc);
}

edu_err edu_wire_encode(edu_wire_msg *m, uint8_t **out, size_t *len)
{
	size_t n;
	uint8_t *p;
	m->version = EDU_WIRE_VERSION;
	n = edunet__wire__envelope__get_packed_size(m);
	if (n > EDU_WIRE_MSG_MAX)
		return EDU_ETOOBIG;
	p = malloc(n ? n : 1);
	if (!p)
		return EDU_ENOMEM;
	edunet__wire__envelope__pack(m, p);
	*out = p;
	*len = n;
	return EDU_OK;
}

edu_err edu_wire_to_nng(edu_wire_msg *m, nng_msg **out)
{
	size_t n;
	nng_msg *msg;
	int r;
	m->version = EDU_WIRE_VERSION;
	n = edunet__wire__envelope__get_packed_size(m);
	if (n > EDU_WIRE_MSG_MAX)
		return EDU_ETOOBIG;
	if ((r = nng_msg_alloc(&msg, n)) != 0)
		return edu_err_from_nng(r);
	edunet__wire__envelope__pack(m, nng_msg_body(msg));
	*out = msg;
	return EDU_OK;
}

edu_err edu_wire_error_nng(nng_msg **out, Edunet__Wire__Error__Code code, const char *message)
{
	edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT;
	Edunet__Wire__Error e = EDUNET__WIRE__ERROR__INIT;
	char msg[EDU_WIRE_TEXT_MAX];
	size_t i;
	/* Keep it decodable by our own rules: printable, bounded. */
	snprintf(msg, sizeof msg, "%s", message ? message : "");
	for (i = 0; msg[i]; i++)
		if ((unsigned char)msg[i] < 0x20 || (unsigned char)msg[i] > 0x7e)
			msg[i] = '?';
	e.code = code;
	e.message = msg;
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_ERROR;
	env.error = &e;
	return edu_wire_to_nng(&env, out);
}

void edu_wire_status_to_pb(const edu_node_status *s, int64_t now_ms, Edunet__Wire__NodeStatus *pb)
{
	edunet__wire__node_status__init(pb);
	pb->unit = (char *)s->unit;
	pb->parent = (char *)s->parent;
	pb->role = (char *)s->role;
	pb->version = (char *)s->version;
	pb->uptime_s = s->uptime_s > 0 ? s->uptime_s : 0;
	pb->items_total = s->items_total;
	pb->items_own = s->items_own;
	pb->uplink_state = (char *)s->uplink_state;
	pb->backlog = s->backlog;
	pb->rejected_total = s->rejected_total;
	pb->oldest_unacked_age_ms = s->oldest_unacked_ms > 0 && now_ms > s->oldest_unacked_ms
	    ? now_ms - s->oldest_unacked_ms : 0;
	pb->last_ack_age_ms = s->last_ack_ms > 0 ? (now_ms > s->last_ack_ms ? now_ms - s->last_ack_ms : 0) : -1;
	pb->age_ms = s->reported_ms > 0 && now_ms > s->reported_ms ? now_ms - s->reported_ms : 0;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

void edu_wire_status_from_pb(const Edunet__Wire__NodeStatus *pb, int64_t now_ms, edu_node_status *s)
{
	memset(s, 0, sizeof *s);
	copy_str(s->unit, sizeof s->unit, pb->unit);
	copy_str(s->parent, sizeof s->parent, pb->parent);
	copy_str(s->role, sizeof s->role, pb->role);
	copy_str(s->version, sizeof s->version, pb->version);
	copy_str(s->uplink_state, sizeof s->uplink_state, pb->uplink_state);
	s->uptime_s = pb->uptime_s;
	s->items_total = pb->items_total;
	s->items_own = pb->items_own;
	s->backlog = pb->backlog;
	s->rejected_total = pb->rejected_total;
	s->oldest_unacked_ms = pb->oldest_unacked_age_ms > 0 ? now_ms - pb->oldest_unacked_age_ms : 0;
	s->last_ack_ms = pb->last_ack_age_ms >= 0 ? now_ms - pb->last_ack_age_ms : 0;
	s->reported_ms = now_ms - pb->age_ms;
}

/* ---- handshake -------------------------------------------------------------- */

size_t edu_wire_handshake_msg(uint8_t *out, const char *ctx, const char *a, const char *b,
    const uint8_t nonce[EDU_WIRE_NONCE_LEN])
{
	size_t n = 0, l;
	l = strlen(ctx);
	memcpy(out + n, ctx, l);
	n += l;
	l = strnlen(a, 40);
	memcpy(out + n, a, l);
	n += l;
	out[n++] = 0;
	l = strnlen(b, 40);
	memcpy(out + n, b, l);
	n += l;
	out[n++] = 0;
	memcpy(out + n, nonce, EDU_WIRE_NONCE_LEN);
	return n + EDU_WIRE_NONCE_LEN;
}

Edunet__Item *edu_wire_item_unpack(const uint8_t *buf, size_t len)
{
	budget b = {len * EDU_WIRE_UNPACK_FACTOR + 65536, 0};
	ProtobufCAllocator alloc = {budget_alloc, budget_free, &b};
	if (len > EDU_RECORD_MAX)
		return NULL;
	return edunet__item__unpack(&alloc, len, buf);
}

void edu_wire_item_free(Edunet__Item *it)
{
	ProtobufCAllocator alloc = {budget_alloc, budget_free, NULL};
	if (it)
		edunet__item__free_unpacked(it, &alloc);
}
