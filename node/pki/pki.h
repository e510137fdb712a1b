/* Province PKI (SPEC §6.5 "Identity"): the CA, unit identities, certificate and
 * signature checks, and the nng TLS configuration.
 *
 * Per unit the CA issues an X.509 certificate (ECDSA P-256 key, subject
 * "CN=<unit id>, O=<province name>", a serial from the CA's counter) that also
 * carries the unit's Ed25519 public key in a private non-critical extension
 * (OID 1.3.6.1.4.1.59999.1.1, OCTET STRING of 32 bytes), plus the Ed25519 secret
 * key itself. P-256 is for TLS (what nng's mbedtls 2.28 engine supports
 * everywhere); Ed25519 signs item versions and link handshake challenges,
 * because nng cannot tell the application who the TLS peer is.
 *
 * Files of a CA directory:
 *   ca.key        CA private key, PEM (mode 0600)
 *   ca.crt        CA certificate, PEM
 *   serial        next serial number, lowercase hex
 *   issued.csv    "serial,unit,not_before,not_after,issued_at" (Unix seconds)
 *   revoked.list  signed revocation list, see below
 * Files written by edu_pki_issue into out_dir:
 *   <unit>.key (0600), <unit>.crt, <unit>.ed25519 (0600), ca.crt
 *
 * revoked.list (mbedtls 2.28 cannot write X.509 CRLs):
 *   edunet-revoked 1 <unix time written>
 *   <serial-hex> <unit-id> <unix time revoked>      (zero or more lines)
 *   sig <base64 DER ECDSA-SHA256 signature by the CA key over all bytes above>
 *
 * Private keys are created with O_CREAT|O_EXCL and mode 0600 and are never
 * logged; existing key files are never overwritten.
 */
#ifndef EDU_PKI_H
#define EDU_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "core/err.h"

#define EDU_PKI_DAYS_DEFAULT 1826      /* unit certificates: 5 years */
#define EDU_PKI_CA_DAYS_DEFAULT 7305   /* CA certificate: 20 years */
#define EDU_PKI_DAYS_MAX 36525         /* 100 years */
#define EDU_PKI_NAME_MAX 64            /* bytes of the CA / province name (X.520 ub-name) */
#define EDU_PKI_CERT_MAX 8192          /* bytes of one DER certificate accepted from a peer */
#define EDU_PKI_PEM_MAX 65536          /* bytes of a PEM / key file we read */
#define EDU_PKI_REVOKED_MAX 4194304    /* bytes of revoked.list */
#define EDU_PKI_SERIAL_HEX_MAX 40      /* 20-byte serials (RFC 5280) */
#define EDU_PKI_CACHE_SLOTS 1024       /* verified-certificate cache entries */
#define EDU_PKI_SIG_LEN 64
#define EDU_PKI_PUB_LEN 32


/* ---- CA operations (operator side, `edunetctl ca …`) ---- */

/* Creates dir (0700) if missing and writes ca.key ca.crt serial issued.csv
 * revoked.list. Refuses (EDU_EEXIST) when dir already holds a CA. days <= 0
 * means EDU_PKI_CA_DAYS_DEFAULT. name: the province name, UTF-8, no control
 * characters, 1..EDU_PKI_NAME_MAX bytes. */
edu_err edu_pki_ca_init(const char *dir, const char *name, int days, char *why, size_t whylen);

/* Issues a certificate and keys for unit into out_dir (created 0700 if
 * missing). days < 0 means EDU_PKI_DAYS_DEFAULT; 0 gives a certificate that
 * expires now (for tests). not_after never exceeds the CA's own not_after.
 * Refuses (EDU_EEXIST) when any of the unit's files already exist in out_dir;
 * ca.crt there may exist only with the same content. */
edu_err edu_pki_issue(const char *ca_dir, const char *unit, const char *out_dir, int days, char *why, size_t whylen);

/* Revokes certificates and rewrites revoked.list (atomically, re-signed).
 * unit_or_serial: "unit:ID" (every unrevoked certificate of ID),
 * "serial:HEX", or a bare string that is resolved against issued.csv (an
 * error when it names both a unit and a serial). The existing list's
 * signature is checked first, so a tampered list is never re-signed.
 * EDU_ENOENT: nothing issued under that name; EDU_EEXIST: already revoked. */
edu_err edu_pki_revoke(const char *ca_dir, const char *unit_or_serial, char *why, size_t whylen);

/* ---- this node's identity ---- */

