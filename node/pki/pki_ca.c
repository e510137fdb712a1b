/* CA operations: init, issue, revoke. Run by the operator (`edunetctl ca …`);
 * concurrent runs on one CA directory are serialised by flock on the directory. */
#include "pki/pki_internal.h"
#include "core/unitid.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/base64.h>
#include <mbedtls/ecp.h>
#include <mbedtls/sha256.h>
#include <sodium.h>

#define PEM_CERT_MAX 4096
#define PEM_KEY_MAX 1024
#define SERIAL_FILE_MAX 64
/* Nodes' clocks drift: a fresh certificate is valid from a little before it was made. */
#define NOT_BEFORE_SKEW_S 3600

/* extendedKeyUsage: serverAuth, clientAuth (a node is both to its parent and its children) */
static const unsigned char EKU_DER[] = {0x30, 0x14, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01,
					0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02};
#define OID_EKU "\x55\x1d\x25"

struct ca {
	mbedtls_x509_crt crt;
	mbedtls_pk_context key;
	char name[EDU_PKI_NAME_MAX + 1];
};

static void ca_init_ctx(struct ca *ca)
{
	mbedtls_x509_crt_init(&ca->crt);
	mbedtls_pk_init(&ca->key);
	ca->name[0] = '\0';
}

static void ca_free(struct ca *ca)
{
	mbedtls_x509_crt_free(&ca->crt);
	mbedtls_pk_free(&ca->key);
}

static edu_err ca_load(struct ca *ca, const char *dir, char *why, size_t whylen)
{
	char path[PATH_MAX], *buf = NULL;
	size_t len = 0;
	edu_err rv;
	int rc;

	if ((rv = pki_path(path, sizeof(path), dir, "ca.crt", NULL, why, whylen)) != EDU_OK)
		goto out;
	if ((rv = pki_read_file(path, EDU_PKI_PEM_MAX, &buf, &len, why, whylen)) != EDU_OK)
		goto out;
	if ((rc = mbedtls_x509_crt_parse(&ca->crt, (const unsigned char *)buf, len + 1)) != 0) {
		rv = EDU_EINVAL;
		pki_mbed_why(why, whylen, path, rc);
		goto out;
	}
	if (!pki_name_cn(&ca->crt.subject, ca->name, sizeof(ca->name))) {
		rv = EDU_EINVAL;
		pki_why(why, whylen, "%s: no usable CN", path);
		goto out;
	}
	free(buf);
	buf = NULL;
	if ((rv = pki_path(path, sizeof(path), dir, "ca.key", NULL, why, whylen)) != EDU_OK)
		goto out;
	if ((rv = pki_read_file(path, EDU_PKI_PEM_MAX, &buf, &len, why, whylen)) != EDU_OK)
		goto out;
	if ((rc = mbedtls_pk_parse_key(&ca->key, (const unsigned char *)buf, len + 1, NULL, 0)) != 0) {
		rv = EDU_EINVAL;
		pki_mbed_why(why, whylen, path, rc);
		goto out;
	}
	if (mbedtls_pk_check_pair(&ca->crt.pk, &ca->key) != 0) {
		rv = EDU_ECRYPTO;
		pki_why(why, whylen, "%s/ca.key does not match %s/ca.crt", dir, dir);
		goto out;
	}
out:
	if (buf) {
		sodium_memzero(buf, len);
		free(buf);
	}
	return rv;
}

/* Exclusive lock on the CA directory for the lifetime of *fd. */
static edu_err ca_lock(const char *dir, int *fd, char *why, size_t whylen)
{
	*fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0) {
		pki_why(why, whylen, "%s: %s", dir, strerror(errno));
		return edu_err_from_errno(errno);
	}
	while (flock(*fd, LOCK_EX) != 0) {
		if (errno == EINTR)
			continue;
		pki_why(why, whylen, "lock %s: %s", dir, strerror(errno));
		close(*fd);
		*fd = -1;
		return EDU_EIO;
	}
	return EDU_OK;
}

static edu_err gen_p256(mbedtls_pk_context *key, char *why, size_t whylen)
{
	int rc = mbedtls_pk_setup(key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));

	if (rc == 0)
		rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*key), pki_rng, NULL);
	if (rc != 0) {
		pki_mbed_why(why, whylen, "P-256 key generation", rc);
		return EDU_ECRYPTO;
	}
	return EDU_OK;
}

