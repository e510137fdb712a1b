/* Fuzzes the protobuf codecs of node/item on bytes as they arrive from a
 * child (Push.records) or from disk: edu_record_decode, then edu_item_decode
 * on the record's item bytes and on the raw input. Invariants: what decodes
 * validates, converts to JSON, and re-encodes to bytes that decode to the
 * same item; edu_record_view and edu_item_peek (the replication path's
 * readers) agree with the decoders. */
#include <string.h>
#include <jansson.h>
#include "fuzz.h"
#include "item/item.h"

static void item_bytes(const uint8_t *data, size_t size)
{
	edu_item *it = NULL;
	char why[256] = "";
	edu_err e = edu_item_decode_why(data, size, &it, why, sizeof why);
	if (e != EDU_OK) {
		FUZZ_CHECK(it == NULL, "failed decode left an item");
		return;
	}
	FUZZ_CHECK(it != NULL, "decode OK without an item");
	/* The change log and the uplink route by edu_item_peek: on every item
	 * the store accepts it must read the same identity. */
	edu_item_head h;
	FUZZ_CHECK(edu_item_peek(data, size, &h), "decodable item that peek refuses");
	FUZZ_CHECK(strcmp(h.unit, it->unit) == 0 && h.seq == it->seq && h.version == it->version &&
	    h.deleted == it->deleted && h.n_attachments == it->n_attachments, "peek disagrees with decode");
	char vwhy[256] = "";
	FUZZ_CHECK(edu_item_validate(it, vwhy, sizeof vwhy) == EDU_OK, "decoded item fails validate: %s", vwhy);

	edu_item *d = edu_item_dup(it);
	FUZZ_CHECK(d != NULL, "dup failed");
	json_t *j = edu_item_to_json(d, true);
	FUZZ_CHECK(j != NULL, "validated item has no JSON form");
	char *s = json_dumps(j, JSON_COMPACT);
	FUZZ_CHECK(s != NULL, "json_dumps failed");
	free(s);

	/* Re-encoding gives bytes that decode to the same item. (Byte equality
	 * with the input does not hold: decode accepts unknown fields and fields
	 * out of order, which encode does not reproduce; see the fuzz report.) */
	uint8_t *out = NULL;
	size_t out_len = 0;
	FUZZ_CHECK(edu_item_encode(it, &out, &out_len) == EDU_OK, "decoded item does not encode");
	FUZZ_CHECK(out_len <= size, "re-encoding grew (%zu vs %zu bytes)", out_len, size);
	edu_item *re = NULL;
	char rwhy[256] = "";
	FUZZ_CHECK(edu_item_decode_why(out, out_len, &re, rwhy, sizeof rwhy) == EDU_OK,
	    "re-encoded item does not decode: %s", rwhy);
	json_t *j2 = edu_item_to_json(re, true);
	FUZZ_CHECK(j2 && json_equal(j, j2), "re-encoded item differs");
	json_decref(j2);
	edu_item_free(re);
	free(out);
	json_decref(j);
	edu_item_free(d);

	/* The plain decode must agree with the one that explains itself. */
	edu_item *again = NULL;
	FUZZ_CHECK(edu_item_decode(data, size, &again) == EDU_OK, "decode and decode_why disagree");
	edu_item_free(again);
	edu_item_free(it);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet();
	edu_record rec;
	edu_record_ref ref;
	memset(&rec, 0, sizeof rec);
	/* The in-place view (what replication reads) and the decoding copy agree. */
	edu_err ve = edu_record_view(data, size, &ref);
	if (edu_record_decode(data, size, &rec) == EDU_OK) {
		FUZZ_CHECK(ve == EDU_OK && ref.item_len == rec.item_len && memcmp(ref.item, rec.item, rec.item_len) == 0,
		    "record view disagrees with decode");
		FUZZ_CHECK(rec.item != NULL || rec.item_len == 0, "record without item bytes");
		FUZZ_CHECK(rec.item_len <= EDU_RECORD_MAX, "record item of %zu bytes", rec.item_len);
		uint8_t *enc = NULL;
		size_t enc_len = 0;
		FUZZ_CHECK(edu_record_encode(&rec, &enc, &enc_len) == EDU_OK, "decoded record does not encode");
		edu_record rec2;
		memset(&rec2, 0, sizeof rec2);
		FUZZ_CHECK(edu_record_decode(enc, enc_len, &rec2) == EDU_OK, "re-encoded record does not decode");
		FUZZ_CHECK(rec2.item_len == rec.item_len && rec2.has_sig == rec.has_sig &&
		    (rec.item_len == 0 || memcmp(rec2.item, rec.item, rec.item_len) == 0),
		    "record round trip changed it");
		edu_record_clear(&rec2);
		free(enc);
		item_bytes(rec.item, rec.item_len);
		edu_record_clear(&rec);
	}
	item_bytes(data, size);
	return 0;
}
