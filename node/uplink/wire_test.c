#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "uplink/wire.h"

static uint8_t *pack(edu_wire_msg *m, size_t *len)
{
	uint8_t *p = NULL;
	assert_int_equal(edu_wire_encode(m, &p, len), EDU_OK);
	return p;
}

static void roundtrip_hello(void **state)
{
	edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT, *d = NULL;
	Edunet__Wire__Hello h = EDUNET__WIRE__HELLO__INIT;
	size_t len;
	uint8_t *p;
	char why[200];
	h.unit = "thcs-an-binh-a";
	h.software_version = "0.1.0";
	h.wire_version = EDU_WIRE_VERSION;
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_HELLO;
	env.hello = &h;
	p = pack(&env, &len);
	assert_int_equal(edu_wire_decode(p, len, &d, why, sizeof why), EDU_OK);
	assert_int_equal(d->version, EDU_WIRE_VERSION);
	assert_int_equal(d->body_case, EDUNET__WIRE__ENVELOPE__BODY_HELLO);
	assert_string_equal(d->hello->unit, "thcs-an-binh-a");
	assert_string_equal(d->hello->software_version, "0.1.0");
	edu_wire_free(d);
	free(p);
}

static void roundtrip_push(void **state)
{
	edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT, *d = NULL;
	Edunet__Wire__Push push = EDUNET__WIRE__PUSH__INIT;
	Edunet__Wire__Blob blob = EDUNET__WIRE__BLOB__INIT, *blobs[1] = {&blob};
	ProtobufCBinaryData recs[3];
	uint8_t sha[32], data[100], r0[10] = {1, 2, 3}, r1[5] = {9}, r2[1] = {7};
	size_t len;
	uint8_t *p;
	char why[200];
	memset(sha, 0xab, sizeof sha);
	memset(data, 0x5a, sizeof data);
	recs[0].data = r0; recs[0].len = sizeof r0;
	recs[1].data = r1; recs[1].len = sizeof r1;
	recs[2].data = r2; recs[2].len = sizeof r2;
	blob.sha256.data = sha; blob.sha256.len = 32;
	blob.data.data = data; blob.data.len = sizeof data;
	push.upto = 42;
	push.n_records = 3;
	push.records = recs;
	push.n_blobs = 1;
	push.blobs = blobs;
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_PUSH;
	env.push = &push;
	p = pack(&env, &len);
	assert_int_equal(edu_wire_decode(p, len, &d, why, sizeof why), EDU_OK);
	assert_int_equal(d->push->upto, 42);
	assert_int_equal(d->push->n_records, 3);
	assert_int_equal(d->push->records[0].len, 10);
	assert_memory_equal(d->push->records[1].data, r1, 5);
	assert_int_equal(d->push->n_blobs, 1);
	assert_memory_equal(d->push->blobs[0]->data.data, data, 100);
	edu_wire_free(d);
	free(p);
}

static void roundtrip_status(void **state)
{
	edu_node_status s, back;
	Edunet__Wire__NodeStatus pb, *pbs[1] = {&pb};
	Edunet__Wire__Heartbeat hb = EDUNET__WIRE__HEARTBEAT__INIT;
	edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT, *d = NULL;
	size_t len;
	uint8_t *p;
	char why[200];
	memset(&s, 0, sizeof s);
	strcpy(s.unit, "pgd-tanhong");
	strcpy(s.parent, "so-dongthap");
	strcpy(s.role, "phong");
	strcpy(s.version, "0.1.0");
	strcpy(s.uplink_state, "online");
	s.uptime_s = 77;
	s.items_total = 1000;
	s.items_own = 10;
	s.backlog = 5;
	s.rejected_total = 3;
	s.oldest_unacked_ms = 1000000 - 3000;
	s.last_ack_ms = 1000000 - 100;
	s.reported_ms = 1000000 - 400;
	edu_wire_status_to_pb(&s, 1000000, &pb);
	assert_int_equal(pb.age_ms, 400);
	hb.n_statuses = 1;
	hb.statuses = pbs;
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_HEARTBEAT;
	env.heartbeat = &hb;
	p = pack(&env, &len);
	assert_int_equal(edu_wire_decode(p, len, &d, why, sizeof why), EDU_OK);
	/* The receiver's clock is 5 s ahead: ages keep their meaning. */
	edu_wire_status_from_pb(d->heartbeat->statuses[0], 1005000, &back);
	assert_string_equal(back.unit, "pgd-tanhong");
	assert_string_equal(back.parent, "so-dongthap");
	assert_string_equal(back.uplink_state, "online");
	assert_int_equal(back.items_total, 1000);
	assert_int_equal(back.backlog, 5);
	assert_int_equal(back.rejected_total, 3);
	assert_int_equal(back.reported_ms, 1005000 - 400);
	assert_int_equal(back.oldest_unacked_ms, 1005000 - 3000);
	assert_int_equal(back.last_ack_ms, 1005000 - 100);
	edu_wire_free(d);
	free(p);
}

