/* edunetctl internals (SPEC §3): argument parsing, the HTTP client, the
 * renderers and the commands. main.c is a thin program over this module;
 * everything here is reachable from ctl_test.c. Output goes to the FILE*s
 * in ctl (stdout/stderr in the program, memory streams in tests). */
#ifndef EDU_CTL_H
#define EDU_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "core/buf.h"

enum { CTL_EXIT_OK = 0, CTL_EXIT_FAIL = 1, CTL_EXIT_USAGE = 2, CTL_EXIT_UNREACH = 3 };

#define CTL_DEFAULT_NODE "http://127.0.0.1:8080"
#define CTL_MAX_ARGS 256                  /* command-line words we accept */
#define CTL_MAX_OPTS 24                   /* options one command may declare */
#define CTL_RESPONSE_MAX (64u * 1024 * 1024) /* largest HTTP response body we read */
#define CTL_TIMEOUT_S 30                  /* connect and I/O timeout */
#define CTL_TOKEN_MAX 4096                /* bytes in a token file */
#define CTL_MAX_PAGES 100000              /* items --all: cursor pages followed at most */
#define CTL_TREE_DEPTH_MAX 16             /* topology: deeper levels are not shown */

/* Option flags. */
#define CTL_ARG 1   /* takes a value */
#define CTL_MULTI 2 /* may repeat; values collected in order */

typedef struct ctl_optspec {
	const char *name; /* without the leading "--" */
	int flags;
} ctl_optspec;

typedef struct ctl ctl;
typedef struct ctl_args ctl_args;

typedef struct ctl_cmd {
	const char *name;
	const ctl_optspec *opts; /* terminated by {NULL, 0} */
	size_t min_pos, max_pos; /* positional arguments */
	const char *synopsis;    /* one usage line after the name */
	int (*run)(ctl *c, const ctl_args *a);
} ctl_cmd;

extern const ctl_cmd ctl_cmds[]; /* terminated by {NULL} */

struct ctl_args {
	/* global options */
	const char *node, *token_file;
	bool json, help, version;
	const ctl_cmd *cmd; /* NULL: none given */
	/* command options, indexed like cmd->opts; borrowed from argv */
	const char *val[CTL_MAX_OPTS];
	bool set[CTL_MAX_OPTS];
	const char *multi[CTL_MAX_ARGS];
	int multi_opt[CTL_MAX_ARGS];
	size_t n_multi;
	const char *pos[CTL_MAX_ARGS];
	size_t n_pos;
};

/* Parses argv (argv[0] is the program). Returns CTL_EXIT_OK or
 * CTL_EXIT_USAGE with a reason in why. Strings stay borrowed from argv. */
int ctl_parse(ctl_args *a, int argc, char **argv, char *why, size_t whylen);
/* The value of option name for a's command, or NULL when not given. */
const char *ctl_opt(const ctl_args *a, const char *name);
/* The i-th value of a repeatable option (NULL past the end). */
const char *ctl_opt_multi(const ctl_args *a, const char *name, size_t i);
void ctl_usage(FILE *f, const ctl_cmd *cmd); /* cmd NULL: every command */

/* A client session for one node URL ("http://HOST[:PORT][/PREFIX]"). */
struct ctl {
	FILE *out, *err;
	bool json;
	char *node;   /* as given, for messages */
	char *host;
	int port;
	char *prefix; /* path before /api/v1, no trailing slash ("" when none) */
	char *token;  /* NULL: none */
	int timeout_s;
	FILE *sink;   /* when set, a 200 response body is written here as it arrives, with no size limit */
	int sink_err; /* errno of a failed write to sink */
};

/* Fills c from the global options; CTL_EXIT_USAGE for a bad URL, CTL_EXIT_FAIL
 * for an unreadable token file (reasons printed to c->err). Call ctl_fini
 * either way. */
int ctl_init(ctl *c, const ctl_args *a, FILE *out, FILE *err);
void ctl_fini(ctl *c);
/* Reads a token file: first word, trimmed. Caller frees *out. */
int ctl_read_token(const char *path, char **out, char *why, size_t whylen);

/* One HTTP request. path includes the query. On transport failure prints
 * "không kết nối được tới node URL: reason" and returns CTL_EXIT_UNREACH;
 * otherwise CTL_EXIT_OK with *status and the body in resp. */
int ctl_http(ctl *c, const char *method, const char *path, const char *content_type,
             const void *body, size_t len, int *status, edu_buf *resp);
/* ctl_http + JSON: HTTP errors print the node's message and give CTL_EXIT_FAIL.
 * *out (may be NULL when the caller wants no body) is owned by the caller. */
int ctl_api(ctl *c, const char *method, const char *path, const char *content_type,
            const void *body, size_t len, json_t **out);
/* Percent-encodes s for a query value or path segment; caller frees. */
char *ctl_encode(const char *s);

/* Uploads one file (POST /api/v1/attachments) and appends {name,
 * media_type, size, sha256} to atts; errors are printed. */
int ctl_upload(ctl *c, const char *path, json_t *atts);
/* `backup --out DIR`: consistent copies of the node's stores (cmds.c). */
int ctl_cmd_backup(ctl *c, const ctl_args *a);
/* `import`: another portal's export into this node's unit (import_cmd.c). */
int ctl_cmd_import(ctl *c, const ctl_args *a);
/* `directive send|list|show|ack|report|status` (directive_cmd.c). */
int ctl_cmd_directive(ctl *c, const ctl_args *a);

/* ---- rendering (pure: JSON in, text out) ---- */
/* Terminal columns used by UTF-8 s (combining marks 0, wide CJK 2). */
size_t ctl_display_width(const char *s);
/* Prints rows of cells (row-major, n_rows * n_cols, NULL = "") with a header
 * row, columns separated by two spaces and padded by display width. The
 * last column is not padded. right: per-column flags, may be NULL. */
void ctl_table(FILE *f, const char *const *head, size_t n_cols, const char *const *cells,
               size_t n_rows, const bool *right);
void ctl_format_ago(char *out, size_t len, int64_t seconds); /* "12 s", "5 min", "3 h", "2 ngày" */
const char *ctl_media_type(const char *filename);
void ctl_render_items(FILE *f, const json_t *items);    /* array of item objects */
void ctl_render_item(FILE *f, const json_t *item);      /* every field, body as text */
void ctl_render_status(FILE *f, const json_t *status);
void ctl_render_topology(FILE *f, const json_t *tree, int64_t now_s);
void ctl_render_report(FILE *f, const json_t *report, bool csv);

#endif