static void x509_time(char out[16], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 16, "%Y%m%d%H%M%S", &tm);
}

struct cert_req {
	mbedtls_pk_context *subject_key, *issuer_key;
	const char *subject, *issuer;
	uint64_t serial;
	int64_t not_before, not_after;
	bool is_ca;
	const uint8_t *ed_pub; /* NULL for the CA */
};

static edu_err make_cert(const struct cert_req *r, unsigned char *pem, size_t pemlen, char *why, size_t whylen)
{
	mbedtls_x509write_cert w;
	mbedtls_mpi serial;
	char nb[16], na[16];
	unsigned char ext[34];
	const char *step = "serial";
	int rc;

	mbedtls_x509write_crt_init(&w);
	mbedtls_mpi_init(&serial);
	mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&w, r->subject_key);
	mbedtls_x509write_crt_set_issuer_key(&w, r->issuer_key);
	x509_time(nb, r->not_before);
	x509_time(na, r->not_after);
	if ((rc = mbedtls_mpi_lset(&serial, 0)) != 0 || (rc = mbedtls_mpi_read_binary(&serial,
	    (const unsigned char[]){(unsigned char)(r->serial >> 56), (unsigned char)(r->serial >> 48),
				    (unsigned char)(r->serial >> 40), (unsigned char)(r->serial >> 32),
				    (unsigned char)(r->serial >> 24), (unsigned char)(r->serial >> 16),
				    (unsigned char)(r->serial >> 8), (unsigned char)r->serial}, 8)) != 0 ||
	    (rc = mbedtls_x509write_crt_set_serial(&w, &serial)) != 0)
		goto fail;
	step = "validity";
	if ((rc = mbedtls_x509write_crt_set_validity(&w, nb, na)) != 0)
		goto fail;
	step = "subject";
	if ((rc = mbedtls_x509write_crt_set_subject_name(&w, r->subject)) != 0)
		goto fail;
	step = "issuer";
	if ((rc = mbedtls_x509write_crt_set_issuer_name(&w, r->issuer)) != 0)
		goto fail;
	step = "extensions";
	if ((rc = mbedtls_x509write_crt_set_basic_constraints(&w, r->is_ca, r->is_ca ? 0 : -1)) != 0 ||
	    (rc = mbedtls_x509write_crt_set_subject_key_identifier(&w)) != 0 ||
	    (rc = mbedtls_x509write_crt_set_authority_key_identifier(&w)) != 0)
		goto fail;
	if (r->is_ca) {
		rc = mbedtls_x509write_crt_set_key_usage(&w, MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN);
	} else {
		rc = mbedtls_x509write_crt_set_key_usage(&w, MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
		if (rc == 0)
			rc = mbedtls_x509write_crt_set_extension(&w, OID_EKU, 3, 0, EKU_DER, sizeof(EKU_DER));
		if (rc == 0) {
			ext[0] = 0x04; /* OCTET STRING */
			ext[1] = 32;
			memcpy(ext + 2, r->ed_pub, 32);
			rc = mbedtls_x509write_crt_set_extension(&w, PKI_OID_ED25519, sizeof(PKI_OID_ED25519) - 1, 0,
								 ext, sizeof(ext));
		}
	}
	if (rc != 0)
		goto fail;
	step = "signing";
	if ((rc = mbedtls_x509write_crt_pem(&w, pem, pemlen, pki_rng, NULL)) != 0)
		goto fail;
	mbedtls_x509write_crt_free(&w);
	mbedtls_mpi_free(&serial);
	return EDU_OK;
fail:
	pki_mbed_why(why, whylen, step, rc);
	mbedtls_x509write_crt_free(&w);
	mbedtls_mpi_free(&serial);
	return EDU_ECRYPTO;
}

