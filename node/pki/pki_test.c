/* pki unit tests: real keys, real files in a temp dir, a real TLS link on loopback. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>
#include <sodium.h>

#include "pki/pki.h"
#include "pki/pki_internal.h"
#include <mbedtls/base64.h>
#include <mbedtls/oid.h>
#include <mbedtls/sha256.h>

#define CA_NAME "Sở GD&ĐT Đồng Tháp"

struct fx {
	char root[PATH_MAX];
	char ca[PATH_MAX], out[PATH_MAX];
	char crt[PATH_MAX], key[PATH_MAX], ed[PATH_MAX], ca_crt[PATH_MAX], revoked[PATH_MAX];
};

static void pathf(char *dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pathf(char *dst, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	assert_true(vsnprintf(dst, PATH_MAX, fmt, ap) < PATH_MAX);
	va_end(ap);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char why[256] = "";

	if (f == NULL)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/edu-pki-test-XXXXXX");
	if (mkdtemp(f->root) == NULL)
		return -1;
	pathf(f->ca, "%s/ca", f->root);
	pathf(f->out, "%s/out", f->root);
	pathf(f->crt, "%s/thpt-a.crt", f->out);
	pathf(f->key, "%s/thpt-a.key", f->out);
	pathf(f->ed, "%s/thpt-a.ed25519", f->out);
	pathf(f->ca_crt, "%s/ca.crt", f->ca);
	pathf(f->revoked, "%s/revoked.list", f->ca);
	if (edu_pki_ca_init(f->ca, CA_NAME, 0, why, sizeof(why)) != EDU_OK ||
	    edu_pki_issue(f->ca, "thpt-a", f->out, -1, why, sizeof(why)) != EDU_OK) {
		fprintf(stderr, "setup: %s\n", why);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static uint8_t *read_der(const char *pem_path, size_t *len)
{
	char *pem = NULL, why[256];
	size_t plen;
	uint8_t *der = NULL;

	assert_int_equal(pki_read_file(pem_path, EDU_PKI_PEM_MAX, &pem, &plen, why, sizeof(why)), EDU_OK);
	assert_int_equal(pki_pem_to_der(pem, &der, len, why, sizeof(why)), EDU_OK);
	free(pem);
	return der;
}

static void append_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "a");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* ---- cases ---- */

static void roundtrip(void **state)
{
	struct fx *f = *state;
	edu_pki_id *id = NULL;
	edu_pki_verifier *v = NULL;
	char why[256] = "", unit[41];
	const uint8_t *der;
	size_t len;
	uint8_t pub[32], mine[32], sig[64];
	static const char msg[] = "item thpt-a:1 v1";

	assert_int_equal(edu_pki_id_load(&id, f->crt, f->key, f->ed, why, sizeof(why)), EDU_OK);
	assert_string_equal(edu_pki_id_unit(id), "thpt-a");
	assert_int_equal(edu_pki_id_cert_der(id, &der, &len), EDU_OK);
	assert_true(len > 100 && len < EDU_PKI_CERT_MAX);
	edu_pki_sign(id, msg, sizeof(msg), sig);
	assert_int_equal(edu_pki_verifier_new(&v, f->ca_crt, f->revoked, why, sizeof(why)), EDU_OK);
	assert_int_equal(edu_pki_verify_cert(v, der, len, "thpt-a", pub, why, sizeof(why)), EDU_OK);
	edu_pki_id_ed_pub(id, mine);
	assert_memory_equal(pub, mine, 32);
	assert_true(edu_pki_verify_sig(pub, msg, sizeof(msg), sig));
	/* without an expected unit, the unit comes back */
	assert_int_equal(edu_pki_verify_cert_unit(v, der, len, NULL, pub, unit, why, sizeof(why)), EDU_OK);
	assert_string_equal(unit, "thpt-a");
	/* deterministic signatures */
	{
		uint8_t sig2[64];
		edu_pki_sign(id, msg, sizeof(msg), sig2);
		assert_memory_equal(sig, sig2, 64);
	}
	edu_pki_verifier_free(v);
	edu_pki_id_free(id);
}