static void error_reply(void **state)
{
	nng_msg *m = NULL;
	edu_wire_msg *d = NULL;
	char why[200];
	assert_int_equal(edu_wire_error_nng(&m, EDUNET__WIRE__ERROR__CODE__REFUSED, "no\nway"), EDU_OK);
	assert_int_equal(edu_wire_decode(nng_msg_body(m), nng_msg_len(m), &d, why, sizeof why), EDU_OK);
	assert_int_equal(d->error->code, EDUNET__WIRE__ERROR__CODE__REFUSED);
	assert_string_equal(d->error->message, "no?way");
	edu_wire_free(d);
	nng_msg_free(m);
}

static uint8_t *push_bytes(size_t *len)
{
	edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT;
	Edunet__Wire__Push push = EDUNET__WIRE__PUSH__INIT;
	ProtobufCBinaryData recs[2];
	static uint8_t r[300];
	memset(r, 0x11, sizeof r);
	recs[0].data = r; recs[0].len = 300;
	recs[1].data = r; recs[1].len = 200;
	push.upto = 7;
	push.n_records = 2;
	push.records = recs;
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_PUSH;
	env.push = &push;
	return pack(&env, len);
}

static void truncated(void **state)
{
	size_t len, cut;
	uint8_t *p = push_bytes(&len);
	edu_wire_msg *d = NULL;
	char why[200];
	/* Every proper prefix that cuts into a field must fail cleanly. */
	for (cut = 1; cut < len; cut++) {
		edu_err rv = edu_wire_decode(p, cut, &d, why, sizeof why);
		if (rv == EDU_OK) {
			/* A prefix ending on a field boundary is a valid shorter message. */
			edu_wire_free(d);
			d = NULL;
			continue;
		}
		assert_null(d);
		assert_true(rv == EDU_EPROTO || rv == EDU_EVERSION);
	}
	assert_int_equal(edu_wire_decode(p, len - 1, &d, why, sizeof why), EDU_EPROTO);
	assert_int_equal(edu_wire_decode(p, 0, &d, why, sizeof why), EDU_EVERSION);
	free(p);
}

static void garbage(void **state)
{
	uint8_t buf[512];
	edu_wire_msg *d = NULL;
	char why[200];
	int i, j;
	uint32_t x = 12345;
	for (i = 0; i < 2000; i++) {
		size_t n = 1 + (x % sizeof buf);
		for (j = 0; j < (int)n; j++) {
			x = x * 1103515245u + 12345u;
			buf[j] = (uint8_t)(x >> 16);
		}
		if (edu_wire_decode(buf, n, &d, why, sizeof why) == EDU_OK) {
			edu_wire_free(d);
			d = NULL;
		}
	}
	/* A flipped byte inside a valid push. */
	{
		size_t len, k;
		uint8_t *p = push_bytes(&len);
		for (k = 0; k < len; k++) {
			p[k] ^= 0xff;
			if (edu_wire_decode(p, len, &d, why, sizeof why) == EDU_OK) {
				edu_wire_free(d);
				d = NULL;
			}
			p[k] ^= 0xff;
		}
		free(p);
	}
}

static void wrong_version(void **state)
{
	edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT, *d = NULL;
	Edunet__Wire__HeartbeatAck a = EDUNET__WIRE__HEARTBEAT_ACK__INIT;
	size_t n;
	uint8_t *p;
	char why[200];
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_HEARTBEAT_ACK;
	env.heartbeat_ack = &a;
	env.version = 2; /* packed by hand: edu_wire_encode would stamp 1 */
	n = edunet__wire__envelope__get_packed_size(&env);
	p = malloc(n);
	edunet__wire__envelope__pack(&env, p);
	assert_int_equal(edu_wire_decode(p, n, &d, why, sizeof why), EDU_EVERSION);
	assert_null(d);
	assert_non_null(strstr(why, "version 2"));
	free(p);
}

