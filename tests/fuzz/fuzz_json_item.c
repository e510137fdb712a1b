/* Fuzzes the API's create path for an item body (node/api/api.c): UTF-8
 * check, jansson parse (duplicates rejected), edu_item_from_json,
 * edu_item_normalize, edu_item_validate, then edu_item_to_json. Invariants:
 * a failed from_json leaves the item unchanged and names a reason; a
 * validated item has a JSON form and survives the protobuf round trip with
 * the same JSON. */
#include <string.h>
#include <jansson.h>
#include "fuzz.h"
#include "item/item.h"
#include "text/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet();
	if (!edu_text_utf8_valid((const char *)data, size))
		return 0; /* the API answers 400 before parsing */
	json_error_t jerr;
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		return 0;
	}
	edu_item *it = edu_item_new();
	FUZZ_CHECK(it != NULL, "edu_item_new");
	it->tz_offset_min = 7 * 60;
	char why[256] = "";
	edu_err e = edu_item_from_json(it, j, why, sizeof why);
	json_decref(j);
	if (e != EDU_OK) {
		FUZZ_CHECK(why[0] != '\0', "from_json failed (%s) without a reason", edu_strerror(e));
		/* "On failure *it is unchanged" */
		edu_item *fresh = edu_item_new();
		fresh->tz_offset_min = 7 * 60;
		json_t *a = edu_item_to_json(it, true), *b = edu_item_to_json(fresh, true);
		FUZZ_CHECK(a && b && json_equal(a, b), "failed from_json changed the item");
		json_decref(a);
		json_decref(b);
		edu_item_free(fresh);
		edu_item_free(it);
		return 0;
	}
	free(it->unit);
	it->unit = strdup("th-fuzz");
	free(it->unit_name);
	it->unit_name = strdup("Trường Fuzz");
	it->seq = 1;
	it->version = 1;
	if (it->published == 0)
		it->published = 1735689600; /* the API stamps the time when absent */
	if (it->updated == 0)
		it->updated = it->published;
	if (edu_item_normalize(it) != EDU_OK) {
		edu_item_free(it);
		return 0;
	}
	char vwhy[256] = "";
	if (edu_item_validate(it, vwhy, sizeof vwhy) != EDU_OK) {
		FUZZ_CHECK(vwhy[0] != '\0', "validate failed without a reason");
		edu_item_free(it);
		return 0;
	}
	json_t *out = edu_item_to_json(it, true);
	FUZZ_CHECK(out != NULL, "validated item has no JSON form");
	char *s = json_dumps(out, JSON_COMPACT);
	FUZZ_CHECK(s != NULL, "json_dumps");
	json_t *back = json_loads(s, JSON_REJECT_DUPLICATES, &jerr);
	FUZZ_CHECK(back && json_equal(back, out), "to_json output does not parse back: %s", jerr.text);
	json_decref(back);
	free(s);

	uint8_t *bytes = NULL;
	size_t len = 0;
	FUZZ_CHECK(edu_item_encode(it, &bytes, &len) == EDU_OK, "validated item does not encode");
	edu_item *dec = NULL;
	char dwhy[256] = "";
	FUZZ_CHECK(edu_item_decode_why(bytes, len, &dec, dwhy, sizeof dwhy) == EDU_OK,
	    "encoded item does not decode: %s", dwhy);
	json_t *out2 = edu_item_to_json(dec, true);
	FUZZ_CHECK(out2 && json_equal(out, out2), "protobuf round trip changed the item");
	json_decref(out2);
	edu_item_free(dec);
	free(bytes);
	json_decref(out);
	edu_item_free(it);
	return 0;
}