static edu_err sign_revoked(mbedtls_pk_context *key, const char *body, size_t len, char **out, size_t *outlen,
			    char *why, size_t whylen)
{
	unsigned char hash[32], sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE], b64[2 * MBEDTLS_PK_SIGNATURE_MAX_SIZE];
	size_t siglen = 0, b64len = 0;
	char *buf;
	int rc;

	*out = NULL;
	rc = mbedtls_sha256_ret((const unsigned char *)body, len, hash, 0);
	if (rc == 0)
		rc = mbedtls_pk_sign(key, MBEDTLS_MD_SHA256, hash, sizeof(hash), sig, &siglen, pki_rng, NULL);
	if (rc == 0)
		rc = mbedtls_base64_encode(b64, sizeof(b64), &b64len, sig, siglen);
	if (rc != 0) {
		pki_mbed_why(why, whylen, "signing the revocation list", rc);
		return EDU_ECRYPTO;
	}
	buf = malloc(len + b64len + 6);
	if (buf == NULL) {
		pki_why(why, whylen, "out of memory");
		return EDU_ENOMEM;
	}
	memcpy(buf, body, len);
	memcpy(buf + len, "sig ", 4);
	memcpy(buf + len + 4, b64, b64len);
	buf[len + 4 + b64len] = '\n';
	buf[len + 5 + b64len] = '\0';
	*out = buf;
	*outlen = len + 5 + b64len;
	return EDU_OK;
}

static edu_err write_revoked(const char *dir, mbedtls_pk_context *key, const struct pki_rev *rev, size_t n,
			     char *why, size_t whylen)
{
	char path[PATH_MAX], *body = NULL, *signed_buf = NULL;
	size_t cap = 64 + n * (EDU_PKI_SERIAL_HEX_MAX + PKI_UNIT_MAX + 24), len = 0, slen = 0;
	edu_err rv;

	if ((rv = pki_path(path, sizeof(path), dir, "revoked.list", NULL, why, whylen)) != EDU_OK)
		return rv;
	body = malloc(cap);
	if (body == NULL) {
		pki_why(why, whylen, "out of memory");
		return EDU_ENOMEM;
	}
	len += (size_t)snprintf(body + len, cap - len, "%s %d %lld\n", PKI_REVOKED_MAGIC, PKI_REVOKED_VERSION,
				(long long)time(NULL));
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(body + len, cap - len, "%s %s %lld\n", rev[i].serial, rev[i].unit,
					(long long)rev[i].when);
	if (len > EDU_PKI_REVOKED_MAX - 256) {
		rv = EDU_ETOOBIG;
		pki_why(why, whylen, "revocation list would exceed %d bytes", EDU_PKI_REVOKED_MAX);
		goto out;
	}
	if ((rv = sign_revoked(key, body, len, &signed_buf, &slen, why, whylen)) != EDU_OK)
		goto out;
	rv = pki_write_atomic(path, signed_buf, slen, 0644, why, whylen);
out:
	free(body);
	free(signed_buf);
	return rv;
}

static edu_err read_serial(const char *dir, uint64_t *serial, char *why, size_t whylen)
{
	char path[PATH_MAX], *buf = NULL, *end = NULL;
	size_t len;
	edu_err rv;
	unsigned long long v;

	if ((rv = pki_path(path, sizeof(path), dir, "serial", NULL, why, whylen)) != EDU_OK)
		return rv;
	if ((rv = pki_read_file(path, SERIAL_FILE_MAX, &buf, &len, why, whylen)) != EDU_OK)
		return rv;
	errno = 0;
	v = strtoull(buf, &end, 16);
	if (errno != 0 || end == buf || (*end != '\n' && *end != '\0') || v == 0 || v >= (1ull << 62)) {
		rv = EDU_EINVAL;
		pki_why(why, whylen, "%s: not a serial counter", path);
	}
	*serial = v;
	free(buf);
	return rv;
}

static edu_err write_serial(const char *dir, uint64_t serial, char *why, size_t whylen)
{
	char path[PATH_MAX], buf[32];
	int n = snprintf(buf, sizeof(buf), "%02llx\n", (unsigned long long)serial);
	edu_err rv = pki_path(path, sizeof(path), dir, "serial", NULL, why, whylen);

	if (rv != EDU_OK)
		return rv;
	return pki_write_atomic(path, buf, (size_t)n, 0644, why, whylen);
}

static void serial_to_hex(uint64_t serial, char out[EDU_PKI_SERIAL_HEX_MAX + 1])
{
	/* the form pki_serial_hex reads back from the DER integer (counter < 2^62: no sign byte) */
	int n = snprintf(out, EDU_PKI_SERIAL_HEX_MAX + 1, "%llx", (unsigned long long)serial);
	if (n % 2) {
		memmove(out + 1, out, (size_t)n + 1);
		out[0] = '0';
	}
}