static void key_modes(void **state)
{
	struct fx *f = *state;
	struct stat st;
	char p[PATH_MAX];

	assert_int_equal(stat(f->key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(f->ed, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	pathf(p, "%s/ca.key", f->ca);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(f->ca, &st), 0);
	assert_int_equal(st.st_mode & 0077, 0);
	/* certificates are public: nobody needs them secret */
	assert_int_equal(stat(f->crt, &st), 0);
	assert_int_equal(st.st_mode & 0600, 0600);
}

static void no_overwrite(void **state)
{
	struct fx *f = *state;
	char why[256] = "", *before = NULL, *after = NULL, *s1 = NULL, *s2 = NULL, p[PATH_MAX];
	size_t l1, l2, sl1, sl2;

	pathf(p, "%s/serial", f->ca);
	assert_int_equal(pki_read_file(f->key, 4096, &before, &l1, why, sizeof(why)), EDU_OK);
	assert_int_equal(pki_read_file(p, 64, &s1, &sl1, why, sizeof(why)), EDU_OK);
	assert_int_equal(edu_pki_ca_init(f->ca, CA_NAME, 0, why, sizeof(why)), EDU_EEXIST);
	assert_int_equal(edu_pki_issue(f->ca, "thpt-a", f->out, -1, why, sizeof(why)), EDU_EEXIST);
	assert_non_null(strstr(why, "not overwriting"));
	assert_int_equal(pki_read_file(f->key, 4096, &after, &l2, why, sizeof(why)), EDU_OK);
	assert_int_equal(pki_read_file(p, 64, &s2, &sl2, why, sizeof(why)), EDU_OK);
	assert_int_equal(l1, l2);
	assert_memory_equal(before, after, l1);
	assert_string_equal(s1, s2); /* a refused issue burns no serial */
	/* a different unit into the same directory works and shares ca.crt */
	assert_int_equal(edu_pki_issue(f->ca, "thpt-b", f->out, 30, why, sizeof(why)), EDU_OK);
	free(before);
	free(after);
	free(s1);
	free(s2);
}

static void other_ca(void **state)
{
	struct fx *f = *state;
	char why[256] = "", ca2[PATH_MAX], out2[PATH_MAX], crt2[PATH_MAX];
	edu_pki_verifier *v = NULL;
	uint8_t *der, pub[32];
	size_t len;

	pathf(ca2, "%s/ca2", f->root);
	pathf(out2, "%s/out2", f->root);
	pathf(crt2, "%s/thpt-a.crt", out2);
	/* the same names, another key: only the key decides */
	assert_int_equal(edu_pki_ca_init(ca2, CA_NAME, 0, why, sizeof(why)), EDU_OK);
	assert_int_equal(edu_pki_issue(ca2, "thpt-a", out2, -1, why, sizeof(why)), EDU_OK);
	assert_int_equal(edu_pki_verifier_new(&v, f->ca_crt, f->revoked, why, sizeof(why)), EDU_OK);
	der = read_der(crt2, &len);
	assert_int_equal(edu_pki_verify_cert(v, der, len, "thpt-a", pub, why, sizeof(why)), EDU_ECRYPTO);
	assert_non_null(strstr(why, "not trusted"));
	free(der);
	edu_pki_verifier_free(v);
}

static void cn_mismatch(void **state)
{
	struct fx *f = *state;
	char why[256] = "";
	edu_pki_verifier *v = NULL;
	uint8_t *der, pub[32];
	size_t len;

	assert_int_equal(edu_pki_verifier_new(&v, f->ca_crt, NULL, why, sizeof(why)), EDU_OK);
	der = read_der(f->crt, &len);
	assert_int_equal(edu_pki_verify_cert(v, der, len, "thpt-b", pub, why, sizeof(why)), EDU_EPERM);
	assert_non_null(strstr(why, "expected thpt-b"));
	/* cached now: the cached path must still compare the unit */
	assert_int_equal(edu_pki_verify_cert(v, der, len, "thpt-b", pub, why, sizeof(why)), EDU_EPERM);
	assert_int_equal(edu_pki_verify_cert(v, der, len, "thpt-a", pub, why, sizeof(why)), EDU_OK);
	free(der);
	edu_pki_verifier_free(v);
}

static void expired(void **state)
{
	struct fx *f = *state;
	char why[256] = "", p[PATH_MAX];
	edu_pki_verifier *v = NULL;
	uint8_t *der, pub[32];
	size_t len;
	int64_t now = (int64_t)time(NULL);

	assert_int_equal(edu_pki_verifier_new(&v, f->ca_crt, f->revoked, why, sizeof(why)), EDU_OK);
	assert_int_equal(edu_pki_issue_at(f->ca, "thpt-old", f->out, now - 2 * 86400, now - 86400, why, sizeof(why)),
			 EDU_OK);
	pathf(p, "%s/thpt-old.crt", f->out);
	der = read_der(p, &len);
	assert_int_equal(edu_pki_verify_cert(v, der, len, "thpt-old", pub, why, sizeof(why)), EDU_ECRYPTO);
	assert_non_null(strstr(why, "expired"));
	free(der);
	assert_int_equal(edu_pki_issue_at(f->ca, "thpt-new", f->out, now + 86400, now + 2 * 86400, why, sizeof(why)),
			 EDU_OK);
	pathf(p, "%s/thpt-new.crt", f->out);
	der = read_der(p, &len);
	assert_int_equal(edu_pki_verify_cert(v, der, len, "thpt-new", pub, why, sizeof(why)), EDU_ECRYPTO);
	assert_non_null(strstr(why, "not valid yet"));
	free(der);
	/* days = 0 through the public call: valid until "now", so expired a moment later */
	assert_int_equal(edu_pki_issue(f->ca, "thpt-zero", f->out, 0, why, sizeof(why)), EDU_OK);
	assert_int_equal(edu_pki_issue_at(f->ca, "thpt-bad", f->out, now, now - 1, why, sizeof(why)), EDU_EINVAL);
	edu_pki_verifier_free(v);
}

static void revoked(void **state)
{
	struct fx *f = *state;
	char why[256] = "", p[PATH_MAX];
	edu_pki_verifier *v = NULL;
	uint8_t *der, *der_b, pub[32];
	size_t len, len_b;

	assert_int_equal(edu_pki_issue(f->ca, "thpt-b", f->out, -1, why, sizeof(why)), EDU_OK);
	pathf(p, "%s/thpt-b.crt", f->out);
	der_b = read_der(p, &len_b);
	der = read_der(f->crt, &len);
	assert_int_equal(edu_pki_verifier_new(&v, f->ca_crt, f->revoked, why, sizeof(why)), EDU_OK);
	assert_int_equal(edu_pki_verify_cert(v, der, len, "thpt-a", pub, why, sizeof(why)), EDU_OK);
	assert_int_equal(edu_pki_verify_cert(v, der_b, len_b, "thpt-b", pub, why, sizeof(why)), EDU_OK);

	assert_int_equal(edu_pki_revoke(f->ca, "unit:thpt-a", why, sizeof(why)), EDU_OK);
	/* the node only learns on reload */
	assert_int_equal(edu_pki_verify_cert(v, der, len, "thpt-a", pub, why, sizeof(why)), EDU_OK);
	assert_int_equal(edu_pki_verifier_reload(v, why, sizeof(why)), EDU_OK);
	assert_int_equal(edu_pki_verify_cert(v, der, len, "thpt-a", pub, why, sizeof(why)), EDU_EPERM);
	assert_non_null(strstr(why, "revoked"));
	assert_int_equal(edu_pki_verify_cert(v, der_b, len_b, "thpt-b", pub, why, sizeof(why)), EDU_OK);

	/* by serial; thpt-a is serial 02, thpt-b 03 */
	assert_int_equal(edu_pki_revoke(f->ca, "unit:thpt-a", why, sizeof(why)), EDU_EEXIST);
	assert_int_equal(edu_pki_revoke(f->ca, "unit:nobody", why, sizeof(why)), EDU_ENOENT);
	assert_int_equal(edu_pki_revoke(f->ca, "serial:zz", why, sizeof(why)), EDU_EINVAL);
	assert_int_equal(edu_pki_revoke(f->ca, "serial:0x3", why, sizeof(why)), EDU_OK);
	assert_int_equal(edu_pki_verifier_reload(v, why, sizeof(why)), EDU_OK);
	assert_int_equal(edu_pki_verify_cert(v, der_b, len_b, "thpt-b", pub, why, sizeof(why)), EDU_EPERM);
	/* a fresh verifier reads the list at start */
	edu_pki_verifier_free(v);
	assert_int_equal(edu_pki_verifier_new(&v, f->ca_crt, f->revoked, why, sizeof(why)), EDU_OK);
	assert_int_equal(edu_pki_verify_cert(v, der, len, NULL, pub, why, sizeof(why)), EDU_EPERM);
	/* re-issuing the unit gives a new serial that is not revoked */
	{
		char out3[PATH_MAX];
		uint8_t *der3;
		size_t len3;
		pathf(out3, "%s/out3", f->root);
		assert_int_equal(edu_pki_issue(f->ca, "thpt-a", out3, -1, why, sizeof(why)), EDU_OK);
		pathf(p, "%s/thpt-a.crt", out3);
		der3 = read_der(p, &len3);
		assert_int_equal(edu_pki_verify_cert(v, der3, len3, "thpt-a", pub, why, sizeof(why)), EDU_OK);
		free(der3);
	}
	free(der);
	free(der_b);
	edu_pki_verifier_free(v);
}

static void revoked_tampered(void **state)
{
	struct fx *f = *state;
	char why[256] = "", *buf = NULL, ca2[PATH_MAX], p[PATH_MAX];
	size_t len;
	edu_pki_verifier *v = NULL;
	uint8_t *der, pub[32];
	size_t dlen;
	FILE *fp;

	assert_int_equal(edu_pki_revoke(f->ca, "thpt-a", why, sizeof(why)), EDU_OK); /* bare unit name */
	assert_int_equal(edu_pki_verifier_new(&v, f->ca_crt, f->revoked, why, sizeof(why)), EDU_OK);
	der = read_der(f->crt, &dlen);
	assert_int_equal(edu_pki_verify_cert(v, der, dlen, NULL, pub, why, sizeof(why)), EDU_EPERM);

	/* someone removes the revocation line but keeps the signature */
	assert_int_equal(pki_read_file(f->revoked, 1 << 20, &buf, &len, why, sizeof(why)), EDU_OK);
	{
		char *l2 = strchr(buf, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
		memmove(l2, l3, strlen(l3) + 1);
	}
	fp = fopen(f->revoked, "w");
	assert_non_null(fp);
	fputs(buf, fp);
	fclose(fp);
	assert_int_equal(edu_pki_verifier_reload(v, why, sizeof(why)), EDU_ECRYPTO);
	assert_non_null(strstr(why, "signature"));
	/* the old list stays in force */
	assert_int_equal(edu_pki_verify_cert(v, der, dlen, NULL, pub, why, sizeof(why)), EDU_EPERM);
	edu_pki_verifier_free(v);
	v = NULL;
	assert_int_equal(edu_pki_verifier_new(&v, f->ca_crt, f->revoked, why, sizeof(why)), EDU_ECRYPTO);
	assert_null(v);
	/* the CA refuses to re-sign a tampered list */
	assert_int_equal(edu_pki_issue(f->ca, "thpt-c", f->out, -1, why, sizeof(why)), EDU_OK);
	assert_int_equal(edu_pki_revoke(f->ca, "thpt-c", why, sizeof(why)), EDU_ECRYPTO);
	assert_non_null(strstr(why, "refusing"));

	/* a list signed by another CA */
	pathf(ca2, "%s/ca2", f->root);
	assert_int_equal(edu_pki_ca_init(ca2, CA_NAME, 0, why, sizeof(why)), EDU_OK);
	pathf(p, "%s/revoked.list", ca2);
	assert_int_equal(edu_pki_verifier_new(&v, f->ca_crt, p, why, sizeof(why)), EDU_ECRYPTO);
	/* no signature line, junk after the signature, empty file */
	pathf(p, "%s/nosig.list", f->root);
	append_text(p, "edunet-revoked 1 1700000000\n");
	assert_int_equal(edu_pki_verifier_new(&v, f->ca_crt, p, why, sizeof(why)), EDU_ECRYPTO);
	pathf(p, "%s/revoked.list", ca2);
	append_text(p, "02 thpt-a 1700000000\n");
	assert_int_equal(edu_pki_verifier_new(&v, ca2, p, why, sizeof(why)), EDU_EINVAL); /* ca2 is a dir */
	pathf(ca2, "%s/ca2/ca.crt", f->root);
	assert_int_equal(edu_pki_verifier_new(&v, ca2, p, why, sizeof(why)), EDU_ECRYPTO);
	pathf(p, "%s/empty.list", f->root);
	append_text(p, "");
	assert_int_equal(edu_pki_verifier_new(&v, f->ca_crt, p, why, sizeof(why)), EDU_EINVAL);
	free(buf);
	free(der);
}

/* Writes a revocation list body signed with the CA's key, as the CA would:
 * lets tests make lists that are validly signed but old or malformed. */
static void write_signed_list(struct fx *f, const char *path, const char *body)
{
	char p[PATH_MAX], *pem = NULL, why[256];
	size_t len, siglen = 0, b64len = 0;
	unsigned char hash[32], sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE], b64[256];
	mbedtls_pk_context key;
	FILE *fp;

	pathf(p, "%s/ca.key", f->ca);
	assert_int_equal(pki_read_file(p, EDU_PKI_PEM_MAX, &pem, &len, why, sizeof(why)), EDU_OK);
	mbedtls_pk_init(&key);
	assert_int_equal(mbedtls_pk_parse_key(&key, (unsigned char *)pem, len + 1, NULL, 0), 0);
	assert_int_equal(mbedtls_sha256_ret((const unsigned char *)body, strlen(body), hash, 0), 0);
	assert_int_equal(mbedtls_pk_sign(&key, MBEDTLS_MD_SHA256, hash, 32, sig, &siglen, pki_rng, NULL), 0);
	assert_int_equal(mbedtls_base64_encode(b64, sizeof(b64), &b64len, sig, siglen), 0);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "%ssig %s\n", body, b64);
	fclose(fp);
	mbedtls_pk_free(&key);
	free(pem);
}

static void revoked_rollback(void **state)
{
	struct fx *f = *state;
	char why[256] = "", p[PATH_MAX];
	edu_pki_verifier *v = NULL;
	uint8_t *der, pub[32];
	size_t len;

	der = read_der(f->crt, &len);
	assert_int_equal(edu_pki_revoke(f->ca, "thpt-a", why, sizeof(why)), EDU_OK);
	assert_int_equal(edu_pki_verifier_new(&v, f->ca_crt, f->revoked, why, sizeof(why)), EDU_OK);
	assert_int_equal(edu_pki_verify_cert(v, der, len, NULL, pub, why, sizeof(why)), EDU_EPERM);
	/* a genuine but older list (before the revocation) is put back */
	write_signed_list(f, f->revoked, "edunet-revoked 1 1000000000\n");
	assert_int_equal(edu_pki_verifier_reload(v, why, sizeof(why)), EDU_ECONFLICT);
	assert_int_equal(edu_pki_verify_cert(v, der, len, NULL, pub, why, sizeof(why)), EDU_EPERM);
	edu_pki_verifier_free(v);
	/* validly signed but malformed or from the future format: still refused */
	pathf(p, "%s/odd.list", f->root);
	write_signed_list(f, p, "edunet-revoked 2 1000000000\n");
	assert_int_equal(edu_pki_verifier_new(&v, f->ca_crt, p, why, sizeof(why)), EDU_EVERSION);
	write_signed_list(f, p, "edunet-revoked 1 1000000000\n02 thpt-a\n");
	assert_int_equal(edu_pki_verifier_new(&v, f->ca_crt, p, why, sizeof(why)), EDU_EINVAL);
	write_signed_list(f, p, "edunet-revoked 1 1000000000\n2 thpt-a 5\n");
	assert_int_equal(edu_pki_verifier_new(&v, f->ca_crt, p, why, sizeof(why)), EDU_EINVAL);
	write_signed_list(f, p, "edunet-revoked 1 1000000000\n02 ../x 5\n");
	assert_int_equal(edu_pki_verifier_new(&v, f->ca_crt, p, why, sizeof(why)), EDU_EINVAL);
	write_signed_list(f, p, "edunet-revoked 1 1000000000\n02 thpt-a 5\n");
	assert_int_equal(edu_pki_verifier_new(&v, f->ca_crt, p, why, sizeof(why)), EDU_OK);
	assert_int_equal(edu_pki_verify_cert(v, der, len, NULL, pub, why, sizeof(why)), EDU_EPERM);
	edu_pki_verifier_free(v);
	free(der);
}

static void sig_tampered(void **state)
{
	struct fx *f = *state;
	edu_pki_id *id = NULL;
	char why[256] = "";
	uint8_t sig[64], pub[32], other[32], osk[64];
	char msg[] = "item thpt-a:7 v3 sha256=...";

	assert_int_equal(edu_pki_id_load(&id, f->crt, f->key, f->ed, why, sizeof(why)), EDU_OK);
	edu_pki_id_ed_pub(id, pub);
	edu_pki_sign(id, msg, sizeof(msg), sig);
	assert_true(edu_pki_verify_sig(pub, msg, sizeof(msg), sig));
	sig[10] ^= 1;
	assert_false(edu_pki_verify_sig(pub, msg, sizeof(msg), sig));
	sig[10] ^= 1;
	msg[5] ^= 1;
	assert_false(edu_pki_verify_sig(pub, msg, sizeof(msg), sig));
	msg[5] ^= 1;
	assert_false(edu_pki_verify_sig(pub, msg, sizeof(msg) - 1, sig));
	crypto_sign_keypair(other, osk);
	assert_false(edu_pki_verify_sig(other, msg, sizeof(msg), sig));
	assert_false(edu_pki_verify_sig(pub, NULL, 5, sig));
	/* empty messages are fine */
	edu_pki_sign(id, "", 0, sig);
	assert_true(edu_pki_verify_sig(pub, "", 0, sig));
	edu_pki_id_free(id);
}

static void ext_matches(void **state)
{
	struct fx *f = *state;
	char why[256] = "", p[PATH_MAX], *edtxt = NULL;
	mbedtls_x509_crt crt;
	uint8_t *der, ext_pub[32], seed[32], pk[32], sk[64];
	size_t len, edlen, got = 0;
	bool found = false;
	edu_pki_id *id = NULL;

	der = read_der(f->crt, &len);
	mbedtls_x509_crt_init(&crt);
	assert_int_equal(pki_parse_der(&crt, der, len, ext_pub, &found), 0);
	assert_true(found);
	/* read the secret key file independently of edu_pki_id_load */
	assert_int_equal(pki_read_file(f->ed, 4096, &edtxt, &edlen, why, sizeof(why)), EDU_OK);
	assert_int_equal(strncmp(edtxt, "edunet-ed25519-seed 1 ", 22), 0);
	edtxt[edlen - 1] = '\0';
	assert_int_equal(sodium_base642bin(seed, sizeof(seed), edtxt + 22, strlen(edtxt + 22), NULL, &got, NULL,
					   sodium_base64_VARIANT_ORIGINAL),
			 0);
	assert_int_equal(got, 32);
	crypto_sign_seed_keypair(pk, sk, seed);
	assert_memory_equal(pk, ext_pub, 32);
	/* subject and issuer */
	{
		char cn[64], o[128] = "";
		assert_true(pki_name_cn(&crt.subject, cn, sizeof(cn)));
		assert_string_equal(cn, "thpt-a");
		for (const mbedtls_x509_name *n = &crt.subject; n; n = n->next)
			if (n->oid.p && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_ORGANIZATION, &n->oid) == 0)
				snprintf(o, sizeof(o), "%.*s", (int)n->val.len, n->val.p);
		assert_string_equal(o, CA_NAME);
		assert_true(pki_name_cn(&crt.issuer, cn, sizeof(cn)));
		assert_false(crt.ca_istrue);
	}
	mbedtls_x509_crt_free(&crt);
	free(der);
	free(edtxt);
	/* mismatched files are refused at load */
	assert_int_equal(edu_pki_issue(f->ca, "thpt-b", f->out, -1, why, sizeof(why)), EDU_OK);
	pathf(p, "%s/thpt-b.ed25519", f->out);
	assert_int_equal(edu_pki_id_load(&id, f->crt, f->key, p, why, sizeof(why)), EDU_ECRYPTO);
	assert_null(id);
	pathf(p, "%s/thpt-b.key", f->out);
	assert_int_equal(edu_pki_id_load(&id, f->crt, p, f->ed, why, sizeof(why)), EDU_ECRYPTO);
	assert_int_equal(edu_pki_id_load(&id, f->crt, f->key, f->crt, why, sizeof(why)), EDU_EINVAL);
	assert_int_equal(edu_pki_id_load(&id, f->ca_crt, f->key, f->ed, why, sizeof(why)), EDU_ECRYPTO);
}

