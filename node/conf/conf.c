/* Node configuration: one table of keys drives the parser, the validator,
 * the sample file and the effective-config dump (STYLE §10). */
#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ini.h>

#include "core/log.h"
#include "core/unitid.h"
#include "text/text.h"

#define R_SCHOOL (1u << EDU_ROLE_SCHOOL)
#define R_PHONG (1u << EDU_ROLE_PHONG)
#define R_SO (1u << EDU_ROLE_SO)
#define R_ALL (R_SCHOOL | R_PHONG | R_SO)

#define CONF_FILE_MAX (1024 * 1024)  /* a config bigger than this is a mistake */
#define CONF_VALUE_MAX 1024          /* bytes in one value (paths, URLs) */
#define CONF_TOKEN_MAX 4096          /* bytes in the token file */
#define CONF_TOKEN_MIN_WARN 16       /* shorter tokens are accepted with a warning */

typedef enum ktype {
	T_ID,        /* unit id (SPEC §1) */
	T_STR,       /* UTF-8 text, no control characters */
	T_ENUM,      /* one of enum_vals, stored as int */
	T_TZ,        /* +HH:MM / -HH:MM / Z, stored as minutes */
	T_DIR,       /* directory, created when missing (after validation) */
	T_FILE,      /* path that must name an existing regular file */
	T_TOKENFILE, /* T_FILE, private, non-empty; its token is read */
	T_INT,       /* integer in [min, max] */
	T_SIZE,      /* integer in [min, max] times unit, stored as uint64 bytes */
	T_NNGURL,    /* tcp://HOST:PORT or tls+tcp://HOST:PORT */
	T_HTTPURL,   /* http(s)://... */
	T_HOSTPORT,  /* HOST:PORT, host at off, port (int) at off2 */
} ktype;

typedef struct enum_val {
	const char *name;
	int value;
} enum_val;

typedef struct key {
	const char *section, *name;
	ktype type;
	const char *def;       /* default as written in the file; NULL: none */
	const char *example;   /* sample value for keys without a default */
	unsigned required;     /* roles that must set it */
	unsigned forbidden;    /* roles that must not set it */
	size_t off, off2;
	long long min, max;    /* T_INT and T_SIZE (in units) */
	uint64_t unit;         /* T_SIZE multiplier */
	const enum_val *enums;
	const char *doc;
} key;

static const enum_val roles[] = {
	{"school", EDU_ROLE_SCHOOL}, {"phong", EDU_ROLE_PHONG}, {"so", EDU_ROLE_SO}, {NULL, 0},
};
static const enum_val levels[] = {
	{"error", LOG_ERR}, {"warning", LOG_WARNING}, {"notice", LOG_NOTICE},
	{"info", LOG_INFO}, {"debug", LOG_DEBUG}, {NULL, 0},
};