static edu_err append_issued(const char *dir, const char *line, char *why, size_t whylen)
{
	char path[PATH_MAX];
	edu_err rv = pki_path(path, sizeof(path), dir, "issued.csv", NULL, why, whylen);
	int fd;
	size_t len = strlen(line), off = 0;

	if (rv != EDU_OK)
		return rv;
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		pki_why(why, whylen, "%s: %s", path, strerror(errno));
		return edu_err_from_errno(errno);
	}
	while (off < len) {
		ssize_t w = write(fd, line + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rv = EDU_EIO;
			pki_why(why, whylen, "%s: %s", path, strerror(errno));
			break;
		}
		off += (size_t)w;
	}
	if (rv == EDU_OK && fsync(fd) != 0) {
		rv = EDU_EIO;
		pki_why(why, whylen, "%s: fsync: %s", path, strerror(errno));
	}
	close(fd);
	return rv;
}

/* "CN=<cn>, O=<o>" with mbedtls's syntax; cn/o were validated by pki_name_valid / unit_valid. */
static void dn(char *out, size_t outlen, const char *cn, const char *o)
{
	if (o)
		snprintf(out, outlen, "CN=%s,O=%s", cn, o);
	else
		snprintf(out, outlen, "CN=%s", cn);
}

edu_err edu_pki_ca_init(const char *dir, const char *name, int days, char *why, size_t whylen)
{
	edu_err rv = EDU_OK;
	mbedtls_pk_context key;
	unsigned char crt_pem[PEM_CERT_MAX], key_pem[PEM_KEY_MAX];
	char p_key[PATH_MAX], p_crt[PATH_MAX], p_serial[PATH_MAX], p_issued[PATH_MAX], p_rev[PATH_MAX];
	char subject[2 * EDU_PKI_NAME_MAX + 16];
	bool made_key = false, made_crt = false, made_serial = false, made_issued = false;
	int64_t now = (int64_t)time(NULL);
	struct cert_req req;
	static const char ISSUED_HDR[] = "serial,unit,not_before,not_after,issued_at\n";
	int rc;

	mbedtls_pk_init(&key);
	memset(key_pem, 0, sizeof(key_pem));
	if (dir == NULL || !pki_name_valid(name, why, whylen)) {
		if (dir == NULL)
			pki_why(why, whylen, "CA directory is required");
		rv = EDU_EINVAL;
		goto out;
	}
	if (days <= 0)
		days = EDU_PKI_CA_DAYS_DEFAULT;
	if (days > EDU_PKI_DAYS_MAX) {
		rv = EDU_EINVAL;
		pki_why(why, whylen, "validity of %d days exceeds %d", days, EDU_PKI_DAYS_MAX);
		goto out;
	}
	if (sodium_init() < 0) {
		rv = EDU_EINTERNAL;
		pki_why(why, whylen, "libsodium failed to initialise");
		goto out;
	}
	if ((rv = pki_mkdirs(dir, why, whylen)) != EDU_OK)
		goto out;
	if ((rv = pki_path(p_key, sizeof(p_key), dir, "ca.key", NULL, why, whylen)) != EDU_OK ||
	    (rv = pki_path(p_crt, sizeof(p_crt), dir, "ca.crt", NULL, why, whylen)) != EDU_OK ||
	    (rv = pki_path(p_serial, sizeof(p_serial), dir, "serial", NULL, why, whylen)) != EDU_OK ||
	    (rv = pki_path(p_issued, sizeof(p_issued), dir, "issued.csv", NULL, why, whylen)) != EDU_OK ||
	    (rv = pki_path(p_rev, sizeof(p_rev), dir, "revoked.list", NULL, why, whylen)) != EDU_OK)
		goto out;
	if (access(p_key, F_OK) == 0 || access(p_crt, F_OK) == 0) {
		rv = EDU_EEXIST;
		pki_why(why, whylen, "%s already holds a CA; not overwriting", dir);
		goto out;
	}
	if ((rv = gen_p256(&key, why, whylen)) != EDU_OK)
		goto out;
	dn(subject, sizeof(subject), name, NULL);
	req = (struct cert_req){.subject_key = &key, .issuer_key = &key, .subject = subject, .issuer = subject,
				.serial = 1, .not_before = now - NOT_BEFORE_SKEW_S,
				.not_after = now + (int64_t)days * 86400, .is_ca = true};
	if ((rv = make_cert(&req, crt_pem, sizeof(crt_pem), why, whylen)) != EDU_OK)
		goto out;
	if ((rc = mbedtls_pk_write_key_pem(&key, key_pem, sizeof(key_pem))) != 0) {
		rv = EDU_ECRYPTO;
		pki_mbed_why(why, whylen, "writing the CA key", rc);
		goto out;
	}
	/* ca.key first: its O_EXCL creation is what makes two concurrent inits safe. */
	if ((rv = pki_write_new(p_key, key_pem, strlen((char *)key_pem), 0600, why, whylen)) != EDU_OK)
		goto out;
	made_key = true;
	if ((rv = pki_write_new(p_crt, crt_pem, strlen((char *)crt_pem), 0644, why, whylen)) != EDU_OK)
		goto out;
	made_crt = true;
	if ((rv = write_serial(dir, 2, why, whylen)) != EDU_OK) /* 1 is the CA's own */
		goto out;
	made_serial = true;
	if ((rv = pki_write_atomic(p_issued, ISSUED_HDR, sizeof(ISSUED_HDR) - 1, 0644, why, whylen)) != EDU_OK)
		goto out;
	made_issued = true;
	rv = write_revoked(dir, &key, NULL, 0, why, whylen);
out:
	if (rv != EDU_OK) {
		if (made_issued)
			unlink(p_issued);
		if (made_serial)
			unlink(p_serial);
		if (made_crt)
			unlink(p_crt);
		if (made_key)
			unlink(p_key);
	}
	sodium_memzero(key_pem, sizeof(key_pem));
	mbedtls_pk_free(&key);
	return rv;
}