typedef struct edu_pki_id edu_pki_id;

/* Loads the node's certificate, its P-256 key (must match the certificate)
 * and the Ed25519 secret key (must match the key in the certificate's
 * extension). Does not check the chain: peers do that. *out owned by the
 * caller, freed with edu_pki_id_free. Immutable after load: thread-safe. */
edu_err edu_pki_id_load(edu_pki_id **out, const char *cert_pem, const char *key_pem, const char *ed25519_path,
			char *why, size_t whylen);
void edu_pki_id_free(edu_pki_id *id); /* NULL allowed; wipes the secret key */
/* CN of the certificate; valid while id lives. */
const char *edu_pki_id_unit(const edu_pki_id *id);
/* DER of the certificate (to send in a link handshake); valid while id lives. */
edu_err edu_pki_id_cert_der(const edu_pki_id *id, const uint8_t **der, size_t *len);
/* This unit's Ed25519 public key. */
void edu_pki_id_ed_pub(const edu_pki_id *id, uint8_t pub[EDU_PKI_PUB_LEN]);
/* Ed25519 detached signature (deterministic). */
void edu_pki_sign(const edu_pki_id *id, const void *msg, size_t len, uint8_t sig[EDU_PKI_SIG_LEN]);

/* ---- verification (every hop) ---- */

/* The CA certificate plus the revocation list. Thread-safe: the CA is
 * immutable, the list and the cache are behind a mutex. Verified
 * certificates are cached by SHA-256 of their DER; the revocation list, the
 * validity dates and the expected CN are still checked on every call. */
typedef struct edu_pki_verifier edu_pki_verifier;

/* revoked_path may be NULL (no revocation checks). A list that fails its
 * signature check or is malformed is an error (EDU_ECRYPTO / EDU_EINVAL). */
edu_err edu_pki_verifier_new(edu_pki_verifier **out, const char *ca_pem, const char *revoked_path, char *why,
			     size_t whylen);
/* Re-reads revoked.list. On failure the previous list stays in force; a list
 * whose header time is older than the loaded one is refused (EDU_ECONFLICT:
 * someone put back an old list to undo a revocation). */
edu_err edu_pki_verifier_reload(edu_pki_verifier *v, char *why, size_t whylen);
void edu_pki_verifier_free(edu_pki_verifier *v); /* NULL allowed */

/* Verifies chain to the CA, validity dates (now), not revoked, not a CA
 * certificate, CN == expected_unit (if non-NULL); outputs the Ed25519 key.
 * len is checked against EDU_PKI_CERT_MAX. Errors: EDU_EINVAL malformed,
 * EDU_ECRYPTO chain/dates/extension, EDU_EPERM revoked or wrong unit. */
edu_err edu_pki_verify_cert(edu_pki_verifier *v, const uint8_t *der, size_t len, const char *expected_unit,
			    uint8_t ed_pub[EDU_PKI_PUB_LEN], char *why, size_t whylen);
/* Same, and copies the certificate's CN into unit (>= 41 bytes) when it passes. */
edu_err edu_pki_verify_cert_unit(edu_pki_verifier *v, const uint8_t *der, size_t len, const char *expected_unit,
				 uint8_t ed_pub[EDU_PKI_PUB_LEN], char unit[41], char *why, size_t whylen);
bool edu_pki_verify_sig(const uint8_t ed_pub[EDU_PKI_PUB_LEN], const void *msg, size_t len,
			const uint8_t sig[EDU_PKI_SIG_LEN]);

/* nng TLS config (PEM file paths): mutual authentication required, TLS >= 1.2
 * (mbedtls 2.28 tops out at 1.2), CA + own cert/key. mode: NNG_TLS_MODE_CLIENT
 * or NNG_TLS_MODE_SERVER. *out owned by the caller (nng_tls_config_free; nng
 * holds its own reference once set on a dialer or listener). TLS only proves
 * the peer holds some certificate of this CA; which unit it is gets bound by
 * the link handshake (edu_pki_verify_cert + a signed challenge). */
edu_err edu_pki_nng_tls(nng_tls_config **out, int mode, const char *ca_pem, const char *cert_pem, const char *key_pem,
			char *why, size_t whylen);

/* `edunetctl ca init|issue|revoke|list …` — argv after "ca" (argv[0] is the
 * subcommand). Prints human output on stdout, errors on stderr; `list`
 * also takes --json. Returns 0 done, 1 failed, 2 usage. */
int edu_pki_cli(int argc, char **argv);

#endif
