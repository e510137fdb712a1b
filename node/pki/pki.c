/* Shared helpers, node identity, verifier and nng TLS configuration. */
#include "pki/pki_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/asn1.h>
#include <mbedtls/base64.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/sha256.h>
#include <sodium.h>

#include "core/log.h"
#include "core/unitid.h"
#include "text/text.h"

/* ---------- small helpers ---------- */

void pki_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

void pki_mbed_why(char *why, size_t whylen, const char *what, int rc)
{
	char buf[160];

	mbedtls_strerror(rc, buf, sizeof(buf));
	pki_why(why, whylen, "%s: %s (-0x%04x)", what, buf, (unsigned)-rc);
}

/* mbedtls wants a RNG callback; libsodium's is seeded by the kernel and needs no state. */
int pki_rng(void *ctx, unsigned char *buf, size_t len)
{
	randombytes_buf(buf, len);
	return 0;
}

/* The name ends up in an X.509 DN built by mbedtls_x509_string_to_names, which
 * splits on ',' and '=' (in the tag) and has only a limited escape syntax:
 * refuse the few characters that would change the DN's meaning. */
bool pki_name_valid(const char *name, char *why, size_t whylen)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > EDU_PKI_NAME_MAX) {
		pki_why(why, whylen, "name must be 1..%d bytes", EDU_PKI_NAME_MAX);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x20 || c == 0x7f || c == ',' || c == '\\' || c == '+' || c == '"') {
			pki_why(why, whylen, "name may not contain control characters or any of , \\ + \"");
			return false;
		}
	}
	if (!edu_text_utf8_valid(name, n)) {
		pki_why(why, whylen, "name is not valid UTF-8");
		return false;
	}
	return true;
}

/* ---------- files ---------- */

edu_err pki_path(char *out, size_t outlen, const char *dir, const char *name, const char *ext, char *why,
		 size_t whylen)
{
	int n = snprintf(out, outlen, "%s/%s%s", dir, name, ext ? ext : "");

	if (n < 0 || (size_t)n >= outlen) {
		pki_why(why, whylen, "path too long: %s/%s%s", dir, name, ext ? ext : "");
		return EDU_ETOOBIG;
	}
	return EDU_OK;
}

edu_err pki_read_file(const char *path, size_t max, char **out, size_t *len, char *why, size_t whylen)
{
	edu_err rv = EDU_OK;
	int fd = -1;
	char *buf = NULL;
	struct stat st;
	size_t got = 0;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rv = edu_err_from_errno(errno);
		pki_why(why, whylen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rv = EDU_EINVAL;
		pki_why(why, whylen, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		rv = EDU_ETOOBIG;
		pki_why(why, whylen, "%s: %lld bytes, limit %zu", path, (long long)st.st_size, max);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		rv = EDU_ENOMEM;
		pki_why(why, whylen, "out of memory reading %s", path);
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rv = EDU_EIO;
			pki_why(why, whylen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break; /* shrank under us: take what is there */
		got += (size_t)r;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	buf = NULL;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rv;
}

static edu_err write_fd(int fd, const char *path, const void *data, size_t len, char *why, size_t whylen)
{
	const char *p = data;

	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			pki_why(why, whylen, "%s: %s", path, strerror(errno));
			return edu_err_from_errno(errno);
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) != 0) {
		pki_why(why, whylen, "%s: fsync: %s", path, strerror(errno));
		return EDU_EIO;
	}
	return EDU_OK;
}

edu_err pki_write_new(const char *path, const void *data, size_t len, int mode, char *why, size_t whylen)
{
	edu_err rv;
	/* O_EXCL with the final mode: a secret is never readable by others, not even briefly. */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);

	if (fd < 0) {
		pki_why(why, whylen, "%s: %s", path, errno == EEXIST ? "already exists, not overwriting" : strerror(errno));
		return edu_err_from_errno(errno);
	}
	rv = write_fd(fd, path, data, len, why, whylen);
	if (close(fd) != 0 && rv == EDU_OK) {
		rv = EDU_EIO;
		pki_why(why, whylen, "%s: close: %s", path, strerror(errno));
	}
	if (rv != EDU_OK)
		unlink(path);
	return rv;
}

edu_err pki_write_atomic(const char *path, const void *data, size_t len, int mode, char *why, size_t whylen)
{
	char tmp[PATH_MAX];
	edu_err rv;
	int n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);

	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		pki_why(why, whylen, "path too long: %s", path);
		return EDU_ETOOBIG;
	}
	unlink(tmp); /* left over from a crash; callers hold the CA lock */
	rv = pki_write_new(tmp, data, len, mode, why, whylen);
	if (rv != EDU_OK)
		return rv;
	if (rename(tmp, path) != 0) {
		pki_why(why, whylen, "rename %s: %s", path, strerror(errno));
		unlink(tmp);
		return edu_err_from_errno(errno);
	}
	return EDU_OK;
}