/* Copies ca.crt into out_dir unless an identical one is there. */
static edu_err place_ca_crt(const char *ca_dir, const char *out_dir, bool *made, char *why, size_t whylen)
{
	char src[PATH_MAX], dst[PATH_MAX], *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	edu_err rv;

	*made = false;
	if ((rv = pki_path(src, sizeof(src), ca_dir, "ca.crt", NULL, why, whylen)) != EDU_OK ||
	    (rv = pki_path(dst, sizeof(dst), out_dir, "ca.crt", NULL, why, whylen)) != EDU_OK)
		return rv;
	if ((rv = pki_read_file(src, EDU_PKI_PEM_MAX, &a, &alen, why, whylen)) != EDU_OK)
		goto out;
	if (access(dst, F_OK) == 0) {
		if ((rv = pki_read_file(dst, EDU_PKI_PEM_MAX, &b, &blen, why, whylen)) != EDU_OK)
			goto out;
		if (alen != blen || memcmp(a, b, alen) != 0) {
			rv = EDU_EEXIST;
			pki_why(why, whylen, "%s exists and differs from this CA's certificate", dst);
		}
		goto out;
	}
	rv = pki_write_new(dst, a, alen, 0644, why, whylen);
	*made = rv == EDU_OK;
out:
	free(a);
	free(b);
	return rv;
}

