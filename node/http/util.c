/* Small parsers and encoders for requests and responses: HTTP dates,
 * If-None-Match, limit= values, attachment paths, Content-Disposition, and
 * the paging cursor. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include "http.h"
#include "http_internal.h"
#include "item/item.h"

edu_err http_date_parse(const char *s, int64_t *unix_s)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	if (!s)
		return EDU_EINVAL;
	const char *end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!end || *end != '\0')
		return EDU_EINVAL;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return EDU_EINVAL;
	*unix_s = (int64_t)t;
	return EDU_OK;
}

/* Compares opaque tags ignoring a W/ prefix on either side (weak comparison). */
static const char *opaque(const char *t, size_t *len)
{
	if (*len >= 2 && t[0] == 'W' && t[1] == '/') {
		t += 2;
		*len -= 2;
	}
	return t;
}

bool http_etag_match(const char *header, const char *etag)
{
	if (!header || !etag)
		return false;
	size_t elen = strlen(etag);
	const char *e = opaque(etag, &elen);
	const char *p = header;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		const char *start = p;
		while (*p && *p != ',')
			p++;
		size_t len = (size_t)(p - start);
		while (len && (start[len - 1] == ' ' || start[len - 1] == '\t'))
			len--;
		if (len == 1 && start[0] == '*')
			return true;
		const char *t = opaque(start, &len);
		if (len == elen && memcmp(t, e, len) == 0)
			return true;
	}
	return false;
}

edu_err http_parse_limit(const char *s, size_t def, size_t max, size_t *out)
{
	if (!s || !*s) {
		*out = def;
		return EDU_OK;
	}
	size_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || p - s >= 6)
			return EDU_EINVAL;
		v = v * 10 + (size_t)(*p - '0');
	}
	if (v < 1 || v > max)
		return EDU_EINVAL;
	*out = v;
	return EDU_OK;
}

edu_err http_parse_attachment_path(const char *rest, char *id, size_t idlen, size_t *n)
{
	/* rest is what follows "/i/": "{id}/a/{n}" */
	const char *slash = strchr(rest, '/');
	if (!slash || (size_t)(slash - rest) >= idlen || slash == rest)
		return EDU_EINVAL;
	if (strncmp(slash, "/a/", 3) != 0)
		return EDU_EINVAL;
	const char *num = slash + 3;
	size_t v = 0;
	if (!*num)
		return EDU_EINVAL;
	for (const char *p = num; *p; p++) {
		if (*p < '0' || *p > '9' || p - num >= 4)
			return EDU_EINVAL;
		v = v * 10 + (size_t)(*p - '0');
	}
	memcpy(id, rest, (size_t)(slash - rest));
	id[slash - rest] = '\0';
	*n = v;
	return EDU_OK;
}

edu_err http_disposition(const char *name, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	const char *prefix = "attachment; filename*=UTF-8''";
	size_t plen = strlen(prefix);
	if (outlen < plen + 1)
		return EDU_ETOOBIG;
	memcpy(out, prefix, plen);
	o = plen;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (isalnum(*p) || strchr("!#$&+-.^_`|~", *p)) {
			if (o + 2 > outlen)
				return EDU_ETOOBIG;
			out[o++] = (char)*p;
		} else {
			if (o + 4 > outlen)
				return EDU_ETOOBIG;
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	return EDU_OK;
}

void edu_http_cursor_encode(char out[EDU_HTTP_CURSOR_MAX], int64_t published, const char *unit,
    uint64_t seq)
{
	char raw[96];
	int n = snprintf(raw, sizeof raw, "%" PRId64 ".%s.%" PRIu64, published, unit, seq);
	if (n < 0 || (size_t)n >= sizeof raw)
		n = 0; /* cannot happen for a valid unit id */
	sodium_bin2base64(out, EDU_HTTP_CURSOR_MAX, (const unsigned char *)raw, (size_t)n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static bool all_digits(const char *s, size_t len)
{
	if (len == 0 || len > 20)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

edu_err edu_http_cursor_decode(const char *s, int64_t *published, char *unit_out, uint64_t *seq)
{
	unsigned char raw[100];
	size_t len = 0;
	if (!s || strlen(s) >= EDU_HTTP_CURSOR_MAX)
		return EDU_EINVAL;
	if (sodium_base642bin(raw, sizeof raw - 1, s, strlen(s), NULL, &len, NULL,
	        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return EDU_EINVAL;
	raw[len] = '\0';
	char *p = (char *)raw;
	char *d1 = strchr(p, '.');
	if (!d1)
		return EDU_EINVAL;
	char *d2 = strchr(d1 + 1, '.');
	if (!d2)
		return EDU_EINVAL;
	const char *ts = p;
	size_t tslen = (size_t)(d1 - p);
	bool neg = tslen > 0 && ts[0] == '-';
	if (!all_digits(ts + neg, tslen - neg))
		return EDU_EINVAL;
	size_t ulen = (size_t)(d2 - d1 - 1);
	if (ulen > EDU_UNIT_ID_MAX)
		return EDU_EINVAL;
	char unit[EDU_UNIT_ID_MAX + 1];
	memcpy(unit, d1 + 1, ulen);
	unit[ulen] = '\0';
	if (!edu_unit_id_valid(unit))
		return EDU_EINVAL;
	if (!all_digits(d2 + 1, strlen(d2 + 1)))
		return EDU_EINVAL;
	errno = 0;
	long long t = strtoll(ts, NULL, 10);
	unsigned long long q = strtoull(d2 + 1, NULL, 10);
	if (errno)
		return EDU_EINVAL;
	*published = t;
	memcpy(unit_out, unit, ulen + 1);
	*seq = q;
	return EDU_OK;
}