static void cache(void **state)
{
	struct fx *f = *state;
	char why[256] = "";
	edu_pki_verifier *v = NULL;
	uint8_t *der, pub[32];
	size_t len;
	uint64_t hits, misses;

	assert_int_equal(edu_pki_verifier_new(&v, f->ca_crt, f->revoked, why, sizeof(why)), EDU_OK);
	der = read_der(f->crt, &len);
	assert_int_equal(edu_pki_verify_cert(v, der, len, "thpt-a", pub, why, sizeof(why)), EDU_OK);
	assert_int_equal(edu_pki_verify_cert(v, der, len, "thpt-a", pub, why, sizeof(why)), EDU_OK);
	edu_pki_verifier_stats(v, &hits, &misses);
	assert_int_equal(hits, 1);
	assert_int_equal(misses, 1);
	/* a changed byte is a different certificate: not a cache hit, and not valid */
	der[len - 5] ^= 0x01;
	assert_int_not_equal(edu_pki_verify_cert(v, der, len, "thpt-a", pub, why, sizeof(why)), EDU_OK);
	edu_pki_verifier_stats(v, &hits, &misses);
	assert_int_equal(misses, 2);
	der[len - 5] ^= 0x01;
	/* revocation reaches cached entries */
	assert_int_equal(edu_pki_revoke(f->ca, "unit:thpt-a", why, sizeof(why)), EDU_OK);
	assert_int_equal(edu_pki_verifier_reload(v, why, sizeof(why)), EDU_OK);
	assert_int_equal(edu_pki_verify_cert(v, der, len, "thpt-a", pub, why, sizeof(why)), EDU_EPERM);
	edu_pki_verifier_stats(v, &hits, &misses);
	assert_int_equal(hits, 2);
	free(der);
	edu_pki_verifier_free(v);
}