static void no_body(void **state)
{
	edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT, *d = NULL;
	size_t n;
	uint8_t *p;
	char why[200];
	p = pack(&env, &n);
	assert_int_equal(edu_wire_decode(p, n, &d, why, sizeof why), EDU_EPROTO);
	free(p);
}

static void oversize_counts(void **state)
{
	edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT, *d = NULL;
	Edunet__Wire__Push push = EDUNET__WIRE__PUSH__INIT;
	Edunet__Wire__Heartbeat hb = EDUNET__WIRE__HEARTBEAT__INIT;
	Edunet__Wire__NodeStatus st = EDUNET__WIRE__NODE_STATUS__INIT;
	Edunet__Wire__NodeStatus **sts;
	ProtobufCBinaryData *recs;
	uint8_t r = 1, *p;
	size_t n, i;
	char why[200];

	recs = calloc(EDU_WIRE_RECORDS_MAX + 1, sizeof *recs);
	for (i = 0; i <= EDU_WIRE_RECORDS_MAX; i++) {
		recs[i].data = &r;
		recs[i].len = 1;
	}
	push.upto = 1;
	push.n_records = EDU_WIRE_RECORDS_MAX + 1;
	push.records = recs;
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_PUSH;
	env.push = &push;
	p = pack(&env, &n);
	assert_int_equal(edu_wire_decode(p, n, &d, why, sizeof why), EDU_ETOOBIG);
	free(p);
	push.n_records = EDU_WIRE_RECORDS_MAX;
	p = pack(&env, &n);
	assert_int_equal(edu_wire_decode(p, n, &d, why, sizeof why), EDU_OK);
	edu_wire_free(d);
	free(p);
	free(recs);

	st.unit = "th-a";
	sts = calloc(EDU_WIRE_STATUSES_MAX + 1, sizeof *sts);
	for (i = 0; i <= EDU_WIRE_STATUSES_MAX; i++)
		sts[i] = &st;
	hb.n_statuses = EDU_WIRE_STATUSES_MAX + 1;
	hb.statuses = sts;
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_HEARTBEAT;
	env.heartbeat = &hb;
	p = pack(&env, &n);
	assert_int_equal(edu_wire_decode(p, n, &d, why, sizeof why), EDU_ETOOBIG);
	free(p);
	free(sts);

	/* Larger than the message limit: refused before unpacking. */
	assert_int_equal(edu_wire_decode(&r, (size_t)EDU_WIRE_MSG_MAX + 1, &d, why, sizeof why), EDU_ETOOBIG);
}

static void bad_fields(void **state)
{
	edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT, *d = NULL;
	Edunet__Wire__Hello h = EDUNET__WIRE__HELLO__INIT;
	Edunet__Wire__Push push = EDUNET__WIRE__PUSH__INIT;
	Edunet__Wire__Blob blob = EDUNET__WIRE__BLOB__INIT, *blobs[1] = {&blob};
	Edunet__Wire__Heartbeat hb = EDUNET__WIRE__HEARTBEAT__INIT;
	Edunet__Wire__NodeStatus st = EDUNET__WIRE__NODE_STATUS__INIT, *sts[1] = {&st};
	ProtobufCBinaryData rec;
	uint8_t sha[31] = {0}, one = 1, *p;
	size_t n;
	char why[200];

	h.unit = "Bad_Unit";
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_HELLO;
	env.hello = &h;
	p = pack(&env, &n);
	assert_int_equal(edu_wire_decode(p, n, &d, why, sizeof why), EDU_EPROTO);
	free(p);

	/* records without a position; blob with a short hash; empty record */
	rec.data = &one;
	rec.len = 1;
	push.n_records = 1;
	push.records = &rec;
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_PUSH;
	env.push = &push;
	p = pack(&env, &n);
	assert_int_equal(edu_wire_decode(p, n, &d, why, sizeof why), EDU_EPROTO);
	free(p);
	push.upto = 3;
	blob.sha256.data = sha;
	blob.sha256.len = sizeof sha;
	push.n_blobs = 1;
	push.blobs = blobs;
	p = pack(&env, &n);
	assert_int_equal(edu_wire_decode(p, n, &d, why, sizeof why), EDU_EPROTO);
	assert_non_null(strstr(why, "sha256"));
	free(p);

	/* status with a control character in its state, and a negative age */
	st.unit = "th-a";
	st.uplink_state = "on\x1bline";
	hb.n_statuses = 1;
	hb.statuses = sts;
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_HEARTBEAT;
	env.heartbeat = &hb;
	p = pack(&env, &n);
	assert_int_equal(edu_wire_decode(p, n, &d, why, sizeof why), EDU_EPROTO);
	free(p);
	st.uplink_state = "online";
	st.age_ms = -5;
	p = pack(&env, &n);
	assert_int_equal(edu_wire_decode(p, n, &d, why, sizeof why), EDU_EPROTO);
	free(p);
	st.age_ms = 5;
	st.version = "0123456789012345678901234567890"; /* longer than edu_node_status.version */
	p = pack(&env, &n);
	assert_int_equal(edu_wire_decode(p, n, &d, why, sizeof why), EDU_EPROTO);
	free(p);
}

