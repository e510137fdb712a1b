/* edunet error codes: one type for the whole node (STYLE §5).
 * LMDB, nng and errno codes are translated at module boundaries. */
#ifndef EDU_ERR_H
#define EDU_ERR_H

#include <stddef.h>

typedef enum edu_err {
	EDU_OK = 0,
	EDU_ENOMEM,     /* allocation failed */
	EDU_EINVAL,     /* bad argument or malformed input */
	EDU_ENOENT,     /* not found */
	EDU_EEXIST,     /* already exists */
	EDU_ECONFLICT,  /* same version with different content, or stale write */
	EDU_ETOOBIG,    /* a size limit was exceeded */
	EDU_ENOSPC,     /* disk or map full and cannot grow */
	EDU_EIO,        /* I/O error from the OS or LMDB */
	EDU_EPERM,      /* not allowed (identity, token, registry) */
	EDU_ECRYPTO,    /* signature or certificate check failed */
	EDU_ECLOSED,    /* object is shutting down */
	EDU_ETIMEDOUT,  /* deadline passed */
	EDU_EPROTO,     /* peer broke the protocol */
	EDU_EVERSION,   /* unsupported format version */
	EDU_EUNREACH,   /* peer unreachable */
	EDU_EINTERNAL,  /* a bug or an unexpected library error */
	EDU_EAGAIN,     /* not now: the peer asks to retry */
	EDU_ERR_COUNT
} edu_err;

/* Static string; never NULL. */
const char *edu_strerror(edu_err e);

/* Writes a human reason into why (may be NULL or whylen 0: then nothing). */
void edu_whyf(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Translate errno / LMDB (MDB_*) / nng codes; the originals should be logged by the caller. */
edu_err edu_err_from_errno(int e);
edu_err edu_err_from_mdb(int rc);
edu_err edu_err_from_nng(int rv);

#endif
