/* edunet-testpeer: a minimal child that speaks the wire protocol with any
 * identity, for integration tests of what a parent must refuse.
 *
 *   edunet-testpeer URL UNIT hello
 *   edunet-testpeer URL UNIT push ORIGIN SEQ [TITLE]
 *   edunet-testpeer URL UNIT garbage
 *
 * Prints one line per step; exit 0 when every step was accepted, 3 when the
 * parent refused, 4 when it dropped the connection, 1 on other failures, 2 on
 * usage errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "item/item.h"
#include "uplink/wire.h"

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

static int hello(nng_socket s, const char *unit)
{
	edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT, *reply = NULL;
	Edunet__Wire__Hello h = EDUNET__WIRE__HELLO__INIT;
	nng_msg *m;
	int rc;
	h.unit = (char *)unit;
	h.software_version = "testpeer";
	h.wire_version = EDU_WIRE_VERSION;
	env.body_case = EDUNET__WIRE__ENVELOPE__BODY_HELLO;
	env.hello = &h;
	if (edu_wire_to_nng(&env, &m) != EDU_OK)
		return 1;
	printf("hello %s: ", unit);
	if ((rc = rpc(s, m, &reply)) != 0)
		return rc;
	printf("accepted by %s\n", reply->body_case == EDUNET__WIRE__ENVELOPE__BODY_HELLO_ACK
	    ? reply->hello_ack->parent_unit : "?");
	edu_wire_free(reply);
	return 0;
}

static int push(nng_socket s, const char *origin, uint64_t seq, const char *title)
{
	edu_wire_msg env = EDUNET__WIRE__ENVELOPE__INIT, *reply = NULL;
	Edunet__Wire__Push p = EDUNET__WIRE__PUSH__INIT;
	ProtobufCBinaryData rec;
	edu_item *it = edu_item_new();
	edu_record r;
	uint8_t *enc = NULL;
	size_t enc_len = 0;
	nng_msg *m;
	char why[200];
	int rc = 1;

	memset(&r, 0, sizeof r);
	if (!it)
		return 1;
	free(it->unit);
	it->unit = strdup(origin);
	it->seq = seq;
	it->version = 1;
	it->kind = EDU_KIND_NEWS;
	free(it->title);
	it->title = strdup(title);
	it->published = it->updated = (int64_t)time(NULL);
	it->tz_offset_min = 420;
	if (edu_item_validate(it, why, sizeof why) != EDU_OK) {
		printf("item invalid: %s\n", why);
		goto out;
	}
	if (edu_item_encode(it, &r.item, &r.item_len) != EDU_OK || edu_record_encode(&r, &enc, &enc_len) != EDU_OK)
		goto out;
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
		printf("acked with %zu rejects\n", reply->push_ack->n_rejects);
		rc = 3;
	} else {
		printf("acked\n");
	}
	edu_wire_free(reply);
out:
	free(enc);
	edu_record_clear(&r);
	edu_item_free(it);
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

int main(int argc, char **argv)
{
	nng_socket s;
	int rc;
	if (argc < 4) {
		fprintf(stderr, "usage: edunet-testpeer URL UNIT hello|push ORIGIN SEQ [TITLE]|garbage\n");
		return 2;
	}
	if (nng_req0_open(&s) != 0 || nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, EDU_WIRE_MSG_MAX) != 0 ||
	    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 3000) != 0 || nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 3000) != 0 ||
	    nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE) != 0)
		return 1;
	if ((rc = nng_dial(s, argv[1], NULL, 0)) != 0) {
		printf("dial %s: %s\n", argv[1], nng_strerror(rc));
		return 1;
	}
	if (strcmp(argv[3], "garbage") == 0) {
		rc = garbage(s);
	} else if ((rc = hello(s, argv[2])) == 0 && strcmp(argv[3], "push") == 0) {
		if (argc < 6) {
			fprintf(stderr, "push needs ORIGIN SEQ\n");
			rc = 2;
		} else {
			rc = push(s, argv[4], strtoull(argv[5], NULL, 10), argc > 6 ? argv[6] : "Tin thử nghiệm");
		}
	}
	fflush(stdout);
	nng_close(s);
	return rc;
}