edu_err edu_pki_issue_at(const char *ca_dir, const char *unit, const char *out_dir, int64_t not_before,
			 int64_t not_after, char *why, size_t whylen)
{
	edu_err rv = EDU_OK;
	struct ca ca;
	mbedtls_pk_context key;
	unsigned char crt_pem[PEM_CERT_MAX], key_pem[PEM_KEY_MAX];
	uint8_t ed_pk[crypto_sign_PUBLICKEYBYTES], ed_sk[crypto_sign_SECRETKEYBYTES], seed[crypto_sign_SEEDBYTES];
	char ed_txt[128], b64[64];
	char p_key[PATH_MAX], p_crt[PATH_MAX], p_ed[PATH_MAX];
	char subject[PKI_UNIT_MAX + EDU_PKI_NAME_MAX + 16], issuer[EDU_PKI_NAME_MAX + 8];
	char serial_hex[EDU_PKI_SERIAL_HEX_MAX + 1], line[256];
	bool made_key = false, made_ed = false, made_crt = false, made_ca = false;
	int lockfd = -1, rc;
	size_t b64len = 0;
	uint64_t serial = 0;
	int64_t ca_na;
	struct cert_req req;

	ca_init_ctx(&ca);
	mbedtls_pk_init(&key);
	memset(key_pem, 0, sizeof(key_pem));
	memset(ed_txt, 0, sizeof(ed_txt));
	memset(seed, 0, sizeof(seed));
	memset(ed_sk, 0, sizeof(ed_sk));
	if (ca_dir == NULL || out_dir == NULL) {
		rv = EDU_EINVAL;
		pki_why(why, whylen, "CA directory and output directory are required");
		goto out;
	}
	if (!edu_unit_id_valid(unit)) {
		rv = EDU_EINVAL;
		pki_why(why, whylen, "unit id must be 2..40 characters of [a-z0-9-]");
		goto out;
	}
	if (not_after < not_before) {
		rv = EDU_EINVAL;
		pki_why(why, whylen, "certificate would expire before it starts");
		goto out;
	}
	if (sodium_init() < 0) {
		rv = EDU_EINTERNAL;
		pki_why(why, whylen, "libsodium failed to initialise");
		goto out;
	}
	if ((rv = ca_lock(ca_dir, &lockfd, why, whylen)) != EDU_OK)
		goto out;
	if ((rv = ca_load(&ca, ca_dir, why, whylen)) != EDU_OK)
		goto out;
	ca_na = pki_x509_time_unix(&ca.crt.valid_to);
	if (not_after > ca_na)
		not_after = ca_na; /* a certificate cannot outlive its issuer */
	if (not_after < not_before) {
		rv = EDU_EINVAL;
		pki_why(why, whylen, "the CA certificate expires before this certificate would start");
		goto out;
	}
	if ((rv = pki_mkdirs(out_dir, why, whylen)) != EDU_OK)
		goto out;
	if ((rv = pki_path(p_key, sizeof(p_key), out_dir, unit, ".key", why, whylen)) != EDU_OK ||
	    (rv = pki_path(p_crt, sizeof(p_crt), out_dir, unit, ".crt", why, whylen)) != EDU_OK ||
	    (rv = pki_path(p_ed, sizeof(p_ed), out_dir, unit, ".ed25519", why, whylen)) != EDU_OK)
		goto out;
	/* Refuse before burning a serial; O_EXCL below still guards races with other writers. */
	if (access(p_key, F_OK) == 0 || access(p_crt, F_OK) == 0 || access(p_ed, F_OK) == 0) {
		rv = EDU_EEXIST;
		pki_why(why, whylen, "files for %s already exist in %s; not overwriting", unit, out_dir);
		goto out;
	}
	if ((rv = read_serial(ca_dir, &serial, why, whylen)) != EDU_OK)
		goto out;
	/* The counter moves before anything is issued: a crash may skip a serial, never reuse one. */
	if ((rv = write_serial(ca_dir, serial + 1, why, whylen)) != EDU_OK)
		goto out;
	if ((rv = gen_p256(&key, why, whylen)) != EDU_OK)
		goto out;
	randombytes_buf(seed, sizeof(seed));
	crypto_sign_seed_keypair(ed_pk, ed_sk, seed);
	dn(subject, sizeof(subject), unit, ca.name);
	dn(issuer, sizeof(issuer), ca.name, NULL);
	req = (struct cert_req){.subject_key = &key, .issuer_key = &ca.key, .subject = subject, .issuer = issuer,
				.serial = serial, .not_before = not_before, .not_after = not_after,
				.is_ca = false, .ed_pub = ed_pk};
	if ((rv = make_cert(&req, crt_pem, sizeof(crt_pem), why, whylen)) != EDU_OK)
		goto out;
	if ((rc = mbedtls_pk_write_key_pem(&key, key_pem, sizeof(key_pem))) != 0) {
		rv = EDU_ECRYPTO;
		pki_mbed_why(why, whylen, "writing the unit key", rc);
		goto out;
	}
	if ((rc = mbedtls_base64_encode((unsigned char *)b64, sizeof(b64), &b64len, seed, sizeof(seed))) != 0) {
		rv = EDU_EINTERNAL;
		pki_mbed_why(why, whylen, "encoding the Ed25519 key", rc);
		goto out;
	}
	snprintf(ed_txt, sizeof(ed_txt), "%s %d %s\n", PKI_ED_MAGIC, PKI_ED_VERSION, b64);
	sodium_memzero(b64, sizeof(b64));
	if ((rv = place_ca_crt(ca_dir, out_dir, &made_ca, why, whylen)) != EDU_OK)
		goto out;
	if ((rv = pki_write_new(p_key, key_pem, strlen((char *)key_pem), 0600, why, whylen)) != EDU_OK)
		goto out;
	made_key = true;
	if ((rv = pki_write_new(p_ed, ed_txt, strlen(ed_txt), 0600, why, whylen)) != EDU_OK)
		goto out;
	made_ed = true;
	if ((rv = pki_write_new(p_crt, crt_pem, strlen((char *)crt_pem), 0644, why, whylen)) != EDU_OK)
		goto out;
	made_crt = true;
	serial_to_hex(serial, serial_hex);
	snprintf(line, sizeof(line), "%s,%s,%lld,%lld,%lld\n", serial_hex, unit, (long long)not_before,
		 (long long)not_after, (long long)time(NULL));
	rv = append_issued(ca_dir, line, why, whylen);
out:
	if (rv != EDU_OK) {
		if (made_crt)
			unlink(p_crt);
		if (made_ed)
			unlink(p_ed);
		if (made_key)
			unlink(p_key);
		if (made_ca) {
			char p[PATH_MAX];
			if (pki_path(p, sizeof(p), out_dir, "ca.crt", NULL, NULL, 0) == EDU_OK)
				unlink(p);
		}
	}
	sodium_memzero(key_pem, sizeof(key_pem));
	sodium_memzero(ed_txt, sizeof(ed_txt));
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(ed_sk, sizeof(ed_sk));
	mbedtls_pk_free(&key);
	ca_free(&ca);
	if (lockfd >= 0)
		close(lockfd);
	return rv;
}

