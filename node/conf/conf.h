/* Node configuration (SPEC §4): INI parsed with inih against one table of
 * keys (name, type, default, validator, field). Unknown keys, bad values and
 * missing files are errors naming file, line, key and reason. */
#ifndef EDU_CONF_H
#define EDU_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include "core/err.h"

typedef enum edu_role { EDU_ROLE_SCHOOL = 0, EDU_ROLE_PHONG, EDU_ROLE_SO } edu_role;

typedef struct edu_conf {
	char *path;             /* the file it was read from */
	/* [node] */
	char *id;
	edu_role role;
	char *name;
	char *data_dir;
	char *registry;         /* required for phong and so */
	int log_level;          /* LOG_* (log_level = error|warning|notice|info|debug; default info) */
	int tz_offset_min;      /* timezone = +07:00 (default) */
	uint64_t map_size;      /* bytes; key map_size_mb (default 64) */
	uint64_t map_max;       /* bytes; key map_max_mb (default 0 = no limit) */
	/* [uplink] */
	char *uplink_parent;    /* NULL on the so node; required otherwise */
	char *uplink_parent_unit; /* parent_unit: the parent's unit id, checked against its certificate; optional */
	/* [downlink] */
	char *downlink_listen;  /* required for phong and so */
	/* [http] */
	char *http_listen_host; /* listen = HOST:PORT (default 127.0.0.1:8080) */
	int http_listen_port;
	char *http_base_url;    /* base_url = public URL for feeds/links (default http://listen) */
	int http_threads;       /* threads (default 2) */
	uint64_t http_max_body; /* bytes; key max_body_kb (default 11264 = 11 MiB) */
	int http_timeout_s;     /* timeout_s (default 30) */
	/* [tls] */
	/* Identity (SPEC §6.5). Any [tls] key makes ca, cert, key and ed25519
	 * required; tls+tcp:// URLs require [tls]. Without [tls] the node runs in
	 * test/demo mode: plain tcp://, unsigned records. */
	char *tls_ca, *tls_cert, *tls_key;
	char *tls_ed25519;      /* the unit's Ed25519 signing key (from `edunetctl ca issue`) */
	char *tls_revoked;      /* the CA's revoked.list; optional, reloaded on SIGHUP and when it changes */
	/* [admin] */
	char *admin_token_file;
	char *admin_token;      /* the token read from token_file (trimmed); NULL when no file */
} edu_conf;

/* Loads and validates. On failure *why holds "FILE:LINE: [section] key: reason"
 * (or "FILE: reason") and *out is NULL. Files named by the config must exist;
 * relative paths are taken from the config file's directory. data_dir is
 * created when missing. The token file must not be world-readable. */
edu_err edu_conf_load(edu_conf **out, const char *path, char *why, size_t whylen);
void edu_conf_free(edu_conf *c); /* accepts NULL */
const char *edu_role_name(edu_role r);
/* Writes the commented sample config (every key with its default) to f. */
void edu_conf_write_sample(FILE *f);
/* Writes every key with its effective value (for --check-config); the admin
 * token itself is never written. */
void edu_conf_write_effective(const edu_conf *c, FILE *f);
/* True when the config has an identity ([tls] set): the node signs and verifies. */
bool edu_conf_has_identity(const edu_conf *c);

#endif