edu_err pki_mkdirs(const char *dir, char *why, size_t whylen)
{
	char p[PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(p)) {
		pki_why(why, whylen, "bad directory name");
		return EDU_EINVAL;
	}
	memcpy(p, dir, n + 1);
	/* like mkdir -p, but every directory we create is private (0700) */
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			pki_why(why, whylen, "mkdir %s: %s", p, strerror(errno));
			return edu_err_from_errno(errno);
		}
		p[i] = i == n ? '\0' : '/';
	}
	return EDU_OK;
}

/* ---------- certificates ---------- */

struct ext_ctx {
	uint8_t *ed_pub;
	bool *found;
};

/* mbedtls calls this for extensions it does not know; ours holds OCTET STRING(32). */
static int ext_cb(void *p_ctx, mbedtls_x509_crt const *crt, mbedtls_x509_buf const *oid, int critical,
		  const unsigned char *p, const unsigned char *end)
{
	struct ext_ctx *ctx = p_ctx;
	unsigned char *q = (unsigned char *)p;
	size_t len;

	if (oid->len != sizeof(PKI_OID_ED25519) - 1 || memcmp(oid->p, PKI_OID_ED25519, oid->len) != 0)
		return MBEDTLS_ERR_X509_UNKNOWN_OID; /* fatal only when critical */
	if (*ctx->found)
		return MBEDTLS_ERR_X509_INVALID_EXTENSIONS; /* twice */
	if (mbedtls_asn1_get_tag(&q, end, &len, MBEDTLS_ASN1_OCTET_STRING) != 0 || len != 32 || q + len != end)
		return MBEDTLS_ERR_X509_INVALID_EXTENSIONS;
	memcpy(ctx->ed_pub, q, 32);
	*ctx->found = true;
	return 0;
}

int pki_parse_der(mbedtls_x509_crt *crt, const uint8_t *der, size_t len, uint8_t ed_pub[32], bool *found)
{
	struct ext_ctx ctx = {ed_pub, found};
	int rc;

	*found = false;
	rc = mbedtls_x509_crt_parse_der_with_ext_cb(crt, der, len, 1, ext_cb, &ctx);
	/* A malformed (non-critical) extension of ours is skipped by mbedtls; treat the cert as lacking it. */
	return rc;
}

edu_err pki_pem_to_der(const char *pem, uint8_t **der, size_t *len, char *why, size_t whylen)
{
	mbedtls_pem_context ctx;
	size_t used = 0;
	const unsigned char *buf;
	size_t blen;
	int rc;
	edu_err rv = EDU_OK;

	*der = NULL;
	*len = 0;
	mbedtls_pem_init(&ctx);
	rc = mbedtls_pem_read_buffer(&ctx, "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----",
				     (const unsigned char *)pem, NULL, 0, &used);
	if (rc != 0) {
		rv = EDU_EINVAL;
		pki_mbed_why(why, whylen, "no PEM certificate", rc);
		goto out;
	}
	buf = ctx.buf; /* public fields in mbedtls 2.x */
	blen = ctx.buflen;
	if (blen == 0 || blen > EDU_PKI_CERT_MAX) {
		rv = EDU_ETOOBIG;
		pki_why(why, whylen, "certificate of %zu bytes, limit %d", blen, EDU_PKI_CERT_MAX);
		goto out;
	}
	*der = malloc(blen);
	if (*der == NULL) {
		rv = EDU_ENOMEM;
		pki_why(why, whylen, "out of memory");
		goto out;
	}
	memcpy(*der, buf, blen);
	*len = blen;
out:
	mbedtls_pem_free(&ctx);
	return rv;
}

bool pki_name_cn(const mbedtls_x509_name *name, char *out, size_t outlen)
{
	for (; name != NULL; name = name->next) {
		if (name->oid.p == NULL || MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &name->oid) != 0)
			continue;
		if (name->val.len >= outlen || memchr(name->val.p, '\0', name->val.len) != NULL)
			return false;
		memcpy(out, name->val.p, name->val.len);
		out[name->val.len] = '\0';
		return true;
	}
	return false;
}

void pki_serial_hex(const mbedtls_x509_buf *serial, char out[EDU_PKI_SERIAL_HEX_MAX + 1])
{
	static const char hx[] = "0123456789abcdef";
	size_t i = 0, o = 0;

	/* DER integers carry a leading 00 when the top bit is set; "01" and "0001" name the same serial. */
	while (i + 1 < serial->len && serial->p[i] == 0)
		i++;
	for (; i < serial->len && o + 2 <= EDU_PKI_SERIAL_HEX_MAX; i++) {
		out[o++] = hx[serial->p[i] >> 4];
		out[o++] = hx[serial->p[i] & 15];
	}
	out[o] = '\0';
}

int64_t pki_x509_time_unix(const mbedtls_x509_time *t)
{
	struct tm tm = {0};

	tm.tm_year = t->year - 1900;
	tm.tm_mon = t->mon - 1;
	tm.tm_mday = t->day;
	tm.tm_hour = t->hour;
	tm.tm_min = t->min;
	tm.tm_sec = t->sec;
	return (int64_t)timegm(&tm);
}