static void bad_input(void **state)
{
	struct fx *f = *state;
	char why[256] = "", p[PATH_MAX];
	edu_pki_verifier *v = NULL;
	uint8_t junk[300], pub[32], *der;
	size_t len;

	assert_int_equal(edu_pki_verifier_new(&v, f->ca_crt, NULL, why, sizeof(why)), EDU_OK);
	memset(junk, 0x30, sizeof(junk));
	assert_int_equal(edu_pki_verify_cert(v, junk, sizeof(junk), NULL, pub, why, sizeof(why)), EDU_EINVAL);
	assert_int_equal(edu_pki_verify_cert(v, junk, EDU_PKI_CERT_MAX + 1, NULL, pub, why, sizeof(why)),
			 EDU_ETOOBIG);
	assert_int_equal(edu_pki_verify_cert(v, NULL, 0, NULL, pub, why, sizeof(why)), EDU_EINVAL);
	der = read_der(f->crt, &len);
	for (size_t cut = 1; cut < len; cut += 37) /* every truncation is refused */
		assert_int_not_equal(edu_pki_verify_cert(v, der, cut, NULL, pub, why, sizeof(why)), EDU_OK);
	free(der);
	/* the CA certificate cannot pose as a unit */
	der = read_der(f->ca_crt, &len);
	assert_int_equal(edu_pki_verify_cert(v, der, len, NULL, pub, why, sizeof(why)), EDU_ECRYPTO);
	free(der);
	edu_pki_verifier_free(v);
	/* unit ids become file names: only SPEC ids pass */
	assert_int_equal(edu_pki_issue(f->ca, "../evil", f->out, -1, why, sizeof(why)), EDU_EINVAL);
	assert_int_equal(edu_pki_issue(f->ca, "THPT-A", f->out, -1, why, sizeof(why)), EDU_EINVAL);
	assert_int_equal(edu_pki_issue(f->ca, "a", f->out, -1, why, sizeof(why)), EDU_EINVAL);
	assert_int_equal(edu_pki_issue(f->ca, "thpt-a", f->out, EDU_PKI_DAYS_MAX + 1, why, sizeof(why)), EDU_EINVAL);
	assert_int_equal(edu_pki_issue(f->ca, "x2345678901234567890123456789012345678901", f->out, -1, why,
	    sizeof(why)), EDU_EINVAL); /* 41 characters */
	/* names that would change the DN, or are not UTF-8 */
	pathf(p, "%s/ca-bad", f->root);
	assert_int_equal(edu_pki_ca_init(p, "A, O=Evil", 0, why, sizeof(why)), EDU_EINVAL);
	assert_int_equal(edu_pki_ca_init(p, "\xff\xfe", 0, why, sizeof(why)), EDU_EINVAL);
	assert_int_equal(edu_pki_ca_init(p, "", 0, why, sizeof(why)), EDU_EINVAL);
	/* missing files */
	assert_int_equal(edu_pki_verifier_new(&v, "/nonexistent/ca.crt", NULL, why, sizeof(why)), EDU_ENOENT);
	assert_int_equal(edu_pki_issue("/nonexistent", "thpt-z", f->out, -1, why, sizeof(why)), EDU_ENOENT);
}