#define F(f) offsetof(edu_conf, f)
static const key keys[] = {
	{"node", "id", T_ID, NULL, "thcs-an-binh-a", R_ALL, 0, F(id), 0, 0, 0, 0, NULL,
	 "this unit's id: [a-z0-9-], 2-40 characters, unique in the province"},
	{"node", "role", T_ENUM, NULL, "school", R_ALL, 0, F(role), 0, 0, 0, 0, roles,
	 "school | phong | so (an xa node runs as phong)"},
	{"node", "name", T_STR, NULL, "Trường THCS An Bình A", 0, 0, F(name), 0, 0, 0, 0, NULL,
	 "display name shown in pages and feeds (default: the id)"},
	{"node", "data_dir", T_DIR, NULL, "data", R_ALL, 0, F(data_dir), 0, 0, 0, 0, NULL,
	 "storage directory, created when missing"},
	{"node", "registry", T_FILE, NULL, "units.csv", R_PHONG | R_SO, 0, F(registry), 0, 0, 0, 0, NULL,
	 "units registry CSV (id,name,type,parent); phong and so"},
	{"node", "log_level", T_ENUM, "info", NULL, 0, 0, F(log_level), 0, 0, 0, 0, levels,
	 "error | warning | notice | info | debug"},
	{"node", "timezone", T_TZ, "+07:00", NULL, 0, 0, F(tz_offset_min), 0, 0, 0, 0, NULL,
	 "offset written in timestamps (+HH:MM, -HH:MM or Z)"},
	{"node", "map_size_mb", T_SIZE, "64", NULL, 0, 0, F(map_size), 0, 1, 1 << 20, 1024 * 1024, NULL,
	 "initial LMDB map size in MiB; grows as needed"},
	{"node", "map_max_mb", T_SIZE, "0", NULL, 0, 0, F(map_max), 0, 0, 1 << 24, 1024 * 1024, NULL,
	 "largest map size in MiB (0 = limited by the disk only)"},
	{"uplink", "parent", T_NNGURL, NULL, "tls+tcp://pgd-example.edu.vn:7443", R_PHONG, R_SO,
	 F(uplink_parent), 0, 0, 0, 0, NULL,
	 "parent node, tls+tcp://HOST:PORT (absent on the so node; a school without one runs standalone)"},
	{"uplink", "parent_unit", T_ID, NULL, "pgd-example", 0, R_SO, F(uplink_parent_unit), 0, 0, 0, 0, NULL,
	 "the parent's unit id; when set, the parent's certificate must name it"},
	{"downlink", "listen", T_NNGURL, NULL, NULL, R_PHONG | R_SO, 0, F(downlink_listen), 0, 0, 0, 0, NULL,
	 "where children connect, tls+tcp://0.0.0.0:PORT; phong and so"},
	{"http", "listen", T_HOSTPORT, "127.0.0.1:8080", NULL, 0, 0, F(http_listen_host), F(http_listen_port),
	 0, 0, 0, NULL, "portal and API address, HOST:PORT"},
	{"http", "base_url", T_HTTPURL, NULL, NULL, 0, 0, F(http_base_url), 0, 0, 0, 0, NULL,
	 "public URL used in feeds and links (default: http://LISTEN)"},
	{"http", "threads", T_INT, "2", NULL, 0, 0, F(http_threads), 0, 1, 64, 0, NULL,
	 "HTTP event-loop threads (2 keeps one loop serving while the other parses a publish)"},
	{"http", "max_body_kb", T_SIZE, "11264", NULL, 0, 0, F(http_max_body), 0, 1, 1 << 20, 1024, NULL,
	 "largest request body in KiB"},
	{"http", "timeout_s", T_INT, "30", NULL, 0, 0, F(http_timeout_s), 0, 1, 3600, 0, NULL,
	 "seconds before an idle or slow HTTP connection is closed"},
	{"tls", "ca", T_FILE, NULL, "tls/ca.crt", 0, 0, F(tls_ca), 0, 0, 0, 0, NULL,
	 "province CA certificate (PEM); [tls] is required with tls+tcp:// URLs; "
	 "without [tls] the node runs unsigned over tcp:// (test/demo only)"},
	{"tls", "cert", T_FILE, NULL, "tls/node.crt", 0, 0, F(tls_cert), 0, 0, 0, 0, NULL,
	 "this node's certificate (PEM, from `edunetctl ca issue`); its CN must equal [node] id"},
	{"tls", "key", T_FILE, NULL, "tls/node.key", 0, 0, F(tls_key), 0, 0, 0, 0, NULL,
	 "this node's TLS private key (PEM, mode 0600)"},
	{"tls", "ed25519", T_FILE, NULL, "tls/node.ed25519", 0, 0, F(tls_ed25519), 0, 0, 0, 0, NULL,
	 "this node's Ed25519 signing key (mode 0600): signs its items and link handshakes"},
	{"tls", "revoked", T_FILE, NULL, NULL, 0, 0, F(tls_revoked), 0, 0, 0, 0, NULL,
	 "the CA's signed revoked.list, optional; reloaded on SIGHUP and when its mtime changes"},
	{"admin", "token_file", T_TOKENFILE, NULL, "admin.token", 0, 0, F(admin_token_file), 0, 0, 0, 0, NULL,
	 "file holding the bearer token for writes (mode 0600); no file: writes refused"},
};
#undef F
#define NKEYS (sizeof keys / sizeof keys[0])

static const char *const sections[] = {"node", "uplink", "downlink", "http", "tls", "admin"};
#define NSECTIONS (sizeof sections / sizeof sections[0])

typedef struct ctx {
	edu_conf *c;
	FILE *f;
	const char *path;
	char *dir;               /* directory of the config, for relative paths */
	int lineno;
	int key_line[NKEYS];     /* 0: not set in the file */
	int sec_line[NSECTIONS]; /* first header line of each section */
	bool failed;
	int fail_line;
	edu_err err;
	char *why;
	size_t whylen;
	char *line;              /* getline buffer */
	size_t linecap;
} ctx;