/* ---------- revoked.list and issued.csv ---------- */

static bool serial_hex_valid(const char *s, size_t n)
{
	if (n == 0 || n > EDU_PKI_SERIAL_HEX_MAX || n % 2 != 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool parse_i64(const char *s, size_t n, int64_t *out)
{
	int64_t v = 0;

	if (n == 0 || n > 18)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Splits s[0..n) on sep into at most max fields; returns the count or -1 when there are more. */
static int split(const char *s, size_t n, char sep, const char **f, size_t *fl, int max)
{
	int k = 0;
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == sep) {
			if (k == max)
				return -1;
			f[k] = s + start;
			fl[k] = i - start;
			k++;
			start = i + 1;
		}
	}
	return k;
}

int pki_rev_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pki_rev *)a)->serial, ((const struct pki_rev *)b)->serial);
}

edu_err pki_revoked_parse(const char *buf, size_t len, mbedtls_pk_context *ca_pub, struct pki_rev **out, size_t *n,
			  int64_t *written, char *why, size_t whylen)
{
	edu_err rv = EDU_OK;
	const char *sigline = NULL, *p, *end = buf + len;
	unsigned char sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE], hash[32];
	size_t siglen = 0, count = 0, cap = 0, lineno = 0;
	struct pki_rev *v = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	if (len > EDU_PKI_REVOKED_MAX) {
		pki_why(why, whylen, "revocation list of %zu bytes, limit %d", len, EDU_PKI_REVOKED_MAX);
		return EDU_ETOOBIG;
	}
	if (len == 0 || buf[len - 1] != '\n' || memchr(buf, '\0', len) != NULL) {
		pki_why(why, whylen, "revocation list is empty, truncated or binary");
		return EDU_EINVAL;
	}
	/* The signature line is the last line; everything before it is signed. */
	for (p = end - 1; p > buf && p[-1] != '\n'; p--)
		;
	sigline = p;
	if ((size_t)(end - sigline) < 5 || memcmp(sigline, "sig ", 4) != 0 || sigline == buf) {
		pki_why(why, whylen, "revocation list has no final signature line");
		return EDU_ECRYPTO;
	}
	rc = mbedtls_base64_decode(sig, sizeof(sig), &siglen, (const unsigned char *)sigline + 4,
				   (size_t)(end - 1 - (sigline + 4)));
	if (rc != 0 || siglen == 0) {
		pki_why(why, whylen, "revocation list signature is not valid base64");
		return EDU_ECRYPTO;
	}
	rc = mbedtls_sha256_ret((const unsigned char *)buf, (size_t)(sigline - buf), hash, 0);
	if (rc == 0)
		rc = mbedtls_pk_verify(ca_pub, MBEDTLS_MD_SHA256, hash, sizeof(hash), sig, siglen);
	if (rc != 0) {
		pki_why(why, whylen, "revocation list signature does not verify against the CA (tampered or another CA)");
		return EDU_ECRYPTO;
	}
	/* Signed by our CA: still parse strictly, the CA's tools may have bugs. */
	for (p = buf; p < sigline; lineno++) {
		const char *nl = memchr(p, '\n', (size_t)(sigline - p));
		const char *f[4];
		size_t fl[4];
		int k = split(p, (size_t)(nl - p), ' ', f, fl, 3);

		if (lineno == 0) {
			int64_t ver = 0, w = 0;
			if (k != 3 || fl[0] != strlen(PKI_REVOKED_MAGIC) || memcmp(f[0], PKI_REVOKED_MAGIC, fl[0]) != 0 ||
			    !parse_i64(f[1], fl[1], &ver) || !parse_i64(f[2], fl[2], &w)) {
				rv = EDU_EINVAL;
				pki_why(why, whylen, "revocation list: bad header line");
				goto out;
			}
			if (ver != PKI_REVOKED_VERSION) {
				rv = EDU_EVERSION;
				pki_why(why, whylen, "revocation list version %lld, this node reads %d", (long long)ver,
					PKI_REVOKED_VERSION);
				goto out;
			}
			if (written)
				*written = w;
		} else {
			struct pki_rev r;
			if (k != 3 || !serial_hex_valid(f[0], fl[0]) || fl[1] > PKI_UNIT_MAX ||
			    !parse_i64(f[2], fl[2], &r.when)) {
				rv = EDU_EINVAL;
				pki_why(why, whylen, "revocation list line %zu is malformed", lineno + 1);
				goto out;
			}
			memcpy(r.serial, f[0], fl[0]);
			r.serial[fl[0]] = '\0';
			memcpy(r.unit, f[1], fl[1]);
			r.unit[fl[1]] = '\0';
			if (!edu_unit_id_valid(r.unit)) {
				rv = EDU_EINVAL;
				pki_why(why, whylen, "revocation list line %zu: bad unit id", lineno + 1);
				goto out;
			}
			if (count == PKI_REVOKED_ENTRIES_MAX) {
				rv = EDU_ETOOBIG;
				pki_why(why, whylen, "revocation list has more than %d entries", PKI_REVOKED_ENTRIES_MAX);
				goto out;
			}
			if (count == cap) {
				size_t nc = cap ? cap * 2 : 16;
				struct pki_rev *nv = realloc(v, nc * sizeof(*v));
				if (nv == NULL) {
					rv = EDU_ENOMEM;
					pki_why(why, whylen, "out of memory");
					goto out;
				}
				v = nv;
				cap = nc;
			}
			v[count++] = r;
		}
		p = nl + 1;
	}
	if (count > 1)
		qsort(v, count, sizeof(*v), pki_rev_cmp);
	*out = v;
	*n = count;
	v = NULL;
