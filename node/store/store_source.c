/* Old portal links (import): the `sources` index from the normalized path of
 * an item's source_url to the item, its normalization (one function, used
 * when indexing and when a request is looked up), the lookup, and the
 * rebuild that migrates a format-1 store. See store_internal.h for the
 * layout. */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"

static bool unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
	    c == '.' || c == '_' || c == '~';
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_scheme_char(unsigned char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return !first && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.');
}

edu_err edu_store_source_path(const char *url, char *out, size_t outlen)
{
	if (url == NULL || out == NULL || outlen == 0)
		return EDU_EINVAL;
	out[0] = '\0';
	size_t ulen = strnlen(url, EDU_URL_MAX + 1);
	if (ulen == 0 || ulen > EDU_URL_MAX)
		return ulen ? EDU_ETOOBIG : EDU_EINVAL;
	for (size_t i = 0; i < ulen; i++)
		if ((unsigned char)url[i] < 0x21 || url[i] == 0x7f)
			return EDU_EINVAL; /* controls and spaces: no URL we index or serve */
	const char *p = url, *end = url + ulen;
	const char *hash = memchr(p, '#', ulen);
	if (hash)
		end = hash;
	/* scheme ":" */
	const char *s = p;
	while (s < end && is_scheme_char((unsigned char)*s, s == p))
		s++;
	if (s > p && s < end && *s == ':')
		p = s + 1;
	/* "//" authority */
	if (end - p >= 2 && p[0] == '/' && p[1] == '/') {
		p += 2;
		while (p < end && *p != '/' && *p != '?')
			p++;
	}
	if (p < end && *p != '/' && *p != '?')
		return EDU_EINVAL; /* a relative reference names no old path */
	const char *q = memchr(p, '?', (size_t)(end - p));
	const char *pend = q ? q : end;

	size_t n = 0, max = outlen - 1 < EDU_STORE_SOURCE_PATH_MAX ? outlen - 1 : EDU_STORE_SOURCE_PATH_MAX;
#define PUT(ch) do { if (n >= max) return EDU_ETOOBIG; out[n++] = (char)(ch); } while (0)
	if (p == pend)
		PUT('/');
	for (const char *c = p; c < pend; c++) {
		int h1, h2;
		if (*c == '%' && pend - c >= 3 && (h1 = hexval((unsigned char)c[1])) >= 0 &&
		    (h2 = hexval((unsigned char)c[2])) >= 0) {
			unsigned char v = (unsigned char)(h1 << 4 | h2);
			if (unreserved(v)) {
				PUT(v);
			} else { /* kept encoded, hex digits uppercased (RFC 3986 6.2.2.1) */
				static const char hx[] = "0123456789ABCDEF";
				PUT('%');
				PUT(hx[v >> 4]);
				PUT(hx[v & 15]);
			}
			c += 2;
		} else {
			PUT(*c);
		}
	}
	if (n > 1 && out[n - 1] == '/')
		n--;
	if (q && q + 1 < end) {
		for (const char *c = q; c < end; c++)
			PUT(*c);
	}
#undef PUT
	out[n] = '\0';
	return EDU_OK;
}

size_t store_source_val(uint8_t out[SOURCE_VAL_MAX], int64_t updated, const uint8_t *ik, size_t iklen)
{
	store_put_u64(out, ~((uint64_t)updated ^ (1ull << 63)));
	memcpy(out + 8, ik, iklen);
	return 8 + iklen;
}

int store_source_put(MDB_txn *txn, MDB_dbi dbi, const char *path, const uint8_t *val, size_t vlen, bool add)
{
	MDB_val k = {strlen(path), (void *)path}, v = {vlen, (void *)val};
	int rc;
	if (add) {
		rc = mdb_put(txn, dbi, &k, &v, MDB_NODUPDATA);
		if (rc == MDB_KEYEXIST)
			rc = 0;
	} else {
		rc = mdb_del(txn, dbi, &k, &v);
		if (rc == MDB_NOTFOUND) {
			edu_log(LOG_WARNING, "store: source index entry missing on delete");
			rc = 0;
		}
	}
	return rc;
}

bool store_source_of_item(const edu_item *it, char out[EDU_STORE_SOURCE_PATH_MAX + 1])
{
	if (it->deleted || it->source_url == NULL || it->source_url[0] == '\0')
		return false;
	edu_err e = edu_store_source_path(it->source_url, out, EDU_STORE_SOURCE_PATH_MAX + 1);
	if (e != EDU_OK) {
		edu_log(LOG_INFO, "store: %s:%llu: source_url not indexed (%s)", it->unit, (unsigned long long)it->seq,
		    edu_strerror(e));
		return false;
	}
	return true;
}

int64_t store_source_time(const edu_item *it)
{
	return it->updated ? it->updated : it->published;
}

int store_source_rebuild(MDB_txn *txn, const edu_store *s, uint64_t *indexed)
{
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int rc = mdb_drop(txn, s->db[DB_SOURCES], 0);
	*indexed = 0;
	if (rc == 0)
		rc = mdb_cursor_open(txn, s->db[DB_ITEMS], &c);
	for (rc = rc ? rc : mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		edu_item *it = NULL;
		char path[EDU_STORE_SOURCE_PATH_MAX + 1];
		uint8_t val[SOURCE_VAL_MAX];
		if (k.mv_size > IKEY_MAX) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (store_load_item(txn, s, k.mv_data, k.mv_size, &it) != EDU_OK) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (store_source_of_item(it, path)) {
			size_t vl = store_source_val(val, store_source_time(it), k.mv_data, k.mv_size);
			rc = store_source_put(txn, s->db[DB_SOURCES], path, val, vl, true);
			(*indexed)++;
		}
		edu_item_free(it);
		if (rc != 0)
			break;
	}
	if (rc == MDB_NOTFOUND)
		rc = 0;
	if (c)
		mdb_cursor_close(c);
	return rc;
}

edu_err edu_store_find_source(edu_store_rd *r, const char *path, char *unit_out, uint64_t *seq)
{
	char norm[EDU_STORE_SOURCE_PATH_MAX + 1];
	unit_out[0] = '\0';
	*seq = 0;
	edu_err e = edu_store_source_path(path, norm, sizeof norm);
	if (e != EDU_OK)
		return e == EDU_ETOOBIG ? EDU_ENOENT : e; /* never indexed */
	MDB_val k = {strlen(norm), norm}, v;
	int rc = mdb_get(r->txn, r->s->db[DB_SOURCES], &k, &v); /* first duplicate: the newest */
	if (rc == MDB_NOTFOUND)
		return EDU_ENOENT;
	if (rc != 0)
		return edu_err_from_mdb(rc);
	if (v.mv_size <= 8 || !store_ikey_parse((const uint8_t *)v.mv_data + 8, v.mv_size - 8, unit_out, seq))
		return EDU_EIO;
	return EDU_OK;
}