const char *edu_role_name(edu_role r)
{
	for (const enum_val *e = roles; e->name; e++)
		if (e->value == (int)r)
			return e->name;
	return "?";
}

static void fail(ctx *x, edu_err e, int line, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void fail(ctx *x, edu_err e, int line, const char *fmt, ...)
{
	if (x->failed)
		return;
	x->failed = true;
	x->fail_line = line;
	x->err = e;
	int n = line > 0 ? snprintf(x->why, x->whylen, "%s:%d: ", x->path, line)
	                 : snprintf(x->why, x->whylen, "%s: ", x->path);
	if (n < 0 || (size_t)n >= x->whylen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->why + n, x->whylen - (size_t)n, fmt, ap);
	va_end(ap);
}

static int section_index(const char *s)
{
	for (size_t i = 0; i < NSECTIONS; i++)
		if (strcmp(sections[i], s) == 0)
			return (int)i;
	return -1;
}

/* fgets-style reader for inih that counts lines, so the handler (called
 * right after we return a key's line) knows its line number. It also rejects
 * what inih would silently split or misread: over-long lines, invalid UTF-8,
 * unknown sections. Leading blanks are stripped so that indented lines are
 * plain keys, never configparser-style continuation lines. */
static char *read_line(char *str, int num, void *stream)
{
	ctx *x = stream;
	if (x->failed)
		return NULL;
	errno = 0;
	ssize_t n = getline(&x->line, &x->linecap, x->f);
	if (n < 0) {
		if (errno != 0)
			fail(x, EDU_EIO, x->lineno + 1, "read error: %s", strerror(errno));
		return NULL;
	}
	x->lineno++;
	size_t len = (size_t)n;
	if (len > 0 && x->line[len - 1] == '\n')
		len--;
	if (len > 0 && x->line[len - 1] == '\r')
		len--;
	if (!edu_text_utf8_valid(x->line, len)) {
		fail(x, EDU_EINVAL, x->lineno, "not valid UTF-8 text");
		return NULL;
	}
	const char *p = x->line;
	while (len > 0 && (*p == ' ' || *p == '\t'))
		p++, len--;
	if (num < 3 || len > (size_t)num - 2) {
		fail(x, EDU_EINVAL, x->lineno, "line too long (%zu bytes; the limit is %d)", len, num - 2);
		return NULL;
	}
	if (len > 0 && *p == '[') {
		const char *end = memchr(p, ']', len);
		if (end) {
			char name[64];
			size_t nl = (size_t)(end - p - 1);
			const char *s = p + 1;
			while (nl > 0 && (*s == ' ' || *s == '\t'))
				s++, nl--;
			while (nl > 0 && (s[nl - 1] == ' ' || s[nl - 1] == '\t'))
				nl--;
			int si = -1;
			if (nl < sizeof name) {
				memcpy(name, s, nl);
				name[nl] = '\0';
				si = section_index(name);
			}
			if (si < 0) {
				fail(x, EDU_EINVAL, x->lineno, "[%.*s]: unknown section (known: node, uplink, "
				     "downlink, http, tls, admin)", (int)(nl > 60 ? 60 : nl), s);
				return NULL;
			}
			if (x->sec_line[si] == 0)
				x->sec_line[si] = x->lineno;
		}
	}
	memcpy(str, p, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	return str;
}

/* ---- value converters: 0 on success, else -1 with a reason ---- */

static bool parse_ll(const char *s, long long *out)
{
	if (*s == '\0')
		return false;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || !(*s == '-' || (*s >= '0' && *s <= '9')))
		return false;
	*out = v;
	return true;
}

static bool parse_port(const char *s, size_t len, int *port)
{
	if (len == 0 || len > 5)
		return false;
	int v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	*port = v;
	return true;
}

/* "HOST:PORT" or "[V6]:PORT"; host_len may be 0 only when allow_empty. */
static bool split_hostport(const char *s, const char **host, size_t *host_len, int *port, bool allow_empty)
{
	const char *colon;
	if (*s == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':')
			return false;
		*host = s + 1;
		*host_len = (size_t)(rb - s - 1);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return false;
		*host = s;
		*host_len = (size_t)(colon - s);
		if (memchr(s, ':', *host_len))
			return false; /* bare IPv6 needs brackets */
	}
	if (*host_len == 0 && !allow_empty)
		return false;
	for (size_t i = 0; i < *host_len; i++) {
		unsigned char ch = (unsigned char)(*host)[i];
		if (ch <= ' ' || ch == '/' || ch == '@' || ch >= 0x7f)
			return false;
	}
	return parse_port(colon + 1, strlen(colon + 1), port);
}

