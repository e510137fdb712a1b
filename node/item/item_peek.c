/* Reading a Record's envelope and an Item's identity straight from their
 * protobuf bytes, without unpacking: the change log and the uplink handle
 * every record at every hop and need only these few fields, while a full
 * decode allocates every string of the item (and was most of the push
 * path's cost). Semantics follow protobuf: unknown fields are skipped, and
 * for a repeated scalar field the last occurrence wins. */
#include "item/item.h"

#include <string.h>

/* Wire types (protobuf encoding). */
enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

typedef struct pb_cur {
	const uint8_t *p, *end;
} pb_cur;

static bool get_varint(pb_cur *c, uint64_t *v)
{
	uint64_t x = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (c->p >= c->end)
			return false;
		uint8_t b = *c->p++;
		x |= (uint64_t)(b & 0x7F) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return true;
		}
	}
	return false; /* more than 10 bytes */
}

/* A field's key, read exactly as protobuf-c reads it (so that the two agree
 * on every input the decoder accepts): at most 5 bytes, the field number
 * in 32 bits, refused only when the first byte holds no number bits. */
static bool get_key(pb_cur *c, uint32_t *field, int *wt)
{
	size_t avail = (size_t)(c->end - c->p), max = avail > 5 ? 5 : avail;
	const uint8_t *d = c->p;
	uint32_t tag;
	unsigned shift = 4;
	if (avail == 0 || (d[0] & 0xf8) == 0)
		return false;
	*wt = d[0] & 7;
	tag = (uint32_t)(d[0] & 0x7f) >> 3;
	for (size_t i = 0;; i++) {
		if (i > 0) {
			tag |= (uint32_t)(d[i] & 0x7f) << shift;
			shift += 7;
		}
		if (!(d[i] & 0x80)) {
			*field = tag;
			c->p += i + 1;
			return true;
		}
		if (i + 1 >= max)
			return false;
	}
}

/* Next field: its number, wire type, and either its varint value or its
 * length-delimited payload. false on malformed input. */
static bool next_field(pb_cur *c, uint32_t *field, int *wt, uint64_t *val, const uint8_t **data, size_t *len)
{
	if (!get_key(c, field, wt))
		return false;
	switch (*wt) {
	case WT_VARINT:
		return get_varint(c, val);
	case WT_I64:
		if (c->end - c->p < 8)
			return false;
		c->p += 8;
		return true;
	case WT_I32:
		if (c->end - c->p < 4)
			return false;
		c->p += 4;
		return true;
	case WT_LEN:
		if (!get_varint(c, val) || *val > (uint64_t)(c->end - c->p))
			return false;
		*data = c->p;
		*len = (size_t)*val;
		c->p += *len;
		return true;
	default:
		return false; /* groups are not used by our messages */
	}
}

edu_err edu_record_view(const uint8_t *buf, size_t len, edu_record_ref *out)
{
	pb_cur c = {buf, buf + len};
	uint64_t format = 0;
	memset(out, 0, sizeof *out);
	if (len > EDU_RECORD_MAX)
		return EDU_ETOOBIG;
	while (c.p < c.end) {
		uint32_t f;
		int wt;
		uint64_t v = 0;
		const uint8_t *d = NULL;
		size_t n = 0;
		if (!next_field(&c, &f, &wt, &v, &d, &n))
			return EDU_EINVAL;
		if (f == 1 && wt == WT_VARINT)
			format = v;
		else if (f == 2 && wt == WT_LEN)
			out->item = d, out->item_len = n;
		else if (f == 3 && wt == WT_LEN)
			out->sig = d, out->sig_len = n;
		else if (f == 4 && wt == WT_VARINT)
			out->received_ms = (int64_t)v;
		else if (f <= 4)
			return EDU_EINVAL; /* a known field with the wrong wire type */
	}
	if ((uint32_t)format != EDU_RECORD_FORMAT) /* a uint32 field: protobuf-c keeps the low 32 bits */
		return EDU_EVERSION;
	if (out->item_len == 0 || out->item_len > EDU_ITEM_BYTES_MAX || (out->sig_len != 0 && out->sig_len != 64))
		return EDU_EINVAL;
	return EDU_OK;
}

bool edu_item_peek(const uint8_t *buf, size_t len, edu_item_head *h)
{
	pb_cur c = {buf, buf + len};
	memset(h, 0, sizeof *h);
	while (c.p < c.end) {
		uint32_t f;
		int wt;
		uint64_t v = 0;
		const uint8_t *d = NULL;
		size_t n = 0;
		if (!next_field(&c, &f, &wt, &v, &d, &n))
			return false;
		switch (f) {
		case 1:
			if (wt != WT_LEN || n > EDU_UNIT_ID_MAX || memchr(d, 0, n) != NULL)
				return false;
			memcpy(h->unit, d, n);
			h->unit[n] = '\0';
			break;
		case 2:
			if (wt != WT_VARINT)
				return false;
			h->seq = v;
			break;
		case 3:
			if (wt != WT_VARINT)
				return false;
			h->version = (uint32_t)v; /* a uint32 field: the low 32 bits, as protobuf-c */
			break;
		case 5:
			if (wt != WT_VARINT)
				return false;
			h->deleted = v != 0;
			break;
		case 14:
			if (wt != WT_LEN)
				return false;
			h->n_attachments++;
			break;
		default:
			break;
		}
	}
	return true;
}