static void cli(void **state)
{
	struct fx *f = *state;
	char ca2[PATH_MAX], out2[PATH_MAX];
	FILE *saved_out;

	pathf(ca2, "%s/cli-ca", f->root);
	pathf(out2, "%s/cli-out", f->root);
	/* keep the test log readable */
	fflush(stdout);
	saved_out = freopen("/dev/null", "w", stdout);
	assert_non_null(saved_out);
	{
		char *a1[] = {"init", "--dir", ca2, "--name=Sở Test", "--days", "100", NULL};
		char *a2[] = {"issue", "--dir", ca2, "--unit", "pgd-x", "--out", out2, NULL};
		char *a3[] = {"list", "--dir", ca2, "--json", NULL};
		char *a4[] = {"revoke", "--dir", ca2, "--serial", "02", NULL};
		char *a5[] = {"revoke", "--dir", ca2, "--unit", "pgd-x", NULL};
		char *u1[] = {"init", "--dir", ca2, NULL};
		char *u2[] = {"revoke", "--dir", ca2, "--unit", "a", "--serial", "02", NULL};
		char *u3[] = {"frobnicate", NULL};
		char *u4[] = {"list", "--dir", ca2, "--bogus", NULL};
		char *u5[] = {"issue", "--dir", ca2, "--unit", "pgd-y", "--out", out2, "--days", "-3", NULL};
		char *u6[] = {"list", "--dir", NULL};
		assert_int_equal(edu_pki_cli(6, a1), 0);
		assert_int_equal(edu_pki_cli(6, a1), 1); /* exists */
		assert_int_equal(edu_pki_cli(7, a2), 0);
		assert_int_equal(edu_pki_cli(7, a2), 1); /* files exist */
		assert_int_equal(edu_pki_cli(4, a3), 0);
		assert_int_equal(edu_pki_cli(3, a3), 0);
		assert_int_equal(edu_pki_cli(5, a4), 0);
		assert_int_equal(edu_pki_cli(5, a5), 1); /* already revoked */
		assert_int_equal(edu_pki_cli(3, u1), 2);
		assert_int_equal(edu_pki_cli(7, u2), 2);
		assert_int_equal(edu_pki_cli(1, u3), 2);
		assert_int_equal(edu_pki_cli(4, u4), 2);
		assert_int_equal(edu_pki_cli(9, u5), 2);
		assert_int_equal(edu_pki_cli(2, u6), 2);
		assert_int_equal(edu_pki_cli(0, u3), 2);
	}
	fflush(stdout);
	assert_non_null(freopen("/dev/stderr", "w", stdout)); /* stdout of a test is not looked at afterwards */
	{
		char p[PATH_MAX], *buf = NULL, why[256];
		size_t len;
		pathf(p, "%s/issued.csv", ca2);
		assert_int_equal(pki_read_file(p, 4096, &buf, &len, why, sizeof(why)), EDU_OK);
		assert_non_null(strstr(buf, "\n02,pgd-x,"));
		free(buf);
	}
}