static char *resolve_path(ctx *x, const char *v)
{
	if (v[0] == '/' || x->dir == NULL)
		return strdup(v);
	size_t n = strlen(x->dir) + strlen(v) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", x->dir, v);
	return p;
}

static int read_token(ctx *x, const char *path, char *reason, size_t rlen)
{
	int rv = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	char *buf = NULL;
	if (fd < 0) {
		snprintf(reason, rlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(reason, rlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & S_IROTH) {
		snprintf(reason, rlen, "%s: readable by everyone (mode %03o); run chmod 600 on it",
		         path, (unsigned)(st.st_mode & 0777));
		goto out;
	}
	if (st.st_size > CONF_TOKEN_MAX) {
		snprintf(reason, rlen, "%s: %lld bytes, more than the %d a token file may hold",
		         path, (long long)st.st_size, CONF_TOKEN_MAX);
		goto out;
	}
	buf = malloc(CONF_TOKEN_MAX + 1);
	if (!buf) {
		snprintf(reason, rlen, "out of memory");
		goto out;
	}
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, CONF_TOKEN_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(reason, rlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > CONF_TOKEN_MAX) {
			snprintf(reason, rlen, "%s: more than %d bytes", path, CONF_TOKEN_MAX);
			goto out;
		}
	}
	buf[len] = '\0';
	size_t a = 0;
	while (a < len && (buf[a] == ' ' || buf[a] == '\t' || buf[a] == '\n' || buf[a] == '\r'))
		a++;
	while (len > a && (buf[len - 1] == ' ' || buf[len - 1] == '\t' || buf[len - 1] == '\n' ||
	                   buf[len - 1] == '\r'))
		len--;
	if (len == a) {
		snprintf(reason, rlen, "%s: the token file is empty", path);
		goto out;
	}
	for (size_t i = a; i < len; i++) {
		unsigned char ch = (unsigned char)buf[i];
		if (ch <= ' ' || ch >= 0x7f) {
			snprintf(reason, rlen, "%s: the token must be one word of printable ASCII", path);
			goto out;
		}
	}
	if (st.st_mode & S_IRGRP)
		edu_log(LOG_WARNING, "%s: token file is readable by its group (mode %03o); chmod 600 advised",
		        path, (unsigned)(st.st_mode & 0777));
	if (len - a < CONF_TOKEN_MIN_WARN)
		edu_log(LOG_WARNING, "%s: token is only %zu characters; 32 or more advised", path, len - a);
	free(x->c->admin_token);
	x->c->admin_token = strndup(buf + a, len - a);
	if (!x->c->admin_token) {
		snprintf(reason, rlen, "out of memory");
		goto out;
	}
	rv = 0;
out:
	if (buf) {
		memset(buf, 0, CONF_TOKEN_MAX + 1); /* don't leave the secret in freed memory */
		free(buf);
	}
	if (fd >= 0)
		close(fd);
	return rv;
}

static int convert(ctx *x, const key *k, const char *v, char *reason, size_t rlen)
{
	char *base = (char *)x->c;
	char **sp = (char **)(base + k->off);
	int *ip = (int *)(base + k->off);
	uint64_t *up = (uint64_t *)(base + k->off);
	long long ll;
	char *s = NULL;

	if (strlen(v) > CONF_VALUE_MAX) {
		snprintf(reason, rlen, "value longer than %d bytes", CONF_VALUE_MAX);
		return -1;
	}
	if (edu_text_has_ctl(v, false)) {
		snprintf(reason, rlen, "control characters are not allowed");
		return -1;
	}
	if (*v == '\0' && k->type != T_STR) {
		snprintf(reason, rlen, "empty value");
		return -1;
	}
	switch (k->type) {
	case T_ID:
		if (!edu_unit_id_valid(v)) {
			snprintf(reason, rlen, "bad value '%s': a unit id is [a-z0-9-], 2-40 characters", v);
			return -1;
		}
		s = strdup(v);
		break;
	case T_STR:
		if (*v == '\0') {
			snprintf(reason, rlen, "empty value");
			return -1;
		}
		if (edu_text_nfc(v, strlen(v), &s) != EDU_OK) {
			snprintf(reason, rlen, "not valid UTF-8 text");
			return -1;
		}
		break;
	case T_ENUM:
		for (const enum_val *e = k->enums; e->name; e++)
			if (strcmp(e->name, v) == 0) {
				*ip = e->value;
				return 0;
			}
		{
			int n = snprintf(reason, rlen, "bad value '%s': expected", v);
			for (const enum_val *e = k->enums; e->name && n > 0 && (size_t)n < rlen; e++)
				n += snprintf(reason + n, rlen - (size_t)n, "%s %s", e == k->enums ? "" : " |", e->name);
			if (k->enums == roles && strcmp(v, "xa") == 0 && n > 0 && (size_t)n < rlen)
				snprintf(reason + n, rlen - (size_t)n, " (an xa node runs as phong)");
		}
		return -1;
	case T_TZ:
		if (strcmp(v, "Z") == 0) {
			*ip = 0;
			return 0;
		}
		if ((v[0] == '+' || v[0] == '-') && strlen(v) == 6 && v[3] == ':' &&
		    v[1] >= '0' && v[1] <= '9' && v[2] >= '0' && v[2] <= '9' &&
		    v[4] >= '0' && v[4] <= '5' && v[5] >= '0' && v[5] <= '9') {
			int m = ((v[1] - '0') * 10 + (v[2] - '0')) * 60 + (v[4] - '0') * 10 + (v[5] - '0');
			if (m <= 14 * 60) {
				*ip = v[0] == '-' ? -m : m;
				return 0;
			}
		}
		snprintf(reason, rlen, "bad value '%s': expected +HH:MM, -HH:MM or Z", v);
		return -1;
	case T_INT:
	case T_SIZE:
		if (!parse_ll(v, &ll) || ll < k->min || ll > k->max) {
			snprintf(reason, rlen, "bad value '%s': expected a whole number from %lld to %lld",
			         v, k->min, k->max);
			return -1;
		}
		if (k->type == T_INT)
			*ip = (int)ll;
		else
			*up = (uint64_t)ll * k->unit;
		return 0;
	case T_NNGURL: {
		const char *rest = NULL, *h;
		size_t hl;
		int port;
		if (strncmp(v, "tcp://", 6) == 0)
			rest = v + 6;
		else if (strncmp(v, "tls+tcp://", 10) == 0)
			rest = v + 10;
		if (!rest || !split_hostport(rest, &h, &hl, &port, false)) {
			snprintf(reason, rlen, "bad value '%s': expected tls+tcp://HOST:PORT or tcp://HOST:PORT", v);
			return -1;
		}
		s = strdup(v);
		break;
	}
	case T_HTTPURL: {
		const char *rest = NULL;
		if (strncmp(v, "http://", 7) == 0)
			rest = v + 7;
		else if (strncmp(v, "https://", 8) == 0)
			rest = v + 8;
		if (!rest || *rest == '\0' || *rest == '/' || strpbrk(v, " \"'<>\\`")) {
			snprintf(reason, rlen, "bad value '%s': expected http://HOST[:PORT][/PATH] or https://...", v);
			return -1;
		}
		s = strdup(v);
		if (s) { /* one canonical form: no trailing slash */
			size_t n = strlen(s);
			while (n > 0 && s[n - 1] == '/')
				s[--n] = '\0';
		}
		break;
	}
	case T_HOSTPORT: {
		const char *h;
		size_t hl;
		int port;
		if (!split_hostport(v, &h, &hl, &port, false)) {
			snprintf(reason, rlen, "bad value '%s': expected HOST:PORT with a port from 1 to 65535", v);
			return -1;
		}
		s = strndup(h, hl);
		*(int *)(base + k->off2) = port;
		break;
	}
	case T_DIR:
		s = resolve_path(x, v);
		break;
	case T_FILE:
	case T_TOKENFILE: {
		struct stat st;
		s = resolve_path(x, v);
		if (!s)
			break;
		if (stat(s, &st) != 0) {
			snprintf(reason, rlen, "%s: %s", s, strerror(errno));
			free(s);
			return -1;
		}
		if (!S_ISREG(st.st_mode)) {
			snprintf(reason, rlen, "%s: not a regular file", s);
			free(s);
			return -1;
		}
		if (access(s, R_OK) != 0) {
			snprintf(reason, rlen, "%s: %s", s, strerror(errno));
			free(s);
			return -1;
		}
		if (k->type == T_TOKENFILE && read_token(x, s, reason, rlen) != 0) {
			free(s);
			return -1;
		}
		break;
	}
	}
	if (!s) {
		snprintf(reason, rlen, "out of memory");
		return -2;
	}
	free(*sp);
	*sp = s;
	return 0;
}

static int find_key(const char *section, const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	ctx *x = user;
	char reason[512];
	if (x->failed)
		return 0;
	if (*section == '\0') {
		fail(x, EDU_EINVAL, x->lineno, "%s: key outside any section (start with [node])", name);
		return 0;
	}
	int i = find_key(section, name);
	if (i < 0) {
		fail(x, EDU_EINVAL, x->lineno, "[%s] %s: unknown key", section, name);
		return 0;
	}
	if (x->key_line[i]) {
		fail(x, EDU_EINVAL, x->lineno, "[%s] %s: duplicate key (first set on line %d)",
		     section, name, x->key_line[i]);
		return 0;
	}
	x->key_line[i] = x->lineno;
	int r = convert(x, &keys[i], value, reason, sizeof reason);
	if (r != 0) {
		fail(x, r == -2 ? EDU_ENOMEM : keys[i].type == T_FILE || keys[i].type == T_TOKENFILE
		     ? EDU_ENOENT : EDU_EINVAL, x->lineno, "[%s] %s: %s", section, name, reason);
		return 0;
	}
	return 1;
}

static int key_index(size_t off)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].off == off)
			return (int)i;
	return -1;
}

