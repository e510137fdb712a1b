/* pki_bench: costs of the identity checks, as "metric value unit" lines.
 * Builds a throw-away CA in a temp dir; not a test. */
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pki/pki.h"
#include "pki/pki_internal.h"

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	char root[] = "/tmp/edu-pki-bench-XXXXXX", ca[256], out[256], crt[PATH_MAX], key[PATH_MAX],
	     ed[PATH_MAX], cacrt[PATH_MAX], rev[PATH_MAX], why[256] = "", *pem = NULL;
	edu_pki_id *id = NULL;
	edu_pki_verifier *v = NULL;
	const uint8_t *der;
	size_t len, pemlen;
	uint8_t sig[64], pub[32], msg[512];
	int n = argc > 1 ? atoi(argv[1]) : 2000, rc = 1, ok = 0;
	double t0;

	if (n <= 0)
		n = 2000;
	if (mkdtemp(root) == NULL)
		return 1;
	snprintf(ca, sizeof(ca), "%s/ca", root);
	snprintf(out, sizeof(out), "%s/out", root);
	snprintf(crt, sizeof(crt), "%s/thpt-a.crt", out);
	snprintf(key, sizeof(key), "%s/thpt-a.key", out);
	snprintf(ed, sizeof(ed), "%s/thpt-a.ed25519", out);
	snprintf(cacrt, sizeof(cacrt), "%s/ca.crt", ca);
	snprintf(rev, sizeof(rev), "%s/revoked.list", ca);

	t0 = now_us();
	if (edu_pki_ca_init(ca, "Bench CA", 0, why, sizeof(why)) != EDU_OK)
		goto out;
	printf("ca_init %.2f ms\n", (now_us() - t0) / 1e3);
	t0 = now_us();
	if (edu_pki_issue(ca, "thpt-a", out, -1, why, sizeof(why)) != EDU_OK)
		goto out;
	printf("issue %.2f ms\n", (now_us() - t0) / 1e3);
	for (int i = 0; i < 20; i++) { /* revocation list with a few entries, as in the field */
		char u[32];
		snprintf(u, sizeof(u), "thcs-%02d", i);
		if (edu_pki_issue(ca, u, out, -1, why, sizeof(why)) != EDU_OK ||
		    edu_pki_revoke(ca, u, why, sizeof(why)) != EDU_OK)
			goto out;
	}
	if (edu_pki_id_load(&id, crt, key, ed, why, sizeof(why)) != EDU_OK ||
	    edu_pki_verifier_new(&v, cacrt, rev, why, sizeof(why)) != EDU_OK)
		goto out;
	edu_pki_id_cert_der(id, &der, &len);
	memset(msg, 'x', sizeof(msg));

	t0 = now_us();
	for (int i = 0; i < n; i++) {
		msg[0] = (uint8_t)i;
		edu_pki_sign(id, msg, sizeof(msg), sig);
	}
	printf("ed25519_sign_512B %.2f us\n", (now_us() - t0) / n);
	edu_pki_id_ed_pub(id, pub);
	t0 = now_us();
	for (int i = 0; i < n; i++)
		ok += edu_pki_verify_sig(pub, msg, sizeof(msg), sig) ? 1 : 0;
	printf("ed25519_verify_512B %.2f us\n", (now_us() - t0) / n);
	if (ok != n)
		goto out;

	/* uncached: a fresh verifier each time pays the chain check (the verifier's own set-up excluded) */
	{
		int m = n / 10 > 50 ? n / 10 : 50;
		double total = 0;
		for (int i = 0; i < m; i++) {
			edu_pki_verifier *f = NULL;
			if (edu_pki_verifier_new(&f, cacrt, NULL, why, sizeof(why)) != EDU_OK)
				goto out;
			t0 = now_us();
			if (edu_pki_verify_cert(f, der, len, "thpt-a", pub, why, sizeof(why)) != EDU_OK) {
				edu_pki_verifier_free(f);
				goto out;
			}
			total += now_us() - t0;
			edu_pki_verifier_free(f);
		}
		printf("cert_verify_uncached %.2f us\n", total / m);
		t0 = now_us();
		for (int i = 0; i < m; i++) {
			edu_pki_verifier *f = NULL;
			if (edu_pki_verifier_new(&f, cacrt, rev, why, sizeof(why)) != EDU_OK)
				goto out;
			edu_pki_verifier_free(f);
		}
		printf("verifier_load_20_revoked %.2f us\n", (now_us() - t0) / m);
	}
	if (edu_pki_verify_cert(v, der, len, "thpt-a", pub, why, sizeof(why)) != EDU_OK)
		goto out;
	t0 = now_us();
	for (int i = 0; i < n; i++)
		if (edu_pki_verify_cert(v, der, len, "thpt-a", pub, why, sizeof(why)) != EDU_OK)
			goto out;
	printf("cert_verify_cached %.2f us\n", (now_us() - t0) / n);
	printf("cert_der_size %zu bytes\n", len);
	if (pki_read_file(cacrt, EDU_PKI_PEM_MAX, &pem, &pemlen, why, sizeof(why)) == EDU_OK)
		printf("ca_pem_size %zu bytes\n", pemlen);
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "pki_bench: %s\n", why);
	free(pem);
	edu_pki_id_free(id);
	edu_pki_verifier_free(v);
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