out:
	free(v);
	return rv;
}

edu_err pki_issued_parse(const char *buf, size_t len, struct pki_issued **out, size_t *n, char *why, size_t whylen)
{
	edu_err rv = EDU_OK;
	const char *p = buf, *end = buf + len;
	size_t count = 0, cap = 0, lineno = 0;
	struct pki_issued *v = NULL;

	*out = NULL;
	*n = 0;
	if (len > PKI_ISSUED_MAX) {
		pki_why(why, whylen, "issued.csv of %zu bytes, limit %u", len, PKI_ISSUED_MAX);
		return EDU_ETOOBIG;
	}
	for (; p < end; lineno++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *f[6];
		size_t fl[6];
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		int k = split(p, ll, ',', f, fl, 5);
		struct pki_issued e;

		if (lineno == 0) {
			if (k != 5 || fl[0] != 6 || memcmp(f[0], "serial", 6) != 0) {
				rv = EDU_EINVAL;
				pki_why(why, whylen, "issued.csv: bad header");
				goto out;
			}
		} else if (ll > 0) {
			if (k != 5 || !serial_hex_valid(f[0], fl[0]) || fl[1] > PKI_UNIT_MAX ||
			    !parse_i64(f[2], fl[2], &e.not_before) || !parse_i64(f[3], fl[3], &e.not_after) ||
			    !parse_i64(f[4], fl[4], &e.issued_at)) {
				rv = EDU_EINVAL;
				pki_why(why, whylen, "issued.csv line %zu is malformed", lineno + 1);
				goto out;
			}
			memcpy(e.serial, f[0], fl[0]);
			e.serial[fl[0]] = '\0';
			memcpy(e.unit, f[1], fl[1]);
			e.unit[fl[1]] = '\0';
			if (count == cap) {
				size_t nc = cap ? cap * 2 : 16;
				struct pki_issued *nv = realloc(v, nc * sizeof(*v));
				if (nv == NULL) {
					rv = EDU_ENOMEM;
					pki_why(why, whylen, "out of memory");
					goto out;
				}
				v = nv;
				cap = nc;
			}
			v[count++] = e;
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	*out = v;
	*n = count;
	v = NULL;
out:
	free(v);
	return rv;
}

/* ---------- identity ---------- */

struct edu_pki_id {
	uint8_t *der;
	size_t der_len;
	char unit[PKI_UNIT_MAX + 1];
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
};

/* "<magic> <version> <base64 seed>\n" -> seed */
static edu_err ed_parse(const char *buf, size_t len, uint8_t seed[crypto_sign_SEEDBYTES], char *why, size_t whylen)
{
	const char *f[4];
	size_t fl[4], got = 0;
	int64_t ver = 0;
	int k;

	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	k = split(buf, len, ' ', f, fl, 3);
	if (k != 3 || fl[0] != strlen(PKI_ED_MAGIC) || memcmp(f[0], PKI_ED_MAGIC, fl[0]) != 0 ||
	    !parse_i64(f[1], fl[1], &ver)) {
		pki_why(why, whylen, "not an edunet Ed25519 key file");
		return EDU_EINVAL;
	}
	if (ver != PKI_ED_VERSION) {
		pki_why(why, whylen, "Ed25519 key file version %lld, this node reads %d", (long long)ver, PKI_ED_VERSION);
		return EDU_EVERSION;
	}
	if (mbedtls_base64_decode(seed, crypto_sign_SEEDBYTES, &got, (const unsigned char *)f[2], fl[2]) != 0 ||
	    got != crypto_sign_SEEDBYTES) {
		pki_why(why, whylen, "Ed25519 key file: bad key encoding");
		return EDU_EINVAL;
	}
	return EDU_OK;
}

static void warn_if_open(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && (st.st_mode & 077) != 0)
		edu_log(LOG_WARNING, "pki: private key %s is readable by group or others (mode %03o)", path,
			(unsigned)(st.st_mode & 0777));
}

edu_err edu_pki_id_load(edu_pki_id **out, const char *cert_pem, const char *key_pem, const char *ed25519_path,
			char *why, size_t whylen)
{
	edu_err rv = EDU_OK;
	edu_pki_id *id = NULL;
	char *pem = NULL, *keybuf = NULL, *edbuf = NULL;
	size_t pemlen, keylen = 0, edlen = 0;
	mbedtls_x509_crt crt;
	mbedtls_pk_context key;
	uint8_t ext_pub[32], seed[crypto_sign_SEEDBYTES];
	bool found = false;
	int rc;

	mbedtls_x509_crt_init(&crt);
	mbedtls_pk_init(&key);
	*out = NULL;
	if (sodium_init() < 0) {
		rv = EDU_EINTERNAL;
		pki_why(why, whylen, "libsodium failed to initialise");
		goto out;
	}
	if (cert_pem == NULL || key_pem == NULL || ed25519_path == NULL) {
		rv = EDU_EINVAL;
		pki_why(why, whylen, "certificate, key and Ed25519 key paths are all required");
		goto out;
	}
	id = calloc(1, sizeof(*id));
	if (id == NULL) {
		rv = EDU_ENOMEM;
		pki_why(why, whylen, "out of memory");
		goto out;
	}
	if ((rv = pki_read_file(cert_pem, EDU_PKI_PEM_MAX, &pem, &pemlen, why, whylen)) != EDU_OK)
		goto out;
	if ((rv = pki_pem_to_der(pem, &id->der, &id->der_len, why, whylen)) != EDU_OK)
		goto out;
	rc = pki_parse_der(&crt, id->der, id->der_len, ext_pub, &found);
	if (rc != 0) {
		rv = EDU_EINVAL;
		pki_mbed_why(why, whylen, cert_pem, rc);
		goto out;
	}
	if (!found) {
		rv = EDU_ECRYPTO;
		pki_why(why, whylen, "%s: no edunet Ed25519 extension (not issued by edunet ca?)", cert_pem);
		goto out;
	}
	if (!pki_name_cn(&crt.subject, id->unit, sizeof(id->unit)) || !edu_unit_id_valid(id->unit)) {
		rv = EDU_EINVAL;
		pki_why(why, whylen, "%s: subject CN is not a unit id", cert_pem);
		goto out;
	}
	if ((rv = pki_read_file(key_pem, EDU_PKI_PEM_MAX, &keybuf, &keylen, why, whylen)) != EDU_OK)
		goto out;
	warn_if_open(key_pem);
	rc = mbedtls_pk_parse_key(&key, (const unsigned char *)keybuf, keylen + 1, NULL, 0);
	if (rc != 0) {
		rv = EDU_EINVAL;
		pki_mbed_why(why, whylen, key_pem, rc);
		goto out;
	}
	if (mbedtls_pk_check_pair(&crt.pk, &key) != 0) {
		rv = EDU_ECRYPTO;
		pki_why(why, whylen, "%s does not match the certificate %s", key_pem, cert_pem);
		goto out;
	}
	if ((rv = pki_read_file(ed25519_path, 4096, &edbuf, &edlen, why, whylen)) != EDU_OK)
		goto out;
	warn_if_open(ed25519_path);
	if ((rv = ed_parse(edbuf, edlen, seed, why, whylen)) != EDU_OK)
		goto out;
	crypto_sign_seed_keypair(id->pk, id->sk, seed);
	if (sodium_memcmp(id->pk, ext_pub, 32) != 0) {
		rv = EDU_ECRYPTO;
		pki_why(why, whylen, "%s does not match the Ed25519 key in %s", ed25519_path, cert_pem);
		goto out;
	}
	*out = id;
	id = NULL;
out:
	sodium_memzero(seed, sizeof(seed));
	if (keybuf)
		sodium_memzero(keybuf, keylen);
	if (edbuf)
		sodium_memzero(edbuf, edlen);
	free(keybuf);
	free(edbuf);
	free(pem);
	mbedtls_pk_free(&key);
	mbedtls_x509_crt_free(&crt);
	edu_pki_id_free(id);
	return rv;
}

void edu_pki_id_free(edu_pki_id *id)
{
	if (id == NULL)
		return;
	sodium_memzero(id->sk, sizeof(id->sk));
	free(id->der);
	free(id);
}

const char *edu_pki_id_unit(const edu_pki_id *id)
{
	return id->unit;
}

edu_err edu_pki_id_cert_der(const edu_pki_id *id, const uint8_t **der, size_t *len)
{
	if (id == NULL || der == NULL || len == NULL)
		return EDU_EINVAL;
	*der = id->der;
	*len = id->der_len;
	return EDU_OK;
}

void edu_pki_id_ed_pub(const edu_pki_id *id, uint8_t pub[EDU_PKI_PUB_LEN])
{
	memcpy(pub, id->pk, EDU_PKI_PUB_LEN);
}

void edu_pki_sign(const edu_pki_id *id, const void *msg, size_t len, uint8_t sig[EDU_PKI_SIG_LEN])
{
	crypto_sign_detached(sig, NULL, msg, len, id->sk);
}

bool edu_pki_verify_sig(const uint8_t ed_pub[EDU_PKI_PUB_LEN], const void *msg, size_t len,
			const uint8_t sig[EDU_PKI_SIG_LEN])
{
	if (ed_pub == NULL || sig == NULL || (msg == NULL && len > 0))
		return false;
	return crypto_sign_verify_detached(sig, msg, len, ed_pub) == 0;
}

/* ---------- verifier ---------- */

struct cache_slot {
	bool used;
	uint8_t hash[32];
	char serial[EDU_PKI_SERIAL_HEX_MAX + 1];
	char unit[PKI_UNIT_MAX + 1];
	int64_t not_before, not_after;
	uint8_t ed_pub[32];
};

struct edu_pki_verifier {
	mbedtls_x509_crt ca;      /* immutable after new */
	char *revoked_path;       /* NULL: no revocation */
	pthread_mutex_t mbed_mu;  /* mbedtls contexts of ca are not documented as shareable between threads */
	pthread_mutex_t mu;       /* rev, nrev, cache, counters */
	bool mbed_mu_ok, mu_ok;
	struct pki_rev *rev;
	size_t nrev;
	int64_t rev_written;      /* header time of the loaded list: an older one is a rollback */
	uint64_t hits, misses;
	struct cache_slot *cache; /* EDU_PKI_CACHE_SLOTS, direct-mapped by hash */
};

static edu_err load_revoked(edu_pki_verifier *v, struct pki_rev **rev, size_t *n, int64_t *written, char *why,
			    size_t whylen)
{
	char *buf = NULL;
	size_t len = 0;
	edu_err rv;

	*rev = NULL;
	*n = 0;
	if (v->revoked_path == NULL)
		return EDU_OK;
	rv = pki_read_file(v->revoked_path, EDU_PKI_REVOKED_MAX, &buf, &len, why, whylen);
	if (rv == EDU_OK) {
		pthread_mutex_lock(&v->mbed_mu);
		rv = pki_revoked_parse(buf, len, &v->ca.pk, rev, n, written, why, whylen);
		pthread_mutex_unlock(&v->mbed_mu);
	}
	free(buf);
	return rv;
}

edu_err edu_pki_verifier_new(edu_pki_verifier **out, const char *ca_pem, const char *revoked_path, char *why,
			     size_t whylen)
{
	edu_err rv = EDU_OK;
	edu_pki_verifier *v = NULL;
	char *pem = NULL;
	size_t len;
	int rc;

	*out = NULL;
	if (ca_pem == NULL) {
		pki_why(why, whylen, "CA certificate path is required");
		return EDU_EINVAL;
	}
	if (sodium_init() < 0) {
		pki_why(why, whylen, "libsodium failed to initialise");
		return EDU_EINTERNAL;
	}
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		goto nomem;
	mbedtls_x509_crt_init(&v->ca);
	v->cache = calloc(EDU_PKI_CACHE_SLOTS, sizeof(*v->cache));
	if (v->cache == NULL)
		goto nomem;
	if (revoked_path != NULL && (v->revoked_path = strdup(revoked_path)) == NULL)
		goto nomem;
	v->mu_ok = pthread_mutex_init(&v->mu, NULL) == 0;
	v->mbed_mu_ok = pthread_mutex_init(&v->mbed_mu, NULL) == 0;
	if (!v->mu_ok || !v->mbed_mu_ok) {
		rv = EDU_EINTERNAL;
		pki_why(why, whylen, "mutex init failed");
		goto out;
	}
	if ((rv = pki_read_file(ca_pem, EDU_PKI_PEM_MAX, &pem, &len, why, whylen)) != EDU_OK)
		goto out;
	rc = mbedtls_x509_crt_parse(&v->ca, (const unsigned char *)pem, len + 1);
	if (rc != 0) {
		rv = EDU_EINVAL;
		pki_mbed_why(why, whylen, ca_pem, rc);
		goto out;
	}
	if (!v->ca.ca_istrue) {
		rv = EDU_ECRYPTO;
		pki_why(why, whylen, "%s is not a CA certificate", ca_pem);
		goto out;
	}
	if ((rv = load_revoked(v, &v->rev, &v->nrev, &v->rev_written, why, whylen)) != EDU_OK)
		goto out;
	*out = v;
	v = NULL;
	goto out;
nomem:
	rv = EDU_ENOMEM;
	pki_why(why, whylen, "out of memory");
out:
	free(pem);
	edu_pki_verifier_free(v);
	return rv;
}

edu_err edu_pki_verifier_reload(edu_pki_verifier *v, char *why, size_t whylen)
{
	struct pki_rev *rev = NULL, *old;
	size_t n = 0;
	int64_t written = 0, current;
	edu_err rv = load_revoked(v, &rev, &n, &written, why, whylen);

	if (rv == EDU_OK) {
		pthread_mutex_lock(&v->mu);
		current = v->rev_written;
		pthread_mutex_unlock(&v->mu);
		if (written < current) {
			rv = EDU_ECONFLICT;
			pki_why(why, whylen, "revocation list written at %lld is older than the one in force (%lld)",
				(long long)written, (long long)current);
			free(rev);
			rev = NULL;
		}
	}
	if (rv != EDU_OK) {
		edu_log(LOG_WARNING, "pki: revocation list not reloaded, previous one stays in force: %s",
			why ? why : edu_strerror(rv));
		return rv;
	}
	pthread_mutex_lock(&v->mu);
	old = v->rev;
	v->rev = rev;
	v->nrev = n;
	v->rev_written = written;
	pthread_mutex_unlock(&v->mu);
	free(old);
	return EDU_OK;
}

void edu_pki_verifier_free(edu_pki_verifier *v)
{
	if (v == NULL)
		return;
	mbedtls_x509_crt_free(&v->ca);
	if (v->mu_ok)
		pthread_mutex_destroy(&v->mu);
	if (v->mbed_mu_ok)
		pthread_mutex_destroy(&v->mbed_mu);
	free(v->revoked_path);
	free(v->rev);
	free(v->cache);
	free(v);
}

void edu_pki_verifier_stats(edu_pki_verifier *v, uint64_t *hits, uint64_t *misses)
{
	pthread_mutex_lock(&v->mu);
	*hits = v->hits;
	*misses = v->misses;
	pthread_mutex_unlock(&v->mu);
}

/* Checks that change over time or by reload; v->mu held. */
static edu_err final_checks(edu_pki_verifier *v, const struct cache_slot *e, const char *expected, char *why,
			    size_t whylen)
{
	int64_t now = (int64_t)time(NULL);
	struct pki_rev key;

	if (now < e->not_before) {
		pki_why(why, whylen, "certificate of %s (serial %s) is not valid yet", e->unit, e->serial);
		return EDU_ECRYPTO;
	}
	if (now > e->not_after) {
		pki_why(why, whylen, "certificate of %s (serial %s) has expired", e->unit, e->serial);
		return EDU_ECRYPTO;
	}
	memcpy(key.serial, e->serial, sizeof(key.serial));
	if (v->nrev > 0 && bsearch(&key, v->rev, v->nrev, sizeof(*v->rev), pki_rev_cmp) != NULL) {
		pki_why(why, whylen, "certificate of %s (serial %s) is revoked", e->unit, e->serial);
		return EDU_EPERM;
	}
	if (expected != NULL && strcmp(expected, e->unit) != 0) {
		pki_why(why, whylen, "certificate is for unit %s, expected %s", e->unit, expected);
		return EDU_EPERM;
	}
	return EDU_OK;
}

edu_err edu_pki_verify_cert_unit(edu_pki_verifier *v, const uint8_t *der, size_t len, const char *expected_unit,
				 uint8_t ed_pub[EDU_PKI_PUB_LEN], char unit[41], char *why, size_t whylen)
{
	edu_err rv = EDU_OK;
	uint8_t hash[32];
	struct cache_slot e, *slot;
	mbedtls_x509_crt crt;
	uint32_t flags = 0;
	bool found = false;
	int rc;

	mbedtls_x509_crt_init(&crt);
	if (v == NULL || der == NULL || len == 0) {
		pki_why(why, whylen, "no certificate");
		return EDU_EINVAL;
	}
	if (len > EDU_PKI_CERT_MAX) {
		pki_why(why, whylen, "certificate of %zu bytes, limit %d", len, EDU_PKI_CERT_MAX);
		return EDU_ETOOBIG;
	}
	crypto_hash_sha256(hash, der, len);
	slot = &v->cache[((uint32_t)hash[0] << 8 | hash[1]) % EDU_PKI_CACHE_SLOTS];

	pthread_mutex_lock(&v->mu);
	if (slot->used && memcmp(slot->hash, hash, 32) == 0) {
		v->hits++;
		e = *slot;
		rv = final_checks(v, &e, expected_unit, why, whylen);
		pthread_mutex_unlock(&v->mu);
		goto done;
	}
	v->misses++;
	pthread_mutex_unlock(&v->mu);

	memset(&e, 0, sizeof(e));
	rc = pki_parse_der(&crt, der, len, e.ed_pub, &found);
	if (rc != 0) {
		rv = EDU_EINVAL;
		pki_mbed_why(why, whylen, "malformed certificate", rc);
		goto out;
	}
	pthread_mutex_lock(&v->mbed_mu);
	rc = mbedtls_x509_crt_verify(&crt, &v->ca, NULL, NULL, &flags, NULL, NULL);
	pthread_mutex_unlock(&v->mbed_mu);
	/* Dates are checked by final_checks on every call; everything else must be clean. */
	flags &= ~(uint32_t)(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE);
	if (rc != 0 && rc != MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
		rv = EDU_ECRYPTO;
		pki_mbed_why(why, whylen, "certificate verification", rc);
		goto out;
	}
	if (flags != 0) {
		char info[256];
		int n = mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags);
		while (n > 0 && (info[n - 1] == '\n' || info[n - 1] == ' '))
			info[--n] = '\0';
		for (char *q = info; *q; q++)
			if (*q == '\n')
				*q = ';';
		rv = EDU_ECRYPTO;
		pki_why(why, whylen, "certificate not trusted: %s", n > 0 ? info : "verification failed");
		goto out;
	}
	if (crt.ca_istrue) {
		rv = EDU_ECRYPTO;
		pki_why(why, whylen, "a CA certificate cannot identify a unit");
		goto out;
	}
	if (!found) {
		rv = EDU_ECRYPTO;
		pki_why(why, whylen, "certificate lacks the edunet Ed25519 extension");
		goto out;
	}
	if (!pki_name_cn(&crt.subject, e.unit, sizeof(e.unit)) || !edu_unit_id_valid(e.unit)) {
		rv = EDU_ECRYPTO;
		pki_why(why, whylen, "certificate subject CN is not a unit id");
		goto out;
	}
	pki_serial_hex(&crt.serial, e.serial);
	e.not_before = pki_x509_time_unix(&crt.valid_from);
	e.not_after = pki_x509_time_unix(&crt.valid_to);
	{ /* the CA's own validity bounds every certificate it signed */
		int64_t ca_nb = pki_x509_time_unix(&v->ca.valid_from), ca_na = pki_x509_time_unix(&v->ca.valid_to);
		if (e.not_before < ca_nb)
			e.not_before = ca_nb;
		if (e.not_after > ca_na)
			e.not_after = ca_na;
	}
	memcpy(e.hash, hash, 32);
	e.used = true;

	pthread_mutex_lock(&v->mu);
	*slot = e;
	rv = final_checks(v, &e, expected_unit, why, whylen);
	pthread_mutex_unlock(&v->mu);
done:
	if (rv == EDU_OK) {
		if (ed_pub)
			memcpy(ed_pub, e.ed_pub, 32);
		if (unit)
			memcpy(unit, e.unit, sizeof(e.unit));
	}
out:
	mbedtls_x509_crt_free(&crt);
	return rv;
}