/* ---- TLS ---- */

struct link {
	nng_socket srv, cli;
	nng_listener l;
	char url[64];
};

static void link_listen(struct link *k, nng_tls_config *scfg)
{
	int port = 0;

	assert_int_equal(nng_pair1_open(&k->srv), 0);
	assert_int_equal(nng_pair1_open(&k->cli), 0);
	assert_int_equal(nng_socket_set_ms(k->srv, NNG_OPT_RECVTIMEO, 2000), 0);
	assert_int_equal(nng_socket_set_ms(k->cli, NNG_OPT_SENDTIMEO, 2000), 0);
	assert_int_equal(nng_listener_create(&k->l, k->srv, "tls+tcp://127.0.0.1:0"), 0);
	assert_int_equal(nng_listener_set_ptr(k->l, NNG_OPT_TLS_CONFIG, scfg), 0);
	assert_int_equal(nng_listener_start(k->l, 0), 0);
	assert_int_equal(nng_listener_get_int(k->l, NNG_OPT_TCP_BOUND_PORT, &port), 0);
	snprintf(k->url, sizeof(k->url), "tls+tcp://127.0.0.1:%d", port);
}

static int link_dial(struct link *k, nng_tls_config *ccfg)
{
	nng_dialer d;
	int rv;

	assert_int_equal(nng_dialer_create(&d, k->cli, k->url), 0);
	assert_int_equal(nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, ccfg), 0);
	assert_int_equal(nng_dialer_set_ms(d, NNG_OPT_RECONNMINT, 5000), 0);
	rv = nng_dialer_start(d, 0);
	if (rv != 0)
		nng_dialer_close(d);
	return rv;
}

