/* Directives down the tree, receipts and reports up (issue 3-5).
 *
 * A Sở or Phòng publishes a directive (a signed `document`: number, date,
 * signer, attachments) for an audience that its registry expands at once
 * into the exact list of target units, kept inside the signed record. Each
 * node keeps directives and receipt state in its own small LMDB environment
 * (<data_dir>/directives), separate from the content store:
 *   dirs     directive id -> SignedDirective bytes (proto/directive.proto)
 *   down     u64 BE seq -> directive id: what this node offers its children
 *   receipts directive id \0 unit -> ReceiptState
 *   uplog    u64 BE seq -> SignedReceipt bytes still to send to the parent
 *   meta     "format", "down.cursor" (position in the parent's down log),
 *            "next.seq" (this issuer's next directive number)
 * Every change is one durable write transaction (directives are rare).
 *
 * Transport (node/uplink child side, aggregator/ parent side): DirSync /
 * DirSyncAck in proto/wire.proto. Each hop verifies each record's signature
 * (Ed25519 key from the signer's certificate, checked against its own CA;
 * CN must equal the issuer / receiving unit) before it commits anything, and
 * hops with a registry also check that the issuer is an aggregating ancestor
 * and that a receipt's unit is a target inside the sending child's subtree.
 * Without an identity (test/demo mode, no [tls]) records travel unsigned and
 * are accepted as content is; the registry checks still apply.
 *
 * Trust at a school (no registry). The school cannot see the tree, so the
 * issuer's own signature carries what the school needs, and the rest rests
 * on the authenticated link to its parent:
 *   1. the issuer's certificate verifies against the school's CA (chain,
 *      dates, revocation) with CN == Directive.issuer, and the Ed25519
 *      signature covers the exact directive bytes;
 *   2. Directive.issuer_type (signed) is aggregating (so, phong, xa);
 *   3. the school is one of the signed targets (a school relays nothing);
 *   4. the issuer's signed Directive.parents names, as the school's parent,
 *      the unit the uplink handshake bound the link to.
 * So a directive reaches a school only as its issuer routed it: a parent
 * (even one holding a genuine certificate of the CA) can relay other
 * units' directives only to the schools those issuers placed under it, and
 * can originate only in its own name. What the school cannot check alone is
 * that the issuer really is an ancestor (a compromised Phòng key could sign
 * any target list): each aggregating hop checks that with its registry
 * before relaying, and the school's uplink should pin [uplink] parent_unit.
 *
 * Thread-safe: one mutex serializes every transaction. */
#ifndef EDU_DIRECTIVE_H
#define EDU_DIRECTIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "core/err.h"
#include "wire.pb-c.h"

#define EDU_DIR_FORMAT 1              /* Directive / ReceiptEvent .format and the env's meta "format" */
#define EDU_DIR_ID_MAX 64             /* "<issuer>:d<seq>" */
#define EDU_DIR_TYPES_MAX 16          /* audience.types entries */
#define EDU_DIR_UNITS_MAX 1000        /* audience.units entries */
#define EDU_DIR_TARGETS_MAX 100000    /* expanded targets (== registry max) */
#define EDU_DIR_REPORT_MAX (64 * 1024) /* bytes of a report's text */
#define EDU_DIR_ATTACH_COUNT_MAX 20   /* attachments of a directive or a report */
#define EDU_DIR_ATTACH_TOTAL_MAX (20u * 1024 * 1024) /* bytes of one record's attachments */
#define EDU_DIR_RECORD_MAX (24u * 1024 * 1024)       /* bytes of one signed record */
#define EDU_DIR_BATCH_RECORDS 256 /* records per DirSync(Ack); == EDU_WIRE_DIR_RECORDS_MAX (node/uplink/wire.h) */
#define EDU_DIR_BATCH_BYTES (8u * 1024 * 1024)       /* what one DirSync(Ack) carries (one record always goes) */
#define EDU_DIR_MAP_SIZE (64ull * 1024 * 1024)       /* initial LMDB map; doubled on MDB_MAP_FULL */
#define EDU_DIR_MAP_MAX (8ull * 1024 * 1024 * 1024)
#define EDU_DIR_SIGN_CTX "edunet-directive-v1"
#define EDU_DIR_RECEIPT_CTX "edunet-receipt-v1"

struct edu_registry;
struct edu_pki_id;
struct edu_pki_verifier;

typedef struct edu_dir edu_dir;

typedef struct edu_dir_opts {
	const char *dir;                /* created 0700 if missing */
	const char *self_unit;
	const char *self_name;          /* display name, may be NULL */
	/* The units registry (aggregating nodes; NULL on schools). Borrowed,
	 * immutable, must outlive the edu_dir. Needed to publish and to serve children. */
	const struct edu_registry *reg;
	/* Identity (SPEC §6.5), both borrowed, both NULL in test/demo mode. */
	const struct edu_pki_id *id;
	struct edu_pki_verifier *verifier;
	bool has_parent;                /* queue receipt events for the uplink */
	uint64_t map_size;              /* 0: EDU_DIR_MAP_SIZE */
	uint64_t map_max;               /* growth stops here (then EDU_ENOSPC); 0: EDU_DIR_MAP_MAX */
} edu_dir_opts;

/* Opens (creating) the environment; EDU_EVERSION when its format is not
 * EDU_DIR_FORMAT. why says what failed. */