static void budget(void **state)
{
	/* A heartbeat of many empty statuses: 2 bytes on the wire each, a
	 * large struct each in memory. Decoding must stop at its budget. */
	size_t count = 2u * 1024 * 1024, i, n = count * 2 + 16;
	uint8_t *p = malloc(n), *q = p;
	edu_wire_msg *d = NULL;
	char why[200];
	size_t inner = count * 2;
	*q++ = 0x08; *q++ = 0x01;          /* version = 1 */
	*q++ = (6 << 3) | 2;               /* heartbeat, length-delimited */
	while (inner >= 0x80) {            /* varint length */
		*q++ = (uint8_t)(inner | 0x80);
		inner >>= 7;
	}
	*q++ = (uint8_t)inner;
	for (i = 0; i < count; i++) {
		*q++ = (1 << 3) | 2;       /* statuses, empty */
		*q++ = 0;
	}
	assert_int_equal(edu_wire_decode(p, (size_t)(q - p), &d, why, sizeof why), EDU_ETOOBIG);
	assert_null(d);
	assert_non_null(strstr(why, "budget"));
	free(p);
}

/* Decodes env; expects rv (and, for EDU_OK, frees the result). */
static void expect_decode(edu_wire_msg *env, edu_err want)
{
	edu_wire_msg *d = NULL;
	size_t len;
	char why[200] = "";
	uint8_t *p = pack(env, &len);
	edu_err rv = edu_wire_decode(p, len, &d, why, sizeof why);
	if (rv != want)
		fail_msg("decode gave %d (want %d): %s", (int)rv, (int)want, why);
	edu_wire_free(d);
	free(p);
}

/* The identity handshake: certificate and nonce together, exact lengths. */
static void handshake(void **state)
{
	edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT;
	Edunet__Wire__Hello h = EDUNET__WIRE__HELLO__INIT;
	Edunet__Wire__HelloAck ack = EDUNET__WIRE__HELLO_ACK__INIT;
	Edunet__Wire__Auth au = EDUNET__WIRE__AUTH__INIT;
	static uint8_t cert[EDU_WIRE_CERT_MAX + 1], nonce[EDU_WIRE_NONCE_LEN + 1], sig[EDU_WIRE_SIG_LEN + 1];
	uint8_t m1[EDU_WIRE_SIGNED_MAX], m2[EDU_WIRE_SIGNED_MAX];
	size_t n1, n2;
	h.unit = "th-a1";
	h.software_version = "0.1.0";
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_HELLO;
	env.hello = &h;
	h.cert.data = cert;
	h.cert.len = 500;
	h.nonce.data = nonce;
	h.nonce.len = EDU_WIRE_NONCE_LEN;
	expect_decode(&env, EDU_OK);
	h.nonce.len = 31;
	expect_decode(&env, EDU_EPROTO);
	h.nonce.len = 0; /* a certificate without a nonce */
	expect_decode(&env, EDU_EPROTO);
	h.nonce.len = EDU_WIRE_NONCE_LEN;
	h.cert.len = EDU_WIRE_CERT_MAX + 1;
	expect_decode(&env, EDU_ETOOBIG);
	h.cert.len = 0;
	h.nonce.len = 0; /* test mode */
	expect_decode(&env, EDU_OK);

	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_HELLO_ACK;
	env.hello_ack = &ack;
	ack.parent_unit = "pgd-a";
	ack.challenge.data = nonce;
	ack.challenge.len = EDU_WIRE_NONCE_LEN;
	ack.nonce_sig.data = sig;
	ack.nonce_sig.len = EDU_WIRE_SIG_LEN;
	ack.cert.data = cert;
	ack.cert.len = 100;
	expect_decode(&env, EDU_OK);
	ack.nonce_sig.len = 63;
	expect_decode(&env, EDU_EPROTO);
	ack.nonce_sig.len = EDU_WIRE_SIG_LEN;
	ack.challenge.len = 16;
	expect_decode(&env, EDU_EPROTO);

	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_AUTH;
	env.auth = &au;
	au.sig.data = sig;
	au.sig.len = EDU_WIRE_SIG_LEN;
	expect_decode(&env, EDU_OK);
	au.sig.len = 0;
	expect_decode(&env, EDU_EPROTO);

	/* what is signed binds both units and the context: no swapping them */
	memset(nonce, 7, sizeof nonce);
	n1 = edu_wire_handshake_msg(m1, EDU_WIRE_AUTH_CTX, "pgd-a", "th-a1", nonce);
	n2 = edu_wire_handshake_msg(m2, EDU_WIRE_AUTH_CTX, "pgd-at", "h-a1", nonce);
	assert_int_equal(n1, strlen(EDU_WIRE_AUTH_CTX) + 5 + 1 + 5 + 1 + EDU_WIRE_NONCE_LEN);
	assert_true(n1 != n2 || memcmp(m1, m2, n1) != 0);
	n2 = edu_wire_handshake_msg(m2, EDU_WIRE_HELLO_CTX, "pgd-a", "th-a1", nonce);
	assert_true(n1 != n2 || memcmp(m1, m2, n1) != 0);
	n2 = edu_wire_handshake_msg(m2, EDU_WIRE_AUTH_CTX, "ab-cdefghijklmnopqrstuvwxyz0123456789abcd",
	    "ab-cdefghijklmnopqrstuvwxyz0123456789abcd", nonce);
	assert_true(n2 <= EDU_WIRE_SIGNED_MAX);
}