static void link_close(struct link *k)
{
	nng_close(k->cli);
	nng_close(k->srv);
}

static void server_cfg(struct fx *f, nng_tls_config **scfg)
{
	char why[256] = "";
	char crt[PATH_MAX], key[PATH_MAX];

	assert_int_equal(edu_pki_issue(f->ca, "so-test", f->out, -1, why, sizeof(why)), EDU_OK);
	pathf(crt, "%s/so-test.crt", f->out);
	pathf(key, "%s/so-test.key", f->out);
	assert_int_equal(edu_pki_nng_tls(scfg, NNG_TLS_MODE_SERVER, f->ca_crt, crt, key, why, sizeof(why)), EDU_OK);
}

static void tls_ok(void **state)
{
	struct fx *f = *state;
	nng_tls_config *scfg = NULL, *ccfg = NULL;
	char why[256] = "", *msg = NULL;
	struct link k;
	size_t sz = 0;

	server_cfg(f, &scfg);
	assert_int_equal(edu_pki_nng_tls(&ccfg, NNG_TLS_MODE_CLIENT, f->ca_crt, f->crt, f->key, why, sizeof(why)),
			 EDU_OK);
	link_listen(&k, scfg);
	assert_int_equal(link_dial(&k, ccfg), 0);
	assert_int_equal(nng_send(k.cli, "hello", 6, 0), 0);
	assert_int_equal(nng_recv(k.srv, &msg, &sz, NNG_FLAG_ALLOC), 0);
	assert_int_equal(sz, 6);
	assert_string_equal(msg, "hello");
	nng_free(msg, sz);
	link_close(&k);
	nng_tls_config_free(scfg);
	nng_tls_config_free(ccfg);
	/* bad arguments */
	assert_int_equal(edu_pki_nng_tls(&ccfg, 7, f->ca_crt, f->crt, f->key, why, sizeof(why)), EDU_EINVAL);
	assert_int_equal(edu_pki_nng_tls(&ccfg, NNG_TLS_MODE_CLIENT, f->ca_crt, f->crt, f->ca_crt, why, sizeof(why)),
			 EDU_ECRYPTO);
	assert_null(ccfg);
}

static void tls_other_ca(void **state)
{
	struct fx *f = *state;
	nng_tls_config *scfg = NULL, *ccfg = NULL;
	char why[256] = "", ca2[PATH_MAX], out2[PATH_MAX], crt[PATH_MAX], key[PATH_MAX], cacrt[PATH_MAX];
	struct link k;
	char *msg = NULL;
	size_t sz = 0;

	pathf(ca2, "%s/ca2", f->root);
	pathf(out2, "%s/out2", f->root);
	assert_int_equal(edu_pki_ca_init(ca2, CA_NAME, 0, why, sizeof(why)), EDU_OK);
	assert_int_equal(edu_pki_issue(ca2, "thpt-a", out2, -1, why, sizeof(why)), EDU_OK);
	pathf(crt, "%s/thpt-a.crt", out2);
	pathf(key, "%s/thpt-a.key", out2);
	pathf(cacrt, "%s/ca.crt", out2);
	server_cfg(f, &scfg);
	/* the intruder trusts our CA (to accept the server) but holds another CA's cert */
	assert_int_equal(edu_pki_nng_tls(&ccfg, NNG_TLS_MODE_CLIENT, f->ca_crt, crt, key, why, sizeof(why)), EDU_OK);
	link_listen(&k, scfg);
	assert_int_not_equal(link_dial(&k, ccfg), 0);
	assert_int_equal(nng_socket_set_ms(k.srv, NNG_OPT_RECVTIMEO, 200), 0);
	assert_int_equal(nng_recv(k.srv, &msg, &sz, NNG_FLAG_ALLOC), NNG_ETIMEDOUT);
	link_close(&k);
	nng_tls_config_free(ccfg);
	/* and a client that trusts only the other CA refuses our server */
	assert_int_equal(edu_pki_nng_tls(&ccfg, NNG_TLS_MODE_CLIENT, cacrt, crt, key, why, sizeof(why)), EDU_OK);
	link_listen(&k, scfg);
	assert_int_not_equal(link_dial(&k, ccfg), 0);
	link_close(&k);
	nng_tls_config_free(ccfg);
	nng_tls_config_free(scfg);
}