edu_err edu_dir_open(edu_dir **out, const edu_dir_opts *o, char *why, size_t whylen);
void edu_dir_close(edu_dir *d); /* accepts NULL */
/* A consistent, compacted copy of the directive store (LMDB data.mdb) to fd.
 * Restore: stop the node, put it at <data_dir>/directives/data.mdb. */
edu_err edu_dir_backup(edu_dir *d, int fd);

/* One attachment given to publish/report (bytes borrowed). */
typedef struct edu_dir_file {
	const char *name;
	const char *media_type;
	const uint8_t *data;
	size_t len;
} edu_dir_file;

typedef struct edu_dir_new {
	const char *title, *body, *doc_number, *doc_date, *signer; /* title required */
	const char *const *types;       /* unit type names (thcs, th, ...) */
	size_t n_types;
	const char *const *units;       /* unit ids inside this node's subtree */
	size_t n_units;
	bool report_requested;
	int64_t deadline;               /* Unix seconds, 0: none */
	const edu_dir_file *files;
	size_t n_files;
	int64_t now_ms;                 /* 0: the clock */
} edu_dir_new;

/* Issuer: expands the audience (empty: every unit under this node), signs
 * and commits the directive, queued for the children. Needs a registry and
 * an aggregating unit. EDU_EINVAL (why says which field) for bad input, also
 * when the audience resolves to no unit. id gets "<self>:d<seq>". */
edu_err edu_dir_publish(edu_dir *d, const edu_dir_new *n, char id[EDU_DIR_ID_MAX], char *why, size_t whylen);

/* Receiving unit: acknowledges / reports (the report also acknowledges).
 * EDU_ENOENT unknown directive, EDU_EPERM not a target here, EDU_EINVAL no
 * report requested or bad text/files, EDU_EEXIST already reported (ack is
 * idempotent). now_ms 0: the clock. */
edu_err edu_dir_ack(edu_dir *d, const char *id, int64_t now_ms, char *why, size_t whylen);
edu_err edu_dir_report(edu_dir *d, const char *id, const char *text, const edu_dir_file *files, size_t n_files,
    int64_t now_ms, char *why, size_t whylen);

/* ---- views (JSON; caller owns the result) ---- */

/* {"directives": [...]} sent from or received at this node, newest first. at_ms: for "open". */
edu_err edu_dir_list_json(edu_dir *d, int64_t at_ms, json_t **out);
/* One directive with its body, attachments (no bytes) and this unit's receipt. EDU_ENOENT. */
edu_err edu_dir_get_json(edu_dir *d, const char *id, json_t **out);
/* At the issuer: per target unit received/acknowledged/reported and state
 * (pending/on_time/late/missing) evaluated at at_ms (events after at_ms do
 * not count), plus rollups per Phòng and per unit type. EDU_ENOENT unknown,
 * EDU_EPERM when this node is not the issuer. */
edu_err edu_dir_status_json(edu_dir *d, const char *id, int64_t at_ms, json_t **out);
/* The bytes of attachment n of a directive (unit NULL) or of unit's report.
 * Caller frees *data, *name and *media_type. */
edu_err edu_dir_attachment(edu_dir *d, const char *id, const char *unit, size_t n, uint8_t **data, size_t *len,
    char **name, char **media_type);

/* The state rule, exposed for tests. Times are ms, 0 = never; deadline in
 * seconds, 0 = none. Returns "pending", "on_time", "late" or "missing". */
const char *edu_dir_state(bool report_requested, int64_t deadline, int64_t acked_ms, int64_t reported_ms,
    int64_t at_ms);

/* ---- transport ---- */

/* Child: fills req with our down cursor and queued receipt events (owned by
 * d until edu_dir_sync_done); *upto is the last uplog position included. */
edu_err edu_dir_sync_build(edu_dir *d, Edunet__Wire__DirSync *req, uint64_t *upto);
/* Child: commits the parent's answer (verified directives, new cursor, and
 * drops receipt events up to upto when acked) in one transaction.
 * parent_unit: the unit the uplink's handshake bound the link to (with
 * [tls]: authenticated by certificate and signed nonce), NULL when unknown.
 * A node without a registry (a school) accepts a directive only when it is
 * one of its signed targets and the issuer named parent_unit as the
 * school's parent (Directive.parents); see "Trust at a school" above. */
edu_err edu_dir_sync_apply(edu_dir *d, const Edunet__Wire__DirSyncAck *ack, uint64_t upto, size_t n_sent,
    const char *parent_unit);
void edu_dir_sync_free(Edunet__Wire__DirSync *req); /* frees what build allocated */

/* Parent: verifies and commits child's receipts, then fills ack with the
 * directives after req->down_cursor that concern child's subtree. Free ack
 * with edu_dir_serve_free. */
edu_err edu_dir_serve(edu_dir *d, const char *child, const Edunet__Wire__DirSync *req, Edunet__Wire__DirSyncAck *ack);
void edu_dir_serve_free(Edunet__Wire__DirSyncAck *ack);

/* Waits until receipt events are queued after generation *gen (or timeout);
 * updates *gen. Returns true when something new was queued. */
bool edu_dir_wait(edu_dir *d, uint64_t *gen, int timeout_ms);
/* Wakes every waiter (shutdown). */
void edu_dir_wake(edu_dir *d);

#endif
