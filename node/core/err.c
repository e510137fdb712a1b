#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <lmdb.h>
#include <nng/nng.h>

static const char *const names[EDU_ERR_COUNT] = {
	[EDU_OK] = "ok",
	[EDU_ENOMEM] = "out of memory",
	[EDU_EINVAL] = "invalid input",
	[EDU_ENOENT] = "not found",
	[EDU_EEXIST] = "already exists",
	[EDU_ECONFLICT] = "conflicting version",
	[EDU_ETOOBIG] = "too large",
	[EDU_ENOSPC] = "no space left",
	[EDU_EIO] = "I/O error",
	[EDU_EPERM] = "not permitted",
	[EDU_ECRYPTO] = "cryptographic check failed",
	[EDU_ECLOSED] = "closed",
	[EDU_ETIMEDOUT] = "timed out",
	[EDU_EPROTO] = "protocol error",
	[EDU_EVERSION] = "unsupported format version",
	[EDU_EUNREACH] = "unreachable",
	[EDU_EINTERNAL] = "internal error",
	[EDU_EAGAIN] = "try again",
};

void edu_whyf(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	if (!why || !whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

const char *edu_strerror(edu_err e)
{
	if ((unsigned)e >= EDU_ERR_COUNT || names[e] == NULL)
		return "unknown error";
	return names[e];
}

edu_err edu_err_from_errno(int e)
{
	switch (e) {
	case 0: return EDU_OK;
	case ENOMEM: return EDU_ENOMEM;
	case ENOENT: return EDU_ENOENT;
	case EEXIST: return EDU_EEXIST;
	case ENOSPC: case EDQUOT: case EFBIG: return EDU_ENOSPC;
	case EACCES: case EPERM: return EDU_EPERM;
	case EINVAL: return EDU_EINVAL;
	case ETIMEDOUT: return EDU_ETIMEDOUT;
	default: return EDU_EIO;
	}
}

edu_err edu_err_from_mdb(int rc)
{
	switch (rc) {
	case MDB_SUCCESS: return EDU_OK;
	case MDB_NOTFOUND: return EDU_ENOENT;
	case MDB_KEYEXIST: return EDU_EEXIST;
	case MDB_MAP_FULL: return EDU_ENOSPC;
	case MDB_BAD_VALSIZE: return EDU_ETOOBIG;
	case MDB_VERSION_MISMATCH: return EDU_EVERSION;
	case MDB_READERS_FULL: case MDB_TXN_FULL: case MDB_CURSOR_FULL:
	case MDB_DBS_FULL: case MDB_TLS_FULL: return EDU_EIO;
	case MDB_CORRUPTED: case MDB_PAGE_NOTFOUND: case MDB_INVALID: return EDU_EIO;
	default:
		if (rc > 0)
			return edu_err_from_errno(rc);
		return EDU_EINTERNAL;
	}
}

edu_err edu_err_from_nng(int rv)
{
	switch (rv) {
	case 0: return EDU_OK;
	case NNG_ENOMEM: return EDU_ENOMEM;
	case NNG_EINVAL: return EDU_EINVAL;
	case NNG_ETIMEDOUT: return EDU_ETIMEDOUT;
	case NNG_ECLOSED: case NNG_ECANCELED: return EDU_ECLOSED;
	case NNG_ECONNREFUSED: case NNG_EUNREACHABLE: case NNG_ECONNSHUT:
	case NNG_ECONNRESET: case NNG_EADDRINVAL: return EDU_EUNREACH;
	case NNG_EMSGSIZE: return EDU_ETOOBIG;
	case NNG_EPROTO: return EDU_EPROTO;
	case NNG_EPERM: case NNG_EPEERAUTH: return EDU_EPERM;
	case NNG_ECRYPTO: return EDU_ECRYPTO;
	default: return EDU_EIO;
	}
}