static bool is_tls(const char *url)
{
	return url && strncmp(url, "tls+", 4) == 0;
}

/* mkdir -p, mode 0750 for what it creates. */
static int make_dirs(const char *path, char *reason, size_t rlen)
{
	char *p = strdup(path);
	int rv = -1;
	if (!p) {
		snprintf(reason, rlen, "out of memory");
		return -1;
	}
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char save = *s;
		*s = '\0';
		if (mkdir(p, 0750) != 0 && errno != EEXIST) {
			snprintf(reason, rlen, "cannot create %s: %s", p, strerror(errno));
			goto out;
		}
		*s = save;
		if (save == '\0')
			break;
	}
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(reason, rlen, "%s: not a directory", path);
		goto out;
	}
	if (access(path, R_OK | W_OK | X_OK) != 0) {
		snprintf(reason, rlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	rv = 0;
out:
	free(p);
	return rv;
}

/* Defaults, required and forbidden keys, and the checks that span keys. */
static void finish(ctx *x)
{
	edu_conf *c = x->c;
	char reason[512];
	unsigned rolebit = 1u << c->role;

	for (size_t i = 0; i < NKEYS && !x->failed; i++) {
		const key *k = &keys[i];
		int sl = x->sec_line[section_index(k->section)];
		if (x->key_line[i] && (k->forbidden & rolebit)) {
			fail(x, EDU_EINVAL, x->key_line[i], "[%s] %s: not allowed when role = %s",
			     k->section, k->name, edu_role_name(c->role));
		} else if (!x->key_line[i] && (k->required & rolebit)) {
			if (k->required == R_ALL)
				fail(x, EDU_EINVAL, sl, "[%s] %s: missing (required)", k->section, k->name);
			else
				fail(x, EDU_EINVAL, sl, "[%s] %s: missing (required when role = %s)",
				     k->section, k->name, edu_role_name(c->role));
		} else if (!x->key_line[i] && k->def) {
			if (convert(x, k, k->def, reason, sizeof reason) != 0)
				fail(x, EDU_EINTERNAL, 0, "[%s] %s: default '%s': %s", k->section, k->name,
				     k->def, reason);
		}
	}
	if (x->failed)
		return;
	if (!c->name && !(c->name = strdup(c->id))) {
		fail(x, EDU_ENOMEM, 0, "out of memory");
		return;
	}
	if (!c->http_base_url) {
		size_t n = strlen(c->http_listen_host) + 32;
		if (!(c->http_base_url = malloc(n))) {
			fail(x, EDU_ENOMEM, 0, "out of memory");
			return;
		}
		bool v6 = strchr(c->http_listen_host, ':') != NULL;
		snprintf(c->http_base_url, n, "http://%s%s%s:%d", v6 ? "[" : "", c->http_listen_host,
		         v6 ? "]" : "", c->http_listen_port);
	}
	if (c->map_max && c->map_max < c->map_size) {
		fail(x, EDU_EINVAL, x->key_line[key_index(offsetof(edu_conf, map_max))],
		     "[node] map_max_mb: smaller than map_size_mb");
		return;
	}
	const char *tls_url = NULL;
	int tls_line = 0;
	if (is_tls(c->uplink_parent)) {
		tls_url = "[uplink] parent";
		tls_line = x->key_line[key_index(offsetof(edu_conf, uplink_parent))];
	} else if (is_tls(c->downlink_listen)) {
		tls_url = "[downlink] listen";
		tls_line = x->key_line[key_index(offsetof(edu_conf, downlink_listen))];
	}
	if (tls_url) {
		static const struct { size_t off; const char *name; } need[] = {
			{offsetof(edu_conf, tls_ca), "ca"}, {offsetof(edu_conf, tls_cert), "cert"},
			{offsetof(edu_conf, tls_key), "key"}, {offsetof(edu_conf, tls_ed25519), "ed25519"},
		};
		for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
			if (!*(char **)((char *)c + need[i].off)) {
				fail(x, EDU_EINVAL, tls_line, "%s: a tls+tcp:// URL needs [tls] %s",
				     tls_url, need[i].name);
				return;
			}
		}
	}
	/* Any [tls] key asks for an identity: then all of it must be there. */
	if (edu_conf_has_identity(c)) {
		static const struct { size_t off; const char *name; } all[] = {
			{offsetof(edu_conf, tls_ca), "ca"}, {offsetof(edu_conf, tls_cert), "cert"},
			{offsetof(edu_conf, tls_key), "key"}, {offsetof(edu_conf, tls_ed25519), "ed25519"},
		};
		for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
			if (!*(char **)((char *)c + all[i].off)) {
				fail(x, EDU_EINVAL, x->sec_line[section_index("tls")],
				     "[tls] %s: missing (a node with [tls] needs ca, cert, key and ed25519)", all[i].name);
				return;
			}
		}
	}
	/* Last, once everything else is known to be right: create data_dir. */
	if (make_dirs(c->data_dir, reason, sizeof reason) != 0)
		fail(x, EDU_EIO, x->key_line[key_index(offsetof(edu_conf, data_dir))],
		     "[node] data_dir: %s", reason);
}