edu_err edu_pki_verify_cert(edu_pki_verifier *v, const uint8_t *der, size_t len, const char *expected_unit,
			    uint8_t ed_pub[EDU_PKI_PUB_LEN], char *why, size_t whylen)
{
	return edu_pki_verify_cert_unit(v, der, len, expected_unit, ed_pub, NULL, why, whylen);
}

/* ---------- nng TLS ---------- */

edu_err edu_pki_nng_tls(nng_tls_config **out, int mode, const char *ca_pem, const char *cert_pem, const char *key_pem,
			char *why, size_t whylen)
{
	edu_err rv = EDU_OK;
	nng_tls_config *cfg = NULL;
	char *ca = NULL, *cert = NULL, *key = NULL;
	size_t calen, certlen, keylen = 0;
	const char *step = "";
	int nv;

	*out = NULL;
	if (mode != NNG_TLS_MODE_CLIENT && mode != NNG_TLS_MODE_SERVER) {
		pki_why(why, whylen, "TLS mode must be client or server");
		return EDU_EINVAL;
	}
	if (ca_pem == NULL || cert_pem == NULL || key_pem == NULL) {
		pki_why(why, whylen, "TLS needs the CA certificate, own certificate and key");
		return EDU_EINVAL;
	}
	if ((rv = pki_read_file(ca_pem, EDU_PKI_PEM_MAX, &ca, &calen, why, whylen)) != EDU_OK ||
	    (rv = pki_read_file(cert_pem, EDU_PKI_PEM_MAX, &cert, &certlen, why, whylen)) != EDU_OK ||
	    (rv = pki_read_file(key_pem, EDU_PKI_PEM_MAX, &key, &keylen, why, whylen)) != EDU_OK)
		goto out;
	warn_if_open(key_pem);
	step = "alloc";
	if ((nv = nng_tls_config_alloc(&cfg, (nng_tls_mode)mode)) != 0)
		goto nngfail;
	step = "auth mode";
	if ((nv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED)) != 0)
		goto nngfail;
	step = "version";
	if ((nv = nng_tls_config_version(cfg, NNG_TLS_1_2, NNG_TLS_1_3)) != 0)
		goto nngfail;
	step = ca_pem;
	if ((nv = nng_tls_config_ca_chain(cfg, ca, NULL)) != 0)
		goto nngfail;
	step = cert_pem;
	if ((nv = nng_tls_config_own_cert(cfg, cert, key, NULL)) != 0)
		goto nngfail;
	*out = cfg;
	cfg = NULL;
	goto out;
nngfail:
	rv = edu_err_from_nng(nv);
	if (rv == EDU_OK || rv == EDU_EINTERNAL)
		rv = EDU_ECRYPTO;
	pki_why(why, whylen, "TLS config (%s): %s", step, nng_strerror(nv));
out:
	if (key)
		sodium_memzero(key, keylen);
	free(key);
	free(cert);
	free(ca);
	if (cfg)
		nng_tls_config_free(cfg);
	return rv;
}
