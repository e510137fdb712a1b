/* Fuzzes every node-to-node message as the parent (aggregator/agg.c) and the
 * child (node/uplink/uplink.c) decode it: edu_wire_decode, then what each
 * side does next with a decoded body (records: edu_record_decode,
 * edu_wire_item_unpack, edu_item_decode; statuses: edu_wire_status_from_pb).
 * Invariants: a decoded message has a body with the fields its checks
 * promise, and it re-encodes to something that decodes again. */
#include <stdbool.h>
#include <string.h>
#include "fuzz.h"
#include "item/item.h"
#include "uplink/wire.h"

static void records(const Edunet__Wire__Push *p)
{
	for (size_t i = 0; i < p->n_records; i++) {
		edu_record rec;
		FUZZ_CHECK(p->records[i].data != NULL || p->records[i].len == 0, "record %zu without data", i);
		if (edu_record_decode(p->records[i].data, p->records[i].len, &rec) != EDU_OK)
			continue;
		Edunet__Item *it = edu_wire_item_unpack(rec.item, rec.item_len);
		if (it) {
			FUZZ_CHECK(it->unit != NULL, "unpacked item without unit string");
			(void)edu_unit_id_valid(it->unit);
			edu_wire_item_free(it);
		}
		edu_item *item = NULL;
		if (edu_item_decode(rec.item, rec.item_len, &item) == EDU_OK)
			edu_item_free(item);
		edu_record_clear(&rec);
	}
	for (size_t i = 0; i < p->n_blobs; i++) {
		FUZZ_CHECK(p->blobs[i] != NULL, "blob %zu NULL", i);
		FUZZ_CHECK(p->blobs[i]->sha256.len == 32, "blob %zu: sha256 of %zu bytes passed the checks", i,
		    p->blobs[i]->sha256.len);
	}
}

static void body(const edu_wire_msg *m)
{
	switch (m->body_case) {
	case EDUNET__WIRE__ENVELOPE__BODY_HELLO:
		FUZZ_CHECK(m->hello && edu_unit_id_valid(m->hello->unit), "hello passed with a bad unit");
		break;
	case EDUNET__WIRE__ENVELOPE__BODY_HELLO_ACK:
		FUZZ_CHECK(m->hello_ack != NULL, "hello_ack NULL");
		break;
	case EDUNET__WIRE__ENVELOPE__BODY_PUSH:
		FUZZ_CHECK(m->push != NULL, "push NULL");
		FUZZ_CHECK(m->push->n_records <= EDU_WIRE_RECORDS_MAX && m->push->n_blobs <= EDU_WIRE_BLOBS_MAX,
		    "push counts over the limits");
		records(m->push);
		break;
	case EDUNET__WIRE__ENVELOPE__BODY_PUSH_ACK:
		FUZZ_CHECK(m->push_ack != NULL, "push_ack NULL");
		for (size_t i = 0; i < m->push_ack->n_rejects; i++)
			FUZZ_CHECK(m->push_ack->rejects[i] && m->push_ack->rejects[i]->item_id, "reject %zu", i);
		break;
	case EDUNET__WIRE__ENVELOPE__BODY_HEARTBEAT: {
		const Edunet__Wire__Heartbeat *h = m->heartbeat;
		FUZZ_CHECK(h && h->n_statuses >= 1 && h->n_statuses <= EDU_WIRE_STATUSES_MAX,
		    "heartbeat status count passed the checks");
		/* agg.c reads statuses[0]->unit at once */
		FUZZ_CHECK(h->statuses[0] && h->statuses[0]->unit, "heartbeat without a first status");
		for (size_t i = 0; i < h->n_statuses; i++) {
			edu_node_status st;
			memset(&st, 0, sizeof st);
			FUZZ_CHECK(edu_unit_id_valid(h->statuses[i]->unit), "status %zu: bad unit passed", i);
			edu_wire_status_from_pb(h->statuses[i], INT64_C(1700000000000), &st);
			/* and back, as the node forwards its subtree's statuses upward */
			Edunet__Wire__NodeStatus pb;
			edu_wire_status_to_pb(&st, INT64_C(1700000000000), &pb);
		}
		break;
	}
	case EDUNET__WIRE__ENVELOPE__BODY_HEARTBEAT_ACK:
		FUZZ_CHECK(m->heartbeat_ack != NULL, "heartbeat_ack NULL");
		break;
	case EDUNET__WIRE__ENVELOPE__BODY_ERROR:
		FUZZ_CHECK(m->error && m->error->message, "error without message");
		break;
	default: {
		/* Bodies added later (auth, directives, ...): at least the member is
		 * there. Their payloads are decoded by other modules. */
		const ProtobufCFieldDescriptor *f =
		    protobuf_c_message_descriptor_get_field(m->base.descriptor, (unsigned)m->body_case);
		FUZZ_CHECK(f && f->type == PROTOBUF_C_TYPE_MESSAGE, "decoded envelope with body case %d",
		    (int)m->body_case);
		FUZZ_CHECK(*(void *const *)((const char *)m + f->offset) != NULL, "body %s is NULL", f->name);
		break;
	}
	}
}

/* True when m or a message inside it kept unknown fields. protobuf-c keeps
 * them and packs them again, but it accepts a field number 0 spelled with a
 * multi-byte varint ("80 80 00") that it then packs as "00", which its own
 * parser refuses: such messages decode but their re-encoding does not (see
 * crashers/fuzz_wire/). The round-trip check skips them; the node never
 * re-packs a decoded envelope (statuses are rebuilt field by field). */
static bool has_unknown(const ProtobufCMessage *m)
{
	if (!m)
		return false;
	if (m->n_unknown_fields)
		return true;
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		const char *base = (const char *)m + f->offset;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
			ProtobufCMessage *const *arr = *(ProtobufCMessage *const *const *)base;
			for (size_t k = 0; k < n; k++)
				if (has_unknown(arr[k]))
					return true;
		} else {
			if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
			    *(const uint32_t *)((const char *)m + f->quantifier_offset) != f->id)
				continue; /* another member of the oneof is set */
			if (has_unknown(*(ProtobufCMessage *const *)base))
				return true;
		}
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet();
	edu_wire_msg *m = NULL;
	char why[256] = "";
	edu_err e = edu_wire_decode(data, size, &m, why, sizeof why);
	if (e != EDU_OK) {
		FUZZ_CHECK(m == NULL, "failed decode left a message");
		FUZZ_CHECK(why[0] != '\0', "failed decode (%s) without a reason", edu_strerror(e));
		return 0;
	}
	FUZZ_CHECK(m != NULL && m->version == EDU_WIRE_VERSION, "decoded message with version %u",
	    m ? m->version : 0);
	body(m);
	if (has_unknown(&m->base)) {
		edu_wire_free(m);
		return 0;
	}
	uint8_t *out = NULL;
	size_t out_len = 0;
	FUZZ_CHECK(edu_wire_encode(m, &out, &out_len) == EDU_OK, "decoded message does not encode");
	edu_wire_msg *m2 = NULL;
	FUZZ_CHECK(edu_wire_decode(out, out_len, &m2, why, sizeof why) == EDU_OK,
	    "re-encoded message does not decode: %s", why);
	FUZZ_CHECK(m2->body_case == m->body_case, "body changed in the round trip");
	edu_wire_free(m2);
	free(out);
	edu_wire_free(m);
	return 0;
}