bool edu_conf_has_identity(const edu_conf *c)
{
	return c && (c->tls_ca || c->tls_cert || c->tls_key || c->tls_ed25519 || c->tls_revoked);
}

void edu_conf_free(edu_conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < NKEYS; i++) {
		const ktype t = keys[i].type;
		if (t == T_ID || t == T_STR || t == T_DIR || t == T_FILE || t == T_TOKENFILE ||
		    t == T_NNGURL || t == T_HTTPURL || t == T_HOSTPORT)
			free(*(char **)((char *)c + keys[i].off));
	}
	if (c->admin_token) {
		memset(c->admin_token, 0, strlen(c->admin_token));
		free(c->admin_token);
	}
	free(c->path);
	free(c);
}

edu_err edu_conf_load(edu_conf **out, const char *path, char *why, size_t whylen)
{
	char dummy[1];
	ctx x = {.path = path ? path : "(null)", .why = why ? why : dummy,
	         .whylen = why ? whylen : sizeof dummy};
	if (x.whylen > 0)
		x.why[0] = '\0';
	*out = NULL;
	if (!path) {
		fail(&x, EDU_EINVAL, 0, "no config file given");
		return x.err;
	}
	if (!(x.c = calloc(1, sizeof *x.c)) || !(x.c->path = strdup(path))) {
		fail(&x, EDU_ENOMEM, 0, "out of memory");
		goto out;
	}
	const char *slash = strrchr(path, '/');
	if (slash && !(x.dir = strndup(path, slash == path ? 1 : (size_t)(slash - path)))) {
		fail(&x, EDU_ENOMEM, 0, "out of memory");
		goto out;
	}
	x.f = fopen(path, "re");
	if (!x.f) {
		fail(&x, edu_err_from_errno(errno), 0, "cannot open: %s", strerror(errno));
		goto out;
	}
	struct stat st;
	if (fstat(fileno(x.f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fail(&x, EDU_EINVAL, 0, "not a regular file");
		goto out;
	}
	if (st.st_size > CONF_FILE_MAX) {
		fail(&x, EDU_ETOOBIG, 0, "%lld bytes, more than the %d a config may have",
		     (long long)st.st_size, CONF_FILE_MAX);
		goto out;
	}
	int r = ini_parse_stream(read_line, &x, on_key, &x);
	if (r == -2)
		fail(&x, EDU_ENOMEM, 0, "out of memory");
	else if (r > 0 && (!x.failed || r < x.fail_line)) {
		/* inih goes on after a syntax error; the earliest problem is the one to tell. */
		x.failed = false;
		fail(&x, EDU_EINVAL, r, "syntax error: expected '[section]' or 'key = value'");
	}
	if (!x.failed)
		finish(&x);
out:
	if (x.f)
		fclose(x.f);
	free(x.line);
	free(x.dir);
	if (x.failed) {
		edu_conf_free(x.c);
		return x.err;
	}
	*out = x.c;
	return EDU_OK;
}

static void write_doc(FILE *f, const key *k)
{
	fprintf(f, "# %s", k->doc);
	if (k->required == R_ALL)
		fprintf(f, " [required]");
	else if (k->required & R_PHONG)
		fprintf(f, " [required for %s%s]", k->required & R_SCHOOL ? "school and " : "",
		        k->required & R_SO ? "phong and so" : "phong");
	if (k->def)
		fprintf(f, " (default: %s)", k->def);
	fputc('\n', f);
}

void edu_conf_write_sample(FILE *f)
{
	const char *sec = "";
	fprintf(f, "# edunet node configuration (SPEC §4). Every key is listed with its\n"
	           "# default; relative paths are taken from this file's directory.\n"
	           "# Lines starting with ';' are examples left off.\n");
	for (size_t i = 0; i < NKEYS; i++) {
		const key *k = &keys[i];
		if (strcmp(sec, k->section) != 0) {
			sec = k->section;
			fprintf(f, "\n[%s]\n", sec);
		}
		write_doc(f, k);
		/* The sample is a working school config: required-for-school keys
		 * and keys with a default are set, the rest shown commented. */
		bool set = k->def || (k->example && ((k->required & R_SCHOOL) || strcmp(k->section, "tls") == 0 ||
		                                     k->type == T_TOKENFILE || k->type == T_STR));
		const char *v = k->def ? k->def : k->example;
		if (!v)
			v = k->type == T_NNGURL ? "tls+tcp://0.0.0.0:7443" : k->type == T_HTTPURL
			    ? "https://example.edu.vn" : "tls/revoked.list";
		fprintf(f, "%s%s = %s\n", set ? "" : ";", k->name, v);
	}
}

void edu_conf_write_effective(const edu_conf *c, FILE *f)
{
	const char *sec = "";
	const char *base = (const char *)c;
	fprintf(f, "# effective configuration of %s\n", c->path);
	for (size_t i = 0; i < NKEYS; i++) {
		const key *k = &keys[i];
		if (strcmp(sec, k->section) != 0) {
			sec = k->section;
			fprintf(f, "%s[%s]\n", i ? "\n" : "", sec);
		}
		/* Read the field with its own type: ints and pointers differ in size. */
		bool is_int = k->type == T_ENUM || k->type == T_TZ || k->type == T_INT;
		const char *s = is_int || k->type == T_SIZE ? NULL : *(char *const *)(base + k->off);
		int iv = is_int ? *(const int *)(base + k->off) : 0;
		switch (k->type) {
		case T_ENUM: {
			const char *n = "?";
			for (const enum_val *e = k->enums; e->name; e++)
				if (e->value == iv)
					n = e->name;
			fprintf(f, "%s = %s\n", k->name, n);
			break;
		}
		case T_TZ:
			if (iv == 0)
				fprintf(f, "%s = Z\n", k->name);
			else
				fprintf(f, "%s = %c%02d:%02d\n", k->name, iv < 0 ? '-' : '+', abs(iv) / 60, abs(iv) % 60);
			break;
		case T_INT:
			fprintf(f, "%s = %d\n", k->name, iv);
			break;
		case T_SIZE:
			fprintf(f, "%s = %llu\n", k->name,
			        (unsigned long long)(*(const uint64_t *)(base + k->off) / k->unit));
			break;
		case T_HOSTPORT:
			fprintf(f, "%s = %s%s%s:%d\n", k->name, strchr(s, ':') ? "[" : "", s,
			        strchr(s, ':') ? "]" : "", *(const int *)(base + k->off2));
			break;
		default:
			if (s)
				fprintf(f, "%s = %s\n", k->name, s);
			else
				fprintf(f, ";%s =\n", k->name);
		}
	}
}