edu_err edu_pki_issue(const char *ca_dir, const char *unit, const char *out_dir, int days, char *why, size_t whylen)
{
	int64_t now = (int64_t)time(NULL);

	if (days < 0)
		days = EDU_PKI_DAYS_DEFAULT;
	if (days > EDU_PKI_DAYS_MAX) {
		pki_why(why, whylen, "validity of %d days exceeds %d", days, EDU_PKI_DAYS_MAX);
		return EDU_EINVAL;
	}
	/* days == 0: valid from now until now, i.e. expired a second later (tests). */
	return edu_pki_issue_at(ca_dir, unit, out_dir, days == 0 ? now : now - NOT_BEFORE_SKEW_S,
				now + (int64_t)days * 86400, why, whylen);
}

static bool is_hex(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > EDU_PKI_SERIAL_HEX_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

/* "1", "01", "0x01", "A0" -> canonical "01", "a0" */
static bool canon_serial(const char *s, char out[EDU_PKI_SERIAL_HEX_MAX + 1])
{
	size_t n, o = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	while (s[0] == '0' && s[1] != '\0')
		s++;
	if (!is_hex(s))
		return false;
	n = strlen(s);
	if (n % 2)
		out[o++] = '0';
	if (o + n > EDU_PKI_SERIAL_HEX_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		out[o++] = (char)((s[i] >= 'A' && s[i] <= 'F') ? s[i] - 'A' + 'a' : s[i]);
	out[o] = '\0';
	return true;
}

edu_err edu_pki_revoke(const char *ca_dir, const char *unit_or_serial, char *why, size_t whylen)
{
	edu_err rv = EDU_OK;
	struct ca ca;
	char path[PATH_MAX], *buf = NULL, serial[EDU_PKI_SERIAL_HEX_MAX + 1] = "";
	const char *unit = NULL;
	size_t len = 0, nis = 0, nrev = 0, added = 0;
	struct pki_issued *is = NULL;
	struct pki_rev *rev = NULL, *nv;
	int lockfd = -1;
	bool want_unit = false, want_serial = false, serial_ok;
	int64_t now = (int64_t)time(NULL);

	ca_init_ctx(&ca);
	if (ca_dir == NULL || unit_or_serial == NULL || unit_or_serial[0] == '\0') {
		rv = EDU_EINVAL;
		pki_why(why, whylen, "CA directory and a unit or serial are required");
		goto out;
	}
	if (strncmp(unit_or_serial, "unit:", 5) == 0) {
		unit = unit_or_serial + 5;
		want_unit = true;
	} else if (strncmp(unit_or_serial, "serial:", 7) == 0) {
		want_serial = true;
	} else {
		unit = unit_or_serial;
	}
	serial_ok = canon_serial(want_serial ? unit_or_serial + 7 : unit_or_serial, serial);
	if (want_serial && !serial_ok) {
		rv = EDU_EINVAL;
		pki_why(why, whylen, "serial must be hexadecimal, at most %d digits", EDU_PKI_SERIAL_HEX_MAX);
		goto out;
	}
	if (want_unit && !edu_unit_id_valid(unit)) {
		rv = EDU_EINVAL;
		pki_why(why, whylen, "unit id must be 2..40 characters of [a-z0-9-]");
		goto out;
	}
	if ((rv = ca_lock(ca_dir, &lockfd, why, whylen)) != EDU_OK)
		goto out;
	if ((rv = ca_load(&ca, ca_dir, why, whylen)) != EDU_OK)
		goto out;
	if ((rv = pki_path(path, sizeof(path), ca_dir, "issued.csv", NULL, why, whylen)) != EDU_OK ||
	    (rv = pki_read_file(path, PKI_ISSUED_MAX, &buf, &len, why, whylen)) != EDU_OK ||
	    (rv = pki_issued_parse(buf, len, &is, &nis, why, whylen)) != EDU_OK)
		goto out;
	free(buf);
	buf = NULL;
	if ((rv = pki_path(path, sizeof(path), ca_dir, "revoked.list", NULL, why, whylen)) != EDU_OK ||
	    (rv = pki_read_file(path, EDU_PKI_REVOKED_MAX, &buf, &len, why, whylen)) != EDU_OK)
		goto out;
	if ((rv = pki_revoked_parse(buf, len, &ca.crt.pk, &rev, &nrev, NULL, why, whylen)) != EDU_OK) {
		char inner[200];
		snprintf(inner, sizeof(inner), "%s", why ? why : "");
		pki_why(why, whylen, "refusing to re-sign %s: %s", path, inner);
		goto out;
	}
	if (!want_unit && !want_serial) { /* bare: resolve against what was issued */
		bool as_unit = false, as_serial = false;
		for (size_t i = 0; i < nis; i++) {
			as_unit |= strcmp(is[i].unit, unit) == 0;
			as_serial |= serial_ok && strcmp(is[i].serial, serial) == 0;
		}
		if (as_unit && as_serial) {
			rv = EDU_EINVAL;
			pki_why(why, whylen, "'%s' names both a unit and a serial; say unit:%s or serial:%s", unit, unit,
				unit);
			goto out;
		}
		want_unit = as_unit;
		want_serial = as_serial;
	}
	for (size_t i = 0; i < nis; i++) {
		struct pki_rev key;
		bool match = (want_unit && strcmp(is[i].unit, unit) == 0) ||
			     (want_serial && strcmp(is[i].serial, serial) == 0);
		if (!match)
			continue;
		memcpy(key.serial, is[i].serial, sizeof(key.serial));
		if (nrev > 0 && bsearch(&key, rev, nrev, sizeof(*rev), pki_rev_cmp) != NULL)
			continue;
		nv = realloc(rev, (nrev + 1) * sizeof(*rev));
		if (nv == NULL) {
			rv = EDU_ENOMEM;
			pki_why(why, whylen, "out of memory");
			goto out;
		}
		rev = nv;
		memcpy(rev[nrev].serial, is[i].serial, sizeof(rev[nrev].serial));
		memcpy(rev[nrev].unit, is[i].unit, sizeof(rev[nrev].unit));
		rev[nrev].when = now;
		nrev++;
		added++;
		qsort(rev, nrev, sizeof(*rev), pki_rev_cmp);
	}
	if (added == 0) {
		bool known = false;
		for (size_t i = 0; i < nis; i++)
			known |= (want_unit && strcmp(is[i].unit, unit) == 0) ||
				 (want_serial && strcmp(is[i].serial, serial) == 0);
		rv = known ? EDU_EEXIST : EDU_ENOENT;
		pki_why(why, whylen, known ? "%s: already revoked" : "%s: no certificate issued by this CA",
			unit_or_serial);
		goto out;
	}
	rv = write_revoked(ca_dir, &ca.key, rev, nrev, why, whylen);
out:
	free(buf);
	free(is);
	free(rev);
	ca_free(&ca);
	if (lockfd >= 0)
		close(lockfd);
	return rv;
}