static void tls_no_cert(void **state)
{
	struct fx *f = *state;
	nng_tls_config *scfg = NULL, *ccfg = NULL;
	char *ca = NULL, why[256];
	size_t len;
	struct link k;

	server_cfg(f, &scfg);
	/* a client with the right CA but no certificate of its own */
	assert_int_equal(pki_read_file(f->ca_crt, EDU_PKI_PEM_MAX, &ca, &len, why, sizeof(why)), EDU_OK);
	assert_int_equal(nng_tls_config_alloc(&ccfg, NNG_TLS_MODE_CLIENT), 0);
	assert_int_equal(nng_tls_config_auth_mode(ccfg, NNG_TLS_AUTH_MODE_REQUIRED), 0);
	assert_int_equal(nng_tls_config_ca_chain(ccfg, ca, NULL), 0);
	link_listen(&k, scfg);
	assert_int_not_equal(link_dial(&k, ccfg), 0);
	link_close(&k);
	nng_tls_config_free(scfg);
	/* control: the same certless client gets in where client auth is only optional,
	 * so the refusal above comes from the required mutual authentication */
	{
		char *crt = NULL, *key = NULL;
		size_t l;
		assert_int_equal(pki_read_file(f->crt, EDU_PKI_PEM_MAX, &crt, &l, why, sizeof(why)), EDU_OK);
		assert_int_equal(pki_read_file(f->key, EDU_PKI_PEM_MAX, &key, &l, why, sizeof(why)), EDU_OK);
		assert_int_equal(nng_tls_config_alloc(&scfg, NNG_TLS_MODE_SERVER), 0);
		assert_int_equal(nng_tls_config_auth_mode(scfg, NNG_TLS_AUTH_MODE_OPTIONAL), 0);
		assert_int_equal(nng_tls_config_ca_chain(scfg, ca, NULL), 0);
		assert_int_equal(nng_tls_config_own_cert(scfg, crt, key, NULL), 0);
		link_listen(&k, scfg);
		assert_int_equal(link_dial(&k, ccfg), 0);
		link_close(&k);
		nng_tls_config_free(scfg);
		free(crt);
		free(key);
	}
	nng_tls_config_free(ccfg);
	free(ca);
}

/* ---- concurrency: many threads verify while the list is reloaded ---- */

struct thr {
	edu_pki_verifier *v;
	const uint8_t *der_a, *der_b;
	size_t len_a, len_b;
	int bad;
};

static void *verify_loop(void *arg)
{
	struct thr *t = arg;
	uint8_t pub[32];
	char why[128];

	for (int i = 0; i < 300; i++) {
		edu_err a = edu_pki_verify_cert(t->v, t->der_a, t->len_a, "thpt-a", pub, why, sizeof(why));
		edu_err b = edu_pki_verify_cert(t->v, t->der_b, t->len_b, "thpt-b", pub, why, sizeof(why));
		/* thpt-a may flip to revoked mid-run; thpt-b never changes */
		if ((a != EDU_OK && a != EDU_EPERM) || b != EDU_OK)
			__atomic_add_fetch(&t->bad, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void threads(void **state)
{
	struct fx *f = *state;
	char why[256] = "", p[PATH_MAX];
	struct thr t = {0};
	pthread_t th[4];
	uint8_t *da, *db, pub[32];

	assert_int_equal(edu_pki_issue(f->ca, "thpt-b", f->out, -1, why, sizeof(why)), EDU_OK);
	pathf(p, "%s/thpt-b.crt", f->out);
	da = read_der(f->crt, &t.len_a);
	db = read_der(p, &t.len_b);
	t.der_a = da;
	t.der_b = db;
	assert_int_equal(edu_pki_verifier_new(&t.v, f->ca_crt, f->revoked, why, sizeof(why)), EDU_OK);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, verify_loop, &t), 0);
	assert_int_equal(edu_pki_revoke(f->ca, "thpt-a", why, sizeof(why)), EDU_OK);
	for (int i = 0; i < 5; i++)
		assert_int_equal(edu_pki_verifier_reload(t.v, why, sizeof(why)), EDU_OK);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(t.bad, 0);
	assert_int_equal(edu_pki_verify_cert(t.v, da, t.len_a, "thpt-a", pub, why, sizeof(why)), EDU_EPERM);
	edu_pki_verifier_free(t.v);
	free(da);
	free(db);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(key_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(no_overwrite, setup, teardown),
		cmocka_unit_test_setup_teardown(other_ca, setup, teardown),
		cmocka_unit_test_setup_teardown(cn_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(expired, setup, teardown),
		cmocka_unit_test_setup_teardown(revoked, setup, teardown),
		cmocka_unit_test_setup_teardown(revoked_tampered, setup, teardown),
		cmocka_unit_test_setup_teardown(revoked_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(sig_tampered, setup, teardown),
		cmocka_unit_test_setup_teardown(ext_matches, setup, teardown),
		cmocka_unit_test_setup_teardown(cache, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(cli, setup, teardown),
		cmocka_unit_test_setup_teardown(tls_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(tls_other_ca, setup, teardown),
		cmocka_unit_test_setup_teardown(tls_no_cert, setup, teardown),
		cmocka_unit_test_setup_teardown(threads, setup, teardown),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