/* Push.certs and Reject.reason limits. */
static void certs_and_reasons(void **state)
{
	edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT;
	Edunet__Wire__Push push = EDUNET__WIRE__PUSH__INIT;
	Edunet__Wire__PushAck ack = EDUNET__WIRE__PUSH_ACK__INIT;
	Edunet__Wire__Reject rj = EDUNET__WIRE__REJECT__INIT, *rjs[1] = {&rj};
	static uint8_t cert[EDU_WIRE_CERT_MAX + 1];
	static char reason[EDU_WIRE_TEXT_MAX + 10];
	ProtobufCBinaryData certs[2];
	ProtobufCBinaryData *many;
	size_t i;
	certs[0].data = cert;
	certs[0].len = 300;
	certs[1].data = cert;
	certs[1].len = 0;
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_PUSH;
	env.push = &push;
	push.n_certs = 1;
	push.certs = certs;
	expect_decode(&env, EDU_OK);
	push.n_certs = 2; /* an empty certificate */
	expect_decode(&env, EDU_EPROTO);
	certs[1].len = EDU_WIRE_CERT_MAX + 1;
	expect_decode(&env, EDU_ETOOBIG);
	many = calloc(EDU_WIRE_CERTS_MAX + 1, sizeof *many);
	assert_non_null(many);
	for (i = 0; i <= EDU_WIRE_CERTS_MAX; i++) {
		many[i].data = cert;
		many[i].len = 1;
	}
	push.n_certs = EDU_WIRE_CERTS_MAX + 1;
	push.certs = many;
	expect_decode(&env, EDU_ETOOBIG);
	free(many);

	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_PUSH_ACK;
	env.push_ack = &ack;
	ack.acked = 5;
	ack.n_rejects = 1;
	ack.rejects = rjs;
	rj.item_id = "th-a1:2";
	rj.reason = "origin signature of th-a1 does not verify over the item";
	expect_decode(&env, EDU_OK);
	memset(reason, 'x', sizeof reason - 1);
	rj.reason = reason;
	expect_decode(&env, EDU_EPROTO);
	rj.reason = "bad\nline";
	expect_decode(&env, EDU_EPROTO);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip_hello),
		cmocka_unit_test(roundtrip_push),
		cmocka_unit_test(roundtrip_status),
		cmocka_unit_test(error_reply),
		cmocka_unit_test(truncated),
		cmocka_unit_test(garbage),
		cmocka_unit_test(wrong_version),
		cmocka_unit_test(no_body),
		cmocka_unit_test(oversize_counts),
		cmocka_unit_test(bad_fields),
		cmocka_unit_test(budget),
		cmocka_unit_test(handshake),
		cmocka_unit_test(certs_and_reasons),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
