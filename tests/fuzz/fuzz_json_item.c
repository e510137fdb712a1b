/* Fuzzes the API's create path for an item body (node/api/api.c):
 * edu_item_json_parse (UTF-8 check, \u0000 refusal, cJSON), edu_item_from_json,
 * edu_item_normalize, edu_item_validate, then edu_item_to_json. Invariants:
 * - jansson is the reference JSON parser: what it accepts, the cJSON path
 *   accepts too (unless nested deeper than cJSON's 1000 levels), as the same
 *   tree: same types, keys in the same order, strings byte for byte, numbers
 *   equal;
 * - cJSON never reads past the text: it lies at the end of a page followed by
 *   an inaccessible one (the library is not instrumented, ASan cannot see it);
 * - a failed from_json leaves the item unchanged and names a reason; a
 *   validated item has a JSON form and survives the protobuf round trip with
 *   the same JSON. */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cJSON.h>
#include <jansson.h>
#include "fuzz.h"
#include "item/item.h"
#include "text/text.h"

static size_t depth(const json_t *j)
{
	size_t d = 0, i;
	const char *k;
	json_t *v;
	if (json_is_array(j)) {
		json_array_foreach(j, i, v) {
			size_t e = depth(v);
			d = e > d ? e : d;
		}
		return d + 1;
	}
	if (json_is_object(j)) {
		json_object_foreach((json_t *)j, k, v) {
			size_t e = depth(v);
			d = e > d ? e : d;
		}
		return d + 1;
	}
	return 0;
}

/* Fails the run where c and j differ. */
static void same(const cJSON *c, const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		FUZZ_CHECK(cJSON_IsObject(c), "object type");
		const char *k;
		json_t *v;
		const cJSON *e = c->child;
		json_object_foreach((json_t *)j, k, v) {
			FUZZ_CHECK(e && strcmp(e->string, k) == 0, "key \"%s\"", k);
			same(e, v);
			e = e->next;
		}
		FUZZ_CHECK(e == NULL, "cJSON has more keys");
		break;
	}
	case JSON_ARRAY: {
		FUZZ_CHECK(cJSON_IsArray(c), "array type");
		size_t i;
		json_t *v;
		const cJSON *e = c->child;
		json_array_foreach(j, i, v) {
			FUZZ_CHECK(e != NULL, "cJSON array shorter");
			same(e, v);
			e = e->next;
		}
		FUZZ_CHECK(e == NULL, "cJSON array longer");
		break;
	}
	case JSON_STRING:
		FUZZ_CHECK(cJSON_IsString(c) && strlen(c->valuestring) == json_string_length(j) &&
		    memcmp(c->valuestring, json_string_value(j), json_string_length(j)) == 0,
		    "string \"%s\"", json_string_value(j));
		break;
	case JSON_INTEGER:
		FUZZ_CHECK(cJSON_IsNumber(c) && c->valuedouble == (double)json_integer_value(j), "integer");
		break;
	case JSON_REAL:
		FUZZ_CHECK(cJSON_IsNumber(c) && c->valuedouble == json_real_value(j), "real");
		break;
	case JSON_TRUE:
		FUZZ_CHECK(cJSON_IsTrue(c), "true");
		break;
	case JSON_FALSE:
		FUZZ_CHECK(cJSON_IsFalse(c), "false");
		break;
	case JSON_NULL:
		FUZZ_CHECK(cJSON_IsNull(c), "null");
		break;
	}
}

/* The text at the very end of a readable mapping. */
static char *guarded_copy(const uint8_t *data, size_t size, void **map, size_t *maplen)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), room = (size + pg - 1) / pg * pg;
	*maplen = room + pg;
	*map = mmap(NULL, *maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	FUZZ_CHECK(*map != MAP_FAILED, "mmap");
	FUZZ_CHECK(mprotect((char *)*map + room, pg, PROT_NONE) == 0, "mprotect");
	char *p = (char *)*map + room - size;
	memcpy(p, data, size);
	return p;
}

static void item_checks(const cJSON *obj)
{
	edu_item *it = edu_item_new();
	FUZZ_CHECK(it != NULL, "edu_item_new");
	it->tz_offset_min = 7 * 60;
	char why[256] = "";
	edu_err e = edu_item_from_json(it, obj, why, sizeof why);
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
		return;
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
		return;
	}
	char vwhy[256] = "";
	if (edu_item_validate(it, vwhy, sizeof vwhy) != EDU_OK) {
		FUZZ_CHECK(vwhy[0] != '\0', "validate failed without a reason");
		edu_item_free(it);
		return;
	}
	json_error_t jerr;
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
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet();
	void *map;
	size_t maplen;
	char *p = guarded_copy(data, size, &map, &maplen);
	cJSON *c = NULL;
	char why[256] = "";
	edu_err pe = edu_item_json_parse(p, size, &c, why, sizeof why);
	FUZZ_CHECK(pe == EDU_OK || why[0] != '\0', "parse failed (%s) without a reason", edu_strerror(pe));
	if (edu_text_utf8_valid(p, size)) {
		json_error_t jerr;
		json_t *j = json_loadb(p, size, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
		if (j && depth(j) <= CJSON_NESTING_LIMIT) {
			FUZZ_CHECK(pe == EDU_OK, "jansson accepts what the cJSON path refuses: %s", why);
			same(c, j);
		}
		json_decref(j);
	} else {
		FUZZ_CHECK(pe == EDU_EINVAL, "invalid UTF-8 accepted");
	}
	if (cJSON_IsObject(c))
		item_checks(c);
	cJSON_Delete(c);
	munmap(map, maplen);
	return 0;
}
