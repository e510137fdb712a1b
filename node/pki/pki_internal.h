/* Internals shared by pki.c, pki_ca.c, pki_cli.c and the tests. Not a public face. */
#ifndef EDU_PKI_INTERNAL_H
#define EDU_PKI_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "pki/pki.h"

#define PKI_UNIT_MAX 40
#define PKI_ISSUED_MAX (16u * 1024u * 1024u) /* bytes of issued.csv */
#define PKI_REVOKED_ENTRIES_MAX 100000        /* lines in revoked.list */
#define PKI_REVOKED_MAGIC "edunet-revoked"
#define PKI_REVOKED_VERSION 1
#define PKI_ED_MAGIC "edunet-ed25519-seed"
#define PKI_ED_VERSION 1
/* 1.3.6.1.4.1.59999.1.1, DER-encoded OID body */
#define PKI_OID_ED25519 "\x2b\x06\x01\x04\x01\x83\xd4\x5f\x01\x01"

struct pki_rev {
	char serial[EDU_PKI_SERIAL_HEX_MAX + 1];
	char unit[PKI_UNIT_MAX + 1];
	int64_t when;
};

struct pki_issued {
	char serial[EDU_PKI_SERIAL_HEX_MAX + 1];
	char unit[PKI_UNIT_MAX + 1];
	int64_t not_before, not_after, issued_at;
};

void pki_why(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* mbedtls error code as text */
void pki_mbed_why(char *why, size_t whylen, const char *what, int rc);
int pki_rng(void *ctx, unsigned char *buf, size_t len);
bool pki_name_valid(const char *name, char *why, size_t whylen);

/* Reads a whole file (at most max bytes) and NUL-terminates it; *out is the caller's (free). */
edu_err pki_read_file(const char *path, size_t max, char **out, size_t *len, char *why, size_t whylen);
/* Creates path with O_EXCL and mode; fsyncs. */
edu_err pki_write_new(const char *path, const void *data, size_t len, int mode, char *why, size_t whylen);
/* Writes path.tmp then renames over path; fsyncs. */
edu_err pki_write_atomic(const char *path, const void *data, size_t len, int mode, char *why, size_t whylen);
/* mkdir -p with mode 0700 for what it creates. */
edu_err pki_mkdirs(const char *dir, char *why, size_t whylen);
edu_err pki_path(char *out, size_t outlen, const char *dir, const char *name, const char *ext, char *why,
		 size_t whylen);

/* Parses a DER certificate, collecting the Ed25519 extension. *found says whether it was present. */
int pki_parse_der(mbedtls_x509_crt *crt, const uint8_t *der, size_t len, uint8_t ed_pub[32], bool *found);
/* First CERTIFICATE block of a PEM text to DER; *der is the caller's (free). */
edu_err pki_pem_to_der(const char *pem, uint8_t **der, size_t *len, char *why, size_t whylen);
/* CN of a parsed name into out (raw bytes, NUL-terminated). */
bool pki_name_cn(const mbedtls_x509_name *name, char *out, size_t outlen);
void pki_serial_hex(const mbedtls_x509_buf *serial, char out[EDU_PKI_SERIAL_HEX_MAX + 1]);
int64_t pki_x509_time_unix(const mbedtls_x509_time *t);

/* Parses revoked.list and checks its signature with the CA's public key.
 * *out sorted by serial, caller's (free). *written: the header's time. */
edu_err pki_revoked_parse(const char *buf, size_t len, mbedtls_pk_context *ca_pub, struct pki_rev **out, size_t *n,
			  int64_t *written, char *why, size_t whylen);
/* Orders struct pki_rev by serial (for qsort/bsearch). */
int pki_rev_cmp(const void *a, const void *b);
/* Parses issued.csv; *out caller's (free). */
edu_err pki_issued_parse(const char *buf, size_t len, struct pki_issued **out, size_t *n, char *why, size_t whylen);

/* edu_pki_issue with explicit validity (Unix seconds), for tests of expiry. */
edu_err edu_pki_issue_at(const char *ca_dir, const char *unit, const char *out_dir, int64_t not_before,
			 int64_t not_after, char *why, size_t whylen);
/* Cache counters, for tests and pki_bench. */
void edu_pki_verifier_stats(edu_pki_verifier *v, uint64_t *hits, uint64_t *misses);

#endif
